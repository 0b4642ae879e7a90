// Side-by-side benchmark: our broker (./kafka) against two peers,
// librdkafka's mock cluster (bench/mock.c) and Apache Kafka 4.x (the jars of
// test/kafka-ref/install.sh), all driven by the same C load generator
// (bench/loadgen.c). Run with `bun bench/run.ts`; see bench/README.md.
//
// Env: RUNS (3), KAFKA_RUNS (RUNS), E2E_SECS (20), E2E_RATE (50000),
//      E2E_FETCH_WAIT_MS (1), BUDGET_SECS (720), PEERS (mock,kafka),
//      ONLY (comma-separated workload topics, e.g. p100a1,lat: a quick subset; "durable": the durable-mode phase),
//      OURS=mock (run the mock in place of ./kafka), KAFKA_BIN (./kafka).
import type { Subprocess } from "bun";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, release, tmpdir } from "node:os";
import { join } from "node:path";
import { answersApiVersions, kafkaJvmArgs, kafkaProperties, kafkaSetup, randomClusterId, type KafkaSetup } from "./kafka-peer.ts";

const BENCH = import.meta.dir;
const ROOT = join(BENCH, "..");
const BUILD = join(BENCH, ".build");
const LOADGEN = join(BUILD, "loadgen");
const MOCK = join(BUILD, "mock");

function envNum(name: string, dflt: number): number {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
}
const RUNS = Math.floor(envNum("RUNS", 3));
const KAFKA_RUNS = Math.min(RUNS, Math.floor(envNum("KAFKA_RUNS", RUNS)));
const PEERS = new Set((process.env.PEERS ?? "mock,kafka").split(",").map((x) => x.trim()).filter(Boolean));
const ONLY = process.env.ONLY ? new Set(process.env.ONLY.split(",").map((x) => x.trim())) : null;
const E2E_SECS = envNum("E2E_SECS", 20);
const E2E_RATE = envNum("E2E_RATE", 50000);
const E2E_FETCH_WAIT_MS = envNum("E2E_FETCH_WAIT_MS", 1);
const BUDGET_SECS = envNum("BUDGET_SECS", 720);
const OURS_IS_MOCK = process.env.OURS === "mock";
const KAFKA_BIN = process.env.KAFKA_BIN ?? join(ROOT, "kafka");
const PARTS = 64;
/** seconds kept back from the workloads for the start-up phase (set in main once Kafka's availability is known) */
let STARTUP_RESERVE = 60;
/** the brokers in this run, in table order */
let present: Side[] = ["ours"];
const STARTUP_PARTS = 1000;

