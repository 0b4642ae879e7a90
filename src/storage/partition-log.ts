// One partition's log, <logdir>/<topic>-<n>/, in Kafka's on-disk layout:
//   <20-digit base offset>.log        record batches, back to back, as produced
//   <base>.index, <base>.timeindex    sparse offset and time indexes
//   partition.metadata                the topic id
//
// Batches are never decoded on the hot path. Opening scans batch headers only
// and keeps a compact in-memory index of them (typed arrays per segment), which
// is what reads use; the .index/.timeindex files are written from it when a
// segment rolls or the log closes, for Kafka's tools. The scan checks lengths,
// magic and offset order everywhere and the CRC of the last batch (where a
// crash tears writes); a bad tail is truncated with one warning.

import { log } from "../log.ts";
import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { FileSlice } from "../protocol/writer.ts";
import {
  ATTR_COMPRESSION_MASK,
  ATTR_TIMESTAMP_TYPE,
  BATCH_HEADER_SIZE,
  BATCH_OVERHEAD,
  OFF_ATTRIBUTES,
  OFF_BASE_OFFSET,
  OFF_CRC,
  OFF_LAST_OFFSET_DELTA,
  OFF_LENGTH,
  OFF_MAGIC,
  OFF_MAX_TIMESTAMP,
  int64At,
  setBaseOffset,
  uint32At,
  type BatchInfo,
} from "../records/batch.ts";
import { crc32c } from "../records/crc32c.ts";
import { batchBaseTimestamp, decodeRecords } from "../records/record.ts";
import { readPartitionMetadata, writePartitionMetadata } from "../metadata/properties.ts";
import { uuidEquals, uuidToBase64 } from "../metadata/uuid.ts";

export const DEFAULT_INDEX_INTERVAL_BYTES = 4096;
const SCAN_CHUNK = 1 << 20;

export interface PartitionLogOptions {
  /** log.segment.bytes: roll before a segment would grow past this */
  segmentBytes: number;
  /** log.index.interval.bytes */
  indexIntervalBytes?: number;
  /** written to partition.metadata when missing; a different id there is an error */
  topicId?: Uint8Array;
  /** what partition.metadata holds, when the caller has read it already (null: none) */
  topicIdOnDisk?: Uint8Array | null;
  warn?: (message: string) => void;
}

export interface TimestampOffset {
  offset: number;
  timestamp: number;
}

export function segmentName(baseOffset: number): string {
  return String(baseOffset).padStart(20, "0");
}

function int64(v: DataView, p: number): number {
  return v.getInt32(p) * 4294967296 + v.getUint32(p + 4);
}

/** One segment file and the index of its batches, as parallel typed arrays growing by doubling. */
class Segment {
  count = 0;
  bases = new Float64Array(16);
  lastDeltas = new Int32Array(16);
  positions = new Uint32Array(16);
  sizes = new Uint32Array(16);
  maxTs = new Float64Array(16);
  /** the .index/.timeindex files no longer match */
  indexDirty = false;

  constructor(
    readonly baseOffset: number,
    /** path without extension */
    readonly stem: string,
    public fd: number,
    /** bytes of valid data */
    public size: number,
  ) {}

  push(base: number, lastDelta: number, position: number, size: number, maxTs: number): void {
    const i = this.count;
    if (i === this.bases.length) this.grow();
    this.bases[i] = base;
    this.lastDeltas[i] = lastDelta;
    this.positions[i] = position;
    this.sizes[i] = size;
    this.maxTs[i] = maxTs;
    this.count = i + 1;
  }

  private grow(): void {
    const n = this.bases.length * 2;
    const g = <T extends Float64Array | Int32Array | Uint32Array>(a: T, b: T): T => (b.set(a), b);
    this.bases = g(this.bases, new Float64Array(n));
    this.lastDeltas = g(this.lastDeltas, new Int32Array(n));
    this.positions = g(this.positions, new Uint32Array(n));
    this.sizes = g(this.sizes, new Uint32Array(n));
    this.maxTs = g(this.maxTs, new Float64Array(n));
  }

  lastOffset(i: number): number {
    return this.bases[i]! + this.lastDeltas[i]!;
  }

  /** Index of the batch containing `offset`, else of the first batch after it (count if none). */
  find(offset: number): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.bases[mid]! <= offset) lo = mid + 1;
      else hi = mid - 1;
    }
    // hi: the last batch starting at or before offset
    if (hi >= 0 && this.lastOffset(hi) >= offset) return hi;
    return hi + 1;
  }
}

