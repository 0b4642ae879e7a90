// Configs as data: the catalog's defaults and validation, --help, unknown keys
// at start-up, topic ConfigRecords (write, replay, delete, fallback) and the
// per-topic keys the broker applies (max.message.bytes, segment.bytes), and
// Kafka's internal keys (listed by DescribeConfigs only when set).

import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MessageDef } from "../src/protocol/schema.ts";
import { type InProcessConnection, type Msg, removeDir, requestFrame, runCli, startInProcess, startKafka, tempDir } from "./helpers.ts";
import { BROKER_CONFIGS, ConfigSource, TOPIC_CONFIGS } from "../src/config/catalog.ts";
import { KAFKA_BROKER_KEYS } from "../src/config/kafka-keys.ts";
import { buildConfig, ConfigError, parseProperties, unknownKeys } from "../src/config.ts";
import { MetadataError, MetadataStore } from "../src/metadata/store.ts";
import { ErrorCode } from "../src/protocol/errors.ts";
import { codecFor, encode } from "../src/protocol/codec.ts";
import { Reader } from "../src/protocol/reader.ts";
import { ProduceRequest, ProduceResponse } from "../src/protocol/messages/produce.ts";
import { DescribeConfigsRequest, DescribeConfigsResponse } from "../src/protocol/messages/describe-configs.ts";
import { buildBatch } from "../src/records/record.ts";

// Kafka's config/kraft/server.properties (combined mode), comments left out
const KAFKA_KRAFT_SERVER_PROPERTIES = `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9093
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
log.dirs=/tmp/kraft-combined-logs
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
`;

