// kill -9 under load (issue 9 item 8): the real executable takes acks=all
// produces from several connections to several partitions and is killed with
// SIGKILL at a random point (after a random number of acknowledged batches),
// then started again on the same log dir, round after round. After each
// restart every acknowledged record is at the offset it was acknowledged with,
// with its value; offsets run 0..end without a gap; appends go on from there.
// Some rounds also kill a start while it opens the logs (recovery cut short).
// The kill points come from a seed, printed; CRASH_SEED=<n> replays a run
// (CRASH_ROUNDS=<n> sets the rounds per mode). Also in durable mode, where an
// acknowledgement waits for the fsync.

import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, statSync } from "node:fs";
import { KAFKA_BIN, removeDir, type RunningKafka, seededRandom, startKafka, tempDir, WireClient } from "./helpers.ts";
import { createTopic, fetchAll, sendProduce } from "./wire-calls.ts";

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 20);
const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const PARTITIONS = 3;
const PRODUCERS = 4;
const IN_FLIGHT = 3;
const TOPIC = "crash";

const running = new Set<RunningKafka>();
const starting = new Set<import("bun").Subprocess>();
const dirs: string[] = [];
afterEach(() => {
  for (const k of running) k.proc.kill("SIGKILL"); // by PID
  running.clear();
  for (const p of starting) p.kill("SIGKILL");
  starting.clear();
  for (const d of dirs.splice(0)) removeDir(d);
});

/** acknowledged records per partition: offset -> value */
type Acked = Map<number, string>[];

/** Runs producers until `killAfter` batches are acknowledged in total (or `killAfterMs` passed), then SIGKILLs the broker and waits for it to exit. */
async function loadAndKill(k: RunningKafka, round: number, killAfter: number, killAfterMs: number | null, acked: Acked, random: () => number): Promise<number> {
  let ackedBatches = 0;
  let killed = false;
  let kill!: () => void;
  const killedNow = new Promise<void>((r) => (kill = r));
  const producer = async (id: number) => {
    let client: WireClient;
    try {
      client = await WireClient.connect(k.port);
    } catch {
      return;
    }
    const window: { partition: number; values: string[]; read: () => Promise<{ errorCode: number; baseOffset: number }> }[] = [];
    let seq = 0;
    try {
      while (!killed) {
        while (window.length < IN_FLIGHT) {
          const partition = Math.floor(random() * PARTITIONS);
          const n = 1 + Math.floor(random() * 5);
          const values = Array.from({ length: n }, (_, i) => `r${round}-p${id}-${seq}-${i}`);
          seq++;
          window.push({ partition, values, read: sendProduce(client, TOPIC, partition, values, -1) as never });
        }
        const w = window.shift()!;
        const r = await w.read();
        if (r.errorCode !== 0) throw new Error(`produce to ${TOPIC}-${w.partition}: error ${r.errorCode}`);
        w.values.forEach((v, i) => acked[w.partition]!.set(r.baseOffset + i, v));
        if (++ackedBatches === killAfter) {
          killed = true;
          k.proc.kill("SIGKILL");
          kill();
        }
      }
    } catch (e) {
      // the connection closing under the kill is expected; anything else is not
      if (!killed || !/connection closed/.test((e as Error).message)) throw e;
    } finally {
      client.close();
    }
  };
  const all = Promise.all(Array.from({ length: PRODUCERS }, (_, i) => producer(i)));
  // some rounds are killed by the clock instead, wherever the broker is then (even before the first ack)
  const timer = killAfterMs === null ? null : setTimeout(() => {
    killed = true;
    k.proc.kill("SIGKILL");
    kill();
  }, killAfterMs);
  await Promise.race([killedNow, all]);
  if (timer) clearTimeout(timer);
  // a producer failing before the kill point: kill anyway and report it
  if (!killed) {
    killed = true;
    k.proc.kill("SIGKILL");
  }
  await k.proc.exited;
  running.delete(k);
  await all;
  return ackedBatches;
}

