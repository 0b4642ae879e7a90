// Idempotent producers of real clients against the compiled ./kafka:
// - confluent-kafka (librdkafka, from test/python-clients/install.sh's venv)
//   with enable.idempotence=true writes 100,000 messages over 8 partitions;
//   everything acknowledged is read back once, at the offset its delivery
//   report gave, each partition in production order;
// - the same while the broker is restarted in the middle (same log dir and
//   port), once stopped with SIGTERM (the shutdown snapshot) and once killed
//   with SIGKILL (the roll snapshots plus the batches after them). The
//   producer reaches the broker through a proxy (tcp-proxy.ts, advertised)
//   that keeps the broker's last answers (librdkafka's whole window of 5
//   in-flight requests) from it before the stop, so the producer sends again
//   batches the broker had written: the restarted broker must know them as
//   duplicates, and no acknowledged message may be missing or there twice
//   (without the duplicate check these runs find hundreds twice);
// - kafkajs with idempotent: true (maxInFlightRequests 1, as kafkajs requires)
//   writes 10,000 messages over 3 partitions, read back once by a kafkajs
//   consumer group.
// confluent_idempotent.py does the producing and the reading back and reports
// every breach it finds. Without the venv the confluent-kafka tests skip,
// except with KAFKA_REQUIRE_CLIENTS=1 (CI).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { clientCache, clientJson, CLIENTS_REQUIRED, stampMatches, type ClientRun } from "./client-run.ts";
import { removeDir, startKafka, tempDir, type RunningKafka } from "./helpers.ts";
import { HoldingProxy } from "./tcp-proxy.ts";

const HERE = join(import.meta.dir, "python-clients");
const VENV = process.env.KAFKA_PY_VENV ?? clientCache("venv");
const PYTHON = join(VENV, "bin", "python");
const SCRIPT = join(HERE, "confluent_idempotent.py");
const MESSAGES = 100_000;
const PARTITIONS = 8;

/** The base offsets of a partition dir's segments and the offsets of its producer snapshots. */
function offsetsIn(dir: string): { segments: number[]; snapshots: number[] } {
  const names = readdirSync(dir).sort();
  const pick = (ext: string) => names.filter((n) => n.endsWith(ext)).map((n) => Number(n.slice(0, 20)));
  return { segments: pick(".log"), snapshots: pick(".snapshot") };
}

/** A port the OS just handed out on 127.0.0.1 (released for the broker to bind). */
function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

/** Why confluent-kafka cannot run here, or null when it can. */
function unavailable(): string | null {
  if (!existsSync(PYTHON)) return `no venv at ${VENV} (run bash test/python-clients/install.sh)`;
  if (!stampMatches(join(VENV, "kafka-bun.stamp"), [join(HERE, "requirements.txt")])) return `the venv ${VENV} is not of test/python-clients/requirements.txt (run bash test/python-clients/install.sh)`;
  const check = Bun.spawnSync([PYTHON, "-c", "import confluent_kafka"], { stdout: "pipe", stderr: "pipe", timeout: 30_000 });
  if (check.exitCode !== 0) return `confluent_kafka does not import in ${VENV}: ${check.stderr.toString().trim().split("\n").pop()}`;
  return null;
}
const UNAVAILABLE = unavailable();
if (UNAVAILABLE !== null && !CLIENTS_REQUIRED) test.skip(`confluent-kafka idempotent producer tests (skipped: ${UNAVAILABLE})`, () => {});

/**
 * Runs confluent_idempotent.py to its exit (SIGKILLed by PID after `timeoutMs`);
 * `onLine` hears each stdout line as it comes (the "acked <n>" progress).
 */
async function runProducer(bootstrap: string, topic: string, rate: number, timeoutMs: number, onLine: (line: string) => void = () => {}): Promise<ClientRun> {
  const p = Bun.spawn([PYTHON, SCRIPT, bootstrap, topic, String(MESSAGES), String(PARTITIONS), String(rate)], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
  });
  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    p.kill("SIGKILL");
  }, timeoutMs);
  let out = "";
  const readOut = (async () => {
    const decoder = new TextDecoder();
    let partial = "";
    for await (const chunk of p.stdout) {
      const text = decoder.decode(chunk, { stream: true });
      out += text;
      const lines = (partial + text).split("\n");
      partial = lines.pop()!;
      for (const l of lines) onLine(l);
    }
  })();
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited, readOut]);
  clearTimeout(killer);
  return { code, out, err, timedOut };
}