const t0 = performance.now();
const deadline = t0 + BUDGET_SECS * 1000;
const secsLeft = (reserve = 0) => (deadline - performance.now()) / 1000 - reserve;
const log = (msg: string) => console.error(`[bench ${((performance.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

// ---------------------------------------------------------------- processes

const procs = new Set<Subprocess>();
const tmp = mkdtempSync(join(tmpdir(), "kbench-"));

let stopping = false;

function spawn(cmd: string[], opts: Parameters<typeof Bun.spawn>[1] = {}): Subprocess {
  if (stopping) throw new Error("stopping");
  const p = Bun.spawn(cmd, { cwd: ROOT, stdin: "ignore", ...opts });
  procs.add(p);
  void p.exited.then(() => procs.delete(p));
  return p;
}

const alive = (p: Subprocess) => p.exitCode === null && p.signalCode === null;

/** SIGTERM, then SIGKILL after graceMs. Resolves (true if SIGKILL was needed) once it is gone. */
async function stop(p: Subprocess, graceMs = 5000): Promise<boolean> {
  if (!alive(p)) return false;
  let killed = false;
  p.kill("SIGTERM");
  const timer = setTimeout(() => {
    killed = true;
    p.kill("SIGKILL");
  }, graceMs);
  await p.exited;
  clearTimeout(timer);
  return killed;
}

async function cleanup(): Promise<void> {
  stopping = true; // no new processes from here on
  while (procs.size) await Promise.all([...procs].map((p) => stop(p, 3000)));
  if (process.env.BENCH_KEEP_TMP !== "1") rmSync(tmp, { recursive: true, force: true });
}
process.on("SIGINT", () => {
  log("SIGINT: stopping every started process");
  void cleanup().then(() => process.exit(130));
});

function tail(path: string, lines = 5): string {
  try {
    return readFileSync(path, "utf8").trim().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

async function freePort(): Promise<number> {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** Poll TCP connect every 2 ms until it succeeds, the process dies or time runs out. */
async function waitForPort(port: number, p: Subprocess, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (!alive(p)) throw new Error(`exited (code ${p.exitCode ?? p.signalCode}) before accepting connections`);
    try {
      const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      s.end();
      return;
    } catch {
      await Bun.sleep(2);
    }
  }
  throw new Error(`not accepting connections on port ${port} after ${timeoutMs} ms`);
}

// ---------------------------------------------------------------- brokers

interface Broker {
  proc: Subprocess;
  bootstrap: string;
  startMs: number; // exec -> accepting TCP connections (Kafka: -> first ApiVersions answer)
  logFile: string;
  dir?: string; // a data dir to remove once it is stopped
}

let logSeq = 0;

async function startMock(topics: string[]): Promise<Broker> {
  const logFile = join(tmp, `mock-${++logSeq}.log`);
  const started = performance.now();
  const proc = spawn([MOCK, ...topics.flatMap((t) => ["-t", t]), "-T", String(Math.ceil(BUDGET_SECS + 120))], {
    stdout: "pipe",
    stderr: Bun.file(logFile),
  });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  const timer = setTimeout(() => proc.kill("SIGKILL"), 15000);
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`mock exited before printing BOOTSTRAP: ${tail(logFile)}`);
      text += new TextDecoder().decode(value);
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  const m = /^BOOTSTRAP=(\S+):(\d+)/m.exec(text);
  if (!m) throw new Error(`unexpected mock output: ${text}`);
  await waitForPort(Number(m[2]), proc, 10000);
  return { proc, bootstrap: `${m[1]}:${m[2]}`, startMs: performance.now() - started, logFile };
}

/** Our broker (or, with OURS=mock, a mock holding `topics`). */
async function startOurs(logDir: string, numPartitions: number, topics: string[], extra: string[] = []): Promise<Broker> {
  if (OURS_IS_MOCK) return startMock(topics);
  if (!existsSync(KAFKA_BIN)) throw new Error(`${KAFKA_BIN} not found (run \`bun run build\`, or OURS=mock)`);
  mkdirSync(logDir, { recursive: true });
  const port = await freePort();
  const logFile = join(tmp, `ours-${++logSeq}.log`);
  const started = performance.now();
  const proc = spawn(
    [KAFKA_BIN, "--override", `listeners=PLAINTEXT://127.0.0.1:${port}`, "--override", `log.dirs=${logDir}`,
      "--override", `num.partitions=${numPartitions}`, "--override", "group.initial.rebalance.delay.ms=0", ...extra],
    { stdout: Bun.file(logFile), stderr: Bun.file(`${logFile}.err`) },
  );
  try {
    await waitForPort(port, proc, 30000);
  } catch (e) {
    await stop(proc);
    throw new Error(`${(e as Error).message}: ${tail(logFile)} ${tail(`${logFile}.err`)}`);
  }
  return { proc, bootstrap: `127.0.0.1:${port}`, startMs: performance.now() - started, logFile };
}

/** Formats a fresh log dir under `tmp`, then starts Apache Kafka in KRaft combined mode (node 1) on two loopback ports. */
async function startKafka(setup: KafkaSetup, name: string, numPartitions: number): Promise<Broker> {
  const dir = mkdtempSync(join(tmp, `${name}-`));
  const logsDir = join(dir, "logs");
  mkdirSync(logsDir);
  const [port, controllerPort] = [await freePort(), await freePort()];
  const propsFile = join(dir, "server.properties");
  writeFileSync(propsFile, kafkaProperties(join(dir, "data"), port, controllerPort, numPartitions));
  const logFile = join(logsDir, "stdout.log");
  const fail = (why: string): never => {
    const detail = [tail(join(logsDir, "server.log")), tail(logFile), tail(join(logsDir, "stderr.log"))].filter(Boolean).join(" | ");
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`kafka: ${why}${detail ? `: ${detail}` : ""}`);
  };
  // not timed: `kafka-storage.sh format` is a separate step before the first start
  const format = spawn([setup.java, ...kafkaJvmArgs(setup, logsDir, false), "kafka.tools.StorageTool", "format",
    "-t", randomClusterId(), "-c", propsFile], { stdout: Bun.file(join(logsDir, "format.log")), stderr: Bun.file(join(logsDir, "format.err")) });
  const formatKiller = setTimeout(() => format.kill("SIGKILL"), 60_000);
  const formatCode = await format.exited;
  clearTimeout(formatKiller);
  if (formatCode !== 0) fail(`the storage tool exited ${formatCode}: ${tail(join(logsDir, "format.err"))}`);

  const started = performance.now();
  const proc = spawn([setup.java, ...kafkaJvmArgs(setup, logsDir, true), "kafka.Kafka", propsFile],
    { stdout: Bun.file(logFile), stderr: Bun.file(join(logsDir, "stderr.log")) });
  const end = started + 90_000;
  for (;;) {
    if (!alive(proc)) fail(`kafka.Kafka exited (${proc.exitCode ?? proc.signalCode}) before answering`);
    if (await answersApiVersions(port, 1000)) break;
    if (performance.now() > end) {
      await stop(proc, 15_000);
      fail(`no ApiVersions answer on 127.0.0.1:${port} within 90 s`);
    }
    await Bun.sleep(5);
  }
  return { proc, bootstrap: `127.0.0.1:${port}`, startMs: performance.now() - started, logFile: join(logsDir, "server.log"), dir };
}