const dirs: string[] = [];
function dir(): string {
  const d = tempDir("kafka-config-");
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

function configError(raw: Record<string, string>): string {
  try {
    buildConfig(new Map(Object.entries(raw)));
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error("no ConfigError");
}

describe("catalog", () => {
  test("defaults are Kafka's", () => {
    const kafka: Record<string, string | null> = {
      "num.partitions": "1",
      "log.segment.bytes": "1073741824",
      "message.max.bytes": "1048588",
      "socket.request.max.bytes": "104857600",
      "log.retention.hours": "168",
      "log.retention.ms": null,
      "log.retention.check.interval.ms": "300000",
      "log.index.size.max.bytes": "10485760",
      "log.index.interval.bytes": "4096",
      "group.initial.rebalance.delay.ms": "3000",
      "group.min.session.timeout.ms": "6000",
      "group.max.session.timeout.ms": "1800000",
      "offsets.topic.num.partitions": "50",
      "offsets.retention.minutes": "10080",
      "producer.id.expiration.ms": "86400000",
      "transactional.id.expiration.ms": "604800000",
      "connections.max.idle.ms": "600000",
      "max.connections": "2147483647",
      "log.message.timestamp.after.max.ms": "3600000", // Kafka 4.4 answers 3600000 (DescribeConfigs)
      "compression.type": "producer",
      "listeners": "PLAINTEXT://:9092",
    };
    for (const [k, v] of Object.entries(kafka)) expect([k, BROKER_CONFIGS.get(k)?.default]).toEqual([k, v]);
    expect(TOPIC_CONFIGS.get("retention.ms")!.default).toBe("604800000");
    expect(TOPIC_CONFIGS.get("cleanup.policy")!.default).toBe("delete");
    expect(TOPIC_CONFIGS.get("retention.ms")!.synonyms.map((s) => s.name)).toEqual(["log.retention.ms", "log.retention.minutes", "log.retention.hours"]);
    expect(TOPIC_CONFIGS.get("max.message.bytes")!.synonyms.map((s) => s.name)).toEqual(["message.max.bytes"]);
    // node.id: ours is 1 so a bare ./kafka starts; Kafka's is -1 (required in KRaft)
    expect(BROKER_CONFIGS.get("node.id")!.kafkaDefault).toBe("-1");
  });

  test("every catalog key is a Kafka key, except our own", () => {
    for (const k of BROKER_CONFIGS.values()) expect([k.name, KAFKA_BROKER_KEYS.has(k.name)]).toEqual([k.name, k.kafka]);
    for (const k of TOPIC_CONFIGS.values()) for (const s of k.synonyms) expect([s.name, KAFKA_BROKER_KEYS.has(s.name)]).toEqual([s.name, true]);
  });

  test("update modes and flags", () => {
    expect(BROKER_CONFIGS.get("log.segment.bytes")!.updateMode).toBe("cluster-wide");
    expect(BROKER_CONFIGS.get("listeners")!.updateMode).toBe("per-broker");
    expect(BROKER_CONFIGS.get("log.retention.hours")!.updateMode).toBe("read-only");
    expect(BROKER_CONFIGS.get("node.id")!.updateMode).toBe("read-only");
    expect([...TOPIC_CONFIGS.values()].every((k) => k.updateMode !== "read-only")).toBe(true);
    expect(BROKER_CONFIGS.get("log.level")!.kafka).toBe(false);
  });
});

describe("validation", () => {
  test("bad values: one line naming the key", () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ "num.partitions": "abc" }, "num.partitions", /Not a number of type INT/],
      [{ "num.partitions": "0" }, "num.partitions", /at least 1/],
      [{ "log.segment.bytes": "99999999999" }, "log.segment.bytes", /Not a number of type INT/],
      [{ "auto.create.topics.enable": "yes" }, "auto.create.topics.enable", /true or false/],
      [{ "compression.type": "brotli" }, "compression.type", /one of/],
      [{ "log.cleanup.policy": "delete,forever" }, "log.cleanup.policy", /one of/],
      [{ "group.max.size": "0" }, "group.max.size", /at least 1/],
      [{ "log.level": "loud" }, "log.level", /one of/],
    ];
    for (const [raw, key, why] of cases) {
      const msg = configError(raw);
      expect(msg).toContain(key);
      expect(msg).toMatch(why);
      expect(msg).not.toContain("\n");
    }
  });

  test("good values parse: trimmed, case-insensitive booleans, longs", () => {
    const c = buildConfig(new Map(Object.entries({ "num.partitions": " 3 ", "auto.create.topics.enable": "FALSE", "log.retention.ms": "-1", "log.level": "DEBUG" })));
    expect(c.numPartitions).toBe(3);
    expect(c.autoCreateTopicsEnable).toBe(false);
    expect(c.logLevel).toBe("debug");
  });

  test("--override with a bad value: one line on stderr, exit 1", async () => {
    const r = await runCli(["--override", "message.max.bytes=-5"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("message.max.bytes");
  });

  test("unknown keys: Kafka keys we do not implement vs keys Kafka does not have", () => {
    const raw = parseProperties(KAFKA_KRAFT_SERVER_PROPERTIES + "listener.name.internal.ssl.keystore.location=/x\nnot.a.kafka.key=1\nsegment.bytes=5\n");
    const u = unknownKeys(raw);
    expect(u.notKafka).toEqual(["not.a.kafka.key", "segment.bytes"]);
    expect(u.notImplemented).toContain("process.roles");
    expect(u.notImplemented).toContain("controller.quorum.voters");
    expect(u.notImplemented).toContain("listener.name.internal.ssl.keystore.location");
    expect(unknownKeys(parseProperties(KAFKA_KRAFT_SERVER_PROPERTIES)).notKafka).toEqual([]);
  });
});

