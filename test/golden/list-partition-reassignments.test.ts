// Golden bytes: ListPartitionReassignments (key 46) v0, flexible (request
// header v2, response header v1). Checked field by field against
// ListPartitionReassignmentsRequest.json / ...Response.json:
//
//   request:  timeout_ms int32, topics nullable COMPACT_ARRAY[name
//             COMPACT_STRING, partition_indexes COMPACT_ARRAY[int32]]
//   response: throttle_time_ms int32, error_code int16, error_message
//             nullable COMPACT_STRING, topics COMPACT_ARRAY[name, partitions
//             COMPACT_ARRAY[partition_index, replicas, adding_replicas,
//             removing_replicas (int32 arrays)]]
//
// As Kafka 4.4's controller on one node: nothing is ever reassigning, so no
// topics, error NONE, message null, whatever is asked (unknown topics and
// partitions are left out, no error). v1 is not served: closed.

import { afterAll, beforeAll, describe, test } from "bun:test";
import { startInProcess, type InProcessBroker } from "../helpers.ts";
import { TAGS, carr, cstr, exchange, expectClosed, i16, i32, requestHeader, responseHeader } from "./hex.ts";

const ints = (xs: number[]) => `${carr(xs.length)} ${xs.map(i32).join(" ")}`;

function listRequest(corr: number, topics: [name: string, number[]][] | null): string {
  return `
    ${requestHeader(46, 0, corr, true)}
    ${i32(60000)}  # timeout_ms = 60000
    ${topics === null ? "00  # topics = null" : `${carr(topics.length)}  # topics: ${topics.length}`}
    ${(topics ?? [])
      .map(
        ([name, ps]) => `
      ${cstr(name)}  # name = "${name}"
      ${ints(ps)}  # partition_indexes = [${ps.join(", ")}]
      ${TAGS}  # topic tagged fields: none`,
      )
      .join("\n")}
    ${TAGS}  # request tagged fields: none`;
}

const listResponse = (corr: number) => `
    ${responseHeader(corr, true)}
    ${i32(0)}  # throttle_time_ms = 0
    ${i16(0)}  # error_code = 0
    00  # error_message = null
    ${carr(0)}  # topics: 0
    ${TAGS}  # response tagged fields: none`;

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startInProcess({ "node.id": "1" });
  kafka.storage.createTopic("re-a", 2);
  kafka.storage.createTopic("re-b", 1);
});
afterAll(() => kafka.close());

describe("ListPartitionReassignments golden bytes", () => {
  test("v0: all (null), none (empty), named topics, unknown ones and partitions: never any reassignment", async () => {
    await exchange(kafka.connect(), listRequest(4600, null), listResponse(4600));
    await exchange(kafka.connect(), listRequest(4601, []), listResponse(4601));
    await exchange(kafka.connect(), listRequest(4602, [["re-a", [0, 1, 9]], ["re-none", [0]], ["re-b", []]]), listResponse(4602));
  });

  test("v1 is not served: the connection is closed", async () => {
    await expectClosed(
      kafka.connect(),
      `${requestHeader(46, 1, 4610, true)}
      ${i32(60000)}  # timeout_ms = 60000
      00  # topics = null
      ${TAGS}  # request tagged fields: none`,
    );
  });
});
