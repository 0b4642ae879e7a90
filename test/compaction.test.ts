// Compaction (src/storage/cleaner.ts) on an in-process broker: topics with
// cleanup.policy=compact and small segments, rounds run with cleanNow() (the
// background passes wait log.cleaner.backoff.ms, an hour here), records read
// back through real Fetch requests. Shown: the newest value per key stays and
// older ones go, offsets of kept records unchanged (gaps, never reordering),
// the active segment untouched, tombstones kept until delete.retention.ms
// after the clean that first saw them, every codec re-compressed with its own
// codec, an idempotent producer's last batch kept as an empty header (its
// sequence survives a restart), the cleaner yielding to the event loop, a
// crash mid-swap (.cleaned / .swap left) completed at open, and
// __consumer_offsets compacted with the committed offsets loaded back after a
// restart, and log.cleaner.io.max.bytes.per.second throttling as Kafka's
// Throttler does (on a simulated clock: no timing in the test).

import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Connection } from "../src/net/connection.ts";
import { codecFor, encode, isFlexible } from "../src/protocol/codec.ts";
import { FetchRequest, FetchResponse } from "../src/protocol/messages/fetch.ts";
import { FindCoordinatorRequest, FindCoordinatorResponse } from "../src/protocol/messages/find-coordinator.ts";
import { OffsetCommitRequest, OffsetCommitResponse } from "../src/protocol/messages/offset-commit.ts";
import { OffsetFetchRequest, OffsetFetchResponse } from "../src/protocol/messages/offset-fetch.ts";
import { Reader } from "../src/protocol/reader.ts";
import type { MessageDef } from "../src/protocol/schema.ts";
import { ATTR_COMPRESSION_MASK, int16At, int32At, int64At, OFF_ATTRIBUTES, OFF_BASE_SEQUENCE, OFF_BASE_TIMESTAMP, OFF_LAST_OFFSET_DELTA, validateBatches } from "../src/records/batch.ts";
import { buildBatch, decodeRecords } from "../src/records/record.ts";
import { ATTR_DELETE_HORIZON, CLEANER_OFFSET_CHECKPOINT, LogCleaner, type CleanerSettings } from "../src/storage/cleaner.ts";
import { Throttler, type ThrottlerClock } from "../src/storage/throttler.ts";
import type { Partition } from "../src/storage/partition.ts";
import { removeDir, requestFrame, startInProcess, tempDir, type InProcessBroker, type Msg } from "./helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
/** no background passes during a test: rounds run when the test says */
const BASE = { "log.cleaner.backoff.ms": "3600000", "group.initial.rebalance.delay.ms": "0" };
const COMPACT = { "cleanup.policy": "compact", "segment.bytes": "400", "min.cleanable.dirty.ratio": "0.01" };

let kafka: InProcessBroker | null = null;
const dirs: string[] = [];

afterEach(async () => {
  await kafka?.close();
  kafka = null;
  for (const d of dirs.splice(0)) removeDir(d);
});

async function start(overrides: Record<string, string> = {}, dir?: string): Promise<InProcessBroker> {
  kafka = await startInProcess({ ...BASE, ...overrides }, dir);
  return kafka;
}

/** Stops the broker, keeping its dir for a restart. */
async function stopKeepingDir(k: InProcessBroker): Promise<void> {
  k.broker.stopping = true;
  k.broker.wakeAll();
  await new Promise((r) => setImmediate(r));
  await k.broker.stop();
  kafka = null;
}

function topic(k: InProcessBroker, name: string, configs: Record<string, string> = COMPACT, partitions = 1): Partition[] {
  k.storage.createTopic(name, partitions, configs);
  return Array.from({ length: partitions }, (_, i) => k.storage.getPartition(name, i)!);
}

interface Rec {
  key: string | null;
  value: string | null;
}

/** Appends one batch (as a produce would, validated first); returns its base offset. */
function append(p: Partition, records: Rec[], o: { codec?: number; producerId?: number; baseSequence?: number; ts?: number } = {}): number {
  const batch = buildBatch({
    attributes: o.codec ?? 0,
    baseTimestamp: o.ts ?? Date.now(),
    producerId: o.producerId ?? -1,
    producerEpoch: o.producerId === undefined ? -1 : 0,
    baseSequence: o.baseSequence ?? -1,
    records: records.map((r) => ({ key: r.key === null ? null : enc.encode(r.key), value: r.value === null ? null : enc.encode(r.value) })),
  });
  const scan = validateBatches(batch);
  if (!scan.ok) throw new Error(scan.reason);
  const r = p.append(batch, scan.batches);
  expect(r.errorCode).toBe(0);
  return r.baseOffset;
}

