// Kafka's log validator for a produced batch (LogValidator and
// UnifiedLog.analyzeAndValidateRecords), after the batch header and CRC have
// checked out (batch.ts). In Kafka's order:
//   - lastOffsetDelta + 1 must be the record count, and both positive:
//     INVALID_RECORD ("Inconsistent batch offset range ...")
//   - a client may not write a control batch: INVALID_RECORD
//   - a producer id with a negative base sequence: INVALID_RECORD
//   - an unknown codec (5-7) or a compressed payload that does not decompress:
//     INVALID_RECORD. Kafka 4.4 answers UNKNOWN_SERVER_ERROR (an unhandled
//     exception); both make clients fail the batch without retrying
//   - the records are walked by their lengths and varints (walk.ts), nothing
//     materialised: record lengths that do not add up, truncated varints,
//     fewer or more records than the header says: INVALID_RECORD, as Kafka
//   - offset deltas must run 0..n-1: INVALID_RECORD. Kafka does not look at
//     them in uncompressed batches (it trusts lastOffsetDelta: consumers then
//     see the offsets the deltas give) and fails with UNKNOWN_SERVER_ERROR on
//     a compressed one (it tries to rebuild it); we refuse both
//   - per record, with record_errors (batch_index, message) as Kafka fills
//     them in Produce v8+: a keyless record to a compacted topic
//     INVALID_RECORD; with message.timestamp.type=CreateTime a timestamp
//     outside [now - before.max.ms, now + after.max.ms] INVALID_TIMESTAMP;
//     a batch claiming LogAppendTime when the topic is not CreateTime-checked
//     INVALID_TIMESTAMP. Any INVALID_TIMESTAMP makes the partition's error
//     INVALID_TIMESTAMP, else INVALID_RECORD.
// Kafka's error messages are kept (with our partition name), so clients log the same.

import { ErrorCode } from "../protocol/errors.ts";
import { ATTR_COMPRESSION_MASK, ATTR_CONTROL, ATTR_TIMESTAMP_TYPE, BATCH_HEADER_SIZE, type BatchInfo } from "./batch.ts";
import { decompress, isKnownCodec } from "./compression.ts";
import { walkRecords } from "./walk.ts";

export interface ValidationConfig {
  /** message.timestamp.type is LogAppendTime */
  logAppendTime: boolean;
  /** message.timestamp.before.max.ms / after.max.ms */
  beforeMaxMs: number;
  afterMaxMs: number;
  /** cleanup.policy includes compact */
  compacted: boolean;
  /** the broker's time, ms */
  now: number;
}

export interface RecordError {
  batchIndex: number;
  batchIndexErrorMessage: string | null;
}

export interface ValidationFailure {
  errorCode: number;
  /** Kafka's exception message; Produce's error_message only with record errors, as Kafka answers */
  message: string;
  recordErrors: RecordError[];
}

const NO_RECORD_ERRORS: RecordError[] = [];
/** Kafka lists at most this many record errors in its message */
const MESSAGE_ERRORS = 3;

function fail(errorCode: number, message: string, recordErrors = NO_RECORD_ERRORS): ValidationFailure {
  return { errorCode, message, recordErrors };
}

// the walk's per-record verdicts, kept outside the closure so a valid batch allocates nothing per record
let errors: RecordError[] = [];
let badTimestamp = false;
let badDeltas = -1;

/**
 * Validates one produced batch at buf[info.position, info.position + info.size).
 * Returns null when it may be written, else the partition's error.
 */
