// End to end: the compiled ./kafka on a temporary log dir, driven over TCP.
// Command line, start-up failures, framing, pipelining, long-poll fetch,
// bad input, restart, and the Kafka-written fixture log dir.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Msg, removeDir, requestFrame, runCli, type RunningKafka, SHARED_FIXTURE, startKafka, tempDir, WireClient } from "./helpers.ts";
import { encode } from "../src/protocol/codec.ts";
import { Reader } from "../src/protocol/reader.ts";
import { MetadataRequest, MetadataResponse } from "../src/protocol/messages/metadata.ts";
import { ProduceRequest, ProduceResponse } from "../src/protocol/messages/produce.ts";
import { FetchRequest, FetchResponse } from "../src/protocol/messages/fetch.ts";
import { ListOffsetsRequest, ListOffsetsResponse } from "../src/protocol/messages/list-offsets.ts";
import { ApiVersionsRequest, ApiVersionsResponse } from "../src/protocol/messages/api-versions.ts";
import { DeleteTopicsRequest, DeleteTopicsResponse } from "../src/protocol/messages/delete-topics.ts";
import { DeleteRecordsRequest, DeleteRecordsResponse } from "../src/protocol/messages/delete-records.ts";
import { DescribeClusterRequest, DescribeClusterResponse } from "../src/protocol/messages/describe-cluster.ts";
import { buildBatch, decodeRecords } from "../src/records/record.ts";
import type { MessageDef } from "../src/protocol/schema.ts";
import { isFlexible } from "../src/protocol/codec.ts";

const FIXTURE = SHARED_FIXTURE;

let corr = 1;
function frame(def: MessageDef, version: number, body: Msg): { bytes: Uint8Array; corr: number } {
  const c = corr++;
  return { bytes: requestFrame(def.apiKey!, version, c, "e2e", encode(def, version, body), isFlexible(def, version)), corr: c };
}

/** Sends one request and decodes its response (checking the correlation id). */
async function call(client: WireClient, req: MessageDef, res: MessageDef, version: number, body: Msg): Promise<Msg> {
  const f = frame(req, version, body);
  client.send(f.bytes);
  return readResponse(client, res, version, f.corr);
}

async function readResponse(client: WireClient, res: MessageDef, version: number, expectCorr: number): Promise<Msg> {
  const bytes = await client.readFrame();
  if (!bytes) throw new Error("connection closed");
  const r = new Reader(bytes);
  expect(r.int32()).toBe(expectCorr);
  if (res !== ApiVersionsResponse && isFlexible(res, version)) r.uvarint();
  return (await import("../src/protocol/codec.ts")).codecFor(res, version).read(r);
}

/** Creates a topic the way producers do: a Metadata request that allows auto-creation (Produce never creates). */
async function createTopic(client: WireClient, name: string): Promise<void> {
  const md = await call(client, MetadataRequest, MetadataResponse, 12, { topics: [{ topicId: new Uint8Array(16), name }], allowAutoTopicCreation: true });
  expect(md.topics[0].errorCode).toBe(0);
}

function produceBody(topic: string, partition: number, values: string[], acks = 1): Msg {
  const batch = buildBatch({ baseTimestamp: Date.now(), records: values.map((v) => ({ key: null, value: new TextEncoder().encode(v) })) });
  return { transactionalId: null, acks, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }] };
}

function fetchBody(topic: string, partition: number, offset: number, maxWaitMs = 0, minBytes = 1): Msg {
  return {
    replicaId: -1,
    maxWaitMs,
    minBytes,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 1 << 20, logStartOffset: -1, currentLeaderEpoch: -1 }] }],
    forgottenTopicsData: [],
    rackId: "",
  };
}

function values(records: Uint8Array | null): string[] {
  if (!records || records.length === 0) return [];
  const out: string[] = [];
  let p = 0;
  const v = new DataView(records.buffer, records.byteOffset, records.byteLength);
  while (p + 12 <= records.length) {
    const size = v.getInt32(p + 8) + 12;
    for (const r of decodeRecords(records.subarray(p, p + size))) out.push(new TextDecoder().decode(r.value!));
    p += size;
  }
  return out;
}

