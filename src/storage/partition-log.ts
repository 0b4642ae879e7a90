// One partition's log, <logdir>/<topic>-<n>/, in Kafka's on-disk layout:
//   <20-digit base offset>.log        record batches, back to back, as produced
//   <base>.index, <base>.timeindex    sparse offset and time indexes (segment.ts)
//   partition.metadata                the topic id
//   (<offset>.snapshot, the producer state, is the partition's: partition.ts)
// The same code serves the KRaft metadata log (__cluster_metadata-0), which
// checks every CRC on open and fsyncs each append.
//
// Batches are never decoded on the hot path: appends stamp offsets and write
// the bytes, keeping the indexes current; reads find their place through the
// indexes and hand out byte ranges of the files.
//
// Opening, as Kafka's LogLoader:
// - after a clean shutdown (the log dir's .kafka_cleanshutdown, given as
//   cleanShutdown) every segment and its indexes are trusted: nothing is
//   scanned but the last few batches of the active segment;
// - after an unclean stop, the segments below the recovery point
//   (recovery-point-offset-checkpoint) are trusted; from the segment holding it
//   on, every batch's length, magic, offset order and CRC-32C is checked and
//   the indexes are rebuilt;
// - a trusted segment whose index files are missing or damaged is recovered
//   the same way;
// - the first bad batch ends the log: the bytes from it, and every later
//   segment, are moved aside into `.quarantine` files beside the segment (not
//   deleted), so offsets stay contiguous and an operator can look at them; one
//   line says so. A recovered partition gets one line too.
// Batch headers from `replayFrom` on go to onBatch (producer state); onSegment
// hears of each segment before its batches, onRoll of each roll, where the
// caller writes producer snapshots.
//
// Segments roll at segment.bytes, segment.ms (less segment.jitter.ms, by the
// first batch's timestamp as Kafka), a full index, or an offset the index
// cannot hold relative to the base. A rolled segment's files are fsynced in
// the background, and the recovery point moves past it then, as Kafka's
// flush on roll.
//
// Reads hand out SegmentRecords that hold their segment's file open (see
// segment.ts): deleting segments or the whole log never pulls bytes from
// under a response waiting to be encoded.

import { log } from "../log.ts";
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ATTR_TIMESTAMP_TYPE, BATCH_OVERHEAD, OFF_ATTRIBUTES, OFF_LENGTH, OFF_MAX_TIMESTAMP, int16At, int32At, int64At, setBaseOffset, type BatchInfo } from "../records/batch.ts";
import { findRecord } from "../records/walk.ts";
import { readPartitionMetadata, writePartitionMetadata } from "../metadata/properties.ts";
import { randomUuid, uuidEquals, uuidHex, uuidToBase64 } from "../metadata/uuid.ts";
import { diskIo } from "./disk-io.ts";
import { createSegment, Segment, SegmentFile, SegmentRecords, segmentName, DEFAULT_INDEX_MAX_BYTES, type BatchHeaderListener, type BatchPosition } from "./segment.ts";

export { segmentName, type BatchHeader, type BatchHeaderListener } from "./segment.ts";

export const DEFAULT_INDEX_INTERVAL_BYTES = 4096;
/** replay reads runs of whole batches up to this size at a time */
const READ_CHUNK = 1 << 20;
const SEGMENT_FILE_RE = /^(\d{20})\.log$/;
const DELETED_SUFFIX = ".deleted";
/** the cleaner's files (see the cleaner hook below): a cleaned segment being written, and one being swapped in */
export const CLEANED_SUFFIX = ".cleaned";
export const SWAP_SUFFIX = ".swap";
const QUARANTINE_SUFFIX = ".quarantine";
const SEGMENT_EXTENSIONS = [".log", ".index", ".timeindex"];
const INDEX_EXTENSIONS = [".index", ".timeindex"];

