// One partition as the broker serves it: its log and the state Kafka keeps
// beside it (Partition/UnifiedLog): the leader epoch (from the metadata
// image), the high watermark, the log start offset, the fetches waiting
// for data, and the idempotent producers' state with its .snapshot files.
// Handlers ask the partition; they neither stamp leader epochs nor wake
// waiting fetches themselves.
//
// Producer state snapshots, as Kafka's UnifiedLog/LogLoader/ProducerStateManager:
// - written when a segment rolls (named by the new segment's base offset, not
//   fsynced until the next flush), on close (at the log end offset, fsynced),
//   and at the end of opening when the newest one is below the log end. A
//   partition that never saw a producer id gets them too, with no entries, as
//   Kafka writes them (so the next start knows there is nothing to scan for).
// - opening: the snapshots at no segment's base are stray, only the newest
//   stray above the last segment's base is kept; those at or below the log
//   start go; the newest that reads back (a corrupt one is deleted with a
//   warning) gives the state, minus producers expired by then, and only the
//   batches from its offset on are applied, their headers read as the log
//   opens (through the index to the snapshot's offset). One newer than
//   the log end (a torn tail was cut) is deleted and an older one used, its
//   batches read again. Without any snapshot the whole log is applied (Kafka
//   skips that after a clean shutdown and loses the state). While applying, a snapshot is written at each of the last two
//   segments' base offsets that is above the loaded one, as Kafka does.
// - deleting segments deletes the snapshots at their base offsets.

import type { PartitionInfo } from "../metadata/image.ts";
import { readdirSync } from "node:fs";
import { int16At, int32At, int64At, OFF_BASE_OFFSET, OFF_BASE_SEQUENCE, OFF_LAST_OFFSET_DELTA, OFF_MAX_TIMESTAMP, OFF_PRODUCER_EPOCH, OFF_PRODUCER_ID, setPartitionLeaderEpoch, type BatchInfo } from "../records/batch.ts";
import { log } from "../log.ts";
import { PartitionLog, type BatchHeader, type LogRollConfig, type PartitionLogOptions, type TimestampOffset } from "./partition-log.ts";
import type { SegmentRecords } from "./segment.ts";
import { isExpired, ProducerState } from "./producer-state.ts";
import { ProducerSnapshots, type SnapshotEntry } from "./producer-snapshot.ts";

/** Kafka's producer.id.expiration.ms default */
export const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000;
const SEGMENT_LOG_RE = /^(\d{20})\.log$/;

export interface PartitionOpenOptions extends Omit<PartitionLogOptions, "onBatch" | "onSegment" | "onRoll" | "names" | "replayFrom"> {
  /** the log start offset log-start-offset-checkpoint holds, if any: snapshots at or below the log start are deleted */
  logStartOffset?: number;
  /** producers idle this long when a snapshot is loaded are left out (producer.id.expiration.ms) */
  producerIdExpirationMs?: number;
}

/** An append's outcome: errorCode 0 and where the batches went, or a producer-state refusal (nothing written). */
export interface AppendResult {
  baseOffset: number;
  errorCode: number;
  message?: string;
  /** an exact duplicate of a recent batch of the same producer: not written again, baseOffset is the original's */
  duplicate?: boolean;
  /** for a duplicate: the original batch's max timestamp, which Kafka answers as log_append_time_ms */
  timestamp?: number;
}

export class Partition {
  log!: PartitionLog;
  private hw = 0;
  private startOffset = 0;
  /** run after each append (waiting fetches), and when the partition goes away */
  private readonly appendListeners = new Set<() => void>();
  private wakeScheduled = false;

  /**
   * Idempotent producers: per producer id its epoch and last five batches,
   * loaded from the newest snapshot plus the batch headers after it that the
   * log's opening scan passes to loadBatch(), then kept by append(). Made on
   * the first producer met.
   */
  private producers: ProducerState | null = null;
  private snapshots!: ProducerSnapshots;
  /** the offset of the last snapshot taken or loaded (Kafka's lastSnapOffset): none is written again at or below it */
  private lastSnapOffset = 0;
  /** batches ending below this are not applied to the producer state (they are in the snapshot, or below the log start) */
  private applyFrom = 0;
  private warn: (message: string) => void = log.warn;

  // ---- Room for transactions (later issues) ----
  // last stable offset: the high watermark until transactions exist;
  // aborted transactions: for READ_COMMITTED fetches (none yet).

  private constructor(
    readonly topic: string,
    readonly index: number,
    /** this partition in the metadata image (the image updates it in place) */
    private info: PartitionInfo,
  ) {}

