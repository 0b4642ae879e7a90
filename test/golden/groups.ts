// What the group goldens (FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup, DescribeGroups, ListGroups, DeleteGroups, OffsetCommit,
// OffsetFetch, OffsetDelete) share: the broker they run on, encodings that
// depend on whether a version is flexible, a consumer-protocol subscription
// written by hand, member ids read from responses, and setup steps that are
// golden exchanges themselves (FindCoordinator v0, JoinGroup v3, SyncGroup v3,
// OffsetCommit v9 at fixed versions; each file sweeps its own API's versions).
//
// Member ids are `<client id or group.instance.id>-<random uuid>` (Kafka's
// ClassicGroup.generateMemberId, java.util.UUID's 8-4-4-4-12 hex form), so a
// test reads the id out of the response that hands it out and builds the
// expected bytes with it; every other byte is fixed.

import { startInProcess, type InProcessBroker, type InProcessConnection } from "../helpers.ts";
import { CLIENT_ID, NULL_CSTR, NULL_STR, TAGS, arr, bytesOf, carr, cstr, exchange, expectBytes, frame, i16, i32, i64, readFrame, requestHeader, responseHeader, roundTrip, str, uvarint } from "./hex.ts";

/** The overrides every group golden runs with: no initial rebalance delay, three __consumer_offsets partitions. */
export const GROUP_OVERRIDES = { "node.id": "1", "group.initial.rebalance.delay.ms": "0", "offsets.topic.num.partitions": "3" };

export function startGroupBroker(extra: Record<string, string> = {}): Promise<InProcessBroker> {
  return startInProcess({ ...GROUP_OVERRIDES, ...extra });
}

/** A client address as the TCP server gives it: members joined through it have client host "/127.0.0.1", as Kafka records a loopback client. */
export const PEER = "127.0.0.1:50000";
export const CLIENT_HOST = "/127.0.0.1";

/** String, nullable string, array length, bytes, tagged fields: compact when `flexible`. */
export function encoders(flexible: boolean) {
  return {
    s: (x: string) => (flexible ? cstr(x) : str(x)),
    ns: (x: string | null) => (x === null ? (flexible ? NULL_CSTR : NULL_STR) : flexible ? cstr(x) : str(x)),
    a: (n: number) => (flexible ? carr(n) : arr(n)),
    /** BYTES: int32 length or uvarint(length + 1), then the bytes (hex) */
    b: (hex: string) => `${flexible ? uvarint(hex.length / 2 + 1) : i32(hex.length / 2)} ${hex}`,
    tags: (what: string) => (flexible ? `${TAGS}  # ${what} tagged fields: none` : ""),
  };
}

/** Quoted for a comment; long strings shortened. */
export const q = (x: string | null) => (x === null ? "null" : x.length > 40 ? `"${x.slice(0, 12)}..." (${x.length} chars)` : `"${x}"`);

/**
 * ConsumerProtocolSubscription v0 (what a Java consumer puts in its JoinGroup
 * protocol metadata): version int16 0, topics ARRAY[STRING], user_data BYTES
 * null. The coordinator reads the topics (OffsetDelete's GROUP_SUBSCRIBED_TO_TOPIC).
 */
export function subscription(topics: string[]): string {
  return [i16(0), arr(topics.length), ...topics.map(str), "ffffffff"].join("").replace(/\s+/g, "");
}

/** ConsumerProtocolAssignment v0: version 0, assigned_partitions ARRAY[topic STRING, partitions ARRAY[int32]], user_data null. */
export function assignment(parts: [topic: string, partitions: number[]][]): string {
  return [i16(0), arr(parts.length), ...parts.map(([t, ps]) => str(t) + arr(ps.length) + ps.map(i32).join("")), "ffffffff"].join("").replace(/\s+/g, "");
}

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

/** The distinct member ids `<prefix>-<uuid>` in a response frame, in order of appearance. */
export function memberIdsIn(response: Uint8Array, prefix = CLIENT_ID): string[] {
  const text = Buffer.from(response).toString("latin1");
  const found = text.match(new RegExp(`${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-${UUID}`, "g")) ?? [];
  return [...new Set(found)];
}

/** The one member id a response hands out; throws when there is none (the bytes are checked afterwards). */
export function memberIdIn(response: Uint8Array, prefix = CLIENT_ID): string {
  const ids = memberIdsIn(response, prefix);
  if (ids.length !== 1) throw new Error(`expected one member id "${prefix}-<uuid>" in ${Buffer.from(response).toString("hex")}, found ${ids.length}`);
  return ids[0]!;
}

// ---- setup steps, at fixed versions ----

/**
 * FindCoordinator v0 for `group`: this broker (node 1, 127.0.0.1:9092). The
 * first one creates __consumer_offsets.
 */
export async function findCoordinator(conn: InProcessConnection, corr: number, group: string): Promise<void> {
  await exchange(
    conn,
    `
    ${requestHeader(10, 0, corr, false)}
    ${str(group)}  # key = ${q(group)}`,
    `
    ${responseHeader(corr, false)}
    ${i16(0)}  # error_code = 0
    ${i32(1)}  # node_id = 1
    ${str("127.0.0.1")}  # host = "127.0.0.1"
    ${i32(9092)}  # port = 9092`,
  );
}

