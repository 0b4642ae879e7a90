// Apache Kafka's own tools judge the files ./kafka writes, and Apache Kafka
// adopts a log dir ./kafka wrote (issue 10).
//
// One ./kafka on a temp log dir with tiny segments (log.segment.bytes 4096)
// and dense indexes (log.index.interval.bytes 256) gets two 3-partition
// topics of records with keys, headers and fixed CreateTime timestamps, every
// fifth batch gzip-compressed; Kafka's TopicCommand lists them while it runs,
// and deletes a third topic (--delete) whose RemoveTopicRecord the decoder and
// Kafka then read. One partition is written by an idempotent producer
// (InitProducerId, then sequenced batches).
// After a clean stop (SIGTERM), Kafka's DumpLogSegments reads every segment
// (--deep-iteration, compared record by record with what was produced),
// sanity-checks and verifies every .index/.timeindex, prints the producer
// state .snapshot files (the idempotent producer's last batch at each roll and
// at the log end, no entries elsewhere) and decodes the KRaft metadata log.
// Then Apache Kafka 4.4 starts on that same dir, unformatted, and kcat reads
// every record back: offsets, keys, values, headers and timestamps unchanged,
// topic ids and meta.properties kept. Kafka answers a retry of the idempotent
// producer's last batch with the original offset, writing nothing, and
// refuses the batch before it and a sequence gap. (Finding no clean-shutdown
// file or recovery-point checkpoint, Kafka recovers every segment and rebuilds
// the producer state and the snapshots from the log itself, deleting ours on
// the way; what it keeps is the same as ours: each producer's last batch.)
//
// Consumer groups too: while ./kafka runs a member joins a group, syncs its
// assignment and commits offsets, a simple consumer commits for a group with
// no members, and a third group is deleted (tombstones). Kafka's
// DumpLogSegments --offsets-decoder reads our __consumer_offsets segments as
// its own offset commit and group metadata records (with the consumer
// protocol's subscription and assignment inside), and the adopting Kafka
// loads them: OffsetFetch answers the offsets we committed, DescribeGroups
// our Stable group with our member.
//
// Without Java 17+, the cached Kafka classpath with kafka-tools
// (test/kafka-ref/install.sh) or kcat the suite skips with the reason; with
// KAFKA_REQUIRE_CLIENTS=1 (CI) it fails instead.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { codecFor, encode, isFlexible } from "../src/protocol/codec.ts";
import { DeleteGroupsRequest, DeleteGroupsResponse } from "../src/protocol/messages/delete-groups.ts";
import { DescribeGroupsRequest, DescribeGroupsResponse } from "../src/protocol/messages/describe-groups.ts";
import { FindCoordinatorRequest, FindCoordinatorResponse } from "../src/protocol/messages/find-coordinator.ts";
import { JoinGroupRequest, JoinGroupResponse } from "../src/protocol/messages/join-group.ts";
import { InitProducerIdRequest, InitProducerIdResponse } from "../src/protocol/messages/init-producer-id.ts";
import { MetadataRequest, MetadataResponse } from "../src/protocol/messages/metadata.ts";
import { OffsetCommitRequest, OffsetCommitResponse } from "../src/protocol/messages/offset-commit.ts";
import { OffsetFetchRequest, OffsetFetchResponse } from "../src/protocol/messages/offset-fetch.ts";
import { SyncGroupRequest, SyncGroupResponse } from "../src/protocol/messages/sync-group.ts";
import { ProduceRequest, ProduceResponse } from "../src/protocol/messages/produce.ts";
import type { MessageDef } from "../src/protocol/schema.ts";
import { Reader } from "../src/protocol/reader.ts";
import { BATCH_HEADER_SIZE, BATCH_OVERHEAD, OFF_ATTRIBUTES, OFF_CRC, OFF_LENGTH } from "../src/records/batch.ts";
import { crc32c } from "../src/records/crc32c.ts";
import { buildBatch } from "../src/records/record.ts";
import { readMetaProperties, readPartitionMetadata } from "../src/metadata/properties.ts";
import { uuidToBase64 } from "../src/metadata/uuid.ts";
import { removeDir, requestFrame, startKafka, tempDir, WireClient, type Msg, type RunningKafka } from "./helpers.ts";
import { REFERENCE_REQUIRED, referenceToolsUnavailable, runKafkaTool, startReference, type ReferenceKafka, type ToolResult } from "./kafka-ref/reference.ts";

const KCAT = Bun.which("kcat");
const REASON = referenceToolsUnavailable() ?? (KCAT ? null : "no kcat on PATH (apt-get install kcat)");

const TOPICS = ["tools-orders", "tools-events"];
/** created and deleted while ./kafka runs (TopicCommand --delete) */
const DOOMED = "tools-doomed";
const PARTITIONS = 3;
const BATCHES_PER_PARTITION = 30;
const RECORDS_PER_BATCH = 5;
const DUMP = "org.apache.kafka.tools.DumpLogSegments";
/** the partition an idempotent producer writes */
const IDEM_TOPIC = "tools-events";
const IDEM_PARTITION = 0;
/** its batches carry recent timestamps: a producer idle for producer.id.expiration.ms (a day) is not loaded from a snapshot */
const IDEM_BASE_TS = Math.floor(Date.now() / 1000) * 1000 - BATCHES_PER_PARTITION * 1000;
/** partitions of __consumer_offsets on our broker (offsets.topic.num.partitions) */
const OFFSETS_PARTITIONS = 3;
const GROUP = "tools-group";
const SIMPLE_GROUP = "tools-simple";
const GONE_GROUP = "tools-gone";
const GROUP_CLIENT = "kafka-tools-test";
const SESSION_TIMEOUT_MS = 120_000;
const REBALANCE_TIMEOUT_MS = 60_000;
const TOPIC_COMMAND = "org.apache.kafka.tools.TopicCommand";

