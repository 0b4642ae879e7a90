// Produce (key 0): advertised from v0 (librdkafka turns compression off when v0
// is missing), served from v3 (record batch v2); a v0-2 request closes the
// connection, as Kafka 4 does (KIP-896).
// As Kafka (v3+): exactly one batch per partition, with baseOffset 0, else
// INVALID_RECORD. Each batch is checked (magic 2, lengths, CRC-32C over
// attributes..end); a bad one gets CORRUPT_MESSAGE and nothing of that
// partition is written. A batch over the topic's max.message.bytes gets MESSAGE_TOO_LARGE.
// Then Kafka's log validator (src/records/validator.ts): record count, offset
// deltas, control bit, codec, every record's structure (compressed batches
// decompressed), keys for compacted topics, timestamps; its errors carry
// record_errors and error_message as Kafka fills them, and nothing is written.
// A topic compression.type other than producer recompresses the batch to that
// codec; message.timestamp.type=LogAppendTime stamps the batch (attribute and
// maxTimestamp, CRC again) and answers log_append_time_ms, as Kafka.
// As Kafka, a Produce to a topic that does not exist gets
// UNKNOWN_TOPIC_OR_PARTITION and creates nothing, whatever
// auto.create.topics.enable says: topics are auto-created by Metadata, which
// producers send first. Internal topics (__consumer_offsets, ...) get
// INVALID_TOPIC_EXCEPTION unless the client id is "__admin_client", as Kafka
// answers. Offsets are assigned by rewriting baseOffset
// in place and the leader epoch is stamped (both outside the CRC); the bytes go
// to the segment file (page cache) before the response. acks=0 gets no
// response at all. With log.flush.before.ack (ours) an acks=all response, and
// with flush.messages reached any response, waits for the fsync of what was
// appended (group commit, src/storage/durability.ts); a failed fsync is
// KAFKA_STORAGE_ERROR for that partition. A failed write is KAFKA_STORAGE_ERROR
// too, with nothing of it left in the log.
// Idempotent producers (producer id >= 0): the partition checks the batch
// against its producer state (src/storage/producer-state.ts); a duplicate of a
// recent batch is answered with the original base offset and not written, a
// sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch
// INVALID_PRODUCER_EPOCH.

import { ProduceRequest, ProduceResponse } from "../protocol/messages/produce.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ATTR_COMPRESSION_MASK, NEGATIVE_COUNT, scanBatches, stampLogAppendTime, validateBatches, type BatchInfo } from "../records/batch.ts";
import { validateProducedBatch } from "../records/validator.ts";
import { recompressBatch } from "../records/record.ts";
import { CODEC_NAMES } from "../records/compression.ts";
import { log } from "../log.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import type { Encodable } from "../protocol/schema.ts";
import { EMPTY_ARRAY } from "../protocol/codec.ts";
import type { Broker } from "../broker.ts";
import type { AppendResult } from "../storage/partition.ts";
import { isInternalTopic } from "./topics.ts";

// Annotations with these types make unknown fields in the literals errors (inferred returns are not checked for them).
type Response = Encodable<typeof ProduceResponse>;

/** Kafka lets only this client id write internal topics (AdminUtils.ADMIN_CLIENT_ID) */
const ADMIN_CLIENT_ID = "__admin_client";
type TopicResponse = Response["responses"][number];
type PartitionResponse = TopicResponse["partitionResponses"][number];

/** The codec a topic's compression.type asks for when it differs from the batch's, else -1. */
function targetCodec(compressionType: string, codec: number): number {
  if (compressionType === "producer") return -1;
  const target = compressionType === "uncompressed" ? 0 : CODEC_NAMES.indexOf(compressionType as (typeof CODEC_NAMES)[number]);
  return target < 0 || target === codec ? -1 : target;
}

/**
 * Appends one partition's batch. `waits` gets what the response must wait
 * for (the fsync of durable mode or flush.messages: src/storage/durability.ts)
 * with what to do when it fails.
 */
