// Golden bytes: OffsetDelete (key 47), version 0 (not flexible). Checked
// field by field against OffsetDeleteRequest.json / OffsetDeleteResponse.json:
//
//   v  | request                                   | response
//   ---+-------------------------------------------+---------------------------------------------
//   0  | group_id, topics ARRAY[name, partitions   | error_code, throttle_time_ms, topics
//      |   ARRAY[partition_index]]                 |   ARRAY[name, partitions ARRAY[
//      |                                           |   partition_index, error_code]]
//
// As Kafka 4.4 answers (each case was sent to the reference Kafka 4.4 of
// test/kafka-ref too): the group's committed offsets of the partitions named
// are removed (0 also where nothing was committed). KafkaApis answers
// partitions of topics it does not have, and partitions a topic does not
// have, UNKNOWN_TOPIC_OR_PARTITION (3) first; the coordinator's answers come
// after them, merged by topic name (with nothing refused first they are the
// response as they are: a topic named twice is answered twice). A group with
// members that uses the consumer protocol keeps the offsets of the topics its
// members subscribe to (GROUP_SUBSCRIBED_TO_TOPIC, 86, per partition; others
// are removed). For the whole request (no topics):
//   NON_EMPTY_GROUP (68)       a group with members of another protocol type ("connect")
//   GROUP_ID_NOT_FOUND (69)    a group the broker does not know
//   INVALID_GROUP_ID (24)      group id ""
//   NOT_COORDINATOR (16)       before __consumer_offsets exists
//
// Data: "od-topic" and "od-other" (2 partitions each); every case its own
// group "od-<case>", joined with JoinGroup v3 by the client "golden"; the
// consumer group subscribes to od-topic.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type InProcessBroker } from "../helpers.ts";
import { PEER, assignment, commitSimple, findCoordinator, joinV3Request, joinV3Response, memberIdIn, q, stableGroup, startGroupBroker, subscription, syncLeader } from "./groups.ts";
import { arr, exchange, expectBytes, expectClosed, frame, i16, i32, i64, requestHeader, responseHeader, roundTrip, str } from "./hex.ts";

const METADATA = subscription(["od-topic"]);
const PARTS = assignment([["od-topic", [0, 1]]]);

function request(corr: number, group: string, topics: [name: string, partitions: number[]][], version = 0): string {
  return `
    ${requestHeader(47, version, corr, false)}
    ${str(group)}  # group_id = ${q(group)}
    ${arr(topics.length)}  # topics: ${topics.length}
    ${topics.map(([name, ps]) => `  ${str(name)} ${arr(ps.length)} ${ps.map(i32).join(" ")}  # ${q(name)}: partitions ${ps.join(", ")}`).join("\n")}`;
}

function response(corr: number, error: number, topics: [name: string, partitions: [partition: number, error: number][]][] = []): string {
  return `
    ${responseHeader(corr, false)}
    ${i16(error)}  # error_code = ${error}
    ${i32(0)}  # throttle_time_ms = 0
    ${arr(topics.length)}  # topics: ${topics.length}
    ${topics
      .map(
        ([name, ps]) => `
      ${str(name)}  # name = ${q(name)}
      ${arr(ps.length)}  # partitions: ${ps.length}
      ${ps.map(([p, err]) => `        ${i32(p)} ${i16(err)}  # partition ${p}: error_code = ${err}`).join("\n")}`,
      )
      .join("\n")}`;
}

/** the group's committed partitions, as "topic-partition" */
function committed(group: string): string[] {
  return kafka.broker.groups.fetchOffsets(group, null).topics.flatMap((t) => t.partitions.map((p) => `${t.name}-${p.partitionIndex}`));
}

/**
 * OffsetCommit v7 of a member of `group`'s generation 1: one offset per partition
 * (generation-checked, so it also proves the member is in the group).
 */
async function commitAsMember(corr: number, group: string, memberId: string, parts: [topic: string, partition: number][]): Promise<void> {
  await exchange(
    kafka.connect(),
    `
    ${requestHeader(8, 7, corr, false)}
    ${str(group)}  # group_id = ${q(group)}
    ${i32(1)}  # generation_id_or_member_epoch = 1
    ${str(memberId)}  # member_id
    ffff  # group_instance_id = null
    ${arr(parts.length)}  # topics: ${parts.length} (one partition each)
    ${parts.map(([t, p]) => `  ${str(t)} ${arr(1)} ${i32(p)} ${i64(1)} ${i32(-1)} ${str("")}  # ${q(t)}: partition ${p}, offset 1, leader epoch -1, metadata ""`).join("\n")}`,
    `
    ${responseHeader(corr, false)}
    ${i32(0)}  # throttle_time_ms = 0
    ${arr(parts.length)}  # topics: ${parts.length}
    ${parts.map(([t, p]) => `  ${str(t)} ${arr(1)} ${i32(p)} ${i16(0)}  # ${q(t)}: partition ${p}, error 0`).join("\n")}`,
  );
}

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startGroupBroker();
  kafka.storage.createTopic("od-topic", 2);
  kafka.storage.createTopic("od-other", 2);
  await findCoordinator(kafka.connect(), 1, "od");
});
afterAll(() => kafka.close());