export class PartitionLog {
  private nextOffset: number;
  private maxTsSeg: Segment | null = null;
  private maxTsIdx = -1;
  /** segments written to since the last flush */
  private unflushed = new Set<Segment>();
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly segments: Segment[],
    private readonly segmentBytes: number,
    private readonly indexIntervalBytes: number,
  ) {
    const last = segments[segments.length - 1]!;
    this.nextOffset = last.count > 0 ? last.lastOffset(last.count - 1) + 1 : last.baseOffset;
    for (const s of segments) for (let i = 0; i < s.count; i++) this.trackMax(s, i);
  }

  /** Opens the log in `dir`, creating the directory, partition.metadata and a first empty segment when missing. */
  static open(dir: string, opts: PartitionLogOptions): PartitionLog {
    const warn = opts.warn ?? log.warn;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      mkdirSync(dir, { recursive: true });
      names = [];
    }
    if (opts.topicId) {
      const onDisk = opts.topicIdOnDisk !== undefined ? opts.topicIdOnDisk : readPartitionMetadata(dir);
      if (onDisk === null) writePartitionMetadata(dir, opts.topicId);
      else if (!uuidEquals(onDisk, opts.topicId)) throw new Error(`${dir}: partition.metadata has topic id ${uuidToBase64(onDisk)}, expected ${uuidToBase64(opts.topicId)}`);
    }
    const bases = names
      .map((n) => /^(\d{20})\.log$/.exec(n))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const segments: Segment[] = [];
    if (bases.length === 0) segments.push(createSegment(dir, 0));
    let expect = 0;
    for (let i = 0; i < bases.length; i++) {
      const stem = join(dir, segmentName(bases[i]!));
      const fd = openSync(stem + ".log", "r+");
      const seg = new Segment(bases[i]!, stem, fd, 0);
      segments.push(seg);
      const error = scanSegment(seg, fstatSync(fd).size, Math.max(expect, seg.baseOffset), i === bases.length - 1);
      if (error) {
        warn(`${stem}.log: ${error}; truncated to ${seg.size} bytes`);
        ftruncateSync(fd, seg.size);
        seg.indexDirty = true;
      }
      if (seg.count > 0) expect = seg.lastOffset(seg.count - 1) + 1;
    }
    return new PartitionLog(dir, segments, opts.segmentBytes, opts.indexIntervalBytes ?? DEFAULT_INDEX_INTERVAL_BYTES);
  }

  get logStartOffset(): number {
    const s = this.segments[0]!;
    return s.count > 0 ? s.bases[0]! : s.baseOffset;
  }

  get logEndOffset(): number {
    return this.nextOffset;
  }

  /** Base offsets of the segments, oldest first, and whether the newest holds data (ListOffsets v0). */
  segmentBases(): { bases: number[]; lastHasData: boolean } {
    return { bases: this.segments.map((s) => Math.max(s.baseOffset, this.logStartOffset)), lastHasData: this.active.size > 0 };
  }

  /** Single node: everything appended is committed. */
  get highWatermark(): number {
    return this.nextOffset;
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  /**
   * Appends batches already validated by the caller (validateBatches over
   * `buf`): assigns offsets from logEndOffset by rewriting each baseOffset in
   * place, then writes `buf` with one synchronous write, so the bytes are in
   * the page cache before the producer hears back.
   */
  append(buf: Uint8Array, batches: BatchInfo[]): { baseOffset: number } {
    if (this.closed) throw new Error(`${this.dir}: log is closed`);
    const baseOffset = this.nextOffset;
    if (batches.length === 0) return { baseOffset };
    let seg = this.active;
    if (seg.size > 0 && seg.size + buf.length > this.segmentBytes) seg = this.roll();

    let next = baseOffset;
    for (const b of batches) {
      setBaseOffset(buf, b.position, next);
      next += b.lastOffsetDelta + 1;
    }
    let done = 0;
    try {
      while (done < buf.length) done += writeSync(seg.fd, buf, done, buf.length - done, seg.size + done);
    } catch (e) {
      ftruncateSync(seg.fd, seg.size); // no half-written batches left behind
      throw e;
    }
    // max timestamps are read from the bytes: the caller may have set LogAppendTime after validating
    let off = baseOffset;
    for (const b of batches) {
      seg.push(off, b.lastOffsetDelta, seg.size + b.position, b.size, int64At(buf, b.position + OFF_MAX_TIMESTAMP));
      this.trackMax(seg, seg.count - 1);
      off += b.lastOffsetDelta + 1;
    }
    seg.size += buf.length;
    seg.indexDirty = true;
    this.unflushed.add(seg);
    this.nextOffset = next;
    return { baseOffset };
  }

  private trackMax(seg: Segment, i: number): void {
    if (this.maxTsSeg === null || seg.maxTs[i]! > this.maxTsSeg.maxTs[this.maxTsIdx]!) {
      this.maxTsSeg = seg;
      this.maxTsIdx = i;
    }
  }

  private roll(): Segment {
    const old = this.active;
    writeIndexes(old, this.indexIntervalBytes);
    const seg = createSegment(this.dir, this.nextOffset);
    this.segments.push(seg);
    return seg;
  }

  /**
   * Whole batches from the one containing `offset`: at least one batch when
   * any exists at or after it, then as many as fit in `maxBytes`. Batches
   * adjacent in one segment share a slice. Empty at the log end.
   */
  read(offset: number, maxBytes: number): FileSlice[] {
    const out: FileSlice[] = [];
    if (offset >= this.nextOffset) return out;
    const segs = this.segments;
    let si = segs.length - 1;
    while (si > 0 && segs[si]!.baseOffset > offset) si--;
    let i = segs[si]!.find(offset);
    let total = 0;
    for (; si < segs.length; si++, i = 0) {
      const seg = segs[si]!;
      let start = -1;
      let end = 0;
      for (; i < seg.count; i++) {
        const size = seg.sizes[i]!;
        if (total > 0 && total + size > maxBytes) break;
        if (start < 0) start = seg.positions[i]!;
        end = seg.positions[i]! + size;
        total += size;
      }
      if (start >= 0) out.push({ fd: seg.fd, position: start, size: end - start });
      if (i < seg.count) break; // stopped by maxBytes
    }
    return out;
  }

  /** ListOffsets by timestamp: the first offset whose record timestamp is >= ts, or null. */
  offsetForTimestamp(ts: number): TimestampOffset | null {
    for (const seg of this.segments) {
      for (let i = 0; i < seg.count; i++) {
        if (seg.maxTs[i]! >= ts) return this.findInBatch(seg, i, (t) => t >= ts);
      }
    }
    return null;
  }

  /** ListOffsets -3 (MAX_TIMESTAMP): the first record carrying the largest timestamp, or null when empty. */
  maxTimestampOffset(): TimestampOffset | null {
    const seg = this.maxTsSeg;
    if (seg === null) return null;
    const max = seg.maxTs[this.maxTsIdx]!;
    return this.findInBatch(seg, this.maxTsIdx, (t) => t === max);
  }

  /** Decodes one batch to find the first record matching; compressed batches answer with their base offset. */
  private findInBatch(seg: Segment, i: number, match: (timestamp: number) => boolean): TimestampOffset {
    const base = seg.bases[i]!;
    const fallback = { offset: base, timestamp: seg.maxTs[i]! };
    const buf = new Uint8Array(seg.sizes[i]!);
    if (readSync(seg.fd, buf, 0, buf.length, seg.positions[i]!) !== buf.length) return fallback;
    const attributes = new DataView(buf.buffer).getInt16(OFF_ATTRIBUTES);
    // LogAppendTime: every record carries the batch's max timestamp
    if (attributes & ATTR_TIMESTAMP_TYPE || attributes & ATTR_COMPRESSION_MASK) return fallback;
    try {
      const baseTs = batchBaseTimestamp(buf);
      for (const r of decodeRecords(buf)) {
        const t = baseTs + r.timestampDelta;
        if (match(t)) return { offset: base + r.offsetDelta, timestamp: t };
      }
    } catch {
      // a batch that does not decode still has a usable header
    }
    return fallback;
  }

  /** fsyncs what was appended since the last flush. */
  flush(): void {
    for (const seg of this.unflushed) fsyncSync(seg.fd);
    this.unflushed.clear();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const seg of this.segments) {
      if (seg.indexDirty) writeIndexes(seg, this.indexIntervalBytes);
      closeSync(seg.fd);
    }
  }
}

