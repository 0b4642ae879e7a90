// Golden bytes: Metadata (key 3), versions 0-12.
// Checked field by field against MetadataRequest.json / MetadataResponse.json:
//
//   v  | request                                   | response
//   ---+-------------------------------------------+----------------------------------------------------
//   0  | topics ARRAY[name] (empty = all topics)   | brokers[node_id, host, port], topics[error, name,
//      |                                           |   partitions[error, index, leader, replicas, isr]]
//   1  | topics nullable (null = all, [] = none)   | + broker rack, controller_id, topic is_internal
//   2  |                                           | + cluster_id
//   3  |                                           | + throttle_time_ms (first)
//   4  | + allow_auto_topic_creation               |
//   5  |                                           | + partition offline_replicas
//   7  |                                           | + partition leader_epoch
//   8  | + include_cluster/topic_authorized_ops    | + topic_authorized_operations, cluster_authorized_operations
//   9  | flexible (compact, tagged fields)         | flexible; response header v1
//   10 | + topic_id (before name), name nullable   | + topic_id (after name)
//   11 | - include_cluster_authorized_operations   | - cluster_authorized_operations
//   12 | topics by id (name null)                  | name nullable (null for an unknown id)
//
// Broker: node 1 at 127.0.0.1:9092, controller_id = 1, no rack. Topics made
// here have 1 partition (leader 1, leader epoch 0, replicas [1], isr [1]).
// The cluster id and topic ids are random: their actual values are spliced in.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startInProcess, type InProcessBroker } from "../helpers.ts";
import {
  NULL_ARR,
  NULL_CARR,
  NULL_CSTR,
  NULL_STR,
  TAGS,
  ZERO_UUID,
  arr,
  bool,
  carr,
  cstr,
  exchange,
  expectBytes,
  expectClosed,
  frame,
  i16,
  i32,
  requestHeader,
  responseHeader,
  roundTrip,
  str,
  uuidHex,
} from "./hex.ts";

const flexible = (v: number) => v >= 9;
const OPS_NOT_REQUESTED = "80000000"; // -2147483648
const TOPIC_OPS_ALL = "00000df8"; // READ(3) WRITE(4) CREATE(5) DELETE(6) ALTER(7) DESCRIBE(8) DESCRIBE_CONFIGS(10) ALTER_CONFIGS(11)
const CLUSTER_OPS_ALL = "00001fa0"; // CREATE(5) ALTER(7) DESCRIBE(8) CLUSTER_ACTION(9) DESCRIBE_CONFIGS(10) ALTER_CONFIGS(11) IDEMPOTENT_WRITE(12), as Kafka 4.4 answers (8096)

// ---------------------------------------------------------------- field composers

/** STRING before v9, COMPACT_STRING from v9 */
const s = (v: number, x: string) => (flexible(v) ? cstr(x) : str(x));
/** array length: ARRAY before v9, COMPACT_ARRAY from v9 */
const a = (v: number, n: number) => (flexible(v) ? carr(n) : arr(n));
const tags = (v: number, what: string) => (flexible(v) ? `${TAGS}  # ${what} tagged fields: none` : "");
const int32s = (v: number, xs: number[], what: string) => `${a(v, xs.length)} ${xs.map(i32).join(" ")}  # ${what} = [${xs.join(", ")}]`;

interface ReqTopic {
  name: string | null;
  id?: Uint8Array;
}