interface Expected {
  offset: number;
  key: string;
  value: string;
  headers: [string, string][];
  timestamp: number;
}

// ---------------------------------------------------------------------------
// producing

let corr = 1;
async function call(client: WireClient, req: MessageDef, res: MessageDef, version: number, body: Msg): Promise<Msg> {
  const c = corr++;
  client.send(requestFrame(req.apiKey!, version, c, "kafka-tools-test", encode(req, version, body), isFlexible(req, version)));
  const frame = await client.readFrame();
  if (!frame) throw new Error("connection closed");
  const r = new Reader(frame);
  expect(r.int32()).toBe(c);
  if (isFlexible(res, version)) r.uvarint();
  return codecFor(res, version).read(r);
}

/** The same batch with its records section gzip-compressed (attributes bit 1), length and CRC redone. */
function gzipBatch(batch: Uint8Array): Uint8Array {
  const compressed = gzipSync(batch.subarray(BATCH_HEADER_SIZE));
  const out = new Uint8Array(BATCH_HEADER_SIZE + compressed.length);
  out.set(batch.subarray(0, BATCH_HEADER_SIZE));
  out.set(compressed, BATCH_HEADER_SIZE);
  const v = new DataView(out.buffer);
  v.setInt16(OFF_ATTRIBUTES, v.getInt16(OFF_ATTRIBUTES) | 1);
  v.setInt32(OFF_LENGTH, out.length - BATCH_OVERHEAD);
  v.setUint32(OFF_CRC, crc32c(out, OFF_ATTRIBUTES));
  return out;
}

const enc = new TextEncoder();
const toHexString = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** The idempotent producer of IDEM_TOPIC/IDEM_PARTITION and its last two batches, as sent (for retries). */
const idem = { producerId: -1, lastBatch: new Uint8Array(0), lastBaseOffset: -1, previousBatch: new Uint8Array(0) };

/** Produces every batch of one partition, one request each; returns what each record should read back as. */
async function producePartition(client: WireClient, topic: string, partition: number): Promise<Expected[]> {
  const out: Expected[] = [];
  const idempotent = topic === IDEM_TOPIC && partition === IDEM_PARTITION;
  for (let b = 0; b < BATCHES_PER_PARTITION; b++) {
    const baseTimestamp = idempotent ? IDEM_BASE_TS + b * 1000 : 1_700_000_000_000 + partition * 1_000_000 + b * 1000;
    const recs: Expected[] = [];
    for (let r = 0; r < RECORDS_PER_BATCH; r++) {
      const n = b * RECORDS_PER_BATCH + r;
      recs.push({
        offset: out.length + r,
        key: `${topic}-${partition}-key-${n}`,
        value: `value ${n} of ${topic}/${partition}: ${"x".repeat(n % 17)}`,
        headers: [
          ["source", "kafka-tools-test"],
          ["n", String(n)],
        ],
        timestamp: baseTimestamp + r * 10,
      });
    }
    let batch = buildBatch({
      baseTimestamp,
      records: recs.map((e, r) => ({
        key: enc.encode(e.key),
        value: enc.encode(e.value),
        headers: e.headers.map(([k, v]) => ({ key: k, value: enc.encode(v) })),
        timestampDelta: r * 10,
      })),
      ...(idempotent ? { producerId: idem.producerId, producerEpoch: 0, baseSequence: b * RECORDS_PER_BATCH } : {}),
    });
    if (b % 5 === 2) batch = gzipBatch(batch);
    if (idempotent) {
      idem.previousBatch = idem.lastBatch;
      idem.lastBatch = batch.slice();
      idem.lastBaseOffset = out.length;
    }
    const resp = await call(client, ProduceRequest, ProduceResponse, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }],
    });
    const pr = resp.responses[0].partitionResponses[0];
    expect(pr.errorCode).toBe(0);
    expect(Number(pr.baseOffset)).toBe(out.length);
    out.push(...recs);
  }
  return out;
}

// ---------------------------------------------------------------------------
// reading Kafka's tools

/** Fails with the tool's own words when it exited non-zero or reported an error, mismatch or corruption. */
function expectClean(what: string, r: ToolResult): void {
  const all = `${r.stdout}\n${r.stderr}`;
  const bad = all.split("\n").filter((l) => /exception|error|mismatch|corrupt|out of order|not found|failed|isvalid: false|not sanity-checked/i.test(l));
  if (r.code !== 0 || bad.length > 0) throw new Error(`${what}: exit ${r.code}\n${bad.slice(0, 20).join("\n") || all.slice(-2000)}`);
}

/** The records DumpLogSegments --deep-iteration --print-data-log printed, by file. */
function dumpedRecords(stdout: string): Map<string, { offset: number; timestamp: number; headerKeys: string[]; key: string; payload: string }[]> {
  const out = new Map<string, { offset: number; timestamp: number; headerKeys: string[]; key: string; payload: string }[]>();
  let current: { offset: number; timestamp: number; headerKeys: string[]; key: string; payload: string }[] = [];
  for (const line of stdout.split("\n")) {
    const f = /^Dumping (.+)$/.exec(line);
    if (f) out.set(f[1]!, (current = []));
    const m = /^\| offset: (\d+) CreateTime: (\d+) .* headerKeys: \[(.*)\] key: (.*) payload: (.*)$/.exec(line);
    if (m) current.push({ offset: Number(m[1]), timestamp: Number(m[2]), headerKeys: m[3] ? m[3].split(",") : [], key: m[4]!, payload: m[5]! });
  }
  return out;
}

