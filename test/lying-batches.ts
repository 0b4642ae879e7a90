// Produce batches whose CRC is right and whose contents lie, for
// test/validator.test.ts (and its comparison with the reference Kafka).
// Each case: the batch bytes, the topic kind it goes to, and the answer Kafka
// 4.4 gives (error code; whether it fills record_errors / error_message).

import { OFF_ATTRIBUTES, OFF_CRC, OFF_LAST_OFFSET_DELTA, OFF_LENGTH, OFF_RECORD_COUNT, BATCH_HEADER_SIZE, BATCH_OVERHEAD } from "../src/records/batch.ts";
import { crc32c } from "../src/records/crc32c.ts";
import { buildBatch, type RecordInput } from "../src/records/record.ts";
import { Codec } from "../src/records/compression.ts";

const enc = new TextEncoder();

/** Recomputes batchLength and the CRC-32C after a patch. */
export function reseal(b: Uint8Array): Uint8Array {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  v.setInt32(OFF_LENGTH, b.length - BATCH_OVERHEAD);
  v.setUint32(OFF_CRC, crc32c(b, OFF_ATTRIBUTES));
  return b;
}

export function records(n: number, now = Date.now(), withKeys = true): { baseTimestamp: number; records: RecordInput[] } {
  return {
    baseTimestamp: now,
    records: Array.from({ length: n }, (_, i) => ({ key: withKeys ? enc.encode(`key-${i}`) : null, value: enc.encode(`value-${i}`), timestampDelta: i })),
  };
}

function patch(b: Uint8Array, f: (v: DataView, b: Uint8Array) => void): Uint8Array {
  f(new DataView(b.buffer, b.byteOffset, b.byteLength), b);
  return reseal(b);
}

/** A batch whose records section is replaced by `body` (the header's count kept). */
function withBody(b: Uint8Array, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(BATCH_HEADER_SIZE + body.length);
  out.set(b.subarray(0, BATCH_HEADER_SIZE));
  out.set(body, BATCH_HEADER_SIZE);
  return reseal(out);
}

export type TopicKind = "plain" | "compact" | "before1h" | "logAppend";

export interface LyingCase {
  name: string;
  topic: TopicKind;
  batch: () => Uint8Array;
  /** our answer */
  errorCode: number;
  /** record_errors batch indexes we answer */
  recordErrors?: number[];
  /** Kafka's answer when it differs from ours, with the reason (README "Where we differ") */
  kafka?: { errorCode: number; reason: string };
}

const NONE = 0;
const UNKNOWN_SERVER_ERROR = -1;
const INVALID_TIMESTAMP = 32;
const INVALID_RECORD = 87;

