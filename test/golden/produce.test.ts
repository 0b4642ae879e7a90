// Golden bytes: Produce (key 0), versions 0-11.
// Checked field by field against ProduceRequest.json / ProduceResponse.json:
//
//   v     | request                               | response (per partition unless said)
//   ------+---------------------------------------+---------------------------------------------
//   0     | acks, timeout_ms, topic_data[name,    | responses[name, [index, error_code,
//         |   partition_data[index, records]]     |   base_offset]]
//   1     |                                       | + throttle_time_ms (top level, last)
//   2     |                                       | + log_append_time_ms
//   3     | + transactional_id (first, nullable)  |
//   5     |                                       | + log_start_offset
//   8     |                                       | + record_errors[], error_message (nullable)
//   9     | flexible (compact, tagged fields)     | flexible; response header v1
//   10,11 |                                       | tagged current_leader / node_endpoints: only
//         |                                       | with NOT_LEADER_OR_FOLLOWER, so never here
//
// The broker serves v3+ (record batch v2); v0-2 are advertised (librdkafka
// turns compression off without v0) and answered with UNSUPPORTED_VERSION (35)
// in every partition, writing nothing. Error partitions carry base_offset -1,
// log_append_time_ms -1 and log_start_offset -1 (Kafka's
// PartitionResponse(error) / LogAppendInfo.UNKNOWN_LOG_APPEND_INFO).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { crc32c } from "../../src/records/crc32c.ts";
import { SHARED_FIXTURE, startInProcess, type InProcessBroker } from "../helpers.ts";
import { BATCH_CRC, BATCH_RECORDS, BATCH_SIZE, CRC_COVERED, batch } from "./batch.ts";
import {
  NULL_CSTR,
  NULL_STR,
  TAGS,
  arr,
  byteLength,
  bytesOf,
  carr,
  cstr,
  exchange,
  frame,
  i16,
  i32,
  i64,
  readFrame,
  expectBytes,
  expectClosed,
  requestHeader,
  responseHeader,
  str,
  uvarint,
} from "./hex.ts";

const flexible = (v: number) => v >= 9;
const s = (v: number, x: string) => (flexible(v) ? cstr(x) : str(x));
const a = (v: number, n: number) => (flexible(v) ? carr(n) : arr(n));
const tags = (v: number, what: string) => (flexible(v) ? `${TAGS}  # ${what} tagged fields: none` : "");

/** RECORDS: int32 length before v9, uvarint(length + 1) from v9 */
function records(v: number, bytes: string): string {
  const n = byteLength(bytes);
  return `${flexible(v) ? uvarint(n + 1) : i32(n)}  # records: ${n} bytes${flexible(v) ? " (COMPACT_RECORDS: uvarint n+1)" : ""}
${bytes}`;
}