function appendPartition(broker: Broker, topic: string, partition: number, records: Uint8Array | null, internalAllowed: boolean, acks: number, waits: Promise<void>[]): PartitionResponse {
  const res: PartitionResponse = { index: partition, errorCode: ErrorCode.NONE, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: EMPTY_ARRAY };
  // the coordinators' topics are written by the broker only (ReplicaManager: "Cannot append to internal topic")
  if (!internalAllowed && isInternalTopic(topic)) {
    res.errorCode = ErrorCode.INVALID_TOPIC_EXCEPTION;
    return res;
  }
  const part = broker.topic(topic) ? broker.storage.getPartition(topic, partition) : undefined;
  if (!part) {
    res.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    return res;
  }
  if (records === null || records.length === 0) {
    res.errorCode = ErrorCode.INVALID_RECORD;
    return res;
  }
  const scan = validateBatches(records);
  if (!scan.ok) {
    log.warn(`produce to ${topic}-${partition}: corrupt batch (${scan.reason}); nothing written`);
    // a CRC-valid batch claiming no records: Kafka's validator answers INVALID_RECORD
    res.errorCode = scan.reason.startsWith(NEGATIVE_COUNT) ? ErrorCode.INVALID_RECORD : ErrorCode.CORRUPT_MESSAGE;
    if (res.errorCode === ErrorCode.INVALID_RECORD) res.logStartOffset = part.logStartOffset;
    return res;
  }
  if (scan.batches.length !== 1) {
    res.errorCode = ErrorCode.INVALID_RECORD;
    return res;
  }
  let batch = scan.batches[0]!;
  const tc = broker.storage.metadata.topicConfig(topic);
  if (batch.size > tc.maxMessageBytes) {
    res.errorCode = ErrorCode.MESSAGE_TOO_LARGE;
    return res;
  }
  if (batch.baseOffset !== 0) {
    res.errorCode = ErrorCode.INVALID_RECORD;
    res.logStartOffset = part.logStartOffset;
    return res;
  }
  // Kafka's log validator: counts, deltas, control bit, codec, record structure, keys, timestamps (src/records/validator.ts)
  const now = Date.now();
  const failure = validateProducedBatch(records, batch, part.name, {
    logAppendTime: tc.logAppendTime,
    beforeMaxMs: tc.timestampBeforeMaxMs,
    afterMaxMs: tc.timestampAfterMaxMs,
    compacted: tc.compacted,
    now,
  });
  if (failure !== null) {
    log.warn(`produce to ${part.name}: ${failure.message}; nothing written`);
    res.errorCode = failure.errorCode;
    res.recordErrors = failure.recordErrors;
    // Kafka fills error_message only for record-level errors (RecordValidationException)
    if (failure.recordErrors.length > 0) res.errorMessage = failure.message;
    res.logStartOffset = part.logStartOffset;
    return res;
  }
  let batches: BatchInfo[] = scan.batches;
  // compression.type other than producer: Kafka recompresses to the topic's codec
  const target = targetCodec(tc.compressionType, batch.attributes & ATTR_COMPRESSION_MASK);
  if (target >= 0) {
    records = recompressBatch(records.subarray(batch.position, batch.position + batch.size), target);
    batches = scanBatches(records, false).batches;
    batch = batches[0]!;
    if (batch.size > tc.maxMessageBytes) {
      res.errorCode = ErrorCode.MESSAGE_TOO_LARGE;
      return res;
    }
  }
  if (tc.logAppendTime) {
    stampLogAppendTime(records, batch, now);
    res.logAppendTimeMs = now;
  }
  // the partition stamps the leader epoch, writes, and wakes the fetches waiting on it
  let result: AppendResult;
  try {
    result = part.append(records, batches);
  } catch (e) {
    log.error(`produce to ${part.name}: ${(e as Error).message}`);
    res.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
    return res;
  }
  if (result.errorCode !== 0) {
    // producer state (idempotence): a sequence gap or a fenced epoch; nothing written (Kafka sends the log start offset)
    res.errorCode = result.errorCode;
    res.logStartOffset = part.logStartOffset;
    return res;
  }
  res.baseOffset = result.baseOffset;
  // Kafka answers a duplicate with the original batch's timestamp as log_append_time_ms
  if (result.duplicate) res.logAppendTimeMs = result.timestamp!;
  res.logStartOffset = part.logStartOffset;
  // a duplicate waits too: the original may not be fsynced yet
  const flushed = broker.storage.durability.appended(part, result.duplicate ? part.logEndOffset : result.baseOffset, acks);
  if (flushed !== null) {
    waits.push(
      flushed.catch(() => {
        // the bytes may not be on disk: not acknowledged (the fsync failure is logged once per partition)
        res.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
        res.baseOffset = -1;
      }),
    );
  }
  return res;
}

export const produce = defineHandler({
  key: 0,
  name: "Produce",
  request: ProduceRequest,
  response: ProduceResponse,
  minVersion: 0,
  servedFrom: 3,
  maxVersion: 11,
  handle(req, { broker, header }): HandlerResult<Response> {
    const acks = req.acks;
    const internalAllowed = header.clientId === ADMIN_CLIENT_ID;
    const validAcks = acks === -1 || acks === 0 || acks === 1;
    const waits: Promise<void>[] = [];
    const responses = req.topicData.map((td): TopicResponse => ({
      name: td.name,
      partitionResponses: td.partitionData.map((pd): PartitionResponse =>
        validAcks
          ? appendPartition(broker, td.name, pd.index, pd.records, internalAllowed, acks, waits)
          : { index: pd.index, errorCode: ErrorCode.INVALID_REQUIRED_ACKS, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: EMPTY_ARRAY },
      ),
    }));
    if (acks === 0) return null;
    const response: Response = { responses, throttleTimeMs: 0 };
    // answered once the fsyncs it waits for are done; responses behind it on the connection wait their turn
    if (waits.length > 0) return Promise.all(waits).then(() => response);
    return response;
  },
});
