// One segment of a log: <20-digit base offset>.log, the in-memory index of its
// batches, and the descriptor its bytes are read through.
//
// The descriptor is reference-counted (SegmentFile): the log holds one
// reference, every records source handed to a response holds another. Closing
// or deleting a segment only drops the log's reference; the descriptor is
// closed when the last one goes. So a response that waits to be encoded still
// reads its own segment's bytes (the kernel keeps an unlinked file's data while
// it is open), and never another file's through a reused descriptor number.

import { closeSync, openSync, readSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RecordsSource } from "../protocol/writer.ts";
import {
  ATTR_CONTROL,
  ATTR_TRANSACTIONAL,
  BATCH_HEADER_SIZE,
  BATCH_OVERHEAD,
  OFF_ATTRIBUTES,
  OFF_BASE_OFFSET,
  OFF_BASE_SEQUENCE,
  OFF_CRC,
  OFF_LAST_OFFSET_DELTA,
  OFF_LEADER_EPOCH,
  OFF_LENGTH,
  OFF_MAGIC,
  OFF_MAX_TIMESTAMP,
  OFF_PRODUCER_EPOCH,
  OFF_PRODUCER_ID,
  uint32At,
} from "../records/batch.ts";
import { crc32c } from "../records/crc32c.ts";

const SCAN_CHUNK = 1 << 20;

export function segmentName(baseOffset: number): string {
  return String(baseOffset).padStart(20, "0");
}

/** A segment's open descriptor, shared by its log and the responses reading it. */
export class SegmentFile {
  private refs = 1;

  constructor(
    readonly fd: number,
    /** runs once, after the descriptor is closed */
    private readonly onClosed: () => void = () => {},
  ) {}

  get isOpen(): boolean {
    return this.refs > 0;
  }

  retain(): void {
    if (this.refs <= 0) throw new Error(`segment descriptor ${this.fd} is already closed`);
    this.refs++;
  }

  release(): void {
    if (this.refs <= 0) return;
    if (--this.refs > 0) return;
    closeSync(this.fd);
    this.onClosed();
  }
}

/**
 * Whole batches of one segment, [position, position + size), for a response.
 * Holds a reference to the segment's file from creation until release().
 */
export class SegmentRecords implements RecordsSource {
  private file: SegmentFile | null;

  constructor(
    file: SegmentFile,
    readonly position: number,
    readonly size: number,
  ) {
    file.retain();
    this.file = file;
  }

  /** Reads the bytes straight into `dst` (no intermediate copy). */
  writeTo(dst: Uint8Array, at: number): number {
    const f = this.file;
    if (f === null) throw new Error("segment records read after release");
    let done = 0;
    while (done < this.size) {
      const n = readSync(f.fd, dst, at + done, this.size - done, this.position + done);
      if (n <= 0) throw new Error(`segment read ended ${this.size - done} bytes short`);
      done += n;
    }
    return done;
  }

  /** Lets go of the segment file; safe to call more than once. */
  release(): void {
    const f = this.file;
    this.file = null;
    f?.release();
  }
}

/** Releases every source of a response. */
export function releaseAll(sources: readonly SegmentRecords[]): void {
  for (const s of sources) s.release();
}

/**
 * The header fields of one batch, as a log's scan meets it. The objects are
 * reused from batch to batch: read them inside the callback, do not keep them.
 */
export interface BatchHeader {
  baseOffset: number;
  lastOffsetDelta: number;
  partitionLeaderEpoch: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  isTransactional: boolean;
  isControl: boolean;
  maxTimestamp: number;
}

export type BatchHeaderListener = (batch: BatchHeader) => void;

/** One segment file and the index of its batches, as parallel typed arrays growing by doubling. */
export class Segment {
  count = 0;
  bases = new Float64Array(16);
  lastDeltas = new Int32Array(16);
  positions = new Uint32Array(16);
  sizes = new Uint32Array(16);
  maxTs = new Float64Array(16);
  /** the .index/.timeindex files no longer match */
  indexDirty = false;
  /** removed from its log (retention): files renamed *.deleted until the last reader lets go */
  deleted = false;

  constructor(
    readonly baseOffset: number,
    /** path without extension */
    readonly stem: string,
    readonly file: SegmentFile,
    /** bytes of valid data */
    public size: number,
  ) {}

  get fd(): number {
    return this.file.fd;
  }

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

