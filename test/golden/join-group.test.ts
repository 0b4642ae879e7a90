// Golden bytes: JoinGroup (key 11), versions 0-9; flexible from v6 (request
// header v2, response header v1). Checked field by field against
// JoinGroupRequest.json / JoinGroupResponse.json:
//
//   v  | request                                   | response
//   ---+-------------------------------------------+---------------------------------------------
//   0  | group_id, session_timeout_ms, member_id,  | error_code, generation_id, protocol_name
//      |   protocol_type, protocols ARRAY[name,    |   STRING, leader, member_id, members
//      |   metadata BYTES]                         |   ARRAY[member_id, metadata BYTES]
//   1  | + rebalance_timeout_ms (after session)    | (same)
//   2  | (same)                                    | + throttle_time_ms (first)
//   3  | (same)                                    | (same)
//   4  | (same: a new member must join twice)      | (same: MEMBER_ID_REQUIRED hands out the id)
//   5  | + group_instance_id nullable (after       | + members[].group_instance_id nullable
//      |   member_id)                              |
//   6  | flexible (compact, tagged fields)         | flexible
//   7  | (same)                                    | + protocol_type nullable (after generation);
//      |                                           |   protocol_name nullable
//   8  | + reason nullable (last)                  | (same)
//   9  | (same)                                    | + skip_assignment bool (after leader)
//
// As Kafka 4.4 answers (each case was sent to the reference Kafka 4.4 of
// test/kafka-ref too, member ids aside): with group.initial.rebalance.delay.ms
// 0 a lone new member is answered at once with generation 1, the first of its
// protocols ("range"), itself as leader and, being the leader, every member
// with its metadata for that protocol. From v4 a new member without
// group.instance.id is first told MEMBER_ID_REQUIRED (79) with the id it must
// join with (KIP-394); a static member (v5+) joins at once, its id prefixed by
// its instance id. Member ids are `<client id or instance id>-<uuid>`, read
// from the response. An unchanged rejoin during CompletingRebalance gets the
// same answer again. Errors: generation -1, protocol_type null (v7+),
// protocol_name "" below v7 (not nullable there) and null from v7, leader "",
// no members; the member id echoes the request's (the new one for a session
// timeout error, "" for a protocol refused to a new member):
//   INVALID_GROUP_ID (24)            group id ""
//   INVALID_SESSION_TIMEOUT (26)     session timeout outside group.min/max.session.timeout.ms (6000..1800000)
//   INCONSISTENT_GROUP_PROTOCOL (23) another protocol type, no protocol in common, or (new group) no protocols / type ""
//   UNKNOWN_MEMBER_ID (25)           a member id the group does not have (or a group that does not exist)
//   NOT_COORDINATOR (16)             before __consumer_offsets exists (no FindCoordinator yet)
//
// Data: every case its own group "jg-<case>-v<v>"; __consumer_offsets is made
// by a FindCoordinator in beforeAll.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type InProcessBroker, type InProcessConnection } from "../helpers.ts";
import { PEER, encoders, findCoordinator, memberIdIn, q, startGroupBroker, subscription } from "./groups.ts";
import { bool, exchange, expectBytes, frame, i16, i32, requestHeader, responseHeader, roundTrip } from "./hex.ts";

const flexible = (v: number) => v >= 6;

const RANGE = subscription(["jg-topic"]);
const ROUNDROBIN = subscription(["jg-topic", "jg-other"]);
/** what the members below support, in order of preference */
const PROTOCOLS: [string, string][] = [
  ["range", RANGE],
  ["roundrobin", ROUNDROBIN],
];

interface Join {
  group: string;
  memberId: string;
  instance?: string | null;
  session?: number;
  type?: string;
  protocols?: [name: string, metadataHex: string][];
}