/** SIGTERM (SIGKILL after graceMs), then removes its data dir if it has one. */
async function stopBroker(b: Broker, graceMs = 15_000): Promise<void> {
  if (await stop(b.proc, graceMs)) note(`${b.proc.pid} (${b.bootstrap}) needed SIGKILL: no exit within ${graceMs / 1000} s of SIGTERM`);
  if (b.dir) rmSync(b.dir, { recursive: true, force: true });
}

/** VmRSS and VmHWM in MB (10^6 bytes) from /proc/PID/status. */
function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: (kb("VmRSS") * 1024) / 1e6, hwm: (kb("VmHWM") * 1024) / 1e6 };
}

/** CPU time the process's threads have run so far, in ms, from /proc/PID/task/TID/schedstat (ns; /proc/PID/stat counts 10 ms ticks). */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return ns / 1e6;
}

// ---------------------------------------------------------------- loadgen

type Result = Record<string, string>;

/** Runs loadgen; throws unless it exits 0 with `RESULT status=ok`. */
async function loadgen(args: string[], limitSecs: number, reserveSecs = 0): Promise<Result> {
  const limit = Math.floor(Math.min(limitSecs, secsLeft(reserveSecs)));
  if (limit < 5) throw new Error("skipped: time budget exhausted");
  const p = spawn([LOADGEN, ...args, "-T", String(limit)], { stdout: "pipe", stderr: "pipe" });
  const killer = setTimeout(() => p.kill("SIGKILL"), (limit + 10) * 1000);
  const [out, err, code] = await Promise.all([
    new Response(p.stdout as ReadableStream).text(),
    new Response(p.stderr as ReadableStream).text(),
    p.exited,
  ]);
  clearTimeout(killer);
  const line = out.split("\n").filter((l) => l.startsWith("RESULT ")).pop() ?? "";
  const res: Result = Object.fromEntries(
    line.split(" ").slice(1).map((kv) => kv.split("=") as [string, string]),
  );
  if (code !== 0 || res.status !== "ok") {
    const why = err.trim().split("\n").filter((l) => l.startsWith("loadgen:")).slice(-2).join("; ");
    throw new Error(`loadgen ${args[0]}: exit ${code}, status=${res.status ?? "none"}${why ? ` (${why})` : ""}`);
  }
  return res;
}

// ---------------------------------------------------------------- results

const SIDES = ["ours", "mock", "kafka"] as const;
type Side = (typeof SIDES)[number];
type Row = { workload: string; metric: string } & Record<Side, (number | null)[]>;
const rows: Row[] = [];
const notes: string[] = [];

function row(workload: string, metric: string): Row {
  let r = rows.find((x) => x.workload === workload && x.metric === metric);
  if (!r) rows.push((r = { workload, metric, ours: [], mock: [], kafka: [] }));
  return r;
}
function note(msg: string) {
  log(msg);
  if (!notes.includes(msg)) notes.push(msg);
}

interface Workload {
  name: string;
  topic: string; // prefix; the run number is appended
  args: (bootstrap: string, topic: string) => string[];
  limit: number;
  metrics: [label: string, key: string][];
  needs?: string; // topic prefix that must have been produced in this run
  /** payload MB (10^6 bytes) the workload moves: reported as the broker's CPU ms per MB */
  mb?: number;
}

const THROUGHPUT: [string, string][] = [["msgs/s", "msgs_per_s"], ["MB/s", "mb_per_s"]];
const produce = (n: number, size: number, acks: string) => (b: string, t: string) =>
  ["produce", "-b", b, "-t", t, "-n", String(n), "-s", String(size), "-a", acks, "-l", "5", "-P", String(PARTS)];
const consume = (n: number) => (b: string, t: string) =>
  ["consume", "-b", b, "-t", t, "-n", String(n), "-P", String(PARTS)];

