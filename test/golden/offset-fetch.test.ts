// Golden bytes: OffsetFetch (key 9), versions 1-9 (Kafka 4 removed v0,
// KIP-896: not advertised, a request at it closes the connection); flexible
// from v6 (request header v2, response header v1). Checked field by field
// against OffsetFetchRequest.json / OffsetFetchResponse.json:
//
//   v  | request                                   | response
//   ---+-------------------------------------------+---------------------------------------------
//   1  | group_id, topics ARRAY[name,              | topics ARRAY[name, partitions
//      |   partition_indexes ARRAY[int32]]         |   ARRAY[partition_index, committed_offset,
//      |                                           |   metadata nullable STRING, error_code]]
//   2  | topics nullable (null: every committed    | + error_code (last, top level)
//      |   partition)                              |
//   3  | (same)                                    | + throttle_time_ms (first)
//   4  | (same)                                    | (same)
//   5  | (same)                                    | + partitions[].committed_leader_epoch
//      |                                           |   (after committed_offset)
//   6  | flexible (compact, tagged fields)         | flexible
//   7  | + require_stable bool (last)              | (same)
//   8  | groups ARRAY[group_id, topics nullable    | throttle_time_ms, groups ARRAY[group_id,
//      |   ARRAY[name, partition_indexes]],        |   topics ARRAY[name, partitions[index,
//      |   require_stable (v1-7 fields gone)       |   offset, leader_epoch, metadata, error]],
//      |                                           |   error_code] (v1-7 fields gone)
//   9  | + groups[].member_id nullable,            | (same)
//      |   member_epoch int32 (after group_id)     |
//
// As Kafka 4.4 answers (each case was sent to the reference Kafka 4.4 of
// test/kafka-ref too): the partitions asked for with their committed offset,
// leader epoch and metadata, -1 / -1 / "" where nothing is committed (an
// unknown topic too, without error); null topics (v2+): every committed
// partition; a group that does not exist has nothing committed, no error; ""
// is a group id like any other. require_stable changes nothing (no
// transactions). v8+ answer each group on its own, in request order; v9's
// member id and epoch are for KIP-848 groups and not checked for classic ones.
// Before __consumer_offsets exists the group is NOT_COORDINATOR (16): v1 has
// no top-level error, so each partition asked for carries it (offset -1,
// metadata ""); v2-7 at the top with no topics; v8+ per group.
//
// Order of "every committed partition": Kafka lists them in its hash maps'
// order (ascending partitions, topics by hash), ours in the order they were
// first committed; clients do not rely on it. The commits below are made in
// the order Kafka 4.4 lists these names ("of-other", then "of-topic" 0, 2), so
// both agree.
//
// Data: "of-topic" (3 partitions), "of-other" (1); group "of-group" commits
// of-other 0 = 5 "o", of-topic 0 = 10 "m" (leader epoch 3), 2 = 30 (metadata
// null, kept as ""); group "of-group2" commits of-topic 1 = 7.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type InProcessBroker } from "../helpers.ts";
import { commitSimple, encoders, findCoordinator, q, startGroupBroker } from "./groups.ts";
import { bool, exchange, expectClosed, i16, i32, i64, requestHeader, responseHeader, str } from "./hex.ts";

const flexible = (v: number) => v >= 6;

type Ask = [topic: string, partitions: number[]];
type Committed = [partition: number, offset: number, leaderEpoch: number, metadata: string, error?: number];
type Topic = [topic: string, partitions: Committed[]];

const NONE = (p: number, error = 0): Committed => [p, -1, -1, "", error];
const GROUP: Topic[] = [
  ["of-other", [[0, 5, -1, "o"]]],
  [
    "of-topic",
    [
      [0, 10, 3, "m"],
      [2, 30, -1, ""],
    ],
  ],
];

function topicsRequest(v: number, topics: Ask[] | null, indent = ""): string {
  const e = encoders(flexible(v));
  if (topics === null) return `${indent}${flexible(v) ? "00" : "ffffffff"}  # topics = null (every committed partition)`;
  return [
    `${indent}${e.a(topics.length)}  # topics: ${topics.length}`,
    ...topics.map(([name, ps]) => `${indent}  ${e.s(name)} ${e.a(ps.length)} ${ps.map(i32).join(" ")} ${flexible(v) ? "00" : ""}  # ${q(name)}: partitions ${ps.join(", ")}`),
  ].join("\n");
}

