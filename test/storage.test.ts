import { log as logger } from "../src/log.ts";
import { afterEach, beforeEach, describe, expect, spyOn, test } from "bun:test";
import { appendFileSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ATTR_TRANSACTIONAL, validateBatches, type BatchInfo } from "../src/records/batch.ts";
import { buildBatch, decodeRecords, type RecordInput } from "../src/records/record.ts";
import { PartitionLog, type BatchHeader } from "../src/storage/partition-log.ts";
import { releaseAll, type SegmentRecords } from "../src/storage/segment.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** One produce-request-like buffer of batches (offsets all 0, as producers send them). */
function produce(...batches: { ts?: number; deltas?: number[]; n?: number }[]): { buf: Uint8Array; batches: BatchInfo[] } {
  const parts = batches.map((b) => {
    const deltas = b.deltas ?? new Array(b.n ?? 1).fill(0);
    const records: RecordInput[] = deltas.map((d, i) => ({ value: enc(`v${i}`), timestampDelta: d }));
    return buildBatch({ baseTimestamp: b.ts ?? 1000, records });
  });
  const buf = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let p = 0;
  for (const part of parts) {
    buf.set(part, p);
    p += part.length;
  }
  const scan = validateBatches(buf);
  if (!scan.ok) throw new Error(scan.reason);
  return { buf, batches: scan.batches };
}

/** The bytes of the sources, which are then released. */
function readBytes(slices: SegmentRecords[]): Uint8Array {
  const out = new Uint8Array(slices.reduce((n, s) => n + s.size, 0));
  let p = 0;
  for (const s of slices) {
    expect(s.writeTo(out, p)).toBe(s.size);
    p += s.size;
  }
  releaseAll(slices);
  return out;
}

/** Base offsets of the batches a read returned. */
function baseOffsets(slices: SegmentRecords[]): number[] {
  const scan = validateBatches(readBytes(slices));
  if (!scan.ok) throw new Error(scan.reason);
  return scan.batches.map((b) => b.baseOffset);
}