const WORKLOADS: Workload[] = [
  { name: "produce 1M × 100 B, acks=1, linger 5", topic: "p100a1", args: produce(1e6, 100, "1"), limit: 60, metrics: THROUGHPUT, mb: 100 },
  { name: "produce 1M × 100 B, acks=all, linger 5", topic: "p100aall", args: produce(1e6, 100, "all"), limit: 60, metrics: THROUGHPUT, mb: 100 },
  {
    name: "produce 1M × 100 B, acks=all, linger 5, enable.idempotence=true",
    topic: "p100idem",
    args: (b, t) => [...produce(1e6, 100, "all")(b, t), "-X", "enable.idempotence=true"],
    limit: 60,
    metrics: THROUGHPUT,
    mb: 100,
  },
  // compressed produce: the broker decompresses and walks each batch to validate it (src/records/validator.ts)
  ...(["lz4", "zstd", "snappy", "gzip"] as const).map((codec): Workload => ({
    name: `produce 1M × 100 B, acks=1, linger 5, compression.codec=${codec}`,
    topic: `p100${codec}`,
    args: (b, t) => [...produce(1e6, 100, "1")(b, t), "-X", `compression.codec=${codec}`],
    limit: 60,
    metrics: THROUGHPUT,
    mb: 100,
  })),
  { name: "produce 200k × 1 KiB, acks=1, linger 5", topic: "p1k", args: produce(2e5, 1024, "1"), limit: 60, metrics: THROUGHPUT, mb: 204.8 },
  { name: "consume 1M × 100 B from offset 0", topic: "p100a1", args: consume(1e6), limit: 60, metrics: THROUGHPUT, needs: "p100a1", mb: 100 },
  { name: "consume 200k × 1 KiB from offset 0", topic: "p1k", args: consume(2e5), limit: 60, metrics: THROUGHPUT, needs: "p1k", mb: 204.8 },
  {
    name: "group consume 1M × 100 B (subscribe, auto commit every 1 s)",
    topic: "p100a1",
    args: (b, t) => ["gconsume", "-b", b, "-t", t, "-n", "1000000", "-P", String(PARTS)],
    limit: 60,
    metrics: [...THROUGHPUT, ["subscribe → assigned ms", "join_ms"]],
    needs: "p100a1",
    mb: 100,
  },
  {
    name: "10 members join one group (heartbeat 100 ms)",
    topic: "p100a1",
    args: (b, t) => ["join", "-b", b, "-t", t, "-m", "10", "-P", String(PARTS)],
    limit: 60,
    metrics: [["all assigned ms", "all_assigned_ms"], ["first assigned ms", "first_assigned_ms"]],
    needs: "p100a1",
  },
  {
    name: "sync produce 10k × 100 B, linger 0, acks=1",
    topic: "lat",
    args: (b, t) => ["produce", "-b", b, "-t", t, "-n", "10000", "-s", "100", "-a", "1", "-l", "0", "-P", String(PARTS), "-S"],
    limit: 60,
    metrics: [["p50 ms", "p50_ms"], ["p99 ms", "p99_ms"], ["p99.9 ms", "p999_ms"]],
  },
  {
    name: `end to end ${E2E_RATE / 1000}k msg/s × ${E2E_SECS} s, 100 B`,
    topic: "e2e",
    args: (b, t) => ["e2e", "-b", b, "-t", t, "-r", String(E2E_RATE), "-d", String(E2E_SECS), "-s", "100",
      "-P", String(PARTS), "-l", "0", "-X", `fetch.wait.max.ms=${E2E_FETCH_WAIT_MS}`],
    limit: E2E_SECS + 60,
    metrics: [["p50 ms", "p50_ms"], ["p99 ms", "p99_ms"]],
  },
];

const SELECTED = WORKLOADS.filter((w) => !ONLY || ONLY.has(w.topic) || (w.needs !== undefined && ONLY.has(w.needs)));
const topicsFor = (run: number) => [...new Set(SELECTED.map((w) => `${w.topic}-r${run}`))];
const allTopics = ["warmup", ...Array.from({ length: RUNS }, (_, i) => topicsFor(i + 1)).flat()];

// ---------------------------------------------------------------- phases

interface Target { side: Side; broker: Broker | null; error?: string }

/** Restart ours (same log dir) if it died; at most twice over the whole run. */
let restarts = 0;
async function ensureAlive(t: Target, restart: () => Promise<Broker>): Promise<void> {
  if (t.broker && alive(t.broker.proc)) return;
  if (t.broker) note(`${t.side} exited (code ${t.broker.proc.exitCode ?? t.broker.proc.signalCode}): ${tail(t.broker.logFile, 3)}`);
  if (t.side !== "ours" || restarts >= 2) {
    if (t.broker) note(`${t.side} is not restarted again: its remaining cells are errors`);
    t.broker = null;
    t.error ??= "broker not running";
    return;
  }
  restarts++;
  try {
    t.broker = await restart();
    note(`ours restarted (restart ${restarts})`);
  } catch (e) {
    t.broker = null;
    t.error = (e as Error).message;
  }
}