export function validateProducedBatch(buf: Uint8Array, info: BatchInfo, partition: string, cfg: ValidationConfig): ValidationFailure | null {
  const count = info.recordCount;
  const countFromOffsets = info.lastOffsetDelta + 1;
  if (countFromOffsets <= 0)
    return fail(ErrorCode.INVALID_RECORD, `Batch has an invalid offset range: [${info.baseOffset}, ${info.baseOffset + info.lastOffsetDelta}] in topic partition ${partition}`);
  if (count <= 0) return fail(ErrorCode.INVALID_RECORD, `Invalid reported count for record batch: ${count} in topic partition ${partition}`);
  if (countFromOffsets !== count)
    return fail(
      ErrorCode.INVALID_RECORD,
      `Inconsistent batch offset range [${info.baseOffset}, ${info.baseOffset + info.lastOffsetDelta}] and count of records ${count} in topic partition ${partition}`,
    );
  if (info.attributes & ATTR_CONTROL) return fail(ErrorCode.INVALID_RECORD, `Clients are not allowed to write control records in topic partition ${partition}`);
  if (info.producerId >= 0 && info.baseSequence < 0)
    return fail(ErrorCode.INVALID_RECORD, `Invalid sequence number ${info.baseSequence} in record batch with producerId ${info.producerId} in topic partition ${partition}`);

  const codec = info.attributes & ATTR_COMPRESSION_MASK;
  if (!isKnownCodec(codec)) return fail(ErrorCode.INVALID_RECORD, `Unknown compression type id: ${codec} in topic partition ${partition}`);
  let data = buf;
  let start = info.position + BATCH_HEADER_SIZE;
  let end = info.position + info.size;
  if (codec !== 0) {
    try {
      data = decompress(codec, buf.subarray(start, end), true);
    } catch (e) {
      return fail(ErrorCode.INVALID_RECORD, `Failed to decompress record stream in topic partition ${partition}: ${(e as Error).message}`);
    }
    start = 0;
    end = data.length;
  }

  // a batch with LogAppendTime from a client, or CreateTime checks: both need the record timestamps
  const checkTimestamps = !cfg.logAppendTime && (cfg.beforeMaxMs < Number.MAX_SAFE_INTEGER || cfg.afterMaxMs < Number.MAX_SAFE_INTEGER);
  const batchLogAppendTime = (info.attributes & ATTR_TIMESTAMP_TYPE) !== 0;
  const lo = cfg.now - cfg.beforeMaxMs;
  const hi = cfg.now + cfg.afterMaxMs;
  const baseTs = info.baseTimestamp;
  const compacted = cfg.compacted;
  errors = NO_RECORD_ERRORS;
  badTimestamp = false;
  badDeltas = -1;
  const structure = walkRecords(data, start, end, count, (i, offsetDelta, timestampDelta, keyLength) => {
    if (offsetDelta !== i && badDeltas < 0) badDeltas = i;
    if (compacted && keyLength < 0) {
      addError(i, `Compacted topic cannot accept message without key in topic partition ${partition}`);
      return;
    }
    const ts = baseTs + timestampDelta;
    if (!cfg.logAppendTime && ts !== -1) {
      if (checkTimestamps && (ts < lo || ts > hi)) {
        badTimestamp = true;
        addError(i, `Timestamp ${ts} of message with offset ${offsetDelta} is out of range. The timestamp should be within [${lo}, ${hi}]`);
      }
    } else if (batchLogAppendTime) {
      badTimestamp = true;
      addError(i, `Invalid timestamp type in message. Producer should not set timestamp type to LogAppendTime.`);
    }
  });
  if (structure !== null) return fail(ErrorCode.INVALID_RECORD, `Record batch in topic partition ${partition} is corrupt: ${structure}`);
  if (badDeltas >= 0)
    return fail(ErrorCode.INVALID_RECORD, `Record ${badDeltas} has offset delta out of order (offset deltas must run 0..${count - 1}) in topic partition ${partition}`);
  if (errors.length > 0) {
    const recordErrors = errors;
    errors = NO_RECORD_ERRORS;
    if (badTimestamp) return fail(ErrorCode.INVALID_TIMESTAMP, "One or more records have been rejected due to invalid timestamp", recordErrors);
    const shown = recordErrors.slice(0, MESSAGE_ERRORS).map((e) => `RecordError(batchIndex=${e.batchIndex}, message='${e.batchIndexErrorMessage}')`);
    return fail(
      ErrorCode.INVALID_RECORD,
      `One or more records have been rejected due to ${recordErrors.length} record errors in total, and only showing the first three errors at most: [${shown.join(", ")}]`,
      recordErrors,
    );
  }
  return null;
}

function addError(batchIndex: number, message: string): void {
  if (errors === NO_RECORD_ERRORS) errors = [];
  errors.push({ batchIndex, batchIndexErrorMessage: message });
}