/** Every acknowledged record at its offset with its value, offsets contiguous from 0; returns each partition's end. */
async function verify(k: RunningKafka, acked: Acked, label: string): Promise<number[]> {
  const client = await WireClient.connect(k.port);
  const ends: number[] = [];
  try {
    for (let p = 0; p < PARTITIONS; p++) {
      const got = await fetchAll(client, TOPIC, p);
      const offsets = got.records.map(([o]) => o);
      // what was fetched, the partition's files and the broker's output, to see why
      if (got.errorCode !== 0 || got.highWatermark !== offsets.length || offsets.some((o, i) => o !== i)) {
        const pd = `${k.dir}/${TOPIC}-${p}`;
        const files = readdirSync(pd).map((f) => `${f} ${statSync(`${pd}/${f}`).size}`).join(", ");
        throw new Error(`${label}: ${TOPIC}-${p}: error ${got.errorCode}, ${offsets.length} records fetched (first ${offsets[0]}, last ${offsets.at(-1)}), high watermark ${got.highWatermark}; files: ${files}\n--- broker output ---\n${k.output().slice(-6000)}`);
      }
      const byOffset = new Map(got.records);
      const missing: string[] = [];
      for (const [o, v] of acked[p]!) if (byOffset.get(o) !== v) missing.push(`${o}=${v} (found ${byOffset.get(o)})`);
      if (missing.length > 0) throw new Error(`${label}: ${TOPIC}-${p}: ${missing.length} acknowledged record(s) lost or changed, e.g. ${missing.slice(0, 3).join(", ")}`);
      ends.push(got.highWatermark);
    }
  } finally {
    client.close();
  }
  return ends;
}

async function crashRounds(mode: string, extra: string[]): Promise<void> {
  const seed = SEED + (mode === "durable" ? 1 : 0);
  console.log(`crash test (${mode}): seed ${seed}, ${ROUNDS} rounds (CRASH_SEED=${SEED} replays)`);
  const random = seededRandom(seed);
  const dir = tempDir("kafka-crash-");
  dirs.push(dir);
  const acked: Acked = Array.from({ length: PARTITIONS }, () => new Map());
  const started = Date.now();
  const kills: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // now and then a start killed while it opens (recovering) the logs
    if (round > 0 && random() < 0.2) {
      const ms = Math.floor(random() * 60);
      const p = Bun.spawn([KAFKA_BIN, "--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", `log.dirs=${dir}`, ...extra], { stdout: "ignore", stderr: "ignore", stdin: "ignore" });
      starting.add(p);
      await Bun.sleep(ms);
      p.kill("SIGKILL");
      await p.exited;
      starting.delete(p);
      kills.push(`start-up+${ms}ms`);
    }
    const k = await startKafka(dir, extra);
    running.add(k);
    if (round === 0) {
      const c = await WireClient.connect(k.port);
      await createTopic(c, TOPIC, PARTITIONS);
      c.close();
    } else {
      await verify(k, acked, `${mode} round ${round} (seed ${seed})`);
    }
    const byClock = random() < 0.3;
    const killAfter = 1 + Math.floor(random() ** 2 * 3000);
    const killAfterMs = byClock ? Math.floor(random() * 300) : null;
    const n = await loadAndKill(k, round, byClock ? Infinity : killAfter, killAfterMs, acked, random);
    if (!byClock) expect(n).toBeGreaterThanOrEqual(killAfter);
    kills.push(byClock ? `${killAfterMs}ms/${n}` : `${n}`);
  }
  // after the last kill: all there, and appends continue at the end
  const k = await startKafka(dir, extra);
  running.add(k);
  const ends = await verify(k, acked, `${mode} after the last round (seed ${seed})`);
  const c = await WireClient.connect(k.port);
  for (let p = 0; p < PARTITIONS; p++) {
    const r = await sendProduce(c, TOPIC, p, ["last"], -1)();
    expect(r.errorCode).toBe(0);
    expect(r.baseOffset).toBe(ends[p]!);
  }
  c.close();
  expect(await k.stop()).toBe(0);
  running.delete(k);
  const total = acked.reduce((n, m) => n + m.size, 0);
  console.log(`crash test (${mode}): ${total} acknowledged records over ${ROUNDS} kills, all found, in ${Date.now() - started} ms (kills after N acknowledged batches, or at a time/N: ${kills.join(", ")})`);
}

describe.skipIf(!existsSync(KAFKA_BIN))("kill -9 under an acks=all load", () => {
  test("page-cache mode", () => crashRounds("page cache", []), 60_000);
  test("durable mode", () => crashRounds("durable", ["--override", "log.flush.before.ack=true"]), 60_000);
});
