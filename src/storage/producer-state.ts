// Per-partition producer state for idempotent producers, as Kafka's
// ProducerStateManager keeps it: per producer id its epoch, last timestamp and
// the metadata of its last five batches (first/last sequence, base/last offset).
//
// A client batch (producerId >= 0) is checked as Kafka 4.4 does
// (UnifiedLog.analyzeAndValidateProducerState, ProducerAppendInfo):
//   - same epoch and the same sequence range as one of the last five batches:
//     a duplicate, answered with that batch's base offset and not written;
//   - an older epoch: INVALID_PRODUCER_EPOCH (47);
//   - a newer epoch must start at sequence 0, else OUT_OF_ORDER_SEQUENCE_NUMBER (45);
//   - the same epoch must continue at last sequence + 1 (INT32_MAX wraps to 0;
//     an entry with no batch, as a snapshot can hold, continues at 0),
//     else OUT_OF_ORDER_SEQUENCE_NUMBER;
//   - a producer id this partition does not know (never seen, or expired) is
//     accepted at any sequence (Kafka no longer answers UNKNOWN_PRODUCER_ID:
//     its state may have been removed by retention or expiration).
// The state is rebuilt from the newest .snapshot file (producer-snapshot.ts:
// one batch per producer) plus the batch headers after it that the log's
// opening scan reads (no validation then, as Kafka's loadProducersFromRecords).
// Expiration (producer.id.expiration.ms) is Kafka's isProducerExpired: no open
// transaction and now - last timestamp >= the expiration, where the last
// timestamp is the last batch's max timestamp (the producer's CreateTime, or
// the broker's clock under LogAppendTime).

import { ErrorCode } from "../protocol/errors.ts";
import type { SnapshotEntry } from "./producer-snapshot.ts";

/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN */
export const BATCHES_TO_RETAIN = 5;
const INT32_MAX = 2147483647;

interface BatchMeta {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
  lastOffset: number;
  /** the batch's max timestamp as written: Kafka answers a duplicate with it as log_append_time_ms */
  timestamp: number;
}

interface ProducerEntry {
  epoch: number;
  /** oldest first, at most BATCHES_TO_RETAIN */
  batches: BatchMeta[];
  /** the last batch's (or marker's) max timestamp: what expiration measures from */
  lastTimestamp: number;
  /** kept for the snapshot files: -1 until transactions exist */
  coordinatorEpoch: number;
  currentTxnFirstOffset: number;
}

/** DefaultRecordBatch.incrementSequence: sequences wrap from INT32_MAX to 0. */
export function incrementSequence(seq: number, by: number): number {
  return seq > INT32_MAX - by ? by - (INT32_MAX - seq) - 1 : seq + by;
}

/** DefaultRecordBatch.decrementSequence */
export function decrementSequence(seq: number, by: number): number {
  return seq < by ? INT32_MAX - (by - seq) + 1 : seq - by;
}

/** What a client batch is: new (append it), a duplicate (answer baseOffset), or refused (errorCode). */
export type ProducerCheck = { kind: "append" } | { kind: "duplicate"; baseOffset: number; timestamp: number } | { kind: "error"; errorCode: number; message: string };

const APPEND: ProducerCheck = { kind: "append" };

export class ProducerState {
  private readonly producers = new Map<number, ProducerEntry>();

  get size(): number {
    return this.producers.size;
  }

  /** Checks one client batch of producer `pid` (>= 0) against the state; changes nothing. */
  check(pid: number, epoch: number, baseSeq: number, lastOffsetDelta: number): ProducerCheck {
    const e = this.producers.get(pid);
    if (e === undefined) return APPEND;
    const lastSeq = incrementSequence(baseSeq, lastOffsetDelta);
    if (epoch === e.epoch) {
      for (const b of e.batches) if (b.firstSeq === baseSeq && b.lastSeq === lastSeq) return { kind: "duplicate", baseOffset: b.baseOffset, timestamp: b.timestamp };
    }
    if (epoch < e.epoch) {
      return { kind: "error", errorCode: ErrorCode.INVALID_PRODUCER_EPOCH, message: `epoch ${epoch} of producer ${pid} is older than ${e.epoch}` };
    }
    if (epoch !== e.epoch) {
      if (baseSeq !== 0) return { kind: "error", errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, message: `new epoch ${epoch} of producer ${pid} starts at sequence ${baseSeq}, not 0` };
      return APPEND;
    }
    const last = e.batches.length > 0 ? e.batches[e.batches.length - 1]!.lastSeq : -1;
    if (baseSeq === last + 1 || (baseSeq === 0 && last === INT32_MAX)) return APPEND;
    return { kind: "error", errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, message: `producer ${pid} sent sequence ${baseSeq} after ${last}` };
  }

