// Segments and their sparse indexes (src/storage/segment.ts,
// src/storage/partition-log.ts): when a segment rolls, where index entries go
// (as Kafka's LogSegment.append/recover place them), that the indexes are
// current while the segment is active, and that every lookup — read by
// offset, ListOffsets by timestamp and MAX_TIMESTAMP — lands on the right
// batch at every boundary: first and last offset of each batch, of each
// index interval, of each segment, for several index densities, before and
// after a reopen.

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateBatches, type BatchInfo } from "../src/records/batch.ts";
import { Codec } from "../src/records/compression.ts";
import { buildBatch } from "../src/records/record.ts";
import { PartitionLog, type PartitionLogOptions } from "../src/storage/partition-log.ts";
import { releaseAll } from "../src/storage/segment.ts";

const T0 = 1_700_000_000_000;
let dir: string;
const logs: PartitionLog[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "segments-test-"));
});
afterEach(async () => {
  for (const l of logs.splice(0)) {
    l.close();
    await l.whenRollsFlushed();
  }
  rmSync(dir, { recursive: true, force: true });
});

function open(opts: Partial<PartitionLogOptions> = {}): PartitionLog {
  const l = PartitionLog.open(join(dir, "t-0"), { segmentBytes: 1 << 20, cleanShutdown: true, warn: () => {}, info: () => {}, ...opts });
  logs.push(l);
  return l;
}

function reopen(l: PartitionLog, opts: Partial<PartitionLogOptions> = {}): PartitionLog {
  l.close();
  logs.splice(logs.indexOf(l), 1);
  return open(opts);
}

/** One batch of `n` records; record j of batch i has timestamp T0 + 100*i + j (the last record of every 4th batch jumps ahead). */
function batch(i: number, n: number, codec: number = Codec.NONE): { buf: Uint8Array; batches: BatchInfo[] } {
  const buf = buildBatch({
    baseTimestamp: T0 + 100 * i,
    attributes: codec,
    records: Array.from({ length: n }, (_, j) => ({ value: new TextEncoder().encode(`${i}/${j}`.padEnd(40, "x")), timestampDelta: i % 4 === 3 && j === n - 1 ? 50 : j })),
  });
  const scan = validateBatches(buf);
  if (!scan.ok) throw new Error(scan.reason);
  return { buf, batches: scan.batches };
}

interface Written {
  base: number;
  count: number;
  timestamps: number[];
}

function fill(l: PartitionLog, batches: number, codec: number = Codec.NONE): Written[] {
  const out: Written[] = [];
  for (let i = 0; i < batches; i++) {
    const n = 1 + (i % 3);
    const b = batch(i, n, codec);
    const { baseOffset } = l.append(b.buf, b.batches);
    out.push({ base: baseOffset, count: n, timestamps: Array.from({ length: n }, (_, j) => T0 + 100 * i + (i % 4 === 3 && j === n - 1 ? 50 : j)) });
  }
  return out;
}

/** The base offset of the first batch read(offset) returns. */
function firstBase(l: PartitionLog, offset: number): number | null {
  const r = l.read(offset, 1);
  if (r.length === 0) return null;
  const buf = new Uint8Array(r[0]!.size);
  r[0]!.writeTo(buf, 0);
  releaseAll(r);
  return Number(new DataView(buf.buffer).getBigInt64(0));
}

function entries(path: string, size: number): number[][] {
  const b = readFileSync(path);
  const out: number[][] = [];
  for (let p = 0; p + size <= b.length; p += size) out.push(size === 8 ? [b.readInt32BE(p), b.readInt32BE(p + 4)] : [Number(b.readBigInt64BE(p)), b.readInt32BE(p + 8)]);
  return out;
}

