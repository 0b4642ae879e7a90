// Golden bytes: DeleteGroups (key 42), versions 0-2; flexible from v2
// (request header v2, response header v1). Checked field by field against
// DeleteGroupsRequest.json / DeleteGroupsResponse.json:
//
//   v  | request                    | response
//   ---+----------------------------+-----------------------------------------------
//   0  | groups_names ARRAY[STRING] | throttle_time_ms, results ARRAY[group_id,
//      |                            |   error_code]
//   1  | (same)                     | (same)
//   2  | flexible                   | flexible
//
// As Kafka 4.4 answers (each case was sent to the reference Kafka 4.4 of
// test/kafka-ref too): a group with no members (Empty: one that only has
// committed offsets, or one whose members all left) is deleted with its
// offsets (error 0); afterwards it is unknown. "" is a group id like any
// other (Kafka 4.4 keeps it so for compatibility). A name given twice is
// answered once (KafkaApis takes the distinct names).
//   NON_EMPTY_GROUP (68)      the group has members
//   GROUP_ID_NOT_FOUND (69)   a group the broker does not know (or no longer)
//   NOT_COORDINATOR (16)      before __consumer_offsets exists
//
// Groups in one request: ours answers them in request order; Kafka 4.4 in
// the order of its hash maps, even within one __consumer_offsets partition
// (seen: "mm-1", "aa-1", "bb-2", "zz-2" for a request "zz-2", "aa-1", "mm-1",
// "bb-2"), which clients do not rely on: the several-group case was compared
// with Kafka's answer as a set.
//
// Data: "dl-topic" (1 partition); every case its own groups "dl-<case>-v<v>",
// joined with JoinGroup v3 by the client "golden".

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type InProcessBroker } from "../helpers.ts";
import { PEER, assignment, commitSimple, encoders, findCoordinator, q, stableGroup, startGroupBroker, subscription } from "./groups.ts";
import { exchange, i16, i32, requestHeader, responseHeader, str } from "./hex.ts";

const flexible = (v: number) => v >= 2;

const METADATA = subscription(["dl-topic"]);
const PARTS = assignment([["dl-topic", [0]]]);

function request(v: number, corr: number, groups: string[]): string {
  const e = encoders(flexible(v));
  return `
    ${requestHeader(42, v, corr, flexible(v))}
    ${e.a(groups.length)}  # groups_names: ${groups.length}
    ${groups.map((g) => `  ${e.s(g)}  # ${q(g)}`).join("\n")}
    ${e.tags("request")}`;
}

function response(v: number, corr: number, results: [group: string, error: number][]): string {
  const e = encoders(flexible(v));
  return `
    ${responseHeader(corr, flexible(v))}
    ${i32(0)}  # throttle_time_ms = 0
    ${e.a(results.length)}  # results: ${results.length}
    ${results.map(([g, err]) => `  ${e.s(g)} ${i16(err)} ${flexible(v) ? "00" : ""}  # group_id = ${q(g)}, error_code = ${err}`).join("\n")}
    ${e.tags("response")}`;
}

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startGroupBroker();
  kafka.storage.createTopic("dl-topic", 1);
  await findCoordinator(kafka.connect(), 1, "dl");
});
afterAll(() => kafka.close());

describe("DeleteGroups golden bytes", () => {
  for (let v = 0; v <= 2; v++) {
    test(`v${v}: several groups: Empty with offsets (deleted), Stable (68), unknown (69), "" (69), one named twice (once); the deleted one then unknown`, async () => {
      const c = 3500 + 10 * v;
      const [simple, stable, none] = [`dl-simple-v${v}`, `dl-stable-v${v}`, `dl-none-v${v}`];
      const conn = kafka.connect(PEER);
      await commitSimple(conn, c, simple, "dl-topic", [[0, 42, "m"]]);
      await stableGroup(conn, c + 1, stable, METADATA, PARTS);
      await exchange(
        conn,
        request(v, c + 3, [simple, stable, none, "", none]),
        response(v, c + 3, [
          [simple, 0],
          [stable, 68],
          [none, 69],
          ["", 69],
        ]),
      );
      expect(kafka.broker.groups.group(simple)).toBeUndefined();
      expect(kafka.broker.groups.fetchOffsets(simple, null)).toEqual({ errorCode: 0, topics: [] });
      expect(kafka.broker.groups.group(stable)?.state).toBe("Stable");
      await exchange(conn, request(v, c + 4, [simple]), response(v, c + 4, [[simple, 69]]));
    });

    test(`v${v}: a consumer group whose only member left (Empty): deleted; the group "" with offsets: deleted`, async () => {
      const group = `dl-left-v${v}`;
      const c = 3600 + 10 * v;
      const conn = kafka.connect(PEER);
      const j = await stableGroup(conn, c, group, METADATA, PARTS);
      // LeaveGroup v0 (member_id) -> error 0
      await exchange(
        conn,
        `${requestHeader(13, 0, c + 2, false)}
         ${str(group)}  # group_id = ${q(group)}
         ${str(j.memberId)}  # member_id`,
        `${responseHeader(c + 2, false)}
         ${i16(0)}  # error_code = 0`,
      );
      expect(kafka.broker.groups.group(group)?.state).toBe("Empty");
      await commitSimple(conn, c + 3, "", "dl-topic", [[0, 1, null]]);
      await exchange(
        conn,
        request(v, c + 4, [group]),
        response(v, c + 4, [[group, 0]]),
      );
      await exchange(conn, request(v, c + 5, [""]), response(v, c + 5, [["", 0]]));
      expect(kafka.broker.groups.group(group)).toBeUndefined();
      expect(kafka.broker.groups.group("")).toBeUndefined();
    });
  }

  test("before __consumer_offsets exists (no FindCoordinator yet): NOT_COORDINATOR per group at every version", async () => {
    const fresh = await startGroupBroker();
    try {
      const conn = fresh.connect();
      for (let v = 0; v <= 2; v++) await exchange(conn, request(v, 3700 + v, ["dl-early"]), response(v, 3700 + v, [["dl-early", 16]]));
    } finally {
      await fresh.close();
    }
  });
});
