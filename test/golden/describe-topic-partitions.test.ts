// Golden bytes: DescribeTopicPartitions (key 75), version 0 (flexible; request
// header v2, response header v1). Checked field by field against
// DescribeTopicPartitionsRequest.json / DescribeTopicPartitionsResponse.json:
//
//   request:  topics COMPACT_ARRAY[name], response_partition_limit int32,
//             cursor (nullable struct: ff = null, 01 + topic_name, partition_index)
//   response: throttle_time_ms, topics COMPACT_ARRAY[error_code, name (nullable),
//             topic_id, is_internal, partitions[error_code, partition_index,
//             leader_id, leader_epoch, replica_nodes, isr_nodes,
//             eligible_leader_replicas (nullable), last_known_elr (nullable),
//             offline_replicas], topic_authorized_operations], next_cursor
//
// Topics come back sorted by name; an empty topic list means every topic. An
// unknown topic gets UNKNOWN_TOPIC_OR_PARTITION (3) with the all-zero id.
// ResponsePartitionLimit caps the partitions; next_cursor says where the next
// page starts. With no authorizer, topic_authorized_operations is every topic
// operation (0x0df8), for unknown topics too (Kafka sets it on every topic of
// the response: DescribeTopicPartitionsRequestHandler).
//
// Data: "dtp-b" (3 partitions) is created before "dtp-a" (1 partition), so
// sorting is visible. Partitions: leader 1, epoch 0, replicas [1], isr [1],
// ELR and last known ELR empty (not null), no offline replicas.

import { afterAll, beforeAll, describe, test } from "bun:test";
import { startInProcess, type InProcessBroker } from "../helpers.ts";
import { TAGS, ZERO_UUID, bool, carr, cstr, exchange, expectClosed, i16, i32, requestHeader, responseHeader, uuidHex } from "./hex.ts";

const TOPIC_OPS_ALL = "00000df8";
const int32s = (xs: number[], what: string) => `${carr(xs.length)} ${xs.map(i32).join(" ")}  # ${what} = [${xs.join(", ")}]`;

function request(corr: number, topics: string[], limit: number, cursor: { topic: string; partition: number } | null = null): string {
  return `
    ${requestHeader(75, 0, corr, true)}
    ${carr(topics.length)}  # topics: ${topics.length}
    ${topics.map((t) => `  ${cstr(t)} ${TAGS}  # name = "${t}", tagged fields: none`).join("\n")}
    ${i32(limit)}  # response_partition_limit = ${limit}
    ${
      cursor === null
        ? "ff  # cursor = null"
        : `01  # cursor present
    ${cstr(cursor.topic)}  # cursor topic_name = "${cursor.topic}"
    ${i32(cursor.partition)}  # cursor partition_index = ${cursor.partition}
    ${TAGS}  # cursor tagged fields: none`
    }
    ${TAGS}  # request tagged fields: none`;
}

function partition(index: number): string {
  return `
        ${i16(0)}  # partition error_code = 0
        ${i32(index)}  # partition_index = ${index}
        ${i32(1)}  # leader_id = 1
        ${i32(0)}  # leader_epoch = 0
        ${int32s([1], "replica_nodes")}
        ${int32s([1], "isr_nodes")}
        ${int32s([], "eligible_leader_replicas")}
        ${int32s([], "last_known_elr")}
        ${int32s([], "offline_replicas")}
        ${TAGS}  # partition tagged fields: none`;
}

function topic(name: string, id: Uint8Array | null, partitions: number[], error = 0, ops = TOPIC_OPS_ALL): string {
  return `
      ${i16(error)}  # topic error_code = ${error}
      ${cstr(name)}  # name = "${name}"
      ${id ? uuidHex(id) : ZERO_UUID}  # topic_id${id ? "" : " = zero"}
      ${bool(false)}  # is_internal = false
      ${carr(partitions.length)}  # partitions: ${partitions.length}
      ${partitions.map(partition).join("\n")}
      ${ops}  # topic_authorized_operations = 0x${ops}
      ${TAGS}  # topic tagged fields: none`;
}

function response(corr: number, topics: string[], nextCursor: { topic: string; partition: number } | null): string {
  return `
    ${responseHeader(corr, true)}
    ${i32(0)}  # throttle_time_ms = 0
    ${carr(topics.length)}  # topics: ${topics.length}
    ${topics.join("\n")}
    ${
      nextCursor === null
        ? "ff  # next_cursor = null"
        : `01  # next_cursor present
    ${cstr(nextCursor.topic)}  # next_cursor topic_name = "${nextCursor.topic}"
    ${i32(nextCursor.partition)}  # next_cursor partition_index = ${nextCursor.partition}
    ${TAGS}  # next_cursor tagged fields: none`
    }
    ${TAGS}  # response tagged fields: none`;
}

let kafka: InProcessBroker;
let idA: Uint8Array;
let idB: Uint8Array;
beforeAll(async () => {
  kafka = await startInProcess({ "node.id": "1" });
  idB = kafka.storage.createTopic("dtp-b", 3).id;
  idA = kafka.storage.createTopic("dtp-a", 1).id;
});
afterAll(() => kafka.close());