export const LYING_CASES: LyingCase[] = [
  {
    name: "lastOffsetDelta 2^31-1 on one record",
    topic: "plain",
    batch: () => patch(buildBatch(records(1)), (v) => v.setInt32(OFF_LAST_OFFSET_DELTA, 0x7fffffff)),
    errorCode: INVALID_RECORD,
  },
  {
    name: "five records, lastOffsetDelta 0",
    topic: "plain",
    batch: () => patch(buildBatch(records(5)), (v) => v.setInt32(OFF_LAST_OFFSET_DELTA, 0)),
    errorCode: INVALID_RECORD,
  },
  {
    name: "five records, every offset delta 0 (lastOffsetDelta 4)",
    topic: "plain",
    batch: () => buildBatch({ ...records(5), offsetDeltas: [0, 0, 0, 0, 0] }),
    errorCode: INVALID_RECORD,
    kafka: { errorCode: NONE, reason: "Kafka trusts lastOffsetDelta in uncompressed batches and stores the deltas as sent" },
  },
  {
    name: "five records, every offset delta 0, gzip",
    topic: "plain",
    batch: () => buildBatch({ ...records(5), offsetDeltas: [0, 0, 0, 0, 0], attributes: Codec.GZIP }),
    errorCode: INVALID_RECORD,
    kafka: { errorCode: UNKNOWN_SERVER_ERROR, reason: "Kafka's rebuild of the batch throws (UnsupportedOperationException: key is skipped in PartialDefaultRecord)" },
  },
  {
    name: "record count 0 (lastOffsetDelta -1)",
    topic: "plain",
    batch: () => patch(buildBatch(records(1)), (v) => { v.setInt32(OFF_RECORD_COUNT, 0); v.setInt32(OFF_LAST_OFFSET_DELTA, -1); }),
    errorCode: INVALID_RECORD,
  },
  {
    name: "a client-set control bit",
    topic: "plain",
    batch: () => patch(buildBatch(records(1)), (v) => v.setInt16(OFF_ATTRIBUTES, v.getInt16(OFF_ATTRIBUTES) | 0x20)),
    errorCode: INVALID_RECORD,
  },
  {
    name: "a producer id with base sequence -1",
    topic: "plain",
    batch: () => buildBatch({ ...records(1), producerId: 1000, producerEpoch: 0, baseSequence: -1 }),
    errorCode: INVALID_RECORD,
  },
  {
    name: "gzip bit over garbage bytes",
    topic: "plain",
    batch: () => {
      const b = buildBatch(records(3));
      b.fill(0x5a, BATCH_HEADER_SIZE);
      return patch(b, (v) => v.setInt16(OFF_ATTRIBUTES, Codec.GZIP));
    },
    errorCode: INVALID_RECORD,
    kafka: { errorCode: UNKNOWN_SERVER_ERROR, reason: "an unhandled exception in Kafka; INVALID_RECORD, not retriable either, says why" },
  },
  {
    name: "lz4 bit over uncompressed records",
    topic: "plain",
    batch: () => patch(buildBatch(records(3)), (v) => v.setInt16(OFF_ATTRIBUTES, Codec.LZ4)),
    errorCode: INVALID_RECORD,
    kafka: { errorCode: UNKNOWN_SERVER_ERROR, reason: "an unhandled exception in Kafka; INVALID_RECORD, not retriable either, says why" },
  },
  {
    name: "codec 5 (unknown)",
    topic: "plain",
    batch: () => patch(buildBatch(records(1)), (v) => v.setInt16(OFF_ATTRIBUTES, 5)),
    errorCode: INVALID_RECORD,
    kafka: { errorCode: UNKNOWN_SERVER_ERROR, reason: "an unhandled exception in Kafka; INVALID_RECORD, not retriable either, says why" },
  },
  {
    name: "record count 3 over two records (lastOffsetDelta 2)",
    topic: "plain",
    batch: () => patch(buildBatch(records(2)), (v) => { v.setInt32(OFF_RECORD_COUNT, 3); v.setInt32(OFF_LAST_OFFSET_DELTA, 2); }),
    errorCode: INVALID_RECORD,
  },
  {
    name: "record count 2 over three records (lastOffsetDelta 1)",
    topic: "plain",
    batch: () => patch(buildBatch(records(3)), (v) => { v.setInt32(OFF_RECORD_COUNT, 2); v.setInt32(OFF_LAST_OFFSET_DELTA, 1); }),
    errorCode: INVALID_RECORD,
  },
  {
    name: "a record length one byte too long",
    topic: "plain",
    batch: () => patch(buildBatch(records(2)), (_v, b) => { b[BATCH_HEADER_SIZE] += 2; /* zigzag: +1 */ }),
    errorCode: INVALID_RECORD,
  },
  {
    name: "a record length one byte too short",
    topic: "plain",
    batch: () => patch(buildBatch(records(2)), (_v, b) => { b[BATCH_HEADER_SIZE] -= 2; }),
    errorCode: INVALID_RECORD,
  },
  {
    name: "a truncated varint at the end",
    topic: "plain",
    batch: () => {
      const b = buildBatch(records(1));
      const body = new Uint8Array(b.length - BATCH_HEADER_SIZE + 1);
      body.set(b.subarray(BATCH_HEADER_SIZE));
      body[body.length - 1] = 0x80; // a varint that never ends: the header says one record, the bytes hold one and a half
      return withBody(b, body);
    },
    errorCode: INVALID_RECORD,
  },
  {
    name: "a negative header count",
    topic: "plain",
    batch: () => patch(buildBatch(records(1)), (_v, b) => { b[b.length - 1] = 0x01; /* zigzag -1 */ }),
    errorCode: INVALID_RECORD,
  },
  {
    name: "keyless records to a compacted topic",
    topic: "compact",
    batch: () => buildBatch({ baseTimestamp: Date.now(), records: [{ key: enc.encode("k"), value: enc.encode("v") }, { key: null, value: enc.encode("v") }, { key: null, value: enc.encode("v") }] }),
    errorCode: INVALID_RECORD,
    recordErrors: [1, 2],
  },
  {
    name: "keyless records to a compacted topic, zstd",
    topic: "compact",
    batch: () => buildBatch({ baseTimestamp: Date.now(), attributes: Codec.ZSTD, records: [{ key: null, value: enc.encode("v") }, { key: enc.encode("k"), value: enc.encode("v") }] }),
    errorCode: INVALID_RECORD,
    recordErrors: [0],
  },
  {
    name: "a timestamp two hours ahead (after.max.ms 1 h by default)",
    topic: "plain",
    batch: () => buildBatch({ baseTimestamp: Date.now(), records: [{ value: enc.encode("a") }, { value: enc.encode("b"), timestampDelta: 2 * 3600_000 }] }),
    errorCode: INVALID_TIMESTAMP,
    recordErrors: [1],
  },
  {
    name: "a timestamp two hours old, topic before.max.ms 1 h, lz4",
    topic: "before1h",
    batch: () => buildBatch({ baseTimestamp: Date.now() - 2 * 3600_000, attributes: Codec.LZ4, records: [{ value: enc.encode("a") }, { value: enc.encode("b"), timestampDelta: 2 * 3600_000 }] }),
    errorCode: INVALID_TIMESTAMP,
    recordErrors: [0],
  },
  {
    name: "a batch claiming LogAppendTime to a LogAppendTime topic",
    topic: "logAppend",
    batch: () => buildBatch({ ...records(2), attributes: 0x08 }),
    errorCode: INVALID_TIMESTAMP,
    recordErrors: [0, 1],
  },
  {
    name: "a batch claiming LogAppendTime to a CreateTime topic, timestamps in range",
    topic: "plain",
    batch: () => buildBatch({ ...records(2), attributes: 0x08 }),
    errorCode: NONE,
  },
  ...[Codec.GZIP, Codec.SNAPPY, Codec.LZ4, Codec.ZSTD].map((codec) => ({
    // Kafka decompresses and walks every record of a compressed batch, so its acceptance is Java's codecs reading ours
    name: `a good batch of 200 records compressed by us, codec ${codec}`,
    topic: "compact" as TopicKind,
    batch: () => buildBatch({ ...records(200), attributes: codec }),
    errorCode: NONE,
  })),
  {
    name: "timestamps -1 with CreateTime",
    topic: "plain",
    batch: () => buildBatch({ baseTimestamp: -1, records: [{ value: enc.encode("a") }] }),
    errorCode: NONE,
  },
];
