// The group coordinator at the protocol level: an in-process broker driven
// through real connections (framing, headers, codec, handlers), requests
// built and responses decoded with our message definitions. Kafka's classic
// group state machine (Empty, PreparingRebalance, CompletingRebalance,
// Stable, Dead) as GroupMetadataManager runs it: joins and the member id
// handshake (KIP-394), rebalances and their timeouts, the initial rebalance
// delay, protocol selection, session expiry, leaving, static membership
// (KIP-345), SyncGroup, parked requests whose connection closes; committed
// offsets and their checks, fetch, delete, expiry; DeleteGroups and
// DeleteTopics; the records in __consumer_offsets as Kafka writes them; and a
// restart that loads it all back (COORDINATOR_LOAD_IN_PROGRESS meanwhile).
//
// Every broker runs with group.initial.rebalance.delay.ms=0 except where the
// delay is the subject. Waits are on responses (a response resolves its
// request's promise when the connection writes it); tests about timeouts use
// short ones and wait for the response, bounded by the test's timeout.

import { afterEach, describe, expect, test } from "bun:test";
import { Connection } from "../src/net/connection.ts";
import { codecFor, encode, isFlexible } from "../src/protocol/codec.ts";
import { DeleteGroupsRequest, DeleteGroupsResponse } from "../src/protocol/messages/delete-groups.ts";
import { DeleteTopicsRequest, DeleteTopicsResponse } from "../src/protocol/messages/delete-topics.ts";
import { DescribeGroupsRequest, DescribeGroupsResponse } from "../src/protocol/messages/describe-groups.ts";
import { FindCoordinatorRequest, FindCoordinatorResponse } from "../src/protocol/messages/find-coordinator.ts";
import { HeartbeatRequest, HeartbeatResponse } from "../src/protocol/messages/heartbeat.ts";
import { JoinGroupRequest, JoinGroupResponse } from "../src/protocol/messages/join-group.ts";
import { LeaveGroupRequest, LeaveGroupResponse } from "../src/protocol/messages/leave-group.ts";
import { MetadataRequest, MetadataResponse } from "../src/protocol/messages/metadata.ts";
import { ListGroupsRequest, ListGroupsResponse } from "../src/protocol/messages/list-groups.ts";
import { OffsetCommitRequest, OffsetCommitResponse } from "../src/protocol/messages/offset-commit.ts";
import { OffsetDeleteRequest, OffsetDeleteResponse } from "../src/protocol/messages/offset-delete.ts";
import { OffsetFetchRequest, OffsetFetchResponse } from "../src/protocol/messages/offset-fetch.ts";
import { SyncGroupRequest, SyncGroupResponse } from "../src/protocol/messages/sync-group.ts";
import { Reader } from "../src/protocol/reader.ts";
import type { MessageDef } from "../src/protocol/schema.ts";
import { decodeRecords } from "../src/records/record.ts";
import { int16At, OFF_ATTRIBUTES } from "../src/records/batch.ts";
import { removeDir, requestFrame, startInProcess, tempDir, type InProcessBroker, type Msg } from "./helpers.ts";

const E = {
  NONE: 0,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  NOT_COORDINATOR: 16,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  MEMBER_ID_REQUIRED: 79,
  GROUP_MAX_SIZE_REACHED: 81,
  FENCED_INSTANCE_ID: 82,
  GROUP_SUBSCRIBED_TO_TOPIC: 86,
} as const;

const OFFSETS = "__consumer_offsets";
const BASE: Record<string, string> = { "group.initial.rebalance.delay.ms": "0", "offsets.topic.num.partitions": "3" };

// ---------------------------------------------------------------------------
// a client: one connection to the in-process broker, responses by correlation id

interface Pending<T> extends Promise<T> {
  /** the response arrived */
  readonly done: boolean;
}

class Client {
  readonly conn: Connection;
  private buf = new Uint8Array(0);
  private corr = 0;
  private readonly waiting = new Map<number, { res: MessageDef; v: number; resolve: (m: Msg) => void }>();
  /** bytes the broker wrote after this client went away (must stay 0) */
  writtenAfterClose = 0;
  private gone = false;

  constructor(
    kafka: InProcessBroker,
    readonly clientId = "coord-test",
    peer = "127.0.0.1:40000",
  ) {
    const socket = {
      data: undefined,
      write: (b: Uint8Array, offset = 0, length = b.length - offset) => {
        if (this.gone) this.writtenAfterClose += length;
        else this.onBytes(b.slice(offset, offset + length));
        return length;
      },
      end: () => {},
      pause: () => {},
      resume: () => {},
    };
    this.conn = new Connection(socket as never, kafka.broker, peer);
  }

  private onBytes(more: Uint8Array): void {
    const next = new Uint8Array(this.buf.length + more.length);
    next.set(this.buf);
    next.set(more, this.buf.length);
    this.buf = next;
    for (;;) {
      if (this.buf.length < 4) return;
      const size = new DataView(this.buf.buffer, this.buf.byteOffset).getInt32(0);
      if (this.buf.length < 4 + size) return;
      const frame = this.buf.slice(4, 4 + size);
      this.buf = this.buf.slice(4 + size);
      const r = new Reader(frame);
      const corr = r.int32();
      const w = this.waiting.get(corr);
      if (!w) throw new Error(`response with unknown correlation id ${corr}`);
      this.waiting.delete(corr);
      if (isFlexible(w.res, w.v)) r.uvarint(); // no tagged fields in our response headers
      const body = codecFor(w.res, w.v).read(r);
      if (r.remaining !== 0) throw new Error(`${w.res.name} v${w.v}: ${r.remaining} bytes left`);
      w.resolve(body);
    }
  }

  /** Sends a request at once; the promise resolves with the decoded response. */
  call(req: MessageDef, res: MessageDef, v: number, body: Msg): Pending<Msg> {
    const id = ++this.corr;
    let done = false;
    const p = new Promise<Msg>((resolve) => this.waiting.set(id, { res, v, resolve: (m) => ((done = true), resolve(m)) }));
    this.conn.onData(requestFrame(req.apiKey!, v, id, this.clientId, encode(req, v, body), isFlexible(req, v)));
    return Object.defineProperty(p, "done", { get: () => done }) as Pending<Msg>;
  }

  /** The client goes away (its socket closed). */
  close(): void {
    this.gone = true;
    this.conn.onClose();
  }
}

/** Lets every pending callback run once (a few macrotask turns): what would be answered at once is answered. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
}

const enc = new TextEncoder();

/** A ConsumerProtocolSubscription v0: version, topics, user data (null). */
function subscription(topics: string[]): Uint8Array {
  const parts: number[] = [0, 0, ...int32(topics.length)];
  for (const t of topics) {
    const b = enc.encode(t);
    parts.push(...int16(b.length), ...b);
  }
  parts.push(...int32(-1));
  return new Uint8Array(parts);
}
const int16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const int32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const bytes = (s: string) => enc.encode(s);

// ---------------------------------------------------------------------------
// requests

interface JoinOpts {
  memberId?: string;
  instanceId?: string | null;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  protocolType?: string;
  protocols?: [string, Uint8Array][];
  v?: number;
}

const DEFAULT_PROTOCOLS = (): [string, Uint8Array][] => [["range", subscription(["orders"])]];

function join(c: Client, groupId: string, o: JoinOpts = {}): Pending<Msg> {
  const v = o.v ?? 5;
  return c.call(JoinGroupRequest, JoinGroupResponse, v, {
    groupId,
    sessionTimeoutMs: o.sessionTimeoutMs ?? 10_000,
    rebalanceTimeoutMs: o.rebalanceTimeoutMs ?? 5_000,
    memberId: o.memberId ?? "",
    groupInstanceId: o.instanceId ?? null,
    protocolType: o.protocolType ?? "consumer",
    protocols: (o.protocols ?? DEFAULT_PROTOCOLS()).map(([name, metadata]) => ({ name, metadata })),
    reason: null,
  });
}

function sync(c: Client, groupId: string, generationId: number, memberId: string, assignments: [string, Uint8Array][] = [], o: { instanceId?: string | null; v?: number } = {}): Pending<Msg> {
  return c.call(SyncGroupRequest, SyncGroupResponse, o.v ?? 3, {
    groupId,
    generationId,
    memberId,
    groupInstanceId: o.instanceId ?? null,
    protocolType: null,
    protocolName: null,
    assignments: assignments.map(([m, assignment]) => ({ memberId: m, assignment })),
  });
}

async function heartbeat(c: Client, groupId: string, generationId: number, memberId: string, instanceId: string | null = null): Promise<number> {
  return (await c.call(HeartbeatRequest, HeartbeatResponse, 3, { groupId, generationId, memberId, groupInstanceId: instanceId })).errorCode;
}

function leave(c: Client, groupId: string, members: { memberId: string; groupInstanceId?: string | null }[], v = 3): Pending<Msg> {
  return c.call(LeaveGroupRequest, LeaveGroupResponse, v, {
    groupId,
    memberId: members[0]?.memberId ?? "",
    members: members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId ?? null, reason: null })),
  });
}

interface CommitOpts {
  generation?: number;
  memberId?: string;
  instanceId?: string | null;
  v?: number;
  retentionTimeMs?: number;
}

/** OffsetCommit; answers [topic, partition, errorCode] for every partition. */
async function commit(c: Client, groupId: string, offsets: [string, number, number][], o: CommitOpts = {}): Promise<[string, number, number][]> {
  const byTopic = new Map<string, [number, number][]>();
  for (const [t, p, off] of offsets) byTopic.set(t, [...(byTopic.get(t) ?? []), [p, off]]);
  const r = await c.call(OffsetCommitRequest, OffsetCommitResponse, o.v ?? 8, {
    groupId,
    generationIdOrMemberEpoch: o.generation ?? -1,
    memberId: o.memberId ?? "",
    groupInstanceId: o.instanceId ?? null,
    retentionTimeMs: o.retentionTimeMs ?? -1,
    topics: [...byTopic].map(([name, ps]) => ({
      name,
      partitions: ps.map(([partitionIndex, committedOffset]) => ({ partitionIndex, committedOffset, committedLeaderEpoch: 7, committedMetadata: `m${committedOffset}` })),
    })),
  });
  return r.topics.flatMap((t: Msg) => t.partitions.map((p: Msg) => [t.name, p.partitionIndex, p.errorCode]));
}