/** A new empty segment: .log plus empty .index and .timeindex, so Kafka's tools see a normal segment. */
function createSegment(dir: string, baseOffset: number): Segment {
  const stem = join(dir, segmentName(baseOffset));
  const fd = openSync(stem + ".log", "w+");
  writeFileSync(stem + ".index", new Uint8Array(0));
  writeFileSync(stem + ".timeindex", new Uint8Array(0));
  return new Segment(baseOffset, stem, fd, 0);
}

/**
 * Fills `seg`'s batch index from its file, reading in large chunks and
 * looking at headers only. Returns why it stopped early (seg.size is then
 * where valid data ends), or null.
 */
function scanSegment(seg: Segment, fileSize: number, firstOffset: number, verifyTailCrc: boolean): string | null {
  const buf = new Uint8Array(Math.max(BATCH_HEADER_SIZE, Math.min(SCAN_CHUNK, fileSize)));
  const v = new DataView(buf.buffer);
  let bufStart = 0;
  let bufLen = 0;
  let pos = 0;
  let expect = firstOffset;
  let error: string | null = null;
  while (pos < fileSize) {
    if (fileSize - pos < BATCH_HEADER_SIZE) {
      error = `torn batch header at ${pos}`;
      break;
    }
    if (pos + BATCH_HEADER_SIZE > bufStart + bufLen) {
      bufStart = pos;
      bufLen = readSync(seg.fd, buf, 0, Math.min(buf.length, fileSize - pos), pos);
      if (bufLen < BATCH_HEADER_SIZE) {
        error = `short read at ${pos}`;
        break;
      }
    }
    const p = pos - bufStart;
    const size = v.getInt32(p + OFF_LENGTH) + BATCH_OVERHEAD;
    const base = int64(v, p + OFF_BASE_OFFSET);
    const lastDelta = v.getInt32(p + OFF_LAST_OFFSET_DELTA);
    if (size < BATCH_HEADER_SIZE || pos + size > fileSize) {
      error = `torn batch at ${pos} (${size} bytes, ${fileSize - pos} left)`;
      break;
    }
    if (v.getInt8(p + OFF_MAGIC) !== 2) {
      error = `magic ${v.getInt8(p + OFF_MAGIC)} at ${pos}`;
      break;
    }
    if (base < expect || lastDelta < 0) {
      error = `batch at ${pos} has offset ${base}, expected at least ${expect}`;
      break;
    }
    seg.push(base, lastDelta, pos, size, int64(v, p + OFF_MAX_TIMESTAMP));
    expect = base + lastDelta + 1;
    pos += size;
  }
  seg.size = pos;
  if (verifyTailCrc && seg.count > 0) {
    const i = seg.count - 1;
    const at = seg.positions[i]!;
    const size = seg.sizes[i]!;
    // the last batch is usually still in the scan buffer: no second read
    let tail: Uint8Array;
    if (at >= bufStart && at + size <= bufStart + bufLen) {
      tail = buf.subarray(at - bufStart, at - bufStart + size);
    } else {
      tail = new Uint8Array(size);
      readSync(seg.fd, tail, 0, size, at);
    }
    if (crc32c(tail, OFF_ATTRIBUTES) !== uint32At(tail, OFF_CRC)) {
      seg.count = i;
      seg.size = seg.positions[i]!;
      error = `crc mismatch in the last batch at ${seg.size}` + (error ? ` (after: ${error})` : "");
    }
  }
  return error;
}