function request(v: number, corr: number, j: Join): string {
  const e = encoders(flexible(v));
  const session = j.session ?? 10000;
  const protocols = j.protocols ?? PROTOCOLS;
  return `
    ${requestHeader(11, v, corr, flexible(v))}
    ${e.s(j.group)}  # group_id = ${q(j.group)}
    ${i32(session)}  # session_timeout_ms = ${session}
    ${v >= 1 ? `${i32(30000)}  # rebalance_timeout_ms = 30000` : ""}
    ${e.s(j.memberId)}  # member_id = ${q(j.memberId)}
    ${v >= 5 ? `${e.ns(j.instance ?? null)}  # group_instance_id = ${q(j.instance ?? null)}` : ""}
    ${e.s(j.type ?? "consumer")}  # protocol_type = ${q(j.type ?? "consumer")}
    ${e.a(protocols.length)}  # protocols: ${protocols.length}
    ${protocols.map(([name, md]) => `  ${e.s(name)} ${e.b(md)} ${flexible(v) ? "00" : ""}  # ${q(name)}, metadata ${md.length / 2} bytes${flexible(v) ? ", tagged fields: none" : ""}`).join("\n")}
    ${v >= 8 ? `${e.ns("starting")}  # reason = "starting"` : ""}
    ${e.tags("request")}`;
}

interface Answer {
  error: number;
  generation: number;
  protocol: string | null;
  leader: string;
  memberId: string;
  members: [id: string, instance: string | null, metadataHex: string][];
}

function response(v: number, corr: number, r: Answer): string {
  const e = encoders(flexible(v));
  const name = r.protocol ?? (v < 7 ? "" : null);
  return `
    ${responseHeader(corr, flexible(v))}
    ${v >= 2 ? `${i32(0)}  # throttle_time_ms = 0` : ""}
    ${i16(r.error)}  # error_code = ${r.error}
    ${i32(r.generation)}  # generation_id = ${r.generation}
    ${v >= 7 ? `${e.ns(r.protocol === null ? null : "consumer")}  # protocol_type = ${q(r.protocol === null ? null : "consumer")}` : ""}
    ${v < 7 ? e.s(name!) : e.ns(name)}  # protocol_name = ${q(name)}${r.protocol === null && v < 7 ? ' (not nullable below v7: "")' : ""}
    ${e.s(r.leader)}  # leader = ${q(r.leader)}
    ${v >= 9 ? `${bool(false)}  # skip_assignment = false` : ""}
    ${e.s(r.memberId)}  # member_id = ${q(r.memberId)}
    ${e.a(r.members.length)}  # members: ${r.members.length}
    ${r.members
      .map(
        ([id, inst, md]) => `
      ${e.s(id)}  # member_id = ${q(id)}
      ${v >= 5 ? `${e.ns(inst)}  # group_instance_id = ${q(inst)}` : ""}
      ${e.b(md)}  # metadata (${md.length / 2} bytes: the "range" subscription)
      ${e.tags("member")}`,
      )
      .join("\n")}
    ${e.tags("response")}`;
}

const failed = (error: number, memberId: string): Answer => ({ error, generation: -1, protocol: null, leader: "", memberId, members: [] });
const joined = (memberId: string, instance: string | null = null): Answer => ({
  error: 0,
  generation: 1,
  protocol: "range",
  leader: memberId,
  memberId,
  members: [[memberId, instance, RANGE]],
});

/**
 * A new member joins the empty group `group`: at once below v4; from v4
 * MEMBER_ID_REQUIRED first, then again with the id it was given. Returns the id.
 */
async function joinNew(v: number, conn: InProcessConnection, corr: number, group: string): Promise<string> {
  let got = await roundTrip(conn, request(v, corr, { group, memberId: "" }));
  const id = memberIdIn(got);
  if (v >= 4) {
    expectBytes(got, frame(response(v, corr, failed(79, id))));
    expect(kafka.broker.groups.group(group)).toMatchObject({ state: "Empty", members: 0 });
    got = await roundTrip(conn, request(v, corr + 1, { group, memberId: id }));
    expectBytes(got, frame(response(v, corr + 1, joined(id))));
  } else {
    expectBytes(got, frame(response(v, corr, joined(id))));
  }
  return id;
}

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startGroupBroker();
  await findCoordinator(kafka.connect(), 1, "jg");
});
afterAll(() => kafka.close());