/** OffsetFetch v8 of one group (null: every committed partition): its error and [topic, partition, offset] sorted. */
async function fetchOffsets(c: Client, groupId: string, topics: { name: string; partitionIndexes: number[] }[] | null = null): Promise<{ errorCode: number; offsets: [string, number, number][] }> {
  const r = await c.call(OffsetFetchRequest, OffsetFetchResponse, 8, { groups: [{ groupId, topics }], requireStable: false });
  const g = r.groups[0];
  const offsets: [string, number, number][] = g.topics.flatMap((t: Msg) => t.partitions.map((p: Msg) => [t.name, p.partitionIndex, p.committedOffset]));
  offsets.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
  return { errorCode: g.errorCode, offsets };
}

async function describe1(c: Client, groupId: string): Promise<Msg> {
  return (await c.call(DescribeGroupsRequest, DescribeGroupsResponse, 4, { groups: [groupId], includeAuthorizedOperations: false })).groups[0];
}

async function listGroups(c: Client, states: string[] = []): Promise<Msg> {
  return c.call(ListGroupsRequest, ListGroupsResponse, 4, { statesFilter: states, typesFilter: [] });
}

async function deleteGroups(c: Client, groups: string[]): Promise<number[]> {
  const r = await c.call(DeleteGroupsRequest, DeleteGroupsResponse, 1, { groupsNames: groups });
  return r.results.map((x: Msg) => x.errorCode);
}

async function findCoordinator(c: Client, key: string): Promise<Msg> {
  return c.call(FindCoordinatorRequest, FindCoordinatorResponse, 3, { key, keyType: 0 });
}

// ---------------------------------------------------------------------------
// forming groups

interface Member {
  client: Client;
  id: string;
  generation: number;
  instanceId: string | null;
}

/** A new dynamic member's id: JoinGroup v4+ without one is MEMBER_ID_REQUIRED with the id to use. */
async function memberId(c: Client, groupId: string, o: JoinOpts = {}): Promise<string> {
  const r = await join(c, groupId, { ...o, memberId: "" });
  expect(r.errorCode).toBe(E.MEMBER_ID_REQUIRED);
  return r.memberId;
}

/**
 * n members join an empty group in one rebalance (their JoinGroups sent in
 * the same turn, before the initial delay's timer can fire), the first is the
 * leader and assigns `assign-<i>`; resolves once every SyncGroup answered.
 */
async function formGroup(kafka: InProcessBroker, groupId: string, n: number, o: JoinOpts & { instanceIds?: string[] } = {}): Promise<Member[]> {
  const clients = Array.from({ length: n }, (_, i) => new Client(kafka, `member-${i}`));
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(o.instanceIds ? "" : await memberId(clients[i]!, groupId, o));
  const joins = clients.map((c, i) => join(c, groupId, { ...o, memberId: ids[i], instanceId: o.instanceIds?.[i] ?? null }));
  const joined = await Promise.all(joins);
  for (const r of joined) expect(r.errorCode).toBe(E.NONE);
  const members = joined.map((r, i): Member => ({ client: clients[i]!, id: r.memberId, generation: r.generationId, instanceId: o.instanceIds?.[i] ?? null }));
  const leader = members.find((m) => m.id === joined[0]!.leader)!;
  expect(leader).toBeDefined();
  const followers = members.filter((m) => m !== leader).map((m) => sync(m.client, groupId, m.generation, m.id, [], { instanceId: m.instanceId }));
  const assignments = members.map((m, i): [string, Uint8Array] => [m.id, bytes(`assign-${i}`)]);
  const synced = await Promise.all([sync(leader.client, groupId, leader.generation, leader.id, assignments, { instanceId: leader.instanceId }), ...followers]);
  for (const r of synced) expect(r.errorCode).toBe(E.NONE);
  // the leader first in the list
  return [leader, ...members.filter((m) => m !== leader)];
}

// ---------------------------------------------------------------------------

let kafka: InProcessBroker | null = null;
let admin: Client;

async function start(overrides: Record<string, string> = {}, dir?: string): Promise<InProcessBroker> {
  kafka = await startInProcess({ ...BASE, ...overrides }, dir);
  admin = new Client(kafka, "admin");
  return kafka;
}

/** Stops the broker and keeps its log dir (a restart follows). */
async function stopKeepingDir(k: InProcessBroker): Promise<void> {
  k.broker.stopping = true;
  k.broker.wakeAll();
  await new Promise((r) => setImmediate(r));
  await k.broker.stop();
}

/** A started broker whose __consumer_offsets exists (the first FindCoordinator creates it), with topics orders (3) and events (1). */
async function ready(overrides: Record<string, string> = {}): Promise<InProcessBroker> {
  const k = await start(overrides);
  expect((await findCoordinator(admin, "any")).errorCode).toBe(E.NONE);
  k.storage.createTopic("orders", 3);
  k.storage.createTopic("events", 1);
  return k;
}

afterEach(async () => {
  await kafka?.close();
  kafka = null;
});

/** Kafka's GroupCoordinatorService.partitionFor: Utils.abs(String.hashCode) % n (Utils.abs: 0 for Integer.MIN_VALUE). */
function javaPartition(groupId: string, n: number): number {
  let h = 0;
  for (let i = 0; i < groupId.length; i++) h = (Math.imul(31, h) + groupId.charCodeAt(i)) | 0;
  return (h === -2147483648 ? 0 : Math.abs(h)) % n;
}

// ---------------------------------------------------------------------------