describe("./kafka", () => {
  test("--help lists the catalog's keys with their defaults", async () => {
    const h = await runCli(["--help"]);
    expect(h.code).toBe(0);
    for (const k of [...BROKER_CONFIGS.values(), ...TOPIC_CONFIGS.values()]) expect(h.stdout).toContain(k.name);
    expect(h.stdout).toMatch(/message\.max\.bytes\s+1048588/);
    // applied keys come before the declared-only ones
    expect(h.stdout.indexOf("log.segment.bytes")).toBeLessThan(h.stdout.indexOf("Declared"));
    expect(h.stdout.indexOf("group.max.size")).toBeLessThan(h.stdout.indexOf("Declared"));
    expect(h.stdout.indexOf("offsets.topic.replication.factor")).toBeGreaterThan(h.stdout.indexOf("Declared"));
  });

  test("Kafka's kraft server.properties starts without warnings; a non-Kafka key gets one warning line", async () => {
    const d = dir();
    const props = join(d, "server.properties");
    writeFileSync(props, KAFKA_KRAFT_SERVER_PROPERTIES);
    let k = await startKafka(join(d, "data"), [props]);
    expect(await k.stop()).toBe(0);
    expect(k.output()).not.toContain("WARN");
    expect(k.output()).not.toContain("process.roles");

    writeFileSync(props, KAFKA_KRAFT_SERVER_PROPERTIES + "frobnicate.level=9\nlog.level=debug\n");
    k = await startKafka(join(d, "data"), [props]);
    expect(await k.stop()).toBe(0);
    const warns = k.output().split("\n").filter((l) => l.includes("WARN"));
    expect(warns).toHaveLength(1);
    expect(warns[0]).toContain("frobnicate.level");
    const debug = k.output().split("\n").filter((l) => l.includes("DEBUG") && l.includes("process.roles"));
    expect(debug).toHaveLength(1);
    expect(debug[0]).toContain("controller.quorum.voters");
  });
});

describe("topic configs in the metadata log", () => {
  test("written as ConfigRecords, replayed after reopening, deleted by a null value", () => {
    const d = dir();
    let store = MetadataStore.open({ logDir: d, nodeId: 1 });
    store.createTopic("t", 1, { "retention.ms": "1000" });
    store.createTopic("u", 1);
    store.alterTopicConfigs("t", { "segment.bytes": "4096", "cleanup.policy": "compact" });
    expect(store.image.topicConfigs.get("t")).toEqual(new Map([["retention.ms", "1000"], ["segment.bytes", "4096"], ["cleanup.policy", "compact"]]));
    store.close();

    store = MetadataStore.open({ logDir: d, nodeId: 1 });
    expect(store.image.topicConfigs.get("t")).toEqual(new Map([["retention.ms", "1000"], ["segment.bytes", "4096"], ["cleanup.policy", "compact"]]));
    expect(store.image.topicConfigs.has("u")).toBe(false);
    expect(store.topicConfig("t").segmentBytes).toBe(4096);
    store.alterTopicConfigs("t", { "segment.bytes": null });
    expect(store.topicConfig("t").segmentBytes).toBe(1073741824);
    store.close();

    store = MetadataStore.open({ logDir: d, nodeId: 1 });
    expect(store.image.topicConfigs.get("t")).toEqual(new Map([["retention.ms", "1000"], ["cleanup.policy", "compact"]]));
    // a RemoveTopicRecord drops the topic's configs
    const id = store.image.topics.get("t")!.id;
    expect(store.image.replay({ apiKey: 9, data: { topicId: id } })).toBeNull();
    expect(store.image.topicConfigs.has("t")).toBe(false);
    store.close();
  });

  test("unknown key or bad value: INVALID_CONFIG naming the key, nothing written", () => {
    const store = MetadataStore.open({ logDir: dir(), nodeId: 1 });
    store.createTopic("t", 1);
    const refused = (f: () => void): MetadataError => {
      try {
        f();
      } catch (e) {
        if (e instanceof MetadataError) return e;
        throw e;
      }
      throw new Error("not refused");
    };
    for (const [entries, key] of [
      [{ "no.such.key": "1" }, "no.such.key"],
      [{ "segment.bytes": "abc" }, "segment.bytes"],
      [{ "segment.bytes": "13" }, "segment.bytes"],
      [{ "message.timestamp.type": "Now" }, "message.timestamp.type"],
      [{ preallocate: "maybe" }, "preallocate"],
      [{ "retention.ms": "5", "log.segment.bytes": "100" }, "log.segment.bytes"],
    ] as [Record<string, string>, string][]) {
      const e = refused(() => store.alterTopicConfigs("t", entries));
      expect(e.code).toBe(ErrorCode.INVALID_CONFIG);
      expect(e.code).toBe(40);
      expect(e.message).toContain(key);
    }
    expect(store.image.topicConfigs.has("t")).toBe(false);
    const e = refused(() => store.createTopic("v", 1, { "max.message.bytes": "-1" }));
    expect(e.code).toBe(40);
    expect(store.image.topics.has("v")).toBe(false);
    expect(refused(() => store.alterTopicConfigs("missing", { "retention.ms": "1" })).code).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    store.close();
  });

  test("effective value: topic -> broker synonyms in order -> default", () => {
    const d = dir();
    const open = (broker: Record<string, string>) => MetadataStore.open({ logDir: d, nodeId: 1, brokerConfig: new Map(Object.entries(broker)) });
    let store = open({});
    store.createTopic("t", 1);
    const retention = () => store.configs.topic("t", "retention.ms");
    expect(retention()).toMatchObject({ value: 604800000, source: ConfigSource.DEFAULT_CONFIG, from: "retention.ms" });
    store.close();

    store = open({ "log.retention.hours": "1" });
    expect(retention()).toMatchObject({ value: 3600000, source: ConfigSource.STATIC_BROKER_CONFIG, from: "log.retention.hours" });
    store.close();

    store = open({ "log.retention.hours": "1", "log.retention.minutes": "2" });
    expect(retention()).toMatchObject({ value: 120000, from: "log.retention.minutes" });
    store.close();

    store = open({ "log.retention.hours": "1", "log.retention.minutes": "2", "log.retention.ms": "3" });
    expect(retention()).toMatchObject({ value: 3, from: "log.retention.ms" });
    store.alterTopicConfigs("t", { "retention.ms": "4" });
    expect(retention()).toMatchObject({ value: 4, source: ConfigSource.DYNAMIC_TOPIC_CONFIG, from: "retention.ms" });
    store.alterTopicConfigs("t", { "retention.ms": null });
    expect(retention()).toMatchObject({ value: 3, from: "log.retention.ms" });
    // max.message.bytes <- message.max.bytes; a broker ConfigRecord (cluster default) beats the static value
    expect(store.topicConfig("t").maxMessageBytes).toBe(1048588);
    store.close();

    store = open({ "message.max.bytes": "500" });
    expect(store.topicConfig("t").maxMessageBytes).toBe(500);
    store.image.replay({ apiKey: 4, data: { resourceType: 4, resourceName: "", name: "message.max.bytes", value: "600" } });
    expect(store.configs.topic("t", "max.message.bytes")).toMatchObject({ value: 600, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG });
    store.image.replay({ apiKey: 4, data: { resourceType: 4, resourceName: "1", name: "message.max.bytes", value: "700" } });
    expect(store.configs.topic("t", "max.message.bytes")).toMatchObject({ value: 700, source: ConfigSource.DYNAMIC_BROKER_CONFIG });
    store.close();
  });
});

