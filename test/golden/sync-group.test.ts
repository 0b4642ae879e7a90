// Golden bytes: SyncGroup (key 14), versions 0-5; flexible from v4 (request
// header v2, response header v1). Checked field by field against
// SyncGroupRequest.json / SyncGroupResponse.json:
//
//   v  | request                                   | response
//   ---+-------------------------------------------+-------------------------------------
//   0  | group_id, generation_id, member_id,       | error_code, assignment BYTES
//      |   assignments ARRAY[member_id,            |
//      |   assignment BYTES]                       |
//   1  | (same)                                    | + throttle_time_ms (first)
//   2  | (same)                                    | (same)
//   3  | + group_instance_id nullable (after       | (same)
//      |   member_id)                              |
//   4  | flexible (compact, tagged fields)         | flexible
//   5  | + protocol_type, protocol_name nullable   | + protocol_type, protocol_name nullable
//      |   (before assignments)                    |   (before assignment)
//
// As Kafka 4.4 answers (each case was sent to the reference Kafka 4.4 of
// test/kafka-ref too, member ids aside): after a join (JoinGroup v3 here) the
// leader's SyncGroup carries every member's assignment (one for a member the
// group does not have is dropped); the group becomes Stable and each member
// is answered with its own. A follower that syncs first waits for the
// leader's. In Stable a SyncGroup is answered with the member's assignment
// again. v5 answers with the group's protocol type and name. Errors carry
// protocol type and name null and an empty assignment:
//   ILLEGAL_GENERATION (22)          another generation
//   UNKNOWN_MEMBER_ID (25)           a member the group does not have, an instance id it does not know (v3+), a group that does not exist
//   INVALID_GROUP_ID (24)            group id ""
//   INCONSISTENT_GROUP_PROTOCOL (23) v5: a protocol type or name other than the group's, or null (mandatory from v5,
//                                    KafkaApis checks it before anything else)
//   REBALANCE_IN_PROGRESS (27)       the group is PreparingRebalance (a member is joining)
//   NOT_COORDINATOR (16)             before __consumer_offsets exists
//
// Data: every case its own group "sg-<case>-v<v>", joined with JoinGroup v3
// by the client "golden" from 127.0.0.1.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type InProcessBroker } from "../helpers.ts";
import { PEER, assignment, encoders, findCoordinator, joinAlone, joinV3Request, q, secondMember, startGroupBroker, subscription, syncLeader, type Joined } from "./groups.ts";
import { bytesOf, exchange, expectBytes, frame, i16, i32, readFrame, requestHeader, responseHeader } from "./hex.ts";

const flexible = (v: number) => v >= 4;

const METADATA = subscription(["sg-topic"]);
const LEADER_PARTS = assignment([["sg-topic", [0, 1]]]);
const FOLLOWER_PARTS = assignment([["sg-topic", [2]]]);

interface Sync {
  group: string;
  generation: number;
  memberId: string;
  instance?: string | null;
  /** v5; undefined: the group's ("consumer", "range") */
  type?: string | null;
  name?: string | null;
  assignments?: [id: string, hex: string][];
}

