// Golden bytes: LeaveGroup (key 13), versions 0-5; flexible from v4 (request
// header v2, response header v1). Checked field by field against
// LeaveGroupRequest.json / LeaveGroupResponse.json:
//
//   v  | request                                   | response
//   ---+-------------------------------------------+---------------------------------------------
//   0  | group_id, member_id                       | error_code
//   1  | (same)                                    | + throttle_time_ms (first)
//   2  | (same)                                    | (same)
//   3  | group_id, members ARRAY[member_id,        | + members ARRAY[member_id, group_instance_id
//      |   group_instance_id nullable] (batch;     |   nullable, error_code] (after error_code)
//      |   member_id gone)                         |
//   4  | flexible (compact, tagged fields)         | flexible
//   5  | + members[].reason nullable               | (same)
//
// As Kafka 4.4 answers (each case was sent to the reference Kafka 4.4 of
// test/kafka-ref too, member ids aside): v0-2 name one member, and its
// outcome is the top-level error_code; v3+ leave a batch, each member answered
// on its own (top level 0), an empty member id with a group.instance.id
// removing that static member (an admin's removal). A group the coordinator
// does not know answers every member UNKNOWN_MEMBER_ID (25) with no top-level
// error (so v0-2 see 25 at the top). A group left with no members becomes
// Empty; one left with members rebalances (PreparingRebalance).
//   UNKNOWN_MEMBER_ID (25)    a member the group does not have
//   FENCED_INSTANCE_ID (82)   a static member's instance id with another member id
//   INVALID_GROUP_ID (24)     group id "" (top level, no members)
//   NOT_COORDINATOR (16)      before __consumer_offsets exists (top level, no members)
//
// Data: every case its own group "lg-<case>-v<v>", joined with JoinGroup v3
// (v5 for the static member) by the client "golden".

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type InProcessBroker } from "../helpers.ts";
import { PEER, assignment, encoders, findCoordinator, joinAlone, joinStatic, q, secondMember, startGroupBroker, subscription, syncLeader } from "./groups.ts";
import { exchange, i16, i32, requestHeader, responseHeader } from "./hex.ts";

const flexible = (v: number) => v >= 4;

const METADATA = subscription(["lg-topic"]);
const PARTS = assignment([["lg-topic", [0]]]);

/** v0-2 */
function request(v: number, corr: number, group: string, memberId: string): string {
  const e = encoders(false);
  return `
    ${requestHeader(13, v, corr, false)}
    ${e.s(group)}  # group_id = ${q(group)}
    ${e.s(memberId)}  # member_id = ${q(memberId)}`;
}

/** v0-2: the one member's outcome at the top level */
function response(v: number, corr: number, error: number): string {
  return `
    ${responseHeader(corr, false)}
    ${v >= 1 ? `${i32(0)}  # throttle_time_ms = 0` : ""}
    ${i16(error)}  # error_code = ${error}`;
}

type Who = [memberId: string, instance: string | null, reason?: string | null];

/** v3+ */
function batchRequest(v: number, corr: number, group: string, members: Who[]): string {
  const e = encoders(flexible(v));
  return `
    ${requestHeader(13, v, corr, flexible(v))}
    ${e.s(group)}  # group_id = ${q(group)}
    ${e.a(members.length)}  # members: ${members.length}
    ${members
      .map(
        ([id, inst, reason]) => `
      ${e.s(id)}  # member_id = ${q(id)}
      ${e.ns(inst)}  # group_instance_id = ${q(inst)}
      ${v >= 5 ? `${e.ns(reason ?? null)}  # reason = ${q(reason ?? null)}` : ""}
      ${e.tags("member")}`,
      )
      .join("\n")}
    ${e.tags("request")}`;
}

/** v3+: a top-level error and each member's */
function batchResponse(v: number, corr: number, error: number, members: [memberId: string, instance: string | null, error: number][]): string {
  const e = encoders(flexible(v));
  return `
    ${responseHeader(corr, flexible(v))}
    ${i32(0)}  # throttle_time_ms = 0
    ${i16(error)}  # error_code = ${error}
    ${e.a(members.length)}  # members: ${members.length}
    ${members
      .map(
        ([id, inst, err]) => `
      ${e.s(id)}  # member_id = ${q(id)}
      ${e.ns(inst)}  # group_instance_id = ${q(inst)}
      ${i16(err)}  # error_code = ${err}
      ${e.tags("member")}`,
      )
      .join("\n")}
    ${e.tags("response")}`;
}

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startGroupBroker();
  await findCoordinator(kafka.connect(), 1, "lg");
});
afterAll(() => kafka.close());