describe("joining", () => {
  test("before __consumer_offsets exists a group is NOT_COORDINATOR; FindCoordinator creates it and names this broker", async () => {
    const k = await start();
    const c = new Client(k);
    expect((await join(c, "g", { v: 3 })).errorCode).toBe(E.NOT_COORDINATOR);
    const f = await findCoordinator(c, "g");
    expect([f.errorCode, f.errorMessage, f.nodeId, f.host, f.port]).toEqual([E.NONE, "NONE", 1, "127.0.0.1", 9092]);
    // an empty group id is a group like any other (as Kafka 4.4); v4+ batches, with "" messages
    const f4 = await c.call(FindCoordinatorRequest, FindCoordinatorResponse, 4, { keyType: 0, coordinatorKeys: ["", "g"] });
    expect(f4.coordinators.map((x: Msg) => [x.key, x.errorCode, x.errorMessage, x.nodeId])).toEqual([
      ["", E.NONE, "", 1],
      ["g", E.NONE, "", 1],
    ]);
    expect(k.broker.topic(OFFSETS)?.partitions.length).toBe(3);
    const md = await c.call(MetadataRequest, MetadataResponse, 12, { topics: [{ topicId: new Uint8Array(16), name: OFFSETS }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect([md.topics[0].errorCode, md.topics[0].isInternal]).toEqual([E.NONE, true]);
  }, 10_000);

  test("JoinGroup v4+ without a member id: MEMBER_ID_REQUIRED with one; joining with it makes the member the leader of generation 1", async () => {
    const k = await ready();
    const c = new Client(k, "client-a");
    const first = await join(c, "g1", { v: 5 });
    expect(first.errorCode).toBe(E.MEMBER_ID_REQUIRED);
    expect(first.generationId).toBe(-1);
    expect(first.memberId).toMatch(/^client-a-[0-9a-f-]{36}$/);
    expect(first.members).toEqual([]);
    // the group exists, still Empty: the pending member is not a member yet
    expect((await describe1(admin, "g1")).groupState).toBe("Empty");
    const second = await join(c, "g1", { v: 5, memberId: first.memberId });
    expect(second.errorCode).toBe(E.NONE);
    expect(second.memberId).toBe(first.memberId);
    expect(second.generationId).toBe(1);
    expect(second.leader).toBe(first.memberId);
    expect(second.protocolName).toBe("range");
    expect(second.members.map((m: Msg) => [m.memberId, m.groupInstanceId, Buffer.from(m.metadata).toString("hex")])).toEqual([
      [first.memberId, null, Buffer.from(subscription(["orders"])).toString("hex")],
    ]);
    expect((await describe1(admin, "g1")).groupState).toBe("CompletingRebalance");
  }, 10_000);

  test("JoinGroup v3 joins at once: the member id is given with the join's answer", async () => {
    const k = await ready();
    const c = new Client(k, "old-client");
    const r = await join(c, "g3", { v: 3 });
    expect(r.errorCode).toBe(E.NONE);
    expect(r.memberId).toMatch(/^old-client-/);
    expect(r.generationId).toBe(1);
    expect(r.leader).toBe(r.memberId);
    expect(r.members.length).toBe(1);
  }, 10_000);

  test("a member joining again with an unknown id is UNKNOWN_MEMBER_ID; a member id for a group that does not exist too", async () => {
    const k = await ready();
    const c = new Client(k);
    expect((await join(c, "nobody-here", { memberId: "ghost" })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    await formGroup(k, "g", 1);
    expect((await join(c, "g", { memberId: "ghost" })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
  }, 10_000);

  test("two members: the leader is given both members' metadata, the follower an empty list; each syncs its own assignment", async () => {
    const k = await ready();
    const a = new Client(k, "a");
    const b = new Client(k, "b");
    const idA = await memberId(a, "g2");
    const ja = await join(a, "g2", { memberId: idA, protocols: [["range", subscription(["orders"])]] });
    expect(ja.generationId).toBe(1);
    expect((await sync(a, "g2", 1, idA, [[idA, bytes("all")]])).errorCode).toBe(E.NONE);
    // b joins: a rebalance starts, b waits for a to rejoin
    const idB = await memberId(b, "g2");
    const jb = join(b, "g2", { memberId: idB, protocols: [["range", subscription(["orders", "events"])]] });
    await settle();
    expect(jb.done).toBe(false);
    expect(await heartbeat(a, "g2", 1, idA)).toBe(E.REBALANCE_IN_PROGRESS);
    const ja2 = await join(a, "g2", { memberId: idA, protocols: [["range", subscription(["orders"])]] });
    const jb2 = await jb;
    expect([ja2.errorCode, jb2.errorCode]).toEqual([E.NONE, E.NONE]);
    expect([ja2.generationId, jb2.generationId]).toEqual([2, 2]);
    expect([ja2.leader, jb2.leader]).toEqual([idA, idA]);
    const leaderSees = new Map(ja2.members.map((m: Msg) => [m.memberId, Buffer.from(m.metadata).toString("hex")]));
    expect(leaderSees).toEqual(
      new Map([
        [idA, Buffer.from(subscription(["orders"])).toString("hex")],
        [idB, Buffer.from(subscription(["orders", "events"])).toString("hex")],
      ]),
    );
    expect(jb2.members).toEqual([]);
    // SyncGroup: the follower is parked until the leader's assignment, then each gets its own
    const sb = sync(b, "g2", 2, idB);
    await settle();
    expect(sb.done).toBe(false);
    const sa = await sync(a, "g2", 2, idA, [
      [idA, bytes("for-a")],
      [idB, bytes("for-b")],
    ]);
    expect([sa.errorCode, new TextDecoder().decode(sa.assignment)]).toEqual([E.NONE, "for-a"]);
    const sbr = await sb;
    expect([sbr.errorCode, new TextDecoder().decode(sbr.assignment)]).toEqual([E.NONE, "for-b"]);
    expect((await describe1(admin, "g2")).groupState).toBe("Stable");
    expect(await heartbeat(a, "g2", 2, idA)).toBe(E.NONE);
    expect(await heartbeat(b, "g2", 2, idB)).toBe(E.NONE);
  }, 10_000);

  test("a protocol every member supports is chosen; a member with none in common, or another protocol type, is INCONSISTENT_GROUP_PROTOCOL", async () => {
    const k = await ready();
    const meta = subscription(["orders"]);
    const clients = [new Client(k, "p0"), new Client(k, "p1"), new Client(k, "p2")];
    const protos: [string, Uint8Array][][] = [
      [["range", meta], ["roundrobin", meta]],
      [["roundrobin", meta], ["range", meta]],
      [["sticky", meta], ["roundrobin", meta]],
    ];
    const ids: string[] = [];
    for (const c of clients) ids.push(await memberId(c, "gp", { protocols: protos[0] }));
    const joined = await Promise.all(clients.map((c, i) => join(c, "gp", { memberId: ids[i], protocols: protos[i] })));
    // only roundrobin is supported by all three (range is not by p2), though p0 prefers range
    expect(joined.map((r) => [r.errorCode, r.protocolName])).toEqual([
      [E.NONE, "roundrobin"],
      [E.NONE, "roundrobin"],
      [E.NONE, "roundrobin"],
    ]);
    const leaderSees = joined.find((r) => r.members.length > 0)!.members;
    expect(leaderSees.length).toBe(3);
    const odd = new Client(k, "odd");
    const r = await join(odd, "gp", { protocols: [["cooperative-sticky", meta]] });
    expect([r.errorCode, r.memberId]).toEqual([E.INCONSISTENT_GROUP_PROTOCOL, ""]);
    const r2 = await join(odd, "gp", { protocolType: "connect", protocols: [["roundrobin", meta]] });
    expect(r2.errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    // an empty group takes any protocol type, but not none
    expect((await join(odd, "fresh", { protocolType: "" })).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    expect((await join(odd, "fresh", { protocols: [] })).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
  }, 10_000);

  test("INVALID_SESSION_TIMEOUT below group.min.session.timeout.ms and above group.max.session.timeout.ms", async () => {
    const k = await ready({ "group.min.session.timeout.ms": "1000", "group.max.session.timeout.ms": "20000" });
    const c = new Client(k);
    expect((await join(c, "gs", { sessionTimeoutMs: 999 })).errorCode).toBe(E.INVALID_SESSION_TIMEOUT);
    expect((await join(c, "gs", { sessionTimeoutMs: 20001 })).errorCode).toBe(E.INVALID_SESSION_TIMEOUT);
    expect((await join(c, "gs", { sessionTimeoutMs: 1000 })).errorCode).toBe(E.MEMBER_ID_REQUIRED);
    expect((await join(c, "gs", { sessionTimeoutMs: 20000 })).errorCode).toBe(E.MEMBER_ID_REQUIRED);
  }, 10_000);

  test("group.max.size: a member beyond it is GROUP_MAX_SIZE_REACHED; the members already in keep going", async () => {
    const k = await ready({ "group.max.size": "2" });
    const [a, b] = await formGroup(k, "gm", 2);
    const c = new Client(k, "third");
    const r = await join(c, "gm");
    expect([r.errorCode, r.memberId]).toEqual([E.GROUP_MAX_SIZE_REACHED, ""]);
    expect(await heartbeat(a!.client, "gm", 1, a!.id)).toBe(E.NONE);
    expect(await heartbeat(b!.client, "gm", 1, b!.id)).toBe(E.NONE);
    expect((await describe1(admin, "gm")).members.length).toBe(2);
  }, 10_000);
});

describe("rebalances", () => {
  test("a rebalance waits for the known members: completing as soon as all rejoined, else after the rebalance timeout without the missing ones", async () => {
    const k = await ready();
    const [a, b] = await formGroup(k, "gr", 2, { rebalanceTimeoutMs: 600, sessionTimeoutMs: 10_000 });
    // the leader rejoining starts a rebalance; b rejoins too: done at once
    const ja = join(a!.client, "gr", { memberId: a!.id, rebalanceTimeoutMs: 600 });
    await settle();
    expect(ja.done).toBe(false);
    expect(await heartbeat(b!.client, "gr", 1, b!.id)).toBe(E.REBALANCE_IN_PROGRESS);
    const jb = await join(b!.client, "gr", { memberId: b!.id, rebalanceTimeoutMs: 600 });
    expect([(await ja).generationId, jb.generationId]).toEqual([2, 2]);
    await Promise.all([sync(a!.client, "gr", 2, a!.id, []), sync(b!.client, "gr", 2, b!.id)]);
    // again, b does not rejoin: the join completes after the rebalance timeout, without b
    const t0 = performance.now();
    const r = await join(a!.client, "gr", { memberId: a!.id, rebalanceTimeoutMs: 600 });
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(590);
    expect(waited).toBeLessThan(3000);
    expect([r.errorCode, r.generationId, r.members.map((m: Msg) => m.memberId)]).toEqual([E.NONE, 3, [a!.id]]);
    expect(await heartbeat(b!.client, "gr", 2, b!.id)).toBe(E.UNKNOWN_MEMBER_ID);
    expect((await join(b!.client, "gr", { memberId: b!.id })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
  }, 10_000);

  test("group.initial.rebalance.delay.ms delays the first rebalance of an empty group", async () => {
    const k = await ready({ "group.initial.rebalance.delay.ms": "300" });
    const c = new Client(k);
    const t0 = performance.now();
    const r = await join(c, "gd", { v: 3, rebalanceTimeoutMs: 5000 });
    const waited = performance.now() - t0;
    expect(r.generationId).toBe(1);
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(2000);
  }, 10_000);

  test("a member joining during the initial delay extends it by another delay", async () => {
    const k = await ready({ "group.initial.rebalance.delay.ms": "300" });
    const a = new Client(k, "a");
    const b = new Client(k, "b");
    const t0 = performance.now();
    const ja = join(a, "gx", { v: 3, rebalanceTimeoutMs: 5000 });
    const jb = join(b, "gx", { v: 3, rebalanceTimeoutMs: 5000 }); // during the first delay
    const [ra, rb] = await Promise.all([ja, jb]);
    const waited = performance.now() - t0;
    expect([ra.generationId, rb.generationId]).toEqual([1, 1]);
    expect(ra.members.length + rb.members.length).toBe(2);
    // the first delay found a new member: one more delay, then done
    expect(waited).toBeGreaterThanOrEqual(590);
    expect(waited).toBeLessThan(2500);
  }, 10_000);

  test("the extensions of the initial delay are bounded by the rebalance timeout", async () => {
    // delay 500, rebalance timeout 600: the extension after a new member is min(500, 600-500) = 100
    const k = await ready({ "group.initial.rebalance.delay.ms": "500" });
    const a = new Client(k, "a");
    const b = new Client(k, "b");
    const t0 = performance.now();
    const ja = join(a, "gb", { v: 3, rebalanceTimeoutMs: 600 });
    const jb = join(b, "gb", { v: 3, rebalanceTimeoutMs: 600 });
    const [ra, rb] = await Promise.all([ja, jb]);
    const waited = performance.now() - t0;
    expect([ra.generationId, rb.generationId]).toEqual([1, 1]);
    expect(waited).toBeGreaterThanOrEqual(590);
    // a second full delay would end at 1000
    expect(waited).toBeLessThan(990);
  }, 10_000);

  test("Heartbeat: REBALANCE_IN_PROGRESS during a rebalance, ILLEGAL_GENERATION for another generation, UNKNOWN_MEMBER_ID for an unknown member", async () => {
    const k = await ready();
    const [a, b] = await formGroup(k, "gh", 2);
    expect(await heartbeat(a!.client, "gh", 1, a!.id)).toBe(E.NONE);
    expect(await heartbeat(a!.client, "gh", 0, a!.id)).toBe(E.ILLEGAL_GENERATION);
    expect(await heartbeat(a!.client, "gh", 2, a!.id)).toBe(E.ILLEGAL_GENERATION);
    expect(await heartbeat(a!.client, "gh", 1, "nobody")).toBe(E.UNKNOWN_MEMBER_ID);
    expect(await heartbeat(a!.client, "no-such-group", 1, a!.id)).toBe(E.UNKNOWN_MEMBER_ID);
    const ja = join(a!.client, "gh", { memberId: a!.id });
    await settle();
    expect(await heartbeat(b!.client, "gh", 1, b!.id)).toBe(E.REBALANCE_IN_PROGRESS);
    expect((await describe1(admin, "gh")).groupState).toBe("PreparingRebalance");
    const jb = await join(b!.client, "gh", { memberId: b!.id });
    expect((await ja).generationId).toBe(2);
    // CompletingRebalance: heartbeats are fine at the new generation, the old one is ILLEGAL_GENERATION
    expect((await describe1(admin, "gh")).groupState).toBe("CompletingRebalance");
    expect(await heartbeat(b!.client, "gh", jb.generationId, b!.id)).toBe(E.NONE);
    expect(await heartbeat(b!.client, "gh", 1, b!.id)).toBe(E.ILLEGAL_GENERATION);
  }, 10_000);

  test("a member that stops heartbeating expires after its session timeout and the group rebalances without it", async () => {
    const k = await ready({ "group.min.session.timeout.ms": "100" });
    const [a, b] = await formGroup(k, "ge", 2, { sessionTimeoutMs: 300, rebalanceTimeoutMs: 3000 });
    // a heartbeats every 100 ms; b says nothing: a is told to rejoin once b's session ran out
    const t0 = performance.now();
    let code: number = E.NONE;
    while (code === E.NONE && performance.now() - t0 < 5000) {
      await new Promise((r) => setTimeout(r, 100));
      code = await heartbeat(a!.client, "ge", 1, a!.id);
    }
    const waited = performance.now() - t0;
    expect(code).toBe(E.REBALANCE_IN_PROGRESS);
    expect(waited).toBeGreaterThanOrEqual(290);
    const d = await describe1(admin, "ge");
    expect([d.groupState, d.members.map((m: Msg) => m.memberId)]).toEqual(["PreparingRebalance", [a!.id]]);
    const r = await join(a!.client, "ge", { memberId: a!.id, sessionTimeoutMs: 300 });
    expect([r.errorCode, r.generationId, r.members.map((m: Msg) => m.memberId)]).toEqual([E.NONE, 2, [a!.id]]);
    expect(await heartbeat(b!.client, "ge", 1, b!.id)).toBe(E.UNKNOWN_MEMBER_ID);
  }, 10_000);

  test("the last member expiring leaves the group Empty at the next generation", async () => {
    const k = await ready({ "group.min.session.timeout.ms": "100" });
    await formGroup(k, "g-alone", 1, { sessionTimeoutMs: 200 });
    const t0 = performance.now();
    let d = await describe1(admin, "g-alone");
    while (d.groupState !== "Empty" && performance.now() - t0 < 5000) {
      await new Promise((r) => setTimeout(r, 50));
      d = await describe1(admin, "g-alone");
    }
    expect([d.groupState, d.members]).toEqual(["Empty", []]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
    expect(k.broker.groups.group("g-alone")?.generationId).toBe(2);
  }, 10_000);

  test("LeaveGroup starts a rebalance at once; v3 leaves a batch, each member answered", async () => {
    const k = await ready();
    const [a, b, c] = await formGroup(k, "gl", 3);
    // v0: one member
    const r0 = await leave(c!.client, "gl", [{ memberId: c!.id }], 0);
    expect(r0.errorCode).toBe(E.NONE);
    expect((await describe1(admin, "gl")).groupState).toBe("PreparingRebalance");
    expect(await heartbeat(a!.client, "gl", 1, a!.id)).toBe(E.REBALANCE_IN_PROGRESS);
    const [ja, jb] = await Promise.all([join(a!.client, "gl", { memberId: a!.id }), join(b!.client, "gl", { memberId: b!.id })]);
    expect([ja.generationId, jb.generationId]).toEqual([2, 2]);
    await Promise.all([sync(a!.client, "gl", 2, a!.id, []), sync(b!.client, "gl", 2, b!.id)]);
    // v3: both at once, and one nobody knows
    const r3 = await leave(admin, "gl", [{ memberId: a!.id }, { memberId: "nobody" }, { memberId: b!.id }], 3);
    expect(r3.errorCode).toBe(E.NONE);
    expect(r3.members.map((m: Msg) => [m.memberId, m.errorCode])).toEqual([
      [a!.id, E.NONE],
      ["nobody", E.UNKNOWN_MEMBER_ID],
      [b!.id, E.NONE],
    ]);
    // nobody is left to wait for: the rebalance completes at once into Empty
    const d = await describe1(admin, "gl");
    expect([d.groupState, d.members]).toEqual(["Empty", []]);
    expect(k.broker.groups.group("gl")?.generationId).toBe(3);
    // a group nobody knows: v3+ answers each member UNKNOWN_MEMBER_ID, v0-2 the top-level error
    const unknown = await leave(admin, "no-such-group", [{ memberId: "x" }, { memberId: "", groupInstanceId: "i" }], 3);
    expect([unknown.errorCode, unknown.members.map((m: Msg) => [m.memberId, m.groupInstanceId, m.errorCode])]).toEqual([
      E.NONE,
      [
        ["x", null, E.UNKNOWN_MEMBER_ID],
        ["", "i", E.UNKNOWN_MEMBER_ID],
      ],
    ]);
    expect((await leave(admin, "no-such-group", [{ memberId: "x" }], 0)).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
  }, 10_000);

  test("SyncGroup: the wrong generation is ILLEGAL_GENERATION, an unknown member UNKNOWN_MEMBER_ID, during PreparingRebalance REBALANCE_IN_PROGRESS", async () => {
    const k = await ready();
    const [a, b] = await formGroup(k, "gsy", 2);
    expect((await sync(a!.client, "gsy", 9, a!.id)).errorCode).toBe(E.ILLEGAL_GENERATION);
    expect((await sync(a!.client, "gsy", 1, "nobody")).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect((await sync(a!.client, "nope", 1, a!.id)).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    // Stable: a sync again is answered at once with the member's assignment
    const again = await sync(b!.client, "gsy", 1, b!.id);
    expect([again.errorCode, new TextDecoder().decode(again.assignment)]).toEqual([E.NONE, "assign-1"]);
    const ja = join(a!.client, "gsy", { memberId: a!.id });
    await settle();
    expect((await sync(b!.client, "gsy", 1, b!.id)).errorCode).toBe(E.REBALANCE_IN_PROGRESS);
    await Promise.all([ja, join(b!.client, "gsy", { memberId: b!.id })]);
  }, 10_000);

  test("a new rebalance during CompletingRebalance answers the parked SyncGroups REBALANCE_IN_PROGRESS", async () => {
    const k = await ready();
    const [a, b] = await formGroup(k, "gcr", 2);
    const [ja, jb] = await Promise.all([join(a!.client, "gcr", { memberId: a!.id }), join(b!.client, "gcr", { memberId: b!.id })]);
    expect(ja.generationId).toBe(2);
    const sb = sync(b!.client, "gcr", 2, b!.id);
    await settle();
    expect(sb.done).toBe(false);
    // a third member joins before the leader's assignment
    const c = new Client(k, "late");
    const jc = join(c, "gcr", { v: 3 });
    const rb = await sb;
    expect([rb.errorCode, rb.assignment.length]).toEqual([E.REBALANCE_IN_PROGRESS, 0]);
    const [ja3, jb3, jc3] = await Promise.all([join(a!.client, "gcr", { memberId: a!.id }), join(b!.client, "gcr", { memberId: b!.id }), jc]);
    expect([ja3.generationId, jb3.generationId, jc3.generationId]).toEqual([3, 3, 3]);
  }, 10_000);
});

describe("static membership", () => {
  test("rejoining with the same group.instance.id and no member id replaces the old member without a rebalance; the old id is fenced", async () => {
    const k = await ready();
    const [a, b] = await formGroup(k, "gst", 2, { instanceIds: ["inst-a", "inst-b"] });
    expect([a!.generation, b!.generation]).toEqual([1, 1]);
    // b restarts: a new connection, no member id
    const b2 = new Client(k, "member-1");
    const r = await join(b2, "gst", { instanceId: "inst-b" });
    expect(r.errorCode).toBe(E.NONE);
    expect(r.memberId).not.toBe(b!.id);
    expect(r.memberId).toMatch(/^inst-b-/);
    expect(r.generationId).toBe(1); // no rebalance
    expect(r.leader).toBe(a!.id);
    expect(r.members).toEqual([]);
    const d = await describe1(admin, "gst");
    expect(d.groupState).toBe("Stable");
    expect(new Map(d.members.map((m: Msg) => [m.groupInstanceId, m.memberId]))).toEqual(new Map([["inst-a", a!.id], ["inst-b", r.memberId]]));
    // the assignment is kept: the new id syncs it at the same generation
    const s = await sync(b2, "gst", 1, r.memberId, [], { instanceId: "inst-b" });
    expect([s.errorCode, new TextDecoder().decode(s.assignment)]).toEqual([E.NONE, "assign-1"]);
    expect(await heartbeat(b2, "gst", 1, r.memberId, "inst-b")).toBe(E.NONE);
    expect(await heartbeat(a!.client, "gst", 1, a!.id, "inst-a")).toBe(E.NONE);
    // the old id is fenced everywhere
    expect(await heartbeat(b!.client, "gst", 1, b!.id, "inst-b")).toBe(E.FENCED_INSTANCE_ID);
    expect((await sync(b!.client, "gst", 1, b!.id, [], { instanceId: "inst-b" })).errorCode).toBe(E.FENCED_INSTANCE_ID);
    expect(await commit(b!.client, "gst", [["orders", 0, 5]], { generation: 1, memberId: b!.id, instanceId: "inst-b" })).toEqual([["orders", 0, E.FENCED_INSTANCE_ID]]);
    expect(await commit(b2, "gst", [["orders", 0, 5]], { generation: 1, memberId: r.memberId, instanceId: "inst-b" })).toEqual([["orders", 0, E.NONE]]);
    // without its instance id the old member is simply unknown
    expect(await heartbeat(b!.client, "gst", 1, b!.id)).toBe(E.UNKNOWN_MEMBER_ID);
  }, 10_000);

  test("a static member's parked JoinGroup is fenced when the same instance joins again", async () => {
    const k = await ready();
    const [a, b, c] = await formGroup(k, "gsf", 3, { instanceIds: ["i-a", "i-b", "i-c"], rebalanceTimeoutMs: 5000 });
    // a rebalance (the leader rejoins); b rejoins and is parked waiting for c
    const ja = join(a!.client, "gsf", { memberId: a!.id, instanceId: "i-a" });
    const jb = join(b!.client, "gsf", { memberId: b!.id, instanceId: "i-b" });
    await settle();
    expect(ja.done || jb.done).toBe(false);
    // b restarts and joins again before the rebalance is done: its old parked JoinGroup is fenced
    const b2 = new Client(k, "b-again");
    const jb2 = join(b2, "gsf", { instanceId: "i-b" });
    const old = await jb;
    expect([old.errorCode, old.memberId]).toEqual([E.FENCED_INSTANCE_ID, b!.id]);
    const [ra, rb2, rc] = await Promise.all([ja, jb2, join(c!.client, "gsf", { memberId: c!.id, instanceId: "i-c" })]);
    expect([ra.errorCode, rb2.errorCode, rc.errorCode]).toEqual([E.NONE, E.NONE, E.NONE]);
    expect([ra.generationId, rb2.generationId, rc.generationId]).toEqual([2, 2, 2]);
    expect(rb2.memberId).not.toBe(b!.id);
    expect(ra.members.map((m: Msg) => [m.groupInstanceId, m.memberId]).sort()).toEqual([
      ["i-a", a!.id],
      ["i-b", rb2.memberId],
      ["i-c", c!.id],
    ]);
  }, 10_000);

  test("a static member that does not rejoin stays in the group through the rebalance (only dynamic ones are dropped)", async () => {
    const k = await ready();
    const [a, b] = await formGroup(k, "gsk", 2, { instanceIds: ["i-a", "i-b"], rebalanceTimeoutMs: 300 });
    const r = await join(a!.client, "gsk", { memberId: a!.id, instanceId: "i-a", rebalanceTimeoutMs: 300 });
    expect([r.errorCode, r.generationId]).toEqual([E.NONE, 2]);
    expect(r.members.map((m: Msg) => m.groupInstanceId).sort()).toEqual(["i-a", "i-b"]);
    expect(b!.id).toBe(r.members.find((m: Msg) => m.groupInstanceId === "i-b").memberId);
  }, 10_000);
});

describe("parked requests and closed connections", () => {
  test("a new member's parked JoinGroup whose connection closes is removed at once; the remaining members' rebalance completes", async () => {
    const k = await ready();
    const [a, b] = await formGroup(k, "gc", 2);
    const c = new Client(k, "short-lived");
    const idC = await memberId(c, "gc");
    const jc = join(c, "gc", { memberId: idC });
    const ja = join(a!.client, "gc", { memberId: a!.id });
    await settle();
    expect(ja.done || jc.done).toBe(false);
    expect((await describe1(admin, "gc")).members.length).toBe(3);
    c.close();
    // gone at once, not after its join timeout
    const d = await describe1(admin, "gc");
    expect(d.members.map((m: Msg) => m.memberId).sort()).toEqual([a!.id, b!.id].sort());
    const rb = await join(b!.client, "gc", { memberId: b!.id });
    const ra = await ja;
    expect([ra.errorCode, rb.errorCode, ra.generationId]).toEqual([E.NONE, E.NONE, 2]);
    expect(ra.members.map((m: Msg) => m.memberId).sort()).toEqual([a!.id, b!.id].sort());
    expect(c.writtenAfterClose).toBe(0);
  }, 10_000);

  test("an existing member whose parked JoinGroup's connection closed is dropped at the rebalance timeout; the others go on", async () => {
    const k = await ready();
    const [a, b, c] = await formGroup(k, "gc2", 3, { rebalanceTimeoutMs: 400 });
    const ja = join(a!.client, "gc2", { memberId: a!.id, rebalanceTimeoutMs: 400 });
    const jb = join(b!.client, "gc2", { memberId: b!.id, rebalanceTimeoutMs: 400 });
    await settle();
    b!.client.close();
    const rc = await join(c!.client, "gc2", { memberId: c!.id, rebalanceTimeoutMs: 400 });
    const ra = await ja;
    expect([ra.generationId, rc.generationId]).toEqual([2, 2]);
    expect(ra.members.map((m: Msg) => m.memberId).sort()).toEqual([a!.id, c!.id].sort());
    expect(jb.done).toBe(false); // never answered on a closed connection
    expect(b!.client.writtenAfterClose).toBe(0);
  }, 10_000);

  test("a parked SyncGroup whose connection closes does not stop the leader's assignment reaching the others", async () => {
    const k = await ready();
    const [a, b, c] = await formGroup(k, "gc3", 3);
    const joins = await Promise.all([a!, b!, c!].map((m) => join(m.client, "gc3", { memberId: m.id })));
    expect(joins.map((j) => j.generationId)).toEqual([2, 2, 2]);
    const sb = sync(b!.client, "gc3", 2, b!.id);
    const sc = sync(c!.client, "gc3", 2, c!.id);
    await settle();
    b!.client.close();
    const sa = await sync(a!.client, "gc3", 2, a!.id, [
      [a!.id, bytes("A")],
      [b!.id, bytes("B")],
      [c!.id, bytes("C")],
    ]);
    expect([sa.errorCode, new TextDecoder().decode((await sc).assignment)]).toEqual([E.NONE, "C"]);
    expect(sb.done).toBe(false);
    expect(b!.client.writtenAfterClose).toBe(0);
    expect((await describe1(admin, "gc3")).groupState).toBe("Stable");
  }, 10_000);
});

describe("committed offsets", () => {
  test("generation -1 and no member id commit for a group with no members; OffsetFetch gives them back, -1 where nothing was committed", async () => {
    const k = await ready();
    const c = new Client(k);
    expect(await commit(c, "simple", [["orders", 0, 10], ["orders", 2, 12], ["events", 0, 3]])).toEqual([
      ["orders", 0, E.NONE],
      ["orders", 2, E.NONE],
      ["events", 0, E.NONE],
    ]);
    const f = await fetchOffsets(c, "simple", [{ name: "orders", partitionIndexes: [0, 1, 2] }]);
    expect(f).toEqual({ errorCode: E.NONE, offsets: [["orders", 0, 10], ["orders", 1, -1], ["orders", 2, 12]] });
    // the commit made the group, Empty and without a protocol type
    const d = await describe1(admin, "simple");
    expect([d.errorCode, d.groupState, d.protocolType]).toEqual([E.NONE, "Empty", ""]);
    // the leader epoch and metadata come back too (v7)
    const r7 = await c.call(OffsetFetchRequest, OffsetFetchResponse, 7, { groupId: "simple", topics: [{ name: "orders", partitionIndexes: [2] }], requireStable: false });
    expect(r7.topics[0].partitions[0]).toEqual({ partitionIndex: 2, committedOffset: 12, committedLeaderEpoch: 7, metadata: "m12", errorCode: E.NONE });
    // a partition or topic that does not exist
    expect(await commit(c, "simple", [["orders", 9, 1], ["nope", 0, 1]])).toEqual([
      ["orders", 9, E.UNKNOWN_TOPIC_OR_PARTITION],
      ["nope", 0, E.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    // a generation for a group that does not exist: GROUP_ID_NOT_FOUND from v9, ILLEGAL_GENERATION before
    expect(await commit(c, "no-such", [["orders", 0, 1]], { generation: 1, memberId: "m", v: 9 })).toEqual([["orders", 0, E.GROUP_ID_NOT_FOUND]]);
    expect(await commit(c, "no-such", [["orders", 0, 1]], { generation: 1, memberId: "m", v: 8 })).toEqual([["orders", 0, E.ILLEGAL_GENERATION]]);
  }, 10_000);

  test("the empty group id: OffsetCommit, OffsetFetch, DescribeGroups and DeleteGroups take it (as Kafka, for backwards compatibility); the membership APIs are INVALID_GROUP_ID", async () => {
    const k = await ready();
    const c = new Client(k);
    expect(await commit(c, "", [["orders", 0, 3]])).toEqual([["orders", 0, E.NONE]]);
    expect(await fetchOffsets(c, "")).toEqual({ errorCode: E.NONE, offsets: [["orders", 0, 3]] });
    const d = await describe1(c, "");
    expect([d.errorCode, d.groupId, d.groupState]).toEqual([E.NONE, "", "Empty"]);
    expect((await listGroups(c)).groups.map((g: Msg) => g.groupId)).toEqual([""]);
    expect((await join(c, "", { v: 3 })).errorCode).toBe(24);
    expect(await heartbeat(c, "", 1, "m")).toBe(24);
    expect((await sync(c, "", 1, "m")).errorCode).toBe(24);
    expect((await leave(c, "", [{ memberId: "m" }])).errorCode).toBe(24);
    const od = await c.call(OffsetDeleteRequest, OffsetDeleteResponse, 0, { groupId: "", topics: [{ name: "orders", partitions: [{ partitionIndex: 0 }] }] });
    expect(od.errorCode).toBe(24);
    expect(await deleteGroups(c, [""])).toEqual([E.NONE]);
    expect(await fetchOffsets(c, "")).toEqual({ errorCode: E.NONE, offsets: [] });
    expect(await deleteGroups(c, [""])).toEqual([E.GROUP_ID_NOT_FOUND]);
  }, 10_000);

  test("OffsetFetch with null topics answers every committed partition (v7 and v8)", async () => {
    const k = await ready();
    const c = new Client(k);
    await commit(c, "all", [["orders", 1, 5], ["events", 0, 6], ["orders", 0, 4]]);
    expect(await fetchOffsets(c, "all", null)).toEqual({ errorCode: E.NONE, offsets: [["events", 0, 6], ["orders", 0, 4], ["orders", 1, 5]] });
    const r7 = await c.call(OffsetFetchRequest, OffsetFetchResponse, 7, { groupId: "all", topics: null, requireStable: false });
    expect(r7.errorCode).toBe(E.NONE);
    const flat = r7.topics.flatMap((t: Msg) => t.partitions.map((p: Msg) => `${t.name}-${p.partitionIndex}=${p.committedOffset}`)).sort();
    expect(flat).toEqual(["events-0=6", "orders-0=4", "orders-1=5"]);
    // a group nobody committed for: nothing
    expect(await fetchOffsets(c, "never", null)).toEqual({ errorCode: E.NONE, offsets: [] });
  }, 10_000);

  test("a member's commit checks its generation and member id; during CompletingRebalance it is REBALANCE_IN_PROGRESS", async () => {
    const k = await ready();
    const [a, b] = await formGroup(k, "gco", 2);
    const at = (gen: number, id: string, instanceId: string | null = null) => ({ generation: gen, memberId: id, instanceId });
    expect(await commit(a!.client, "gco", [["orders", 0, 1]], at(1, a!.id))).toEqual([["orders", 0, E.NONE]]);
    expect(await commit(a!.client, "gco", [["orders", 0, 1]], at(2, a!.id))).toEqual([["orders", 0, E.ILLEGAL_GENERATION]]);
    expect(await commit(a!.client, "gco", [["orders", 0, 1]], at(1, "stranger"))).toEqual([["orders", 0, E.UNKNOWN_MEMBER_ID]]);
    // a group with members refuses a commit from outside (generation -1, no member id)
    expect(await commit(a!.client, "gco", [["orders", 0, 1]], at(-1, ""))).toEqual([["orders", 0, E.UNKNOWN_MEMBER_ID]]);
    // PreparingRebalance: the current generation may still commit
    const ja = join(a!.client, "gco", { memberId: a!.id });
    await settle();
    expect(await commit(b!.client, "gco", [["orders", 1, 2]], at(1, b!.id))).toEqual([["orders", 1, E.NONE]]);
    await Promise.all([ja, join(b!.client, "gco", { memberId: b!.id })]);
    // CompletingRebalance: not until the assignment is known
    expect(await commit(b!.client, "gco", [["orders", 1, 3]], at(2, b!.id))).toEqual([["orders", 1, E.REBALANCE_IN_PROGRESS]]);
    expect(await commit(b!.client, "gco", [["orders", 1, 3]], at(1, b!.id))).toEqual([["orders", 1, E.ILLEGAL_GENERATION]]);
    await Promise.all([sync(a!.client, "gco", 2, a!.id, []), sync(b!.client, "gco", 2, b!.id)]);
    expect(await commit(b!.client, "gco", [["orders", 1, 3]], at(2, b!.id))).toEqual([["orders", 1, E.NONE]]);
    expect((await fetchOffsets(admin, "gco")).offsets).toEqual([["orders", 0, 1], ["orders", 1, 3]]);
  }, 10_000);

  test("OffsetDelete: an empty group's offsets go; a Stable consumer group's subscribed topic is GROUP_SUBSCRIBED_TO_TOPIC, others go", async () => {
    const k = await ready();
    const c = new Client(k);
    const del = async (groupId: string, topics: [string, number[]][]) => {
      const r = await c.call(OffsetDeleteRequest, OffsetDeleteResponse, 0, { groupId, topics: topics.map(([name, ps]) => ({ name, partitions: ps.map((partitionIndex) => ({ partitionIndex })) })) });
      return { errorCode: r.errorCode, partitions: r.topics.flatMap((t: Msg) => t.partitions.map((p: Msg) => [t.name, p.partitionIndex, p.errorCode])) };
    };
    await commit(c, "od", [["orders", 0, 1], ["orders", 1, 2], ["events", 0, 3]]);
    expect(await del("od", [["orders", [0, 2]], ["nope", [0]]])).toEqual({
      errorCode: E.NONE,
      partitions: [
        ["nope", 0, E.UNKNOWN_TOPIC_OR_PARTITION],
        ["orders", 0, E.NONE],
        ["orders", 2, E.NONE],
      ],
    });
    expect((await fetchOffsets(c, "od")).offsets).toEqual([["events", 0, 3], ["orders", 1, 2]]);
    // a partition beyond the topic's: refused first, as KafkaApis lists them, then the coordinator's answers by topic
    expect(await del("od", [["events", [5, 0]], ["nope", [1]], ["orders", [1]]])).toEqual({
      errorCode: E.NONE,
      partitions: [
        ["events", 5, E.UNKNOWN_TOPIC_OR_PARTITION],
        ["events", 0, E.NONE],
        ["nope", 1, E.UNKNOWN_TOPIC_OR_PARTITION],
        ["orders", 1, E.NONE],
      ],
    });
    expect((await fetchOffsets(c, "od")).offsets).toEqual([]);
    expect(await del("no-such-group", [["orders", [0]]])).toEqual({ errorCode: E.GROUP_ID_NOT_FOUND, partitions: [] });
    // a Stable consumer group subscribed to orders only
    const [m] = await formGroup(k, "od-active", 1, { protocols: [["range", subscription(["orders"])]] });
    await commit(m!.client, "od-active", [["orders", 0, 9], ["events", 0, 8]], { generation: 1, memberId: m!.id });
    expect(await del("od-active", [["orders", [0]], ["events", [0]]])).toEqual({
      errorCode: E.NONE,
      partitions: [
        ["orders", 0, E.GROUP_SUBSCRIBED_TO_TOPIC],
        ["events", 0, E.NONE],
      ],
    });
    expect((await fetchOffsets(c, "od-active")).offsets).toEqual([["orders", 0, 9]]);
  }, 10_000);

  test("DeleteTopics drops every group's offsets of that topic (tombstones written), the others stay", async () => {
    const k = await ready();
    const c = new Client(k);
    await commit(c, "dt-1", [["orders", 0, 1], ["events", 0, 2]]);
    await commit(c, "dt-2", [["orders", 2, 3]]);
    const r = await c.call(DeleteTopicsRequest, DeleteTopicsResponse, 4, { topicNames: ["orders"], timeoutMs: 5000 });
    expect(r.responses.map((x: Msg) => [x.name, x.errorCode])).toEqual([["orders", E.NONE]]);
    expect((await fetchOffsets(c, "dt-1")).offsets).toEqual([["events", 0, 2]]);
    expect((await fetchOffsets(c, "dt-2")).offsets).toEqual([]);
    const tomb = offsetRecords(k, "dt-2").filter((x) => x.value === null);
    expect(tomb.map((x) => [x.group, x.topic, x.partition])).toEqual([["dt-2", "orders", 2]]);
    // a topic of that name made again does not bring them back
    k.storage.createTopic("orders", 3);
    expect((await fetchOffsets(c, "dt-1", [{ name: "orders", partitionIndexes: [0] }])).offsets).toEqual([["orders", 0, -1]]);
  }, 10_000);
});

describe("DescribeGroups, ListGroups, DeleteGroups", () => {
  test("DescribeGroups and ListGroups show the state, protocol and members; an unknown group is Dead", async () => {
    const k = await ready();
    const [a, b] = await formGroup(k, "dg", 2);
    await commit(admin, "dg-simple", [["orders", 0, 1]]);
    const d = await describe1(admin, "dg");
    expect([d.errorCode, d.groupState, d.protocolType, d.protocolData]).toEqual([E.NONE, "Stable", "consumer", "range"]);
    expect(
      d.members
        .map((m: Msg) => [m.memberId, m.clientId, m.clientHost, new TextDecoder().decode(m.memberAssignment), Buffer.from(m.memberMetadata).toString("hex")])
        .sort((x: string[], y: string[]) => x[1]!.localeCompare(y[1]!)),
    ).toEqual([
      [a!.id, "member-0", "/127.0.0.1", "assign-0", Buffer.from(subscription(["orders"])).toString("hex")],
      [b!.id, "member-1", "/127.0.0.1", "assign-1", Buffer.from(subscription(["orders"])).toString("hex")],
    ]);
    const unknown = await describe1(admin, "never-heard-of");
    expect([unknown.errorCode, unknown.groupState, unknown.members]).toEqual([E.NONE, "Dead", []]);
    const l = await listGroups(admin);
    expect(l.errorCode).toBe(E.NONE);
    expect(l.groups.map((g: Msg) => [g.groupId, g.protocolType, g.groupState]).sort()).toEqual([
      ["dg", "consumer", "Stable"],
      ["dg-simple", "", "Empty"],
    ]);
    const stable = await listGroups(admin, ["stable"]);
    expect(stable.groups.map((g: Msg) => g.groupId)).toEqual(["dg"]);
  }, 10_000);

  test("DeleteGroups: NON_EMPTY_GROUP while it has members; once they left it is deleted with its offsets; then GROUP_ID_NOT_FOUND", async () => {
    const k = await ready();
    const [a] = await formGroup(k, "del", 1);
    await commit(a!.client, "del", [["orders", 0, 5]], { generation: 1, memberId: a!.id });
    expect(await deleteGroups(admin, ["del", "nope", ""])).toEqual([E.NON_EMPTY_GROUP, E.GROUP_ID_NOT_FOUND, E.GROUP_ID_NOT_FOUND]);
    expect((await leave(a!.client, "del", [{ memberId: a!.id }])).errorCode).toBe(E.NONE);
    expect((await describe1(admin, "del")).groupState).toBe("Empty");
    expect(await deleteGroups(admin, ["del"])).toEqual([E.NONE]);
    expect((await fetchOffsets(admin, "del")).offsets).toEqual([]);
    expect((await describe1(admin, "del")).groupState).toBe("Dead");
    expect((await listGroups(admin)).groups).toEqual([]);
    expect(await deleteGroups(admin, ["del"])).toEqual([E.GROUP_ID_NOT_FOUND]);
    // a name listed twice is answered once
    await commit(admin, "del-twice", [["orders", 0, 1]]);
    const twice = await admin.call(DeleteGroupsRequest, DeleteGroupsResponse, 2, { groupsNames: ["del-twice", "nope", "del-twice"] });
    expect(twice.results.map((r: Msg) => [r.groupId, r.errorCode])).toEqual([
      ["del-twice", E.NONE],
      ["nope", E.GROUP_ID_NOT_FOUND],
    ]);
    // tombstones: the offset, then the group
    const recs = allRecords(k, "del").slice(-2);
    expect(recs.map((r) => [r.keyVersion, r.value === null])).toEqual([
      [1, true],
      [2, true],
    ]);
  }, 10_000);
});

// ---------------------------------------------------------------------------
// __consumer_offsets, read back independently of our codec

interface RawRecord {
  partition: number;
  keyVersion: number;
  group: string;
  topic?: string;
  /** the offset commit's partition */
  partition_?: number;
  valueVersion: number | null;
  value: Msg | null;
}

/** A big-endian cursor over Kafka's non-flexible record bytes. */
class Cursor {
  p = 0;
  constructor(private readonly b: Uint8Array) {}
  private get v() {
    return new DataView(this.b.buffer, this.b.byteOffset, this.b.byteLength);
  }
  i16(): number {
    const x = this.v.getInt16(this.p);
    this.p += 2;
    return x;
  }
  i32(): number {
    const x = this.v.getInt32(this.p);
    this.p += 4;
    return x;
  }
  i64(): number {
    const x = Number(this.v.getBigInt64(this.p));
    this.p += 8;
    return x;
  }
  str(): string | null {
    const n = this.i16();
    if (n < 0) return null;
    const s = new TextDecoder().decode(this.b.subarray(this.p, this.p + n));
    this.p += n;
    return s;
  }
  bytes(): Uint8Array | null {
    const n = this.i32();
    if (n < 0) return null;
    const s = this.b.slice(this.p, this.p + n);
    this.p += n;
    return s;
  }
  end(): void {
    if (this.p !== this.b.length) throw new Error(`${this.b.length - this.p} bytes left`);
  }
}

/** Every record of __consumer_offsets, decoded per Kafka's OffsetCommitKey/Value and GroupMetadataKey/Value JSON. */
function readOffsetsTopic(k: InProcessBroker): (RawRecord & { attributes: number })[] {
  const out: (RawRecord & { attributes: number })[] = [];
  const n = k.broker.topic(OFFSETS)!.partitions.length;
  for (let p = 0; p < n; p++) {
    const part = k.storage.getPartition(OFFSETS, p)!;
    part.log.forEachBatch(part.logStartOffset, (batch) => {
      const attributes = int16At(batch, OFF_ATTRIBUTES);
      for (const r of decodeRecords(batch)) {
        const key = new Cursor(r.key!);
        const keyVersion = key.i16();
        const rec: RawRecord & { attributes: number } = { partition: p, keyVersion, group: "", valueVersion: null, value: null, attributes };
        if (keyVersion === 0 || keyVersion === 1) {
          rec.group = key.str()!;
          rec.topic = key.str()!;
          rec.partition_ = key.i32();
        } else if (keyVersion === 2) {
          rec.group = key.str()!;
        } else throw new Error(`key version ${keyVersion}`);
        key.end();
        if (r.value !== null) {
          const v = new Cursor(r.value);
          rec.valueVersion = v.i16();
          if (keyVersion <= 1) {
            const offset = v.i64();
            const leaderEpoch = rec.valueVersion >= 3 ? v.i32() : -1;
            const metadata = v.str();
            const commitTimestamp = v.i64();
            const expireTimestamp = rec.valueVersion === 1 ? v.i64() : -1;
            rec.value = { offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp };
          } else {
            const protocolType = v.str();
            const generation = v.i32();
            const protocol = v.str();
            const leader = v.str();
            const currentStateTimestamp = v.i64();
            const members = [];
            for (let i = v.i32(); i > 0; i--) {
              members.push({
                memberId: v.str(),
                groupInstanceId: v.str(),
                clientId: v.str(),
                clientHost: v.str(),
                rebalanceTimeout: v.i32(),
                sessionTimeout: v.i32(),
                subscription: v.bytes(),
                assignment: v.bytes(),
              });
            }
            rec.value = { protocolType, generation, protocol, leader, currentStateTimestamp, members };
          }
          v.end();
        }
        out.push(rec);
      }
    });
  }
  return out;
}

function allRecords(k: InProcessBroker, group: string) {
  return readOffsetsTopic(k).filter((r) => r.group === group);
}

function offsetRecords(k: InProcessBroker, group: string) {
  return allRecords(k, group)
    .filter((r) => r.keyVersion <= 1)
    .map((r) => ({ group: r.group, topic: r.topic!, partition: r.partition_!, valueVersion: r.valueVersion, value: r.value }));
}

describe("__consumer_offsets records", () => {
  test("a group's records go to partition Utils.abs(groupId.hashCode()) % partitions, as Kafka looks for them (values from Java)", async () => {
    const k = await ready({ "offsets.topic.num.partitions": "50" });
    // [group, String.hashCode() in Java, its partition of 50]: negative hashes (Utils.abs, not & 0x7fffffff),
    // Integer.MIN_VALUE ("polygenelubricants": 0), and characters outside ASCII (UTF-16 code units)
    const table: [string, number, number][] = [
      ["tools-group", -1774468083, 33],
      ["polygenelubricants", -2147483648, 0],
      ["consumer-1", -166239206, 6],
      ["my-group", -1906497762, 12],
      ["grupo-ñ", 298818701, 1],
      ["😀-group", -1198440043, 43],
      ["console-consumer-12345", 158455506, 6],
      ["aaaaaaaaaaaaaaa", 639922049, 49],
    ];
    for (const [group] of table) await commit(admin, group, [["events", 0, 1]]);
    const where = new Map(readOffsetsTopic(k).map((r) => [r.group, r.partition]));
    expect(table.map(([g]) => [g, where.get(g)])).toEqual(table.map(([g, , p]) => [g, p]));
    // and OffsetFetch finds each where it was written
    for (const [group] of table) expect((await fetchOffsets(admin, group)).offsets).toEqual([["events", 0, 1]]);
  }, 10_000);

  test("offset commits and group metadata are written as Kafka writes them: key v1 / value v3, key v2 / value v3, in the group's partition", async () => {
    const k = await ready();
    const before = Date.now();
    const [a, b] = await formGroup(k, "rec", 2, { sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 5_000 });
    await commit(a!.client, "rec", [["orders", 1, 42]], { generation: 1, memberId: a!.id });
    const recs = allRecords(k, "rec");
    // every record of the group in its partition: Java's String.hashCode mod 3
    expect(new Set(recs.map((r) => r.partition))).toEqual(new Set([javaPartition("rec", 3)]));
    expect(recs.every((r) => (r.attributes & 0x7) === 0)).toBe(true); // not compressed
    // the new group (generation 0, empty), then generation 1 with its assignment, then the commit
    expect(recs.map((r) => [r.keyVersion, r.valueVersion])).toEqual([
      [2, 3],
      [2, 3],
      [1, 3],
    ]);
    expect(recs[0]!.value).toEqual({ protocolType: "", generation: 0, protocol: null, leader: null, currentStateTimestamp: expect.any(Number), members: [] });
    const g = recs[1]!.value!;
    expect([g.protocolType, g.generation, g.protocol, g.leader]).toEqual(["consumer", 1, "range", a!.id]);
    expect(g.currentStateTimestamp).toBeGreaterThanOrEqual(before);
    expect(
      g.members.map((m: Msg) => ({ ...m, subscription: Buffer.from(m.subscription).toString("hex"), assignment: new TextDecoder().decode(m.assignment) })).sort((x: Msg, y: Msg) => x.clientId.localeCompare(y.clientId)),
    ).toEqual([
      { memberId: a!.id, groupInstanceId: null, clientId: "member-0", clientHost: "/127.0.0.1", rebalanceTimeout: 5000, sessionTimeout: 10000, subscription: Buffer.from(subscription(["orders"])).toString("hex"), assignment: "assign-0" },
      { memberId: b!.id, groupInstanceId: null, clientId: "member-1", clientHost: "/127.0.0.1", rebalanceTimeout: 5000, sessionTimeout: 10000, subscription: Buffer.from(subscription(["orders"])).toString("hex"), assignment: "assign-1" },
    ]);
    const o = recs[2]!;
    expect([o.group, o.topic, o.partition_]).toEqual(["rec", "orders", 1]);
    expect(o.value).toEqual({ offset: 42, leaderEpoch: 7, metadata: "m42", commitTimestamp: expect.any(Number), expireTimestamp: -1 });
    expect(o.value!.commitTimestamp).toBeGreaterThanOrEqual(before);
  }, 10_000);

  test("a commit with its own retention (OffsetCommit v2-4) is value v1 with the expire timestamp; deletes are tombstones", async () => {
    const k = await ready();
    const c = new Client(k);
    await commit(c, "rec-ret", [["events", 0, 3]], { v: 4, retentionTimeMs: 60_000 });
    await commit(c, "rec-ret", [["orders", 0, 4]]);
    const [r1, r3] = offsetRecords(k, "rec-ret");
    expect(r1!.valueVersion).toBe(1);
    expect(r1!.value!.expireTimestamp - r1!.value!.commitTimestamp).toBe(60_000);
    expect(r3!.valueVersion).toBe(3);
    expect(await deleteGroups(c, ["rec-ret"])).toEqual([E.NONE]);
    const tail = allRecords(k, "rec-ret").slice(-3);
    expect(tail.map((r) => [r.keyVersion, r.topic ?? null, r.value])).toEqual([
      [1, "events", null],
      [1, "orders", null],
      [2, null, null],
    ]);
  }, 10_000);
});

// ---------------------------------------------------------------------------

describe("restart", () => {
  test("groups and offsets are loaded back; a Stable group's members heartbeat on with their old id and generation", async () => {
    const dir = tempDir("coord-restart-");
    try {
      const k1 = await start({}, dir);
      expect((await findCoordinator(admin, "x")).errorCode).toBe(E.NONE);
      k1.storage.createTopic("orders", 3);
      const [a, b] = await formGroup(k1, "live", 2, { sessionTimeoutMs: 30_000 });
      await commit(a!.client, "live", [["orders", 0, 100], ["orders", 1, 101]], { generation: 1, memberId: a!.id });
      await commit(admin, "idle", [["orders", 2, 7]]);
      const [s] = await formGroup(k1, "static", 1, { instanceIds: ["inst-0"], sessionTimeoutMs: 30_000 });
      await commit(admin, "gone", [["orders", 0, 1]]);
      expect(await deleteGroups(admin, ["gone"])).toEqual([E.NONE]);
      await stopKeepingDir(k1);
      kafka = null;

      const k2 = await start({}, dir);
      await k2.broker.groups.loaded;
      const d = await describe1(admin, "live");
      expect([d.groupState, d.protocolType, d.protocolData]).toEqual(["Stable", "consumer", "range"]);
      expect(d.members.map((m: Msg) => m.memberId).sort()).toEqual([a!.id, b!.id].sort());
      // the members are not told anything happened: same id, same generation, same assignment
      const a2 = new Client(k2, "member-0");
      const b2 = new Client(k2, "member-1");
      expect(await heartbeat(a2, "live", 1, a!.id)).toBe(E.NONE);
      expect(await heartbeat(b2, "live", 1, b!.id)).toBe(E.NONE);
      const sb = await sync(b2, "live", 1, b!.id);
      expect([sb.errorCode, new TextDecoder().decode(sb.assignment)]).toEqual([E.NONE, "assign-1"]);
      expect(await commit(a2, "live", [["orders", 0, 102]], { generation: 1, memberId: a!.id })).toEqual([["orders", 0, E.NONE]]);
      expect((await fetchOffsets(admin, "live")).offsets).toEqual([["orders", 0, 102], ["orders", 1, 101]]);
      expect((await fetchOffsets(admin, "idle")).offsets).toEqual([["orders", 2, 7]]);
      expect((await describe1(admin, "idle")).groupState).toBe("Empty");
      // the static member is known by its instance id
      const ds = await describe1(admin, "static");
      expect(ds.members.map((m: Msg) => [m.memberId, m.groupInstanceId])).toEqual([[s!.id, "inst-0"]]);
      expect(await heartbeat(a2, "static", 1, s!.id, "inst-0")).toBe(E.NONE);
      // the deleted group stays deleted
      expect((await describe1(admin, "gone")).groupState).toBe("Dead");
      expect((await fetchOffsets(admin, "gone")).offsets).toEqual([]);
      expect((await listGroups(admin)).groups.map((g: Msg) => g.groupId).sort()).toEqual(["idle", "live", "static"]);
      // the leader rejoining starts a rebalance at the loaded generation
      const ja = join(a2, "live", { memberId: a!.id });
      const jb = join(b2, "live", { memberId: b!.id });
      expect([(await ja).generationId, (await jb).generationId]).toEqual([2, 2]);
    } finally {
      await kafka?.close(); // removes dir
      kafka = null;
      removeDir(dir);
    }
  }, 20_000);

  test("COORDINATOR_LOAD_IN_PROGRESS while the group's partition of __consumer_offsets is loading; answered once loaded", async () => {
    const dir = tempDir("coord-load-");
    const PARTITIONS = 50;
    // a group in the last partition loaded (they load in order, yielding between partitions)
    let group = "";
    for (let i = 0; group === ""; i++) if (javaPartition(`load-${i}`, PARTITIONS) === PARTITIONS - 1) group = `load-${i}`;
    const overrides = { "offsets.topic.num.partitions": String(PARTITIONS) };
    try {
      const k1 = await start(overrides, dir);
      expect((await findCoordinator(admin, group)).errorCode).toBe(E.NONE);
      k1.storage.createTopic("orders", 1);
      const [m] = await formGroup(k1, group, 1, { sessionTimeoutMs: 30_000 });
      await commit(m!.client, group, [["orders", 0, 77]], { generation: 1, memberId: m!.id });
      await stopKeepingDir(k1);
      kafka = null;

      const k2 = await start(overrides, dir);
      let loaded = false;
      void k2.broker.groups.loaded.then(() => (loaded = true));
      // no turn of the event loop has passed since start: nothing is loaded yet, the last partition least of all
      expect(loaded).toBe(false);
      const c = new Client(k2, "early");
      const hb = c.call(HeartbeatRequest, HeartbeatResponse, 3, { groupId: group, generationId: 1, memberId: m!.id, groupInstanceId: null });
      const fetch = fetchOffsets(c, group);
      const jg = join(c, group, { memberId: m!.id });
      const sg = sync(c, group, 1, m!.id);
      const desc = describe1(c, group);
      const list = listGroups(c);
      const cm = commit(c, group, [["orders", 0, 78]], { generation: 1, memberId: m!.id });
      const lv = leave(c, group, [{ memberId: m!.id }]);
      const dl = deleteGroups(c, [group]);
      expect(loaded).toBe(false);
      expect((await hb).errorCode).toBe(E.COORDINATOR_LOAD_IN_PROGRESS);
      expect((await fetch).errorCode).toBe(E.COORDINATOR_LOAD_IN_PROGRESS);
      expect((await jg).errorCode).toBe(E.COORDINATOR_LOAD_IN_PROGRESS);
      expect((await sg).errorCode).toBe(E.COORDINATOR_LOAD_IN_PROGRESS);
      expect((await desc).errorCode).toBe(E.COORDINATOR_LOAD_IN_PROGRESS);
      expect((await list).errorCode).toBe(E.COORDINATOR_LOAD_IN_PROGRESS);
      expect(await cm).toEqual([["orders", 0, E.COORDINATOR_LOAD_IN_PROGRESS]]);
      expect((await lv).errorCode).toBe(E.COORDINATOR_LOAD_IN_PROGRESS);
      expect(await dl).toEqual([E.COORDINATOR_LOAD_IN_PROGRESS]);
      await k2.broker.groups.loaded;
      expect(await fetchOffsets(c, group)).toEqual({ errorCode: E.NONE, offsets: [["orders", 0, 77]] });
      expect(await heartbeat(c, group, 1, m!.id)).toBe(E.NONE);
      expect((await listGroups(c)).errorCode).toBe(E.NONE);
    } finally {
      await kafka?.close();
      kafka = null;
      removeDir(dir);
    }
  }, 20_000);
});

describe("offsets retention", () => {
  const RETENTION_MS = 60 * 60_000;

  test("an empty group's offsets expire offsets.retention.minutes after it became empty; the group is then deleted", async () => {
    const k = await ready({ "offsets.retention.minutes": "60" });
    const coordinator = k.broker.groups;
    const [m] = await formGroup(k, "exp", 1);
    await commit(m!.client, "exp", [["orders", 0, 1], ["events", 0, 2]], { generation: 1, memberId: m!.id });
    await commit(admin, "exp-simple", [["orders", 1, 3]]);
    expect((await leave(m!.client, "exp", [{ memberId: m!.id }])).errorCode).toBe(E.NONE);
    const emptied = Date.now();
    // not yet: nothing expires a minute short of the retention
    coordinator.now = () => emptied + RETENTION_MS - 60_000;
    expect(coordinator.expireOffsets()).toBe(0);
    expect((await fetchOffsets(admin, "exp")).offsets.length).toBe(2);
    expect((await fetchOffsets(admin, "exp-simple")).offsets.length).toBe(1);
    // past it: both groups' offsets go, and the groups with them
    coordinator.now = () => Date.now() + RETENTION_MS + 60_000;
    expect(coordinator.expireOffsets()).toBe(3);
    expect((await fetchOffsets(admin, "exp")).offsets).toEqual([]);
    expect((await fetchOffsets(admin, "exp-simple")).offsets).toEqual([]);
    expect((await describe1(admin, "exp")).groupState).toBe("Dead");
    expect((await listGroups(admin)).groups).toEqual([]);
    const tail = allRecords(k, "exp").slice(-3);
    expect(tail.map((r) => [r.keyVersion, r.topic ?? null, r.value])).toEqual([
      [1, "orders", null],
      [1, "events", null],
      [2, null, null],
    ]);
  }, 10_000);

  test("a Stable consumer group keeps the offsets of the topics it subscribes to; the others expire by their commit time", async () => {
    const k = await ready({ "offsets.retention.minutes": "60" });
    const coordinator = k.broker.groups;
    const [m] = await formGroup(k, "exp-live", 1, { protocols: [["range", subscription(["orders"])]] });
    await commit(m!.client, "exp-live", [["orders", 0, 1], ["events", 0, 2]], { generation: 1, memberId: m!.id });
    coordinator.now = () => Date.now() + RETENTION_MS + 60_000;
    expect(coordinator.expireOffsets()).toBe(1);
    expect((await fetchOffsets(admin, "exp-live")).offsets).toEqual([["orders", 0, 1]]);
    expect((await describe1(admin, "exp-live")).groupState).toBe("Stable");
  }, 10_000);

  test("a commit's own retention (v2-4 retention_time_ms) expires it at its expire timestamp", async () => {
    const k = await ready({ "offsets.retention.minutes": "60" });
    const coordinator = k.broker.groups;
    await commit(admin, "exp-own", [["orders", 0, 1]], { v: 2, retentionTimeMs: 1000 });
    await commit(admin, "exp-own", [["orders", 1, 2]]);
    coordinator.now = () => Date.now() + 5000;
    expect(coordinator.expireOffsets()).toBe(1);
    expect((await fetchOffsets(admin, "exp-own")).offsets).toEqual([["orders", 1, 2]]);
  }, 10_000);
});