let dir: string;
const logs: PartitionLog[] = [];
function open(opts: { segmentBytes?: number; indexIntervalBytes?: number; onBatch?: (b: BatchHeader) => void } = {}): PartitionLog {
  const l = PartitionLog.open(join(dir, "t-0"), { segmentBytes: opts.segmentBytes ?? 1 << 20, indexIntervalBytes: opts.indexIntervalBytes, topicId: new Uint8Array(16).fill(9), onBatch: opts.onBatch });
  logs.push(l);
  return l;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "storage-test-"));
});
afterEach(async () => {
  for (const l of logs.splice(0)) {
    l.close();
    await l.whenRollsFlushed();
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("PartitionLog", () => {
  test("a new log is an empty segment with partition.metadata", () => {
    const log = open();
    expect(log.logStartOffset).toBe(0);
    expect(log.logEndOffset).toBe(0);
    expect(log.read(0, 1000)).toEqual([]);
    expect(statSync(join(dir, "t-0", "00000000000000000000.log")).size).toBe(0);
    // the active segment's indexes are preallocated to segment.index.bytes (rounded down to whole entries), as Kafka's
    expect(statSync(join(dir, "t-0", "00000000000000000000.index")).size).toBe(10485760);
    expect(statSync(join(dir, "t-0", "00000000000000000000.timeindex")).size).toBe(10485756);
    log.close();
    // and trimmed to their entries when it closes
    for (const f of ["00000000000000000000.log", "00000000000000000000.index", "00000000000000000000.timeindex"]) {
      expect(statSync(join(dir, "t-0", f)).size).toBe(0);
    }
    expect(readFileSync(join(dir, "t-0", "partition.metadata"), "utf8")).toBe("version: 0\ntopic_id: CQkJCQkJCQkJCQkJCQkJCQ");
  }, 2000);

  test("append assigns offsets by rewriting baseOffset in place; reads coalesce", () => {
    const log = open();
    const a = produce({ n: 3 }, { n: 2 });
    expect(log.append(a.buf, a.batches).baseOffset).toBe(0);
    const b = produce({ n: 1 }, { n: 4 });
    expect(log.append(b.buf, b.batches).baseOffset).toBe(5);
    // the caller's buffer now carries the assigned offsets
    const rescan = validateBatches(b.buf);
    expect(rescan.ok && rescan.batches.map((x) => x.baseOffset)).toEqual([5, 6]);
    expect(log.logEndOffset).toBe(10);

    const slices = log.read(0, 1 << 20);
    expect(slices.length).toBe(1); // four adjacent batches, one slice
    expect(baseOffsets(slices)).toEqual([0, 3, 5, 6]);
    expect(decodeRecords(readBytes(log.read(6, 1))).length).toBe(4);
  }, 2000);

  test("read inside a batch returns the whole containing batch; at the end nothing", () => {
    const log = open();
    const a = produce({ n: 3 }, { n: 3 }, { n: 3 });
    log.append(a.buf, a.batches);
    expect(baseOffsets(log.read(4, 1 << 20))).toEqual([3, 6]);
    expect(baseOffsets(log.read(8, 1 << 20))).toEqual([6]);
    expect(log.read(9, 1 << 20)).toEqual([]);
    expect(log.read(100, 1 << 20)).toEqual([]);
  }, 2000);

  test("maxBytes: at least one whole batch, then only whole batches that fit", () => {
    const log = open();
    const a = produce({ n: 1 }, { n: 1 }, { n: 1 });
    log.append(a.buf, a.batches);
    const size = a.batches[0]!.size;
    expect(baseOffsets(log.read(0, 0))).toEqual([0]);
    expect(baseOffsets(log.read(0, 1))).toEqual([0]);
    expect(baseOffsets(log.read(0, size * 2 - 1))).toEqual([0]);
    expect(baseOffsets(log.read(0, size * 2))).toEqual([0, 1]);
    expect(baseOffsets(log.read(1, size * 10))).toEqual([1, 2]);
  }, 2000);

  test("segments roll at segment.bytes; reads span segments; indexes written on roll", () => {
    const one = produce({ n: 2 }).buf.length;
    const log = open({ segmentBytes: one * 2, indexIntervalBytes: 1 });
    for (let i = 0; i < 5; i++) {
      const a = produce({ n: 2, ts: 1000 + i });
      expect(log.append(a.buf, a.batches).baseOffset).toBe(i * 2);
    }
    // two batches per segment: bases 0, 4, 8
    for (const base of ["00000000000000000000", "00000000000000000004", "00000000000000000008"]) {
      expect(existsSync(join(dir, "t-0", base + ".log"))).toBe(true);
    }
    expect(statSync(join(dir, "t-0", "00000000000000000000.log")).size).toBe(one * 2);
    const all = log.read(0, 1 << 20);
    expect(all.length).toBe(3);
    expect(baseOffsets(all)).toEqual([0, 2, 4, 6, 8]);
    expect(baseOffsets(log.read(5, 1))).toEqual([4]);
    // the rolled segment's sparse index: an entry for the second batch (> 1 byte since the last entry)
    const idx = readFileSync(join(dir, "t-0", "00000000000000000000.index"));
    expect([...idx]).toEqual([0, 0, 0, 3, 0, 0, 0, one]); // relative last offset 3, position of the batch
    const tidx = new DataView(readFileSync(join(dir, "t-0", "00000000000000000000.timeindex")).buffer);
    expect(tidx.byteLength).toBe(12);
    expect(tidx.getUint32(4)).toBe(1001); // max timestamp so far
    expect(tidx.getInt32(8)).toBe(3); // relative offset of that max
  }, 2000);

  test("a batch bigger than a segment gets a segment of its own", () => {
    const log = open({ segmentBytes: 100 });
    const a = produce({ n: 10 });
    const b = produce({ n: 10 });
    log.append(a.buf, a.batches);
    log.append(b.buf, b.batches);
    expect(existsSync(join(dir, "t-0", "00000000000000000010.log"))).toBe(true);
    expect(baseOffsets(log.read(0, 1 << 20))).toEqual([0, 10]);
  }, 2000);

  test("reopen recovers offsets, timestamps and reads", () => {
    const one = produce({ n: 2 }).buf.length;
    let log = open({ segmentBytes: one * 2 });
    for (let i = 0; i < 5; i++) {
      const a = produce({ n: 2, ts: 5000 - i });
      log.append(a.buf, a.batches);
    }
    log.close();
    log = open({ segmentBytes: one * 2 });
    expect(log.logStartOffset).toBe(0);
    expect(log.logEndOffset).toBe(10);
    expect(baseOffsets(log.read(7, 1 << 20))).toEqual([6, 8]);
    expect(log.maxTimestampOffset()).toEqual({ offset: 0, timestamp: 5000 });
    const a = produce({ n: 1 });
    expect(log.append(a.buf, a.batches).baseOffset).toBe(10);
  }, 2000);

  test("a torn tail is truncated with one warning", () => {
    let log = open();
    const a = produce({ n: 2 }, { n: 2 });
    log.append(a.buf, a.batches);
    log.close();
    const file = join(dir, "t-0", "00000000000000000000.log");
    const good = statSync(file).size;
    const next = produce({ n: 3 }).buf;
    appendFileSync(file, next.subarray(0, next.length - 5)); // a crash mid-write
    const warn = spyOn(logger, "warn").mockImplementation(() => {});
    try {
      log = open();
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
    expect(statSync(file).size).toBe(good);
    expect(log.logEndOffset).toBe(4);
    const b = produce({ n: 1 });
    expect(log.append(b.buf, b.batches).baseOffset).toBe(4);
    expect(baseOffsets(log.read(0, 1 << 20))).toEqual([0, 2, 4]);
  }, 2000);

  test("a last batch with a bad CRC or zeros written past the end is dropped", () => {
    let log = open();
    const a = produce({ n: 2 }, { n: 2 });
    log.append(a.buf, a.batches);
    log.close();
    const file = join(dir, "t-0", "00000000000000000000.log");
    const bytes = readFileSync(file);
    bytes[bytes.length - 1]! ^= 0xff;
    writeFileSync(file, Buffer.concat([bytes, Buffer.alloc(100)]));
    const warn = spyOn(logger, "warn").mockImplementation(() => {});
    try {
      log = open();
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
    expect(log.logEndOffset).toBe(2);
    expect(statSync(file).size).toBe(a.batches[0]!.size);
  }, 2000);

  test("offsetForTimestamp finds the first record at or after the timestamp", () => {
    const log = open();
    const a = produce({ ts: 1000, deltas: [0, 10, 20] }, { ts: 2000, deltas: [30, 0, 40] });
    log.append(a.buf, a.batches);
    expect(log.offsetForTimestamp(0)).toEqual({ offset: 0, timestamp: 1000 });
    expect(log.offsetForTimestamp(1000)).toEqual({ offset: 0, timestamp: 1000 });
    expect(log.offsetForTimestamp(1015)).toEqual({ offset: 2, timestamp: 1020 });
    expect(log.offsetForTimestamp(1021)).toEqual({ offset: 3, timestamp: 2030 }); // first by offset, not smallest timestamp
    expect(log.offsetForTimestamp(2035)).toEqual({ offset: 5, timestamp: 2040 });
    expect(log.offsetForTimestamp(2041)).toBeNull();
    expect(log.maxTimestampOffset()).toEqual({ offset: 5, timestamp: 2040 });
  }, 2000);

  test("an empty log has no max timestamp", () => {
    expect(open().maxTimestampOffset()).toBeNull();
    expect(open().offsetForTimestamp(0)).toBeNull();
  }, 2000);

  test("a different topic id in partition.metadata is refused", () => {
    open().close();
    logs.length = 0;
    expect(() => PartitionLog.open(join(dir, "t-0"), { segmentBytes: 1000, topicId: new Uint8Array(16).fill(1) })).toThrow(/topic id/);
  }, 2000);
});

/** Open descriptors of this process. */
const openFds = () => readdirSync("/proc/self/fd").length;
const tick = () => new Promise((r) => setTimeout(r, 20));

describe("opening scan", () => {
  test("every batch header goes to onBatch, in order; a torn tail's batch does not", () => {
    let log = open();
    const plain = produce({ n: 3, ts: 1000 });
    log.append(plain.buf, plain.batches);
    const idem = buildBatch({ baseTimestamp: 2000, producerId: 77, producerEpoch: 3, baseSequence: 10, attributes: ATTR_TRANSACTIONAL, records: [{ value: enc("a") }, { value: enc("b") }] });
    const scan = validateBatches(idem);
    if (!scan.ok) throw new Error(scan.reason);
    log.append(idem, scan.batches);
    log.close();
    const torn = produce({ n: 1 }).buf;
    appendFileSync(join(dir, "t-0", "00000000000000000000.log"), torn.subarray(0, torn.length - 1));

    const seen: BatchHeader[] = [];
    const warn = spyOn(logger, "warn").mockImplementation(() => {});
    try {
      log = open({ onBatch: (b) => seen.push({ ...b }) });
    } finally {
      warn.mockRestore();
    }
    expect(seen).toEqual([
      { baseOffset: 0, lastOffsetDelta: 2, partitionLeaderEpoch: -1, producerId: -1, producerEpoch: -1, baseSequence: -1, isTransactional: false, isControl: false, maxTimestamp: 1000 },
      { baseOffset: 3, lastOffsetDelta: 1, partitionLeaderEpoch: -1, producerId: 77, producerEpoch: 3, baseSequence: 10, isTransactional: true, isControl: false, maxTimestamp: 2000 },
    ]);
    expect(log.logEndOffset).toBe(5);
  }, 2000);

  test("a bad CRC in the last batch: its header is not reported", () => {
    let log = open();
    const a = produce({ n: 1 }, { n: 1 });
    log.append(a.buf, a.batches);
    log.close();
    const file = join(dir, "t-0", "00000000000000000000.log");
    const bytes = readFileSync(file);
    bytes[bytes.length - 1]! ^= 0xff;
    writeFileSync(file, bytes);
    const seen: number[] = [];
    const warn = spyOn(logger, "warn").mockImplementation(() => {});
    try {
      log = open({ onBatch: (b) => seen.push(b.baseOffset) });
    } finally {
      warn.mockRestore();
    }
    expect(seen).toEqual([0]);
  }, 2000);
});

describe("segment references", () => {
  test("a source read after its segments are deleted still gives its own bytes; files go with the last reader", async () => {
    const before = openFds();
    const one = produce({ n: 2 }).buf.length;
    const log = open({ segmentBytes: one });
    for (let i = 0; i < 3; i++) {
      const a = produce({ n: 2, ts: 1000 + i });
      log.append(a.buf, a.batches);
    }
    const held = log.read(0, one); // the first segment's one batch
    const expected = readBytes(log.read(0, one));
    await log.whenRollsFlushed(); // the fsyncs after each roll hold their segments too
    expect(log.deleteSegmentsBefore(4)).toBe(2); // segments 0 and 2; 4 is active
    expect(log.logStartOffset).toBe(4);
    expect(readdirSync(join(dir, "t-0")).filter((n) => n.endsWith(".deleted")).sort()).toEqual([
      "00000000000000000000.index.deleted",
      "00000000000000000000.log.deleted",
      "00000000000000000000.timeindex.deleted",
    ]);
    // a new file now: it cannot take the held descriptor's number
    const other = openSync(join(dir, "other"), "w+");
    writeFileSync(other, new Uint8Array(one).fill(0xee));
    const out = new Uint8Array(one);
    held[0]!.writeTo(out, 0);
    expect([...out]).toEqual([...expected]);
    releaseAll(held);
    expect(readdirSync(join(dir, "t-0")).filter((n) => n.endsWith(".deleted"))).toEqual([]);
    expect(() => held[0]!.writeTo(out, 0)).toThrow(/after release/);
    closeSync(other);
    log.close();
    expect(openFds()).toBe(before);
  }, 2000);

  test("a deleted log is renamed <topic>-<n>.<uuid hex>-delete and removed once its last reader lets go", async () => {
    const before = openFds();
    const log = open();
    const a = produce({ n: 2 }, { n: 1 });
    log.append(a.buf, a.batches);
    const held = log.read(0, 1 << 20);
    const expected = new Uint8Array(held[0]!.size);
    held[0]!.writeTo(expected, 0);
    const to = log.delete();
    expect(to).toMatch(/\/t-0\.[0-9a-f]{32}-delete$/);
    expect(existsSync(join(dir, "t-0"))).toBe(false);
    expect(log.read(0, 1 << 20)).toEqual([]);
    // a new log in its place, likely on the freed numbers if they were freed: they are not
    const fresh = open();
    const b = produce({ n: 5 });
    fresh.append(b.buf, b.batches);
    const out = new Uint8Array(held[0]!.size);
    held[0]!.writeTo(out, 0);
    expect(out).toEqual(expected);
    expect(existsSync(to)).toBe(true);
    releaseAll(held);
    for (let i = 0; i < 100 && existsSync(to); i++) await tick();
    expect(existsSync(to)).toBe(false);
    fresh.close();
    await fresh.whenRollsFlushed();
    expect(openFds()).toBe(before);
  }, 2000);
});

describe("leftovers of deletions", () => {
  test("*.deleted segment files are removed when the log opens", () => {
    const log = open();
    log.close();
    const left = join(dir, "t-0", "00000000000000000000.log.deleted");
    writeFileSync(left, new Uint8Array(10));
    open();
    expect(existsSync(left)).toBe(false);
  }, 2000);
});
