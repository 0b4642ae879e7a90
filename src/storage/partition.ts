// One partition as the broker serves it: its log and the state Kafka keeps
// beside it (Partition/UnifiedLog): the leader epoch (from the metadata
// image), the high watermark, the log start offset, and the fetches waiting
// for data. Handlers ask the partition; they neither stamp leader epochs nor
// wake waiting fetches themselves.

import type { PartitionInfo } from "../metadata/image.ts";
import { int64At, OFF_MAX_TIMESTAMP, setPartitionLeaderEpoch, type BatchInfo } from "../records/batch.ts";
import { PartitionLog, type BatchHeader, type PartitionLogOptions, type TimestampOffset } from "./partition-log.ts";
import type { SegmentRecords } from "./segment.ts";
import { ProducerState } from "./producer-state.ts";

export type PartitionOpenOptions = Omit<PartitionLogOptions, "onBatch">;

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

  /**
   * Idempotent producers: per producer id its epoch and last five batches,
   * rebuilt from the batch headers the log's opening scan passes to
   * loadBatch(), then kept by append(). Made on the first batch with a producer id.
   */
  private producers: ProducerState | null = null;

  // ---- Room for transactions (later issues) ----
  // last stable offset: the high watermark until transactions exist;
  // aborted transactions: for READ_COMMITTED fetches (none yet).

  private constructor(
    readonly topic: string,
    readonly index: number,
    /** this partition in the metadata image (the image updates it in place) */
    private info: PartitionInfo,
  ) {}

  /** Opens (creating if needed) the partition's log in `dir`. */
  static open(dir: string, topic: string, info: PartitionInfo, opts: PartitionOpenOptions): Partition {
    const p = new Partition(topic, info.partition, info);
    p.log = PartitionLog.open(dir, { ...opts, onBatch: (b) => p.loadBatch(b) });
    p.hw = p.log.logEndOffset; // single replica: everything in the log is committed
    p.startOffset = p.log.logStartOffset;
    return p;
  }

  /** A batch header met while opening the log: where producer state will be rebuilt from. */
  private loadBatch(b: BatchHeader): void {
    if (b.producerId < 0) return;
    (this.producers ??= new ProducerState()).update(b.producerId, b.producerEpoch, b.baseSequence, b.baseOffset, b.lastOffsetDelta, b.maxTimestamp);
  }

  get name(): string {
    return `${this.topic}-${this.index}`;
  }

  /** The topic's segment.bytes or index.interval.bytes changed. */
  reconfigure(segmentBytes: number, indexIntervalBytes: number): void {
    this.log.reconfigure(segmentBytes, indexIntervalBytes);
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
    return this.log.offsetForTimestamp(ts);
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

  /** Runs the append listeners (an append, shutdown, deletion). */
  wakeWaiters(): void {
    if (this.appendListeners.size === 0) return;
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
      this.log.deleteSegmentsBefore(offset);
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
    const n = this.log.deleteSegmentsBefore(offset);
    this.startOffset = Math.max(this.startOffset, this.log.logStartOffset);
    return n;
  }

  flush(): void {
    this.log.flush();
  }

  close(): void {
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