/**
 * Writes Kafka's sparse indexes for a segment from the in-memory batch index,
 * as LogSegment.append would have: an entry whenever more than
 * indexIntervalBytes were appended since the last one.
 *   .index      relativeOffset int32 (batch's last offset) | position int32
 *   .timeindex  timestamp int64 (max so far) | relativeOffset int32
 */
function writeIndexes(seg: Segment, intervalBytes: number): void {
  const n = seg.count;
  const idx = new DataView(new ArrayBuffer(n * 8));
  const tidx = new DataView(new ArrayBuffer((n + 1) * 12));
  let ie = 0;
  let te = 0;
  let since = 0;
  let maxSoFar = -1;
  let offsetOfMax = -1;
  let lastEntryTs = -1;
  const timeEntry = () => {
    tidx.setInt32(te * 12, Math.floor(maxSoFar / 4294967296));
    tidx.setUint32(te * 12 + 4, maxSoFar % 4294967296);
    tidx.setInt32(te * 12 + 8, offsetOfMax - seg.baseOffset);
    te++;
    lastEntryTs = maxSoFar;
  };
  for (let i = 0; i < n; i++) {
    const last = seg.lastOffset(i);
    if (seg.maxTs[i]! > maxSoFar) {
      maxSoFar = seg.maxTs[i]!;
      offsetOfMax = last;
    }
    if (since > intervalBytes) {
      idx.setInt32(ie * 8, last - seg.baseOffset);
      idx.setInt32(ie * 8 + 4, seg.positions[i]!);
      ie++;
      if (maxSoFar > lastEntryTs) timeEntry();
      since = 0;
    }
    since += seg.sizes[i]!;
  }
  // as LogSegment.onBecomeInactiveSegment/close: a last time entry for the segment's max
  if (maxSoFar > lastEntryTs) timeEntry();
  writeFileSync(seg.stem + ".index", new Uint8Array(idx.buffer, 0, ie * 8));
  writeFileSync(seg.stem + ".timeindex", new Uint8Array(tidx.buffer, 0, te * 12));
  seg.indexDirty = false;
}