/** Every lookup the log answers, checked against what was written. */
function checkLookups(l: PartitionLog, w: Written[]): void {
  for (const b of w) for (let k = 0; k < b.count; k++) expect(firstBase(l, b.base + k)).toBe(b.base);
  const end = w.at(-1)!.base + w.at(-1)!.count;
  expect(firstBase(l, end)).toBeNull();
  // by timestamp: the first record (in offset order) whose timestamp is >= the one asked
  const all = w.flatMap((b) => b.timestamps.map((t, k) => ({ offset: b.base + k, t })));
  for (const probe of [...new Set(all.flatMap((r) => [r.t - 1, r.t, r.t + 1]))]) {
    const want = all.find((r) => r.t >= probe) ?? null;
    expect(l.offsetForTimestamp(probe)).toEqual(want ? { offset: want.offset, timestamp: want.t } : null);
  }
  const max = Math.max(...all.map((r) => r.t));
  const first = all.find((r) => r.t === max)!;
  expect(l.maxTimestampOffset()).toEqual({ offset: first.offset, timestamp: max });
}

describe("index entries", () => {
  for (const interval of [0, 1, 150, 4096]) {
    test(`index.interval.bytes ${interval}: entries placed as Kafka's recover() places them, current while active, the same after a reopen`, () => {
      const l = open({ indexIntervalBytes: interval });
      const w = fill(l, 30);
      // while active: the entries are on disk already, in the preallocated file
      const stem = join(dir, "t-0", "00000000000000000000");
      const live = entries(stem + ".index", 8).filter((e, i) => i === 0 || e[0] !== 0 || e[1] !== 0);
      // the expected entries: one for each batch with more than `interval` bytes since the last entry
      const sizes = w.map((b) => batch(w.indexOf(b), b.count).buf.length);
      const want: number[][] = [];
      let since = 0;
      let pos = 0;
      w.forEach((b, i) => {
        if (since > interval) {
          want.push([b.base + b.count - 1, pos]);
          since = 0;
        }
        since += sizes[i]!;
        pos += sizes[i]!;
      });
      expect(live.slice(0, want.length)).toEqual(want);
      checkLookups(l, w);
      l.close();
      expect(entries(stem + ".index", 8)).toEqual(want);
      expect(statSync(stem + ".index").size).toBe(want.length * 8);
      // the time index ends with the segment's max timestamp, as onBecomeInactiveSegment/close write it
      const te = entries(stem + ".timeindex", 12);
      const maxTs = Math.max(...w.flatMap((b) => b.timestamps));
      const maxBatch = w.find((b) => b.timestamps.includes(maxTs))!;
      expect(te.at(-1)).toEqual([maxTs, maxBatch.base + maxBatch.count - 1]);
      for (let i = 1; i < te.length; i++) expect(te[i]![0]!).toBeGreaterThan(te[i - 1]![0]!);
      checkLookups(reopen(l, { indexIntervalBytes: interval }), w);
    });
  }

  test("compressed batches: ListOffsets by timestamp finds the exact record inside, for every codec", () => {
    for (const codec of [Codec.GZIP, Codec.SNAPPY, Codec.LZ4, Codec.ZSTD]) {
      const l = open({ indexIntervalBytes: 100 });
      const w = fill(l, 12, codec);
      checkLookups(l, w);
      l.close();
      logs.splice(logs.indexOf(l), 1);
      rmSync(join(dir, "t-0"), { recursive: true });
    }
  });
});

describe("reads that stop at a byte limit", () => {
  // A fetch's limit (1 MiB of response, or the client's) ends the records at
  // the last whole batch that fits. Found by the crash test: a limit inside
  // the batch at an index entry returned nothing at all (a consumer stuck
  // for ever), since the scan started at the entry and gave back `from`.
  for (const interval of [0, 150, 4096]) {
    test(`index.interval.bytes ${interval}: every limit at, before and after each batch boundary, from several starts, active and reopened (clean and unclean)`, () => {
      let l = open({ indexIntervalBytes: interval, segmentBytes: 1 << 30 });
      const w = fill(l, 300);
      const sizes = w.map((b, i) => batch(i, b.count).buf.length);
      const starts = [0, 1, 7, 150, 230, 299];
      const check = (label: string) => {
        for (const s of starts) {
          const ends: number[] = [];
          for (let i = s, e = 0; i < sizes.length; i++) ends.push((e += sizes[i]!));
          for (const end of ends)
            for (const limit of [end - 1, end, end + 1]) {
              const r = l.read(w[s]!.base, limit, true);
              const got = r.reduce((n, x) => n + x.size, 0);
              releaseAll(r);
              // the whole batches that fit, at least the first
              const want = Math.max(ends[0]!, ...ends.filter((e) => e <= limit));
              if (got !== want) throw new Error(`${label}: read from batch ${s} with limit ${limit}: ${got} bytes, want ${want}`);
            }
        }
      };
      check("active");
      l = reopen(l, { indexIntervalBytes: interval, segmentBytes: 1 << 30 });
      check("after a clean reopen");
      l = reopen(l, { indexIntervalBytes: interval, segmentBytes: 1 << 30, cleanShutdown: false });
      check("after an unclean reopen (indexes rebuilt, no recent batches held)");
    });
  }
});

