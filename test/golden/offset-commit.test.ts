// Golden bytes: OffsetCommit (key 8), versions 2-9 (Kafka 4 removed v0-1,
// KIP-896: not advertised, a request at them closes the connection); flexible
// from v8 (request header v2, response header v1). Checked field by field
// against OffsetCommitRequest.json / OffsetCommitResponse.json:
//
//   v  | request                                   | response
//   ---+-------------------------------------------+-------------------------------------
//   2  | group_id, generation_id_or_member_epoch,  | topics ARRAY[name, partitions
//      |   member_id, retention_time_ms int64,     |   ARRAY[partition_index, error_code]]
//      |   topics ARRAY[name, partitions           |
//      |   ARRAY[partition_index, committed_offset,|
//      |   committed_metadata nullable STRING]]    |
//   3  | (same)                                    | + throttle_time_ms (first)
//   4  | (same)                                    | (same)
//   5  | - retention_time_ms                       | (same)
//   6  | + partitions[].committed_leader_epoch     | (same)
//      |   (after committed_offset)                |
//   7  | + group_instance_id nullable (after       | (same)
//      |   member_id)                              |
//   8  | flexible (compact, tagged fields)         | flexible
//   9  | (same: KIP-848 member epochs)             | (same: GROUP_ID_NOT_FOUND for a group that does not exist)
//
// As Kafka 4.4 answers (each case was sent to the reference Kafka 4.4 of
// test/kafka-ref too, member ids aside): KafkaApis first answers the
// partitions of topics it does not have, and partitions a topic does not have,
// UNKNOWN_TOPIC_OR_PARTITION (3); the group coordinator's answers for the rest
// are merged after them by topic name (with nothing refused first, they are
// the response as they are: a topic named twice is answered twice). Without a
// generation (-1) and member id "" the commit is a simple consumer's or an
// admin's, and makes the group (protocol type "", Empty); "" is a group id
// like any other (Kafka 4.4 keeps it so for compatibility). A null metadata
// is stored as "". Per partition: OFFSET_METADATA_TOO_LARGE (12) for
// metadata over offset.metadata.max.bytes (4096). For the whole request (each
// partition carries it):
//   ILLEGAL_GENERATION (22)    another generation of the group; v2-8: a generation for a group that does not exist
//   GROUP_ID_NOT_FOUND (69)    v9: a generation for a group that does not exist
//   UNKNOWN_MEMBER_ID (25)     a member the group does not have (or none, to a group with members), an unknown instance id (v7+)
//   REBALANCE_IN_PROGRESS (27) the group is CompletingRebalance (joined, assignment not synced)
//   NOT_COORDINATOR (16)       before __consumer_offsets exists
//
// Data: "oc-topic" with 2 partitions; every case its own group "oc-<case>-v<v>".

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type InProcessBroker } from "../helpers.ts";
import { PEER, assignment, encoders, findCoordinator, joinAlone, q, startGroupBroker, subscription, syncLeader } from "./groups.ts";
import { exchange, expectClosed, i16, i32, i64, requestHeader, responseHeader, str } from "./hex.ts";

const flexible = (v: number) => v >= 8;

const TOPIC = "oc-topic";
const METADATA = subscription([TOPIC]);
const PARTS = assignment([[TOPIC, [0, 1]]]);

type Offset = [partition: number, offset: number, metadata: string | null, leaderEpoch?: number];
type Topic = [name: string, partitions: Offset[]];

interface Commit {
  group: string;
  generation?: number;
  memberId?: string;
  instance?: string | null;
  topics: Topic[];
}