export const PROTOCOL_TYPE = "consumer";
export const PROTOCOL = "range";
export const SESSION_TIMEOUT = 10000;
export const REBALANCE_TIMEOUT = 30000;

export interface Joined {
  memberId: string;
  generation: number;
}

/** JoinGroup v3 request: one protocol ("range", metadata `metadataHex`). */
export function joinV3Request(corr: number, group: string, memberId: string, metadataHex: string, protocolType = PROTOCOL_TYPE): string {
  return `
    ${requestHeader(11, 3, corr, false)}
    ${str(group)}  # group_id = ${q(group)}
    ${i32(SESSION_TIMEOUT)}  # session_timeout_ms = ${SESSION_TIMEOUT}
    ${i32(REBALANCE_TIMEOUT)}  # rebalance_timeout_ms = ${REBALANCE_TIMEOUT}
    ${str(memberId)}  # member_id = ${q(memberId)}
    ${str(protocolType)}  # protocol_type = ${q(protocolType)}
    ${arr(1)}  # protocols: 1
      ${str(PROTOCOL)}  # name = "${PROTOCOL}"
      ${i32(metadataHex.length / 2)} ${metadataHex}  # metadata (${metadataHex.length / 2} bytes)`;
}

/** JoinGroup v3 success: `members` (id, metadata) given to the leader only. */
export function joinV3Response(corr: number, generation: number, leader: string, memberId: string, members: [id: string, metadataHex: string][]): string {
  return `
    ${responseHeader(corr, false)}
    ${i32(0)}  # throttle_time_ms = 0
    ${i16(0)}  # error_code = 0
    ${i32(generation)}  # generation_id = ${generation}
    ${str(PROTOCOL)}  # protocol_name = "${PROTOCOL}"
    ${str(leader)}  # leader = ${q(leader)}
    ${str(memberId)}  # member_id = ${q(memberId)}
    ${arr(members.length)}  # members: ${members.length}
    ${members.map(([id, md]) => `  ${str(id)} ${i32(md.length / 2)} ${md}  # member ${q(id)}, metadata`).join("\n")}`;
}

/**
 * A new member joins an empty group with JoinGroup v3 (no MEMBER_ID_REQUIRED
 * before v4): generation 1, it is the leader and is given itself. The group
 * is then CompletingRebalance.
 */
export async function joinAlone(conn: InProcessConnection, corr: number, group: string, metadataHex: string): Promise<Joined> {
  const got = await roundTrip(conn, joinV3Request(corr, group, "", metadataHex));
  const memberId = memberIdIn(got);
  expectBytes(got, frame(joinV3Response(corr, 1, memberId, memberId, [[memberId, metadataHex]])));
  return { memberId, generation: 1 };
}

/** SyncGroup v3 from the leader with one assignment each; its own comes back. */
export async function syncLeader(conn: InProcessConnection, corr: number, group: string, j: Joined, assignments: [id: string, hex: string][]): Promise<void> {
  const own = assignments.find(([id]) => id === j.memberId)?.[1] ?? "";
  await exchange(
    conn,
    `
    ${requestHeader(14, 3, corr, false)}
    ${str(group)}  # group_id = ${q(group)}
    ${i32(j.generation)}  # generation_id = ${j.generation}
    ${str(j.memberId)}  # member_id
    ${NULL_STR}  # group_instance_id = null
    ${arr(assignments.length)}  # assignments: ${assignments.length}
    ${assignments.map(([id, hex]) => `  ${str(id)} ${i32(hex.length / 2)} ${hex}  # ${q(id)}: ${hex.length / 2} bytes`).join("\n")}`,
    `
    ${responseHeader(corr, false)}
    ${i32(0)}  # throttle_time_ms = 0
    ${i16(0)}  # error_code = 0
    ${i32(own.length / 2)} ${own}  # assignment (${own.length / 2} bytes)`,
  );
}

/** A one-member group, Stable at generation 1 (JoinGroup v3, then the leader's SyncGroup v3). */
export async function stableGroup(conn: InProcessConnection, corr: number, group: string, metadataHex: string, assignmentHex: string): Promise<Joined> {
  const j = await joinAlone(conn, corr, group, metadataHex);
  await syncLeader(conn, corr + 1, group, j, [[j.memberId, assignmentHex]]);
  return j;
}

/**
 * OffsetCommit v9 without a generation (-1, member ""): what an admin client
 * or a consumer without group management commits; every partition answered 0.
 */
