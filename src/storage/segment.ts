// One segment of a log: <20-digit base offset>.log with Kafka's sparse
// indexes beside it, and the descriptor its bytes are read through.
//
//   .index      relativeOffset int32 (a batch's last offset) | position int32 (the batch's start)
//   .timeindex  timestamp int64 (largest so far) | relativeOffset int32 (last offset of the batch that first reached it)
//
// As Kafka's LogSegment: an entry goes in whenever more than
// index.interval.bytes were appended since the last one, so the indexes are
// current while the segment is active; the active segment's index files are
// preallocated to segment.index.bytes and trimmed to their entries when it
// rolls or the log closes. The entries stay on disk and are read with pread
// (binary search), so what a segment holds in memory does not grow with its
// batches: a few numbers, plus, for the active segment, a short ring of the
// latest batches so a consumer at the tail finds its place without a syscall.
// A lookup is the index entry at or below the target, then a scan of batch
// headers from there (at most about index.interval.bytes plus one batch).
//
// The descriptor is reference-counted (SegmentFile): the log holds one
// reference, every records source handed to a response holds another. Closing
// or deleting a segment only drops the log's reference; the descriptor is
// closed when the last one goes. So a response that waits to be encoded still
// reads its own segment's bytes (the kernel keeps an unlinked file's data while
// it is open), and never another file's through a reused descriptor number.

import { closeSync, constants as fsConstants, ftruncateSync, openSync, readSync, statSync, writeSync } from "node:fs";
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
} from "../records/batch.ts";
import { crc32c } from "../records/crc32c.ts";

/** the scans read this much at a time */
const SCAN_CHUNK = 16 * 1024;
const RECOVERY_CHUNK = 1 << 20;
/** latest batches of the active segment kept in memory */
const RING_SIZE = 64;
/** index entries per page: lookups read one page */
const PAGE_ENTRIES = 128;
export const OFFSET_ENTRY_SIZE = 8;
export const TIME_ENTRY_SIZE = 12;
/** Kafka's segment.index.bytes default */
export const DEFAULT_INDEX_MAX_BYTES = 10 * 1024 * 1024;
const INT32_MAX = 2147483647;

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

/** Where one batch is: its offsets, its bytes in the segment, its max timestamp. */
export interface BatchPosition {
  baseOffset: number;
  lastOffset: number;
  position: number;
  size: number;
  maxTimestamp: number;
}

function int64(v: DataView, p: number): number {
  return v.getInt32(p) * 4294967296 + v.getUint32(p + 4);
}