function request(v: number, corr: number, x: Sync): string {
  const e = encoders(flexible(v));
  const as = x.assignments ?? [];
  const type = x.type === undefined ? "consumer" : x.type;
  const name = x.name === undefined ? "range" : x.name;
  return `
    ${requestHeader(14, v, corr, flexible(v))}
    ${e.s(x.group)}  # group_id = ${q(x.group)}
    ${i32(x.generation)}  # generation_id = ${x.generation}
    ${e.s(x.memberId)}  # member_id = ${q(x.memberId)}
    ${v >= 3 ? `${e.ns(x.instance ?? null)}  # group_instance_id = ${q(x.instance ?? null)}` : ""}
    ${v >= 5 ? `${e.ns(type)}  # protocol_type = ${q(type)}` : ""}
    ${v >= 5 ? `${e.ns(name)}  # protocol_name = ${q(name)}` : ""}
    ${e.a(as.length)}  # assignments: ${as.length}
    ${as.map(([id, hex]) => `  ${e.s(id)} ${e.b(hex)} ${flexible(v) ? "00" : ""}  # ${q(id)}: ${hex.length / 2} bytes`).join("\n")}
    ${e.tags("request")}`;
}

/** error 0 with an assignment, or an error (protocol type/name null, no assignment) */
function response(v: number, corr: number, error: number, assignmentHex = ""): string {
  const e = encoders(flexible(v));
  const ok = error === 0;
  return `
    ${responseHeader(corr, flexible(v))}
    ${v >= 1 ? `${i32(0)}  # throttle_time_ms = 0` : ""}
    ${i16(error)}  # error_code = ${error}
    ${v >= 5 ? `${e.ns(ok ? "consumer" : null)}  # protocol_type = ${q(ok ? "consumer" : null)}` : ""}
    ${v >= 5 ? `${e.ns(ok ? "range" : null)}  # protocol_name = ${q(ok ? "range" : null)}` : ""}
    ${e.b(assignmentHex)}  # assignment (${assignmentHex.length / 2} bytes)
    ${e.tags("response")}`;
}

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startGroupBroker();
  await findCoordinator(kafka.connect(), 1, "sg");
});
afterAll(() => kafka.close());

describe("SyncGroup golden bytes", () => {
  for (let v = 0; v <= 5; v++) {
    test(`v${v}: the leader of one member hands in the assignments: its own back, the group Stable; again in Stable: the same`, async () => {
      const group = `sg-one-v${v}`;
      const conn = kafka.connect(PEER);
      const c = 1400 + 10 * v;
      const j = await joinAlone(conn, c, group, METADATA);
      const assignments: [string, string][] = [
        [j.memberId, LEADER_PARTS],
        ["ghost", FOLLOWER_PARTS],
      ];
      await exchange(conn, request(v, c + 1, { group, generation: 1, memberId: j.memberId, assignments }), response(v, c + 1, 0, LEADER_PARTS));
      expect(kafka.broker.groups.group(group)).toEqual({ state: "Stable", generationId: 1, members: 1, protocolName: "range" });
      await exchange(conn, request(v, c + 2, { group, generation: 1, memberId: j.memberId }), response(v, c + 2, 0, LEADER_PARTS));
    });

    test(`v${v}: two members: the follower's SyncGroup waits for the leader's, then each gets its own assignment`, async () => {
      const group = `sg-two-v${v}`;
      const c = 1500 + 10 * v;
      const first = await joinAlone(kafka.connect(PEER), c, group, METADATA);
      const { leader, follower, followerConn } = await secondMember(kafka, c + 1, group, first, METADATA);
      followerConn.send(bytesOf(frame(request(v, c + 3, { group, generation: 2, memberId: follower.memberId }))));
      expect(followerConn.take().length).toBe(0); // parked: the leader has not synced
      const assignments: [string, string][] = [
        [leader.memberId, LEADER_PARTS],
        [follower.memberId, FOLLOWER_PARTS],
      ];
      await exchange(kafka.connect(PEER), request(v, c + 4, { group, generation: 2, memberId: leader.memberId, assignments }), response(v, c + 4, 0, LEADER_PARTS));
      expectBytes(await readFrame(followerConn), frame(response(v, c + 3, 0, FOLLOWER_PARTS)));
      expect(kafka.broker.groups.group(group)).toEqual({ state: "Stable", generationId: 2, members: 2, protocolName: "range" });
    });

    test(`v${v}: another generation (22), an unknown member (25), a group that does not exist (25), group id "" (24)`, async () => {
      const group = `sg-err-v${v}`;
      const conn = kafka.connect(PEER);
      const c = 1600 + 10 * v;
      const j = await joinAlone(conn, c, group, METADATA);
      await exchange(conn, request(v, c + 1, { group, generation: 2, memberId: j.memberId }), response(v, c + 1, 22));
      await exchange(conn, request(v, c + 2, { group, generation: 1, memberId: "nobody" }), response(v, c + 2, 25));
      await exchange(conn, request(v, c + 3, { group: `${group}-none`, generation: 1, memberId: j.memberId }), response(v, c + 3, 25));
      await exchange(conn, request(v, c + 4, { group: "", generation: 1, memberId: j.memberId }), response(v, c + 4, 24));
      if (v >= 3) await exchange(conn, request(v, c + 5, { group, generation: 1, memberId: j.memberId, instance: "inst-x" }), response(v, c + 5, 25));
      if (v >= 5) {
        await exchange(conn, request(v, c + 6, { group, generation: 1, memberId: j.memberId, type: "connect" }), response(v, c + 6, 23));
        await exchange(conn, request(v, c + 7, { group, generation: 1, memberId: j.memberId, name: "roundrobin" }), response(v, c + 7, 23));
        // null type or name: refused before the group is looked at, even from the leader with assignments
        await exchange(conn, request(v, c + 8, { group, generation: 1, memberId: j.memberId, type: null, assignments: [[j.memberId, LEADER_PARTS]] }), response(v, c + 8, 23));
        await exchange(conn, request(v, c + 9, { group, generation: 1, memberId: j.memberId, name: null, assignments: [[j.memberId, LEADER_PARTS]] }), response(v, c + 9, 23));
      }
      expect(kafka.broker.groups.group(group)).toEqual({ state: "CompletingRebalance", generationId: 1, members: 1, protocolName: "range" });
    });

    test(`v${v}: while a new member joins (PreparingRebalance): REBALANCE_IN_PROGRESS`, async () => {
      const group = `sg-rebalance-v${v}`;
      const conn = kafka.connect(PEER);
      const c = 1700 + 10 * v;
      const j: Joined = await joinAlone(conn, c, group, METADATA);
      await syncLeader(conn, c + 1, group, j, [[j.memberId, LEADER_PARTS]]);
      const joining = kafka.connect(PEER);
      joining.send(bytesOf(frame(joinV3Request(c + 2, group, "", METADATA))));
      expect(kafka.broker.groups.group(group)?.state).toBe("PreparingRebalance");
      await exchange(conn, request(v, c + 3, { group, generation: 1, memberId: j.memberId }), response(v, c + 3, 27));
    });
  }

  test("before __consumer_offsets exists (no FindCoordinator yet): NOT_COORDINATOR at every version", async () => {
    const fresh = await startGroupBroker();
    try {
      const conn = fresh.connect();
      for (let v = 0; v <= 5; v++) await exchange(conn, request(v, 1800 + v, { group: "sg-early", generation: 1, memberId: "m" }), response(v, 1800 + v, 16));
    } finally {
      await fresh.close();
    }
  });
});

