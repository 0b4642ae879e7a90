// Golden bytes: DescribeGroups (key 15), versions 0-5; flexible from v5
// (request header v2, response header v1). Checked field by field against
// DescribeGroupsRequest.json / DescribeGroupsResponse.json:
//
//   v  | request                                   | response
//   ---+-------------------------------------------+---------------------------------------------
//   0  | groups ARRAY[STRING]                      | groups ARRAY[error_code, group_id,
//      |                                           |   group_state, protocol_type, protocol_data,
//      |                                           |   members ARRAY[member_id, client_id,
//      |                                           |   client_host, member_metadata BYTES,
//      |                                           |   member_assignment BYTES]]
//   1  | (same)                                    | + throttle_time_ms (first)
//   2  | (same)                                    | (same)
//   3  | + include_authorized_operations bool      | + groups[].authorized_operations int32 (last)
//   4  | (same)                                    | + members[].group_instance_id nullable
//      |                                           |   (after member_id)
//   5  | flexible (compact, tagged fields)         | flexible
//
// As Kafka 4.4 answers (each case was sent to the reference Kafka 4.4 of
// test/kafka-ref too, member ids aside): a Stable group gives its protocol
// type, its protocol as protocol_data, and each member with its client id,
// client host ("/" + the client's IP: "/127.0.0.1" for a loopback client, as
// Java's InetAddress.toString), its metadata for the chosen protocol and its
// assignment; in other states (CompletingRebalance here) protocol_data is ""
// and the members carry empty metadata and assignment. A group with committed
// offsets and no members is Empty with protocol type "". A group the broker
// does not know is Dead with no error (Kafka's v6 would say
// GROUP_ID_NOT_FOUND); "" is a group id like any other (Kafka 4.4 keeps it so
// for compatibility). authorized_operations (v3+): when asked for, every
// group operation (no authorizer): READ 3, DELETE 6, DESCRIBE 8,
// DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11 as bits = 3400, for a group that is
// answered without error; otherwise -2147483648 (not asked). Before
// __consumer_offsets exists every group is NOT_COORDINATOR (16) with "" state.
//
// Groups in one request: Kafka answers them grouped by __consumer_offsets
// partition (in its HashMap's order), in request order within one; ours in
// request order. The several-group case below names groups of one partition,
// where both agree.
//
// Data: "dg-topic" (1 partition); every case its own groups "dg-<case>-v<v>",
// joined with JoinGroup v3 (v5 for the static member) by the client "golden".

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type InProcessBroker } from "../helpers.ts";
import { CLIENT_HOST, PEER, assignment, commitSimple, encoders, findCoordinator, joinStatic, q, stableGroup, startGroupBroker, subscription } from "./groups.ts";
import { bool, exchange, i16, i32, requestHeader, responseHeader } from "./hex.ts";

const flexible = (v: number) => v >= 5;

const METADATA = subscription(["dg-topic"]);
const PARTS = assignment([["dg-topic", [0]]]);
const ALL_OPERATIONS = 3400;
const NOT_REQUESTED = -2147483648;