describe("DescribeTopicPartitions golden bytes", () => {
  test("v0: two topics asked out of order come back sorted, all partitions, no cursor", async () => {
    await exchange(
      kafka.connect(),
      request(700, ["dtp-b", "dtp-a"], 2000),
      response(700, [topic("dtp-a", idA, [0]), topic("dtp-b", idB, [0, 1, 2])], null),
    );
  });

  test("v0: an empty topic list means every topic, sorted", async () => {
    await exchange(kafka.connect(), request(701, [], 2000), response(701, [topic("dtp-a", idA, [0]), topic("dtp-b", idB, [0, 1, 2])], null));
  });

  test("v0: unknown topic: error 3, zero id, no partitions", async () => {
    await exchange(kafka.connect(), request(702, ["dtp-zzz"], 2000), response(702, [topic("dtp-zzz", null, [], 3)], null));
  });

  test("v0: known and unknown topics sorted together", async () => {
    await exchange(
      kafka.connect(),
      request(703, ["dtp-zzz", "dtp-a", "dtp-0"], 2000),
      response(703, [topic("dtp-0", null, [], 3), topic("dtp-a", idA, [0]), topic("dtp-zzz", null, [], 3)], null),
    );
  });

  test("v0: a topic asked twice is answered once", async () => {
    await exchange(kafka.connect(), request(709, ["dtp-a", "dtp-a"], 2000), response(709, [topic("dtp-a", idA, [0])], null));
  });

  test("v0: page 1 of 2 with response_partition_limit 2: dtp-a p0, dtp-b p0, cursor (dtp-b, 1)", async () => {
    await exchange(kafka.connect(), request(704, [], 2), response(704, [topic("dtp-a", idA, [0]), topic("dtp-b", idB, [0])], { topic: "dtp-b", partition: 1 }));
  });

  test("v0: page 2 of 2 from cursor (dtp-b, 1): dtp-b p1, p2, no cursor", async () => {
    await exchange(kafka.connect(), request(705, [], 2, { topic: "dtp-b", partition: 1 }), response(705, [topic("dtp-b", idB, [1, 2])], null));
  });

  test("v0: limit 1 filled by dtp-a exactly: cursor points at the start of dtp-b", async () => {
    await exchange(kafka.connect(), request(706, ["dtp-a", "dtp-b"], 1), response(706, [topic("dtp-a", idA, [0])], { topic: "dtp-b", partition: 0 }));
  });

  test("v0: cursor with a topic list: topics before the cursor topic are skipped", async () => {
    await exchange(
      kafka.connect(),
      request(707, ["dtp-a", "dtp-b"], 2000, { topic: "dtp-b", partition: 2 }),
      response(707, [topic("dtp-b", idB, [2])], null),
    );
  });

  test("v1 (not served): connection closed, no response", async () => {
    await expectClosed(kafka.connect(), `${requestHeader(75, 1, 710, true)}
      ${carr(1)} ${cstr("dtp-a")} ${TAGS}  # topics: ["dtp-a"]
      ${i32(2000)}  # response_partition_limit
      ff ${TAGS}  # cursor = null, tagged fields: none`);
  });

  // Apache Kafka (DescribeTopicPartitionsRequestHandler) refuses a cursor whose topic
  // is not in the requested list with INVALID_REQUEST (42): the error response
  // (DescribeTopicPartitionsRequest.getErrorResponse) lists each requested topic
  // with error 42, a zero id, no partitions and the default authorized operations
  // (-2147483648).
  // empty page.
  test("v0: cursor topic not in the topic list: INVALID_REQUEST (42) for each topic", async () => {
    await exchange(
      kafka.connect(),
      request(711, ["dtp-a"], 2000, { topic: "dtp-b", partition: 0 }),
      response(711, [topic("dtp-a", null, [], 42, "80000000")], null),
    );
  });

  // Apache Kafka (KRaftMetadataCache.getTopicMetadataForDescribeTopicResponse): once
  // the limit is used up, the next topic in the list becomes next_cursor (partition
  // 0) whether or not it exists ("if a partition is pointed in the NextTopicPartition,
  // it does not mean this topic exists").
  // with error 3 in this page and sends no cursor.
  test("v0: limit used up before an unknown topic: the cursor points at it, it is not answered", async () => {
    await exchange(
      kafka.connect(),
      request(708, ["dtp-a", "dtp-unknown"], 1),
      response(708, [topic("dtp-a", idA, [0])], { topic: "dtp-unknown", partition: 0 }),
    );
  });
});

describe("DescribeTopicPartitions: Kafka's partition cap", () => {
  // Apache Kafka caps response_partition_limit at max.request.partition.size.limit
  // (default 2000; 3 here): a limit of 5 over a 4-partition topic answers 3
  // partitions and a cursor at partition 3.
  let capped: InProcessBroker;
  let id: Uint8Array;
  beforeAll(async () => {
    capped = await startInProcess({ "node.id": "1", "max.request.partition.size.limit": "3" });
    id = capped.storage.createTopic("dtp-wide", 4).id;
  });
  afterAll(() => capped.close());

  test("v0: response_partition_limit 5 with max.request.partition.size.limit 3: 3 partitions, cursor at 3", async () => {
    await exchange(capped.connect(), request(720, ["dtp-wide"], 5), response(720, [topic("dtp-wide", id, [0, 1, 2])], { topic: "dtp-wide", partition: 3 }));
  });
});
