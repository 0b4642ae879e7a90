// One partition's log, <logdir>/<topic>-<n>/, in Kafka's on-disk layout:
//   <20-digit base offset>.log        record batches, back to back, as produced
//   <base>.index, <base>.timeindex    sparse offset and time indexes
//   partition.metadata                the topic id
//   (<offset>.snapshot, the producer state, is the partition's: partition.ts)
// The same code serves the KRaft metadata log (__cluster_metadata-0), which
// checks every CRC on open and fsyncs each append.
//
// Batches are never decoded on the hot path. Opening scans batch headers only
// (each goes to the caller's onBatch, so producer state can be rebuilt without
// a second scan; onSegment hears of each segment before its batches, onRoll
// of each roll, where the caller writes producer snapshots) and keeps a compact in-memory index of them, which is what
// reads use; the .index/.timeindex files are written from it when a segment
// rolls or the log closes, for Kafka's tools. The scan checks lengths, magic
// and offset order everywhere and the CRC of the last batch (where a crash
// tears writes); a bad batch truncates the log there, later segments are
// deleted, with one warning.
//
// Reads hand out SegmentRecords that hold their segment's file open (see
// segment.ts): deleting segments or the whole log never pulls bytes from
// under a response waiting to be encoded.

import { log } from "../log.ts";
import { fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ATTR_COMPRESSION_MASK, ATTR_TIMESTAMP_TYPE, OFF_ATTRIBUTES, OFF_MAX_TIMESTAMP, int64At, setBaseOffset, type BatchInfo } from "../records/batch.ts";
import { batchBaseTimestamp, decodeRecords } from "../records/record.ts";
import { readPartitionMetadata, writePartitionMetadata } from "../metadata/properties.ts";
import { randomUuid, uuidEquals, uuidHex, uuidToBase64 } from "../metadata/uuid.ts";
import { diskIo } from "./disk-io.ts";
import { createSegment, scanSegment, Segment, SegmentFile, SegmentRecords, segmentName, writeIndexes, type BatchHeaderListener, type CrcCheck } from "./segment.ts";

export { segmentName, type BatchHeader, type BatchHeaderListener } from "./segment.ts";

export const DEFAULT_INDEX_INTERVAL_BYTES = 4096;
/** replay reads runs of whole batches up to this size at a time */
const READ_CHUNK = 1 << 20;
const SEGMENT_FILE_RE = /^(\d{20})\.log$/;
const DELETED_SUFFIX = ".deleted";
const SEGMENT_EXTENSIONS = [".log", ".index", ".timeindex"];

export interface PartitionLogOptions {
  /** log.segment.bytes: roll before a segment would grow past this */
  segmentBytes: number;
  /** log.index.interval.bytes */
  indexIntervalBytes?: number;
  /** written to partition.metadata when missing; a different id there is an error */
  topicId?: Uint8Array;
  /** what partition.metadata holds, when the caller has read it already (null: none) */
  topicIdOnDisk?: Uint8Array | null;
  /** which CRCs the opening scan checks (default "tail") */
  verifyCrc?: CrcCheck;
  /** gets every batch header the opening scan keeps, in offset order */
  onBatch?: BatchHeaderListener;
  /** the opening scan is about to read the segment at this base offset (every batch before it went to onBatch) */
  onSegment?: (baseOffset: number) => void;
  /** a new segment at this base offset became the active one (append rolled) */
  onRoll?: (baseOffset: number) => void;
  /** the dir's file names, when the caller has listed it already */
  names?: string[];
  /**
   * The log starts no lower (a snapshot covers what is before): an empty log
   * starts here, and one that ends below it is emptied and starts here.
   */
  minStartOffset?: number;
  warn?: (message: string) => void;
}

export interface SegmentSummary {
  baseOffset: number;
  /** the offset after its last batch (its base offset when empty) */
  nextOffset: number;
  /** bytes of its .log file */
  size: number;
  /** the largest record timestamp in it, -1 when empty */
  largestTimestamp: number;
  /** its .log file */
  path: string;
}

export interface TimestampOffset {
  offset: number;
  timestamp: number;
}

/** `<topic>-<n>.<uuid hex>-delete`, the name Kafka gives a log dir it will remove (topic cut so the name fits 255 bytes). */
export function deleteDirName(dir: string): string {
  const name = basename(dir);
  const m = /^(.*)-(\d+)$/.exec(name);
  const suffix = `${uuidHex(randomUuid())}-delete`;
  if (!m) return join(dirname(dir), `${name}.${suffix}`);
  const topic = m[1]!.slice(0, Math.max(0, 255 - (suffix.length + 1 + m[2]!.length + 1)));
  return join(dirname(dir), `${topic}-${m[2]}.${suffix}`);
}