/** When a log rolls and how dense its indexes are (the topic's segment.* and index.* keys). */
export interface LogRollConfig {
  /** segment.bytes: roll before a segment would grow past this */
  segmentBytes: number;
  /** index.interval.bytes */
  indexIntervalBytes?: number;
  /** segment.ms (default 7 days) */
  segmentMs?: number;
  /** segment.jitter.ms (default 0) */
  segmentJitterMs?: number;
  /** segment.index.bytes: the index files' preallocated size (default 10 MiB) */
  indexMaxBytes?: number;
}

export interface PartitionLogOptions extends LogRollConfig {
  /** written to partition.metadata when missing; a different id there is an error */
  topicId?: Uint8Array;
  /** what partition.metadata holds, when the caller has read it already (null: none) */
  topicIdOnDisk?: Uint8Array | null;
  /** "all": every batch of every segment is checked on open, clean shutdown or not (the metadata log) */
  verifyCrc?: "all";
  /** the log dir had .kafka_cleanshutdown: segments and indexes are trusted */
  cleanShutdown?: boolean;
  /** after an unclean stop, the segments wholly below this offset are trusted (recovery-point-offset-checkpoint; default 0) */
  recoveryPoint?: number;
  /** batch headers from this offset on go to onBatch (default 0) */
  replayFrom?: number;
  /** gets every batch header from replayFrom on, in offset order */
  onBatch?: BatchHeaderListener;
  /** the opening is about to go through the segment at this base offset */
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
  info?: (message: string) => void;
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
  /** segments written to since the last flush */
  private readonly unflushed = new Set<Segment>();
  private closed = false;
  /** segment descriptors not yet closed (the log's own and those responses still hold) */
  private openFiles = 0;
  /** set by delete(): the renamed dir, removed once every descriptor is closed */
  private deletedDir: string | null = null;
  private roll_: Required<LogRollConfig>;
  /** this segment's segment.jitter.ms draw */
  private rollJitterMs = 0;
  /** the first offset of the first segment, -1 until read again */
  private startCache = -1;
  /** Kafka's recovery point: everything below it is known to be on disk */
  recoveryPoint = 0;
  private readonly scratch: BatchPosition = { baseOffset: 0, lastOffset: 0, position: 0, size: 0, maxTimestamp: -1 };

  private constructor(
    /** where the log lives (the renamed dir after delete()) */
    public dir: string,
    cfg: LogRollConfig,
    private readonly warn: (message: string) => void,
    private readonly info: (message: string) => void,
    private readonly onRoll: ((baseOffset: number) => void) | null,
  ) {
    this.roll_ = withDefaults(cfg);
    this.drawJitter();
  }

  /** A topic config changed: the next roll and index entries follow the new values. */
  reconfigure(cfg: LogRollConfig): void {
    this.roll_ = withDefaults(cfg);
    this.drawJitter();
  }

  private drawJitter(): void {
    const j = this.roll_.segmentJitterMs;
    this.rollJitterMs = j > 0 ? Math.floor(Math.random() * Math.min(j, this.roll_.segmentMs)) : 0;
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
    const l = new PartitionLog(dir, opts, opts.warn ?? log.warn, opts.info ?? log.info, opts.onRoll ?? null);
    try {
      l.load(names, opts);
    } catch (e) {
      l.close();
      throw e;
    }
    return l;
  }

