// Golden bytes: Fetch (key 1), versions 4-17.
// Checked field by field against FetchRequest.json / FetchResponse.json:
//
//   v   | request                                        | response
//   ----+------------------------------------------------+-----------------------------------------------
//   4   | replica_id, max_wait_ms, min_bytes, max_bytes, | throttle_time_ms, responses[topic, partitions[
//       | isolation_level, topics[topic, partitions[     |   index, error, high_watermark,
//       |   partition, fetch_offset, partition_max_bytes]] |   last_stable_offset, aborted_transactions
//       |                                                |   (nullable), records (nullable)]]
//   5   | + partition log_start_offset                   | + partition log_start_offset
//   7   | + session_id, session_epoch; forgotten_topics  | + error_code, session_id (after throttle)
//   9   | + partition current_leader_epoch               |
//   11  | + rack_id                                      | + partition preferred_read_replica
//   12  | flexible; + partition last_fetched_epoch       | flexible; response header v1; tagged
//       |                                                |   diverging_epoch/current_leader/snapshot_id
//       |                                                |   only when set (never here)
//   13  | topic_id instead of topic (also forgotten)     | topic_id instead of topic
//   15  | replica_id gone (tagged replica_state)         |
//   16  |                                                | tagged node_endpoints: only when non-empty
//   17  | tagged replica_directory_id per partition      |
//
// Every fetch here uses max_wait_ms 0, so nothing waits. Sessions are
// declined: session_id 0, session_epoch -1 (a full, sessionless fetch) is
// what is sent and session_id 0 is what comes back.
//
// Data: "golden-f" partition 0 holds one batch (offsets 0-1) produced with
// partition_leader_epoch 0 (as librdkafka sends it); "golden-f2" holds two
// (offsets 0-1 and 2-3). The fetched bytes must be the produced bytes with the
// assigned base offset.

import { afterAll, beforeAll, describe, test } from "bun:test";
import { startInProcess, type InProcessBroker } from "../helpers.ts";
import { BATCH_RECORDS, batch, produceV3Request, produceV3Response } from "./batch.ts";
import { NULL_ARR, NULL_CARR, TAGS, ZERO_UUID, arr, byteLength, carr, clean, cstr, exchange, expectClosed, i16, i32, i64, i8, requestHeader, responseHeader, str, uuidHex, uvarint } from "./hex.ts";

const flexible = (v: number) => v >= 12;
const s = (v: number, x: string) => (flexible(v) ? cstr(x) : str(x));
const a = (v: number, n: number) => (flexible(v) ? carr(n) : arr(n));
const tags = (v: number, what: string) => (flexible(v) ? `${TAGS}  # ${what} tagged fields: none` : "");

interface ReqPartition {
  partition: number;
  offset: number;
  maxBytes?: number;
}
interface ReqTopic {
  name: string;
  id: Uint8Array | null;
  partitions: ReqPartition[];
}

