// Retention (src/storage/retention.ts, scheduled by log-manager.ts): the
// policy on segment summaries as Kafka's UnifiedLog decides, then a broker
// whose retention check runs every 20 ms deleting whole old segments by time
// and size (topic overrides by CreateTopics and IncrementalAlterConfigs),
// never the active one unless rolled first, moving the log start offset
// (Fetch below it OFFSET_OUT_OF_RANGE, ListOffsets earliest, kept across a
// restart), `.deleted` files removed only after file.delete.delay.ms and the
// last reader, compact-only topics left alone.

import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateBatches } from "../src/records/batch.ts";
import { buildBatch } from "../src/records/record.ts";
import { PartitionLog, type SegmentSummary } from "../src/storage/partition-log.ts";
import { releaseAll } from "../src/storage/segment.ts";
import { deletableCount, sizeBreach, startOffsetBreach, timeBreach } from "../src/storage/retention.ts";
import { ProduceRequest, ProduceResponse } from "../src/protocol/messages/produce.ts";
import { FetchRequest, FetchResponse } from "../src/protocol/messages/fetch.ts";
import { ListOffsetsRequest, ListOffsetsResponse } from "../src/protocol/messages/list-offsets.ts";
import { IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse } from "../src/protocol/messages/incremental-alter-configs.ts";
import { DescribeConfigsRequest, DescribeConfigsResponse } from "../src/protocol/messages/describe-configs.ts";
import type { WireClient } from "./helpers.ts";
import { call, createTopic, fetchAll, startListening, type ListeningBroker } from "./wire-calls.ts";

const seg = (baseOffset: number, nextOffset: number, size: number, largestTimestamp = 1000): SegmentSummary => ({ baseOffset, nextOffset, size, largestTimestamp, path: "/nonexistent" });