function request(v: number, corr: number, topic: string, partition: number, recordBytes: string, acks = -1): string {
  return `
    ${requestHeader(0, v, corr, flexible(v))}
    ${v >= 3 ? `${flexible(v) ? NULL_CSTR : NULL_STR}  # transactional_id = null (v3+)` : ""}
    ${i16(acks)}  # acks = ${acks}
    ${i32(5000)}  # timeout_ms = 5000
    ${a(v, 1)}  # topic_data: 1
      ${s(v, topic)}  # name = "${topic}"
      ${a(v, 1)}  # partition_data: 1
        ${i32(partition)}  # index = ${partition}
        ${records(v, recordBytes)}
        ${tags(v, "partition_data")}
      ${tags(v, "topic_data")}
    ${tags(v, "request")}`;
}

interface PartitionResult {
  error?: number;
  baseOffset?: number;
  logStartOffset?: number;
}

function response(v: number, corr: number, topic: string, partition: number, r: PartitionResult): string {
  const err = r.error ?? 0;
  return `
    ${responseHeader(corr, flexible(v))}
    ${a(v, 1)}  # responses: 1
      ${s(v, topic)}  # name = "${topic}"
      ${a(v, 1)}  # partition_responses: 1
        ${i32(partition)}  # index = ${partition}
        ${i16(err)}  # error_code = ${err}
        ${i64(r.baseOffset ?? -1)}  # base_offset = ${r.baseOffset ?? -1}
        ${v >= 2 ? `${i64(-1)}  # log_append_time_ms = -1 (CreateTime) (v2+)` : ""}
        ${v >= 5 ? `${i64(r.logStartOffset ?? -1)}  # log_start_offset = ${r.logStartOffset ?? -1} (v5+)` : ""}
        ${v >= 8 ? `${a(v, 0)}  # record_errors: 0 (v8+)` : ""}
        ${v >= 8 ? `${flexible(v) ? NULL_CSTR : NULL_STR}  # error_message = null (v8+)` : ""}
        ${tags(v, "partition_response")}
      ${tags(v, "topic_response")}
    ${v >= 1 ? `${i32(0)}  # throttle_time_ms = 0 (v1+)` : ""}
    ${tags(v, "response")}`;
}

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startInProcess({ "node.id": "1" });
});
afterAll(() => kafka.close());

const logEnd = (topic: string) => kafka.storage.getPartition(topic, 0)!.logEndOffset;

describe("the hand-written record batch", () => {
  test(`its CRC-32C is ${BATCH_CRC} and it is ${BATCH_SIZE} bytes`, () => {
    expect(crc32c(bytesOf(CRC_COVERED)).toString(16).padStart(8, "0")).toBe(BATCH_CRC);
    expect(byteLength(batch(0, -1))).toBe(BATCH_SIZE);
  });

  const kafkaLog = join(SHARED_FIXTURE, "foo-0", "00000000000000000000.log");
  test.skipIf(!existsSync(kafkaLog))("crc32c agrees with the CRC Kafka wrote in the fixture log (foo-0: 98ec18d3)", () => {
    const log = readFileSync(kafkaLog);
    expect(log.subarray(17, 21).toString("hex")).toBe("98ec18d3");
    expect(crc32c(log, 21, log.length).toString(16)).toBe("98ec18d3");
  });
});

describe("Produce golden bytes", () => {
  // Apache Kafka 4 (KIP-896) still advertises Produce from v0, for old clients'
  // feature checks, but closes the connection on a v0-2 request (checked
  // against the reference broker in test/differential.test.ts).
  for (let v = 0; v <= 2; v++) {
    test(`v${v} (advertised, not served): connection closed, nothing written`, async () => {
      const topic = `golden-p${v}`;
      kafka.storage.createTopic(topic, 1);
      await expectClosed(kafka.connect(), request(v, 400 + v, topic, 0, batch(0, -1), 1));
      expect(logEnd(topic)).toBe(0);
    });
  }

  for (let v = 3; v <= 11; v++) {
    test(`v${v}: one batch appended at offset 0`, async () => {
      const topic = `golden-p${v}`;
      kafka.storage.createTopic(topic, 1);
      await exchange(kafka.connect(), request(v, 400 + v, topic, 0, batch(0, -1)), response(v, 400 + v, topic, 0, { baseOffset: 0, logStartOffset: 0 }));
      expect(logEnd(topic)).toBe(BATCH_RECORDS);
    });
  }

  test("v12 (not served): connection closed, no response", async () => {
    await expectClosed(kafka.connect(), `${requestHeader(0, 12, 412, true)}\n00 ffff 00001388 01 00  # a v11-shaped body`);
  });

  for (const v of [3, 9]) {
    test(`v${v}: a second batch gets base_offset ${BATCH_RECORDS} (the producer's base offset 0 is replaced)`, async () => {
      const topic = `golden-p${v}`; // holds one batch from the test above
      await exchange(
        kafka.connect(),
        request(v, 450 + v, topic, 0, batch(0, -1)),
        response(v, 450 + v, topic, 0, { baseOffset: BATCH_RECORDS, logStartOffset: 0 }),
      );
      expect(logEnd(topic)).toBe(2 * BATCH_RECORDS);
    });
  }

  test("v3: CRC mismatch: CORRUPT_MESSAGE (2), nothing written", async () => {
    const topic = "golden-corrupt3";
    kafka.storage.createTopic(topic, 1);
    await exchange(kafka.connect(), request(3, 460, topic, 0, batch(0, -1, "37b9c2ab")), response(3, 460, topic, 0, { error: 2 }));
    expect(logEnd(topic)).toBe(0);
  });

  // Apache Kafka: a CorruptRecordException from UnifiedLog.analyzeAndValidateRecords
  // yields LogAppendInfo.UNKNOWN_LOG_APPEND_INFO, i.e. log_start_offset -1
  // (ReplicaManager.appendToLocalLog).
  test("v9: CRC mismatch: CORRUPT_MESSAGE (2) with log_start_offset -1, nothing written", async () => {
    const topic = "golden-corrupt9";
    if (!kafka.storage.image.topics.has(topic)) kafka.storage.createTopic(topic, 1);
    await exchange(kafka.connect(), request(9, 461, topic, 0, batch(0, -1, "37b9c2ab")), response(9, 461, topic, 0, { error: 2, logStartOffset: -1 }));
    expect(logEnd(topic)).toBe(0);
  });

  // Apache Kafka refuses a client batch whose baseOffset is not 0
  // (UnifiedLog.analyzeAndValidateRecords: InvalidRecordException -> INVALID_RECORD
  // (87)); being a generic failure, the response carries the real log start offset
  // (ReplicaManager.processFailedRecord).
  test("v9: a batch with baseOffset 5: INVALID_RECORD (87), log_start_offset 0, nothing written", async () => {
    const topic = "golden-base5";
    if (!kafka.storage.image.topics.has(topic)) kafka.storage.createTopic(topic, 1);
    await exchange(kafka.connect(), request(9, 462, topic, 0, batch(5, -1)), response(9, 462, topic, 0, { error: 87, logStartOffset: 0 }));
    expect(logEnd(topic)).toBe(0);
  });

  for (const v of [5, 9]) {
    test(`v${v}: unknown partition of an existing topic: UNKNOWN_TOPIC_OR_PARTITION (3)`, async () => {
      await exchange(kafka.connect(), request(v, 470 + v, "golden-p3", 7, batch(0, -1)), response(v, 470 + v, "golden-p3", 7, { error: 3 }));
    });
  }

  // Apache Kafka never creates a topic on Produce (KafkaApis.handleProduceRequest:
  // !metadataCache.contains(tp) -> UNKNOWN_TOPIC_OR_PARTITION); producers create it
  // through Metadata. auto.create.topics.enable is on in this broker.
  test("v9: unknown topic: UNKNOWN_TOPIC_OR_PARTITION (3), topic not created", async () => {
    const topic = "golden-produce-unknown";
    await exchange(kafka.connect(), request(9, 480, topic, 0, batch(0, -1)), response(9, 480, topic, 0, { error: 3 }));
    expect(kafka.storage.image.topics.has(topic)).toBe(false);
  });

  test("v9: acks=2 (invalid): INVALID_REQUIRED_ACKS (21), nothing written", async () => {
    const topic = "golden-acks";
    kafka.storage.createTopic(topic, 1);
    await exchange(kafka.connect(), request(9, 481, topic, 0, batch(0, -1), 2), response(9, 481, topic, 0, { error: 21 }));
    expect(logEnd(topic)).toBe(0);
  });

  test("v9: acks=0: appended, no response at all (the next response is the next request's)", async () => {
    const topic = "golden-acks0";
    kafka.storage.createTopic(topic, 1);
    const conn = kafka.connect();
    conn.send(bytesOf(frame(request(9, 482, topic, 0, batch(0, -1), 0))));
    conn.send(bytesOf(frame(requestHeader(18, 0, 483, false))));
    const got = await readFrame(conn);
    // only the ApiVersions v0 answer (correlation id 483) comes back
    expectBytes(got.subarray(0, 10), `${i32(got.length - 4)}  # message size\n${i32(483)}  # correlation_id = 483 (ApiVersions)\n0000  # error_code = 0`);
    expect(logEnd(topic)).toBe(BATCH_RECORDS);
  });

  // Apache Kafka (ProduceRequest.validateRecords, v3+): exactly one record batch of
  // magic 2 per partition, else INVALID_RECORD (87) with base_offset/log_append_time/
  // log_start_offset -1.
  test("v9: two batches in one partition's records: INVALID_RECORD (87), nothing written", async () => {
    const topic = "golden-two-batches";
    if (!kafka.storage.image.topics.has(topic)) kafka.storage.createTopic(topic, 1);
    await exchange(kafka.connect(), request(9, 490, topic, 0, batch(0, -1) + batch(0, -1)), response(9, 490, topic, 0, { error: 87 }));
    expect(logEnd(topic)).toBe(0);
  });

  // Same rule: no batch at all is INVALID_RECORD (87).
  // CORRUPT_MESSAGE (2) with log_start_offset 0.
  test("v9: empty records: INVALID_RECORD (87)", async () => {
    const topic = "golden-empty-records";
    if (!kafka.storage.image.topics.has(topic)) kafka.storage.createTopic(topic, 1);
    await exchange(kafka.connect(), request(9, 491, topic, 0, ""), response(9, 491, topic, 0, { error: 87 }));
  });
});

describe("Produce golden bytes: message.max.bytes 80 (the batch is 86 bytes)", () => {
  let small: InProcessBroker;
  beforeAll(async () => {
    small = await startInProcess({ "node.id": "1", "message.max.bytes": "80" });
    small.storage.createTopic("golden-big", 1);
  });
  afterAll(() => small.close());

  test("v3: MESSAGE_TOO_LARGE (10), nothing written", async () => {
    await exchange(small.connect(), request(3, 495, "golden-big", 0, batch(0, -1)), response(3, 495, "golden-big", 0, { error: 10 }));
    expect(small.storage.getPartition("golden-big", 0)!.logEndOffset).toBe(0);
  });

  // Apache Kafka: RecordTooLargeException -> LogAppendInfo.UNKNOWN_LOG_APPEND_INFO,
  // so log_start_offset -1 (as for CORRUPT_MESSAGE).
  test("v9: MESSAGE_TOO_LARGE (10) with log_start_offset -1", async () => {
    await exchange(small.connect(), request(9, 496, "golden-big", 0, batch(0, -1)), response(9, 496, "golden-big", 0, { error: 10, logStartOffset: -1 }));
  });
});
