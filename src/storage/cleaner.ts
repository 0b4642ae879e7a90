// The log cleaner: compaction of the partitions whose topic's cleanup.policy
// has `compact` (`compact` and `compact,delete`), as Kafka's LogCleaner,
// Cleaner, LogCleanerManager, SkimpyOffsetMap and MemoryRecords.filterTo do.
//
// A pass picks the filthiest log (dirty bytes / all bytes above
// min.cleanable.dirty.ratio, or dirty records older than
// max.compaction.lag.ms), cleans it, and picks again; with nothing to clean it
// waits log.cleaner.backoff.ms (also before the first pass after start-up).
// Cleaning one log:
// - the dirty range: from its entry in `cleaner-offset-checkpoint` (Kafka's
//   file in the log dir; the log start offset when missing or out of range)
//   to the first uncleanable offset: the active segment's base, the high
//   watermark, or the first segment with a record newer than
//   min.compaction.lag.ms.
// - a key -> newest offset map over the dirty range (16-byte MD5 of the key +
//   8-byte offset a slot, at most log.cleaner.dedupe.buffer.size bytes, filled to
//   log.cleaner.io.buffer.load.factor; when full, this round stops there).
// - every closed segment up to the map's end, in groups that stay under
//   segment.bytes, is rewritten into `<base>.log.cleaned` keeping a record when it
//   is the newest of its key (or past the map), a tombstone until its batch's
//   delete horizon. Records keep their offsets; a batch keeps its base offset,
//   last offset delta, producer fields and codec (recompressed with it);
//   a batch whose records all stay is copied as is. A batch left empty is
//   dropped, except the last of each active producer and the last of the
//   round, which stay as record-less headers (Kafka's RETAIN_EMPTY). A batch
//   with tombstones gets its delete horizon (now + delete.retention.ms, in the
//   base timestamp, attribute bit 0x40) when first cleaned; the tombstones go at
//   the first clean after it. Keyless records are dropped, control batches kept.
// - the cleaned file is fsynced and swapped in (PartitionLog.replaceSegments:
//   `.cleaned` -> `.swap` -> `.log`), then the checkpoint is written and one
//   info line logged.
// The work is done in slices (SLICE_BYTES read, then a turn of the event loop),
// so produce and fetch are never held up for long. A log that fails to clean
// (a batch that does not decode, a CRC mismatch, an I/O error) is left alone
// until the next start, with one warning; a stop, a closed partition or
// segments deleted meanwhile abort the round quietly (its .cleaned file goes).

