// Golden bytes: ElectLeaders (key 43), versions 0-2 (v2 flexible: request
// header v2, response header v1). Checked field by field against
// ElectLeadersRequest.json / ElectLeadersResponse.json:
//
//   request:  election_type int8 (v1+), topic_partitions nullable ARRAY[topic
//             STRING, partitions ARRAY[int32]], timeout_ms int32
//   response: throttle_time_ms int32, error_code int16 (v1+),
//             replica_election_results ARRAY[topic STRING, partition_result
//             ARRAY[partition_id int32, error_code int16, error_message nullable STRING]]
//
// As Kafka 4.4's controller on one node: each named existing partition
// ELECTION_NOT_NEEDED (84, "Leader election not needed for topic
// partition."), preferred or unclean; unknown topics and partitions
// UNKNOWN_TOPIC_OR_PARTITION (3) with Kafka's messages; request order, twice
// listed twice; null topic_partitions: every topic with no partitions; an
// empty list: nothing; an unknown election type (v1+): INVALID_REQUEST (42)
// at the top and for every named partition. v3 is not served: closed.

import { afterAll, beforeAll, describe, test } from "bun:test";
import { startInProcess, type InProcessBroker } from "../helpers.ts";
import { TAGS, arr, carr, cstr, exchange, expectClosed, i16, i32, i8, requestHeader, responseHeader, str } from "./hex.ts";

const flex = (v: number) => v >= 2;
const s = (v: number, x: string) => (flex(v) ? cstr(x) : str(x));
const ns = (v: number, x: string | null) => (x === null ? (flex(v) ? "00" : "ffff") : s(v, x));
const a = (v: number, n: number) => (flex(v) ? carr(n) : arr(n));
const tags = (v: number, what: string) => (flex(v) ? `${TAGS}  # ${what} tagged fields: none` : "");

type Named = [topic: string, partitions: number[]][] | null;

function request(v: number, corr: number, type: number, topics: Named): string {
  const t = (topics ?? []).map(
    ([topic, ps]) => `
      ${s(v, topic)}  # topic = "${topic}"
      ${a(v, ps.length)} ${ps.map(i32).join(" ")}  # partitions = [${ps.join(", ")}]
      ${tags(v, "topic")}`,
  );
  return `
    ${requestHeader(43, v, corr, flex(v))}
    ${v >= 1 ? `${i8(type)}  # election_type = ${type}` : "# (v0: no election_type)"}
    ${topics === null ? `${flex(v) ? "00" : "ffffffff"}  # topic_partitions = null` : `${a(v, topics.length)}  # topic_partitions: ${topics.length}`}
    ${t.join("\n")}
    ${i32(60000)}  # timeout_ms = 60000
    ${tags(v, "request")}`;
}

type Result = [partition: number, error: number, message: string | null];

function response(v: number, corr: number, error: number, results: [topic: string, Result[]][]): string {
  const r = results.map(
    ([topic, ps]) => `
      ${s(v, topic)}  # topic = "${topic}"
      ${a(v, ps.length)}  # partition_result: ${ps.length}
      ${ps
        .map(
          ([p, e, m]) => `
        ${i32(p)}  # partition_id = ${p}
        ${i16(e)}  # error_code = ${e}
        ${ns(v, m)}  # error_message = ${JSON.stringify(m)}
        ${tags(v, "partition")}`,
        )
        .join("\n")}
      ${tags(v, "topic")}`,
  );
  return `
    ${responseHeader(corr, flex(v))}
    ${i32(0)}  # throttle_time_ms = 0
    ${v >= 1 ? `${i16(error)}  # error_code = ${error}` : "# (v0: no error_code)"}
    ${a(v, results.length)}  # replica_election_results: ${results.length}
    ${r.join("\n")}
    ${tags(v, "response")}`;
}

const NOT_NEEDED = (p: number): Result => [p, 84, "Leader election not needed for topic partition."];

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startInProcess({ "node.id": "1" });
  kafka.storage.createTopic("el-a", 2);
  kafka.storage.createTopic("el-b", 1);
});
afterAll(() => kafka.close());

describe("ElectLeaders golden bytes", () => {
  for (const v of [0, 1, 2]) {
    test(`v${v}: named partitions (existing, unknown, twice, none), all (null), none (empty)`, async () => {
      await exchange(
        kafka.connect(),
        request(v, 4300 + v, 0, [
          ["el-a", [0, 1, 5, 0]],
          ["el-none", [0]],
          ["el-a", [1]],
          ["el-b", []],
        ]),
        response(v, 4300 + v, 0, [
          ["el-a", [NOT_NEEDED(0), NOT_NEEDED(1), [5, 3, "No such partition as el-a-5"], NOT_NEEDED(0)]],
          ["el-none", [[0, 3, "No such topic as el-none"]]],
          ["el-a", [NOT_NEEDED(1)]],
          ["el-b", []],
        ]),
      );
      await exchange(kafka.connect(), request(v, 4310 + v, 0, null), response(v, 4310 + v, 0, [["el-a", []], ["el-b", []]]));
      await exchange(kafka.connect(), request(v, 4320 + v, 0, []), response(v, 4320 + v, 0, []));
    });
  }

  for (const v of [1, 2]) {
    test(`v${v}: unclean (1) as preferred; an unknown election type fails every named partition`, async () => {
      await exchange(kafka.connect(), request(v, 4330 + v, 1, [["el-b", [0, -1]]]), response(v, 4330 + v, 0, [["el-b", [NOT_NEEDED(0), [-1, 3, "No such partition as el-b--1"]]]]));
      await exchange(kafka.connect(), request(v, 4340 + v, 1, null), response(v, 4340 + v, 0, [["el-a", []], ["el-b", []]]));
      await exchange(
        kafka.connect(),
        request(v, 4350 + v, 2, [["el-a", [0]], ["el-none", [3]], ["el-b", []]]),
        response(v, 4350 + v, 42, [["el-a", [[0, 42, "Unknown election type 2"]]], ["el-none", [[3, 42, "Unknown election type 2"]]], ["el-b", []]]),
      );
      await exchange(kafka.connect(), request(v, 4360 + v, -1, null), response(v, 4360 + v, 42, []));
      // an empty list is answered before the type is looked at
      await exchange(kafka.connect(), request(v, 4370 + v, 7, []), response(v, 4370 + v, 0, []));
    });
  }

  test("v3 is not served: the connection is closed", async () => {
    await expectClosed(
      kafka.connect(),
      `${requestHeader(43, 3, 4399, true)}
      00  # election_type = 0
      00  # topic_partitions = null
      ${i32(60000)}  # timeout_ms = 60000
      ${TAGS}  # request tagged fields: none`,
    );
  });
});