describe("JoinGroup golden bytes", () => {
  for (let v = 0; v <= 9; v++) {
    test(`v${v}: a new member joins an empty group${v >= 4 ? " (MEMBER_ID_REQUIRED, then with its id)" : ""}: generation 1, range, its own leader`, async () => {
      const group = `jg-new-v${v}`;
      await joinNew(v, kafka.connect(PEER), 1100 + 10 * v, group);
      expect(kafka.broker.groups.group(group)).toEqual({ state: "CompletingRebalance", generationId: 1, members: 1, protocolName: "range" });
    });

    test(`v${v}: the same join again during CompletingRebalance: the same answer; errors 23, 25, 26 leave the group as it is`, async () => {
      const group = `jg-err-v${v}`;
      const conn = kafka.connect(PEER);
      const c = 1200 + 10 * v;
      const id = await joinNew(v, conn, c, group);
      await exchange(conn, request(v, c + 2, { group, memberId: id }), response(v, c + 2, joined(id)));
      // a new member of another protocol type; the member with no protocol in common with the group
      await exchange(conn, request(v, c + 3, { group, memberId: "", type: "connect" }), response(v, c + 3, failed(23, "")));
      await exchange(conn, request(v, c + 4, { group, memberId: id, protocols: [["sticky", RANGE]] }), response(v, c + 4, failed(23, id)));
      // a member id the group does not have
      await exchange(conn, request(v, c + 5, { group, memberId: "nobody" }), response(v, c + 5, failed(25, "nobody")));
      // session timeouts just outside group.min.session.timeout.ms (6000) and group.max.session.timeout.ms (1800000)
      await exchange(conn, request(v, c + 6, { group, memberId: id, session: 5999 }), response(v, c + 6, failed(26, id)));
      await exchange(conn, request(v, c + 7, { group, memberId: id, session: 1800001 }), response(v, c + 7, failed(26, id)));
      expect(kafka.broker.groups.group(group)).toEqual({ state: "CompletingRebalance", generationId: 1, members: 1, protocolName: "range" });
    });

    test(`v${v}: group id "" (24); a member id for a group that does not exist (25); a new group with no protocols or type "" (23)`, async () => {
      const conn = kafka.connect();
      const c = 1300 + 10 * v;
      await exchange(conn, request(v, c, { group: "", memberId: "" }), response(v, c, failed(24, "")));
      await exchange(conn, request(v, c + 1, { group: `jg-none-v${v}`, memberId: "nobody" }), response(v, c + 1, failed(25, "nobody")));
      await exchange(conn, request(v, c + 2, { group: `jg-noproto-v${v}`, memberId: "", protocols: [] }), response(v, c + 2, failed(23, "")));
      await exchange(conn, request(v, c + 3, { group: `jg-notype-v${v}`, memberId: "", type: "" }), response(v, c + 3, failed(23, "")));
      for (const g of ["", `jg-none-v${v}`, `jg-noproto-v${v}`, `jg-notype-v${v}`]) expect(kafka.broker.groups.group(g)?.members ?? 0).toBe(0);
    });

    if (v >= 5) {
      test(`v${v}: a static member (group.instance.id) joins at once: id "<instance>-<uuid>", listed with its instance id`, async () => {
        const group = `jg-static-v${v}`;
        const got = await roundTrip(kafka.connect(PEER), request(v, 1400 + v, { group, memberId: "", instance: "inst-1" }));
        const id = memberIdIn(got, "inst-1");
        expectBytes(got, frame(response(v, 1400 + v, joined(id, "inst-1"))));
      });
    }
  }

  test("before __consumer_offsets exists (no FindCoordinator yet): NOT_COORDINATOR at every version", async () => {
    const fresh = await startGroupBroker();
    try {
      const conn = fresh.connect();
      for (let v = 0; v <= 9; v++) await exchange(conn, request(v, 1500 + v, { group: "jg-early", memberId: "" }), response(v, 1500 + v, failed(16, "")));
      expect(fresh.broker.groups.group("jg-early")).toBeUndefined();
    } finally {
      await fresh.close();
    }
  });
});