export async function commitSimple(
  conn: InProcessConnection,
  corr: number,
  group: string,
  topic: string,
  offsets: [partition: number, offset: number, metadata: string | null, leaderEpoch?: number][],
): Promise<void> {
  const e = encoders(true);
  await exchange(
    conn,
    `
    ${requestHeader(8, 9, corr, true)}
    ${e.s(group)}  # group_id = ${q(group)}
    ${i32(-1)}  # generation_id_or_member_epoch = -1
    ${e.s("")}  # member_id = ""
    ${e.ns(null)}  # group_instance_id = null
    ${e.a(1)}  # topics: 1
      ${e.s(topic)}  # name = ${q(topic)}
      ${e.a(offsets.length)}  # partitions: ${offsets.length}
      ${offsets.map(([p, o, m, epoch = -1]) => `        ${i32(p)} ${i64(o)} ${i32(epoch)} ${e.ns(m)} ${TAGS}  # partition ${p}: offset ${o}, leader epoch ${epoch}, metadata ${q(m)}`).join("\n")}
      ${e.tags("topic")}
    ${e.tags("request")}`,
    `
    ${responseHeader(corr, true)}
    ${i32(0)}  # throttle_time_ms = 0
    ${e.a(1)}  # topics: 1
      ${e.s(topic)}  # name = ${q(topic)}
      ${e.a(offsets.length)}  # partitions: ${offsets.length}
      ${offsets.map(([p]) => `        ${i32(p)} ${i16(0)} ${TAGS}  # partition ${p}: error 0`).join("\n")}
      ${e.tags("topic")}
    ${e.tags("response")}`,
  );
}

/**
 * A second member joins a group that `first` leads (CompletingRebalance or
 * Stable at first.generation): its JoinGroup v3 (on a connection of its own)
 * waits while the group is PreparingRebalance, until the leader joins again;
 * then both are answered with the next generation, the leader given both
 * members and the new member none. Ours lists the members in the order they
 * joined; Kafka 4.4 in its members hash map's order (checked against it with
 * the ids masked), which clients do not rely on.
 */
export async function secondMember(
  kafka: InProcessBroker,
  corr: number,
  group: string,
  first: Joined,
  metadataHex: string,
  /** runs while the new member waits, before the leader joins again */
  whilePreparing: () => Promise<void> = async () => {},
): Promise<{ leader: Joined; follower: Joined; followerConn: InProcessConnection }> {
  const followerConn = kafka.connect(PEER);
  followerConn.send(bytesOf(frame(joinV3Request(corr, group, "", metadataHex))));
  const state = kafka.broker.groups.group(group)?.state;
  if (state !== "PreparingRebalance") throw new Error(`group ${group} is ${state}, not PreparingRebalance, after a second member's JoinGroup`);
  await whilePreparing();
  if (followerConn.take().length > 0) throw new Error("the new member was answered before the leader joined again");
  const generation = first.generation + 1;
  const got = await roundTrip(kafka.connect(PEER), joinV3Request(corr + 1, group, first.memberId, metadataHex));
  const ids = memberIdsIn(got);
  if (ids.length !== 2 || ids[0] !== first.memberId) throw new Error(`expected the leader ${first.memberId} and one new member in ${Buffer.from(got).toString("hex")}`);
  const followerId = ids[1]!;
  expectBytes(got, frame(joinV3Response(corr + 1, generation, first.memberId, first.memberId, [[first.memberId, metadataHex], [followerId, metadataHex]])));
  expectBytes(await readFrame(followerConn), frame(joinV3Response(corr, generation, first.memberId, followerId, [])));
  return { leader: { memberId: first.memberId, generation }, follower: { memberId: followerId, generation }, followerConn };
}

/** A static member (group.instance.id) joins an empty group with JoinGroup v5: at once (no MEMBER_ID_REQUIRED), generation 1, its own leader; returns its id "<instance>-<uuid>". */
export async function joinStatic(kafka: InProcessBroker, corr: number, group: string, instance: string, metadataHex: string): Promise<string> {
  const got = await roundTrip(
    kafka.connect(PEER),
    `
    ${requestHeader(11, 5, corr, false)}
    ${str(group)}  # group_id = ${q(group)}
    ${i32(SESSION_TIMEOUT)}  # session_timeout_ms = ${SESSION_TIMEOUT}
    ${i32(REBALANCE_TIMEOUT)}  # rebalance_timeout_ms = ${REBALANCE_TIMEOUT}
    ${str("")}  # member_id = ""
    ${str(instance)}  # group_instance_id = ${q(instance)}
    ${str(PROTOCOL_TYPE)}  # protocol_type = "${PROTOCOL_TYPE}"
    ${arr(1)}  # protocols: 1
      ${str(PROTOCOL)} ${i32(metadataHex.length / 2)} ${metadataHex}  # "${PROTOCOL}", metadata`,
  );
  const id = memberIdIn(got, instance);
  expectBytes(
    got,
    frame(`
    ${responseHeader(corr, false)}
    ${i32(0)}  # throttle_time_ms = 0
    ${i16(0)}  # error_code = 0
    ${i32(1)}  # generation_id = 1
    ${str(PROTOCOL)}  # protocol_name = "${PROTOCOL}"
    ${str(id)}  # leader = ${q(id)}
    ${str(id)}  # member_id = ${q(id)}
    ${arr(1)}  # members: 1
      ${str(id)} ${str(instance)} ${i32(metadataHex.length / 2)} ${metadataHex}  # the member, its instance id, metadata`),
  );
  return id;
}