function readFully(fd: number, buf: Uint8Array, len: number, position: number): number {
  let done = 0;
  while (done < len) {
    const n = readSync(fd, buf, done, len - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}

/**
 * One of a segment's two index files. Entries are read with pread, the last
 * one is kept in memory; the file is opened when first needed (a closed
 * segment's indexes are read rarely) and written only while the segment is
 * active.
 */
abstract class IndexFile {
  entries = 0;
  protected fd: number | null = null;
  protected writable = false;
  /** entries the (preallocated) file has room for */
  maxEntries = 0;
  protected readonly scratch = new Uint8Array(12);
  protected readonly sv = new DataView(this.scratch.buffer);
  /** per key kind, the key of each page's first entry (built as pages are first searched) */
  private readonly sums: Float64Array[] = [];
  private readonly sumPages: number[] = [];
  /** the page of entries read last (a consumer reading on asks for the same page again) */
  private page: Uint8Array | null = null;
  private pv: DataView | null = null;
  private pageNo = -1;
  private pageCount = 0;

  constructor(
    readonly path: string,
    readonly baseOffset: number,
    readonly entrySize: number,
  ) {}

  /** Key `kind` of the entry at byte `at` of `v`. */
  protected abstract key(v: DataView, at: number, kind: number): number;

  /** Forgets what was read of the file (it was rewritten or cut). */
  forget(): void {
    this.sums.length = 0;
    this.sumPages.length = 0;
    this.pageNo = -1;
  }

  /**
   * The last entry whose key `kind` is <= target: its byte offset in the
   * loaded page (read the entry through pageView()), or -1 when none is. An
   * in-memory summary (one key per page of PAGE_ENTRIES entries) picks the
   * page, one pread loads it: lookups cost one read whatever the index size.
   */
  protected findLast(target: number, kind: number): number {
    const n = this.entries;
    if (n === 0) return -1;
    const pages = Math.ceil(n / PAGE_ENTRIES);
    const sum = this.summary(kind, pages);
    let lo = 0;
    let hi = pages - 1;
    let p = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (sum[mid]! <= target) {
        p = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (p < 0) return -1;
    const v = this.loadPage(p, Math.min(PAGE_ENTRIES, n - p * PAGE_ENTRIES));
    const es = this.entrySize;
    lo = 0;
    hi = this.pageCount - 1;
    let f = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.key(v, mid * es, kind) <= target) {
        f = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return f * es;
  }

  protected pageView(): DataView {
    return this.pv!;
  }

  private summary(kind: number, pages: number): Float64Array {
    let sum = this.sums[kind];
    let have = this.sumPages[kind] ?? 0;
    if (sum === undefined || sum.length < pages) {
      const grown = new Float64Array(Math.max(16, pages * 2));
      if (sum !== undefined) grown.set(sum.subarray(0, have));
      sum = this.sums[kind] = grown;
    }
    for (; have < pages; have++) {
      this.read(have * PAGE_ENTRIES);
      sum[have] = this.key(this.sv, 0, kind);
    }
    this.sumPages[kind] = have;
    return sum;
  }

  private loadPage(p: number, count: number): DataView {
    if (this.pageNo === p && this.pageCount === count) return this.pv!;
    if (this.page === null) {
      this.page = new Uint8Array(PAGE_ENTRIES * this.entrySize);
      this.pv = new DataView(this.page.buffer);
    }
    const len = count * this.entrySize;
    if (readFully(this.descriptor(), this.page, len, p * PAGE_ENTRIES * this.entrySize) !== len) throw new Error(`${this.path}: page ${p} unreadable`);
    this.pageNo = p;
    this.pageCount = count;
    return this.pv!;
  }

  protected descriptor(): number {
    if (this.fd === null) this.fd = openSync(this.path, this.writable ? fsConstants.O_RDWR | fsConstants.O_CREAT : "r");
    return this.fd;
  }

  /** Reads entry i into the scratch buffer. */
  protected read(i: number): void {
    if (readFully(this.descriptor(), this.scratch, this.entrySize, i * this.entrySize) !== this.entrySize) throw new Error(`${this.path}: entry ${i} unreadable`);
  }

  protected write(): void {
    const fd = this.descriptor();
    const at = this.entries * this.entrySize;
    if (writeSync(fd, this.scratch, 0, this.entrySize, at) !== this.entrySize) throw new Error(`${this.path}: short write`);
    this.entries++;
  }

  get isFull(): boolean {
    return this.writable && this.entries >= this.maxEntries;
  }

  /** Makes the file writable with room for maxBytes of entries (preallocated, as Kafka's mmap'd indexes are). */
  activate(maxBytes: number): void {
    this.writable = true;
    this.close();
    this.maxEntries = Math.max(1, Math.floor(maxBytes / this.entrySize));
    ftruncateSync(this.descriptor(), Math.max(this.maxEntries, this.entries) * this.entrySize);
  }

  /** Cuts the file to its entries and stops writing (roll, close). */
  trim(): void {
    if (this.writable) {
      ftruncateSync(this.descriptor(), this.entries * this.entrySize);
      this.writable = false;
    }
    this.close();
  }

  /** Drops every entry (recovery rebuilds the index). */
  reset(): void {
    this.entries = 0;
    this.forget();
    if (this.fd !== null || this.writable) ftruncateSync(this.descriptor(), this.writable ? this.maxEntries * this.entrySize : 0);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** Its descriptor, opened if need be (to fsync it). */
  syncDescriptor(): number {
    return this.descriptor();
  }
}

/** .index: last offset of a batch -> the batch's position. */
export class OffsetIndex extends IndexFile {
  lastOffset: number;
  lastPosition = 0;

  constructor(path: string, baseOffset: number) {
    super(path, baseOffset, OFFSET_ENTRY_SIZE);
    this.lastOffset = baseOffset;
  }

  /** Takes the file as found (a trusted segment): its entry count and last entry. False when it is damaged. */
  load(fileSize: number, logSize: number): boolean {
    if (fileSize % OFFSET_ENTRY_SIZE !== 0) return false;
    this.forget();
    this.entries = fileSize / OFFSET_ENTRY_SIZE;
    if (this.entries === 0) return true;
    this.read(this.entries - 1);
    const rel = this.sv.getInt32(0);
    const pos = this.sv.getInt32(4);
    this.lastOffset = this.baseOffset + rel;
    this.lastPosition = pos;
    this.read(0);
    // as Kafka's sanityCheck, and the last entry must point inside the log; a zero
    // relative offset after the first entry is a preallocated tail never trimmed
    return rel >= 0 && pos >= 0 && pos < logSize && this.sv.getInt32(0) >= 0 && this.sv.getInt32(4) >= 0 && !(this.entries > 1 && rel === 0);
  }

  append(offset: number, position: number): void {
    this.sv.setInt32(0, offset - this.baseOffset);
    this.sv.setInt32(4, position);
    this.write();
    this.lastOffset = offset;
    this.lastPosition = position;
  }

  protected key(v: DataView, at: number, kind: number): number {
    return v.getInt32(at + kind * 4);
  }

  /** The position of the last entry whose offset is <= target (0 when none), as OffsetIndex.lookup. */
  lookup(target: number): number {
    if (this.entries === 0 || target < this.baseOffset) return 0;
    if (target >= this.lastOffset) return this.lastPosition;
    const at = this.findLast(target - this.baseOffset, 0);
    return at < 0 ? 0 : this.pageView().getInt32(at + 4);
  }

  /** The position of the last entry at or before `position` (0 when none). */
  lookupPosition(position: number): number {
    if (this.entries === 0) return 0;
    if (position >= this.lastPosition) return this.lastPosition;
    const at = this.findLast(position, 1);
    return at < 0 ? 0 : this.pageView().getInt32(at + 4);
  }
}

/** .timeindex: largest timestamp so far -> the offset where it was reached. */
export class TimeIndex extends IndexFile {
  lastTimestamp = -1;
  lastOffset: number;

  constructor(path: string, baseOffset: number) {
    super(path, baseOffset, TIME_ENTRY_SIZE);
    this.lastOffset = baseOffset;
  }

  load(fileSize: number): boolean {
    if (fileSize % TIME_ENTRY_SIZE !== 0) return false;
    this.forget();
    this.entries = fileSize / TIME_ENTRY_SIZE;
    if (this.entries === 0) return true;
    this.read(this.entries - 1);
    this.lastTimestamp = int64(this.sv, 0);
    const rel = this.sv.getInt32(8);
    this.lastOffset = this.baseOffset + rel;
    this.read(0);
    return rel >= 0 && this.sv.getInt32(8) >= 0 && int64(this.sv, 0) <= this.lastTimestamp && !(this.entries > 1 && rel === 0 && this.lastTimestamp === 0);
  }

  /** As TimeIndex.maybeAppend: only a larger timestamp makes an entry. */
  maybeAppend(timestamp: number, offset: number): void {
    if (this.entries > 0 && timestamp <= this.lastTimestamp) return;
    if (timestamp < 0) return;
    this.sv.setInt32(0, Math.floor(timestamp / 4294967296));
    this.sv.setUint32(4, timestamp % 4294967296);
    this.sv.setInt32(8, offset - this.baseOffset);
    this.write();
    this.lastTimestamp = timestamp;
    this.lastOffset = offset;
  }

  protected key(v: DataView, at: number): number {
    return int64(v, at);
  }

  /** The offset of the last entry whose timestamp is <= target (the base offset when none), as TimeIndex.lookup. */
  lookup(target: number): number {
    if (this.entries === 0) return this.baseOffset;
    if (target >= this.lastTimestamp) return this.lastOffset;
    const at = this.findLast(target, 0);
    return at < 0 ? this.baseOffset : this.baseOffset + this.pageView().getInt32(at + 8);
  }
}

/** The latest batches of the active segment, oldest first, in a ring. */
class RecentBatches {
  private readonly bases = new Float64Array(RING_SIZE);
  private readonly lasts = new Float64Array(RING_SIZE);
  private readonly positions = new Int32Array(RING_SIZE);
  private readonly sizes = new Int32Array(RING_SIZE);
  private readonly maxTs = new Float64Array(RING_SIZE);
  private head = 0; // next slot
  count = 0;

  push(base: number, last: number, position: number, size: number, maxTs: number): void {
    const i = this.head;
    this.bases[i] = base;
    this.lasts[i] = last;
    this.positions[i] = position;
    this.sizes[i] = size;
    this.maxTs[i] = maxTs;
    this.head = (i + 1) % RING_SIZE;
    if (this.count < RING_SIZE) this.count++;
  }

  private slot(k: number): number {
    return (this.head - this.count + k + RING_SIZE) % RING_SIZE;
  }

  get oldestBase(): number {
    return this.count > 0 ? this.bases[this.slot(0)]! : Infinity;
  }

  get oldestPosition(): number {
    return this.count > 0 ? this.positions[this.slot(0)]! : Infinity;
  }

  /** The batch holding `offset` or the first after it; null when offset is past the last or before the oldest. */
  find(offset: number, out: BatchPosition): boolean {
    if (this.count === 0 || offset < this.bases[this.slot(0)]!) return false;
    let lo = 0;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.lasts[this.slot(mid)]! >= offset) hi = mid;
      else lo = mid + 1;
    }
    const s = this.slot(lo);
    if (this.lasts[s]! < offset) return false;
    out.baseOffset = this.bases[s]!;
    out.lastOffset = this.lasts[s]!;
    out.position = this.positions[s]!;
    out.size = this.sizes[s]!;
    out.maxTimestamp = this.maxTs[s]!;
    return true;
  }

  /** The end of the last batch that ends at or before `limit`, or -1 when the ring does not reach that far back. */
  endAtOrBefore(limit: number): number {
    if (this.count === 0 || limit < this.positions[this.slot(0)]!) return -1;
    let lo = 0;
    let hi = this.count - 1;
    let end = this.positions[this.slot(0)]!;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.slot(mid);
      const e = this.positions[s]! + this.sizes[s]!;
      if (e <= limit) {
        end = e;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return end;
  }

  clear(): void {
    this.count = 0;
  }
}

/** Reads batch headers of a segment file through a chunk buffer. */
class HeaderReader {
  // one buffer for every reader (they are short-lived and used one after the
  // other on one thread); a reader whose turn was taken reads again
  private static shared = new Uint8Array(SCAN_CHUNK);
  private static sharedView = new DataView(HeaderReader.shared.buffer);
  private static turn = 0;
  private readonly buf = HeaderReader.shared;
  private readonly view = HeaderReader.sharedView;
  private readonly myTurn = ++HeaderReader.turn;
  private start = 0;
  private len = 0;

  constructor(
    private readonly fd: number,
    private readonly end: number,
  ) {}

  /**
   * The header at `pos` into `out` (offsets and size), false when the bytes
   * there are not a whole batch inside the segment.
   */
  at(pos: number, out: BatchPosition): boolean {
    if (pos + BATCH_HEADER_SIZE > this.end) return false;
    if (HeaderReader.turn !== this.myTurn) {
      HeaderReader.turn = this.myTurn;
      this.len = 0;
    }
    if (pos < this.start || pos + BATCH_HEADER_SIZE > this.start + this.len) {
      this.start = pos;
      this.len = readFully(this.fd, this.buf, Math.min(this.buf.length, this.end - pos), pos);
      if (this.len < BATCH_HEADER_SIZE) return false;
    }
    const p = pos - this.start;
    const v = this.view;
    const size = v.getInt32(p + OFF_LENGTH) + BATCH_OVERHEAD;
    // no magic check: finding a place needs lengths and offsets only, and a
    // batch damaged elsewhere must not hide the ones after it (recovery checks it)
    if (size < BATCH_HEADER_SIZE || pos + size > this.end) return false;
    const lastDelta = v.getInt32(p + OFF_LAST_OFFSET_DELTA);
    if (lastDelta < 0) return false;
    out.baseOffset = int64(v, p + OFF_BASE_OFFSET);
    out.lastOffset = out.baseOffset + lastDelta;
    out.position = pos;
    out.size = size;
    out.maxTimestamp = int64(v, p + OFF_MAX_TIMESTAMP);
    this.last = p;
    return true;
  }

  private last = 0;

  /** The producer fields of the header at() just read. */
  fillHeader(b: BatchPosition, h: BatchHeader): void {
    const v = this.view;
    const p = this.last;
    const attributes = v.getInt16(p + OFF_ATTRIBUTES);
    h.baseOffset = b.baseOffset;
    h.lastOffsetDelta = b.lastOffset - b.baseOffset;
    h.partitionLeaderEpoch = v.getInt32(p + OFF_LEADER_EPOCH);
    h.producerId = int64(v, p + OFF_PRODUCER_ID);
    h.producerEpoch = v.getInt16(p + OFF_PRODUCER_EPOCH);
    h.baseSequence = v.getInt32(p + OFF_BASE_SEQUENCE);
    h.isTransactional = (attributes & ATTR_TRANSACTIONAL) !== 0;
    h.isControl = (attributes & ATTR_CONTROL) !== 0;
    h.maxTimestamp = b.maxTimestamp;
  }
}

function newPosition(): BatchPosition {
  return { baseOffset: 0, lastOffset: 0, position: 0, size: 0, maxTimestamp: -1 };
}

/** One segment: its .log descriptor, its sparse indexes, and a few numbers about it. */
export class Segment {
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  /** removed from its log (retention): files renamed *.deleted until the last reader lets go */
  deleted = false;
  /** the offset after its last batch; -1 until first needed (closed segments opened on a clean start) */
  private next = -1;
  /** the largest timestamp of its batches and the last offset of the first batch carrying it (-1: none) */
  maxTimestamp = -1;
  offsetOfMaxTimestamp = -1;
  /** the first batch's max timestamp (Kafka's rollingBasedTimestamp), -2 until read */
  private firstBatchTimestamp = -2;
  /** when this process created or opened it (segment.ms without timestamps) */
  readonly created = Date.now();
  private bytesSinceLastIndexEntry = 0;
  private ring: RecentBatches | null = null;
  private readonly pos = newPosition();

  constructor(
    readonly baseOffset: number,
    /** path without extension */
    readonly stem: string,
    readonly file: SegmentFile,
    /** bytes of valid data */
    public size: number,
  ) {
    this.offsetIndex = new OffsetIndex(stem + ".index", baseOffset);
    this.timeIndex = new TimeIndex(stem + ".timeindex", baseOffset);
  }

  get fd(): number {
    return this.file.fd;
  }

  get isActive(): boolean {
    return this.ring !== null;
  }

  /** Makes this the segment appended to: index files preallocated and writable. */
  activate(indexMaxBytes: number): void {
    this.offsetIndex.activate(indexMaxBytes);
    this.timeIndex.activate(indexMaxBytes);
    this.ring ??= new RecentBatches();
  }

  /** No longer appended to (roll, close): the last time entry, then both indexes trimmed, as onBecomeInactiveSegment. */
  deactivate(): void {
    if (this.ring === null) return;
    if (this.maxTimestamp >= 0 && this.maxTimestamp > this.timeIndex.lastTimestamp) {
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
    }
    this.offsetIndex.trim();
    this.timeIndex.trim();
    this.ring = null;
  }

  /** Lets go of the index descriptors (the log's descriptor goes with file.release()). */
  closeIndexes(): void {
    this.offsetIndex.close();
    this.timeIndex.close();
  }

  /** The offset after the segment's last batch, or its base offset when empty. */
  get nextOffset(): number {
    if (this.next < 0) this.next = this.readNextOffset();
    return this.next;
  }

  /** As LogSegment.readNextOffset: the last batch found from the last index entry on. */
  private readNextOffset(): number {
    let next = this.baseOffset;
    const r = new HeaderReader(this.fd, this.size);
    const b = this.pos;
    for (let at = this.offsetIndex.lastPosition; r.at(at, b); at += b.size) next = b.lastOffset + 1;
    return next;
  }

  /** The first batch's base offset (the base offset when empty). */
  firstOffset(): number {
    const b = newPosition();
    return new HeaderReader(this.fd, this.size).at(0, b) ? b.baseOffset : this.baseOffset;
  }

  /** The batch holding `offset`, else the first after it, into `out`; false when none is in this segment. */
  locate(offset: number, out: BatchPosition): boolean {
    if (this.ring !== null && offset >= this.ring.oldestBase) {
      if (this.ring.find(offset, out)) return true;
      if (offset >= this.nextOffset) return false;
    }
    const r = new HeaderReader(this.fd, this.size);
    // bounded by the file: each step moves past a whole batch
    for (let at = this.offsetIndex.lookup(offset); r.at(at, out); at += out.size) if (out.lastOffset >= offset) return true;
    return false;
  }

  /** The end of the last whole batch ending at or before `limit`, starting from the batch boundary `from`. */
  batchEndAtOrBefore(from: number, limit: number): number {
    if (limit >= this.size) return this.size;
    if (this.ring !== null && from >= this.ring.oldestPosition) {
      const e = this.ring.endAtOrBefore(limit);
      if (e >= 0) return Math.max(from, e);
    }
    const r = new HeaderReader(this.fd, this.size);
    const b = this.pos;
    // the index entry is a batch boundary: what lies before it fits whatever follows
    let at = Math.max(from, this.offsetIndex.lookupPosition(limit));
    let end = at;
    for (; r.at(at, b) && at + b.size <= limit; at += b.size) end = at + b.size;
    return end;
  }

  /** Batches from `position` on, to `fn` until it returns false (header fields only). */
  forEachPosition(position: number, fn: (b: BatchPosition) => boolean): void {
    const r = new HeaderReader(this.fd, this.size);
    const b = newPosition();
    for (let at = position; r.at(at, b); at += b.size) if (!fn(b)) return;
  }

  /** Every batch header from the one holding `fromOffset` on, to onBatch (producer state of a trusted segment). */
  replay(fromOffset: number, onBatch: BatchHeaderListener): void {
    const r = new HeaderReader(this.fd, this.size);
    const b = newPosition();
    const h = newHeader();
    for (let at = this.offsetIndex.lookup(fromOffset); r.at(at, b); at += b.size) {
      if (b.lastOffset < fromOffset) continue;
      r.fillHeader(b, h);
      onBatch(h);
    }
  }

  /** As LogSegment.findOffsetByTimestamp: where the search for `ts` starts (time index, then offset index). */
  timestampSearchStart(ts: number, startingOffset: number): number {
    return this.offsetIndex.lookup(Math.max(this.timeIndex.lookup(ts), startingOffset));
  }

  /** segment.ms: Kafka's timeWaitedForRoll, by the first batch's timestamp when it has one. */
  timeWaitedForRoll(now: number, messageTimestamp: number): number {
    if (this.firstBatchTimestamp === -2) {
      const b = newPosition();
      this.firstBatchTimestamp = this.size > 0 && new HeaderReader(this.fd, this.size).at(0, b) ? b.maxTimestamp : -1;
    }
    return this.firstBatchTimestamp >= 0 ? messageTimestamp - this.firstBatchTimestamp : now - this.created;
  }

  /** An offset this segment's indexes cannot hold relative to its base (Kafka's canConvertToRelativeOffset). */
  canHold(offset: number): boolean {
    return offset - this.baseOffset <= INT32_MAX;
  }

  /** Records an appended batch (its bytes are written): indexes, max timestamp, ring. */
  appended(base: number, last: number, position: number, size: number, maxTs: number, indexIntervalBytes: number): void {
    if (position === 0) this.firstBatchTimestamp = maxTs;
    if (maxTs > this.maxTimestamp) {
      this.maxTimestamp = maxTs;
      this.offsetOfMaxTimestamp = last;
    }
    if (this.bytesSinceLastIndexEntry > indexIntervalBytes) {
      this.offsetIndex.append(last, position);
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += size;
    this.ring?.push(base, last, position, size, maxTs);
    this.next = last + 1;
  }

  /**
   * The active segment of a trusted log, after loadIndexes(false) and
   * activate(): the batches from the last index entry on are read into the
   * ring (next offset, max timestamp). False, so the caller recovers the
   * segment, unless they end exactly at the file's end, the first one is the
   * entry's batch and the last one's CRC matches: a clean start trusts the
   * rest, as Kafka does, but never appends after a torn or damaged tail.
   */
  adoptTail(): boolean {
    const r = new HeaderReader(this.fd, this.size);
    const b = this.pos;
    const from = this.offsetIndex.lastPosition;
    let next = this.baseOffset;
    let at = from;
    let lastAt = -1;
    let lastSize = 0;
    this.bytesSinceLastIndexEntry = 0;
    for (; r.at(at, b); at += b.size) {
      if (at === from && this.offsetIndex.entries > 0 && b.lastOffset !== this.offsetIndex.lastOffset) return false;
      next = b.lastOffset + 1;
      this.ring?.push(b.baseOffset, b.lastOffset, b.position, b.size, b.maxTimestamp);
      if (b.maxTimestamp > this.maxTimestamp) {
        this.maxTimestamp = b.maxTimestamp;
        this.offsetOfMaxTimestamp = b.lastOffset;
      }
      if (at > from || this.offsetIndex.entries === 0) this.bytesSinceLastIndexEntry += b.size;
      lastAt = at;
      lastSize = b.size;
    }
    if (at !== this.size) return false;
    this.next = next;
    if (lastAt < 0) return true;
    const batch = new Uint8Array(lastSize);
    if (readFully(this.fd, batch, lastSize, lastAt) !== lastSize) return false;
    const v = new DataView(batch.buffer);
    return v.getInt8(OFF_MAGIC) === 2 && crc32c(batch, OFF_ATTRIBUTES, lastSize) === v.getUint32(OFF_CRC);
  }

  /** After a rebuild stopped at a bad batch in a trusted segment: its bytes stay, up to the next segment's base. */
  keepAsIs(fileSize: number, nextBase: number): void {
    this.size = fileSize;
    this.next = nextBase;
  }

  /** Cuts the segment to `size` bytes (recovery): the caller rebuilds what the indexes said past it. */
  truncateTo(size: number): void {
    ftruncateSync(this.fd, size);
    this.size = size;
    this.next = -1;
    this.ring?.clear();
  }

  /**
   * Recovery, as LogSegment.recover: reads every batch from the start,
   * checking length, magic, offset order and (crc) each CRC-32C, rebuilds
   * both indexes and the max timestamp, and gives each good header to
   * onBatch. Stops at the first bad batch: returns why, with `size` left
   * where the valid bytes end (the caller truncates and quarantines), or null.
   */
  recover(fileSize: number, firstOffset: number, crc: boolean, indexIntervalBytes: number, onBatch: BatchHeaderListener | null): string | null {
    const fd = this.fd;
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.maxTimestamp = -1;
    this.offsetOfMaxTimestamp = -1;
    this.bytesSinceLastIndexEntry = 0;
    this.ring?.clear();
    // entries are collected, then written with one write per file
    const idx: number[] = [];
    const tidx: number[] = [];
    let lastTimeEntry = -1;
    let buf = new Uint8Array(Math.max(BATCH_HEADER_SIZE, Math.min(RECOVERY_CHUNK, fileSize)));
    let v = new DataView(buf.buffer);
    let bufStart = 0;
    let bufLen = 0;
    let pos = 0;
    let expect = firstOffset;
    let next = this.baseOffset;
    let lastEntry = 0;
    let error: string | null = null;
    const header = onBatch ? newHeader() : null;
    const fill = (need: number): boolean => {
      if (need > buf.length) {
        buf = new Uint8Array(need);
        v = new DataView(buf.buffer);
      }
      bufStart = pos;
      bufLen = readFully(fd, buf, Math.min(buf.length, fileSize - pos), pos);
      return bufLen >= need;
    };
    while (pos < fileSize) {
      if (fileSize - pos < BATCH_HEADER_SIZE) {
        error = `torn batch header at position ${pos}`;
        break;
      }
      if (pos + BATCH_HEADER_SIZE > bufStart + bufLen && !fill(BATCH_HEADER_SIZE)) {
        error = `short read at position ${pos}`;
        break;
      }
      let p = pos - bufStart;
      const size = v.getInt32(p + OFF_LENGTH) + BATCH_OVERHEAD;
      if (size < BATCH_HEADER_SIZE || pos + size > fileSize) {
        error = `torn batch at position ${pos} (${size} bytes, ${fileSize - pos} left)`;
        break;
      }
      if (v.getInt8(p + OFF_MAGIC) !== 2) {
        error = `magic ${v.getInt8(p + OFF_MAGIC)} at position ${pos}`;
        break;
      }
      const base = int64(v, p + OFF_BASE_OFFSET);
      const lastDelta = v.getInt32(p + OFF_LAST_OFFSET_DELTA);
      if (base < expect || lastDelta < 0 || !this.canHold(base + lastDelta)) {
        error = `batch at position ${pos} has offsets ${base}..${base + lastDelta}, expected from ${expect}`;
        break;
      }
      if (crc) {
        if (pos + size > bufStart + bufLen && !fill(size)) {
          error = `short read at position ${pos}`;
          break;
        }
        p = pos - bufStart;
        if (crc32c(buf, p + OFF_ATTRIBUTES, p + size) !== v.getUint32(p + OFF_CRC)) {
          error = `crc mismatch in the batch at offset ${base} (position ${pos})`;
          break;
        }
      }
      const last = base + lastDelta;
      const maxTs = int64(v, p + OFF_MAX_TIMESTAMP);
      if (maxTs > this.maxTimestamp) {
        this.maxTimestamp = maxTs;
        this.offsetOfMaxTimestamp = last;
      }
      if (pos - lastEntry > indexIntervalBytes) {
        idx.push(last - this.baseOffset, pos);
        if (this.maxTimestamp > lastTimeEntry) {
          tidx.push(this.maxTimestamp, this.offsetOfMaxTimestamp - this.baseOffset);
          lastTimeEntry = this.maxTimestamp;
        }
        lastEntry = pos;
      }
      if (header !== null) {
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
        onBatch!(header);
      }
      this.ring?.push(base, last, pos, size, maxTs);
      next = last + 1;
      expect = next;
      pos += size;
    }
    this.size = pos;
    this.next = next;
    this.bytesSinceLastIndexEntry = pos - lastEntry;
    // as recover(): the segment's max timestamp as the time index's last entry
    if (this.maxTimestamp > lastTimeEntry) tidx.push(this.maxTimestamp, this.offsetOfMaxTimestamp - this.baseOffset);
    this.writeEntries(idx, tidx);
    return error;
  }

  private writeEntries(idx: number[], tidx: number[]): void {
    const ib = new Uint8Array((idx.length / 2) * OFFSET_ENTRY_SIZE);
    const iv = new DataView(ib.buffer);
    for (let i = 0; i < idx.length; i += 2) {
      iv.setInt32(i * 4, idx[i]!);
      iv.setInt32(i * 4 + 4, idx[i + 1]!);
    }
    const tb = new Uint8Array((tidx.length / 2) * TIME_ENTRY_SIZE);
    const tv = new DataView(tb.buffer);
    for (let i = 0, o = 0; i < tidx.length; i += 2, o += TIME_ENTRY_SIZE) {
      tv.setInt32(o, Math.floor(tidx[i]! / 4294967296));
      tv.setUint32(o + 4, tidx[i]! % 4294967296);
      tv.setInt32(o + 8, tidx[i + 1]!);
    }
    for (const [file, bytes, n] of [
      [this.offsetIndex, ib, idx.length / 2],
      [this.timeIndex, tb, tidx.length / 2],
    ] as const) {
      file.close();
      const fd = openSync(file.path, "w");
      try {
        if (bytes.length > 0 && writeSync(fd, bytes, 0, bytes.length, 0) !== bytes.length) throw new Error(`${file.path}: short write`);
      } finally {
        closeSync(fd);
      }
      file.forget();
      file.entries = n;
    }
    if (idx.length > 0) {
      this.offsetIndex.lastOffset = this.baseOffset + idx[idx.length - 2]!;
      this.offsetIndex.lastPosition = idx[idx.length - 1]!;
    } else {
      this.offsetIndex.lastOffset = this.baseOffset;
      this.offsetIndex.lastPosition = 0;
    }
    if (tidx.length > 0) {
      this.timeIndex.lastTimestamp = tidx[tidx.length - 2]!;
      this.timeIndex.lastOffset = this.baseOffset + tidx[tidx.length - 1]!;
    } else {
      this.timeIndex.lastTimestamp = -1;
      this.timeIndex.lastOffset = this.baseOffset;
    }
  }

  /**
   * Loads the indexes of a segment trusted as it is (clean start, or below
   * the recovery point). False when they are missing or damaged (the caller
   * recovers the segment, rebuilding them).
   */
  loadIndexes(checkLastEntry = true): boolean {
    let is: number;
    let ts: number;
    try {
      is = statSync(this.offsetIndex.path).size;
      ts = statSync(this.timeIndex.path).size;
    } catch {
      return false;
    }
    try {
      if (!this.offsetIndex.load(is, this.size) || !this.timeIndex.load(ts)) return false;
      if (this.size === 0) return this.offsetIndex.entries === 0;
      // the last entry must name a batch that ends at the offset it says (adoptTail checks it for the active segment)
      const b = this.pos;
      if (checkLastEntry && !new HeaderReader(this.fd, this.size).at(this.offsetIndex.lastPosition, b)) return false;
      if (checkLastEntry && this.offsetIndex.entries > 0 && b.lastOffset !== this.offsetIndex.lastOffset) return false;
      if (this.timeIndex.entries > 0 && this.timeIndex.lastOffset < this.baseOffset) return false;
      // the time index's last entry is the segment's max (written when it closed)
      this.maxTimestamp = this.timeIndex.entries > 0 ? this.timeIndex.lastTimestamp : -1;
      this.offsetOfMaxTimestamp = this.timeIndex.entries > 0 ? this.timeIndex.lastOffset : -1;
      return true;
    } catch {
      return false;
    } finally {
      this.closeIndexes();
    }
  }

  /** The descriptors to fsync with the log's: both index files. */
  indexFds(): number[] {
    return [this.offsetIndex.syncDescriptor(), this.timeIndex.syncDescriptor()];
  }
}

function newHeader(): BatchHeader {
  return { baseOffset: 0, lastOffsetDelta: 0, partitionLeaderEpoch: 0, producerId: -1, producerEpoch: -1, baseSequence: -1, isTransactional: false, isControl: false, maxTimestamp: -1 };
}

/** A new empty segment: .log plus empty .index and .timeindex files. */
export function createSegment(dir: string, baseOffset: number, onClosed: () => void): Segment {
  const stem = join(dir, segmentName(baseOffset));
  const fd = openSync(stem + ".log", "w+");
  for (const ext of [".index", ".timeindex"]) closeSync(openSync(stem + ext, "w"));
  return new Segment(baseOffset, stem, new SegmentFile(fd, onClosed), 0);
}