/** Sends one request (flexible header) and decodes its response. */
async function roundTrip(conn: InProcessConnection, req: MessageDef, res: MessageDef, v: number, corr: number, body: Msg): Promise<Msg> {
  conn.send(requestFrame(req.apiKey!, v, corr, "cfg", encode(req, v, body), true));
  let buf = new Uint8Array(0);
  for (;;) {
    const more = await conn.waitFor(1);
    const next = new Uint8Array(buf.length + more.length);
    next.set(buf);
    next.set(more, buf.length);
    buf = next;
    if (buf.length >= 4 && buf.length >= 4 + new DataView(buf.buffer).getInt32(0)) break;
  }
  const r = new Reader(buf.subarray(4));
  expect(r.int32()).toBe(corr);
  r.uvarint();
  return codecFor(res, v).read(r) as Msg;
}

describe("internal keys", () => {
  test("producer.id.expiration.check.interval.ms (Kafka's defineInternal): DescribeConfigs lists it only when server.properties sets it", async () => {
    const key = BROKER_CONFIGS.get("producer.id.expiration.check.interval.ms")!;
    expect([key.internal, key.default, key.updateMode, key.applied]).toEqual([true, "600000", "read-only", true]);
    const names = async (overrides: Record<string, string>) => {
      const kafka = await startInProcess(overrides);
      try {
        const body = { resources: [{ resourceType: 4, resourceName: "1", configurationKeys: null }], includeSynonyms: false, includeDocumentation: false };
        const r = await roundTrip(kafka.connect(), DescribeConfigsRequest, DescribeConfigsResponse, 4, 7, body);
        return (r.results[0].configs as { name: string; value: string }[]).filter((c) => c.name.startsWith("producer.id.")).map((c) => `${c.name}=${c.value}`);
      } finally {
        await kafka.close();
      }
    };
    expect(await names({})).toEqual(["producer.id.expiration.ms=86400000"]);
    expect(await names({ "producer.id.expiration.check.interval.ms": "1000" })).toEqual(["producer.id.expiration.ms=86400000", "producer.id.expiration.check.interval.ms=1000"]);
  });
});