describe("the policy (Kafka's deletableSegments and its predicates)", () => {
  const segs = [seg(0, 10, 100, 1000), seg(10, 20, 100, 2000), seg(20, 30, 100, 3000), seg(30, 35, 50, 4000)];

  test("time: the oldest segments past retention.ms, stopping at the first that is not; -1 keeps all", () => {
    expect(timeBreach(segs, 1500, 4000, 35, 35)).toBe(2); // 4000-1000 and 4000-2000 > 1500; 4000-3000 is not
    expect(timeBreach(segs, 3000, 4000, 35, 35)).toBe(0); // strictly more than retention.ms
    expect(timeBreach(segs, -1, 1e12, 35, 35)).toBe(0);
    // every segment old, the non-empty active one included: all four (the caller rolls first)
    expect(timeBreach(segs, 10, 1e6, 35, 35)).toBe(4);
    // an empty active segment never counts
    expect(timeBreach([...segs, seg(35, 35, 0, -1)], 10, 1e6, 35, 35)).toBe(4);
    // a segment out of order in time stops the run (Kafka takes a prefix)
    expect(timeBreach([seg(0, 10, 100, 5000), seg(10, 20, 100, 1000), seg(20, 21, 1)], 1500, 6000, 21, 21)).toBe(0);
  });

  test("size: the oldest segments while the log stays at or above retention.bytes without them", () => {
    expect(sizeBreach(segs, 350, 35, 35)).toBe(0); // 350 total: not above
    expect(sizeBreach(segs, 351, 35, 35)).toBe(0);
    expect(sizeBreach(segs, 250, 35, 35)).toBe(1); // 350 -> 250
    expect(sizeBreach(segs, 150, 35, 35)).toBe(2); // 350 -> 150
    expect(sizeBreach(segs, 149, 35, 35)).toBe(2); // a third would leave 50 < 149
    expect(sizeBreach(segs, 0, 35, 35)).toBe(4); // 0 bytes: everything (after a roll)
    expect(sizeBreach(segs, -1, 35, 35)).toBe(0);
  });

  test("log start offset: segments wholly below it", () => {
    expect(startOffsetBreach(segs, 9, 35, 35)).toBe(0);
    expect(startOffsetBreach(segs, 10, 35, 35)).toBe(1);
    expect(startOffsetBreach(segs, 25, 35, 35)).toBe(2);
    expect(startOffsetBreach(segs, 35, 35, 35)).toBe(3); // the last has no next segment
  });

  test("nothing ending above the high watermark goes", () => {
    expect(deletableCount(segs, 19, 35, () => true)).toBe(1);
    expect(deletableCount(segs, 30, 35, () => true)).toBe(3);
    expect(deletableCount(segs, 35, 35, () => true)).toBe(4);
  });

  test("an empty segment's age is its file's mtime", () => {
    const dir = mkdtempSync(join(tmpdir(), "retention-mtime-"));
    try {
      const l = PartitionLog.open(dir, { segmentBytes: 1 << 20 });
      const [empty] = l.segmentSummaries();
      l.close();
      expect(empty!.largestTimestamp).toBe(-1);
      const mtime = statSync(empty!.path).mtimeMs;
      expect(timeBreach([empty!, seg(0, 0, 0, -1)], 1000, mtime + 500, 0, 0)).toBe(0);
      expect(timeBreach([empty!, seg(0, 1, 10, mtime + 1001)], 1000, mtime + 1001, 1, 1)).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const HOUR = 3_600_000;
/** a broker whose retention check runs every 20 ms from the start, deleted files removed at once unless a topic says otherwise */
const FAST = { "log.retention.check.interval.ms": "20", "log.initial.task.delay.ms": "0", "log.segment.delete.delay.ms": "0" };

const brokers: ListeningBroker[] = [];
afterEach(async () => {
  for (const b of brokers.splice(0)) await b.close();
});
async function start(overrides: Record<string, string> = {}, dir?: string): Promise<ListeningBroker> {
  const b = await startListening({ ...FAST, ...overrides }, dir);
  brokers.push(b);
  return b;
}

/** Polls `cond` every 10 ms until it holds (bounded). */
async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** One batch of `values` stamped `ts`, produced with acks=-1; its base offset. */
async function produceAt(c: WireClient, topic: string, values: string[], ts: number, key: string | null = null): Promise<number> {
  const enc = (s: string) => new TextEncoder().encode(s);
  const records = buildBatch({ baseTimestamp: ts, records: values.map((v) => ({ key: key === null ? null : enc(key), value: enc(v) })) });
  const r = await call(c, ProduceRequest, ProduceResponse, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
  const p = r.responses[0].partitionResponses[0];
  if (p.errorCode !== 0) throw new Error(`produce to ${topic}: error ${p.errorCode}`);
  return Number(p.baseOffset);
}

async function earliest(c: WireClient, topic: string): Promise<number> {
  const r = await call(c, ListOffsetsRequest, ListOffsetsResponse, 8, { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -2 }] }] });
  return Number(r.topics[0].partitions[0].offset);
}

async function fetchAt(c: WireClient, topic: string, offset: number): Promise<{ errorCode: number; logStartOffset: number }> {
  const r = await call(c, FetchRequest, FetchResponse, 12, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20, logStartOffset: -1, currentLeaderEpoch: -1 }] }],
    forgottenTopicsData: [],
    rackId: "",
  });
  const p = r.responses[0].partitions[0];
  return { errorCode: p.errorCode, logStartOffset: Number(p.logStartOffset) };
}

async function alterTopic(c: WireClient, topic: string, configs: Record<string, string>): Promise<void> {
  const r = await call(c, IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse, 1, {
    resources: [{ resourceType: 2, resourceName: topic, configs: Object.entries(configs).map(([name, value]) => ({ name, configOperation: 0, value })) }],
    validateOnly: false,
  });
  expect(r.responses[0].errorCode).toBe(0);
}

const files = (b: ListeningBroker, topic: string, suffix: string) =>
  readdirSync(join(b.dir, `${topic}-0`))
    .filter((n) => n.endsWith(suffix))
    .sort();
const part = (b: ListeningBroker, topic: string) => b.broker.storage.getPartition(topic, 0)!;
const OOR = 1; // OFFSET_OUT_OF_RANGE