function request(v: number, corr: number, x: Commit): string {
  const e = encoders(flexible(v));
  const gen = x.generation ?? -1;
  const member = x.memberId ?? "";
  return `
    ${requestHeader(8, v, corr, flexible(v))}
    ${e.s(x.group)}  # group_id = ${q(x.group)}
    ${i32(gen)}  # generation_id_or_member_epoch = ${gen}
    ${e.s(member)}  # member_id = ${q(member)}
    ${v >= 7 ? `${e.ns(x.instance ?? null)}  # group_instance_id = ${q(x.instance ?? null)}` : ""}
    ${v <= 4 ? `${i64(-1)}  # retention_time_ms = -1 (the broker's offsets.retention.minutes)` : ""}
    ${e.a(x.topics.length)}  # topics: ${x.topics.length}
    ${x.topics
      .map(
        ([name, parts]) => `
      ${e.s(name)}  # name = ${q(name)}
      ${e.a(parts.length)}  # partitions: ${parts.length}
      ${parts
        .map(
          ([p, o, md, epoch]) => `
        ${i32(p)}  # partition_index = ${p}
        ${i64(o)}  # committed_offset = ${o}
        ${v >= 6 ? `${i32(epoch ?? -1)}  # committed_leader_epoch = ${epoch ?? -1}` : ""}
        ${e.ns(md)}  # committed_metadata = ${q(md)}
        ${e.tags("partition")}`,
        )
        .join("\n")}
      ${e.tags("topic")}`,
      )
      .join("\n")}
    ${e.tags("request")}`;
}

type Answer = [name: string, partitions: [partition: number, error: number][]];

function response(v: number, corr: number, topics: Answer[]): string {
  const e = encoders(flexible(v));
  return `
    ${responseHeader(corr, flexible(v))}
    ${v >= 3 ? `${i32(0)}  # throttle_time_ms = 0` : ""}
    ${e.a(topics.length)}  # topics: ${topics.length}
    ${topics
      .map(
        ([name, parts]) => `
      ${e.s(name)}  # name = ${q(name)}
      ${e.a(parts.length)}  # partitions: ${parts.length}
      ${parts.map(([p, err]) => `        ${i32(p)} ${i16(err)} ${flexible(v) ? "00" : ""}  # partition ${p}: error_code = ${err}`).join("\n")}
      ${e.tags("topic")}`,
      )
      .join("\n")}
    ${e.tags("response")}`;
}

/** every partition of `x` answered `error` */
const all = (x: Commit, error: number): Answer[] => x.topics.map(([name, parts]) => [name, parts.map(([p]) => [p, error] as [number, number])]);

/** what the coordinator keeps for the group: [topic, partition, offset, leader epoch, metadata] */
function stored(group: string): [string, number, number, number, string][] {
  const r = kafka.broker.groups.fetchOffsets(group, null);
  return r.topics.flatMap((t) => t.partitions.map((p): [string, number, number, number, string] => [t.name, p.partitionIndex, p.committedOffset, p.committedLeaderEpoch, p.metadata]));
}

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startGroupBroker();
  kafka.storage.createTopic(TOPIC, 2);
  await findCoordinator(kafka.connect(), 1, "oc");
});
afterAll(() => kafka.close());