async function comparison(targets: Target[], restartOurs: () => Promise<Broker>): Promise<void> {
  // Warm-up (not recorded): connections, JIT, allocator.
  for (const t of targets) {
    if (!t.broker) continue;
    // the JVM's C2 compiler is still busy after 200k messages (~1 s of its CPU per following 1M): Kafka gets 1M
    const n = t.side === "kafka" ? 1e6 : 2e5;
    try {
      await loadgen(produce(n, 100, "1")(t.broker.bootstrap, "warmup"), 30, STARTUP_RESERVE);
      await loadgen(consume(n)(t.broker.bootstrap, "warmup"), 30, STARTUP_RESERVE);
    } catch (e) {
      note(`${t.side} warm-up failed: ${(e as Error).message}`);
    }
  }
  const timedOut = new Set<string>(); // side:workload that hit its time limit once
  for (let run = 1; run <= RUNS; run++) {
    // the order rotates: run 1 ours, mock, kafka; run 2 mock, kafka, ours; ...
    const shift = (run - 1) % targets.length;
    const order = [...targets.slice(shift), ...targets.slice(0, shift)].filter((t) => t.side !== "kafka" || run <= KAFKA_RUNS);
    const produced = new Set<string>();
    for (const w of SELECTED) {
      for (const t of order) {
        const topic = `${w.topic}-r${run}`;
        let cpuBefore = NaN;
        const record = (res: Result | null) => {
          for (const [label, key] of w.metrics) {
            const v = res ? Number(res[key]) : NaN;
            row(w.name, label)[t.side].push(Number.isFinite(v) ? v : null);
          }
          if (w.mb !== undefined) {
            // the broker's own CPU per payload MB: copies or decoding of record bytes would show here
            let per = NaN;
            try {
              if (res && t.broker) per = (cpuMs(t.broker.proc.pid) - cpuBefore) / w.mb;
            } catch {
              // the process is gone: no figure
            }
            row(w.name, "broker CPU ms/MB")[t.side].push(Number.isFinite(per) ? per : null);
          }
        };
        await ensureAlive(t, restartOurs); // only ours is restarted; a dead peer's cells become errors
        if (!t.broker) {
          record(null);
          continue;
        }
        if (w.needs && !produced.has(`${t.side}:${w.needs}`)) {
          note(`${t.side}: "${w.name}" skipped in run ${run}: producing its topic failed`);
          record(null);
          continue;
        }
        if (timedOut.has(`${t.side}:${w.name}`)) {
          note(`${t.side}: "${w.name}" not rerun after a time-out`);
          record(null);
          continue;
        }
        log(`run ${run}/${RUNS} ${t.side}: ${w.name}`);
        cpuBefore = cpuMs(t.broker.proc.pid);
        try {
          const res = await loadgen(w.args(t.broker.bootstrap, topic), w.limit, STARTUP_RESERVE);
          produced.add(`${t.side}:${w.topic}`);
          if ((res.offset_anomalies ?? "0") !== "0") {
            note(`${t.side}: "${w.name}" run ${run}: ${res.offset_anomalies} offsets were not previous + 1`);
          }
          record(res);
        } catch (e) {
          const msg = (e as Error).message;
          if (/status=timeout|budget|metadata/.test(msg)) timedOut.add(`${t.side}:${w.name}`);
          note(`${t.side}: "${w.name}" run ${run}: ${msg}`);
          record(null);
        }
      }
    }
  }
}

/**
 * Ours only: acks=all throughput in page-cache mode (the default) and in
 * durable mode (log.flush.before.ack=true: answered after the fsync, group
 * commit) from 1, 8 and 64 producers at once (loadgen mproduce: one
 * connection each), each broker on a fresh log dir.
 */