function request(v: number, corr: number, groups: string[], includeOps = false): string {
  const e = encoders(flexible(v));
  return `
    ${requestHeader(15, v, corr, flexible(v))}
    ${e.a(groups.length)}  # groups: ${groups.length}
    ${groups.map((g) => `  ${e.s(g)}  # ${q(g)}`).join("\n")}
    ${v >= 3 ? `${bool(includeOps)}  # include_authorized_operations = ${includeOps}` : ""}
    ${e.tags("request")}`;
}

interface Member {
  id: string;
  instance: string | null;
  metadata: string;
  assignment: string;
}

interface Described {
  error?: number;
  group: string;
  state: string;
  type?: string;
  data?: string;
  members?: Member[];
  ops?: number;
}

function response(v: number, corr: number, groups: Described[]): string {
  const e = encoders(flexible(v));
  return `
    ${responseHeader(corr, flexible(v))}
    ${v >= 1 ? `${i32(0)}  # throttle_time_ms = 0` : ""}
    ${e.a(groups.length)}  # groups: ${groups.length}
    ${groups
      .map((g) => {
        const members = g.members ?? [];
        return `
      ${i16(g.error ?? 0)}  # error_code = ${g.error ?? 0}
      ${e.s(g.group)}  # group_id = ${q(g.group)}
      ${e.s(g.state)}  # group_state = ${q(g.state)}
      ${e.s(g.type ?? "")}  # protocol_type = ${q(g.type ?? "")}
      ${e.s(g.data ?? "")}  # protocol_data = ${q(g.data ?? "")}
      ${e.a(members.length)}  # members: ${members.length}
      ${members
        .map(
          (m) => `
        ${e.s(m.id)}  # member_id = ${q(m.id)}
        ${v >= 4 ? `${e.ns(m.instance)}  # group_instance_id = ${q(m.instance)}` : ""}
        ${e.s("golden")}  # client_id = "golden"
        ${e.s(CLIENT_HOST)}  # client_host = "${CLIENT_HOST}"
        ${e.b(m.metadata)}  # member_metadata (${m.metadata.length / 2} bytes)
        ${e.b(m.assignment)}  # member_assignment (${m.assignment.length / 2} bytes)
        ${e.tags("member")}`,
        )
        .join("\n")}
      ${v >= 3 ? `${i32(g.ops ?? NOT_REQUESTED)}  # authorized_operations = ${g.ops ?? NOT_REQUESTED}` : ""}
      ${e.tags("group")}`;
      })
      .join("\n")}
    ${e.tags("response")}`;
}

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startGroupBroker();
  kafka.storage.createTopic("dg-topic", 1);
  await findCoordinator(kafka.connect(), 1, "dg");
});
afterAll(() => kafka.close());

/** `base` with the first suffix "-<i>" that puts it on __consumer_offsets partition 0, where "" is too (hash 0) */
function onPartition0(base: string): string {
  for (let i = 0; ; i++) if (kafka.broker.groups.partitionFor(`${base}-${i}`) === 0) return `${base}-${i}`;
}

describe("DescribeGroups golden bytes", () => {
  for (let v = 0; v <= 5; v++) {
    test(`v${v}: a Stable group: consumer, range, its member with client id, host, metadata and assignment${v >= 3 ? "; authorized operations when asked" : ""}`, async () => {
      const group = `dg-stable-v${v}`;
      const conn = kafka.connect(PEER);
      const c = 3000 + 10 * v;
      const j = await stableGroup(conn, c, group, METADATA, PARTS);
      const stable: Described = { group, state: "Stable", type: "consumer", data: "range", members: [{ id: j.memberId, instance: null, metadata: METADATA, assignment: PARTS }] };
      await exchange(conn, request(v, c + 2, [group]), response(v, c + 2, [stable]));
      if (v >= 3) await exchange(conn, request(v, c + 3, [group], true), response(v, c + 3, [{ ...stable, ops: ALL_OPERATIONS }]));
    });

    test(`v${v}: several groups of one partition: Stable, Empty (committed offsets only), unknown (Dead), "" (Dead): in request order, no errors`, async () => {
      const c = 3100 + 10 * v;
      const [stable, empty, none] = [onPartition0(`dg-many-stable-v${v}`), onPartition0(`dg-many-empty-v${v}`), onPartition0(`dg-many-none-v${v}`)];
      const conn = kafka.connect(PEER);
      const j = await stableGroup(conn, c, stable, METADATA, PARTS);
      await commitSimple(conn, c + 2, empty, "dg-topic", [[0, 7, null]]);
      const ops = v >= 3 ? ALL_OPERATIONS : undefined;
      await exchange(
        conn,
        request(v, c + 3, [stable, empty, none, ""], true),
        response(v, c + 3, [
          { group: stable, state: "Stable", type: "consumer", data: "range", members: [{ id: j.memberId, instance: null, metadata: METADATA, assignment: PARTS }], ops },
          { group: empty, state: "Empty", ops },
          { group: none, state: "Dead", ops },
          { group: "", state: "Dead", ops },
        ]),
      );
      expect(kafka.broker.groups.group(none)).toBeUndefined();
    });

    if (v >= 4) {
      test(`v${v}: a static member, joined and not synced (CompletingRebalance): its instance id; no protocol data, metadata or assignment`, async () => {
        const group = `dg-static-v${v}`;
        const c = 3200 + 10 * v;
        const id = await joinStatic(kafka, c, group, "inst-1", METADATA);
        await exchange(
          kafka.connect(),
          request(v, c + 1, [group]),
          response(v, c + 1, [{ group, state: "CompletingRebalance", type: "consumer", members: [{ id, instance: "inst-1", metadata: "", assignment: "" }] }]),
        );
      });
    }
  }

  test("before __consumer_offsets exists (no FindCoordinator yet): NOT_COORDINATOR per group at every version, no authorized operations", async () => {
    const fresh = await startGroupBroker();
    try {
      const conn = fresh.connect();
      for (let v = 0; v <= 5; v++) {
        await exchange(conn, request(v, 3300 + v, ["dg-early"], true), response(v, 3300 + v, [{ error: 16, group: "dg-early", state: "" }]));
      }
    } finally {
      await fresh.close();
    }
  });
});