describe("OffsetCommit golden bytes", () => {
  for (const v of [0, 1]) {
    test(`v${v}: removed in Kafka 4 (KIP-896): the connection closes, nothing stored`, async () => {
      // v0: group_id, topics; v1 adds generation, member_id and per partition a commit timestamp
      const body =
        v === 0
          ? `${str("oc-old")}  # group_id\n00000001 ${str(TOPIC)} 00000001 ${i32(0)} ${i64(5)} ${str("")}  # one topic, partition 0, offset 5, metadata ""`
          : `${str("oc-old")}  # group_id\n${i32(-1)} ${str("")}  # generation -1, member_id ""\n00000001 ${str(TOPIC)} 00000001 ${i32(0)} ${i64(5)} ${i64(-1)} ${str("")}  # one topic, partition 0, offset 5, timestamp -1, metadata ""`;
      await expectClosed(kafka.connect(), `${requestHeader(8, v, 3800 + v, false)}\n${body}`);
      expect(stored("oc-old")).toEqual([]);
    });
  }

  for (let v = 2; v <= 9; v++) {
    test(`v${v}: without a generation: stored; a missing topic and partition answered 3 first; a topic named twice answered twice`, async () => {
      const group = `oc-simple-v${v}`;
      const conn = kafka.connect();
      const c = 3810 + 10 * v;
      await exchange(
        conn,
        request(v, c, { group, topics: [[TOPIC, [[0, 10, "m", 3], [5, 1, ""], [1, 20, null]]], ["oc-nope", [[0, 1, ""]]]] }),
        response(v, c, [
          [TOPIC, [[5, 3], [0, 0], [1, 0]]],
          ["oc-nope", [[0, 3]]],
        ]),
      );
      expect(stored(group)).toEqual([
        [TOPIC, 0, 10, v >= 6 ? 3 : -1, "m"],
        [TOPIC, 1, 20, -1, ""],
      ]);
      await exchange(conn, request(v, c + 1, { group, topics: [[TOPIC, [[0, 11, "a"]]], [TOPIC, [[0, 12, "b"]]]] }), response(v, c + 1, [[TOPIC, [[0, 0]]], [TOPIC, [[0, 0]]]]));
      expect(stored(group)[0]).toEqual([TOPIC, 0, 12, -1, "b"]);
      expect(kafka.broker.groups.group(group)).toEqual({ state: "Empty", generationId: 0, members: 0, protocolName: null });
    });

    test(`v${v}: metadata of 4096 bytes: stored; of 4097: OFFSET_METADATA_TOO_LARGE, not stored`, async () => {
      const group = `oc-metadata-v${v}`;
      const c = 3910 + 10 * v;
      const x: Commit = { group, topics: [[TOPIC, [[0, 5, "x".repeat(4097)], [1, 6, "y".repeat(4096)]]]] };
      await exchange(kafka.connect(), request(v, c, x), response(v, c, [[TOPIC, [[0, 12], [1, 0]]]]));
      expect(stored(group)).toEqual([[TOPIC, 1, 6, -1, "y".repeat(4096)]]);
    });

    test(`v${v}: group "": stored; to a group that does not exist, a generation: ${v >= 9 ? "GROUP_ID_NOT_FOUND" : "ILLEGAL_GENERATION"}, a member id without one: stored`, async () => {
      const conn = kafka.connect();
      const c = 4010 + 10 * v;
      await exchange(conn, request(v, c, { group: "", topics: [[TOPIC, [[0, v, ""]]]] }), response(v, c, [[TOPIC, [[0, 0]]]]));
      expect(stored("")).toEqual([[TOPIC, 0, v, -1, ""]]);
      const gen: Commit = { group: `oc-none-v${v}`, generation: 1, memberId: "m", topics: [[TOPIC, [[0, 1, ""]]]] };
      await exchange(conn, request(v, c + 1, gen), response(v, c + 1, all(gen, v >= 9 ? 69 : 22)));
      expect(kafka.broker.groups.group(`oc-none-v${v}`)).toBeUndefined();
      const member: Commit = { group: `oc-member-v${v}`, generation: -1, memberId: "m", topics: [[TOPIC, [[1, 2, ""]]]] };
      await exchange(conn, request(v, c + 2, member), response(v, c + 2, all(member, 0)));
      expect(stored(`oc-member-v${v}`)).toEqual([[TOPIC, 1, 2, -1, ""]]);
    });

    test(`v${v}: a consumer group: CompletingRebalance 27; Stable: its member 0, another generation 22, an unknown member 25, no member 25${v >= 7 ? ", an unknown instance 25" : ""}`, async () => {
      const group = `oc-group-v${v}`;
      const conn = kafka.connect(PEER);
      const c = 4110 + 10 * v;
      const j = await joinAlone(conn, c, group, METADATA);
      const as = (generation: number, memberId: string, instance: string | null = null): Commit => ({ group, generation, memberId, instance, topics: [[TOPIC, [[0, 100 + generation, "g"]]]] });
      await exchange(conn, request(v, c + 1, as(1, j.memberId)), response(v, c + 1, all(as(1, j.memberId), 27)));
      await syncLeader(conn, c + 2, group, j, [[j.memberId, PARTS]]);
      await exchange(conn, request(v, c + 3, as(1, j.memberId)), response(v, c + 3, all(as(1, j.memberId), 0)));
      await exchange(conn, request(v, c + 4, as(2, j.memberId)), response(v, c + 4, all(as(2, j.memberId), 22)));
      await exchange(conn, request(v, c + 5, as(1, "nobody")), response(v, c + 5, all(as(1, "nobody"), 25)));
      await exchange(conn, request(v, c + 6, as(-1, "")), response(v, c + 6, all(as(-1, ""), 25)));
      if (v >= 7) await exchange(conn, request(v, c + 7, as(1, j.memberId, "inst-q")), response(v, c + 7, all(as(1, j.memberId, "inst-q"), 25)));
      expect(stored(group)).toEqual([[TOPIC, 0, 101, -1, "g"]]);
    });
  }

  test("before __consumer_offsets exists (no FindCoordinator yet): NOT_COORDINATOR for each partition at every version", async () => {
    const fresh = await startGroupBroker();
    try {
      fresh.storage.createTopic(TOPIC, 2);
      const conn = fresh.connect();
      for (let v = 2; v <= 9; v++) {
        const x: Commit = { group: "oc-early", topics: [[TOPIC, [[0, 1, ""], [1, 2, ""]]]] };
        await exchange(conn, request(v, 4300 + v, x), response(v, 4300 + v, all(x, 16)));
      }
    } finally {
      await fresh.close();
    }
  });
});