// ---------------------------------------------------------------------------
// a client over an in-process connection

class Client {
  private readonly conn: Connection;
  private buf = new Uint8Array(0);
  private corr = 0;
  private readonly waiting = new Map<number, { res: MessageDef; v: number; resolve: (m: Msg) => void }>();

  constructor(k: InProcessBroker) {
    const socket = {
      data: undefined,
      write: (b: Uint8Array, offset = 0, length = b.length - offset) => (this.onBytes(b.slice(offset, offset + length)), length),
      end: () => {},
      pause: () => {},
      resume: () => {},
    };
    this.conn = new Connection(socket as never, k.broker, "127.0.0.1:40000");
  }

  private onBytes(more: Uint8Array): void {
    const next = new Uint8Array(this.buf.length + more.length);
    next.set(this.buf);
    next.set(more, this.buf.length);
    this.buf = next;
    while (this.buf.length >= 4) {
      const size = new DataView(this.buf.buffer, this.buf.byteOffset).getInt32(0);
      if (this.buf.length < 4 + size) return;
      const r = new Reader(this.buf.slice(4, 4 + size));
      this.buf = this.buf.slice(4 + size);
      const w = this.waiting.get(r.int32())!;
      if (isFlexible(w.res, w.v)) r.uvarint();
      w.resolve(codecFor(w.res, w.v).read(r));
    }
  }

  call(req: MessageDef, res: MessageDef, v: number, body: Msg): Promise<Msg> {
    const id = ++this.corr;
    const p = new Promise<Msg>((resolve) => this.waiting.set(id, { res, v, resolve }));
    this.conn.onData(requestFrame(req.apiKey!, v, id, "compaction-test", encode(req, v, body), isFlexible(req, v)));
    return p;
  }

  close(): void {
    this.conn.onClose();
  }
}

interface FetchedBatch {
  baseOffset: number;
  lastOffset: number;
  codec: number;
  attributes: number;
  baseTimestamp: number;
  baseSequence: number;
  records: (Rec & { offset: number })[];
}

/** Every batch of the partition from offset 0, through Fetch requests, as a consumer reads them. */
async function fetchBatches(k: InProcessBroker, name: string, partition = 0): Promise<FetchedBatch[]> {
  const c = new Client(k);
  const out: FetchedBatch[] = [];
  let next = 0;
  try {
    for (;;) {
      const r = await c.call(FetchRequest, FetchResponse, 12, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: name, partitions: [{ partition, fetchOffset: next, partitionMaxBytes: 1 << 20, logStartOffset: -1, currentLeaderEpoch: -1 }] }],
        forgottenTopicsData: [],
        rackId: "",
      });
      const p = r.responses[0].partitions[0];
      expect(p.errorCode).toBe(0);
      const recs: Uint8Array = p.records ?? new Uint8Array(0);
      const before = out.length;
      let pos = 0;
      while (pos + 12 <= recs.length) {
        const size = int32At(recs, pos + 8) + 12;
        if (pos + size > recs.length) break;
        const b = recs.subarray(pos, pos + size);
        const base = int64At(b, 0);
        const lastOffset = base + int32At(b, OFF_LAST_OFFSET_DELTA);
        pos += size;
        if (lastOffset < next) continue;
        out.push({
          baseOffset: base,
          lastOffset,
          codec: int16At(b, OFF_ATTRIBUTES) & ATTR_COMPRESSION_MASK,
          attributes: int16At(b, OFF_ATTRIBUTES),
          baseTimestamp: int64At(b, OFF_BASE_TIMESTAMP),
          baseSequence: int32At(b, OFF_BASE_SEQUENCE),
          records: decodeRecords(b).map((x) => ({ offset: base + x.offsetDelta, key: x.key && dec.decode(x.key), value: x.value && dec.decode(x.value) })),
        });
        next = lastOffset + 1;
      }
      if (out.length === before || next >= p.highWatermark) return out;
    }
  } finally {
    c.close();
  }
}

const recordsOf = (batches: FetchedBatch[]) => batches.flatMap((b) => b.records);

