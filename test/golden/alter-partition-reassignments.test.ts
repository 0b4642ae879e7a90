// Golden bytes: AlterPartitionReassignments (key 45) v0, flexible (request
// header v2, response header v1). Checked field by field against
// AlterPartitionReassignmentsRequest.json / ...Response.json:
//
//   request:  timeout_ms int32, topics COMPACT_ARRAY[name COMPACT_STRING,
//             partitions COMPACT_ARRAY[partition_index int32, replicas
//             nullable COMPACT_ARRAY[int32]]]
//   response: throttle_time_ms int32, error_code int16, error_message
//             nullable COMPACT_STRING, responses COMPACT_ARRAY[name,
//             partitions COMPACT_ARRAY[partition_index int32, error_code
//             int16, error_message nullable COMPACT_STRING]]
//
// As Kafka 4.4's controller on one node (node 1): a reassignment to [1] is
// the current assignment (NONE); another broker, a negative id, ours twice or
// an empty list INVALID_REPLICA_ASSIGNMENT (39) with Kafka's messages; a
// cancel (null replicas) NO_REASSIGNMENT_IN_PROGRESS (85), message null;
// unknown topics and partitions UNKNOWN_TOPIC_OR_PARTITION (3); no topics at
// all: message "" (not null). v1 (Kafka 4.4 serves it, with
// allow_replication_factor_change; not in our schemas) is closed.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startInProcess, type InProcessBroker } from "../helpers.ts";
import { TAGS, carr, cstr, exchange, expectClosed, i16, i32, requestHeader, responseHeader } from "./hex.ts";

const ns = (x: string | null) => (x === null ? "00" : cstr(x));
const ints = (xs: number[]) => `${carr(xs.length)} ${xs.map(i32).join(" ")}`;

type Target = [partition: number, replicas: number[] | null];

function alterRequest(corr: number, topics: [name: string, Target[]][], version = 0): string {
  return `
    ${requestHeader(45, version, corr, true)}
    ${i32(60000)}  # timeout_ms = 60000
    ${carr(topics.length)}  # topics: ${topics.length}
    ${topics
      .map(
        ([name, ps]) => `
      ${cstr(name)}  # name = "${name}"
      ${carr(ps.length)}  # partitions: ${ps.length}
      ${ps
        .map(
          ([p, r]) => `
        ${i32(p)}  # partition_index = ${p}
        ${r === null ? "00" : ints(r)}  # replicas = ${r === null ? "null" : `[${r.join(", ")}]`}
        ${TAGS}  # partition tagged fields: none`,
        )
        .join("\n")}
      ${TAGS}  # topic tagged fields: none`,
      )
      .join("\n")}
    ${TAGS}  # request tagged fields: none`;
}

type Answer = [partition: number, error: number, message: string | null];

function alterResponse(corr: number, message: string | null, topics: [name: string, Answer[]][]): string {
  return `
    ${responseHeader(corr, true)}
    ${i32(0)}  # throttle_time_ms = 0
    ${i16(0)}  # error_code = 0
    ${ns(message)}  # error_message = ${JSON.stringify(message)}
    ${carr(topics.length)}  # responses: ${topics.length}
    ${topics
      .map(
        ([name, ps]) => `
      ${cstr(name)}  # name = "${name}"
      ${carr(ps.length)}  # partitions: ${ps.length}
      ${ps
        .map(
          ([p, e, m]) => `
        ${i32(p)}  # partition_index = ${p}
        ${i16(e)}  # error_code = ${e}
        ${ns(m)}  # error_message = ${JSON.stringify(m)}
        ${TAGS}  # partition tagged fields: none`,
        )
        .join("\n")}
      ${TAGS}  # topic tagged fields: none`,
      )
      .join("\n")}
    ${TAGS}  # response tagged fields: none`;
}

const unregistered = (id: number): string => `The manual partition assignment includes broker ${id}, but no such broker is registered.`;

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startInProcess({ "node.id": "1" });
  kafka.storage.createTopic("re-a", 2);
  kafka.storage.createTopic("re-b", 1);
});
afterAll(() => kafka.close());

describe("AlterPartitionReassignments golden bytes", () => {
  test("v0: to our node (no change), to other brokers, invalid lists, cancel, unknown topic and partitions, request order", async () => {
    await exchange(
      kafka.connect(),
      alterRequest(4500, [
        ["re-a", [[0, [1]], [1, [2]], [0, [1, 2]], [1, [3, 1, -1]], [0, [1, 1]], [1, []], [0, null], [2, [1]], [-1, null]]],
        ["re-none", [[0, [1]], [0, null]]],
        ["re-b", []],
        ["re-a", [[1, [1]]]],
      ]),
      alterResponse(4500, null, [
        [
          "re-a",
          [
            [0, 0, null],
            [1, 39, unregistered(2)],
            [0, 39, unregistered(2)],
            [1, 39, unregistered(-1)],
            [0, 39, "The manual partition assignment includes the broker 1 more than once."],
            [1, 39, "The manual partition assignment includes an empty replica list."],
            [0, 85, null],
            [2, 3, "Unable to find partition re-a:2."],
            [-1, 3, "Unable to find partition re-a:-1."],
          ],
        ],
        ["re-none", [[0, 3, "Unable to find a topic named re-none."], [0, 3, "Unable to find a topic named re-none."]]],
        ["re-b", []],
        ["re-a", [[1, 0, null]]],
      ]),
    );
    const replicas = (p: number) => kafka.storage.image.topics.get("re-a")?.partitions[p]?.replicas;
    expect([replicas(0), replicas(1)]).toEqual([[1], [1]]);
  });

  test('v0: no topics at all: error_message "", not null', async () => {
    await exchange(kafka.connect(), alterRequest(4510, []), alterResponse(4510, "", []));
  });

  test("v1 is not served: the connection is closed", async () => {
    await expectClosed(kafka.connect(), alterRequest(4520, [], 1));
  });
});