describe("command line", () => {
  test("--version and --help", async () => {
    const v = await runCli(["--version"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^kafka \d+\.\d+\.\d+\n$/);
    const h = await runCli(["--help"]);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain("--override");
  });

  test("missing properties file: one line on stderr, exit 1", async () => {
    const r = await runCli(["/nonexistent/server.properties"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("/nonexistent/server.properties");
  });

  test("bad value: one line on stderr, exit 1", async () => {
    const r = await runCli(["--override", "num.partitions=abc"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("num.partitions");
  });

  test("malformed listeners: exit 1", async () => {
    const r = await runCli(["--override", "listeners=nonsense"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("listeners");
  });

  test("port in use: one line, exit 1; properties file with unknown Kafka keys is accepted", async () => {
    const dir = tempDir();
    const first = await startKafka(dir);
    try {
      const props = join(dir, "server.properties");
      writeFileSync(props, `process.roles=broker,controller\ncontroller.quorum.voters=1@localhost:9093\nnode.id=1\nlisteners=PLAINTEXT://127.0.0.1:${first.port}\nlog.dirs=${dir}-2\n`);
      const r = await runCli([props]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain("in use");
    } finally {
      expect(await first.stop()).toBe(0);
      removeDir(dir);
      removeDir(`${dir}-2`);
    }
  });
});

describe("running broker", () => {
  let dir: string;
  let kafka: RunningKafka;
  beforeAll(async () => {
    dir = tempDir();
    kafka = await startKafka(dir, ["--override", "num.partitions=2"]);
  });
  afterAll(async () => {
    expect(await kafka.stop()).toBe(0);
    removeDir(dir);
  });

  test("prints one start-up line with the listener and the log dir; formats the dir", () => {
    expect(kafka.output()).toContain(`listening on PLAINTEXT://127.0.0.1:${kafka.port}`);
    expect(kafka.output()).toContain(`log dir ${dir}`);
    expect(readFileSync(join(dir, "meta.properties"), "utf8")).toMatch(/cluster\.id=\S{22}/);
    expect(existsSync(join(dir, "__cluster_metadata-0", "00000000000000000000.log"))).toBe(true);
  });

  test("ApiVersions, then auto-create through Metadata", async () => {
    const c = await WireClient.connect(kafka.port);
    try {
      const av = await call(c, ApiVersionsRequest, ApiVersionsResponse, 3, { clientSoftwareName: "e2e", clientSoftwareVersion: "1" });
      expect(av.errorCode).toBe(0);
      expect(av.apiKeys.map((k: Msg) => k.apiKey)).toEqual([0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23, 32, 33, 35, 37, 42, 43, 44, 45, 46, 47, 60, 75]);
      const md = await call(c, MetadataRequest, MetadataResponse, 12, { topics: [{ topicId: new Uint8Array(16), name: "auto" }], allowAutoTopicCreation: true });
      expect(md.brokers).toEqual([{ nodeId: 1, host: "127.0.0.1", port: kafka.port, rack: null }]);
      expect(md.controllerId).toBe(1);
      expect(md.topics[0].errorCode).toBe(0);
      expect(md.topics[0].partitions).toHaveLength(2);
      expect(existsSync(join(dir, "auto-0", "00000000000000000000.log"))).toBe(true);
      expect(existsSync(join(dir, "auto-1", "partition.metadata"))).toBe(true);
    } finally {
      c.close();
    }
  });

  test("frames split byte by byte and many frames in one write", async () => {
    const c = await WireClient.connect(kafka.port);
    try {
      const f = frame(MetadataRequest, 1, { topics: [] });
      for (const b of f.bytes) c.send(new Uint8Array([b]));
      const md = await readResponse(c, MetadataResponse, 1, f.corr);
      expect(md.controllerId).toBe(1);
      const frames = Array.from({ length: 50 }, () => frame(ApiVersionsRequest, 0, {}));
      const all = new Uint8Array(frames.reduce((n, x) => n + x.bytes.length, 0));
      let p = 0;
      for (const x of frames) {
        all.set(x.bytes, p);
        p += x.bytes.length;
      }
      c.send(all);
      for (const x of frames) expect((await readResponse(c, ApiVersionsResponse, 0, x.corr)).errorCode).toBe(0);
    } finally {
      c.close();
    }
  });

  test("produce then fetch the same records; records are on disk after the response", async () => {
    const c = await WireClient.connect(kafka.port);
    try {
      await createTopic(c, "pf");
      const pr = await call(c, ProduceRequest, ProduceResponse, 9, produceBody("pf", 0, ["a", "b", "c"]));
      expect(pr.responses[0].partitionResponses[0]).toMatchObject({ index: 0, errorCode: 0, baseOffset: 0, logAppendTimeMs: -1, logStartOffset: 0 });
      const onDisk = readFileSync(join(dir, "pf-0", "00000000000000000000.log"));
      expect(values(new Uint8Array(onDisk))).toEqual(["a", "b", "c"]);
      const pr2 = await call(c, ProduceRequest, ProduceResponse, 3, produceBody("pf", 0, ["d"]));
      expect(pr2.responses[0].partitionResponses[0].baseOffset).toBe(3);
      const fr = await call(c, FetchRequest, FetchResponse, 12, fetchBody("pf", 0, 0));
      const part = fr.responses[0].partitions[0];
      expect(part.errorCode).toBe(0);
      expect(part.highWatermark).toBe(4);
      expect(values(part.records)).toEqual(["a", "b", "c", "d"]);
      // fetch from inside the first batch returns that whole batch
      const fr2 = await call(c, FetchRequest, FetchResponse, 4, fetchBody("pf", 0, 1));
      expect(values(fr2.responses[0].partitions[0].records)).toEqual(["a", "b", "c", "d"]);
      const out = await call(c, FetchRequest, FetchResponse, 12, fetchBody("pf", 0, 99));
      expect(out.responses[0].partitions[0].errorCode).toBe(1);
      const lo = await call(c, ListOffsetsRequest, ListOffsetsResponse, 5, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name: "pf", partitions: [{ partitionIndex: 0, timestamp: -1, currentLeaderEpoch: -1 }, { partitionIndex: 1, timestamp: -2, currentLeaderEpoch: -1 }] }],
      });
      expect(lo.topics[0].partitions.map((p: Msg) => p.offset)).toEqual([4, 0]);
    } finally {
      c.close();
    }
  });

  test("a fetch at the log end waits, and answers as soon as a produce arrives; pipelined requests stay in order", async () => {
    const consumer = await WireClient.connect(kafka.port);
    const producer = await WireClient.connect(kafka.port);
    try {
      await createTopic(producer, "lp");
      await call(producer, ProduceRequest, ProduceResponse, 9, produceBody("lp", 0, ["first"]));
      const waiting = frame(FetchRequest, 12, fetchBody("lp", 0, 1, 20000, 1));
      const behind = frame(ApiVersionsRequest, 0, {});
      consumer.send(waiting.bytes);
      consumer.send(behind.bytes);
      const started = Date.now();
      const fetched = readResponse(consumer, FetchResponse, 12, waiting.corr);
      await call(producer, ProduceRequest, ProduceResponse, 9, produceBody("lp", 0, ["second"]));
      const res = await fetched;
      expect(Date.now() - started).toBeLessThan(10000);
      expect(values(res.responses[0].partitions[0].records)).toEqual(["second"]);
      expect((await readResponse(consumer, ApiVersionsResponse, 0, behind.corr)).errorCode).toBe(0);
    } finally {
      consumer.close();
      producer.close();
    }
  });

  // Apache Kafka 4.4 (checked by test/differential.test.ts): a fetch with no
  // partition to wait on is answered at once, whatever max_wait_ms says.
  test("an empty fetch is valid: answered at once with no topics", async () => {
    const c = await WireClient.connect(kafka.port);
    try {
      const started = performance.now();
      const res = await call(c, FetchRequest, FetchResponse, 12, { ...fetchBody("", 0, 0, 5000, 1), topics: [] });
      expect(res.errorCode).toBe(0);
      expect(res.responses).toEqual([]);
      expect(performance.now() - started).toBeLessThan(4000);
    } finally {
      c.close();
    }
  });


  test("acks=0 gets no response; the next request is still answered", async () => {
    const c = await WireClient.connect(kafka.port);
    try {
      await createTopic(c, "a0");
      c.send(frame(ProduceRequest, 9, produceBody("a0", 0, ["x"], 0)).bytes);
      const lo = await call(c, ListOffsetsRequest, ListOffsetsResponse, 5, { replicaId: -1, isolationLevel: 0, topics: [{ name: "a0", partitions: [{ partitionIndex: 0, timestamp: -1, currentLeaderEpoch: -1 }] }] });
      expect(lo.topics[0].partitions[0].offset).toBe(1);
    } finally {
      c.close();
    }
  });

  test("an oversized frame or an undecodable request closes only that connection", async () => {
    const healthy = await WireClient.connect(kafka.port);
    const bad = await WireClient.connect(kafka.port);
    const bad2 = await WireClient.connect(kafka.port);
    const half = await WireClient.connect(kafka.port);
    try {
      bad.send(new Uint8Array([0x7f, 0xff, 0xff, 0xff, 0, 3, 0, 1]));
      expect(await bad.readFrame()).toBeNull();
      // Metadata v1 whose topic array claims 1000 entries
      bad2.send(requestFrame(3, 1, 7, "x", new Uint8Array([0, 0, 3, 0xe8, 0, 1]), false));
      expect(await bad2.readFrame()).toBeNull();
      // a client that disconnects mid-request
      half.send(frame(MetadataRequest, 1, { topics: [] }).bytes.subarray(0, 7));
      half.close();
      const av = await call(healthy, ApiVersionsRequest, ApiVersionsResponse, 2, {});
      expect(av.errorCode).toBe(0);
    } finally {
      healthy.close();
      bad.close();
      bad2.close();
    }
  });

  test("DeleteTopics: the partition dirs are renamed -delete, then removed; Metadata no longer lists the topic; re-created with a new id", async () => {
    const c = await WireClient.connect(kafka.port);
    try {
      await createTopic(c, "gone");
      const md = await call(c, MetadataRequest, MetadataResponse, 12, { topics: [{ topicId: new Uint8Array(16), name: "gone" }], allowAutoTopicCreation: false });
      const oldId: Uint8Array = md.topics[0].topicId;
      expect((await call(c, ProduceRequest, ProduceResponse, 9, produceBody("gone", 0, ["a", "b"]))).responses[0].partitionResponses[0].errorCode).toBe(0);
      const del = await call(c, DeleteTopicsRequest, DeleteTopicsResponse, 6, { topics: [{ name: "gone", topicId: new Uint8Array(16) }], timeoutMs: 5000 });
      expect(del.responses).toEqual([{ name: "gone", topicId: oldId, errorCode: 0, errorMessage: null }]);
      const dirs = () => readdirSync(dir).filter((d) => d.startsWith("gone-"));
      // renamed at once (`gone-<n>.<uuid hex>-delete`), removed once unread: bounded wait
      expect(dirs().every((d) => /^gone-\d+\.[0-9a-f]{32}-delete$/.test(d))).toBe(true);
      const deadline = Date.now() + 10_000;
      while (dirs().length > 0 && Date.now() < deadline) await Bun.sleep(20);
      expect(dirs()).toEqual([]);
      const all = await call(c, MetadataRequest, MetadataResponse, 12, { topics: null, allowAutoTopicCreation: false });
      expect(all.topics.map((t: Msg) => t.name)).not.toContain("gone");
      const byName = await call(c, MetadataRequest, MetadataResponse, 12, { topics: [{ topicId: new Uint8Array(16), name: "gone" }], allowAutoTopicCreation: false });
      expect(byName.topics[0].errorCode).toBe(3);
      // created again: a new id; a fetch by the old id is UNKNOWN_TOPIC_ID
      await createTopic(c, "gone");
      const again = await call(c, MetadataRequest, MetadataResponse, 12, { topics: [{ topicId: new Uint8Array(16), name: "gone" }], allowAutoTopicCreation: false });
      expect(Buffer.from(again.topics[0].topicId).equals(Buffer.from(oldId))).toBe(false);
      const f = await call(c, FetchRequest, FetchResponse, 13, { ...fetchBody("gone", 0, 0), topics: [{ topicId: oldId, partitions: [{ partition: 0, fetchOffset: 0, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }] });
      expect(f.responses[0].partitions[0].errorCode).toBe(100);
    } finally {
      c.close();
    }
  });

  test("DescribeCluster: this node at the listener's address, the controller", async () => {
    const c = await WireClient.connect(kafka.port);
    try {
      const dc = await call(c, DescribeClusterRequest, DescribeClusterResponse, 1, { includeClusterAuthorizedOperations: false, endpointType: 1 });
      expect(dc.errorCode).toBe(0);
      expect(dc.clusterId).toMatch(/^\S{22}$/);
      expect(dc.controllerId).toBe(1);
      expect(dc.brokers).toEqual([{ brokerId: 1, host: "127.0.0.1", port: kafka.port, rack: null }]);
    } finally {
      c.close();
    }
  });

  test("many connections at once", async () => {
    const clients = await Promise.all(Array.from({ length: 50 }, () => WireClient.connect(kafka.port)));
    try {
      const results = await Promise.all(clients.map((c) => call(c, MetadataRequest, MetadataResponse, 4, { topics: null, allowAutoTopicCreation: false })));
      for (const r of results) expect(r.controllerId).toBe(1);
    } finally {
      for (const c of clients) c.close();
    }
  });
});

describe("restart and existing log dirs", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) removeDir(d);
  });

  test("a restart keeps topics (same id) and records", async () => {
    const dir = tempDir();
    dirs.push(dir);
    let kafka = await startKafka(dir, ["--override", "num.partitions=3"]);
    let c = await WireClient.connect(kafka.port);
    const md1 = await call(c, MetadataRequest, MetadataResponse, 12, { topics: [{ topicId: new Uint8Array(16), name: "keep" }], allowAutoTopicCreation: true });
    await call(c, ProduceRequest, ProduceResponse, 9, produceBody("keep", 2, ["one", "two"]));
    c.close();
    expect(await kafka.stop()).toBe(0);
    kafka = await startKafka(dir);
    try {
      c = await WireClient.connect(kafka.port);
      const md2 = await call(c, MetadataRequest, MetadataResponse, 12, { topics: null, allowAutoTopicCreation: false });
      expect(md2.topics).toHaveLength(1);
      expect(md2.topics[0].topicId).toEqual(md1.topics[0].topicId);
      expect(md2.topics[0].partitions).toHaveLength(3);
      const fr = await call(c, FetchRequest, FetchResponse, 13, { ...fetchBody("", 2, 0), topics: [{ topicId: md1.topics[0].topicId, partitions: [{ partition: 2, fetchOffset: 0, partitionMaxBytes: 1 << 20, logStartOffset: -1, currentLeaderEpoch: -1 }] }] });
      expect(values(fr.responses[0].partitions[0].records)).toEqual(["one", "two"]);
      c.close();
    } finally {
      expect(await kafka.stop()).toBe(0);
    }
  });

  test("DeleteRecords: segments below go, Fetch below the new start is OFFSET_OUT_OF_RANGE, ListOffsets earliest follows; log-start-offset-checkpoint keeps it across a restart", async () => {
    const dir = tempDir();
    dirs.push(dir);
    // small segments: each produce below rolls a new one
    let kafka = await startKafka(dir, ["--override", "log.segment.bytes=100"]);
    let c = await WireClient.connect(kafka.port);
    const earliest = async () =>
      (await call(c, ListOffsetsRequest, ListOffsetsResponse, 8, { replicaId: -1, isolationLevel: 0, topics: [{ name: "dr", partitions: [{ partitionIndex: 0, timestamp: -2 }] }] })).topics[0].partitions[0];
    const check = async (start: number) => {
      expect((await earliest()).offset).toBe(start);
      const below = (await call(c, FetchRequest, FetchResponse, 12, fetchBody("dr", 0, start - 1))).responses[0].partitions[0];
      expect([below.errorCode, below.logStartOffset]).toEqual([1, -1]);
      const at = (await call(c, FetchRequest, FetchResponse, 12, fetchBody("dr", 0, start))).responses[0].partitions[0];
      expect([at.errorCode, at.logStartOffset]).toEqual([0, start]);
      expect(values(at.records)).toContain(`v${start}`);
    };
    try {
      await createTopic(c, "dr");
      for (let i = 0; i < 6; i++) await call(c, ProduceRequest, ProduceResponse, 9, produceBody("dr", 0, [`v${i}`, `w${i}`]));
      const segs = () => readdirSync(join(dir, "dr-0")).filter((f) => f.endsWith(".log")).length;
      const before = segs();
      expect(before).toBeGreaterThan(3);
      const del = await call(c, DeleteRecordsRequest, DeleteRecordsResponse, 2, { topics: [{ name: "dr", partitions: [{ partitionIndex: 0, offset: 5 }] }], timeoutMs: 5000 });
      expect(del.topics[0].partitions[0]).toEqual({ partitionIndex: 0, lowWatermark: 5, errorCode: 0 });
      // offset 5 is in the middle of the segment at 4: those at 0 and 2 go, that one stays
      expect(segs()).toBe(before - 2);
      expect(readFileSync(join(dir, "log-start-offset-checkpoint"), "utf8")).toBe("0\n1\ndr 0 5\n");
      // the records of offset 4 are still in the log, but below the start: out of range
      const at4 = (await call(c, FetchRequest, FetchResponse, 12, fetchBody("dr", 0, 4))).responses[0].partitions[0];
      expect(at4.errorCode).toBe(1);
      await check(5);
      c.close();
      expect(await kafka.stop()).toBe(0);
      kafka = await startKafka(dir, ["--override", "log.segment.bytes=100"]);
      c = await WireClient.connect(kafka.port);
      await check(5);
      c.close();
    } finally {
      expect(await kafka.stop()).toBe(0);
    }
  });

  test.skipIf(!existsSync(FIXTURE))("serves the Kafka-written fixture log dir as it is", async () => {
    const dir = tempDir();
    dirs.push(dir);
    cpSync(FIXTURE, dir, { recursive: true });
    const kafka = await startKafka(dir);
    try {
      const c = await WireClient.connect(kafka.port);
      expect(kafka.output()).toContain("cluster.id rwd2jqiwRaCycLq7mKVHXA");
      const md = await call(c, MetadataRequest, MetadataResponse, 12, { topics: null });
      const foo = md.topics.find((t: Msg) => t.name === "foo");
      expect(foo).toBeDefined();
      const fr = await call(c, FetchRequest, FetchResponse, 12, fetchBody("foo", 0, 0));
      const part = fr.responses[0].partitions[0];
      expect(part.errorCode).toBe(0);
      const onDisk = new Uint8Array(readFileSync(join(dir, "foo-0", "00000000000000000000.log")));
      expect(part.records).toEqual(onDisk);
      c.close();
    } finally {
      expect(await kafka.stop()).toBe(0);
    }
  });

  test("a log dir with meta.properties and partition folders but no metadata log starts without reformatting", async () => {
    const dir = tempDir();
    dirs.push(dir);
    let kafka = await startKafka(dir);
    let c = await WireClient.connect(kafka.port);
    await createTopic(c, "orphan");
    await call(c, ProduceRequest, ProduceResponse, 9, produceBody("orphan", 0, ["kept"]));
    c.close();
    expect(await kafka.stop()).toBe(0);
    const meta = readFileSync(join(dir, "meta.properties"), "utf8");
    removeDir(join(dir, "__cluster_metadata-0"));
    kafka = await startKafka(dir);
    try {
      expect(readFileSync(join(dir, "meta.properties"), "utf8")).toBe(meta);
      expect(readdirSync(dir)).toContain("orphan-0");
      c = await WireClient.connect(kafka.port);
      const av = await call(c, ApiVersionsRequest, ApiVersionsResponse, 0, {});
      expect(av.errorCode).toBe(0);
      c.close();
    } finally {
      expect(await kafka.stop()).toBe(0);
    }
  });
});