const DURABLE_N = 500_000;
const DURABLE_SYNC_N = 20_000;
const DURABLE_PRODUCERS = [1, 8, 64];
async function durabilityPhase(): Promise<void> {
  if (OURS_IS_MOCK || (ONLY && !ONLY.has("durable"))) return;
  const modes: { label: string; extra: string[]; broker: Broker | null }[] = [
    { label: "page cache (default)", extra: [], broker: null },
    { label: "durable (log.flush.before.ack=true)", extra: ["--override", "log.flush.before.ack=true"], broker: null },
  ];
  const mproduce = (b: Broker, topic: string, n: number, c: number, sync = false) =>
    loadgen(["mproduce", "-b", b.bootstrap, "-t", topic, "-n", String(n), "-s", "100", "-a", "all", "-l", "5", "-P", String(PARTS), "-c", String(c), ...(sync ? ["-S"] : [])], 60);
  // batched (linger 5, librdkafka's pipelining) and one message at a time per producer, where every ack waits for a round
  const shapes = [
    { name: (c: number) => `produce ${DURABLE_N / 1000}k × 100 B, acks=all, linger 5, ${c} producer${c > 1 ? "s" : ""} at once`, n: DURABLE_N, sync: false, tag: "b" },
    { name: (c: number) => `sync produce ${DURABLE_SYNC_N / 1000}k × 100 B, acks=all, one at a time per producer, ${c} producer${c > 1 ? "s" : ""} at once`, n: DURABLE_SYNC_N, sync: true, tag: "s" },
  ];
  try {
    // both up at once (the idle one costs no CPU), each warmed up unrecorded, then interleaved, the order rotating per run
    for (const [i, m] of modes.entries()) {
      try {
        m.broker = await startOurs(join(tmp, `durable-${i}`), PARTS, [], m.extra);
        await mproduce(m.broker, "dur-warmup", 200_000, 8);
      } catch (e) {
        note(`ours (${m.label}) did not start or warm up: ${(e as Error).message}`);
      }
    }
    for (let run = 1; run <= RUNS; run++) {
      for (const shape of shapes) {
        for (const c of DURABLE_PRODUCERS) {
          const order = run % 2 ? modes : [...modes].reverse();
          for (const m of order) {
            const r = row(shape.name(c), `msgs/s, ${m.label}`);
            if (!m.broker || secsLeft() < 15) {
              r.ours.push(null);
              continue;
            }
            log(`run ${run}/${RUNS} ours (${m.label}): ${shape.name(c)}`);
            try {
              r.ours.push(Number((await mproduce(m.broker, `dur-${shape.tag}${c}-r${run}`, shape.n, c, shape.sync)).msgs_per_s));
            } catch (e) {
              note(`ours (${m.label}), ${shape.name(c)}, run ${run}: ${(e as Error).message}`);
              r.ours.push(null);
            }
          }
        }
      }
    }
  } finally {
    for (const [i, m] of modes.entries()) {
      if (m.broker) await stopBroker(m.broker);
      rmSync(join(tmp, `durable-${i}`), { recursive: true, force: true });
    }
  }
}

async function startupPhase(kafka: KafkaSetup | null): Promise<void> {
  const wl = "start-up";
  const empty = row(wl, "empty log dir → ready, ms");
  const full = row(wl, `ours: ${STARTUP_PARTS} partitions with data, ms`);
  for (let i = 1; i <= RUNS; i++) {
    const starts: [Side, () => Promise<Broker>][] = [
      ["ours", () => startOurs(join(tmp, `startup-empty-${i}`), PARTS, [])],
      ...(PEERS.has("mock") ? [["mock", () => startMock([])] as [Side, () => Promise<Broker>]] : []),
      ...(kafka && i <= KAFKA_RUNS ? [["kafka", () => startKafka(kafka, `startup-kafka-${i}`, PARTS)] as [Side, () => Promise<Broker>]] : []),
    ];
    for (const [side, start] of starts) {
      if (secsLeft() < (side === "kafka" ? 40 : 20)) break;
      try {
        const b = await start();
        empty[side].push(b.startMs);
        await stopBroker(b);
      } catch (e) {
        note(`${side} start-up (empty) run ${i}: ${(e as Error).message}`);
        empty[side].push(null);
      }
    }
  }
  // in-process: startBroker() in a Bun process (the embedding for test suites)
  const inProcess = row(wl, "ours: in-process startBroker(), empty log dir → TCP accept, ms");
  if (!OURS_IS_MOCK && secsLeft() > 20) {
    try {
      const p = spawn([process.execPath, join(import.meta.dir, "embed-startup.ts"), String(RUNS)], { stdout: "pipe", stderr: "pipe" });
      const killer = setTimeout(() => p.kill("SIGKILL"), 30000);
      const [out, code] = await Promise.all([new Response(p.stdout as ReadableStream).text(), p.exited]);
      clearTimeout(killer);
      if (code !== 0) throw new Error(`exit ${code}`);
      inProcess.ours.push(...(JSON.parse(out.trim()) as { ms: number[] }).ms);
    } catch (e) {
      note(`ours in-process start-up: ${(e as Error).message}`);
      inProcess.ours.push(null);
    }
  }
  const dir = join(tmp, "startup-full");
  try {
    const b = await startOurs(dir, STARTUP_PARTS, [`many:${STARTUP_PARTS}`]);
    try {
      await loadgen(["produce", "-b", b.bootstrap, "-t", "many", "-n", "10000", "-s", "100", "-a", "1", "-l", "5",
        "-P", String(STARTUP_PARTS)], 60);
    } finally {
      if (await stop(b.proc, 15000)) note("ours needed SIGKILL: no exit within 15 s of SIGTERM");
    }
    for (let i = 1; i <= RUNS && secsLeft() > 15; i++) {
      const r = await startOurs(dir, STARTUP_PARTS, [`many:${STARTUP_PARTS}`]);
      full.ours.push(r.startMs);
      if (i === RUNS && !OURS_IS_MOCK) {
        try {
          await loadgen(["consume", "-b", r.bootstrap, "-t", "many", "-n", "10000", "-P", String(STARTUP_PARTS)], 30);
          note(`after restart, all 10,000 messages of the ${STARTUP_PARTS}-partition topic were read back`);
        } catch (e) {
          note(`after restart, reading the ${STARTUP_PARTS}-partition topic back failed: ${(e as Error).message}`);
        }
      }
      if (await stop(r.proc, 15000)) note("ours needed SIGKILL: no exit within 15 s of SIGTERM");
    }
  } catch (e) {
    note(`ours start-up (${STARTUP_PARTS} partitions): ${(e as Error).message}`);
    if (!full.ours.length) full.ours.push(null);
  }
}