function filesIn(dir: string, ext: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith(ext))
    .sort()
    .map((n) => join(dir, n));
}

async function kcat(args: string[]): Promise<string> {
  const p = Bun.spawn([KCAT!, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const killer = setTimeout(() => p.kill("SIGKILL"), 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(killer);
  if (code !== 0) throw new Error(`kcat ${args.join(" ")} exited ${code}: ${stderr}`);
  return stdout;
}


// ---------------------------------------------------------------------------
// consumer groups

/** ConsumerProtocolSubscription v0: version, topics, user data (null). */
function subscriptionBytes(topics: string[]): Uint8Array {
  const parts: number[] = [0, 0, ...be32(topics.length)];
  for (const t of topics) parts.push(...be16(t.length), ...enc.encode(t));
  return new Uint8Array([...parts, ...be32(-1)]);
}

/** ConsumerProtocolAssignment v0: version, [topic, [partition]], user data (null). */
function assignmentBytes(assigned: [string, number[]][]): Uint8Array {
  const parts: number[] = [0, 0, ...be32(assigned.length)];
  for (const [t, ps] of assigned) {
    parts.push(...be16(t.length), ...enc.encode(t), ...be32(ps.length));
    for (const p of ps) parts.push(...be32(p));
  }
  return new Uint8Array([...parts, ...be32(-1)]);
}
const be16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const be32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

/** Kafka's GroupCoordinatorService.partitionFor: Utils.abs(String.hashCode) % n, the partition of __consumer_offsets Kafka reads a group from. */
function javaPartition(groupId: string, n: number): number {
  let h = 0;
  for (let i = 0; i < groupId.length; i++) h = (Math.imul(31, h) + groupId.charCodeAt(i)) | 0;
  return (h === -2147483648 ? 0 : Math.abs(h)) % n;
}

/** What the group test commits: [group, topic, partition, offset, leader epoch, metadata sent, metadata kept]. */
type Commit = [string, string, number, number, number, string | null, string];
const COMMITS: Commit[] = [
  [GROUP, TOPICS[0]!, 0, 10, 0, "orders-0", "orders-0"],
  [GROUP, TOPICS[0]!, 1, 20, 0, "orders-1", "orders-1"],
  [GROUP, TOPICS[0]!, 2, 30, 0, "", ""],
  [GROUP, TOPICS[1]!, 0, 5, -1, "events", "events"],
  [SIMPLE_GROUP, TOPICS[1]!, 1, 7, 3, null, ""],
];
const ASSIGNED: [string, number[]][] = [
  [TOPICS[0]!, [0, 1, 2]],
  [TOPICS[1]!, [0, 1, 2]],
];

async function commitAll(client: WireClient, groupId: string, generation: number, memberId: string, commits: Commit[]): Promise<void> {
  const topics = [...new Set(commits.map((c) => c[1]))].map((name) => ({
    name,
    partitions: commits.filter((c) => c[1] === name).map(([, , partitionIndex, committedOffset, committedLeaderEpoch, committedMetadata]) => ({ partitionIndex, committedOffset, committedLeaderEpoch, committedMetadata })),
  }));
  const r = await call(client, OffsetCommitRequest, OffsetCommitResponse, 8, { groupId, generationIdOrMemberEpoch: generation, memberId, groupInstanceId: null, topics });
  expect(r.topics.flatMap((t: Msg) => t.partitions.map((p: Msg) => p.errorCode))).toEqual(commits.map(() => 0));
}

/** The records DumpLogSegments --offsets-decoder printed: partition, offset, key and payload JSON (null: a tombstone). */
function dumpedOffsetsRecords(stdout: string, fileToPartition: Map<string, number>): { partition: number; offset: number; key: Msg; payload: Msg | null }[] {
  const out: { partition: number; offset: number; key: Msg; payload: Msg | null }[] = [];
  let partition = -1;
  for (const line of stdout.split("\n")) {
    const f = /^Dumping (.+)$/.exec(line);
    if (f) partition = fileToPartition.get(f[1]!) ?? -1;
    const m = /^\| offset: (\d+) .* key: (\{.*\}) payload: (\{.*\}|<DELETE>)$/.exec(line);
    if (m) out.push({ partition, offset: Number(m[1]), key: JSON.parse(m[2]!), payload: m[3] === "<DELETE>" ? null : JSON.parse(m[3]!) });
  }
  return out;
}

// ---------------------------------------------------------------------------

if (REASON) {
  if (REFERENCE_REQUIRED) {
    test("Apache Kafka's tools and kcat are available (required: KAFKA_REQUIRE_CLIENTS=1)", () => {
      throw new Error(`Kafka's tools unavailable: ${REASON}`);
    });
  } else {
    test.skip(`Kafka's tools on our files, Kafka adopting our log dir (skipped: ${REASON})`, () => {});
  }
}

const suite = REASON ? describe.skip : describe;

suite("Apache Kafka's tools and Apache Kafka itself on a log dir ./kafka wrote", () => {
  let dir = "";
  let ours: RunningKafka | null = null;
  let reference: ReferenceKafka | null = null;
  const expected = new Map<string, Expected[]>();
  /** what the group test saw: the member's id and the time span of its records */
  let member = "";
  let groupsFrom = 0;
  let groupsTo = 0;
  const partitionDirs = () => TOPICS.flatMap((t) => Array.from({ length: PARTITIONS }, (_, p) => join(dir, `${t}-${p}`)));

  beforeAll(async () => {
    dir = tempDir("kafka-tools-");
    ours = await startKafka(dir, [
      "--override",
      `num.partitions=${PARTITIONS}`,
      "--override",
      "log.segment.bytes=4096",
      "--override",
      "log.index.interval.bytes=256",
      "--override",
      "group.initial.rebalance.delay.ms=0",
      "--override",
      `offsets.topic.num.partitions=${OFFSETS_PARTITIONS}`,
    ]);
    const client = await WireClient.connect(ours.port);
    try {
      // producers create topics through Metadata (auto-create), with num.partitions
      const md = await call(client, MetadataRequest, MetadataResponse, 12, { topics: TOPICS.map((name) => ({ topicId: new Uint8Array(16), name })), allowAutoTopicCreation: true });
      for (const t of md.topics) expect(t.errorCode).toBe(0);
      const init = await call(client, InitProducerIdRequest, InitProducerIdResponse, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
      expect(init.errorCode).toBe(0);
      idem.producerId = Number(init.producerId);
      for (const t of TOPICS) for (let p = 0; p < PARTITIONS; p++) expected.set(`${t}-${p}`, await producePartition(client, t, p));
    } finally {
      client.close();
    }
  }, 60_000);

  afterAll(async () => {
    await reference?.stop();
    if (ours && ours.proc.exitCode === null) await ours.stop();
    if (dir) removeDir(dir);
  }, 30_000);

  test("TopicCommand --list (Kafka's admin client) against our running broker", async () => {
    const r = await runKafkaTool(TOPIC_COMMAND, ["--bootstrap-server", `127.0.0.1:${ours!.port}`, "--list"]);
    expectClean("TopicCommand --list", r);
    expect(r.stdout.trim().split("\n").sort()).toEqual([...TOPICS].sort());
  }, 60_000);

  // TopicCommand --describe asks the admin client for, in order: Metadata (listTopics), DescribeTopicPartitions,
  // ListPartitionReassignments (served: none in progress; the tool would tolerate UnsupportedVersion), DescribeConfigs for the topic, then
  // DescribeCluster (the admin client falls back to Metadata when it is not served).
  test("TopicCommand --describe shows partition count, leader, replicas and the topic's configs", async () => {
    const t = TOPICS[0]!;
    const r = await runKafkaTool(TOPIC_COMMAND, ["--bootstrap-server", `127.0.0.1:${ours!.port}`, "--describe", "--topic", t]);
    expectClean("TopicCommand --describe", r);
    const lines = r.stdout.trim().split("\n");
    // "Topic: x  TopicId: ...  PartitionCount: 3  ReplicationFactor: 1  Configs: segment.bytes=4096,..."
    expect(lines[0]).toMatch(new RegExp(`^Topic: ${t}\\s+TopicId: \\S+\\s+PartitionCount: ${PARTITIONS}\\s+ReplicationFactor: 1\\s+Configs: `));
    // only keys not at their default are listed: the broker overrides this broker was started with
    expect(lines[0]).toContain("segment.bytes=4096");
    expect(lines[0]).toContain("index.interval.bytes=256");
    const parts = lines.slice(1).map((l) => l.trim());
    expect(parts.length).toBe(PARTITIONS);
    for (let p = 0; p < PARTITIONS; p++) expect(parts[p]).toMatch(new RegExp(`^Topic: ${t}\\s+Partition: ${p}\\s+Leader: 1\\s+Replicas: 1\\s+Isr: 1`));
  }, 60_000);

  // TopicCommand --delete: the admin client's Metadata (listTopics) then DeleteTopics by name; the
  // RemoveTopicRecord it writes is decoded by DumpLogSegments and replayed by Kafka below.
  let doomedId = "";
  test("TopicCommand --delete deletes a topic: its dirs go, --list no longer shows it", async () => {
    const client = await WireClient.connect(ours!.port);
    try {
      const md = await call(client, MetadataRequest, MetadataResponse, 12, { topics: [{ topicId: new Uint8Array(16), name: DOOMED }], allowAutoTopicCreation: true });
      expect(md.topics[0].errorCode).toBe(0);
      doomedId = uuidToBase64(md.topics[0].topicId);
    } finally {
      client.close();
    }
    const r = await runKafkaTool(TOPIC_COMMAND, ["--bootstrap-server", `127.0.0.1:${ours!.port}`, "--delete", "--topic", DOOMED]);
    expectClean("TopicCommand --delete", r);
    const deadline = Date.now() + 10_000;
    const left = () => readdirSync(dir).filter((d) => d.startsWith(`${DOOMED}-`));
    while (left().length > 0 && Date.now() < deadline) await Bun.sleep(20);
    expect(left()).toEqual([]);
    const list = await runKafkaTool(TOPIC_COMMAND, ["--bootstrap-server", `127.0.0.1:${ours!.port}`, "--list"]);
    expectClean("TopicCommand --list after --delete", list);
    expect(list.stdout.trim().split("\n").sort()).toEqual([...TOPICS].sort());
  }, 60_000);


  // The consumer's requests, as a Java consumer of the classic protocol sends them (one member,
  // JoinGroup v5: MEMBER_ID_REQUIRED then the join with that id), plus an admin's commit for a
  // group with no members and a DeleteGroups.
  test("consumer groups on our broker: a member joins, syncs and commits; a simple group commits; a group is deleted", async () => {
    const client = await WireClient.connect(ours!.port);
    try {
      groupsFrom = Date.now();
      const fc = await call(client, FindCoordinatorRequest, FindCoordinatorResponse, 3, { key: GROUP, keyType: 0 });
      expect([fc.errorCode, fc.nodeId, fc.port]).toEqual([0, 1, ours!.port]);
      const joinBody = (memberId: string) => ({
        groupId: GROUP,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS,
        memberId,
        groupInstanceId: null,
        protocolType: "consumer",
        protocols: [{ name: "range", metadata: subscriptionBytes(TOPICS) }],
      });
      const first = await call(client, JoinGroupRequest, JoinGroupResponse, 5, joinBody(""));
      expect(first.errorCode).toBe(79); // MEMBER_ID_REQUIRED
      const joined = await call(client, JoinGroupRequest, JoinGroupResponse, 5, joinBody(first.memberId));
      expect([joined.errorCode, joined.generationId, joined.leader]).toEqual([0, 1, first.memberId]);
      member = joined.memberId;
      const synced = await call(client, SyncGroupRequest, SyncGroupResponse, 3, {
        groupId: GROUP,
        generationId: 1,
        memberId: member,
        groupInstanceId: null,
        assignments: [{ memberId: member, assignment: assignmentBytes(ASSIGNED) }],
      });
      expect(synced.errorCode).toBe(0);
      await commitAll(client, GROUP, 1, member, COMMITS.filter((c) => c[0] === GROUP));
      await commitAll(client, SIMPLE_GROUP, -1, "", COMMITS.filter((c) => c[0] === SIMPLE_GROUP));
      await commitAll(client, GONE_GROUP, -1, "", [[GONE_GROUP, TOPICS[0]!, 0, 1, 0, "x", "x"]]);
      const del = await call(client, DeleteGroupsRequest, DeleteGroupsResponse, 2, { groupsNames: [GONE_GROUP] });
      expect(del.results).toEqual([{ groupId: GONE_GROUP, errorCode: 0 }]);
      groupsTo = Date.now();
    } finally {
      client.close();
    }
  }, 60_000);

  test("stops cleanly (SIGTERM) and leaves rolled segments with index entries", async () => {
    expect(await ours!.stop()).toBe(0);
    for (const d of partitionDirs()) {
      expect(filesIn(d, ".log").length).toBeGreaterThan(2);
      // index entries exist: the first segment's .index is not empty
      expect(readFileSync(filesIn(d, ".index")[0]!).length).toBeGreaterThan(0);
    }
    // what Kafka's LogManager looks for on its next start: the clean-shutdown marker and the offset checkpoints
    expect(JSON.parse(readFileSync(join(dir, ".kafka_cleanshutdown"), "utf8"))).toEqual({ version: 0, brokerEpoch: -1 });
    for (const f of ["recovery-point-offset-checkpoint", "log-start-offset-checkpoint", "replication-offset-checkpoint"]) expect(readFileSync(join(dir, f), "utf8")).toMatch(/^0\n\d+\n/);
  }, 30_000);

  test("DumpLogSegments --deep-iteration reads every record of every segment as produced", async () => {
    const logs = partitionDirs().flatMap((d) => filesIn(d, ".log"));
    const r = await runKafkaTool(DUMP, ["--deep-iteration", "--print-data-log", "--files", logs.join(",")], 120_000);
    expectClean("DumpLogSegments --deep-iteration", r);
    const dumped = dumpedRecords(r.stdout);
    expect([...dumped.keys()].sort()).toEqual([...logs].sort());
    expect(r.stdout).toContain("compresscodec: gzip");
    for (const d of partitionDirs()) {
      const got = filesIn(d, ".log").flatMap((f) => dumped.get(f)!);
      const want = expected.get(d.slice(dir.length + 1))!;
      expect(got).toEqual(want.map((e) => ({ offset: e.offset, timestamp: e.timestamp, headerKeys: e.headers.map(([k]) => k), key: e.key, payload: e.value })));
    }
  }, 120_000);

  test("DumpLogSegments --index-sanity-check passes every .index and .timeindex", async () => {
    const indexes = partitionDirs().flatMap((d) => [...filesIn(d, ".index"), ...filesIn(d, ".timeindex")]);
    const r = await runKafkaTool(DUMP, ["--index-sanity-check", "--files", indexes.join(",")], 120_000);
    expectClean("DumpLogSegments --index-sanity-check", r);
    for (const f of indexes) expect(r.stdout).toMatch(new RegExp(`${f.replaceAll(".", "\\.")} (passed sanity check|is empty)\\.`));
  }, 120_000);

  test("DumpLogSegments --verify-index-only finds no mismatch between the indexes and the logs", async () => {
    const indexes = partitionDirs().flatMap((d) => [...filesIn(d, ".index"), ...filesIn(d, ".timeindex")]);
    const r = await runKafkaTool(DUMP, ["--verify-index-only", "--files", indexes.join(",")], 120_000);
    expectClean("DumpLogSegments --verify-index-only", r);
    for (const f of indexes) expect(r.stdout).toContain(`Dumping ${f}`);
  }, 120_000);

  test("DumpLogSegments prints the producer snapshots: the idempotent producer's last batch at each roll and at the log end, no entries elsewhere", async () => {
    const snapshots = partitionDirs().flatMap((d) => filesIn(d, ".snapshot"));
    const r = await runKafkaTool(DUMP, ["--files", snapshots.join(",")], 120_000);
    expectClean("DumpLogSegments (snapshots)", r);
    // "Dumping <file>" then one line per producer
    const printed = new Map<string, string[]>();
    let current: string[] = [];
    for (const line of r.stdout.split("\n")) {
      const f = /^Dumping (.+)$/.exec(line);
      if (f) printed.set(f[1]!, (current = []));
      else if (line.trim()) current.push(line.trim());
    }
    expect([...printed.keys()].sort()).toEqual([...snapshots].sort());
    const idemDir = join(dir, `${IDEM_TOPIC}-${IDEM_PARTITION}`);
    const want = expected.get(`${IDEM_TOPIC}-${IDEM_PARTITION}`)!;
    for (const d of partitionDirs()) {
      const bases = filesIn(d, ".log").map((f) => Number(/(\d{20})\.log$/.exec(f)![1]));
      const offsets = filesIn(d, ".snapshot").map((f) => Number(/(\d{20})\.snapshot$/.exec(f)![1]));
      const end = expected.get(d.slice(dir.length + 1))!.length;
      // one at each rolled segment's base, one at the log end (the clean stop)
      expect(offsets).toEqual([...bases.slice(1), end]);
      for (const o of offsets) {
        const lines = printed.get(join(d, `${String(o).padStart(20, "0")}.snapshot`))!;
        if (d !== idemDir) {
          expect(lines).toEqual([]);
          continue;
        }
        // the batch ending at o - 1: seqs o - 5 .. o - 1 (a batch of 5 records), its max timestamp
        const ts = want[o - 1]!.timestamp;
        expect(lines).toEqual([
          `producerId: ${idem.producerId} producerEpoch: 0 coordinatorEpoch: -1 currentTxnFirstOffset: OptionalLong.empty lastTimestamp: ${ts} ` +
            `firstSequence: ${o - RECORDS_PER_BATCH} lastSequence: ${o - 1} lastOffset: ${o - 1} offsetDelta: ${RECORDS_PER_BATCH - 1} timestamp: ${ts}`,
        ]);
      }
    }
  }, 120_000);

  test("DumpLogSegments --cluster-metadata-decoder decodes the KRaft metadata log", async () => {
    const logs = filesIn(join(dir, "__cluster_metadata-0"), ".log");
    const r = await runKafkaTool(DUMP, ["--cluster-metadata-decoder", "--files", logs.join(",")], 120_000);
    expectClean("DumpLogSegments --cluster-metadata-decoder", r);
    const records = r.stdout
      .split("\n")
      .map((l) => /^\| offset: \d+ .* payload: (\{.*\})$/.exec(l)?.[1])
      .filter((p): p is string => p !== undefined)
      .map((p) => JSON.parse(p) as { type: string; version: number; data: Msg });
    expect(records.find((x) => x.type === "FEATURE_LEVEL_RECORD")?.data).toEqual({ name: "metadata.version", featureLevel: 20 });
    for (const t of TOPICS) {
      const topic = records.find((x) => x.type === "TOPIC_RECORD" && x.data.name === t);
      expect(topic).toBeDefined();
      expect(topic!.data.topicId).toBe(uuidToBase64(readPartitionMetadata(join(dir, `${t}-0`))!));
      const parts = records.filter((x) => x.type === "PARTITION_RECORD" && x.data.topicId === topic!.data.topicId);
      expect(parts.map((p) => [p.data.partitionId, p.data.leader, p.data.replicas])).toEqual(Array.from({ length: PARTITIONS }, (_, p) => [p, 1, [1]]));
    }
    expect(records.filter((x) => x.type === "REMOVE_TOPIC_RECORD").map((x) => x.data)).toEqual([{ topicId: doomedId }]);
  }, 120_000);


  test("DumpLogSegments --offsets-decoder reads our __consumer_offsets as Kafka's own offset commit and group metadata records", async () => {
    const files = new Map<string, number>();
    for (let p = 0; p < OFFSETS_PARTITIONS; p++) for (const f of filesIn(join(dir, `__consumer_offsets-${p}`), ".log")) files.set(f, p);
    const r = await runKafkaTool(DUMP, ["--offsets-decoder", "--files", [...files.keys()].join(",")], 120_000);
    expectClean("DumpLogSegments --offsets-decoder", r);
    const records = dumpedOffsetsRecords(r.stdout, files);
    const ofGroup = (g: string) => records.filter((x) => x.key.data.group === g);
    // every record was decoded (none fell through to raw bytes), each in its group's partition
    expect(records.length).toBe(r.stdout.split("\n").filter((l) => l.startsWith("| offset: ")).length);
    for (const g of [GROUP, SIMPLE_GROUP, GONE_GROUP]) expect(new Set(ofGroup(g).map((x) => x.partition))).toEqual(new Set([javaPartition(g, OFFSETS_PARTITIONS)]));
    const within = (t: number) => t >= groupsFrom && t <= groupsTo;
    const offsetRecord = ([g, topic, partition, offset, leaderEpoch, , metadata]: Commit) => ({
      key: { type: "1", data: { group: g, topic, partition } },
      payload: { version: "3", data: { offset, leaderEpoch, metadata, commitTimestamp: expect.any(Number) } },
    });
    const strip = (x: { key: Msg; payload: Msg | null }) => ({ key: x.key, payload: x.payload });

    const group = ofGroup(GROUP);
    expect(group.map(strip)).toEqual([
      // the new group, written at the first JoinGroup (MEMBER_ID_REQUIRED)
      { key: { type: "2", data: { group: GROUP } }, payload: { version: "3", data: { protocolType: "", generation: 0, protocol: null, leader: null, currentStateTimestamp: -1, members: [] } } },
      // generation 1 with its member, subscription and assignment, written when the leader synced
      {
        key: { type: "2", data: { group: GROUP } },
        payload: {
          version: "3",
          data: {
            protocolType: "consumer",
            generation: 1,
            protocol: "range",
            leader: member,
            currentStateTimestamp: expect.any(Number),
            members: [
              {
                memberId: member,
                groupInstanceId: null,
                clientId: GROUP_CLIENT,
                clientHost: "/127.0.0.1",
                rebalanceTimeout: REBALANCE_TIMEOUT_MS,
                sessionTimeout: SESSION_TIMEOUT_MS,
                subscription: { topics: TOPICS, userData: null },
                assignment: { assignedPartitions: ASSIGNED.map(([topic, partitions]) => ({ topic, partitions })), userData: null },
              },
            ],
          },
        },
      },
      ...COMMITS.filter((c) => c[0] === GROUP).map(offsetRecord),
    ]);
    expect(within(group[1]!.payload!.data.currentStateTimestamp)).toBe(true);
    for (const x of group.slice(2)) expect(within(x.payload!.data.commitTimestamp)).toBe(true);
    expect(ofGroup(SIMPLE_GROUP).map(strip)).toEqual(COMMITS.filter((c) => c[0] === SIMPLE_GROUP).map(offsetRecord));
    // the deleted group: its commit, then tombstones for the offset and the group
    expect(ofGroup(GONE_GROUP).map(strip)).toEqual([
      offsetRecord([GONE_GROUP, TOPICS[0]!, 0, 1, 0, "x", "x"]),
      { key: { type: "1", data: { group: GONE_GROUP, topic: TOPICS[0]!, partition: 0 } }, payload: null },
      { key: { type: "2", data: { group: GONE_GROUP } }, payload: null },
    ]);
  }, 120_000);

  test("Apache Kafka 4.4 adopts the dir unformatted and serves every record unchanged", async () => {
    const metaBefore = readFileSync(join(dir, "meta.properties"), "utf8");
    const meta = readMetaProperties(dir)!;
    reference = await startReference({ dataDir: dir });
    // Kafka must keep our cluster: the same meta.properties, cluster id and topic ids
    const client = await WireClient.connect(reference.port);
    let md: Msg;
    try {
      md = await call(client, MetadataRequest, MetadataResponse, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    } finally {
      client.close();
    }
    expect(md.clusterId).toBe(meta.clusterId);
    expect(readFileSync(join(dir, "meta.properties"), "utf8")).toBe(metaBefore);
    for (const t of TOPICS) {
      const mt = md.topics.find((x: Msg) => x.name === t);
      expect(mt?.errorCode).toBe(0);
      expect(uuidToBase64(mt.topicId)).toBe(uuidToBase64(readPartitionMetadata(join(dir, `${t}-0`))!));
      expect(mt.partitions.map((p: Msg) => [p.partitionIndex, p.leaderId, p.replicaNodes])).toEqual(Array.from({ length: PARTITIONS }, (_, p) => [p, meta.nodeId, [meta.nodeId]]));
    }

    const readBack = async (tp: string, want: Expected[]) => {
      const m = /^(.*)-(\d+)$/.exec(tp)!;
      const out = await kcat(["-C", "-b", `127.0.0.1:${reference!.port}`, "-t", m[1]!, "-p", m[2]!, "-o", "beginning", "-e", "-q", "-f", "%o|%k|%s|%h|%T\\n"]);
      const got = out.trimEnd().split("\n");
      expect(got).toEqual(want.map((e) => `${e.offset}|${e.key}|${e.value}|${e.headers.map(([k, v]) => `${k}=${v}`).join(",")}|${e.timestamp}`));
    };
    for (const [tp, want] of expected) await readBack(tp, want);

    // Kafka still knows the idempotent producer: a retry of its last batch is a duplicate
    // (answered with the original offset, not written again) and a sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER
    const producer = await WireClient.connect(reference.port);
    try {
      const send = async (records: Uint8Array) => {
        const resp = await call(producer, ProduceRequest, ProduceResponse, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: IDEM_TOPIC, partitionData: [{ index: IDEM_PARTITION, records }] }] });
        const pr = resp.responses[0].partitionResponses[0];
        return { errorCode: pr.errorCode, baseOffset: Number(pr.baseOffset) };
      };
      expect(await send(idem.lastBatch.slice())).toEqual({ errorCode: 0, baseOffset: idem.lastBaseOffset });
      // the batch before it is not: Kafka's state after a restart holds each producer's last batch only, as ours does
      expect(await send(idem.previousBatch.slice())).toEqual({ errorCode: 45, baseOffset: -1 });
      const gap = buildBatch({ producerId: idem.producerId, producerEpoch: 0, baseSequence: BATCHES_PER_PARTITION * RECORDS_PER_BATCH + 7, records: [{ value: enc.encode("gap") }] });
      expect(await send(gap)).toEqual({ errorCode: 45, baseOffset: -1 });
    } finally {
      producer.close();
    }
    // nothing was written by those
    await readBack(`${IDEM_TOPIC}-${IDEM_PARTITION}`, expected.get(`${IDEM_TOPIC}-${IDEM_PARTITION}`)!);

    // what Kafka said of the dir while adopting it (warnings and up): nothing but its own start-up notice
    // ("Performing controller activation" is a WARN on every controller start), and one race of its own:
    // our metadata log leaves node 1 leading every partition at epoch 0 (it never fences itself at shutdown),
    // so Kafka first leads __consumer_offsets at epoch 0 and starts loading it, then its controller fences
    // the node until it registers (epoch 1, no leader) and elects it again (epoch 2); a load at epoch 0 still
    // running when leadership moves fails with NotLeaderOrFollower, logged as ERROR, and the load at epoch 2
    // succeeds (the test after this one reads what it loaded)
    // The refused batches are logged as ERRORs too, each an OutOfOrderSequenceException.
    const log = readFileSync(join(reference.dir, "logs", "server.log"), "utf8");
    const epoch0Load = /\] ERROR \[GroupCoordinator id=\d+\] Failed to load metadata from __consumer_offsets-\d+ with epoch 0 due to Stopped loading records from __consumer_offsets-\d+ because the partition is not online or is no longer the leader/;
    const refused = `] ERROR [ReplicaManager broker=${meta.nodeId}] Error processing append operation on partition ${uuidToBase64(readPartitionMetadata(join(dir, `${IDEM_TOPIC}-${IDEM_PARTITION}`))!)}:${IDEM_TOPIC}-${IDEM_PARTITION} `;
    const lines = log.split("\n");
    const refusals = lines.flatMap((l, i) => (l.includes(refused) ? [lines[i + 1] ?? ""] : []));
    expect(refusals.length).toBe(2);
    for (const r of refusals) expect(r).toMatch(/^org\.apache\.kafka\.common\.errors\.OutOfOrderSequenceException: .* \(current end sequence number\)/);
    expect(refusals[0]).toContain(`${BATCHES_PER_PARTITION * RECORDS_PER_BATCH - 1} (current end sequence number)`);
    expect(lines.filter((l) => /\] (WARN|ERROR|FATAL) /.test(l) && !/Performing controller activation/.test(l) && !epoch0Load.test(l) && !l.includes(refused))).toEqual([]);
  }, 180_000);

  test("Apache Kafka 4.4 on our dir loads our __consumer_offsets: OffsetFetch answers the offsets we committed, DescribeGroups our Stable group", async () => {
    if (!reference) throw new Error("the reference Kafka did not start on our dir (see the test before)");
    const client = await WireClient.connect(reference.port);
    try {
      // Kafka loads __consumer_offsets in the background once it leads its partitions: COORDINATOR_LOAD_IN_PROGRESS (14)
      // or NOT_COORDINATOR (16) until then; wait for the answer, bounded
      const ask = () => call(client, OffsetFetchRequest, OffsetFetchResponse, 8, { groups: [GROUP, SIMPLE_GROUP, GONE_GROUP].map((groupId) => ({ groupId, topics: null })), requireStable: false });
      const deadline = Date.now() + 60_000;
      let r = await ask();
      while (r.groups.some((g: Msg) => g.errorCode === 14 || g.errorCode === 16) && Date.now() < deadline) {
        await Bun.sleep(100);
        r = await ask();
      }
      const answered = (g: string) => {
        const x = r.groups.find((y: Msg) => y.groupId === g);
        return {
          errorCode: x.errorCode,
          offsets: x.topics
            .flatMap((t: Msg) => t.partitions.map((p: Msg) => [t.name, p.partitionIndex, p.committedOffset, p.committedLeaderEpoch, p.metadata, p.errorCode]))
            .sort((a: string[], b: string[]) => `${a[0]}/${a[1]}`.localeCompare(`${b[0]}/${b[1]}`)),
        };
      };
      const want = (g: string) => ({
        errorCode: 0,
        offsets: COMMITS.filter((c) => c[0] === g)
          .map(([, topic, partition, offset, epoch, , metadata]) => [topic, partition, offset, epoch, metadata, 0])
          .sort((a, b) => `${a[0]}/${a[1]}`.localeCompare(`${b[0]}/${b[1]}`)),
      });
      expect(answered(GROUP)).toEqual(want(GROUP));
      expect(answered(SIMPLE_GROUP)).toEqual(want(SIMPLE_GROUP));
      expect(answered(GONE_GROUP)).toEqual({ errorCode: 0, offsets: [] });

      const d = await call(client, DescribeGroupsRequest, DescribeGroupsResponse, 5, { groups: [GROUP, GONE_GROUP], includeAuthorizedOperations: false });
      const [g, gone] = d.groups;
      expect([g.errorCode, g.groupState, g.protocolType, g.protocolData]).toEqual([0, "Stable", "consumer", "range"]);
      expect(g.members.map((m: Msg) => [m.memberId, m.groupInstanceId, m.clientId, m.clientHost, toHexString(m.memberMetadata), toHexString(m.memberAssignment)])).toEqual([
        [member, null, GROUP_CLIENT, "/127.0.0.1", toHexString(subscriptionBytes(TOPICS)), toHexString(assignmentBytes(ASSIGNED))],
      ]);
      expect([gone.errorCode, gone.groupState]).toEqual([0, "Dead"]);
    } finally {
      client.close();
    }
  }, 120_000);
});
