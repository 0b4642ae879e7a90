// Golden bytes: Heartbeat (key 12), versions 0-4; flexible from v4 (request
// header v2, response header v1). Checked field by field against
// HeartbeatRequest.json / HeartbeatResponse.json:
//
//   v  | request                                   | response
//   ---+-------------------------------------------+-----------------------------
//   0  | group_id, generation_id, member_id        | error_code
//   1  | (same)                                    | + throttle_time_ms (first)
//   2  | (same)                                    | (same)
//   3  | + group_instance_id nullable (last)       | (same)
//   4  | flexible (compact, tagged fields)         | flexible
//
// As Kafka 4.4 answers (each case was sent to the reference Kafka 4.4 of
// test/kafka-ref too): a member of the current generation is answered 0 in
// Stable and in CompletingRebalance (joined, not synced yet), and
// REBALANCE_IN_PROGRESS (27) while the group is PreparingRebalance (it must
// join again). Otherwise:
//   ILLEGAL_GENERATION (22)   another generation
//   UNKNOWN_MEMBER_ID (25)    a member the group does not have, a group that does not exist,
//                             an instance id the group does not know (v3+)
//   FENCED_INSTANCE_ID (82)   v3+: a static member's instance id with another member id
//   INVALID_GROUP_ID (24)     group id ""
//   NOT_COORDINATOR (16)      before __consumer_offsets exists
//
// Data: every case its own group "hb-<case>-v<v>", joined with JoinGroup v3
// (v5 for the static member) by the client "golden".

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type InProcessBroker } from "../helpers.ts";
import { PEER, assignment, encoders, findCoordinator, joinAlone, joinStatic, q, secondMember, startGroupBroker, subscription, syncLeader } from "./groups.ts";
import { exchange, i16, i32, requestHeader, responseHeader } from "./hex.ts";

const flexible = (v: number) => v >= 4;

const METADATA = subscription(["hb-topic"]);
const PARTS = assignment([["hb-topic", [0]]]);

function request(v: number, corr: number, group: string, generation: number, memberId: string, instance: string | null = null): string {
  const e = encoders(flexible(v));
  return `
    ${requestHeader(12, v, corr, flexible(v))}
    ${e.s(group)}  # group_id = ${q(group)}
    ${i32(generation)}  # generation_id = ${generation}
    ${e.s(memberId)}  # member_id = ${q(memberId)}
    ${v >= 3 ? `${e.ns(instance)}  # group_instance_id = ${q(instance)}` : ""}
    ${e.tags("request")}`;
}

function response(v: number, corr: number, error: number): string {
  const e = encoders(flexible(v));
  return `
    ${responseHeader(corr, flexible(v))}
    ${v >= 1 ? `${i32(0)}  # throttle_time_ms = 0` : ""}
    ${i16(error)}  # error_code = ${error}
    ${e.tags("response")}`;
}

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startGroupBroker();
  await findCoordinator(kafka.connect(), 1, "hb");
});
afterAll(() => kafka.close());

describe("Heartbeat golden bytes", () => {
  for (let v = 0; v <= 4; v++) {
    test(`v${v}: joined (CompletingRebalance): 0; synced (Stable): 0; a second member joining (PreparingRebalance): REBALANCE_IN_PROGRESS; the next generation: 0`, async () => {
      const group = `hb-states-v${v}`;
      const conn = kafka.connect(PEER);
      const c = 1900 + 10 * v;
      const j = await joinAlone(conn, c, group, METADATA);
      await exchange(conn, request(v, c + 2, group, 1, j.memberId), response(v, c + 2, 0));
      await syncLeader(conn, c + 3, group, j, [[j.memberId, PARTS]]);
      await exchange(conn, request(v, c + 4, group, 1, j.memberId), response(v, c + 4, 0));
      const { leader, follower } = await secondMember(kafka, c + 5, group, j, METADATA, async () => {
        await exchange(conn, request(v, c + 7, group, 1, j.memberId), response(v, c + 7, 27));
      });
      expect(kafka.broker.groups.group(group)).toEqual({ state: "CompletingRebalance", generationId: 2, members: 2, protocolName: "range" });
      await exchange(conn, request(v, c + 8, group, 2, leader.memberId), response(v, c + 8, 0));
      await exchange(conn, request(v, c + 9, group, 2, follower.memberId), response(v, c + 9, 0));
      await exchange(conn, request(v, c + 10, group, 1, follower.memberId), response(v, c + 10, 22));
    });

    test(`v${v}: another generation (22), an unknown member (25), a group that does not exist (25), group id "" (24)`, async () => {
      const group = `hb-err-v${v}`;
      const conn = kafka.connect(PEER);
      const c = 2100 + 10 * v;
      const j = await joinAlone(conn, c, group, METADATA);
      await exchange(conn, request(v, c + 1, group, 0, j.memberId), response(v, c + 1, 22));
      await exchange(conn, request(v, c + 2, group, 2, j.memberId), response(v, c + 2, 22));
      await exchange(conn, request(v, c + 3, group, 1, "nobody"), response(v, c + 3, 25));
      await exchange(conn, request(v, c + 4, `${group}-none`, 1, j.memberId), response(v, c + 4, 25));
      await exchange(conn, request(v, c + 5, "", 1, j.memberId), response(v, c + 5, 24));
      if (v >= 3) await exchange(conn, request(v, c + 6, group, 1, j.memberId, "inst-x"), response(v, c + 6, 25));
    });

    if (v >= 3) {
      test(`v${v}: a static member: its id and instance: 0; the instance with another member id: FENCED_INSTANCE_ID`, async () => {
        const group = `hb-static-v${v}`;
        const conn = kafka.connect(PEER);
        const c = 2200 + 10 * v;
        const id = await joinStatic(kafka, c, group, "inst-1", METADATA);
        await exchange(conn, request(v, c + 1, group, 1, id, "inst-1"), response(v, c + 1, 0));
        await exchange(conn, request(v, c + 2, group, 1, "other", "inst-1"), response(v, c + 2, 82));
      });
    }
  }

  test("before __consumer_offsets exists (no FindCoordinator yet): NOT_COORDINATOR at every version", async () => {
    const fresh = await startGroupBroker();
    try {
      const conn = fresh.connect();
      for (let v = 0; v <= 4; v++) await exchange(conn, request(v, 2300 + v, "hb-early", 1, "m"), response(v, 2300 + v, 16));
    } finally {
      await fresh.close();
    }
  });
});