describe("OffsetDelete golden bytes", () => {
  test("v0: a group with offsets only (Empty): removed; a missing partition and topic answered 3 first, merged by topic", async () => {
    const conn = kafka.connect();
    await commitSimple(conn, 4800, "od-simple", "od-topic", [
      [0, 1, ""],
      [1, 2, ""],
    ]);
    await commitSimple(conn, 4801, "od-simple", "od-other", [[0, 3, ""]]);
    await exchange(
      conn,
      request(4802, "od-simple", [
        ["od-topic", [0, 7]],
        ["od-nope", [0]],
        ["od-other", [0, 1]],
      ]),
      response(4802, 0, [
        [
          "od-topic",
          [
            [7, 3],
            [0, 0],
          ],
        ],
        ["od-nope", [[0, 3]]],
        [
          "od-other",
          [
            [0, 0],
            [1, 0],
          ],
        ],
      ]),
    );
    expect(committed("od-simple")).toEqual(["od-topic-1"]);
  });

  test("v0: a topic named twice: answered twice; only refused partitions: those alone", async () => {
    const conn = kafka.connect();
    await commitSimple(conn, 4810, "od-twice", "od-topic", [
      [0, 1, ""],
      [1, 2, ""],
    ]);
    await exchange(
      conn,
      request(4811, "od-twice", [
        ["od-topic", [0]],
        ["od-topic", [1]],
      ]),
      response(4811, 0, [
        ["od-topic", [[0, 0]]],
        ["od-topic", [[1, 0]]],
      ]),
    );
    expect(committed("od-twice")).toEqual([]);
    await exchange(conn, request(4812, "od-twice", [["od-nope", [0]]]), response(4812, 0, [["od-nope", [[0, 3]]]]));
  });

  test("v0: a Stable consumer group: a subscribed topic GROUP_SUBSCRIBED_TO_TOPIC (kept), another topic removed", async () => {
    const group = "od-consumer";
    const j = await stableGroup(kafka.connect(PEER), 4820, group, METADATA, PARTS);
    await commitAsMember(4822, group, j.memberId, [
      ["od-topic", 0],
      ["od-other", 0],
    ]);
    await exchange(
      kafka.connect(),
      request(4823, group, [
        ["od-topic", [0]],
        ["od-other", [0, 1]],
      ]),
      response(4823, 0, [
        ["od-topic", [[0, 86]]],
        [
          "od-other",
          [
            [0, 0],
            [1, 0],
          ],
        ],
      ]),
    );
    expect(committed(group)).toEqual(["od-topic-0"]);
  });

  test("v0: a group with members of protocol type \"connect\": NON_EMPTY_GROUP, nothing removed", async () => {
    const group = "od-connect";
    const conn = kafka.connect(PEER);
    const got = await roundTrip(conn, joinV3Request(4830, group, "", METADATA, "connect"));
    const id = memberIdIn(got);
    expectBytes(got, frame(joinV3Response(4830, 1, id, id, [[id, METADATA]])));
    await syncLeader(conn, 4831, group, { memberId: id, generation: 1 }, [[id, PARTS]]);
    await commitAsMember(4832, group, id, [["od-other", 0]]);
    await exchange(kafka.connect(), request(4833, group, [["od-other", [0]]]), response(4833, 68));
    expect(committed(group)).toEqual(["od-other-0"]);
  });

  test("v0: a group that does not exist: GROUP_ID_NOT_FOUND (also with only missing topics); group id \"\": INVALID_GROUP_ID", async () => {
    const conn = kafka.connect();
    await exchange(conn, request(4840, "od-none", [["od-topic", [0]]]), response(4840, 69));
    await exchange(conn, request(4841, "od-none", [["od-nope", [0]]]), response(4841, 69));
    await exchange(conn, request(4842, "", [["od-topic", [0]]]), response(4842, 24));
  });

  test("v0: before __consumer_offsets exists (no FindCoordinator yet): NOT_COORDINATOR", async () => {
    const fresh = await startGroupBroker();
    try {
      fresh.storage.createTopic("od-topic", 2);
      await exchange(fresh.connect(), request(4850, "od-early", [["od-topic", [0]]]), response(4850, 16));
    } finally {
      await fresh.close();
    }
  });

  test("v1 (not served, Kafka 4.4's range is 0): connection closed, no response", async () => {
    await expectClosed(kafka.connect(), request(4860, "od-simple", [["od-topic", [0]]], 1));
  });
});