/** What compaction must leave: below `upTo`, the newest record of each key; from `upTo` on, everything. */
function expectedAfterClean(all: (Rec & { offset: number })[], upTo: number): (Rec & { offset: number })[] {
  const newest = new Map<string | null, number>();
  for (const r of all) if (r.offset < upTo) newest.set(r.key, r.offset);
  return all.filter((r) => r.offset >= upTo || newest.get(r.key) === r.offset);
}

function files(p: Partition): string[] {
  return readdirSync(p.log.dir).sort();
}

// ---------------------------------------------------------------------------

describe("compaction", () => {
  test("the newest value per key stays, older ones go; offsets unchanged, fetched in order with gaps; the active segment untouched; checkpoint written", async () => {
    const k = await start();
    const [p] = topic(k, "c");
    const written: (Rec & { offset: number })[] = [];
    for (let i = 0; i < 40; i++) {
      const recs = [0, 1].map((j) => ({ key: `k${(i * 2 + j) % 7}`, value: `v${i}-${j}` }));
      const base = append(p!, recs);
      recs.forEach((r, j) => written.push({ ...r, offset: base + j }));
    }
    const before = p!.log.segmentSummaries();
    expect(before.length).toBeGreaterThan(5);
    const active = before[before.length - 1]!;
    const activeBytes = readFileSync(active.path);
    expect(recordsOf(await fetchBatches(k, "c"))).toEqual(written);

    const stats = await k.storage.cleaner.cleanNow();
    expect(stats.length).toBe(1);
    expect(stats[0]!.endOffset).toBe(active.baseOffset);
    const after = p!.log.segmentSummaries();
    expect(after.length).toBeLessThanOrEqual(before.length);
    // the active segment: same base, same bytes
    expect(after[after.length - 1]!.baseOffset).toBe(active.baseOffset);
    expect(readFileSync(active.path).equals(activeBytes)).toBe(true);

    const got = recordsOf(await fetchBatches(k, "c"));
    const want = expectedAfterClean(written, active.baseOffset);
    expect(got).toEqual(want);
    expect(got.length).toBeLessThan(written.length);
    // increasing offsets with gaps, log end unchanged
    for (let i = 1; i < got.length; i++) expect(got[i]!.offset).toBeGreaterThan(got[i - 1]!.offset);
    expect(p!.logEndOffset).toBe(80);
    expect(stats[0]!.recordsRead - stats[0]!.recordsKept).toBe(written.filter((r) => r.offset < active.baseOffset).length - want.filter((r) => r.offset < active.baseOffset).length);
    expect(readFileSync(join(k.dir, CLEANER_OFFSET_CHECKPOINT), "utf8")).toBe(`0\n1\nc 0 ${active.baseOffset}\n`);
    // no temporary files left; nothing dirty any more
    expect(files(p!).filter((f) => /\.(cleaned|swap)$/.test(f))).toEqual([]);
    expect(await k.storage.cleaner.cleanNow()).toEqual([]);

    // a restart reads the cleaned log and the checkpoint back; appends continue
    const dir = k.dir;
    await stopKeepingDir(k);
    dirs.push(dir);
    const k2 = await start({}, dir);
    const p2 = k2.storage.getPartition("c", 0)!;
    expect(p2.logEndOffset).toBe(80);
    expect(recordsOf(await fetchBatches(k2, "c"))).toEqual(want);
    expect(k2.storage.cleaner.checkpointOf("c", 0)).toBe(active.baseOffset);
    expect(append(p2, [{ key: "k0", value: "after" }])).toBe(80);

    // segments shrunk by one round are grouped under segment.bytes by the next
    const closedBefore = p2.log.segmentSummaries().length - 1;
    for (let i = 0; i < 8; i++) append(p2, [{ key: `k${i % 7}`, value: `again${i}` }]);
    expect((await k2.storage.cleaner.cleanNow()).length).toBe(1);
    const summaries = p2.log.segmentSummaries();
    expect(summaries.filter((s) => s.baseOffset < active.baseOffset).length).toBeLessThan(closedBefore);
    for (const s of summaries.slice(0, -1)) expect(s.size).toBeLessThanOrEqual(400);
    const final = recordsOf(await fetchBatches(k2, "c"));
    expect(new Set(final.filter((r) => r.offset < summaries.at(-1)!.baseOffset).map((r) => r.key)).size).toBe(final.filter((r) => r.offset < summaries.at(-1)!.baseOffset).length);
  }, 20_000);

  test("a topic without compact is never cleaned", async () => {
    const k = await start();
    const [p] = topic(k, "d", { "segment.bytes": "400", "min.cleanable.dirty.ratio": "0.01" });
    for (let i = 0; i < 20; i++) append(p!, [{ key: "same", value: `v${i}` }]);
    expect(await k.storage.cleaner.cleanNow()).toEqual([]);
    expect(recordsOf(await fetchBatches(k, "d")).length).toBe(20);
  }, 10_000);

  test("a dedupe buffer too small for the dirty keys: each round cleans as far as the map holds, the next ones go on from there", async () => {
    // 768 bytes: 32 slots of 24 bytes, filled to 0.9, so 28 keys a round
    const k = await start({ "log.cleaner.dedupe.buffer.size": "768" });
    const [p] = topic(k, "small-map");
    const written: (Rec & { offset: number })[] = [];
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 100; i++) {
        const r = { key: `key-${i}`, value: `r${round}-${i}` };
        written.push({ ...r, offset: append(p!, [r]) });
      }
    }
    const active = p!.log.segmentSummaries().at(-1)!.baseOffset;
    const stats = await k.storage.cleaner.cleanNow();
    // one pass, several rounds, each starting where the last one's map ended
    expect(stats.length).toBeGreaterThan(2);
    for (let i = 1; i < stats.length; i++) expect(stats[i]!.firstDirtyOffset).toBe(stats[i - 1]!.endOffset);
    expect(stats.at(-1)!.endOffset).toBe(active);
    expect(recordsOf(await fetchBatches(k, "small-map"))).toEqual(expectedAfterClean(written, active));
  }, 20_000);

  test("tombstones stay until delete.retention.ms after the clean that first saw them, then go", async () => {
    const k = await start();
    const [p] = topic(k, "t", { ...COMPACT, "delete.retention.ms": "60000" });
    append(p!, [{ key: "a", value: "a1" }, { key: "b", value: "b1" }]);
    append(p!, [{ key: "a", value: null }, { key: "c", value: "c1" }]); // offset 2: a's tombstone
    for (let i = 0; i < 8; i++) append(p!, [{ key: `f${i}`, value: "filler" }]);
    const t0 = Date.now();
    expect((await k.storage.cleaner.cleanNow(t0)).length).toBe(1);
    let batches = await fetchBatches(k, "t");
    let recs = recordsOf(batches);
    expect(recs.find((r) => r.key === "a")).toEqual({ offset: 2, key: "a", value: null });
    // the batch holding it carries its delete horizon
    const holder = batches.find((b) => b.records.some((r) => r.offset === 2))!;
    expect(holder.attributes & ATTR_DELETE_HORIZON).toBe(ATTR_DELETE_HORIZON);
    expect(holder.baseTimestamp).toBe(t0 + 60000);

    // more data, cleaned before the horizon: the tombstone stays
    for (let i = 0; i < 6; i++) append(p!, [{ key: `g${i}`, value: "more" }]);
    expect((await k.storage.cleaner.cleanNow(t0 + 59_999)).length).toBe(1);
    recs = recordsOf(await fetchBatches(k, "t"));
    expect(recs.some((r) => r.key === "a")).toBe(true);

    // cleaned after it: gone, the live keys stay
    for (let i = 0; i < 6; i++) append(p!, [{ key: `h${i}`, value: "more" }]);
    expect((await k.storage.cleaner.cleanNow(t0 + 60_000)).length).toBe(1);
    batches = await fetchBatches(k, "t");
    recs = recordsOf(batches);
    expect(recs.some((r) => r.key === "a")).toBe(false);
    expect(recs.filter((r) => r.key === "b" || r.key === "c").map((r) => [r.offset, r.value])).toEqual([
      [1, "b1"],
      [3, "c1"],
    ]);
  }, 20_000);

  test("min.compaction.lag.ms holds young segments back; max.compaction.lag.ms cleans a log below the dirty ratio", async () => {
    const k = await start();
    const now = Date.now();
    const [young] = topic(k, "lag-min", { ...COMPACT, "min.compaction.lag.ms": "60000" });
    for (let i = 0; i < 12; i++) append(young!, [{ key: "same", value: `v${i}` }], { ts: now });
    const [old] = topic(k, "lag-max", { ...COMPACT, "min.cleanable.dirty.ratio": "0.9", "max.compaction.lag.ms": "60000" });
    for (let i = 0; i < 30; i++) append(old!, [{ key: `u${i}`, value: "unique" }], { ts: now });
    // the first clean of lag-max (all of it dirty: ratio 1) leaves it all clean
    expect((await k.storage.cleaner.cleanNow(now)).map((s) => s.partition)).toEqual(["lag-max-0"]);
    for (let i = 0; i < 6; i++) append(old!, [{ key: "dup", value: `d${i}` }], { ts: now });
    // now: lag-min's records are too young, lag-max's dirty share is under 0.9
    expect(await k.storage.cleaner.cleanNow(now + 1000)).toEqual([]);
    // a minute on: lag-min is old enough, lag-max's dirty records are past max.compaction.lag.ms
    const stats = await k.storage.cleaner.cleanNow(now + 61_000);
    expect(stats.map((s) => s.partition).sort()).toEqual(["lag-max-0", "lag-min-0"]);
    const dups = recordsOf(await fetchBatches(k, "lag-max")).filter((r) => r.key === "dup");
    expect(dups.length).toBeLessThan(6);
  }, 20_000);

  for (const [codec, name] of [
    [0, "none"],
    [1, "gzip"],
    [2, "snappy"],
    [3, "lz4"],
    [4, "zstd"],
  ] as const) {
    test(`batches compressed with ${name} are cleaned and keep their codec`, async () => {
      const k = await start();
      const [p] = topic(k, `z-${name}`);
      const written: (Rec & { offset: number })[] = [];
      for (let i = 0; i < 24; i++) {
        // a key of its own and a shared one: every batch but the last loses a record and is rebuilt
        const recs = [
          { key: `own-${i}`, value: `x${i}`.repeat(5) },
          { key: "shared", value: `s${i}`.repeat(5) },
          { key: `k${i % 3}`, value: `y${i}`.repeat(5) },
        ];
        const base = append(p!, recs, { codec });
        recs.forEach((r, j) => written.push({ ...r, offset: base + j }));
      }
      const active = p!.log.segmentSummaries().at(-1)!.baseOffset;
      const stats = await k.storage.cleaner.cleanNow();
      expect(stats.length).toBe(1);
      const batches = await fetchBatches(k, `z-${name}`);
      expect(recordsOf(batches)).toEqual(expectedAfterClean(written, active));
      const rebuilt = batches.filter((b) => b.records.length > 0 && b.records.length < 3);
      expect(rebuilt.length).toBeGreaterThan(0);
      for (const b of batches) if (b.records.length > 0) expect(b.codec).toBe(codec);
      // batch boundaries: every batch still spans its original three offsets
      for (const b of batches) expect((b.lastOffset - b.baseOffset + 1) % 3).toBe(0);
    }, 20_000);
  }

  test("an idempotent producer's last batch stays as an empty header; its sequence survives a restart", async () => {
    const k = await start();
    const [p] = topic(k, "idem");
    const pid = 4242;
    append(p!, [{ key: "x", value: "old" }], { producerId: pid, baseSequence: 0 }); // offset 0
    append(p!, [{ key: "x", value: "older-pid" }], { producerId: 77, baseSequence: 0 }); // offset 1: a producer that writes again later
    append(p!, [{ key: "x", value: "new" }], { producerId: 77, baseSequence: 1 }); // offset 2
    for (let i = 0; i < 8; i++) append(p!, [{ key: `f${i}`, value: "filler" }]);
    expect((await k.storage.cleaner.cleanNow()).length).toBe(1);
    const batches = await fetchBatches(k, "idem");
    // producer 4242's only batch lost its record but stays, empty, with its sequence; producer 77's older batch is gone
    expect(batches[0]).toMatchObject({ baseOffset: 0, lastOffset: 0, baseSequence: 0, records: [] });
    expect(batches[1]).toMatchObject({ baseOffset: 2, records: [{ offset: 2, key: "x", value: "new" }] });
    const dir = k.dir;
    await stopKeepingDir(k);
    dirs.push(dir);
    // no producer snapshots: the state comes from the batches themselves
    for (const f of readdirSync(join(dir, "idem-0"))) if (f.endsWith(".snapshot")) removeDir(join(dir, "idem-0", f));
    const k2 = await start({}, dir);
    const p2 = k2.storage.getPartition("idem", 0)!;
    expect(p2.producerEpoch(pid)).toBe(0);
    // the next sequence is accepted, a replay of the old one is a duplicate
    const dup = buildBatch({ producerId: pid, producerEpoch: 0, baseSequence: 0, records: [{ key: enc.encode("x"), value: enc.encode("old") }] });
    const scan = validateBatches(dup);
    if (!scan.ok) throw new Error(scan.reason);
    expect(p2.append(dup, scan.batches)).toMatchObject({ errorCode: 0, duplicate: true, baseOffset: 0 });
    expect(append(p2, [{ key: "x", value: "next" }], { producerId: pid, baseSequence: 1 })).toBe(11);
  }, 20_000);

  test("a round is done in slices: appends and fetches are served while it runs", async () => {
    const k = await start();
    const [p] = topic(k, "big", { ...COMPACT, "segment.bytes": "65536" });
    const value = "v".repeat(1000);
    for (let i = 0; i < 1200; i++) append(p!, [{ key: `k${i % 50}`, value: `${i}:${value}` }]);
    let done = false;
    const run = k.storage.cleaner.cleanNow().then((s) => ((done = true), s));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    // served while the round is under way
    const end = p!.logEndOffset;
    expect(append(p!, [{ key: "during", value: "x" }])).toBe(end);
    expect(done).toBe(false);
    const stats = await run;
    expect(stats.length).toBe(1);
    const recs = recordsOf(await fetchBatches(k, "big"));
    expect(recs.at(-1)).toEqual({ offset: end, key: "during", value: "x" });
    expect(recs.length).toBeLessThan(300);
  }, 30_000);

  test("a stop during a round: the round gives up and its .cleaned file is deleted; what was swapped in stays valid", async () => {
    const k = await start();
    const [p] = topic(k, "stop", { ...COMPACT, "segment.bytes": "65536" });
    const value = "v".repeat(1000);
    for (let i = 0; i < 1200; i++) append(p!, [{ key: `k${i % 50}`, value: `${i}:${value}` }]);
    const run = k.storage.cleaner.cleanNow();
    // until the round writes its first cleaned segment (it yields every 256 KiB read)
    const d = join(k.dir, "stop-0");
    while (!readdirSync(d).some((f) => f.endsWith(".cleaned"))) await new Promise((r) => setImmediate(r));
    const dir = k.dir;
    await stopKeepingDir(k); // waits for the round to give up
    dirs.push(dir);
    expect(await run).toEqual([]);
    expect(readdirSync(join(dir, "stop-0")).filter((f) => /\.(cleaned|swap)$/.test(f))).toEqual([]);
    const k2 = await start({}, dir);
    // the groups swapped in before the stop stay cleaned; every key's newest record is there, in offset order
    const recs = recordsOf(await fetchBatches(k2, "stop"));
    for (let i = 1; i < recs.length; i++) expect(recs[i]!.offset).toBeGreaterThan(recs[i - 1]!.offset);
    for (let i = 1150; i < 1200; i++) expect(recs.find((r) => r.offset === i)?.value).toBe(`${i}:${value}`);
    // the round did not finish: no checkpoint, so the next one starts from the beginning again
    expect(k2.storage.cleaner.checkpointOf("stop", 0)).toBeUndefined();
  }, 30_000);

  test("a crash mid-swap is completed at open: .cleaned deleted, .swap renamed in place of the segments it replaces", async () => {
    const k = await start();
    const parts = topic(k, "crash", COMPACT, 2);
    for (const p of parts) for (let i = 0; i < 30; i++) append(p, [{ key: `k${i % 2}`, value: `v${i}` }]);
    const segs = parts.map((p) => p.log.segmentSummaries());
    const dir = k.dir;
    await stopKeepingDir(k);
    dirs.push(dir);
    for (const [i, s] of segs.entries()) {
      const d = join(dir, `crash-${i}`);
      // a cleaned segment for the first three segments: only the last batch of the third
      const third = readFileSync(s[2]!.path);
      const swap = `${s[0]!.path}.swap`;
      writeFileSync(swap, third);
      // partition 0 crashed after step 1 (old segments all there), partition 1 after step 2 (they were renamed .deleted)
      if (i === 1) for (const seg of s.slice(0, 3)) renameSync(seg.path, `${seg.path}.deleted`);
      // and a clean of a later group cut short
      writeFileSync(`${s[3]!.path}.cleaned`, new Uint8Array(100).fill(7));
      expect(readdirSync(d).some((f) => f.endsWith(".swap"))).toBe(true);
    }
    const k2 = await start({}, dir);
    for (const [i, s] of segs.entries()) {
      const p = k2.storage.getPartition("crash", i)!;
      expect(files(p).filter((f) => /\.(cleaned|swap|deleted)$/.test(f))).toEqual([]);
      const bases = p.log.segmentSummaries().map((x) => x.baseOffset);
      expect(bases).toEqual([s[0]!.baseOffset, ...s.slice(3).map((x) => x.baseOffset)]);
      const recs = recordsOf(await fetchBatches(k2, "crash", i));
      const thirdFirst = s[2]!.baseOffset;
      expect(recs.map((r) => r.offset)).toEqual(Array.from({ length: 30 - thirdFirst }, (_, j) => thirdFirst + j));
      expect(p.logEndOffset).toBe(30);
    }
  }, 20_000);

  test("__consumer_offsets is compacted; after a restart the group coordinator loads the committed offsets", async () => {
    const overrides = { "offsets.topic.num.partitions": "1", "offsets.topic.segment.bytes": "400", "log.cleaner.min.cleanable.ratio": "0.01" };
    const k = await start(overrides);
    const c = new Client(k);
    expect((await c.call(FindCoordinatorRequest, FindCoordinatorResponse, 3, { key: "g", keyType: 0 })).errorCode).toBe(0);
    k.storage.createTopic("orders", 3);
    const commit = async (group: string, offsets: [number, number][]) => {
      const r = await c.call(OffsetCommitRequest, OffsetCommitResponse, 8, {
        groupId: group,
        generationIdOrMemberEpoch: -1,
        memberId: "",
        groupInstanceId: null,
        topics: [{ name: "orders", partitions: offsets.map(([partitionIndex, committedOffset]) => ({ partitionIndex, committedOffset, committedLeaderEpoch: -1, committedMetadata: `m${committedOffset}` })) }],
      });
      for (const t of r.topics) for (const x of t.partitions) expect(x.errorCode).toBe(0);
    };
    for (let i = 1; i <= 30; i++) await commit("g", [[i % 3, i * 10]]);
    await commit("other", [[0, 5]]);
    const offsets = k.storage.getPartition("__consumer_offsets", 0)!;
    const before = recordsOf(await fetchBatches(k, "__consumer_offsets")).length;
    expect(offsets.log.segmentSummaries().length).toBeGreaterThan(5);
    const stats = await k.storage.cleaner.cleanNow();
    expect(stats.map((s) => s.partition)).toEqual(["__consumer_offsets-0"]);
    const after = recordsOf(await fetchBatches(k, "__consumer_offsets")).length;
    expect(after).toBeLessThan(before);
    c.close();
    const dir = k.dir;
    await stopKeepingDir(k);
    dirs.push(dir);

    const k2 = await start(overrides, dir);
    await k2.broker.groups.loaded;
    const c2 = new Client(k2);
    const r = await c2.call(OffsetFetchRequest, OffsetFetchResponse, 8, { groups: [{ groupId: "g", topics: null }, { groupId: "other", topics: null }], requireStable: false });
    const got = r.groups.map((g: Msg) => [g.groupId, g.topics.flatMap((t: Msg) => t.partitions.map((x: Msg) => [x.partitionIndex, x.committedOffset, x.metadata]))]);
    for (const g of got) g[1].sort((a: number[], b: number[]) => a[0]! - b[0]!);
    expect(got).toEqual([
      ["g", [[0, 300, "m300"], [1, 280, "m280"], [2, 290, "m290"]]],
      ["other", [[0, 5, "m5"]]],
    ]);
    c2.close();
  }, 20_000);

  test("the background passes clean on their own every log.cleaner.backoff.ms", async () => {
    const k = await start({ "log.cleaner.backoff.ms": "20" });
    const [p] = topic(k, "bg");
    for (let i = 0; i < 20; i++) append(p!, [{ key: "same", value: `v${i}` }]);
    const active = p!.log.segmentSummaries().at(-1)!.baseOffset;
    // waits for the cleaner's checkpoint (bounded by the test's timeout)
    while (k.storage.cleaner.checkpointOf("bg", 0) !== active) await new Promise((r) => setTimeout(r, 10));
    const recs = recordsOf(await fetchBatches(k, "bg"));
    expect(recs.filter((r) => r.offset < active).length).toBe(1);
  }, 10_000);
});