export class PartitionLog {
  private readonly segments: Segment[] = [];
  private nextOffset = 0;
  private maxTsSeg: Segment | null = null;
  private maxTsIdx = -1;
  /** segments written to since the last flush */
  private readonly unflushed = new Set<Segment>();
  private closed = false;
  /** segment descriptors not yet closed (the log's own and those responses still hold) */
  private openFiles = 0;
  /** set by delete(): the renamed dir, removed once every descriptor is closed */
  private deletedDir: string | null = null;
  private indexIntervalBytes: number;

  private constructor(
    /** where the log lives (the renamed dir after delete()) */
    public dir: string,
    private segmentBytes: number,
    indexIntervalBytes: number | undefined,
    private readonly warn: (message: string) => void,
    private readonly onRoll: ((baseOffset: number) => void) | null,
  ) {
    this.indexIntervalBytes = indexIntervalBytes ?? DEFAULT_INDEX_INTERVAL_BYTES;
  }

  /** A topic config changed: the next roll and index entries follow the new values. */
  reconfigure(segmentBytes: number, indexIntervalBytes: number): void {
    this.segmentBytes = segmentBytes;
    this.indexIntervalBytes = indexIntervalBytes;
  }

  /** Opens the log in `dir`, creating the directory, partition.metadata and a first empty segment when missing. */
  static open(dir: string, opts: PartitionLogOptions): PartitionLog {
    let names: string[];
    if (opts.names !== undefined) {
      names = opts.names;
      if (names.length === 0) mkdirSync(dir, { recursive: true });
    } else {
      try {
        names = readdirSync(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        mkdirSync(dir, { recursive: true });
        names = [];
      }
    }
    if (opts.topicId) {
      const onDisk = opts.topicIdOnDisk !== undefined ? opts.topicIdOnDisk : readPartitionMetadata(dir);
      if (onDisk === null) writePartitionMetadata(dir, opts.topicId);
      else if (!uuidEquals(onDisk, opts.topicId)) throw new Error(`${dir}: partition.metadata has topic id ${uuidToBase64(onDisk)}, expected ${uuidToBase64(opts.topicId)}`);
    }
    const l = new PartitionLog(dir, opts.segmentBytes, opts.indexIntervalBytes, opts.warn ?? log.warn, opts.onRoll ?? null);
    try {
      l.load(names, opts);
    } catch (e) {
      l.close();
      throw e;
    }
    return l;
  }

  private load(names: string[], opts: PartitionLogOptions): void {
    const crc = opts.verifyCrc ?? "tail";
    const bases: number[] = [];
    for (const n of names) {
      const m = SEGMENT_FILE_RE.exec(n);
      if (m) bases.push(Number(m[1]));
      // left by a delete that did not finish (a crash before the last reader let go)
      else if (n.endsWith(DELETED_SUFFIX)) unlinkQuietly(join(this.dir, n));
    }
    bases.sort((a, b) => a - b);
    let expect = 0;
    for (let i = 0; i < bases.length; i++) {
      const stem = join(this.dir, segmentName(bases[i]!));
      opts.onSegment?.(bases[i]!);
      const seg = this.adopt(bases[i]!, stem, openSync(stem + ".log", "r+"));
      const last = i === bases.length - 1;
      const error = scanSegment(seg, fstatSync(seg.fd).size, Math.max(expect, seg.baseOffset), last || crc === "all" ? crc : null, opts.onBatch ?? null);
      if (error) {
        // what follows a bad batch cannot be trusted: Kafka's recovery drops it too
        const later = bases.slice(i + 1);
        this.warn(`${stem}.log: ${error}; truncated to ${seg.size} bytes${later.length ? `, ${later.length} later segment(s) deleted` : ""}`);
        ftruncateSync(seg.fd, seg.size);
        seg.indexDirty = true;
        for (const b of later) for (const ext of SEGMENT_EXTENSIONS) unlinkQuietly(join(this.dir, segmentName(b) + ext));
        break;
      }
      expect = seg.nextOffset;
    }
    const minStart = opts.minStartOffset ?? 0;
    if (this.segments.length > 0 && this.active.nextOffset < minStart) {
      for (const seg of this.segments.splice(0)) {
        seg.file.release();
        for (const ext of SEGMENT_EXTENSIONS) unlinkQuietly(seg.stem + ext);
      }
    }
    if (this.segments.length === 0) this.newSegment(minStart);
    this.nextOffset = this.active.nextOffset;
    for (const s of this.segments) for (let i = 0; i < s.count; i++) this.trackMax(s, i);
  }

  /** Tracks a segment whose file is open as `fd`. */
  private adopt(baseOffset: number, stem: string, fd: number): Segment {
    const seg: Segment = new Segment(baseOffset, stem, new SegmentFile(fd, () => this.fileClosed(seg)), 0);
    this.openFiles++;
    this.segments.push(seg);
    return seg;
  }

  private newSegment(baseOffset: number): Segment {
    let seg!: Segment;
    seg = createSegment(this.dir, baseOffset, () => this.fileClosed(seg));
    this.openFiles++;
    this.segments.push(seg);
    return seg;
  }

  /** The base offsets of the segments, oldest first. */
  get segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }

  /**
   * What retention and the cleaner need to know of each segment, oldest first
   * (the last is the active one): its offsets, its .log bytes and the largest
   * record timestamp in it (-1 when it has no batches).
   */
  segmentSummaries(): SegmentSummary[] {
    return this.segments.map((s) => {
      let maxTs = -1;
      for (let i = 0; i < s.count; i++) if (s.maxTs[i]! > maxTs) maxTs = s.maxTs[i]!;
      return { baseOffset: s.baseOffset, nextOffset: s.nextOffset, size: s.size, largestTimestamp: maxTs, path: s.stem + ".log" };
    });
  }

  get logStartOffset(): number {
    const s = this.segments[0]!;
    return s.count > 0 ? s.bases[0]! : s.baseOffset;
  }

  get logEndOffset(): number {
    return this.nextOffset;
  }

  /** The bytes of the segments' .log files (Kafka's UnifiedLog.size; indexes not counted). */
  get sizeInBytes(): number {
    let n = 0;
    for (const seg of this.segments) n += seg.size;
    return n;
  }

  get isClosed(): boolean {
    return this.closed;
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
      while (done < buf.length) done += diskIo.writeSync(seg.fd, buf, done, buf.length - done, seg.size + done);
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
    writeIndexes(this.active, this.indexIntervalBytes);
    const seg = this.newSegment(this.nextOffset);
    this.onRoll?.(seg.baseOffset);
    return seg;
  }

  /**
   * Whole batches from the one containing `offset`: as many as fit in
   * `maxBytes`, and at least one (when any exists at or after `offset`) if
   * `minOneBatch`. Batches adjacent in one segment share a source. Each
   * source holds its segment file open until released (releaseAll). Empty
   * at the log end and once the log is closed.
   */
  read(offset: number, maxBytes: number, minOneBatch = true, partialTail = false): SegmentRecords[] {
    const out: SegmentRecords[] = [];
    this.walk(offset, maxBytes, minOneBatch, partialTail, out);
    return out;
  }

  /** What read() would return, in bytes, without handing anything out. */
  readableBytes(offset: number, maxBytes: number, minOneBatch = true, partialTail = false): number {
    return this.walk(offset, maxBytes, minOneBatch, partialTail, null);
  }

