// Golden bytes: ListGroups (key 16), versions 0-5; flexible from v3 (request
// header v2, response header v1). Checked field by field against
// ListGroupsRequest.json / ListGroupsResponse.json:
//
//   v  | request                                   | response
//   ---+-------------------------------------------+---------------------------------------------
//   0  | (empty)                                   | error_code, groups ARRAY[group_id,
//      |                                           |   protocol_type]
//   1  | (same)                                    | + throttle_time_ms (first)
//   2  | (same)                                    | (same)
//   3  | flexible (tagged fields only)             | flexible
//   4  | + states_filter ARRAY[STRING]             | + groups[].group_state
//   5  | + types_filter ARRAY[STRING]              | + groups[].group_type
//
// As Kafka 4.4 answers (each case was sent to the reference Kafka 4.4 of
// test/kafka-ref too): every group the broker coordinates with its protocol
// type ("" for a group that only has committed offsets), from v4 its state,
// from v5 its type ("classic": the only kind served here). The filters match
// case-insensitively; an empty filter matches every group, a state or type no
// group has matches none. Before __consumer_offsets exists there are no
// groups and no error.
//
// Order: ours lists groups in the order they were made; Kafka in the order
// of its per-partition hash maps, which clients do not rely on (the cases
// sent to Kafka were compared as sets).
//
// Data, made in beforeAll in this order: "ls-stable" (one member, Stable),
// "ls-joining" (one member joined with JoinGroup v3, not synced:
// CompletingRebalance), "ls-simple" (an offset committed for "ls-topic"
// without a generation: Empty, protocol type "").

import { afterAll, beforeAll, describe, test } from "bun:test";
import { type InProcessBroker } from "../helpers.ts";
import { PEER, assignment, commitSimple, encoders, findCoordinator, joinAlone, q, stableGroup, startGroupBroker, subscription } from "./groups.ts";
import { exchange, i16, i32, requestHeader, responseHeader } from "./hex.ts";

const flexible = (v: number) => v >= 3;

function request(v: number, corr: number, states: string[] = [], types: string[] = []): string {
  const e = encoders(flexible(v));
  return `
    ${requestHeader(16, v, corr, flexible(v))}
    ${v >= 4 ? `${e.a(states.length)}  # states_filter: ${states.length}\n${states.map((s) => `  ${e.s(s)}  # ${q(s)}`).join("\n")}` : ""}
    ${v >= 5 ? `${e.a(types.length)}  # types_filter: ${types.length}\n${types.map((t) => `  ${e.s(t)}  # ${q(t)}`).join("\n")}` : ""}
    ${e.tags("request")}${v < 3 ? "\n    # (empty body before v3)" : ""}`;
}

type Listed = [group: string, protocolType: string, state: string];
const STABLE: Listed = ["ls-stable", "consumer", "Stable"];
const JOINING: Listed = ["ls-joining", "consumer", "CompletingRebalance"];
const SIMPLE: Listed = ["ls-simple", "", "Empty"];
const ALL = [STABLE, JOINING, SIMPLE];

function response(v: number, corr: number, groups: Listed[], error = 0): string {
  const e = encoders(flexible(v));
  return `
    ${responseHeader(corr, flexible(v))}
    ${v >= 1 ? `${i32(0)}  # throttle_time_ms = 0` : ""}
    ${i16(error)}  # error_code = ${error}
    ${e.a(groups.length)}  # groups: ${groups.length}
    ${groups
      .map(
        ([g, type, state]) => `
      ${e.s(g)}  # group_id = ${q(g)}
      ${e.s(type)}  # protocol_type = ${q(type)}
      ${v >= 4 ? `${e.s(state)}  # group_state = ${q(state)}` : ""}
      ${v >= 5 ? `${e.s("classic")}  # group_type = "classic"` : ""}
      ${e.tags("group")}`,
      )
      .join("\n")}
    ${e.tags("response")}`;
}

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startGroupBroker();
  kafka.storage.createTopic("ls-topic", 1);
  const conn = kafka.connect(PEER);
  await findCoordinator(conn, 1, "ls-stable");
  await stableGroup(conn, 2, "ls-stable", subscription(["ls-topic"]), assignment([["ls-topic", [0]]]));
  await joinAlone(conn, 4, "ls-joining", subscription(["ls-topic"]));
  await commitSimple(conn, 5, "ls-simple", "ls-topic", [[0, 3, null]]);
});
afterAll(() => kafka.close());

describe("ListGroups golden bytes", () => {
  for (let v = 0; v <= 5; v++) {
    test(`v${v}: every group with its protocol type${v >= 4 ? ", state" : ""}${v >= 5 ? ", type" : ""}`, async () => {
      await exchange(kafka.connect(), request(v, 3400 + v), response(v, 3400 + v, ALL));
    });
  }

  for (const v of [4, 5]) {
    test(`v${v}: states filter, case-insensitive: "stable"; "Empty" and "COMPLETINGREBALANCE"; "Dead" and "nosuchstate": none`, async () => {
      const conn = kafka.connect();
      await exchange(conn, request(v, 3410 + v, ["stable"]), response(v, 3410 + v, [STABLE]));
      await exchange(conn, request(v, 3420 + v, ["Empty", "COMPLETINGREBALANCE"]), response(v, 3420 + v, [JOINING, SIMPLE]));
      await exchange(conn, request(v, 3430 + v, ["Dead", "nosuchstate"]), response(v, 3430 + v, []));
    });
  }

  test(`v5: types filter, case-insensitive: "Classic": all; "consumer" (KIP-848 groups, none here): none; both: all; with the states filter "Stable": one`, async () => {
    const conn = kafka.connect();
    await exchange(conn, request(5, 3440, [], ["Classic"]), response(5, 3440, ALL));
    await exchange(conn, request(5, 3441, [], ["consumer"]), response(5, 3441, []));
    await exchange(conn, request(5, 3442, [], ["consumer", "classic"]), response(5, 3442, ALL));
    await exchange(conn, request(5, 3443, ["Stable"], ["CLASSIC"]), response(5, 3443, [STABLE]));
    await exchange(conn, request(5, 3444, ["Stable"], ["share"]), response(5, 3444, []));
  });

  test("before __consumer_offsets exists (no FindCoordinator yet): no groups, no error, at every version", async () => {
    const fresh = await startGroupBroker();
    try {
      const conn = fresh.connect();
      for (let v = 0; v <= 5; v++) await exchange(conn, request(v, 3450 + v), response(v, 3450 + v, []));
    } finally {
      await fresh.close();
    }
  });
});