  /** Records a written batch (after an append, or met in the log at start-up). */
  update(pid: number, epoch: number, baseSeq: number, baseOffset: number, lastOffsetDelta: number, timestamp: number): void {
    let e = this.producers.get(pid);
    if (e === undefined) {
      e = { epoch, batches: [], lastTimestamp: timestamp, coordinatorEpoch: -1, currentTxnFirstOffset: -1 };
      this.producers.set(pid, e);
    } else if (e.epoch !== epoch) {
      e.epoch = epoch;
      e.batches.length = 0;
    }
    e.lastTimestamp = timestamp;
    if (baseSeq < 0) return; // a batch without sequences (transaction markers): the epoch only
    if (e.batches.length === BATCHES_TO_RETAIN) e.batches.shift();
    e.batches.push({ firstSeq: baseSeq, lastSeq: incrementSequence(baseSeq, lastOffsetDelta), baseOffset, lastOffset: baseOffset + lastOffsetDelta, timestamp });
  }

  /** Each producer's last data offset (its newest batch's last offset), for the cleaner to keep that batch (Kafka's lastRecordsOfActiveProducers). */
  lastDataOffsets(): Map<number, number> {
    const out = new Map<number, number>();
    for (const [pid, e] of this.producers) {
      const last = e.batches[e.batches.length - 1];
      if (last) out.set(pid, last.lastOffset);
    }
    return out;
  }

  /** The producer's epoch, or undefined when unknown (tests, diagnostics). */
  epochOf(pid: number): number | undefined {
    return this.producers.get(pid)?.epoch;
  }

  /**
   * Drops the producers idle for `expirationMs` or longer at `nowMs` (Kafka's
   * removeExpiredProducers); returns how many went.
   */
  removeExpired(nowMs: number, expirationMs: number): number {
    let n = 0;
    for (const [pid, e] of this.producers) {
      if (isExpired(e.currentTxnFirstOffset, e.lastTimestamp, nowMs, expirationMs)) {
        this.producers.delete(pid);
        n++;
      }
    }
    return n;
  }

  /** The entries a snapshot file holds: each producer with its last batch only, by producer id. */
  toSnapshot(): SnapshotEntry[] {
    const out: SnapshotEntry[] = [];
    for (const [producerId, e] of [...this.producers].sort((a, b) => a[0] - b[0])) {
      const last = e.batches[e.batches.length - 1];
      out.push({
        producerId,
        epoch: e.epoch,
        lastSequence: last ? last.lastSeq : -1,
        lastOffset: last ? last.lastOffset : -1,
        offsetDelta: last ? last.lastOffset - last.baseOffset : 0,
        timestamp: e.lastTimestamp,
        coordinatorEpoch: e.coordinatorEpoch,
        currentTxnFirstOffset: e.currentTxnFirstOffset,
      });
    }
    return out;
  }

  /** Adds a producer read from a snapshot file (Kafka's loadProducerEntry): at most its last batch. */
  loadEntry(s: SnapshotEntry): void {
    const batches: BatchMeta[] =
      s.lastOffset >= 0
        ? [{ firstSeq: decrementSequence(s.lastSequence, s.offsetDelta), lastSeq: s.lastSequence, baseOffset: s.lastOffset - s.offsetDelta, lastOffset: s.lastOffset, timestamp: s.timestamp }]
        : [];
    this.producers.set(s.producerId, { epoch: s.epoch, batches, lastTimestamp: s.timestamp, coordinatorEpoch: s.coordinatorEpoch, currentTxnFirstOffset: s.currentTxnFirstOffset });
  }

  /** Forgets every producer (a snapshot that turned out unusable is replaced by an older one). */
  clear(): void {
    this.producers.clear();
  }
}

/** Kafka's isProducerExpired: never while a transaction is open. */
export function isExpired(currentTxnFirstOffset: number, lastTimestamp: number, nowMs: number, expirationMs: number): boolean {
  return currentTxnFirstOffset < 0 && nowMs - lastTimestamp >= expirationMs;
}