describe("rolling", () => {
  test("segment.bytes: every segment boundary looked up from both sides, before and after a reopen", () => {
    const one = batch(0, 1).buf.length;
    const l = open({ segmentBytes: one * 4, indexIntervalBytes: 100 });
    const w = fill(l, 40);
    const bases = l.segmentBaseOffsets;
    expect(bases.length).toBeGreaterThan(8);
    for (const b of bases.slice(1)) {
      expect(firstBase(l, b)).toBe(b);
      expect(firstBase(l, b - 1)).toBe(w.find((x) => x.base <= b - 1 && b - 1 < x.base + x.count)!.base);
    }
    checkLookups(l, w);
    // rolled segments' indexes are trimmed at the roll; only the active one is preallocated
    const names = readdirSync(join(dir, "t-0")).filter((n) => n.endsWith(".index")).sort();
    for (const n of names.slice(0, -1)) expect(statSync(join(dir, "t-0", n)).size).toBeLessThan(100);
    expect(statSync(join(dir, "t-0", names.at(-1)!)).size).toBe(10 * 1024 * 1024);
    checkLookups(reopen(l, { segmentBytes: one * 4, indexIntervalBytes: 100 }), w);
  });

  test("segment.ms: a batch whose timestamp is segment.ms past the segment's first batch rolls (as Kafka, by record time)", () => {
    const l = open({ segmentMs: 250 });
    fill(l, 3); // timestamps T0 .. T0 + 202
    expect(l.segmentBaseOffsets).toEqual([0]);
    const late = buildBatch({ baseTimestamp: T0 + 251, records: [{ value: new Uint8Array(1) }] });
    const scan = validateBatches(late);
    if (!scan.ok) throw new Error(scan.reason);
    const end = l.logEndOffset;
    l.append(late, scan.batches);
    expect(l.segmentBaseOffsets).toEqual([0, end]);
  });

  test("segment.index.bytes: a full offset index rolls the segment", () => {
    // room for two entries; an entry after every batch
    const l = open({ indexMaxBytes: 16, indexIntervalBytes: 0 });
    const w = fill(l, 12);
    expect(l.segmentBaseOffsets.length).toBeGreaterThan(3);
    for (const n of readdirSync(join(dir, "t-0")).filter((x) => x.endsWith(".index"))) expect(statSync(join(dir, "t-0", n)).size).toBeLessThanOrEqual(16);
    checkLookups(l, w);
  });

  test("an offset the index cannot hold relative to the segment's base rolls the segment", () => {
    const l = open();
    fill(l, 2);
    // a batch claiming 2^31 offsets (the log validator refuses such headers on produce; the log's own guard is what is tested)
    const b = batch(5, 1);
    const info = { ...b.batches[0]!, lastOffsetDelta: 2 ** 31 - 1 };
    l.append(b.buf, [info]); // 3 .. 3 + 2^31 - 1 do not fit segment 0: it rolls first
    expect(l.segmentBaseOffsets).toEqual([0, 3]);
    const next = batch(6, 1);
    const before = l.logEndOffset;
    l.append(next.buf, next.batches); // 2^31 past segment 3's base: rolls again
    expect(l.segmentBaseOffsets).toEqual([0, 3, before]);
  });
});