describe("retention in the broker", () => {
  test("DescribeConfigs shows the retention keys with Kafka's defaults", async () => {
    const b = await startListening({});
    brokers.push(b);
    const c = await b.connect();
    await createTopic(c, "dflt", 1);
    const describe = async (resourceType: number, resourceName: string, keys: string[]) => {
      const r = await call(c, DescribeConfigsRequest, DescribeConfigsResponse, 4, { resources: [{ resourceType, resourceName, configurationKeys: keys }], includeSynonyms: false, includeDocumentation: false });
      return Object.fromEntries((r.results[0].configs as { name: string; value: string | null }[]).map((e) => [e.name, e.value]));
    };
    expect(await describe(2, "dflt", ["retention.ms", "retention.bytes", "file.delete.delay.ms", "cleanup.policy"])).toEqual({
      "retention.ms": "604800000",
      "retention.bytes": "-1",
      "file.delete.delay.ms": "60000",
      "cleanup.policy": "delete",
    });
    expect(await describe(4, "1", ["log.retention.ms", "log.retention.minutes", "log.retention.hours", "log.retention.bytes", "log.retention.check.interval.ms", "log.segment.delete.delay.ms"])).toEqual({
      "log.retention.ms": null,
      "log.retention.minutes": null,
      "log.retention.hours": "168",
      "log.retention.bytes": "-1",
      "log.retention.check.interval.ms": "300000",
      "log.segment.delete.delay.ms": "60000",
    });
  });

  test("time: old segments go once IncrementalAlterConfigs lowers retention.ms, the active one stays; the log start moves (Fetch below: OFFSET_OUT_OF_RANGE) and stays after a restart", async () => {
    let b = await start();
    let c = await b.connect();
    // segment.bytes 100: each batch below gets a segment of its own
    await createTopic(c, "tr", 1, { "segment.bytes": "100" });
    const old = Date.now() - HOUR;
    for (let i = 0; i < 3; i++) expect(await produceAt(c, "tr", [`old${i}`], old + i)).toBe(i);
    expect(await produceAt(c, "tr", ["new"], Date.now())).toBe(3);
    expect(files(b, "tr", ".log")).toHaveLength(4);
    // the default (7 days) keeps them: a round that passed over the partition deleted nothing
    expect(b.broker.storage.runRetention(Date.now())).toBe(0);
    await alterTopic(c, "tr", { "retention.ms": String(HOUR / 2) });
    await until("the log start to pass the old segments", () => part(b, "tr").logStartOffset === 3);
    expect(files(b, "tr", ".log")).toEqual(["00000000000000000003.log"]);
    await until("the .deleted files to go (no delay)", () => files(b, "tr", ".deleted").length === 0);
    expect(await earliest(c, "tr")).toBe(3);
    expect(await fetchAt(c, "tr", 0)).toEqual({ errorCode: OOR, logStartOffset: -1 });
    expect(await fetchAt(c, "tr", 2)).toEqual({ errorCode: OOR, logStartOffset: -1 });
    expect((await fetchAll(c, "tr", 0, 3)).records).toEqual([[3, "new"]]);
    // the producer snapshots of the deleted segments went with them
    expect(part(b, "tr").snapshotOffsets.every((o) => o >= 3)).toBe(true);

    await b.close(true);
    brokers.pop();
    b = await start({}, b.dir);
    c = await b.connect();
    expect(await earliest(c, "tr")).toBe(3);
    expect(await fetchAt(c, "tr", 2)).toEqual({ errorCode: OOR, logStartOffset: -1 });
    expect(await produceAt(c, "tr", ["after"], Date.now())).toBe(4);
    expect((await fetchAll(c, "tr", 0, 3)).records).toEqual([
      [3, "new"],
      [4, "after"],
    ]);
  });

  test("time: when every segment is old, the active one is rolled first and the log keeps an empty segment at its end", async () => {
    const b = await start();
    const c = await b.connect();
    await createTopic(c, "tall", 1, { "retention.ms": String(HOUR / 2) });
    const old = Date.now() - HOUR;
    // both land in the one (active) segment
    await produceAt(c, "tall", ["a", "b"], old);
    await until("the log start to reach the log end", () => part(b, "tall").logStartOffset === 2);
    expect(files(b, "tall", ".log")).toEqual(["00000000000000000002.log"]);
    expect(statSync(join(b.dir, "tall-0", "00000000000000000002.log")).size).toBe(0);
    expect(await earliest(c, "tall")).toBe(2);
    expect(await fetchAt(c, "tall", 1)).toEqual({ errorCode: OOR, logStartOffset: -1 });
    expect(await produceAt(c, "tall", ["c"], Date.now())).toBe(2);
    expect((await fetchAll(c, "tall", 0, 2)).records).toEqual([[2, "c"]]);
  });

  test("size: retention.bytes from CreateTopics keeps the newest segments whose total stays at or above it", async () => {
    const b = await start();
    const c = await b.connect();
    const one = buildBatch({ baseTimestamp: Date.now(), records: [{ key: null, value: new TextEncoder().encode("value-0") }] }).length;
    await createTopic(c, "ts", 1, { "segment.bytes": "100", "retention.bytes": String(3 * one) });
    expect(one).toBeLessThan(100);
    expect(one * 2).toBeGreaterThan(100);
    for (let i = 0; i < 8; i++) expect(await produceAt(c, "ts", [`value-${i}`], Date.now())).toBe(i);
    // 8 segments of `one` bytes: 5 can go, leaving exactly 3 * one
    await until("the log to shrink to retention.bytes", () => part(b, "ts").logStartOffset === 5);
    expect(part(b, "ts").sizeInBytes).toBe(3 * one);
    expect(files(b, "ts", ".log")).toEqual(["00000000000000000005.log", "00000000000000000006.log", "00000000000000000007.log"]);
    expect((await fetchAll(c, "ts", 0, 5)).records.map((r) => r[1])).toEqual(["value-5", "value-6", "value-7"]);
    expect(await fetchAt(c, "ts", 4)).toEqual({ errorCode: OOR, logStartOffset: -1 });
  });

  test("deleted segments stay as .deleted for file.delete.delay.ms, then go", async () => {
    const b = await start();
    const c = await b.connect();
    const old = Date.now() - HOUR;
    await createTopic(c, "slow", 1, { "segment.bytes": "100", "retention.ms": String(HOUR / 2), "file.delete.delay.ms": "600000" });
    await createTopic(c, "quick", 1, { "segment.bytes": "100", "retention.ms": String(HOUR / 2), "file.delete.delay.ms": "300" });
    for (const t of ["slow", "quick"]) {
      await produceAt(c, t, ["old0"], old);
      await produceAt(c, t, ["old1"], old);
      await produceAt(c, t, ["new"], Date.now());
    }
    await until("both to delete their old segments", () => part(b, "slow").logStartOffset === 2 && part(b, "quick").logStartOffset === 2);
    const renamed = ["00000000000000000000.log.deleted", "00000000000000000001.log.deleted"];
    expect(files(b, "quick", ".log.deleted")).toEqual(renamed);
    expect(files(b, "slow", ".log.deleted")).toEqual(renamed);
    await until("quick's .deleted files to go after 300 ms", () => files(b, "quick", ".deleted").length === 0);
    // slow's delay (10 minutes) is far from over: its files are all still there
    expect(files(b, "slow", ".log.deleted")).toEqual(renamed);
    expect(files(b, "slow", ".index.deleted")).toEqual(["00000000000000000000.index.deleted", "00000000000000000001.index.deleted"]);
    expect(part(b, "slow").log.delayedDeleteCount).toBe(2);
    // a stop leaves them for the next start-up, which removes them
    const dir = b.dir;
    await b.close(true);
    brokers.pop();
    expect(readdirSync(join(dir, "slow-0")).filter((n) => n.endsWith(".deleted"))).toHaveLength(renamed.length * 3);
    const again = await start({}, dir);
    expect(readdirSync(join(again.dir, "slow-0")).filter((n) => n.endsWith(".deleted"))).toEqual([]);
  });

  test("broker keys: log.retention.minutes over log.retention.hours, log.retention.ms over both (-1: unlimited)", async () => {
    let b = await start({ "log.retention.minutes": "30", "log.retention.hours": "1000" });
    let c = await b.connect();
    await createTopic(c, "bk", 1, { "segment.bytes": "100" });
    const old = Date.now() - HOUR;
    await produceAt(c, "bk", ["old"], old);
    await produceAt(c, "bk", ["new"], Date.now());
    // 30 minutes wins over 1000 hours: the hour-old segment goes
    await until("the hour-old segment to go", () => part(b, "bk").logStartOffset === 1);
    await b.close(true);
    brokers.pop();
    // log.retention.ms -1 wins over the minutes: nothing goes, however old
    b = await start({ "log.retention.ms": "-1", "log.retention.minutes": "1" }, b.dir);
    c = await b.connect();
    await produceAt(c, "bk", ["older"], old - HOUR);
    await produceAt(c, "bk", ["newer"], Date.now());
    expect(b.broker.storage.runRetention(Date.now() + 1000 * HOUR)).toBe(0);
    expect(part(b, "bk").logStartOffset).toBe(1);
  });

  test("segments wholly below a log start offset restored from log-start-offset-checkpoint go in the next round", async () => {
    const b = await start();
    const c = await b.connect();
    await createTopic(c, "lso", 1, { "segment.bytes": "100" });
    for (let i = 0; i < 4; i++) await produceAt(c, "lso", [`v${i}`], Date.now());
    expect(files(b, "lso", ".log")).toHaveLength(4);
    // what a start-up does with a checkpointed start (it deletes nothing itself)
    part(b, "lso").restoreLogStartOffset(2);
    await until("the segments below offset 2 to go", () => files(b, "lso", ".log").length === 2);
    expect(files(b, "lso", ".log")).toEqual(["00000000000000000002.log", "00000000000000000003.log"]);
    expect(await earliest(c, "lso")).toBe(2);
  });

  test("compact-only topics are left alone; compact,delete topics get retention", async () => {
    const b = await start();
    const c = await b.connect();
    const old = Date.now() - HOUR;
    const cfg = { "segment.bytes": "100", "retention.ms": "1000", "retention.bytes": "1" };
    await createTopic(c, "cmp", 1, { ...cfg, "cleanup.policy": "compact" });
    await createTopic(c, "both", 1, { ...cfg, "cleanup.policy": "compact,delete" });
    for (let i = 0; i < 3; i++) await produceAt(c, "cmp", [`v${i}`], old, "k");
    // deleted in the rounds that also pass over cmp, which has its data by now
    for (let i = 0; i < 3; i++) await produceAt(c, "both", [`v${i}`], old, "k");
    await until("compact,delete to lose its old segments", () => part(b, "both").logStartOffset === 3);
    expect(part(b, "cmp").logStartOffset).toBe(0);
    expect(files(b, "cmp", ".log")).toHaveLength(3);
    expect((await fetchAll(c, "cmp", 0, 0)).records.map((r) => r[1])).toEqual(["v0", "v1", "v2"]);
  });
});