import { closeSync, fstatSync, openSync, readSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { log } from "../log.ts";
import {
  ATTR_CONTROL,
  ATTR_TIMESTAMP_TYPE,
  ATTR_TRANSACTIONAL,
  BATCH_HEADER_SIZE,
  BATCH_OVERHEAD,
  int16At,
  int32At,
  int64At,
  OFF_ATTRIBUTES,
  OFF_BASE_OFFSET,
  OFF_BASE_SEQUENCE,
  OFF_BASE_TIMESTAMP,
  OFF_CRC,
  OFF_LAST_OFFSET_DELTA,
  OFF_LEADER_EPOCH,
  OFF_LENGTH,
  OFF_MAGIC,
  OFF_MAX_TIMESTAMP,
  OFF_PRODUCER_EPOCH,
  OFF_PRODUCER_ID,
  OFF_RECORD_COUNT,
  setInt64At,
} from "../records/batch.ts";
import { crc32c } from "../records/crc32c.ts";
import { buildBatch, decodeRecordsSection } from "../records/record.ts";
import { recordsSection } from "../records/walk.ts";
import { readOffsetCheckpoint, writeOffsetCheckpoint } from "./checkpoint.ts";
import { diskIo } from "./disk-io.ts";
import type { Partition } from "./partition.ts";
import { Throttler, type ThrottlerClock } from "./throttler.ts";
import { CLEANED_SUFFIX, segmentName, type SegmentSummary } from "./partition-log.ts";

export const CLEANER_OFFSET_CHECKPOINT = "cleaner-offset-checkpoint";
/** Kafka's DELETE_HORIZON_FLAG_MASK: the batch's base timestamp is its delete horizon */
export const ATTR_DELETE_HORIZON = 0x40;
/** bytes read before the cleaner gives the event loop a turn */
const SLICE_BYTES = 256 * 1024;
/** as LogCleaner's throttler: the rate is checked every 300 ms */
const THROTTLE_CHECK_INTERVAL_MS = 300;
/** at most this many logs cleaned in one pass before backing off (a guard, never reached in practice) */
const MAX_CLEANS_PER_PASS = 10_000;

/** What the cleaner reads of the broker's and topics' configs, current at each pass. */
export interface CleanerSettings {
  enable: boolean;
  backoffMs: number;
  dedupeBufferSize: number;
  ioBufferSize: number;
  loadFactor: number;
  /** log.cleaner.io.max.bytes.per.second: read and written bytes together, as Kafka's throttler counts them */
  maxIoBytesPerSecond: number;
}

export interface TopicCleanConfig {
  compact: boolean;
  delete: boolean;
  segmentBytes: number;
  minCleanableRatio: number;
  minCompactionLagMs: number;
  maxCompactionLagMs: number;
  deleteRetentionMs: number;
}

export interface CleanerOptions {
  logDir: string;
  partitions: () => Iterable<Partition>;
  settings: () => CleanerSettings;
  topicConfig: (topic: string) => TopicCleanConfig;
  now?: () => number;
  /** the throttler's clock (tests) */
  throttleClock?: ThrottlerClock;
}

/** What one cleaned log went through (cleanNow returns these; the info line says the same). */
export interface CleanStats {
  partition: string;
  /** the dirty range cleaned: [firstDirtyOffset, endOffset) */
  firstDirtyOffset: number;
  endOffset: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRead: number;
  recordsKept: number;
  segmentsBefore: number;
  segmentsAfter: number;
}

/** A round given up for a reason that is not the log's fault (stop, closed log, segments deleted meanwhile). */
class CleaningAborted extends Error {}

// ---------------------------------------------------------------------------
// the key -> offset map (Kafka's SkimpyOffsetMap)

const BYTES_PER_ENTRY = 24; // 16-byte MD5 + 8-byte offset

/** Open addressing over typed arrays: the MD5 of each key and its newest offset; no deletes. */
export class OffsetMap {
  private hashes: Uint32Array;
  private offsets: Float64Array;
  private mask: number;
  private entries = 0;
  /** the newest offset the map covers (Kafka's latestOffset) */
  latestOffset = -1;
  private readonly digest = new Uint8Array(16);
  private readonly words = new Uint32Array(this.digest.buffer);

  constructor(
    /** slots (a power of two) */
    readonly slots: number,
    loadFactor: number,
  ) {
    this.hashes = new Uint32Array(slots * 4);
    this.offsets = new Float64Array(slots).fill(-1);
    this.mask = slots - 1;
    this.maxEntries = Math.floor(slots * loadFactor);
  }

  /** entries put before the map counts as full */
  readonly maxEntries: number;

  /** A map for about `expectedKeys` keys within `memoryBytes` (the largest power-of-two slot count that fits). */
  static sized(memoryBytes: number, loadFactor: number, expectedKeys: number): OffsetMap {
    let cap = 1;
    while (cap * 2 * BYTES_PER_ENTRY <= memoryBytes) cap *= 2;
    let want = 16;
    while (want < cap && want * loadFactor < expectedKeys + 1) want *= 2;
    const slots = Math.min(cap, want);
    if (Math.floor(slots * loadFactor) < 1) throw new Error(`log.cleaner.dedupe.buffer.size ${memoryBytes} is too small to hold one key`);
    return new OffsetMap(slots, loadFactor);
  }

  get size(): number {
    return this.entries;
  }

  get full(): boolean {
    return this.entries >= this.maxEntries;
  }

  private hash(key: Uint8Array): void {
    Bun.MD5.hash(key, this.digest);
  }

  /** The slot holding the current digest, or the empty slot where it would go. */
  private find(): number {
    const w = this.words;
    // double hashing: an odd step visits every slot of a power-of-two table
    const step = (w[1]! | 1) & this.mask || 1;
    let i = w[0]! & this.mask;
    for (let n = 0; n < this.slots; n++) {
      if (this.offsets[i]! < 0) return i;
      const h = i * 4;
      if (this.hashes[h] === w[0] && this.hashes[h + 1] === w[1] && this.hashes[h + 2] === w[2] && this.hashes[h + 3] === w[3]) return i;
      i = (i + step) & this.mask;
    }
    return -1;
  }

  put(key: Uint8Array, offset: number): void {
    this.hash(key);
    const i = this.find();
    if (i < 0) throw new Error("offset map is full");
    if (this.offsets[i]! < 0) {
      this.hashes.set(this.words, i * 4);
      this.entries++;
    }
    this.offsets[i] = offset;
    this.latestOffset = offset;
  }

  /** The newest offset of `key`, or -1. */
  get(key: Uint8Array): number {
    this.hash(key);
    const i = this.find();
    return i < 0 ? -1 : this.offsets[i]!;
  }
}

// ---------------------------------------------------------------------------
// reading a segment file batch by batch

/** Whole batches of one segment file, read through its own descriptor (so retention deleting the segment does not matter). */
class BatchReader {
  private readonly fd: number;
  readonly size: number;
  private buf: Uint8Array;
  private bufStart = 0;
  private bufLen = 0;
  /** where the next batch starts */
  pos = 0;

  constructor(
    readonly path: string,
    ioBufferSize: number,
  ) {
    try {
      this.fd = openSync(path, "r");
    } catch (e) {
      // retention (or a swap) took the segment meanwhile: not this log's fault
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new CleaningAborted(`${path} is gone`);
      throw e;
    }
    this.size = fstatSync(this.fd).size;
    this.buf = new Uint8Array(Math.max(BATCH_HEADER_SIZE, Math.min(ioBufferSize, this.size)));
  }

  /** The next batch (a view valid until the next call), or null at the end. Throws for bytes that are not a batch. */
  next(): Uint8Array | null {
    if (this.pos >= this.size) return null;
    if (this.size - this.pos < BATCH_HEADER_SIZE) throw new Error(`${this.path}: torn batch header at ${this.pos}`);
    this.ensure(BATCH_HEADER_SIZE);
    let p = this.pos - this.bufStart;
    const size = int32At(this.buf, p + OFF_LENGTH) + BATCH_OVERHEAD;
    if (size < BATCH_HEADER_SIZE || this.pos + size > this.size) throw new Error(`${this.path}: batch at ${this.pos} of ${size} bytes does not fit`);
    if (this.buf[p + OFF_MAGIC] !== 2) throw new Error(`${this.path}: magic ${this.buf[p + OFF_MAGIC]} at ${this.pos}`);
    this.ensure(size);
    p = this.pos - this.bufStart;
    const batch = this.buf.subarray(p, p + size);
    // a rewritten batch gets a fresh CRC: never bless corrupt bytes with one
    if (crc32c(batch, OFF_ATTRIBUTES) !== int32At(batch, OFF_CRC) >>> 0) throw new Error(`${this.path}: crc mismatch in the batch at ${this.pos}`);
    this.pos += size;
    return batch;
  }

  /** Makes [pos, pos + n) present in the buffer. */
  private ensure(n: number): void {
    if (this.pos >= this.bufStart && this.pos + n <= this.bufStart + this.bufLen) return;
    if (n > this.buf.length) this.buf = new Uint8Array(n);
    this.bufStart = this.pos;
    this.bufLen = 0;
    const want = Math.min(this.buf.length, this.size - this.pos);
    while (this.bufLen < want) {
      const got = readSync(this.fd, this.buf, this.bufLen, want - this.bufLen, this.pos + this.bufLen);
      if (got <= 0) throw new Error(`${this.path}: read ended ${want - this.bufLen} bytes short at ${this.pos + this.bufLen}`);
      this.bufLen += got;
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

// ---------------------------------------------------------------------------
// one batch through the filter (MemoryRecords.filterTo with the cleaner's RecordFilter)

interface FilterContext {
  map: OffsetMap;
  now: number;
  deleteRetentionMs: number;
  /** the round's first uncleanable offset: the batch ending there stays, even emptied */
  upperBound: number;
  /** producer id -> its last data offset */
  activeProducers: Map<number, number>;
}

interface FilterCounts {
  recordsRead: number;
  recordsKept: number;
}

/** What the cleaned segment gets for `batch`: the batch itself, a rebuilt one, a record-less header, or null (dropped). */
export function filterBatch(batch: Uint8Array, ctx: FilterContext, counts: FilterCounts): Uint8Array | null {
  const attributes = int16At(batch, OFF_ATTRIBUTES);
  const base = int64At(batch, OFF_BASE_OFFSET);
  const lastOffset = base + int32At(batch, OFF_LAST_OFFSET_DELTA);
  const count = int32At(batch, OFF_RECORD_COUNT);
  counts.recordsRead += Math.max(0, count);
  // no transactions here: control batches (never written by clients) are kept whole
  if (attributes & ATTR_CONTROL) {
    counts.recordsKept += Math.max(0, count);
    return batch;
  }
  const producerId = int64At(batch, OFF_PRODUCER_ID);
  const retainEmpty = (producerId >= 0 && ctx.activeProducers.get(producerId) === lastOffset) || lastOffset + 1 === ctx.upperBound;
  const horizonSet = (attributes & ATTR_DELETE_HORIZON) !== 0;
  const baseTs = int64At(batch, OFF_BASE_TIMESTAMP);
  const keepDeletes = !horizonSet || ctx.now < baseTs;

  const data = recordsSection(batch);
  const records = decodeRecordsSection(data, 0, data.length, count);
  const kept: typeof records = [];
  let tombstones = false;
  for (const r of records) {
    const offset = base + r.offsetDelta;
    let keep: boolean;
    if (offset > ctx.map.latestOffset) keep = true;
    else if (r.key === null) keep = false; // Kafka's cleaner drops keyless records of compacted logs
    else keep = offset >= ctx.map.get(r.key) && (r.value !== null || keepDeletes);
    if (!keep) continue;
    kept.push(r);
    if (r.value === null) tombstones = true;
  }
  counts.recordsKept += kept.length;
  const needHorizon = tombstones && !horizonSet;
  if (kept.length === records.length && !needHorizon) return batch;
  if (kept.length === 0) return retainEmpty ? emptyBatch(batch) : null;

  // records keep their absolute offsets and timestamps; the base timestamp is the first record's, or the delete horizon
  const timestamps = kept.map((r) => baseTs + r.timestampDelta);
  const horizon = needHorizon ? ctx.now + ctx.deleteRetentionMs : horizonSet ? baseTs : -1;
  const newBase = horizon >= 0 ? horizon : timestamps[0]!;
  const out = buildBatch({
    baseOffset: base,
    partitionLeaderEpoch: int32At(batch, OFF_LEADER_EPOCH),
    attributes: (attributes & ~ATTR_DELETE_HORIZON) | (horizon >= 0 ? ATTR_DELETE_HORIZON : 0),
    baseTimestamp: newBase,
    producerId,
    producerEpoch: int16At(batch, OFF_PRODUCER_EPOCH),
    baseSequence: int32At(batch, OFF_BASE_SEQUENCE),
    records: kept.map((r, i) => ({ key: r.key, value: r.value, headers: r.headers, timestampDelta: timestamps[i]! - newBase })),
    offsetDeltas: kept.map((r) => r.offsetDelta),
  });
  // as Kafka's builder: the original last offset (the producer's last sequence stays), the max timestamp of what is kept
  // (LogAppendTime: the batch's own)
  let maxTs = int64At(batch, OFF_MAX_TIMESTAMP);
  if (!(attributes & ATTR_TIMESTAMP_TYPE)) {
    maxTs = -1;
    for (const t of timestamps) if (t > maxTs) maxTs = t;
  }
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setInt32(OFF_LAST_OFFSET_DELTA, lastOffset - base);
  setInt64At(out, OFF_MAX_TIMESTAMP, maxTs);
  dv.setUint32(OFF_CRC, crc32c(out, OFF_ATTRIBUTES));
  return out;
}

/** A record-less batch header (Kafka's DefaultRecordBatch.writeEmptyHeader): offsets, producer fields and max timestamp kept, no codec. */
function emptyBatch(batch: Uint8Array): Uint8Array {
  const out = new Uint8Array(BATCH_HEADER_SIZE);
  const dv = new DataView(out.buffer);
  out.set(batch.subarray(0, 8), OFF_BASE_OFFSET);
  dv.setInt32(OFF_LENGTH, BATCH_HEADER_SIZE - BATCH_OVERHEAD);
  out.set(batch.subarray(OFF_LEADER_EPOCH, OFF_LEADER_EPOCH + 4), OFF_LEADER_EPOCH);
  out[OFF_MAGIC] = 2;
  dv.setInt16(OFF_ATTRIBUTES, int16At(batch, OFF_ATTRIBUTES) & (ATTR_TIMESTAMP_TYPE | ATTR_TRANSACTIONAL | ATTR_CONTROL));
  out.set(batch.subarray(OFF_LAST_OFFSET_DELTA, OFF_LAST_OFFSET_DELTA + 4), OFF_LAST_OFFSET_DELTA);
  setInt64At(out, OFF_BASE_TIMESTAMP, -1);
  out.set(batch.subarray(OFF_MAX_TIMESTAMP, OFF_RECORD_COUNT), OFF_MAX_TIMESTAMP); // max timestamp, producer id, epoch, base sequence
  dv.setInt32(OFF_RECORD_COUNT, 0);
  dv.setUint32(OFF_CRC, crc32c(out, OFF_ATTRIBUTES));
  return out;
}

// ---------------------------------------------------------------------------
// choosing the log (LogCleanerManager)

interface LogToClean {
  partition: Partition;
  config: TopicCleanConfig;
  segments: SegmentSummary[];
  firstDirtyOffset: number;
  /** the base of the first segment not cleaned */
  firstUncleanableOffset: number;
  cleanableBytes: number;
  ratio: number;
  needCompactionNow: boolean;
}

/** Segments overlapping [from, to) (Kafka's logSegments(from, to)). */
function overlapping(segs: SegmentSummary[], from: number, to: number): SegmentSummary[] {
  return segs.filter((s, i) => s.baseOffset < to && (i + 1 >= segs.length || segs[i + 1]!.baseOffset > from));
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

// ---------------------------------------------------------------------------

export class LogCleaner {
  /** topic\0partition -> first dirty offset, as cleaner-offset-checkpoint keeps them */
  private readonly checkpoints = new Map<string, number>();
  /** logs whose cleaning failed: left alone until the next start */
  private readonly uncleanable = new WeakSet<Partition>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private busy: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private readonly now: () => number;
  private readonly checkpointPath: string;
  /** bytes read since the last turn of the event loop */
  private sliced = 0;
  private readonly throttler: Throttler;

  constructor(private readonly opts: CleanerOptions) {
    this.now = opts.now ?? Date.now;
    this.throttler = new Throttler(() => opts.settings().maxIoBytesPerSecond, THROTTLE_CHECK_INTERVAL_MS, opts.throttleClock);
    this.checkpointPath = join(opts.logDir, CLEANER_OFFSET_CHECKPOINT);
    try {
      for (const [topic, parts] of readOffsetCheckpoint(this.checkpointPath)) for (const [p, o] of parts) this.checkpoints.set(key(topic, p), o);
    } catch (e) {
      log.warn(`${CLEANER_OFFSET_CHECKPOINT}: ignored (every compacted log is cleaned from its start): ${(e as Error).message}`);
    }
  }

  /** Starts the background passes (the first after log.cleaner.backoff.ms), unless log.cleaner.enable is false. */
  start(): void {
    if (!this.opts.settings().enable || this.stopped) return;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.busy = this.busy.then(() => this.pass(this.now())).finally(() => this.schedule());
    }, this.opts.settings().backoffMs);
    this.timer.unref?.();
  }

  /** Stops the passes; a round in progress gives up at its next slice (its .cleaned file is deleted). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.busy.catch(() => {});
  }

  /** Runs one pass now (after any running one): cleans every log that is cleanable at `nowMs`. For tests and tools. */
  cleanNow(nowMs = this.now()): Promise<CleanStats[]> {
    const run = this.busy.then(() => this.pass(nowMs));
    this.busy = run.catch(() => {});
    return run;
  }

  /** A partition's log went away (topic deleted): its checkpoint entry goes with it. */
  forget(topic: string, partition: number): void {
    this.checkpoints.delete(key(topic, partition));
  }

  /** The checkpointed first dirty offset of a partition (tests, diagnostics). */
  checkpointOf(topic: string, partition: number): number | undefined {
    return this.checkpoints.get(key(topic, partition));
  }

  private async pass(now: number): Promise<CleanStats[]> {
    const out: CleanStats[] = [];
    for (let n = 0; n < MAX_CLEANS_PER_PASS && !this.stopped; n++) {
      const ltc = this.filthiest(now);
      if (ltc === null) break;
      const stats = await this.cleanLog(ltc, now);
      if (stats === null) break; // aborted: try again at the next pass
      out.push(stats);
    }
    return out;
  }

  /** Kafka's grabFilthiestCompactedLog: the cleanable log with the largest dirty ratio, or null. */
  private filthiest(now: number): LogToClean | null {
    let best: LogToClean | null = null;
    let forced = false;
    for (const p of this.opts.partitions()) {
      if (p.isClosed || this.uncleanable.has(p)) continue;
      const config = this.opts.topicConfig(p.topic);
      if (!config.compact) continue;
      const segments = p.log.segmentSummaries();
      const active = segments[segments.length - 1]!;
      // cleanableOffsets: a checkpoint outside the log (retention moved the start, a cut tail) starts over at the log start
      let firstDirty = this.checkpoints.get(key(p.topic, p.index)) ?? p.logStartOffset;
      if (firstDirty < p.logStartOffset || firstDirty > p.logEndOffset) {
        // as Kafka, not worth a line when retention moves the start of a compact,delete log
        if (!config.delete || firstDirty > p.logEndOffset) log.warn(`${p.name}: first dirty offset reset to the log start offset ${p.logStartOffset}: the checkpointed ${firstDirty} is outside the log`);
        firstDirty = p.logStartOffset;
        this.checkpoints.set(key(p.topic, p.index), firstDirty);
        forced = true;
      }
      let uncleanable = Math.min(p.lastStableOffset, active.baseOffset);
      const dirtyClosed = overlapping(segments.slice(0, -1), firstDirty, Number.MAX_SAFE_INTEGER);
      if (config.minCompactionLagMs > 0) {
        const young = dirtyClosed.find((s) => s.largestTimestamp > now - config.minCompactionLagMs);
        if (young) uncleanable = Math.min(uncleanable, young.baseOffset);
      }
      uncleanable = Math.max(firstDirty, uncleanable);
      // calculateCleanableBytes: whole segments from the one holding firstDirty to the one holding the uncleanable offset
      const holding = segments.slice(0, -1).find((s, i) => segments[i + 1]!.baseOffset > uncleanable) ?? active;
      const firstUncleanable = holding.baseOffset;
      const cleanBytes = overlapping(segments, -1, firstDirty).reduce((n, s) => n + s.size, 0);
      const cleanableBytes = overlapping(segments, Math.min(firstDirty, firstUncleanable), firstUncleanable).reduce((n, s) => n + s.size, 0);
      const total = cleanBytes + cleanableBytes;
      if (total === 0) continue;
      const ratio = cleanableBytes / total;
      const needNow = this.maxCompactionDelay(dirtyClosed, config, now) > 0;
      if (!((needNow && cleanableBytes > 0) || ratio > config.minCleanableRatio)) continue;
      if (best === null || ratio > best.ratio) best = { partition: p, config, segments, firstDirtyOffset: firstDirty, firstUncleanableOffset: firstUncleanable, cleanableBytes, ratio, needCompactionNow: needNow };
    }
    if (forced) this.writeCheckpoint();
    return best;
  }

  /** How long past max.compaction.lag.ms the oldest dirty record is (0: not yet); reads the first batch header of each dirty segment. */
  private maxCompactionDelay(dirty: SegmentSummary[], config: TopicCleanConfig, now: number): number {
    const cleanUntil = now - Math.max(config.maxCompactionLagMs, 0);
    if (cleanUntil <= 0) return 0; // the default (Long.MAX_VALUE): never
    let earliest = Number.MAX_SAFE_INTEGER;
    const header = new Uint8Array(BATCH_HEADER_SIZE);
    for (const s of dirty) {
      if (s.size < BATCH_HEADER_SIZE) continue;
      try {
        const fd = openSync(s.path, "r");
        try {
          if (readSync(fd, header, 0, BATCH_HEADER_SIZE, 0) === BATCH_HEADER_SIZE) {
            const ts = int64At(header, OFF_MAX_TIMESTAMP);
            if (ts > 0) earliest = Math.min(earliest, ts);
          }
        } finally {
          closeSync(fd);
        }
      } catch {
        // deleted meanwhile: nothing to compact there
      }
    }
    return earliest < cleanUntil ? cleanUntil - earliest : 0;
  }

  /** Cleans one log; its stats, or null when the round was given up. */
  private async cleanLog(ltc: LogToClean, now: number): Promise<CleanStats | null> {
    const p = ltc.partition;
    const settings = this.opts.settings();
    const check = () => {
      if (this.stopped) throw new CleaningAborted("the cleaner stopped");
      if (p.isClosed) throw new CleaningAborted(`${p.name} closed`);
    };
    try {
      const { map, endOffset } = await this.buildOffsetMap(ltc, settings, check);
      const stats: CleanStats = {
        partition: p.name,
        firstDirtyOffset: ltc.firstDirtyOffset,
        endOffset,
        bytesRead: 0,
        bytesWritten: 0,
        recordsRead: 0,
        recordsKept: 0,
        segmentsBefore: 0,
        segmentsAfter: 0,
      };
      const ctx: FilterContext = { map, now, deleteRetentionMs: ltc.config.deleteRetentionMs, upperBound: ltc.firstUncleanableOffset, activeProducers: p.lastRecordsOfActiveProducers() };
      const closed = ltc.segments.slice(0, -1);
      for (const group of groupSegmentsBySize(overlapping(closed, 0, endOffset), ltc.config.segmentBytes, ltc.firstUncleanableOffset)) {
        await this.cleanSegments(p, group, ctx, stats, settings, check);
      }
      this.checkpoints.set(key(p.topic, p.index), endOffset);
      this.writeCheckpoint();
      log.info(
        `${p.name}: cleaned offsets [${stats.firstDirtyOffset}, ${endOffset}): ${stats.bytesRead} bytes -> ${stats.bytesWritten} bytes, ` +
          `${stats.recordsKept} records kept, ${stats.recordsRead - stats.recordsKept} removed (${stats.segmentsBefore} segments -> ${stats.segmentsAfter})`,
      );
      return stats;
    } catch (e) {
      if (e instanceof CleaningAborted) {
        log.debug(`${p.name}: cleaning given up: ${e.message}`);
        return null;
      }
      this.uncleanable.add(p);
      log.warn(`${p.name}: cannot be cleaned, left alone until the next start: ${(e as Error).message}`);
      return null;
    }
  }

  /** Cleaner.buildOffsetMap: the newest offset of every key in [firstDirty, firstUncleanable), as far as the map holds. */
  private async buildOffsetMap(ltc: LogToClean, settings: CleanerSettings, check: () => void): Promise<{ map: OffsetMap; endOffset: number }> {
    const start = ltc.firstDirtyOffset;
    const end = ltc.firstUncleanableOffset;
    const map = OffsetMap.sized(settings.dedupeBufferSize, settings.loadFactor, end - start);
    const dirty = overlapping(ltc.segments.slice(0, -1), start, end);
    let full = false;
    for (let i = 0; i < dirty.length && !full; i++) {
      check();
      const reader = new BatchReader(dirty[i]!.path, settings.ioBufferSize);
      try {
        for (let batch = reader.next(); batch !== null && !full; batch = reader.next()) {
          const base = int64At(batch, OFF_BASE_OFFSET);
          const lastOffset = base + int32At(batch, OFF_LAST_OFFSET_DELTA);
          if (lastOffset < start) continue;
          if (!(int16At(batch, OFF_ATTRIBUTES) & ATTR_CONTROL)) {
            const data = recordsSection(batch);
            for (const r of decodeRecordsSection(data, 0, data.length, int32At(batch, OFF_RECORD_COUNT))) {
              const offset = base + r.offsetDelta;
              if (r.key === null || offset < start) continue;
              if (map.full) {
                // the round ends before this record; it is cleaned next time
                full = true;
                break;
              }
              map.put(r.key, offset);
            }
          }
          if (!full) map.latestOffset = Math.max(map.latestOffset, lastOffset);
          await this.slice(batch.length, check);
        }
      } finally {
        reader.close();
      }
      // a gap at the segment's end (cleaned away before) belongs to it
      if (!full) map.latestOffset = Math.max(map.latestOffset, (i + 1 < dirty.length ? dirty[i + 1]!.baseOffset : end) - 1);
    }
    return { map, endOffset: Math.max(start, map.latestOffset + 1) };
  }

  /** Cleaner.cleanSegments: one group into `<first base>.log.cleaned`, swapped in for it. */
  private async cleanSegments(p: Partition, group: SegmentSummary[], ctx: FilterContext, stats: CleanStats, settings: CleanerSettings, check: () => void): Promise<void> {
    const cleanedPath = join(p.log.dir, segmentName(group[0]!.baseOffset) + ".log" + CLEANED_SUFFIX);
    const fd = openSync(cleanedPath, "w");
    let open = true;
    const closeOut = () => {
      if (open) closeSync(fd);
      open = false;
    };
    try {
      const ioSize = Math.max(BATCH_HEADER_SIZE, settings.ioBufferSize);
      let out = new Uint8Array(ioSize);
      let outLen = 0;
      let written = 0;
      const flushOut = () => {
        let done = 0;
        while (done < outLen) done += diskIo.writeSync(fd, out, done, outLen - done, written + done);
        written += outLen;
        outLen = 0;
      };
      for (const seg of group) {
        check();
        const reader = new BatchReader(seg.path, settings.ioBufferSize);
        try {
          for (let batch = reader.next(); batch !== null; batch = reader.next()) {
            stats.bytesRead += batch.length;
            const kept = filterBatch(batch, ctx, stats);
            if (kept !== null) {
              if (outLen + kept.length > out.length) {
                flushOut();
                if (kept.length > out.length) out = new Uint8Array(kept.length);
              }
              out.set(kept, outLen);
              outLen += kept.length;
            }
            await this.slice(batch.length, check, kept?.length ?? 0);
          }
        } finally {
          reader.close();
        }
      }
      flushOut();
      diskIo.fsyncSync(fd);
      closeOut();
      check();
      if (!p.replaceSegments(group.map((s) => s.baseOffset), cleanedPath)) throw new CleaningAborted(`${p.name}: segments changed while cleaning`);
      stats.bytesWritten += written;
      stats.segmentsBefore += group.length;
      stats.segmentsAfter += 1;
    } catch (e) {
      closeOut();
      try {
        unlinkSync(cleanedPath);
      } catch {
        // swapped in already, or never written
      }
      throw e;
    }
  }

  /**
   * Counts bytes read (and written, for the throttle); every SLICE_BYTES read,
   * gives the event loop a turn, then checks the round may go on. Above
   * log.cleaner.io.max.bytes.per.second it sleeps, as Kafka's cleaner does.
   */
  private async slice(bytes: number, check: () => void, written = 0): Promise<void> {
    const nap = this.throttler.observe(bytes + written);
    if (nap > 0) {
      this.sliced = 0;
      await this.throttler.sleep(nap, check);
      return;
    }
    if ((this.sliced += bytes) < SLICE_BYTES) return;
    this.sliced = 0;
    await turn();
    check();
  }

  /** Writes cleaner-offset-checkpoint: the partitions that have an entry and are still open. */
  private writeCheckpoint(): void {
    const live = new Set<string>();
    for (const p of this.opts.partitions()) live.add(key(p.topic, p.index));
    const entries: [string, number, number][] = [];
    for (const [k, o] of this.checkpoints) {
      if (!live.has(k)) continue;
      const at = k.indexOf("\u0000");
      entries.push([k.slice(0, at), Number(k.slice(at + 1)), o]);
    }
    try {
      writeOffsetCheckpoint(this.checkpointPath, entries);
    } catch (e) {
      log.warn(`${CLEANER_OFFSET_CHECKPOINT}: not written: ${(e as Error).message}`);
    }
  }
}

/**
 * Cleaner.groupSegmentsBySize: adjacent segments whose bytes together stay
 * within `maxSize` (and whose offsets fit an index's 32-bit relative offsets).
 */
export function groupSegmentsBySize(segs: SegmentSummary[], maxSize: number, firstUncleanableOffset: number): SegmentSummary[][] {
  const groups: SegmentSummary[][] = [];
  let i = 0;
  while (i < segs.length) {
    const group = [segs[i]!];
    let size = segs[i]!.size;
    i++;
    while (i < segs.length && size + segs[i]!.size <= maxSize) {
      const lastOffset = i + 1 < segs.length ? segs[i + 1]!.baseOffset - 1 : firstUncleanableOffset - 1;
      if (segs[i]!.size > 0 && lastOffset - group[0]!.baseOffset > 2147483647) break;
      group.push(segs[i]!);
      size += segs[i]!.size;
      i++;
    }
    groups.push(group);
  }
  return groups;
}

function turn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
