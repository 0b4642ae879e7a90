// One record batch (magic 2), written by hand, used by the Produce, Fetch and
// ListOffsets goldens. Two uncompressed records, CreateTime:
//   offset delta 0: timestamp T     key null  value "hello"
//   offset delta 1: timestamp T + 5 key "k"   value "world"
// T = 1700000000000 ms (2023-11-14T22:13:20Z) = 0x0000018bcfe56800.
//
// Layout (DefaultRecordBatch): baseOffset int64 | batchLength int32 (bytes
// after this field) | partitionLeaderEpoch int32 | magic int8 | crc uint32
// (CRC-32C of attributes .. end) | attributes int16 | lastOffsetDelta int32 |
// baseTimestamp int64 | maxTimestamp int64 | producerId int64 | producerEpoch
// int16 | baseSequence int32 | recordCount int32 | records.
// Record: length varint | attributes int8 | timestampDelta varint |
// offsetDelta varint | keyLength varint (-1 = null) | key | valueLength varint
// | value | headerCount varint. Varints are zigzag encoded.
//
// The CRC below (0x37b9c2aa) was computed once with src/records/crc32c.ts and
// written down; produce.test.ts re-checks it, and checks crc32c against the
// CRC of the batch in the Kafka-written fixture log.

import { NULL_STR, arr, byteLength, i32, i64, requestHeader, responseHeader, str } from "./hex.ts";

export const T = 1700000000000;
export const T_HEX = "0000018bcfe56800";
export const T5_HEX = "0000018bcfe56805"; // T + 5
export const BATCH_CRC = "37b9c2aa";
/** whole batch, baseOffset and batchLength included */
export const BATCH_SIZE = 86;
/** offsets one batch takes */
export const BATCH_RECORDS = 2;

/** The partition leader epoch a producer sends: -1 (the Java client) or 0 (librdkafka). */
export function batch(baseOffset: number, partitionLeaderEpoch: number, crc = BATCH_CRC): string {
  return `
    # -- record batch (magic 2), ${BATCH_SIZE} bytes
    ${i64(baseOffset)}   # baseOffset = ${baseOffset}
    0000004a             # batchLength = 74 (49 header bytes after this field + 25 record bytes)
    ${i32(partitionLeaderEpoch)}             # partitionLeaderEpoch = ${partitionLeaderEpoch}
    02                   # magic = 2
    ${crc}             # crc = CRC-32C(attributes .. end)${crc === BATCH_CRC ? "" : " -- deliberately WRONG"}
    0000                 # attributes: no compression, CreateTime, not transactional, not control
    00000001             # lastOffsetDelta = 1
    ${T_HEX}     # baseTimestamp = T
    ${T5_HEX}     # maxTimestamp = T + 5
    ffffffffffffffff     # producerId = -1 (not idempotent)
    ffff                 # producerEpoch = -1
    ffffffff             # baseSequence = -1
    00000002             # recordCount = 2
    # -- record 0
    16                   # length = 11 (zigzag 22)
    00                   # attributes
    00                   # timestampDelta = 0
    00                   # offsetDelta = 0
    01                   # keyLength = -1 (null key)
    0a                   # valueLength = 5
    68656c6c6f           # value = "hello"
    00                   # headers: 0
    # -- record 1
    18                   # length = 12 (zigzag 24)
    00                   # attributes
    0a                   # timestampDelta = 5
    02                   # offsetDelta = 1
    02                   # keyLength = 1
    6b                   # key = "k"
    0a                   # valueLength = 5
    776f726c64           # value = "world"
    00                   # headers: 0
    # -- end of record batch`;
}

/** attributes .. end of the batch above: what its CRC covers */
export const CRC_COVERED = `
  0000 00000001 ${T_HEX} ${T5_HEX} ffffffffffffffff ffff ffffffff 00000002
  16 00 00 00 01 0a 68656c6c6f 00
  18 00 0a 02 02 6b 0a 776f726c64 00`;

// A Produce v3 exchange, for the Fetch and ListOffsets tests to put batches in
// a log (Produce itself is covered version by version in produce.test.ts).

export function produceV3Request(corr: number, topic: string, partition: number, batchHex: string): string {
  return `
    ${requestHeader(0, 3, corr, false)}
    ${NULL_STR}      # transactional_id = null
    ffff      # acks = -1
    ${i32(5000)}  # timeout_ms = 5000
    ${arr(1)}  # topic_data: 1
    ${str(topic)}  # name = "${topic}"
    ${arr(1)}  # partition_data: 1
    ${i32(partition)}  # index = ${partition}
    ${i32(byteLength(batchHex))}  # records: ${byteLength(batchHex)} bytes
    ${batchHex}`;
}

export function produceV3Response(corr: number, topic: string, partition: number, baseOffset: number): string {
  return `
    ${responseHeader(corr, false)}
    ${arr(1)}  # responses: 1
    ${str(topic)}  # name = "${topic}"
    ${arr(1)}  # partition_responses: 1
    ${i32(partition)}  # index = ${partition}
    0000      # error_code = 0
    ${i64(baseOffset)}  # base_offset = ${baseOffset}
    ${i64(-1)}  # log_append_time_ms = -1
    ${i32(0)}  # throttle_time_ms = 0`;
}