  /** Opens (creating if needed) the partition's log in `dir`, with its producer state. */
  static open(dir: string, topic: string, info: PartitionInfo, opts: PartitionOpenOptions): Partition {
    const p = new Partition(topic, info.partition, info);
    if (opts.warn) p.warn = opts.warn;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      names = [];
    }
    const bases: number[] = [];
    for (const n of names) {
      const m = SEGMENT_LOG_RE.exec(n);
      if (m) bases.push(Number(m[1]));
    }
    bases.sort((a, b) => a - b);
    const expirationMs = opts.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS;
    const now = Date.now();
    const snaps = (p.snapshots = new ProducerSnapshots(dir, names, p.warn));
    snaps.removeStray(bases);
    const logStart = Math.max(opts.logStartOffset ?? 0, bases[0] ?? 0);
    snaps.deleteOutside(logStart, Number.MAX_SAFE_INTEGER);
    const loaded = snaps.loadLatest(Number.MAX_SAFE_INTEGER);
    if (loaded) p.loadSnapshot(loaded.entries, now, expirationMs);
    p.applyFrom = p.lastSnapOffset = loaded ? loaded.offset : logStart;
    // Kafka's rebuildProducerState snapshots the last two segments' bases on its way through them
    const snapshotBases = new Set(bases.slice(-2));
    p.log = PartitionLog.open(dir, {
      ...opts,
      names,
      replayFrom: p.applyFrom,
      onBatch: (b) => p.loadBatch(b),
      onSegment: (base) => {
        if (snapshotBases.has(base) && base > p.lastSnapOffset) p.takeSnapshot(base, true);
      },
      onRoll: (base) => p.rolled(base),
    });
    try {
      const end = p.log.logEndOffset;
      if (loaded && loaded.offset > end) {
        // the log ends below the snapshot (its tail was cut): an older snapshot, and its batches read again
        snaps.deleteOutside(logStart, end);
        p.producers = null;
        const older = snaps.loadLatest(end);
        if (older) p.loadSnapshot(older.entries, now, expirationMs);
        p.applyFrom = p.lastSnapOffset = older ? older.offset : logStart;
        p.log.forEachBatch(p.applyFrom, (bytes) => p.loadBatchBytes(bytes));
      }
      if (end > p.lastSnapOffset) p.takeSnapshot(end, true);
    } catch (e) {
      p.log.close();
      throw e;
    }
    p.hw = p.log.logEndOffset; // single replica: everything in the log is committed
    // Kafka's LogLoader: the first segment's base offset (compaction may have emptied the segment's head:
    // a consumer reading from there gets the first record after it, not OFFSET_OUT_OF_RANGE)
    p.startOffset = Math.min(p.log.logStartOffset, p.log.segmentBaseOffsets[0] ?? p.log.logStartOffset);
    return p;
  }

  /** The producers of a snapshot file, less those already expired (Kafka's loadFromSnapshot). */
  private loadSnapshot(entries: SnapshotEntry[], now: number, expirationMs: number): void {
    for (const e of entries) {
      if (isExpired(e.currentTxnFirstOffset, e.timestamp, now, expirationMs)) continue;
      (this.producers ??= new ProducerState()).loadEntry(e);
    }
  }

  /** A batch header met while opening the log: applied to the producer state when after the snapshot. */
  private loadBatch(b: BatchHeader): void {
    if (b.producerId < 0 || b.baseOffset + b.lastOffsetDelta < this.applyFrom) return;
    (this.producers ??= new ProducerState()).update(b.producerId, b.producerEpoch, b.baseSequence, b.baseOffset, b.lastOffsetDelta, b.maxTimestamp);
  }

  /** The same from a batch's bytes (read again after falling back to an older snapshot). */
  private loadBatchBytes(batch: Uint8Array): void {
    const pid = int64At(batch, OFF_PRODUCER_ID);
    if (pid < 0) return;
    const base = int64At(batch, OFF_BASE_OFFSET);
    const delta = int32At(batch, OFF_LAST_OFFSET_DELTA);
    if (base + delta < this.applyFrom) return;
    (this.producers ??= new ProducerState()).update(pid, int16At(batch, OFF_PRODUCER_EPOCH), int32At(batch, OFF_BASE_SEQUENCE), base, delta, int64At(batch, OFF_MAX_TIMESTAMP));
  }

  /** Writes the producer state as the snapshot at `offset` (Kafka's takeSnapshot). */
  private takeSnapshot(offset: number, sync: boolean): void {
    this.snapshots.take(offset, this.producers?.toSnapshot() ?? [], sync);
    this.lastSnapOffset = offset;
  }

  /** A segment rolled: the state up to its base is snapshotted there (fsynced at the next flush). */
  private rolled(base: number): void {
    if (base <= this.lastSnapOffset) return;
    try {
      this.takeSnapshot(base, false);
    } catch (e) {
      this.warn(`${this.name}: producer snapshot at ${base} not written: ${(e as Error).message}`);
    }
  }

  /** The offsets of the partition's producer snapshot files, oldest first (tests, diagnostics). */
  get snapshotOffsets(): readonly number[] {
    return this.snapshots.all;
  }

  /** How many producer ids the partition keeps state for. */
  get producerCount(): number {
    return this.producers?.size ?? 0;
  }

  /**
   * Drops the producers whose last batch is `expirationMs` or more before
   * `nowMs` (Kafka's periodic removeExpiredProducers); returns how many.
   */
  removeExpiredProducers(nowMs: number, expirationMs: number): number {
    return this.producers?.removeExpired(nowMs, expirationMs) ?? 0;
  }

  get name(): string {
    return `${this.topic}-${this.index}`;
  }

  /** The topic's segment.bytes or index.interval.bytes changed. */
  reconfigure(cfg: LogRollConfig): void {
    this.log.reconfigure(cfg);
  }

  /** The metadata image replaced this partition's entry (e.g. a PartitionRecord again). */
  updateInfo(info: PartitionInfo): void {
    this.info = info;
  }

  get leaderEpoch(): number {
    return this.info.leaderEpoch;
  }

  get logStartOffset(): number {
    return this.startOffset;
  }

  get logEndOffset(): number {
    return this.log.logEndOffset;
  }

  get highWatermark(): number {
    return this.hw;
  }

  /** No transactions yet: nothing is pending below the high watermark. */
  get lastStableOffset(): number {
    return this.hw;
  }

  /** Closed or deleted: no longer served. */
  get isClosed(): boolean {
    return this.log.isClosed;
  }

  /**
   * Appends batches validated by the caller, stamped with the current leader
   * epoch (outside the CRC), with one write; then wakes the waiting fetches.
   */
  append(records: Uint8Array, batches: BatchInfo[]): AppendResult {
    let idempotent = false;
    for (const b of batches) {
      if (b.producerId < 0) continue;
      idempotent = true;
      if (this.producers === null) continue; // no producer known here yet: any sequence is accepted
      const c = this.producers.check(b.producerId, b.producerEpoch, b.baseSequence, b.lastOffsetDelta);
      if (c.kind === "error") return { baseOffset: -1, errorCode: c.errorCode, message: c.message };
      // a duplicate is answered with the original batch's offset (the produce path sends one batch per partition)
      if (c.kind === "duplicate" && batches.length === 1) return { baseOffset: c.baseOffset, errorCode: 0, duplicate: true, timestamp: c.timestamp };
    }
    const epoch = this.info.leaderEpoch;
    for (const b of batches) setPartitionLeaderEpoch(records, b.position, epoch);
    const result: AppendResult = { baseOffset: this.log.append(records, batches).baseOffset, errorCode: 0 };
    if (idempotent) {
      const state = (this.producers ??= new ProducerState());
      let off = result.baseOffset;
      for (const b of batches) {
        if (b.producerId >= 0) state.update(b.producerId, b.producerEpoch, b.baseSequence, off, b.lastOffsetDelta, int64At(records, b.position + OFF_MAX_TIMESTAMP));
        off += b.lastOffsetDelta + 1;
      }
    }
    this.hw = this.log.logEndOffset;
    this.wakeWaiters();
    return result;
  }

  /** The epoch this partition knows for producer `pid`, or undefined. */
  producerEpoch(pid: number): number | undefined {
    return this.producers?.epochOf(pid);
  }

  /** Record sources from `offset` (see PartitionLog.read); the caller releases them. */
  read(offset: number, maxBytes: number, minOneBatch = true, partialTail = false): SegmentRecords[] {
    return this.log.read(offset, maxBytes, minOneBatch, partialTail);
  }

  /** The bytes read() would return now. */
  readableBytes(offset: number, maxBytes: number, minOneBatch = true, partialTail = false): number {
    return this.log.readableBytes(offset, maxBytes, minOneBatch, partialTail);
  }

  offsetForTimestamp(ts: number): TimestampOffset | null {
    return this.log.offsetForTimestamp(ts, this.startOffset);
  }

  maxTimestampOffset(): TimestampOffset | null {
    return this.log.maxTimestampOffset();
  }

  /** Registers a callback run after each append and when the partition closes; returns its remover. */
  onAppend(cb: () => void): () => void {
    this.appendListeners.add(cb);
    return () => this.appendListeners.delete(cb);
  }

  /** Fetches waiting on this partition. */
  get waitingFetches(): number {
    return this.appendListeners.size;
  }

  /**
   * Runs the append listeners (an append, shutdown, deletion). After an
   * append they run once the current I/O callbacks are done (setImmediate),
   * coalesced: a produce costs the same with 10,000 waiting fetches as with
   * none, and the appends of one socket read wake each waiter once. A closed
   * or deleted log wakes them at once.
   */
  wakeWaiters(): void {
    if (this.appendListeners.size === 0) return;
    if (this.log.isClosed) return this.runWaiters();
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      this.runWaiters();
    });
  }

  private runWaiters(): void {
    for (const cb of [...this.appendListeners]) cb();
  }

  /**
   * Moves the log start offset up to `offset` (DeleteRecords; Kafka's
   * maybeIncrementLogStartOffset) and deletes the whole segments below it.
   * Never moves it down. Returns false, changing nothing, when `offset` is
   * above the high watermark (OFFSET_OUT_OF_RANGE).
   */
  deleteRecordsBefore(offset: number): boolean {
    if (offset > this.hw) return false;
    if (offset > this.startOffset) {
      this.startOffset = offset;
      this.deleteSegmentsAndSnapshots(offset);
    }
    return true;
  }

  /** The log start offset a checkpoint kept (start-up): applied when above the first segment, capped at the log end. */
  restoreLogStartOffset(offset: number): void {
    this.startOffset = Math.min(Math.max(this.startOffset, offset), this.log.logEndOffset);
  }

  /** The log start offset is above the first segment's base (DeleteRecords): what the checkpoint keeps. */
  get startOffsetAboveLog(): boolean {
    return this.startOffset > this.log.logStartOffset;
  }

  /** The bytes of the partition's segment files. */
  get sizeInBytes(): number {
    return this.log.sizeInBytes;
  }

  /** Deletes whole segments below `offset` (retention); the log start offset moves up to the first kept. */
  deleteSegmentsBefore(offset: number): number {
    const n = this.deleteSegmentsAndSnapshots(offset);
    this.startOffset = Math.max(this.startOffset, this.log.logStartOffset);
    return n;
  }

  /** Deletes the whole segments below `offset` and the producer snapshots at their base offsets (Kafka's deleteProducerSnapshots). */
  private deleteSegmentsAndSnapshots(offset: number): number {
    const bases = this.log.segmentBaseOffsets;
    const n = this.log.deleteSegmentsBefore(offset);
    for (const base of bases.slice(0, n)) this.snapshots.delete(base);
    // Kafka's onLogStartOffsetIncremented
    if (n > 0) this.lastSnapOffset = this.snapshots.latest ?? this.log.logStartOffset;
    return n;
  }

  // ---- for the cleaner (cleaner.ts) ----
  /** Each active producer's last data offset: the cleaner keeps the batch holding it, even emptied, so sequences survive. */
  lastRecordsOfActiveProducers(): Map<number, number> {
    return this.producers?.lastDataOffsets() ?? new Map();
  }

  /**
   * Swaps a cleaned segment in for the segments at `oldBaseOffsets` (see
   * PartitionLog.replaceSegments); the producer snapshots at the bases that
   * no longer start a segment go, as in Kafka's UnifiedLog.replaceSegments.
   */
  replaceSegments(oldBaseOffsets: number[], cleanedLogPath: string): boolean {
    if (!this.log.replaceSegments(oldBaseOffsets, cleanedLogPath)) return false;
    for (const base of oldBaseOffsets.slice(1)) this.snapshots.delete(base);
    return true;
  }

  /** fsyncs what was appended, and the snapshots rolls wrote, since the last flush. */
  flush(): void {
    this.log.flush();
    this.snapshots.flush();
  }

  /** Closes the log, first writing the producer snapshot at the log end (fsynced) if the last one is below it. */
  close(): void {
    if (!this.log.isClosed) {
      try {
        if (this.log.logEndOffset > this.lastSnapOffset) this.takeSnapshot(this.log.logEndOffset, true);
        this.snapshots.flush();
      } catch (e) {
        this.warn(`${this.name}: producer snapshot not written: ${(e as Error).message}`);
      }
    }
    this.log.close();
    this.wakeWaiters();
  }

  /** Deletes the log (renamed `-delete`, removed once unread); waiting fetches answer. Returns the renamed dir. */
  delete(): string {
    const to = this.log.delete();
    this.wakeWaiters();
    return to;
  }
}