describe("the .deleted files and readers", () => {
  test("a deleted segment's files outlive the delay while a reader holds them, and go when it lets go", async () => {
    const dir = mkdtempSync(join(tmpdir(), "retention-readers-"));
    try {
      const batch = (v: string) => {
        const buf = buildBatch({ baseTimestamp: 1000, records: [{ key: null, value: new TextEncoder().encode(v) }] });
        const scan = validateBatches(buf);
        if (!scan.ok) throw new Error(scan.reason);
        return { buf, batches: scan.batches };
      };
      // one batch per segment
      const l = PartitionLog.open(join(dir, "t-0"), { segmentBytes: batch("a").buf.length });
      l.fileDeleteDelayMs = 20;
      for (const v of ["a", "b", "c"]) {
        const { buf, batches } = batch(v);
        l.append(buf, batches);
      }
      await l.whenRollsFlushed();
      const held = l.read(0, 1 << 20);
      expect(l.deleteSegmentsBefore(1)).toBe(1);
      const deleted = join(dir, "t-0", "00000000000000000000.log.deleted");
      expect(existsSync(deleted)).toBe(true);
      await until("the delay to pass", () => l.delayedDeleteCount === 0);
      expect(existsSync(deleted)).toBe(true); // the reader still has it
      releaseAll(held);
      expect(existsSync(deleted)).toBe(false);
      l.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