/** What every run must report: all acknowledged, each once, where its delivery report said, in order. */
function expectExactlyOnceInOrder(r: Record<string, unknown>): void {
  expect({ failed: r.failed, errors: r.errors, unflushed: r.unflushed, read_errors: r.read_errors, all_eof: r.all_eof }).toEqual({ failed: 0, errors: [], unflushed: 0, read_errors: [], all_eof: true });
  expect(r.acked).toBe(MESSAGES);
  expect({ duplicates: r.duplicates, duplicate_sample: r.duplicate_sample, acked_missing: r.acked_missing, missing_sample: r.missing_sample }).toEqual({ duplicates: 0, duplicate_sample: [], acked_missing: 0, missing_sample: [] });
  expect({ wrong_offset: r.wrong_offset, wrong_partition: r.wrong_partition, out_of_order_partitions: r.out_of_order_partitions }).toEqual({ wrong_offset: 0, wrong_partition: 0, out_of_order_partitions: [] });
  expect(r.records).toBe(MESSAGES);
  expect(r.per_partition).toEqual(Array.from({ length: PARTITIONS }, () => MESSAGES / PARTITIONS));
}

describe.skipIf(UNAVAILABLE !== null && !CLIENTS_REQUIRED)("confluent-kafka, enable.idempotence=true", () => {
  test("confluent-kafka is installed", () => {
    expect(UNAVAILABLE).toBeNull();
  });

  test(
    "100,000 messages over 8 partitions: each acknowledged message read back once, at its reported offset, in order per partition",
    async () => {
      const dir = tempDir("idem-clients-");
      let kafka: RunningKafka | null = null;
      try {
        kafka = await startKafka(dir, ["--override", `num.partitions=${PARTITIONS}`]);
        const r = clientJson("confluent_idempotent.py", await runProducer(`127.0.0.1:${kafka.port}`, "idem-cf", 0, 90_000));
        expectExactlyOnceInOrder(r);
        expect(await kafka.stop()).toBe(0);
        kafka = null;
      } finally {
        if (kafka) await kafka.stop();
        removeDir(dir);
      }
    },
    120_000,
  );

  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    test(
      `the broker ${signal === "SIGTERM" ? "stopped with SIGTERM" : "killed with SIGKILL"} and restarted mid-stream on the same dir and port, its last answers lost: no acknowledged message lost or duplicated`,
      async () => {
        const dir = tempDir("idem-restart-");
        const brokers: RunningKafka[] = [];
        let proxy: HoldingProxy | null = null;
        try {
          // the clients reach the broker through a proxy (advertised), which can keep the broker's answers from them
          const port = freePort();
          proxy = HoldingProxy.start(port);
          const args = ["--override", `num.partitions=${PARTITIONS}`, "--override", "log.segment.bytes=8192", "--override", `listeners=PLAINTEXT://127.0.0.1:${port}`, "--override", `advertised.listeners=PLAINTEXT://127.0.0.1:${proxy.port}`];
          const first = await startKafka(dir, args);
          brokers.push(first);
          let restarted = null as Promise<void> | null;
          let exitCode = null as number | null;
          let heldBack = 0;
          let stoppedWith = { segments: [] as number[], snapshots: [] as number[] };
          const restart = async () => {
            // the broker writes and answers requests whose answers the producer never gets: it sends them again after the restart
            // (librdkafka sends one partition per Produce request, at most 5 in flight: 5 answers is its whole window)
            proxy!.hold();
            await proxy!.waitHeld(5, 10_000);
            if (signal === "SIGTERM") exitCode = await first.stop();
            else {
              first.proc.kill("SIGKILL");
              await first.proc.exited;
              exitCode = first.proc.signalCode === "SIGKILL" ? -9 : first.proc.exitCode;
            }
            heldBack = proxy!.heldResponses;
            stoppedWith = offsetsIn(join(dir, "idem-restart-0"));
            proxy!.dropAll();
            proxy!.release();
            // the same log dir and port
            brokers.push(await startKafka(dir, args));
          };
          // 25,000 messages a second: the restart comes at 30,000 acknowledged, with the rest still to send
          const run = await runProducer(`127.0.0.1:${proxy.port}`, "idem-restart", 25_000, 100_000, (line) => {
            const m = /^acked (\d+)$/.exec(line);
            if (m && Number(m[1]) >= 30_000 && restarted === null) restarted = restart();
          });
          expect(restarted).not.toBeNull();
          await restarted;
          expect(exitCode).toBe(signal === "SIGTERM" ? 0 : -9);
          expect(heldBack).toBeGreaterThanOrEqual(5);
          const r = clientJson("confluent_idempotent.py", run);
          expectExactlyOnceInOrder(r);
          // what the restarted broker started from: after SIGTERM a snapshot at the log end (above the last
          // segment's base); after SIGKILL only those of the rolls (at segment bases), the batches after the newest scanned
          expect(stoppedWith.segments.length).toBeGreaterThan(1);
          if (signal === "SIGTERM") expect(stoppedWith.snapshots.at(-1)!).toBeGreaterThan(stoppedWith.segments.at(-1)!);
          else expect(stoppedWith.snapshots).toEqual(stoppedWith.segments.slice(1));
          expect(await brokers.at(-1)!.stop()).toBe(0);
        } finally {
          for (const b of brokers) if (b.proc.exitCode === null && b.proc.signalCode === null) await b.stop();
          proxy?.stop();
          removeDir(dir);
        }
      },
      150_000,
    );
  }
});