  private load(names: string[], opts: PartitionLogOptions): void {
    const all = opts.verifyCrc === "all";
    const clean = opts.cleanShutdown === true && !all;
    const recoveryPoint = clean ? Infinity : all ? 0 : (opts.recoveryPoint ?? 0);
    const replayFrom = opts.replayFrom ?? 0;
    const onBatch = opts.onBatch ?? null;
    if (names.some((n) => n.endsWith(CLEANED_SUFFIX) || n.endsWith(SWAP_SUFFIX))) names = this.recoverCleanerFiles(names);
    const bases: number[] = [];
    for (const n of names) {
      const m = SEGMENT_FILE_RE.exec(n);
      if (m) bases.push(Number(m[1]));
      // left by a delete that did not finish (a crash before the last reader let go)
      else if (n.endsWith(DELETED_SUFFIX)) unlinkQuietly(join(this.dir, n));
    }
    bases.sort((a, b) => a - b);
    let recovered = 0;
    let rebuilt = 0;
    let lastTrusted = false;
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i]!;
      const stem = join(this.dir, segmentName(base));
      opts.onSegment?.(base);
      const fd = openSync(stem + ".log", "r+");
      const seg = this.adopt(base, stem, fd);
      seg.size = fstatSync(fd).size;
      const last = i + 1 === bases.length;
      const trusted = last ? clean : bases[i + 1]! <= recoveryPoint;
      const fileSize = seg.size;
      let error: string | null = null;
      lastTrusted = trusted && seg.loadIndexes(!last);
      if (lastTrusted && last) {
        seg.activate(this.roll_.indexMaxBytes);
        lastTrusted = seg.adoptTail();
      }
      if (lastTrusted) {
        if (onBatch !== null && (last ? replayFrom < seg.nextOffset : bases[i + 1]! > replayFrom)) seg.replay(Math.max(replayFrom, base), onBatch);
      } else {
        if (trusted) rebuilt++;
        else if (seg.size > 0) recovered++;
        const expect = i > 0 ? this.segments[i - 1]!.nextOffset : 0;
        error = seg.recover(fileSize, Math.max(expect, base), true, this.roll_.indexIntervalBytes, onBatch);
      }
      if (error && trusted && !last) {
        // a trusted segment is never cut (its data was acknowledged and is on disk): its
        // index covers what reads back, the rest of the file stays as it is
        seg.keepAsIs(fileSize, bases[i + 1]!);
        this.warn(`${stem}.log: ${error} while rebuilding its index; left as it is (trusted: ${clean ? "clean shutdown" : "below the recovery point"})`);
        continue;
      }
      if (error) {
        this.quarantine(seg, fileSize, bases.slice(i + 1), error);
        break;
      }
    }
    const minStart = opts.minStartOffset ?? 0;
    if (this.segments.length > 0 && this.lastSegment.nextOffset < minStart) {
      for (const seg of this.segments.splice(0)) {
        seg.closeIndexes();
        seg.file.release();
        for (const ext of SEGMENT_EXTENSIONS) unlinkQuietly(seg.stem + ext);
      }
    }
    if (this.segments.length === 0) {
      this.newSegment(minStart);
      lastTrusted = false;
    }
    const active = this.lastSegment;
    if (!lastTrusted) active.activate(this.roll_.indexMaxBytes);
    this.nextOffset = active.nextOffset;
    this.recoveryPoint = clean ? this.nextOffset : Math.min(recoveryPoint, this.nextOffset);
    if (recovered + rebuilt > 0 && !all) {
      this.info(`${this.dir}: recovered after an unclean stop: ${recovered} segment(s) from the recovery point ${recoveryPoint} checked batch by batch${rebuilt ? `, indexes of ${rebuilt} rebuilt` : ""}; log end ${this.nextOffset}`);
    }
  }

  /**
   * A bad batch in `seg` (whose valid bytes end at seg.size): the rest of its
   * file and every later segment are moved aside, not deleted.
   */
  private quarantine(seg: Segment, fileSize: number, later: number[], error: string): void {
    const moved: string[] = [];
    const cut = fileSize - seg.size;
    if (cut > 0) {
      const to = freeName(seg.stem + ".log" + QUARANTINE_SUFFIX);
      const buf = new Uint8Array(Math.min(cut, READ_CHUNK));
      const out = openSync(to, "wx");
      try {
        for (let done = 0; done < cut; ) {
          const n = readSync(seg.fd, buf, 0, Math.min(buf.length, cut - done), seg.size + done);
          if (n <= 0) break;
          writeSync(out, buf, 0, n);
          done += n;
        }
        fsyncSync(out);
      } finally {
        closeSync(out);
      }
      seg.truncateTo(seg.size);
      moved.push(basename(to));
    }
    for (const b of later) {
      const stem = join(this.dir, segmentName(b));
      const to = freeName(stem + ".log" + QUARANTINE_SUFFIX);
      renameSync(stem + ".log", to);
      moved.push(basename(to));
      for (const ext of INDEX_EXTENSIONS) unlinkQuietly(stem + ext);
    }
    this.warn(
      `${seg.stem}.log: ${error}; the log now ends at offset ${seg.nextOffset}` +
        (moved.length ? `; ${cut} byte(s) from there${later.length ? ` and ${later.length} later segment(s)` : ""} moved aside to ${moved.join(", ")}` : ""),
    );
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
    return this.segments.map((s) => ({ baseOffset: s.baseOffset, nextOffset: s.nextOffset, size: s.size, largestTimestamp: s.maxTimestamp, path: s.stem + ".log" }));
  }

  get logStartOffset(): number {
    if (this.startCache < 0) this.startCache = this.segments[0]!.firstOffset();
    return this.startCache;
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

  private get lastSegment(): Segment {
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
    let next = baseOffset;
    let maxTs = -1;
    for (const b of batches) {
      setBaseOffset(buf, b.position, next);
      next += b.lastOffsetDelta + 1;
      // read from the bytes: the caller may have set LogAppendTime after validating
      const t = int64At(buf, b.position + OFF_MAX_TIMESTAMP);
      if (t > maxTs) maxTs = t;
    }
    let seg = this.lastSegment;
    if (this.shouldRoll(seg, buf.length, maxTs, next - 1)) seg = this.roll();
    let done = 0;
    try {
      while (done < buf.length) done += diskIo.writeSync(seg.fd, buf, done, buf.length - done, seg.size + done);
    } catch (e) {
      ftruncateSync(seg.fd, seg.size); // no half-written batches left behind
      throw e;
    }
    let off = baseOffset;
    const interval = this.roll_.indexIntervalBytes;
    for (const b of batches) {
      seg.appended(off, off + b.lastOffsetDelta, seg.size + b.position, b.size, int64At(buf, b.position + OFF_MAX_TIMESTAMP), interval);
      off += b.lastOffsetDelta + 1;
    }
    seg.size += buf.length;
    this.unflushed.add(seg);
    this.nextOffset = next;
    return { baseOffset };
  }

  /** As LogSegment.shouldRoll. */
  private shouldRoll(seg: Segment, bytes: number, maxTimestamp: number, lastOffset: number): boolean {
    if (seg.size === 0) return false;
    const c = this.roll_;
    return (
      seg.size + bytes > c.segmentBytes ||
      seg.timeWaitedForRoll(Date.now(), maxTimestamp) > c.segmentMs - this.rollJitterMs ||
      seg.offsetIndex.isFull ||
      seg.timeIndex.isFull ||
      !seg.canHold(lastOffset)
    );
  }

  private roll(): Segment {
    const old = this.lastSegment;
    old.deactivate();
    const seg = this.newSegment(this.nextOffset);
    seg.activate(this.roll_.indexMaxBytes);
    this.drawJitter();
    this.flushRolled(old, seg.baseOffset);
    this.onRoll?.(seg.baseOffset);
    return seg;
  }

  /** As Kafka's flush on roll: the rolled segment's files go to disk in the background, then the recovery point passes it. */
  private flushRolled(seg: Segment, upTo: number): void {
    if (this.roll_.segmentBytes <= 0) return;
    seg.file.retain();
    let fds: number[] = [];
    try {
      fds = INDEX_EXTENSIONS.map((ext) => openSync(seg.stem + ext, "r"));
    } catch {
      // renamed meanwhile (it was deleted): nothing to keep
    }
    const done = Promise.all([diskIo.fsync(seg.fd), ...fds.map((fd) => diskIo.fsync(fd))])
      .then(() => {
        if (!seg.deleted || this.recoveryPoint >= seg.baseOffset) this.recoveryPoint = Math.max(this.recoveryPoint, upTo);
      })
      .catch((e: Error) => this.warn(`${seg.stem}: fsync after roll failed: ${e.message}`))
      .finally(() => {
        for (const fd of fds) closeSync(fd);
        seg.file.release();
        this.rollFlushes.delete(done);
      });
    this.rollFlushes.add(done);
  }

  private readonly rollFlushes = new Set<Promise<unknown>>();

  /** Settles once the fsyncs of rolled segments started so far are done (tests, shutdown). */
  async whenRollsFlushed(): Promise<void> {
    while (this.rollFlushes.size > 0) await Promise.allSettled([...this.rollFlushes]);
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

  /** The index of the segment that would hold `offset` (the last whose base is at or below it). */
  private segmentFor(offset: number): number {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (segs[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
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
    const b = this.scratch;
    let si = this.segmentFor(offset);
    // the batch holding offset, else the first after it (maybe in a later segment)
    while (si < segs.length && !segs[si]!.locate(offset, b)) si++;
    if (si === segs.length) return 0;
    let total = 0;
    let start = b.position;
    for (; si < segs.length; si++, start = 0) {
      const seg = segs[si]!;
      if (start >= seg.size) continue;
      const left = maxBytes - total;
      let end: number;
      let stopped = false;
      if (total === 0 && minOneBatch && b.size > left) {
        // the first batch whatever its size (Kafka's minOneMessage), and nothing after it
        end = start + b.size;
        stopped = true;
      } else if (seg.size - start <= left) {
        end = seg.size;
      } else {
        end = partialTail ? start + left : seg.batchEndAtOrBefore(start, start + left);
        stopped = true;
      }
      if (end > start) {
        total += end - start;
        out?.push(new SegmentRecords(seg.file, start, end - start));
      }
      if (stopped) break;
      if (si + 1 < segs.length && total === 0) {
        // nothing taken yet: the next segment's first batch decides minOneBatch
        if (!segs[si + 1]!.locate(segs[si + 1]!.baseOffset, b)) continue;
      } else b.size = 0;
    }
    return total;
  }

  /**
   * Calls `fn` with the bytes of every batch that ends at or after
   * `fromOffset`, in offset order (replaying the metadata log, loading the
   * group coordinator). Runs of whole batches are read at a time; the bytes
   * are valid during the call only.
   */
  forEachBatch(fromOffset: number, fn: (batch: Uint8Array) => void): void {
    let buf = new Uint8Array(0);
    const b = this.scratch;
    for (let si = this.segmentFor(fromOffset); si < this.segments.length; si++) {
      const seg = this.segments[si]!;
      if (!seg.locate(Math.max(fromOffset, seg.baseOffset), b)) continue;
      let pos = b.position;
      while (pos < seg.size) {
        const want = Math.min(READ_CHUNK, seg.size - pos);
        if (buf.length < want) buf = new Uint8Array(want);
        const len = readFull(seg, buf, want, pos);
        let p = 0;
        while (p + BATCH_OVERHEAD <= len) {
          const size = int32At(buf, p + OFF_LENGTH) + BATCH_OVERHEAD;
          if (size < BATCH_OVERHEAD) throw new Error(`${seg.stem}.log: bad batch length at ${pos + p}`);
          if (p + size > len) break;
          fn(buf.subarray(p, p + size));
          p += size;
        }
        if (p === 0) {
          // one batch larger than the buffer: read it whole
          const size = int32At(buf, OFF_LENGTH) + BATCH_OVERHEAD;
          if (pos + size > seg.size) break;
          const big = new Uint8Array(size);
          if (readFull(seg, big, size, pos) !== size) throw new Error(`${seg.stem}.log: short read at ${pos}`);
          fn(big);
          p = size;
        }
        pos += p;
      }
    }
  }

  /**
   * ListOffsets by timestamp, as UnifiedLog.fetchOffsetByTimestamp: the first
   * segment whose largest timestamp reaches `ts`, the time and offset indexes
   * to a position in it, then the first batch there reaching it, then the
   * first record in it (decompressed if need be) at or after `ts`.
   */
  offsetForTimestamp(ts: number, startingOffset = this.logStartOffset): TimestampOffset | null {
    if (this.closed) return null;
    for (const seg of this.segments) {
      if (seg.maxTimestamp < ts || seg.nextOffset <= startingOffset) continue;
      let found: TimestampOffset | null = null;
      seg.forEachPosition(seg.timestampSearchStart(ts, startingOffset), (b) => {
        if (b.maxTimestamp < ts || b.lastOffset < startingOffset) return true;
        found = this.findInBatch(seg, b, (t) => t >= ts, startingOffset);
        return found === null;
      });
      return found;
    }
    return null;
  }

  /** ListOffsets -3 (MAX_TIMESTAMP): the first record carrying the largest timestamp, or null when empty. */
  maxTimestampOffset(): TimestampOffset | null {
    if (this.closed) return null;
    let best: Segment | null = null;
    for (const s of this.segments) if (s.maxTimestamp >= 0 && (best === null || s.maxTimestamp > best.maxTimestamp)) best = s;
    if (best === null) return null;
    const seg = best;
    const max = seg.maxTimestamp;
    let found: TimestampOffset | null = null;
    seg.forEachPosition(seg.offsetIndex.lookup(seg.offsetOfMaxTimestamp), (b) => {
      if (b.maxTimestamp !== max) return true;
      found = this.findInBatch(seg, b, (t) => t === max, -Infinity);
      return false;
    });
    return found;
  }

  /** Reads one batch to find its first record matching (compressed batches decompressed); the batch's own answer when its records do not read. */
  private findInBatch(seg: Segment, b: BatchPosition, match: (timestamp: number) => boolean, minOffset: number): TimestampOffset | null {
    const fallback = { offset: Math.max(b.baseOffset, minOffset), timestamp: b.maxTimestamp };
    const buf = new Uint8Array(b.size);
    if (readFull(seg, buf, b.size, b.position) !== b.size) return fallback;
    // LogAppendTime: every record carries the batch's max timestamp
    if (int16At(buf, OFF_ATTRIBUTES) & ATTR_TIMESTAMP_TYPE) return match(b.maxTimestamp) ? fallback : null;
    try {
      return findRecord(buf, match, minOffset);
    } catch {
      // a batch whose records do not read still has a usable header
      return fallback;
    }
  }

  // ---- cleaner hook (src/storage/cleaner.ts) ----
  // Kafka's LocalLog.replaceSegments and LogLoader.removeTempFilesAndCollectSwapFiles.
  // The cleaner writes `<base>.log.cleaned` (fsynced) from closed segments
  // [base, ...); the swap is crash safe at every step:
  //   1. `.cleaned` -> `.swap`      (from here on, a start-up completes the swap)
  //   2. the old segments' files -> `.deleted` (removed as retention's are: after
  //      file.delete.delay.ms, once no response reads them)
  //   3. `.swap` -> `.log`, its indexes built, the segment takes the old ones' place
  // At open, `.cleaned` files are deleted (a clean cut short) and each `.swap`
  // completed: the segment files in its offset range are deleted, then it is
  // renamed (its indexes are missing, so the load rebuilds them).

  /**
   * Swaps the cleaned segment at `cleanedLogPath` (`<first old base>.log.cleaned`,
   * fsynced, offsets within the old segments') in for the segments at
   * `oldBaseOffsets` (adjacent, oldest first, never the active one). Returns
   * false, changing nothing, when they are not all still there (retention
   * deleted some meanwhile) or the log is closed: the caller deletes its file.
   */
  replaceSegments(oldBaseOffsets: number[], cleanedLogPath: string): boolean {
    const at = this.segments.findIndex((s) => s.baseOffset === oldBaseOffsets[0]);
    const n = oldBaseOffsets.length;
    if (this.closed || at < 0 || at + n >= this.segments.length) return false;
    for (let i = 0; i < n; i++) if (this.segments[at + i]!.baseOffset !== oldBaseOffsets[i]) return false;
    const stem = join(this.dir, segmentName(oldBaseOffsets[0]!));
    if (cleanedLogPath !== stem + ".log" + CLEANED_SUFFIX) throw new Error(`${cleanedLogPath}: not the cleaned file of ${stem}.log`);
    renameSync(cleanedLogPath, stem + ".log" + SWAP_SUFFIX);
    const old = this.segments.splice(at, n);
    for (const seg of old) {
      seg.deleted = true;
      seg.closeIndexes();
      this.unflushed.delete(seg);
      for (const ext of SEGMENT_EXTENSIONS) renameQuietly(seg.stem + ext, seg.stem + ext + DELETED_SUFFIX);
    }
    renameSync(stem + ".log" + SWAP_SUFFIX, stem + ".log");
    fsyncDir(this.dir);
    // adopt() appends: take the new segment out again and put it where the old ones were
    const seg = this.adopt(oldBaseOffsets[0]!, stem, openSync(stem + ".log", "r+"));
    this.segments.pop();
    this.segments.splice(at, 0, seg);
    seg.size = fstatSync(seg.fd).size;
    // builds its .index/.timeindex and max timestamp (no CRCs: the cleaner wrote every batch itself)
    const error = seg.recover(seg.size, seg.baseOffset, false, this.roll_.indexIntervalBytes, null);
    if (error) this.warn(`${stem}.log: cleaned segment: ${error}`);
    for (const s of old) this.releaseDeleted(s); // their files go after file.delete.delay.ms and the last reader
    this.startCache = -1;
    return true;
  }

  /** Start-up: deletes `.cleaned` files, completes each `.swap`; returns the dir's names afterwards. */
  private recoverCleanerFiles(names: string[]): string[] {
    for (const n of names) if (n.endsWith(CLEANED_SUFFIX)) unlinkQuietly(join(this.dir, n));
    for (const n of names) {
      const m = /^(\d{20})\.log\.swap$/.exec(n);
      if (!m) continue;
      const base = Number(m[1]);
      const path = join(this.dir, n);
      // the swap's offset range (its batch headers walked): the old segments whose base falls in it are the ones it replaces
      const fd = openSync(path, "r");
      const probe = new Segment(base, path, new SegmentFile(fd), fstatSync(fd).size);
      const end = probe.nextOffset;
      probe.file.release();
      for (const other of names) {
        const o = /^(\d{20})\.(?:log|index|timeindex)$/.exec(other);
        if (o && Number(o[1]) >= base && Number(o[1]) < Math.max(end, base + 1)) unlinkQuietly(join(this.dir, other));
      }
      renameSync(path, join(this.dir, segmentName(base) + ".log"));
      this.warn(`${join(this.dir, segmentName(base))}.log: completed the swap of a cleaned segment cut short (offsets ${base} to ${end})`);
    }
    return readdirSync(this.dir);
  }
  // ---- end of cleaner hook ----

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

  /** What was below `offset` is on disk (a flush completed): the recovery point moves up to it. */
  markFlushed(offset: number): void {
    this.recoveryPoint = Math.max(this.recoveryPoint, Math.min(offset, this.nextOffset));
  }
  // ---- end of durability hook ----

  /** fsyncs what was appended since the last flush, with the indexes; the recovery point moves to the log end. */
  flush(): void {
    if (this.closed) return;
    for (const seg of this.unflushed) {
      diskIo.fsyncSync(seg.fd);
      for (const fd of seg.indexFds()) diskIo.fsyncSync(fd);
      if (!seg.isActive) seg.closeIndexes();
    }
    this.unflushed.clear();
    this.recoveryPoint = this.nextOffset;
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
      seg.closeIndexes();
      this.unflushed.delete(seg);
      for (const ext of SEGMENT_EXTENSIONS) {
        try {
          renameSync(seg.stem + ext, seg.stem + ext + DELETED_SUFFIX);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        }
      }
      this.releaseDeleted(seg);
      n++;
    }
    if (n > 0) this.startCache = -1;
    return n;
  }

  // ---- retention hook (src/storage/retention.ts) ----
  /**
   * file.delete.delay.ms: a deleted segment's `.deleted` files are removed
   * this long after the deletion (as Kafka's scheduled delete-file task), and
   * not before the last response reading them lets go. 0: at once.
   */
  fileDeleteDelayMs = 0;
  /** deleted segments waiting out fileDeleteDelayMs, each holding its file */
  private readonly delayedDeletes = new Map<Segment, ReturnType<typeof setTimeout>>();

  private releaseDeleted(seg: Segment): void {
    const ms = this.fileDeleteDelayMs;
    if (!(ms > 0)) return seg.file.release();
    const t = setTimeout(() => {
      this.delayedDeletes.delete(seg);
      seg.file.release();
    }, ms);
    t.unref?.();
    this.delayedDeletes.set(seg, t);
  }

  /** How many deleted segments still wait out fileDeleteDelayMs. */
  get delayedDeleteCount(): number {
    return this.delayedDeletes.size;
  }

  /** Closing: the waiting deletions let go of their files; the `.deleted` files stay for the next start-up to remove (unless the whole dir goes). */
  private dropDelayedDeletes(): void {
    for (const [seg, t] of this.delayedDeletes) {
      clearTimeout(t);
      if (this.deletedDir === null) seg.deleted = false; // keeps fileClosed from removing them now
      seg.file.release();
    }
    this.delayedDeletes.clear();
  }

  /**
   * Rolls the active segment when it holds batches (Kafka's roll before
   * deleting every segment: a log always keeps one). True if it rolled.
   */
  rollActive(): boolean {
    if (this.closed || this.lastSegment.size === 0) return false;
    this.roll();
    return true;
  }
  // ---- end of retention hook ----

  /** Trims the active segment's indexes and lets go of every segment file (responses still reading keep theirs open). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dropDelayedDeletes(); // retention hook
    for (const seg of this.segments) {
      if (this.deletedDir === null) {
        try {
          seg.deactivate();
        } catch (e) {
          this.warn(`${seg.stem}: index files not trimmed: ${(e as Error).message}`);
        }
      }
      seg.closeIndexes();
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

function withDefaults(cfg: LogRollConfig): Required<LogRollConfig> {
  return {
    segmentBytes: cfg.segmentBytes,
    indexIntervalBytes: cfg.indexIntervalBytes ?? DEFAULT_INDEX_INTERVAL_BYTES,
    segmentMs: cfg.segmentMs ?? 604_800_000,
    segmentJitterMs: cfg.segmentJitterMs ?? 0,
    indexMaxBytes: cfg.indexMaxBytes ?? DEFAULT_INDEX_MAX_BYTES,
  };
}

function readFull(seg: Segment, buf: Uint8Array, len: number, position: number): number {
  let done = 0;
  while (done < len) {
    const n = readSync(seg.fd, buf, done, len - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}

/** `path`, or `path.1`, `path.2`, ... when taken. */
function freeName(path: string): string {
  if (!existsSync(path)) return path;
  for (let i = 1; ; i++) if (!existsSync(`${path}.${i}`)) return `${path}.${i}`;
}

function renameQuietly(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}

/** fsyncs a directory, so renames in it survive a machine crash. */
function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not every file system lets a directory be fsynced
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") log.warn(`${path}: not removed: ${(e as Error).message}`);
  }
}