function request(v: number, corr: number, topics: ReqTopic[], o: { maxBytes?: number; isolation?: number } = {}): string {
  const maxBytes = o.maxBytes ?? 0x100000;
  const isolation = o.isolation ?? 0;
  return `
    ${requestHeader(1, v, corr, flexible(v))}
    ${v <= 14 ? `${i32(-1)}  # replica_id = -1 (consumer) (v0-14)` : "# (no replica_id from v15: tagged replica_state, not sent)"}
    ${i32(0)}  # max_wait_ms = 0
    ${i32(1)}  # min_bytes = 1
    ${i32(maxBytes)}  # max_bytes = ${maxBytes}
    ${i8(isolation)}  # isolation_level = ${isolation} (${isolation ? "READ_COMMITTED" : "READ_UNCOMMITTED"})
    ${v >= 7 ? `${i32(0)}  # session_id = 0 (v7+)\n${i32(-1)}  # session_epoch = -1: full fetch, no session (v7+)` : ""}
    ${a(v, topics.length)}  # topics: ${topics.length}
    ${topics
      .map(
        (t) => `
      ${v >= 13 ? `${t.id ? uuidHex(t.id) : ZERO_UUID}  # topic_id (v13+)` : `${s(v, t.name)}  # topic = "${t.name}" (v0-12)`}
      ${a(v, t.partitions.length)}  # partitions: ${t.partitions.length}
      ${t.partitions
        .map(
          (p) => `
        ${i32(p.partition)}  # partition = ${p.partition}
        ${v >= 9 ? `${i32(-1)}  # current_leader_epoch = -1 (v9+)` : ""}
        ${i64(p.offset)}  # fetch_offset = ${p.offset}
        ${v >= 12 ? `${i32(-1)}  # last_fetched_epoch = -1 (v12+)` : ""}
        ${v >= 5 ? `${i64(-1)}  # log_start_offset = -1 (v5+)` : ""}
        ${i32(p.maxBytes ?? 0x100000)}  # partition_max_bytes = ${p.maxBytes ?? 0x100000}
        ${tags(v, "partition")}`,
        )
        .join("\n")}
      ${tags(v, "topic")}`,
      )
      .join("\n")}
    ${v >= 7 ? `${a(v, 0)}  # forgotten_topics_data: 0 (v7+)` : ""}
    ${v >= 11 ? `${s(v, "")}  # rack_id = "" (v11+)` : ""}
    ${tags(v, "request")}`;
}

interface RespPartition {
  partition: number;
  error?: number;
  hw: number;
  lso: number;
  logStart: number;
  aborted?: "null" | "empty";
  records?: string; // annotated batch bytes; empty when absent
}

function records(v: number, bytes: string): string {
  const n = byteLength(bytes);
  return `${flexible(v) ? uvarint(n + 1) : i32(n)}  # records: ${n} bytes${flexible(v) ? " (COMPACT_RECORDS: uvarint n+1)" : ""}${bytes}`;
}

function partition(v: number, p: RespPartition): string {
  // Apache Kafka 4.4 (test/differential.test.ts): a partition it cannot look up
  // (unknown topic, partition or topic id) carries the default, an empty list;
  // a read, or a read error, null unless READ_COMMITTED asks for the list.
  const aborted = p.aborted ?? (p.error === 3 || p.error === 100 ? "empty" : "null");
  return `
        ${i32(p.partition)}  # partition_index = ${p.partition}
        ${i16(p.error ?? 0)}  # error_code = ${p.error ?? 0}
        ${i64(p.hw)}  # high_watermark = ${p.hw}
        ${i64(p.lso)}  # last_stable_offset = ${p.lso} (v4+)
        ${v >= 5 ? `${i64(p.logStart)}  # log_start_offset = ${p.logStart} (v5+)` : ""}
        ${aborted === "null" ? `${flexible(v) ? NULL_CARR : NULL_ARR}  # aborted_transactions = null (v4+)` : `${a(v, 0)}  # aborted_transactions: 0 (v4+; READ_COMMITTED, or an unknown partition)`}
        ${v >= 11 ? `${i32(-1)}  # preferred_read_replica = -1 (v11+)` : ""}
        ${records(v, p.records ?? "")}
        ${tags(v, "partition")}`;
}

function response(v: number, corr: number, topics: { name: string; id: Uint8Array | null; partitions: RespPartition[] }[]): string {
  return `
    ${responseHeader(corr, flexible(v))}
    ${i32(0)}  # throttle_time_ms = 0
    ${v >= 7 ? `${i16(0)}  # error_code = 0 (v7+)\n${i32(0)}  # session_id = 0: no session (v7+)` : ""}
    ${a(v, topics.length)}  # responses: ${topics.length}
    ${topics
      .map(
        (t) => `
      ${v >= 13 ? `${t.id ? uuidHex(t.id) : ZERO_UUID}  # topic_id (v13+)` : `${s(v, t.name)}  # topic = "${t.name}" (v0-12)`}
      ${a(v, t.partitions.length)}  # partitions: ${t.partitions.length}
      ${t.partitions.map((p) => partition(v, p)).join("\n")}
      ${tags(v, "topic")}`,
      )
      .join("\n")}
    ${tags(v, "response")}`;
}

let kafka: InProcessBroker;
let fId: Uint8Array;
let f2Id: Uint8Array;
beforeAll(async () => {
  kafka = await startInProcess({ "node.id": "1" });
  fId = kafka.storage.createTopic("golden-f", 1).id;
  f2Id = kafka.storage.createTopic("golden-f2", 1).id;
  const conn = kafka.connect();
  await exchange(conn, produceV3Request(1, "golden-f", 0, batch(0, 0)), produceV3Response(1, "golden-f", 0, 0));
  await exchange(conn, produceV3Request(2, "golden-f2", 0, batch(0, 0)), produceV3Response(2, "golden-f2", 0, 0));
  await exchange(conn, produceV3Request(3, "golden-f2", 0, batch(0, 0)), produceV3Response(3, "golden-f2", 0, BATCH_RECORDS));
});
afterAll(() => kafka.close());

const F = () => ({ name: "golden-f", id: fId });
const F2 = () => ({ name: "golden-f2", id: f2Id });

describe("Fetch golden bytes", () => {
  for (let v = 4; v <= 17; v++) {
    test(`v${v}: fetch offset 0: the produced batch, base offset 0`, async () => {
      await exchange(
        kafka.connect(),
        request(v, 500 + v, [{ ...F(), partitions: [{ partition: 0, offset: 0 }] }]),
        response(v, 500 + v, [{ ...F(), partitions: [{ partition: 0, hw: 2, lso: 2, logStart: 0, records: batch(0, 0) }] }]),
      );
    });
  }

  for (const v of [3, 18]) {
    test(`v${v} (not served): connection closed, no response`, async () => {
      await expectClosed(kafka.connect(), `${requestHeader(1, v, 510 + v, v >= 12)}\nffffffff 00000000 00000001  # replica_id, max_wait_ms, min_bytes ...`);
    });
  }

  for (const v of [4, 12]) {
    test(`v${v}: fetch at the log end offset: no records, no error`, async () => {
      await exchange(
        kafka.connect(),
        request(v, 520 + v, [{ ...F(), partitions: [{ partition: 0, offset: 2 }] }]),
        response(v, 520 + v, [{ ...F(), partitions: [{ partition: 0, hw: 2, lso: 2, logStart: 0 }] }]),
      );
    });
  }

  // Apache Kafka answers OFFSET_OUT_OF_RANGE with high_watermark, last_stable_offset
  // and log_start_offset all -1 (ReplicaManager.readFromLog ->
  // handleOffsetOutOfRangeError -> new LogReadResult(error): UNKNOWN_OFFSET
  // everywhere) and empty records.
  for (const v of [4, 12]) {
    test(`v${v}: fetch offset 5 (past the end): OFFSET_OUT_OF_RANGE (1), offsets -1`, async () => {
      await exchange(
        kafka.connect(),
        request(v, 530 + v, [{ ...F(), partitions: [{ partition: 0, offset: 5 }] }]),
        response(v, 530 + v, [{ ...F(), partitions: [{ partition: 0, error: 1, hw: -1, lso: -1, logStart: -1 }] }]),
      );
    });
  }

  for (const v of [4, 12]) {
    test(`v${v}: unknown topic: UNKNOWN_TOPIC_OR_PARTITION (3), offsets -1, empty records`, async () => {
      const missing = { name: "golden-nope", id: null, partitions: [] };
      await exchange(
        kafka.connect(),
        request(v, 540 + v, [{ ...missing, partitions: [{ partition: 0, offset: 0 }] }]),
        response(v, 540 + v, [{ ...missing, partitions: [{ partition: 0, error: 3, hw: -1, lso: -1, logStart: -1 }] }]),
      );
    });
  }

  test("v12: unknown partition of a known topic: UNKNOWN_TOPIC_OR_PARTITION (3)", async () => {
    await exchange(
      kafka.connect(),
      request(12, 550, [{ ...F(), partitions: [{ partition: 4, offset: 0 }] }]),
      response(12, 550, [{ ...F(), partitions: [{ partition: 4, error: 3, hw: -1, lso: -1, logStart: -1 }] }]),
    );
  });

  for (const v of [13, 17]) {
    test(`v${v}: unknown topic id: UNKNOWN_TOPIC_ID (100), id echoed`, async () => {
      const unknown = { name: "", id: Uint8Array.from(Buffer.from("fedcba9876543210fedcba9876543210", "hex")) };
      await exchange(
        kafka.connect(),
        request(v, 560 + v, [{ ...unknown, partitions: [{ partition: 0, offset: 0 }] }]),
        response(v, 560 + v, [{ ...unknown, partitions: [{ partition: 0, error: 100, hw: -1, lso: -1, logStart: -1 }] }]),
      );
    });
  }

  for (const v of [4, 12]) {
    test(`v${v}: READ_COMMITTED: aborted_transactions is an empty array, not null`, async () => {
      await exchange(
        kafka.connect(),
        request(v, 570 + v, [{ ...F(), partitions: [{ partition: 0, offset: 0 }] }], { isolation: 1 }),
        response(v, 570 + v, [{ ...F(), partitions: [{ partition: 0, hw: 2, lso: 2, logStart: 0, aborted: "empty", records: batch(0, 0) }] }]),
      );
    });
  }

  test("v12: partition_max_bytes 10 still returns the first whole batch (KIP-74)", async () => {
    await exchange(
      kafka.connect(),
      request(12, 580, [{ ...F(), partitions: [{ partition: 0, offset: 0, maxBytes: 10 }] }]),
      response(12, 580, [{ ...F(), partitions: [{ partition: 0, hw: 2, lso: 2, logStart: 0, records: batch(0, 0) }] }]),
    );
  });

  test("v12: fetch offset 1 (inside the first batch): both whole batches, from the one holding offset 1", async () => {
    await exchange(
      kafka.connect(),
      request(12, 581, [{ ...F2(), partitions: [{ partition: 0, offset: 1 }] }]),
      response(12, 581, [{ ...F2(), partitions: [{ partition: 0, hw: 4, lso: 4, logStart: 0, records: batch(0, 0) + batch(2, 0) }] }]),
    );
  });

  test("v13: two topics by id: golden-f2 from offset 2, then golden-f from offset 0", async () => {
    await exchange(
      kafka.connect(),
      request(13, 582, [
        { ...F2(), partitions: [{ partition: 0, offset: 2 }] },
        { ...F(), partitions: [{ partition: 0, offset: 0 }] },
      ]),
      response(13, 582, [
        { ...F2(), partitions: [{ partition: 0, hw: 4, lso: 4, logStart: 0, records: batch(2, 0) }] },
        { ...F(), partitions: [{ partition: 0, hw: 2, lso: 2, logStart: 0, records: batch(0, 0) }] },
      ]),
    );
  });

  // Apache Kafka 4.4 answers a partition it cannot look up with the generated
  // default for aborted_transactions, an empty list, under either isolation
  // level (FetchResponse.partitionResponse sets only index, error and high
  // watermark); seen against the reference broker in test/differential.test.ts.
  test("v4: READ_COMMITTED, unknown topic: aborted_transactions empty", async () => {
    const missing = { name: "golden-nope", id: null };
    await exchange(
      kafka.connect(),
      request(4, 575, [{ ...missing, partitions: [{ partition: 0, offset: 0 }] }], { isolation: 1 }),
      response(4, 575, [{ ...missing, partitions: [{ partition: 0, error: 3, hw: -1, lso: -1, logStart: -1, aborted: "empty" }] }]),
    );
  });

  // Apache Kafka reads max_bytes worth of the segment file (LogSegment.read:
  // log.slice(start, fetchSize)), so the records may end in a partial batch,
  // which clients drop: with max_bytes 100 and two 86-byte batches it sends 100
  // bytes, the first batch and the first 14 bytes of the second.
  test("v12: max_bytes 100 over two 86-byte batches: 100 bytes, ending in a partial batch", async () => {
    const partial = clean(batch(2, 0)).slice(0, 28); // first 14 bytes of the second batch
    await exchange(
      kafka.connect(),
      request(12, 583, [{ ...F2(), partitions: [{ partition: 0, offset: 0 }] }], { maxBytes: 100 }),
      response(12, 583, [{ ...F2(), partitions: [{ partition: 0, hw: 4, lso: 4, logStart: 0, records: batch(0, 0) + `\n${partial}  # first 14 bytes of the batch at offset 2 (baseOffset, batchLength, epoch, magic, 1 crc byte)` }] }]),
    );
  });

  // Apache Kafka lists the partitions it could read first and the erroneous ones
  // after them (KafkaApis.handleFetchRequest: interesting, then `erroneous.foreach
  // partitions.put`), grouping consecutive partitions of a topic into one entry.
  test("v12: [unknown partition 9, partition 0] of one topic: partition 0 first, then 9", async () => {
    await exchange(
      kafka.connect(),
      request(12, 584, [{ ...F(), partitions: [{ partition: 9, offset: 0 }, { partition: 0, offset: 0 }] }]),
      response(12, 584, [
        {
          ...F(),
          partitions: [
            { partition: 0, hw: 2, lso: 2, logStart: 0, records: batch(0, 0) },
            { partition: 9, error: 3, hw: -1, lso: -1, logStart: -1 },
          ],
        },
      ]),
    );
  });

  // Apache Kafka stamps the leader epoch into every batch it appends
  // (LogValidator: batch.setPartitionLeaderEpoch(leaderEpoch), outside the CRC), so
  // a batch produced with partition_leader_epoch -1 (the Java producer) is stored
  // and fetched with 0 (the fixture log written by Kafka shows 00000000 there).
  test("v12: a batch produced with partition_leader_epoch -1 is fetched with the leader epoch 0", async () => {
    if (!kafka.storage.image.topics.has("golden-epoch")) {
      kafka.storage.createTopic("golden-epoch", 1);
      await exchange(kafka.connect(), produceV3Request(4, "golden-epoch", 0, batch(0, -1)), produceV3Response(4, "golden-epoch", 0, 0));
    }
    const E = { name: "golden-epoch", id: null };
    await exchange(
      kafka.connect(),
      request(12, 590, [{ ...E, partitions: [{ partition: 0, offset: 0 }] }]),
      response(12, 590, [{ ...E, partitions: [{ partition: 0, hw: 2, lso: 2, logStart: 0, records: batch(0, 0) }] }]),
    );
  });
});