describe("LeaveGroup golden bytes", () => {
  for (let v = 0; v <= 2; v++) {
    test(`v${v}: the only member of a Stable group leaves: 0, the group Empty`, async () => {
      const group = `lg-one-v${v}`;
      const conn = kafka.connect(PEER);
      const c = 2400 + 10 * v;
      const j = await joinAlone(conn, c, group, METADATA);
      await syncLeader(conn, c + 1, group, j, [[j.memberId, PARTS]]);
      await exchange(conn, request(v, c + 2, group, j.memberId), response(v, c + 2, 0));
      expect(kafka.broker.groups.group(group)).toEqual({ state: "Empty", generationId: 2, members: 0, protocolName: null });
    });

    test(`v${v}: an unknown member (25), a group that does not exist (25), group id "" (24): the top-level error`, async () => {
      const group = `lg-err-v${v}`;
      const conn = kafka.connect(PEER);
      const c = 2500 + 10 * v;
      await joinAlone(conn, c, group, METADATA);
      await exchange(conn, request(v, c + 1, group, "nobody"), response(v, c + 1, 25));
      await exchange(conn, request(v, c + 2, `${group}-none`, "nobody"), response(v, c + 2, 25));
      await exchange(conn, request(v, c + 3, "", "nobody"), response(v, c + 3, 24));
      expect(kafka.broker.groups.group(group)?.members).toBe(1);
    });
  }

  for (let v = 3; v <= 5; v++) {
    test(`v${v}: a batch: a member leaves (0), an unknown member (25), an unknown instance id (25); the group rebalances without it`, async () => {
      const group = `lg-batch-v${v}`;
      const c = 2600 + 10 * v;
      const first = await joinAlone(kafka.connect(PEER), c, group, METADATA);
      const { follower } = await secondMember(kafka, c + 1, group, first, METADATA);
      await exchange(
        kafka.connect(PEER),
        batchRequest(v, c + 3, group, [
          [follower.memberId, null, "bye"],
          ["nobody", null],
          ["", "inst-z"],
        ]),
        batchResponse(v, c + 3, 0, [
          [follower.memberId, null, 0],
          ["nobody", null, 25],
          ["", "inst-z", 25],
        ]),
      );
      expect(kafka.broker.groups.group(group)).toEqual({ state: "PreparingRebalance", generationId: 2, members: 1, protocolName: "range" });
    });

    test(`v${v}: a static member: its instance with another member id (82); removed by instance id alone (0), the group Empty`, async () => {
      const group = `lg-static-v${v}`;
      const c = 2700 + 10 * v;
      await joinStatic(kafka, c, group, "inst-1", METADATA);
      const conn = kafka.connect();
      await exchange(conn, batchRequest(v, c + 1, group, [["other", "inst-1"]]), batchResponse(v, c + 1, 0, [["other", "inst-1", 82]]));
      await exchange(conn, batchRequest(v, c + 2, group, [["", "inst-1", "removed by an admin"]]), batchResponse(v, c + 2, 0, [["", "inst-1", 0]]));
      expect(kafka.broker.groups.group(group)).toEqual({ state: "Empty", generationId: 2, members: 0, protocolName: null });
    });

    test(`v${v}: a group that does not exist: each member 25, no top-level error; group id "": 24, no members`, async () => {
      const conn = kafka.connect();
      const c = 2800 + 10 * v;
      const who: Who[] = [
        ["nobody", null],
        ["m2", "i2"],
      ];
      await exchange(conn, batchRequest(v, c, `lg-none-v${v}`, who), batchResponse(v, c, 0, [["nobody", null, 25], ["m2", "i2", 25]]));
      await exchange(conn, batchRequest(v, c + 1, "", who), batchResponse(v, c + 1, 24, []));
    });
  }

  test("before __consumer_offsets exists (no FindCoordinator yet): NOT_COORDINATOR at every version", async () => {
    const fresh = await startGroupBroker();
    try {
      const conn = fresh.connect();
      for (let v = 0; v <= 2; v++) await exchange(conn, request(v, 2900 + v, "lg-early", "m"), response(v, 2900 + v, 16));
      for (let v = 3; v <= 5; v++) await exchange(conn, batchRequest(v, 2900 + v, "lg-early", [["m", null]]), batchResponse(v, 2900 + v, 16, []));
    } finally {
      await fresh.close();
    }
  });
});

