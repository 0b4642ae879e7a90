// Per-partition producer state for idempotent producers, as Kafka's
// ProducerStateManager keeps it: per producer id its epoch and the metadata of
// its last five batches (first/last sequence, base/last offset).
//
// A client batch (producerId >= 0) is checked as Kafka 4.4 does
// (UnifiedLog.analyzeAndValidateProducerState, ProducerAppendInfo):
//   - same epoch and the same sequence range as one of the last five batches:
//     a duplicate, answered with that batch's base offset and not written;
//   - an older epoch: INVALID_PRODUCER_EPOCH (47);
//   - a newer epoch must start at sequence 0, else OUT_OF_ORDER_SEQUENCE_NUMBER (45);
//   - the same epoch must continue at last sequence + 1 (INT32_MAX wraps to 0),
//     else OUT_OF_ORDER_SEQUENCE_NUMBER;
//   - a producer id this partition does not know is accepted at any sequence
//     (Kafka no longer answers UNKNOWN_PRODUCER_ID: its state may have been
//     removed by retention).
// The state is rebuilt from the batch headers the log's opening scan reads
// (no validation then, as Kafka's loadProducersFromRecords).
// Not yet (later issues): Kafka's .snapshot files (start-up reads the whole log
// instead), producer.id.expiration.ms (entries are never expired), and
// dropping producers whose batches retention deleted.

import { ErrorCode } from "../protocol/errors.ts";

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
}

/** DefaultRecordBatch.incrementSequence: sequences wrap from INT32_MAX to 0. */
export function incrementSequence(seq: number, by: number): number {
  return seq > INT32_MAX - by ? by - (INT32_MAX - seq) - 1 : seq + by;
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
    if (last === -1 || baseSeq === last + 1 || (baseSeq === 0 && last === INT32_MAX)) return APPEND;
    return { kind: "error", errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, message: `producer ${pid} sent sequence ${baseSeq} after ${last}` };
  }

  /** Records a written batch (after an append, or met in the log at start-up). */
  update(pid: number, epoch: number, baseSeq: number, baseOffset: number, lastOffsetDelta: number, timestamp: number): void {
    let e = this.producers.get(pid);
    if (e === undefined) {
      e = { epoch, batches: [] };
      this.producers.set(pid, e);
    } else if (e.epoch !== epoch) {
      e.epoch = epoch;
      e.batches.length = 0;
    }
    if (baseSeq < 0) return; // a batch without sequences (transaction markers): the epoch only
    if (e.batches.length === BATCHES_TO_RETAIN) e.batches.shift();
    e.batches.push({ firstSeq: baseSeq, lastSeq: incrementSequence(baseSeq, lastOffsetDelta), baseOffset, lastOffset: baseOffset + lastOffsetDelta, timestamp });
  }

  /** The producer's epoch, or undefined when unknown (tests, diagnostics). */
  epochOf(pid: number): number | undefined {
    return this.producers.get(pid)?.epoch;
  }
}