function request(
  v: number,
  corr: number,
  topics: ReqTopic[] | null,
  o: { allowAutoCreate?: boolean; includeClusterOps?: boolean; includeTopicOps?: boolean } = {},
): string {
  const topicList =
    topics === null
      ? `${flexible(v) ? NULL_CARR : NULL_ARR}  # topics = null (all topics)`
      : [
          `${a(v, topics.length)}  # topics: ${topics.length}`,
          ...topics.map((t) =>
            [
              v >= 10 ? `  ${t.id ? uuidHex(t.id) : ZERO_UUID}  # topic_id` : "",
              t.name === null ? `  ${NULL_CSTR}  # name = null` : `  ${s(v, t.name)}  # name = "${t.name}"`,
              "  " + tags(v, "topic"),
            ].join("\n"),
          ),
        ].join("\n");
  return `
    ${requestHeader(3, v, corr, flexible(v))}
    ${topicList}
    ${v >= 4 ? `${bool(o.allowAutoCreate ?? true)}  # allow_auto_topic_creation (v4+)` : ""}
    ${v >= 8 && v <= 10 ? `${bool(o.includeClusterOps ?? false)}  # include_cluster_authorized_operations (v8-10)` : ""}
    ${v >= 8 ? `${bool(o.includeTopicOps ?? false)}  # include_topic_authorized_operations (v8+)` : ""}
    ${tags(v, "request")}`;
}

function partition(v: number, index: number, leaderEpoch = 0): string {
  return `
      ${i16(0)}  # partition error_code = 0
      ${i32(index)}  # partition_index = ${index}
      ${i32(1)}  # leader_id = 1
      ${v >= 7 ? `${i32(leaderEpoch)}  # leader_epoch = ${leaderEpoch} (v7+)` : ""}
      ${int32s(v, [1], "replica_nodes")}
      ${int32s(v, [1], "isr_nodes")}
      ${v >= 5 ? int32s(v, [], "offline_replicas (v5+)") : ""}
      ${tags(v, "partition")}`;
}

interface RespTopic {
  error?: number;
  name: string | null;
  id?: Uint8Array | null; // null: all-zero
  partitions?: number; // count, indexes 0..n-1
  topicOps?: string;
}

function topic(v: number, t: RespTopic): string {
  const n = t.partitions ?? 0;
  const name =
    t.name === null
      ? `${NULL_CSTR}  # name = null (v12+: unknown topic id)`
      : `${v >= 9 ? cstr(t.name) : str(t.name)}  # name = "${t.name}"`;
  return `
    ${i16(t.error ?? 0)}  # topic error_code = ${t.error ?? 0}
    ${name}
    ${v >= 10 ? `${t.id ? uuidHex(t.id) : ZERO_UUID}  # topic_id (v10+)${t.id ? "" : " = zero"}` : ""}
    ${v >= 1 ? `${bool(false)}  # is_internal = false (v1+)` : ""}
    ${a(v, n)}  # partitions: ${n}
    ${Array.from({ length: n }, (_, i) => partition(v, i)).join("\n")}
    ${v >= 8 ? `${t.topicOps ?? OPS_NOT_REQUESTED}  # topic_authorized_operations (v8+)` : ""}
    ${tags(v, "topic")}`;
}

function response(v: number, corr: number, clusterId: string, topics: string[], clusterOps = OPS_NOT_REQUESTED): string {
  return `
    ${responseHeader(corr, flexible(v))}
    ${v >= 3 ? `${i32(0)}  # throttle_time_ms = 0 (v3+)` : ""}
    ${a(v, 1)}  # brokers: 1
      ${i32(1)}  # node_id = 1
      ${s(v, "127.0.0.1")}  # host = "127.0.0.1"
      ${i32(9092)}  # port = 9092
      ${v >= 1 ? `${flexible(v) ? NULL_CSTR : NULL_STR}  # rack = null (v1+)` : ""}
      ${tags(v, "broker")}
    ${v >= 2 ? `${s(v, clusterId)}  # cluster_id = "${clusterId}" (v2+)` : ""}
    ${v >= 1 ? `${i32(1)}  # controller_id = 1 (v1+)` : ""}
    ${a(v, topics.length)}  # topics: ${topics.length}
    ${topics.join("\n")}
    ${v >= 8 && v <= 10 ? `${clusterOps}  # cluster_authorized_operations (v8-10)` : ""}
    ${tags(v, "response")}`;
}

// ---------------------------------------------------------------- tests

describe("Metadata golden bytes", () => {
  let kafka: InProcessBroker;
  let topicId: Uint8Array;
  const TOPIC = "golden-m";
  beforeAll(async () => {
    kafka = await startInProcess({ "node.id": "1" });
    topicId = kafka.storage.createTopic(TOPIC, 1).id;
  });
  afterAll(() => kafka.close());
  const cid = () => kafka.storage.clusterId;

  for (let v = 0; v <= 12; v++) {
    test(`v${v}: one existing topic`, async () => {
      await exchange(kafka.connect(), request(v, 300 + v, [{ name: TOPIC }]), response(v, 300 + v, cid(), [topic(v, { name: TOPIC, id: topicId, partitions: 1 })]));
    });
  }

  test("v13 (not served): connection closed, no response", async () => {
    await expectClosed(kafka.connect(), request(13, 24, [{ name: TOPIC }]));
  });

  test("v1: an empty topic list means no topics", async () => {
    await exchange(kafka.connect(), request(1, 20, []), response(1, 20, cid(), []));
  });

  test("v8: authorized operations requested (no authorizer: every operation)", async () => {
    await exchange(
      kafka.connect(),
      request(8, 21, [{ name: TOPIC }], { includeClusterOps: true, includeTopicOps: true }),
      response(8, 21, cid(), [topic(8, { name: TOPIC, id: topicId, partitions: 1, topicOps: TOPIC_OPS_ALL })], CLUSTER_OPS_ALL),
    );
  });

  test("v10: authorized operations requested, flexible", async () => {
    await exchange(
      kafka.connect(),
      request(10, 22, [{ name: TOPIC }], { includeClusterOps: true, includeTopicOps: true }),
      response(10, 22, cid(), [topic(10, { name: TOPIC, id: topicId, partitions: 1, topicOps: TOPIC_OPS_ALL })], CLUSTER_OPS_ALL),
    );
  });

  test("v11: topic operations requested (no cluster operations field any more)", async () => {
    await exchange(
      kafka.connect(),
      request(11, 23, [{ name: TOPIC }], { includeTopicOps: true }),
      response(11, 23, cid(), [topic(11, { name: TOPIC, id: topicId, partitions: 1, topicOps: TOPIC_OPS_ALL })]),
    );
  });

  for (const v of [4, 9, 10, 12]) {
    test(`v${v}: unknown topic with allow_auto_topic_creation=false: error 3, not created`, async () => {
      const name = `golden-missing-${v}`;
      await exchange(
        kafka.connect(),
        request(v, 30 + v, [{ name }], { allowAutoCreate: false }),
        response(v, 30 + v, cid(), [topic(v, { error: 3, name, id: null, partitions: 0 })]),
      );
      expect(kafka.storage.image.topics.has(name)).toBe(false);
    });
  }

  // Auto-creation. NOTE (deliberate, src/api/03-metadata.ts): this broker creates
  // the topic and describes it as ready in the same response. Apache Kafka (KRaft)
  // answers LEADER_NOT_AVAILABLE (5) with no partitions and a zero topic id while
  // the controller creates it, and the client asks again.
  for (const [v, allowField] of [
    [0, false],
    [4, true],
    [12, true],
  ] as const) {
    test(`v${v}: unknown topic is auto-created${allowField ? " (allow_auto_topic_creation=true)" : " (always allowed before v4)"}`, async () => {
      const name = `golden-auto-${v}`;
      const got = await roundTrip(kafka.connect(), request(v, 40 + v, [{ name }], { allowAutoCreate: true }));
      const created = kafka.storage.image.topics.get(name);
      expect(created).toBeDefined();
      expectBytes(got, frame(response(v, 40 + v, cid(), [topic(v, { name, id: created!.id, partitions: 1 })])));
    });
  }

  test("v9: auto-creation of an invalid name: error 17 (INVALID_TOPIC_EXCEPTION)", async () => {
    const name = "bad name!";
    await exchange(
      kafka.connect(),
      request(9, 50, [{ name }], { allowAutoCreate: true }),
      response(9, 50, cid(), [topic(9, { error: 17, name, id: null, partitions: 0 })]),
    );
  });

  // Apache Kafka validates the name of a topic it does not know even when it may
  // not create it (KafkaApis.getTopicMetadata: Topic.validate -> INVALID_TOPIC_EXCEPTION).
  test("v9: invalid name with allow_auto_topic_creation=false: error 17 (INVALID_TOPIC_EXCEPTION)", async () => {
    const name = "bad name!";
    await exchange(
      kafka.connect(),
      request(9, 51, [{ name }], { allowAutoCreate: false }),
      response(9, 51, cid(), [topic(9, { error: 17, name, id: null, partitions: 0 })]),
    );
  });

  test("v12: topic by id (name null in the request)", async () => {
    await exchange(
      kafka.connect(),
      request(12, 60, [{ name: null, id: topicId }]),
      response(12, 60, cid(), [topic(12, { name: TOPIC, id: topicId, partitions: 1 })]),
    );
  });

  // Apache Kafka (KafkaApis.handleTopicMetadataRequest) refuses topic ids and null
  // names below v12 with InvalidRequestException, answered by
  // MetadataRequest.getErrorResponse: every requested topic gets INVALID_REQUEST (42)
  // with its id and no partitions; no brokers, cluster_id null, controller_id -1.
  for (const v of [10, 11]) {
    test(`v${v}: a topic named by id (not served below v12): INVALID_REQUEST (42) for every topic`, async () => {
      await exchange(
        kafka.connect(),
        request(v, 62 + v, [{ name: TOPIC }, { name: "other", id: topicId }]),
        `
        ${responseHeader(62 + v, true)}
        ${i32(0)}  # throttle_time_ms = 0
        ${carr(0)}  # brokers: none (error response)
        ${NULL_CSTR}  # cluster_id = null
        ${i32(-1)}  # controller_id = -1
        ${carr(2)}  # topics: 2
          ${i16(42)}  # error_code = 42 (INVALID_REQUEST)
          ${cstr(TOPIC)}  # name = "${TOPIC}"
          ${ZERO_UUID}  # topic_id = zero (as requested)
          ${bool(false)}  # is_internal = false
          ${carr(0)}  # partitions: none
          ${OPS_NOT_REQUESTED}  # topic_authorized_operations = -2147483648 (default)
          ${TAGS}  # topic tagged fields: none
          ${i16(42)}  # error_code = 42 (INVALID_REQUEST)
          ${cstr("other")}  # name = "other"
          ${uuidHex(topicId)}  # topic_id (as requested)
          ${bool(false)}  # is_internal = false
          ${carr(0)}  # partitions: none
          ${OPS_NOT_REQUESTED}  # topic_authorized_operations = -2147483648 (default)
          ${TAGS}  # topic tagged fields: none
        ${v === 10 ? `${OPS_NOT_REQUESTED}  # cluster_authorized_operations = -2147483648 (default, v8-10)` : ""}
        ${TAGS}  # response tagged fields: none`,
      );
    });
  }

  test("v12: unknown topic id: error 100 (UNKNOWN_TOPIC_ID), name null", async () => {
    const unknown = Uint8Array.from(Buffer.from("0123456789abcdef0123456789abcdef", "hex"));
    await exchange(
      kafka.connect(),
      request(12, 61, [{ name: null, id: unknown }]),
      response(12, 61, cid(), [topic(12, { error: 100, name: null, id: unknown, partitions: 0 })]),
    );
  });
});

describe("Metadata golden bytes: all topics", () => {
  // A broker with exactly one topic, so "all topics" has one deterministic answer.
  let kafka: InProcessBroker;
  let topicId: Uint8Array;
  const TOPIC = "golden-only";
  beforeAll(async () => {
    kafka = await startInProcess({ "node.id": "1" });
    topicId = kafka.storage.createTopic(TOPIC, 2).id;
  });
  afterAll(() => kafka.close());

  test("v0: an empty topic list means all topics", async () => {
    await exchange(kafka.connect(), request(0, 70, []), response(0, 70, kafka.storage.clusterId, [topic(0, { name: TOPIC, partitions: 2 })]));
  });

  for (const v of [1, 8, 9, 12]) {
    test(`v${v}: null topics means all topics`, async () => {
      await exchange(
        kafka.connect(),
        request(v, 70 + v, null),
        response(v, 70 + v, kafka.storage.clusterId, [topic(v, { name: TOPIC, id: topicId, partitions: 2 })]),
      );
    });
  }
});