  /**
   * Whole batches from the one holding `offset` while they fit in maxBytes
   * (the first one whatever its size with minOneBatch). With partialTail the
   * bytes of the batch that does not fit are taken up to maxBytes, as Kafka's
   * byte-count read of a segment does (clients drop a partial last batch).
   */
  private walk(offset: number, maxBytes: number, minOneBatch: boolean, partialTail: boolean, out: SegmentRecords[] | null): number {
    if (this.closed || offset >= this.nextOffset) return 0;
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
        if (total + size > maxBytes && (total > 0 || !minOneBatch)) {
          if (partialTail && total < maxBytes) {
            if (start < 0) start = seg.positions[i]!;
            end = seg.positions[i]! + (maxBytes - total);
            total = maxBytes;
          }
          break;
        }
        if (start < 0) start = seg.positions[i]!;
        end = seg.positions[i]! + size;
        total += size;
      }
      if (start >= 0 && out !== null) out.push(new SegmentRecords(seg.file, start, end - start));
      if (i < seg.count) break; // stopped by maxBytes
    }
    return total;
  }

  /**
   * Calls `fn` with the bytes of every batch that ends at or after
   * `fromOffset`, in offset order (replaying the metadata log). Runs of whole
   * batches are read at a time; the bytes are valid during the call only.
   */
  forEachBatch(fromOffset: number, fn: (batch: Uint8Array) => void): void {
    let buf = new Uint8Array(0);
    for (const seg of this.segments) {
      if (seg.nextOffset <= fromOffset) continue;
      let i = seg.find(fromOffset);
      while (i < seg.count) {
        const start = seg.positions[i]!;
        let j = i;
        let end = start;
        while (j < seg.count && (j === i || seg.positions[j]! + seg.sizes[j]! - start <= READ_CHUNK)) end = seg.positions[j]! + seg.sizes[j++]!;
        const len = end - start;
        if (buf.length < len) buf = new Uint8Array(Math.max(len, Math.min(READ_CHUNK, seg.size)));
        let done = 0;
        while (done < len) {
          const n = readSync(seg.fd, buf, done, len - done, start + done);
          if (n <= 0) throw new Error(`${seg.stem}.log: read ended ${len - done} bytes short`);
          done += n;
        }
        for (; i < j; i++) fn(buf.subarray(seg.positions[i]! - start, seg.positions[i]! - start + seg.sizes[i]!));
      }
    }
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
    if (this.closed) return fallback;
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

  // ---- durability hook (src/storage/durability.ts) ----
  /** The files of the segments appended to since the last flush, each retained (the caller fsyncs and releases them); they count as flushed from now. */
  takeUnflushed(): SegmentFile[] {
    const out: SegmentFile[] = [];
    for (const seg of this.unflushed) {
      if (!seg.file.isOpen) continue;
      seg.file.retain();
      out.push(seg.file);
    }
    this.unflushed.clear();
    return out;
  }
  // ---- end of durability hook ----

  /** fsyncs what was appended since the last flush. */
  flush(): void {
    for (const seg of this.unflushed) diskIo.fsyncSync(seg.fd);
    this.unflushed.clear();
  }

  /**
   * Deletes the oldest segments whose every offset is below `offset` (never
   * the active one), as retention will: their files are renamed *.deleted and
   * removed once no response reads them. Returns how many were deleted.
   */
  deleteSegmentsBefore(offset: number): number {
    if (this.closed) return 0;
    let n = 0;
    while (this.segments.length > 1 && this.segments[1]!.baseOffset <= offset) {
      const seg = this.segments.shift()!;
      seg.deleted = true;
      this.unflushed.delete(seg);
      for (const ext of SEGMENT_EXTENSIONS) {
        try {
          renameSync(seg.stem + ext, seg.stem + ext + DELETED_SUFFIX);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        }
      }
      seg.file.release();
      n++;
    }
    if (n > 0 && this.maxTsSeg?.deleted) {
      this.maxTsSeg = null;
      for (const s of this.segments) for (let i = 0; i < s.count; i++) this.trackMax(s, i);
    }
    return n;
  }

  /** Writes the indexes and lets go of every segment file (responses still reading keep theirs open). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const seg of this.segments) {
      if (seg.indexDirty && this.deletedDir === null) {
        try {
          writeIndexes(seg, this.indexIntervalBytes);
        } catch (e) {
          this.warn(`${seg.stem}: index files not written: ${(e as Error).message}`);
        }
      }
      seg.file.release();
    }
  }

  /**
   * Deletes the log as Kafka does: the dir is renamed `<topic>-<n>.<uuid hex>-delete`
   * at once, and removed once no response reads its segments any more.
   * Returns the renamed dir.
   */
  delete(): string {
    if (this.deletedDir !== null) return this.deletedDir;
    const to = deleteDirName(this.dir);
    renameSync(this.dir, to);
    this.dir = to;
    this.deletedDir = to;
    const wasClosed = this.closed;
    this.close();
    // a log closed before with no readers left has nothing more to close
    if (wasClosed && this.openFiles === 0) this.removeDeletedDir();
    return to;
  }

  private fileClosed(seg: Segment): void {
    this.openFiles--;
    if (seg.deleted && this.deletedDir === null) for (const ext of SEGMENT_EXTENSIONS) unlinkQuietly(seg.stem + ext + DELETED_SUFFIX);
    if (this.deletedDir !== null && this.openFiles === 0) this.removeDeletedDir();
  }

  private removeDeletedDir(): void {
    const dir = this.deletedDir!;
    rm(dir, { recursive: true, force: true }).catch((e: Error) => this.warn(`${dir}: not removed: ${e.message}`));
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") log.warn(`${path}: not removed: ${(e as Error).message}`);
  }
}