/** A clock where work takes `msPerCall` per reading and sleeps pass at once, adding to the time. */
function simulatedClock(msPerCall: number): ThrottlerClock & { t: number; slept: number[] } {
  const c = {
    t: 0,
    slept: [] as number[],
    now: () => (c.t += msPerCall),
    sleep: async (ms: number) => {
      c.slept.push(ms);
      c.t += ms;
    },
  };
  return c;
}

describe("log.cleaner.io.max.bytes.per.second", () => {
  test("Throttler: Kafka's arithmetic (a check every interval; the sleep brings that interval to the desired rate); unlimited never sleeps; the rate is read at each check", () => {
    const c = simulatedClock(0);
    let rate = 1000;
    const th = new Throttler(() => rate, 300, c);
    c.t = 100;
    expect(th.observe(500)).toBe(0); // within the interval: no check
    c.t = 301;
    // 600 bytes in 301 ms is 1993/s against 1000/s: sleep until 600 ms have passed
    expect(th.observe(100)).toBe(299);
    c.t = 301 + 299 + 400;
    expect(th.observe(300)).toBe(0); // 750/s: under the rate, the period restarts without a sleep
    rate = 1e6; // a dynamic update applies at the next check
    c.t += 301;
    expect(th.observe(1000)).toBe(0);
    const unlimited = new Throttler(() => 1.7976931348623157e308, 300, c);
    c.t += 1000;
    expect(unlimited.observe(2 ** 40)).toBe(0);
  });

  test("a cleaning round above the rate sleeps for the difference: its time at the rate is what it read and wrote divided by the rate", async () => {
    const k = await start();
    const [p] = topic(k, "throttled", { ...COMPACT, "segment.bytes": "65536" });
    const value = "v".repeat(1000);
    for (let i = 0; i < 1200; i++) append(p!, [{ key: `k${i % 50}`, value: `${i}:${value}` }]);
    const before = recordsOf(await fetchBatches(k, "throttled"));
    const rate = 200_000;
    // each batch the cleaner reads takes 1 ms here (~1 MB/s), five times the rate
    const clock = simulatedClock(1);
    const settings: CleanerSettings = { enable: true, backoffMs: 3_600_000, dedupeBufferSize: 1 << 20, ioBufferSize: 1 << 16, loadFactor: 0.9, maxIoBytesPerSecond: rate };
    const dir = tempDir("cleaner-throttle-");
    dirs.push(dir);
    const cleaner = new LogCleaner({
      logDir: dir,
      partitions: () => [p!],
      settings: () => settings,
      topicConfig: () => ({ compact: true, delete: false, segmentBytes: 65536, minCleanableRatio: 0.01, minCompactionLagMs: 0, maxCompactionLagMs: Number.MAX_SAFE_INTEGER, deleteRetentionMs: 86_400_000 }),
      throttleClock: clock,
    });
    const start0 = clock.t;
    const [stats] = await cleaner.cleanNow();
    await cleaner.stop();
    expect(stats).toBeDefined();
    // the first clean of the log: the key map reads the dirty bytes, the rewrite reads them again and writes what stays
    const observed = 2 * stats!.bytesRead + stats!.bytesWritten;
    const elapsed = clock.t - start0;
    const atRate = (observed / rate) * 1000;
    expect(clock.slept.length).toBeGreaterThan(0);
    // the last interval (under 300 ms of work, ~300 batches) is not checked, as in Kafka
    expect(elapsed).toBeGreaterThan(atRate - 2000);
    expect(elapsed).toBeLessThan(atRate + 400);
    // the same round unthrottled would take one ms per batch and never sleep
    expect(elapsed).toBeGreaterThan(3 * 2 * 1200);
    // and it cleaned as an unthrottled round does
    const after = recordsOf(await fetchBatches(k, "throttled"));
    expect(after.length).toBeLessThan(before.length);
    for (let i = 1150; i < 1200; i++) expect(after.find((r) => r.offset === i)?.value).toBe(`${i}:${value}`);
  }, 30_000);
});