/** v1-7: one group */
function request(v: number, corr: number, group: string, topics: Ask[] | null, requireStable = false): string {
  const e = encoders(flexible(v));
  return `
    ${requestHeader(9, v, corr, flexible(v))}
    ${e.s(group)}  # group_id = ${q(group)}
    ${topicsRequest(v, topics)}
    ${v >= 7 ? `${bool(requireStable)}  # require_stable = ${requireStable}` : ""}
    ${e.tags("request")}`;
}

/** v8+: several groups */
function groupsRequest(v: number, corr: number, groups: [group: string, topics: Ask[] | null][], requireStable = false): string {
  const e = encoders(true);
  return `
    ${requestHeader(9, v, corr, true)}
    ${e.a(groups.length)}  # groups: ${groups.length}
    ${groups
      .map(
        ([g, topics]) => `
      ${e.s(g)}  # group_id = ${q(g)}
      ${v >= 9 ? `${e.ns(null)}  # member_id = null (a classic group's fetch)` : ""}
      ${v >= 9 ? `${i32(-1)}  # member_epoch = -1` : ""}
      ${topicsRequest(v, topics, "      ")}
      ${e.tags("group")}`,
      )
      .join("\n")}
    ${bool(requireStable)}  # require_stable = ${requireStable}
    ${e.tags("request")}`;
}

function topicsResponse(v: number, topics: Topic[]): string {
  const e = encoders(flexible(v));
  return [
    `${e.a(topics.length)}  # topics: ${topics.length}`,
    ...topics.map(
      ([name, ps]) => `
      ${e.s(name)}  # name = ${q(name)}
      ${e.a(ps.length)}  # partitions: ${ps.length}
      ${ps
        .map(
          ([p, o, epoch, md, err = 0]) =>
            `        ${i32(p)} ${i64(o)} ${v >= 5 ? i32(epoch) : ""} ${e.ns(md)} ${i16(err)} ${flexible(v) ? "00" : ""}  # partition ${p}: offset ${o}${v >= 5 ? `, leader epoch ${epoch}` : ""}, metadata ${q(md)}, error ${err}`,
        )
        .join("\n")}
      ${e.tags("topic")}`,
    ),
  ].join("\n");
}

/** v1-7 */
function response(v: number, corr: number, topics: Topic[], error = 0): string {
  const e = encoders(flexible(v));
  return `
    ${responseHeader(corr, flexible(v))}
    ${v >= 3 ? `${i32(0)}  # throttle_time_ms = 0` : ""}
    ${topicsResponse(v, topics)}
    ${v >= 2 ? `${i16(error)}  # error_code = ${error}` : ""}
    ${e.tags("response")}`;
}

/** v8+ */
function groupsResponse(v: number, corr: number, groups: [group: string, topics: Topic[], error?: number][]): string {
  const e = encoders(true);
  return `
    ${responseHeader(corr, true)}
    ${i32(0)}  # throttle_time_ms = 0
    ${e.a(groups.length)}  # groups: ${groups.length}
    ${groups
      .map(
        ([g, topics, err = 0]) => `
      ${e.s(g)}  # group_id = ${q(g)}
      ${topicsResponse(v, topics)}
      ${i16(err)}  # error_code = ${err}
      ${e.tags("group")}`,
      )
      .join("\n")}
    ${e.tags("response")}`;
}

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startGroupBroker();
  kafka.storage.createTopic("of-topic", 3);
  kafka.storage.createTopic("of-other", 1);
  const conn = kafka.connect();
  await findCoordinator(conn, 1, "of-group");
  await commitSimple(conn, 2, "of-group", "of-other", [[0, 5, "o"]]);
  await commitSimple(conn, 3, "of-group", "of-topic", [
    [0, 10, "m", 3],
    [2, 30, null],
  ]);
  await commitSimple(conn, 4, "of-group2", "of-topic", [[1, 7, ""]]);
});
afterAll(() => kafka.close());

describe("OffsetFetch golden bytes", () => {
  test("v0 (removed in Kafka 4, KIP-896): the connection closes", async () => {
    await expectClosed(kafka.connect(), `${requestHeader(9, 0, 4400, false)}\n${str("of-group")}  # group_id\n00000001 ${str("of-topic")} 00000001 ${i32(0)}  # of-topic partition 0`);
  });

  for (let v = 1; v <= 7; v++) {
    test(`v${v}: named partitions: committed ones, -1 where nothing is (an unknown topic too); a group that does not exist: -1`, async () => {
      const conn = kafka.connect();
      const c = 4410 + 10 * v;
      const asks: Ask[] = [
        ["of-topic", [0, 1, 2]],
        ["of-nope", [0]],
      ];
      await exchange(conn, request(v, c, "of-group", asks), response(v, c, [["of-topic", [[0, 10, 3, "m"], NONE(1), [2, 30, -1, ""]]], ["of-nope", [NONE(0)]]]));
      await exchange(conn, request(v, c + 1, "of-none", [["of-topic", [0]]]), response(v, c + 1, [["of-topic", [NONE(0)]]]));
      if (v >= 7) await exchange(conn, request(v, c + 2, "of-group", [["of-topic", [0]]], true), response(v, c + 2, [["of-topic", [[0, 10, 3, "m"]]]]));
    });

    if (v >= 2) {
      test(`v${v}: topics null: every committed partition; of a group that does not exist, or "": none, no error`, async () => {
        const conn = kafka.connect();
        const c = 4510 + 10 * v;
        await exchange(conn, request(v, c, "of-group", null), response(v, c, GROUP));
        await exchange(conn, request(v, c + 1, "of-group2", null), response(v, c + 1, [["of-topic", [[1, 7, -1, ""]]]]));
        await exchange(conn, request(v, c + 2, "of-none", null), response(v, c + 2, []));
        await exchange(conn, request(v, c + 3, "", null), response(v, c + 3, []));
        expect(kafka.broker.groups.group("of-none")).toBeUndefined();
      });
    }
  }

  for (const v of [8, 9]) {
    test(`v${v}: several groups, each on its own: all committed, named, one that does not exist, "", none asked for`, async () => {
      const conn = kafka.connect();
      const c = 4610 + 10 * v;
      await exchange(
        conn,
        groupsRequest(v, c, [
          ["of-group", null],
          ["of-group2", [["of-topic", [1, 2]]]],
          ["of-none", null],
          ["", [["of-topic", [0]]]],
        ]),
        groupsResponse(v, c, [
          ["of-group", GROUP],
          ["of-group2", [["of-topic", [[1, 7, -1, ""], NONE(2)]]]],
          ["of-none", []],
          ["", [["of-topic", [NONE(0)]]]],
        ]),
      );
      await exchange(conn, groupsRequest(v, c + 1, [["of-group", [["of-other", [0]]]]], true), groupsResponse(v, c + 1, [["of-group", [["of-other", [[0, 5, -1, "o"]]]]]]));
      await exchange(conn, groupsRequest(v, c + 2, []), groupsResponse(v, c + 2, []));
    });
  }

  test("before __consumer_offsets exists (no FindCoordinator yet): NOT_COORDINATOR; v1 per partition, v2-7 at the top, v8+ per group", async () => {
    const fresh = await startGroupBroker();
    try {
      const conn = fresh.connect();
      await exchange(conn, request(1, 4700, "of-early", [["of-topic", [0, 1]]]), response(1, 4700, [["of-topic", [NONE(0, 16), NONE(1, 16)]]]));
      for (let v = 2; v <= 7; v++) await exchange(conn, request(v, 4700 + v, "of-early", [["of-topic", [0]]]), response(v, 4700 + v, [], 16));
      for (const v of [8, 9]) {
        await exchange(
          conn,
          groupsRequest(v, 4700 + v, [
            ["of-early", [["of-topic", [0]]]],
            ["of-early2", null],
          ]),
          groupsResponse(v, 4700 + v, [
            ["of-early", [], 16],
            ["of-early2", [], 16],
          ]),
        );
      }
    } finally {
      await fresh.close();
    }
  });
});