describe("kafkajs, idempotent: true", () => {
  let dir = "";
  let kafka: RunningKafka | undefined;
  beforeAll(async () => {
    dir = tempDir("idem-kafkajs-");
    kafka = await startKafka(dir, ["--override", "num.partitions=3", "--override", "group.initial.rebalance.delay.ms=0"]);
  });
  afterAll(async () => {
    if (kafka) expect(await kafka.stop()).toBe(0);
    if (dir) removeDir(dir);
  });

  test(
    "10,000 messages over 3 partitions (maxInFlightRequests 1): a consumer group reads each back once, in order per partition",
    async () => {
      const client = new Kafka({ clientId: "idem-kafkajs", brokers: [`127.0.0.1:${kafka!.port}`], logLevel: logLevel.NOTHING, retry: { retries: 5 } });
      const topic = "idem-kafkajs";
      const producer = client.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
      await producer.connect();
      const acked = new Map<number, string>(); // value -> "partition/offset"
      try {
        for (let b = 0; b < 20; b++) {
          const messages = Array.from({ length: 500 }, (_, i) => {
            const n = b * 500 + i;
            return { value: String(n), partition: n % 3 };
          });
          const res = await producer.send({ topic, messages, acks: -1 });
          // kafkajs reports each partition's base offset: the batch's messages of that partition follow it in order
          for (const r of res) {
            expect(r.errorCode).toBe(0);
            const ofPartition = messages.filter((m) => m.partition === r.partition);
            ofPartition.forEach((m, k) => acked.set(Number(m.value), `${r.partition}/${Number(r.baseOffset) + k}`));
          }
        }
      } finally {
        await producer.disconnect();
      }
      expect(acked.size).toBe(10_000);

      const consumer = client.consumer({ groupId: "idem-kafkajs-check", maxWaitTimeInMs: 100 });
      const seen = new Map<number, string[]>();
      const byPartition: number[][] = [[], [], []];
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        let total = 0;
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`only ${total} of 10000 messages read in 30 s`)), 30_000);
          void consumer
            .run({
              eachMessage: async ({ partition, message }) => {
                const v = Number(message.value!.toString());
                seen.set(v, [...(seen.get(v) ?? []), `${partition}/${message.offset}`]);
                byPartition[partition]!.push(v);
                if (++total === 10_000) {
                  clearTimeout(timer);
                  resolve();
                }
              },
            })
            .catch(reject);
        });
      } finally {
        await consumer.disconnect();
      }
      const twice = [...seen].filter(([, at]) => at.length > 1).map(([v]) => v);
      const misplaced = [...acked].filter(([v, at]) => seen.get(v)?.[0] !== at).map(([v]) => v);
      const unordered = byPartition.map((vs, p) => (vs.every((v, i) => i === 0 || vs[i - 1]! < v) ? -1 : p)).filter((p) => p >= 0);
      expect({ twice, misplaced: misplaced.slice(0, 10), unordered }).toEqual({ twice: [], misplaced: [], unordered: [] });
      expect(byPartition.map((vs) => vs.length)).toEqual([3334, 3333, 3333]);
    },
    60_000,
  );
});