/** Sends one Produce v9 and decodes its response. */
async function produce(conn: InProcessConnection, topic: string, valueBytes: number, corr: number): Promise<{ errorCode: number }> {
  const batch = buildBatch({ records: [{ key: null, value: new Uint8Array(valueBytes).fill(7) }] });
  const body = { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] };
  conn.send(requestFrame(0, 9, corr, "cfg", encode(ProduceRequest, 9, body), true));
  let buf = new Uint8Array(0);
  for (;;) {
    const more = await conn.waitFor(1);
    const next = new Uint8Array(buf.length + more.length);
    next.set(buf);
    next.set(more, buf.length);
    buf = next;
    if (buf.length >= 4 && buf.length >= 4 + new DataView(buf.buffer).getInt32(0)) break;
  }
  const r = new Reader(buf.subarray(4));
  expect(r.int32()).toBe(corr);
  r.uvarint(); // flexible response header: tagged fields
  return codecFor(ProduceResponse, 9).read(r).responses[0].partitionResponses[0];
}

describe("per-topic keys the broker applies", () => {
  test("a produce over the topic's max.message.bytes gets MESSAGE_TOO_LARGE; a topic without the override accepts it", async () => {
    const kafka = await startInProcess();
    try {
      kafka.storage.createTopic("small", 1, { "max.message.bytes": "200" });
      kafka.storage.createTopic("plain", 1);
      const conn = kafka.connect();
      expect((await produce(conn, "small", 500, 1)).errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
      expect((await produce(conn, "small", 500, 1)).errorCode).toBe(10);
      expect((await produce(conn, "plain", 500, 2)).errorCode).toBe(0);
      expect((await produce(conn, "small", 50, 3)).errorCode).toBe(0);
      kafka.storage.metadata.alterTopicConfigs("small", { "max.message.bytes": null });
      expect((await produce(conn, "small", 500, 4)).errorCode).toBe(0);
    } finally {
      await kafka.close();
    }
  });

  test("segment.bytes per topic rolls segments; the broker's log.segment.bytes applies elsewhere", async () => {
    const kafka = await startInProcess({ "log.segment.bytes": "100000" });
    try {
      kafka.storage.createTopic("rolls", 1, { "segment.bytes": "1000" });
      kafka.storage.createTopic("stays", 1);
      const conn = kafka.connect();
      for (let i = 0; i < 5; i++) {
        expect((await produce(conn, "rolls", 400, 10 + i)).errorCode).toBe(0);
        expect((await produce(conn, "stays", 400, 20 + i)).errorCode).toBe(0);
      }
      const logs = (t: string) => readdirSync(join(kafka.dir, `${t}-0`)).filter((f) => f.endsWith(".log"));
      expect(logs("rolls").length).toBeGreaterThanOrEqual(3);
      expect(logs("stays")).toHaveLength(1);
      // a ConfigRecord on a live topic applies from the next append (the configChanged event)
      kafka.broker.metadata.alterTopicConfigs("stays", { "segment.bytes": "1000" });
      for (let i = 0; i < 3; i++) expect((await produce(conn, "stays", 400, 30 + i)).errorCode).toBe(0);
      expect(logs("stays").length).toBeGreaterThanOrEqual(2);
    } finally {
      await kafka.close();
    }
  });
});