  /** The offset after the segment's last batch, or its base offset when empty. */
  get nextOffset(): number {
    return this.count > 0 ? this.lastOffset(this.count - 1) + 1 : this.baseOffset;
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

/** A new empty segment: .log plus empty .index and .timeindex, so Kafka's tools see a normal segment. */
export function createSegment(dir: string, baseOffset: number, onClosed: () => void): Segment {
  const stem = join(dir, segmentName(baseOffset));
  const fd = openSync(stem + ".log", "w+");
  writeFileSync(stem + ".index", new Uint8Array(0));
  writeFileSync(stem + ".timeindex", new Uint8Array(0));
  return new Segment(baseOffset, stem, new SegmentFile(fd, onClosed), 0);
}

function int64(v: DataView, p: number): number {
  return v.getInt32(p) * 4294967296 + v.getUint32(p + 4);
}

/** Which batches a scan checks the CRC of: the last one (where a crash tears writes), or all. */
export type CrcCheck = "tail" | "all";

/**
 * Fills `seg`'s batch index from its file, reading in large chunks and
 * looking at headers only (whole batches when every CRC is checked). Each
 * batch's header goes to `onBatch`. Returns why it stopped early (seg.size is
 * then where valid data ends), or null.
 */
export function scanSegment(seg: Segment, fileSize: number, firstOffset: number, crc: CrcCheck | null, onBatch: BatchHeaderListener | null): string | null {
  const fd = seg.fd;
  // a batch's header goes out once the next one checks out (or, for the last, its CRC):
  // two header objects take turns, so the listener never hears of a batch that is then dropped
  let pending: BatchHeader | null = null;
  let spare: BatchHeader | null = onBatch ? newHeader() : null;
  let other: BatchHeader | null = onBatch ? newHeader() : null;
  let buf = new Uint8Array(Math.max(BATCH_HEADER_SIZE, Math.min(SCAN_CHUNK, fileSize)));
  let v = new DataView(buf.buffer);
  let bufStart = 0;
  let bufLen = 0;
  let pos = 0;
  let expect = firstOffset;
  let error: string | null = null;
  const fill = (need: number): boolean => {
    if (need > buf.length) {
      buf = new Uint8Array(need);
      v = new DataView(buf.buffer);
    }
    bufStart = pos;
    bufLen = readSync(fd, buf, 0, Math.min(buf.length, fileSize - pos), pos);
    return bufLen >= need;
  };
  while (pos < fileSize) {
    if (fileSize - pos < BATCH_HEADER_SIZE) {
      error = `torn batch header at ${pos}`;
      break;
    }
    if (pos + BATCH_HEADER_SIZE > bufStart + bufLen && !fill(BATCH_HEADER_SIZE)) {
      error = `short read at ${pos}`;
      break;
    }
    let p = pos - bufStart;
    const size = v.getInt32(p + OFF_LENGTH) + BATCH_OVERHEAD;
    if (size < BATCH_HEADER_SIZE || pos + size > fileSize) {
      error = `torn batch at ${pos} (${size} bytes, ${fileSize - pos} left)`;
      break;
    }
    if (v.getInt8(p + OFF_MAGIC) !== 2) {
      error = `magic ${v.getInt8(p + OFF_MAGIC)} at ${pos}`;
      break;
    }
    const base = int64(v, p + OFF_BASE_OFFSET);
    const lastDelta = v.getInt32(p + OFF_LAST_OFFSET_DELTA);
    if (base < expect || lastDelta < 0) {
      error = `batch at ${pos} has offset ${base}, expected at least ${expect}`;
      break;
    }
    if (crc === "all") {
      if (pos + size > bufStart + bufLen && !fill(size)) {
        error = `short read at ${pos}`;
        break;
      }
      p = pos - bufStart;
      if (crc32c(buf, p + OFF_ATTRIBUTES, p + size) !== v.getUint32(p + OFF_CRC)) {
        error = `crc mismatch at ${pos}`;
        break;
      }
    }
    const maxTs = int64(v, p + OFF_MAX_TIMESTAMP);
    seg.push(base, lastDelta, pos, size, maxTs);
    if (onBatch !== null) {
      if (pending !== null) onBatch(pending);
      const header = spare!;
      spare = other;
      other = header;
      pending = header;
      const attributes = v.getInt16(p + OFF_ATTRIBUTES);
      header.baseOffset = base;
      header.lastOffsetDelta = lastDelta;
      header.partitionLeaderEpoch = v.getInt32(p + OFF_LEADER_EPOCH);
      header.producerId = int64(v, p + OFF_PRODUCER_ID);
      header.producerEpoch = v.getInt16(p + OFF_PRODUCER_EPOCH);
      header.baseSequence = v.getInt32(p + OFF_BASE_SEQUENCE);
      header.isTransactional = (attributes & ATTR_TRANSACTIONAL) !== 0;
      header.isControl = (attributes & ATTR_CONTROL) !== 0;
      header.maxTimestamp = maxTs;
    }
    expect = base + lastDelta + 1;
    pos += size;
  }
  seg.size = pos;
  if (crc === "tail" && seg.count > 0) {
    const i = seg.count - 1;
    const at = seg.positions[i]!;
    const size = seg.sizes[i]!;
    // the last batch is usually still in the scan buffer: no second read
    let tail: Uint8Array;
    if (at >= bufStart && at + size <= bufStart + bufLen) {
      tail = buf.subarray(at - bufStart, at - bufStart + size);
    } else {
      tail = new Uint8Array(size);
      readSync(fd, tail, 0, size, at);
    }
    if (crc32c(tail, OFF_ATTRIBUTES) !== uint32At(tail, OFF_CRC)) {
      seg.count = i;
      seg.size = seg.positions[i]!;
      error = `crc mismatch in the last batch at ${seg.size}` + (error ? ` (after: ${error})` : "");
      pending = null;
    }
  }
  if (pending !== null) onBatch!(pending);
  return error;
}

function newHeader(): BatchHeader {
  return { baseOffset: 0, lastOffsetDelta: 0, partitionLeaderEpoch: 0, producerId: -1, producerEpoch: -1, baseSequence: -1, isTransactional: false, isControl: false, maxTimestamp: -1 };
}

/**
 * Writes Kafka's sparse indexes for a segment from the in-memory batch index,
 * as LogSegment.append would have: an entry whenever more than
 * indexIntervalBytes were appended since the last one.
 *   .index      relativeOffset int32 (batch's last offset) | position int32
 *   .timeindex  timestamp int64 (max so far) | relativeOffset int32
 */
export function writeIndexes(seg: Segment, intervalBytes: number): void {
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