// ---------------------------------------------------------------- report

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(a >= 1 ? 2 : 3);
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
function cell(vals: (number | null)[]): { text: string; med: number | null } {
  if (!vals.length) return { text: "n/a", med: null };
  const ok = vals.filter((v): v is number => v !== null);
  if (!ok.length) return { text: "error", med: null };
  const med = median(ok);
  const range = ok.length > 1 ? ` (${fmt(Math.min(...ok))}–${fmt(Math.max(...ok))})` : "";
  const errs = vals.length - ok.length;
  return { text: `${fmt(med)}${range}${errs ? ` [${errs}/${vals.length} error]` : ""}`, med };
}

function machine(librdkafka: string, kafka: KafkaSetup | null): string {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? "unknown";
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0);
  return [
    `- CPU: ${model}, ${cpus().length} cores`,
    `- Memory: ${(memKb / 1024 / 1024).toFixed(1)} GiB`,
    `- Kernel: ${release()}`,
    `- Bun: ${Bun.version}; librdkafka: ${librdkafka}${kafka ? `; Apache Kafka ${kafka.version} on Java ${kafka.javaVersion}` : ""}`,
    `- Date: ${new Date().toISOString()}`,
  ].join("\n");
}

function report(librdkafka: string, kafka: KafkaSetup | null): string {
  const peers = present.filter((x) => x !== "ours");
  const name = (x: Side) => (x === "kafka" ? `kafka ${kafka?.version ?? ""}`.trim() : x);
  const ordering = present.map((_, i) => [...present.slice(i), ...present.slice(0, i)].join(" → ")).join("; ");
  const lines = [
    `# Broker benchmark: ours${OURS_IS_MOCK ? " (OURS=mock: a second mock stands in for ours)" : ""} vs ${peers.map(name).join(" and ") || "no peer"}`,
    "",
    `${RUNS} runs per workload${kafka && KAFKA_RUNS < RUNS ? ` (Kafka: the first ${KAFKA_RUNS})` : ""}, interleaved ` +
      `(the order rotates per run: ${ordering}), fresh topic per run, ${PARTS} partitions. ` +
      "Each cell: median (min–max). Load generator: bench/loadgen.c (librdkafka), on the same machine.",
    "",
    `| ${["workload", "metric", ...present.map(name), ...peers.map((p) => `ours/${p}`)].join(" | ")} |`,
    `|${"---|".repeat(2 + present.length + peers.length)}`,
  ];
  for (const r of rows) {
    const cells = Object.fromEntries(present.map((x) => [x, cell(r[x])])) as Record<Side, ReturnType<typeof cell>>;
    const o = cells.ours.med;
    const ratios = peers.map((p) => {
      const m = cells[p].med;
      return o !== null && m !== null && m !== 0 ? (o / m).toFixed(2) : "–";
    });
    lines.push(`| ${[r.workload, r.metric, ...present.map((x) => cells[x].text), ...ratios].join(" | ")} |`);
  }
  lines.push(
    "",
    "Ratio > 1 is better for msgs/s and MB/s; < 1 is better for latency, start-up time, memory and CPU per MB (the time the broker process's threads ran during the workload, from schedstat). " +
      "MB = 10^6 payload bytes. Produce: first produce() → last delivery report. Consume: first → last message. " +
      `End to end: producer paced in 1 ms ticks, linger 0, consumer fetch.wait.max.ms=${E2E_FETCH_WAIT_MS} ` +
      "(the mock answers a fetch only after fetch.wait.max.ms), first second excluded. " +
      "Start-up, empty log dir: exec → TCP accept (ours, mock); Kafka: exec → first ApiVersions answer, log dir formatted beforehand. " +
      "The mock keeps data in memory only, has no replication (acks=all = acks=1) and no disk." +
      (kafka
        ? " Kafka runs in KRaft combined mode with kafka-server-start.sh's JVM defaults (-Xmx1G -Xms1G, G1) and " +
          "config/server.properties' settings, log dir beside ours; like ours it does not fsync per message."
        : ""),
  );
  if (notes.length) lines.push("", "Notes:", ...notes.map((n) => `- ${n}`));
  lines.push("", "Machine:", machine(librdkafka, kafka), `- Total bench time: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------- main

async function compile(): Promise<void> {
  mkdirSync(BUILD, { recursive: true });
  for (const [src, out] of [["loadgen.c", LOADGEN], ["mock.c", MOCK]] as const) {
    const r = Bun.spawnSync(["gcc", "-O2", "-Wall", "-o", out, join(BENCH, src), "-lrdkafka", "-lpthread"]);
    if (r.exitCode !== 0) {
      throw new Error(`gcc ${src} failed (apt-get install librdkafka-dev build-essential?):\n${r.stderr.toString()}`);
    }
  }
}

async function main(): Promise<void> {
  await compile();
  const librdkafka = (await loadgen(["version"], 10)).librdkafka ?? "unknown";
  let kafka: KafkaSetup | null = null;
  if (PEERS.has("kafka")) {
    const k = kafkaSetup();
    if ("skip" in k) note(`Apache Kafka skipped: ${k.skip}`);
    else kafka = k;
  }
  // Kafka's start-ups (format + JVM) need more of the time kept back for the start-up phase
  STARTUP_RESERVE = kafka ? 60 + 15 * KAFKA_RUNS : 60;
  const oursDir = join(tmp, "ours-data");
  const restartOurs = () => startOurs(oursDir, PARTS, allTopics.map((t) => `${t}:${PARTS}`));

  const targets: Target[] = [{ side: "ours", broker: null }];
  if (PEERS.has("mock")) targets.push({ side: "mock", broker: null });
  if (kafka) targets.push({ side: "kafka", broker: null });
  present = targets.map((t) => t.side);
  for (const t of targets) {
    try {
      t.broker = await (t.side === "ours" ? restartOurs()
        : t.side === "mock" ? startMock(allTopics.map((x) => `${x}:${PARTS}`))
        : startKafka(kafka!, "kafka-data", PARTS)); // topics are created by the first producer's Metadata
      log(`${t.side}: ${t.broker.bootstrap}, up in ${t.broker.startMs.toFixed(0)} ms`);
    } catch (e) {
      t.error = (e as Error).message;
      note(`${t.side} failed to start: ${t.error}`);
    }
  }

  await Bun.sleep(1000);
  const idle = targets.map((t) => (t.broker ? memory(t.broker.proc.pid).rss : null));

  await comparison(targets, restartOurs);

  const mem = "resident memory (MB)";
  targets.forEach((t, i) => row(mem, "idle after start, VmRSS")[t.side].push(idle[i] ?? null));
  for (const t of targets) {
    const m = t.broker && alive(t.broker.proc) ? memory(t.broker.proc.pid) : null;
    row(mem, "after all workloads, VmRSS")[t.side].push(m?.rss ?? null);
    row(mem, "peak, VmHWM")[t.side].push(m?.hwm ?? null);
    if (t.broker) await stopBroker(t.broker);
  }
  rmSync(oursDir, { recursive: true, force: true });

  log("durability: acks=all, page cache and durable mode");
  await durabilityPhase();

  log("start-up measurements");
  await startupPhase(kafka);

  if (stopping) return;
  const md = report(librdkafka, kafka);
  mkdirSync(join(BENCH, "results"), { recursive: true });
  writeFileSync(join(BENCH, "results", "latest.md"), md);
  writeFileSync(join(BENCH, "results", "latest.json"), JSON.stringify({
    sides: present, runs: RUNS, kafkaRuns: kafka ? KAFKA_RUNS : 0, kafkaVersion: kafka?.version ?? null, librdkafka,
    totalSecs: Math.round((performance.now() - t0) / 1000), rows, notes,
  }, null, 1));
  console.log(md);
}

let exitCode = 0;
try {
  await main();
} catch (e) {
  console.error(`bench failed: ${(e as Error).stack ?? e}`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);
