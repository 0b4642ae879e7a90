// Real clients against the compiled ./kafka: kafkajs produces keyed messages
// with headers and its admin client reads the offsets back (ListOffsets);
// kcat (librdkafka) lists metadata, produces, and consumes everything back from
// the beginning, compared byte for byte with keys, headers and offsets.
// kafka-python (Debian's python3-kafka, a protocol implementation of its own)
// produces, lists offsets and consumes by assignment. A topic kafkajs' admin
// creates, grows, reconfigures and deletes is seen changing by kcat and by
// kafka-python (partitions; retention.ms through its admin client).
// kcat and python3-kafka are Debian packages: without them these tests skip,
// except when KAFKA_REQUIRE_CLIENTS=1 (CI), where their absence fails.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { removeDir, startKafka, tempDir, type RunningKafka } from "./helpers.ts";

const KCAT = Bun.which("kcat");
// Debian's python3 (not a pyenv one on PATH) is the one that sees python3-kafka
const DEBIAN_PYTHON = "/usr/bin/python3";
const KAFKA_PYTHON = existsSync("/usr/lib/python3/dist-packages/kafka/__init__.py") && existsSync(DEBIAN_PYTHON);
const REQUIRED = process.env.KAFKA_REQUIRE_CLIENTS === "1";

let dir: string;
let kafka: RunningKafka;
let broker: string;

beforeAll(async () => {
  dir = tempDir();
  kafka = await startKafka(dir, ["--override", "num.partitions=3"]);
  broker = `127.0.0.1:${kafka.port}`;
});

afterAll(async () => {
  expect(await kafka.stop()).toBe(0);
  removeDir(dir);
});

async function kcat(args: string[], input?: string): Promise<string> {
  const p = Bun.spawn([KCAT!, "-b", broker, ...args], { stdin: input === undefined ? "ignore" : "pipe", stdout: "pipe", stderr: "pipe" });
  if (input !== undefined && p.stdin) {
    p.stdin.write(input);
    await p.stdin.end();
  }
  const killer = setTimeout(() => p.kill("SIGKILL"), 20000);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(killer);
  if (code !== 0) throw new Error(`kcat ${args.join(" ")} exited ${code}: ${err}`);
  return out;
}

const messages = Array.from({ length: 20 }, (_, i) => ({
  key: `key-${i}`,
  value: `value-${i}-${"x".repeat(i * 10)}`,
  headers: { "trace-id": `t${i}`, source: "kafkajs" },
}));

describe("kafkajs", () => {
  test("produces keyed messages with headers; admin reads the offsets back", async () => {
    const client = new Kafka({ clientId: "e2e-kafkajs", brokers: [broker], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
    const producer = client.producer({ allowAutoTopicCreation: true });
    const admin = client.admin();
    await producer.connect();
    await admin.connect();
    try {
      const res = await producer.send({ topic: "js", acks: -1, messages: messages.map((m) => ({ ...m, partition: 0 })) });
      expect(res[0]).toMatchObject({ topicName: "js", partition: 0, errorCode: 0, baseOffset: "0" });
      await producer.send({ topic: "js", messages: [{ key: "p1", value: "on partition 1", partition: 1 }] });
      const offsets = await admin.fetchTopicOffsets("js");
      offsets.sort((a, b) => a.partition - b.partition);
      expect(offsets.map((o) => [o.partition, o.low, o.high])).toEqual([
        [0, "0", "20"],
        [1, "0", "1"],
        [2, "0", "0"],
      ]);
      const byTime = await admin.fetchTopicOffsetsByTimestamp("js", 0);
      expect(byTime.find((o) => o.partition === 0)!.offset).toBe("0");
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  test("admin creates a topic with a config, reads the config back, alters it, adds partitions and deletes it", async () => {
    const client = new Kafka({ clientId: "e2e-kafkajs-admin", brokers: [broker], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
    const admin = client.admin();
    await admin.connect();
    try {
      const topic = "js-admin";
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 4, configEntries: [{ name: "retention.ms", value: "3600000" }] }] })).toBe(true);
      // an existing topic: kafkajs answers false rather than throwing
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] })).toBe(false);
      const configs = await admin.describeConfigs({ resources: [{ type: 2, name: topic, configNames: ["retention.ms"] }], includeSynonyms: false });
      expect(configs.resources[0]!.configEntries.map((e) => [e.configName, e.configValue, e.isDefault])).toEqual([["retention.ms", "3600000", false]]);
      // AlterConfigs replaces the topic's whole set: retention.ms goes back to its default
      await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: topic, configEntries: [{ name: "cleanup.policy", value: "compact" }] }] });
      const altered = await admin.describeConfigs({ resources: [{ type: 2, name: topic, configNames: ["retention.ms", "cleanup.policy"] }], includeSynonyms: false });
      expect(altered.resources[0]!.configEntries.map((e) => [e.configName, e.configValue, e.isDefault]).sort()).toEqual([
        ["cleanup.policy", "compact", false],
        ["retention.ms", "604800000", true],
      ]);
      await admin.createPartitions({ topicPartitions: [{ topic, count: 6 }] });
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(md.topics[0]!.partitions.length).toBe(6);
      await admin.deleteTopics({ topics: [topic] });
      expect(await admin.listTopics()).not.toContain(topic);
    } finally {
      await admin.disconnect();
    }
  });

  test("admin.deleteTopicRecords moves the low watermark; fetchTopicOffsets follows", async () => {
    const client = new Kafka({ clientId: "e2e-kafkajs-delrec", brokers: [broker], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
    const topic = "js-delrec";
    const admin = client.admin();
    const producer = client.producer({ allowAutoTopicCreation: true });
    await Promise.all([admin.connect(), producer.connect()]);
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      for (let i = 0; i < 4; i++) await producer.send({ topic, messages: [{ value: `m${2 * i}` }, { value: `m${2 * i + 1}` }] });
      await admin.fetchTopicMetadata({ topics: [topic] }); // the admin's metadata learns the new topic's leader
      await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "5" }] });
      const [o] = await admin.fetchTopicOffsets(topic);
      expect([o!.low, o!.high]).toEqual(["5", "8"]);
      // -1: up to the high watermark
      await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "-1" }] });
      expect((await admin.fetchTopicOffsets(topic))[0]!.low).toBe("8");
      // above the high watermark: kafkajs reports the broker's OFFSET_OUT_OF_RANGE
      await expect(admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "20" }] })).rejects.toThrow();
    } finally {
      await Promise.all([admin.disconnect(), producer.disconnect()]);
    }
  });
});

describe.skipIf(!KCAT && !REQUIRED)("kcat (librdkafka)", () => {
  test("kcat is installed", () => {
    expect(KCAT).toBeTruthy();
  });

  test("-L lists the broker and the topics", async () => {
    const out = await kcat(["-L", "-t", "js"]);
    expect(out).toContain(`broker 1 at 127.0.0.1:${kafka.port} (controller)`);
    expect(out).toMatch(/topic "js" with 3 partitions/);
  });

  test("consumes what kafkajs produced, byte for byte with keys, headers and offsets", async () => {
    const out = await kcat(["-C", "-t", "js", "-p", "0", "-o", "beginning", "-e", "-q", "-f", "%o|%k|%s|%h\\n"]);
    const lines = out.trimEnd().split("\n");
    expect(lines).toEqual(messages.map((m, i) => `${i}|${m.key}|${m.value}|trace-id=${m.headers["trace-id"]},source=kafkajs`));
  });

  test("produces with keys and headers, then consumes them back from the beginning", async () => {
    const input = Array.from({ length: 100 }, (_, i) => `k${i}\t${"v".repeat(i)}${i}`).join("\n") + "\n";
    await kcat(["-P", "-t", "kc", "-p", "1", "-K", "\t", "-H", "h1=one", "-H", "h2=two"], input);
    const out = await kcat(["-C", "-t", "kc", "-p", "1", "-o", "beginning", "-e", "-q", "-f", "%o|%k|%s|%h\\n"]);
    const lines = out.trimEnd().split("\n");
    expect(lines).toHaveLength(100);
    expect(lines).toEqual(Array.from({ length: 100 }, (_, i) => `${i}|k${i}|${"v".repeat(i)}${i}|h1=one,h2=two`));
  });

  test("compressed batches pass through untouched", async () => {
    const input = Array.from({ length: 200 }, (_, i) => `m${i}`).join("\n") + "\n";
    await kcat(["-P", "-t", "kz", "-p", "0", "-z", "gzip"], input);
    const out = await kcat(["-C", "-t", "kz", "-p", "0", "-o", "beginning", "-e", "-q", "-f", "%o:%s\\n"]);
    expect(out.trimEnd().split("\n")).toEqual(Array.from({ length: 200 }, (_, i) => `${i}:m${i}`));
  });
});

describe.skipIf((!KAFKA_PYTHON || !KCAT) && !REQUIRED)("admin changes, seen by every client", () => {
  async function kafkaPythonView(topic: string): Promise<{ partitions: number[] | null; retention_ms: string | null }> {
    const p = Bun.spawn([DEBIAN_PYTHON, join(import.meta.dir, "clients", "kafka_python_topic.py"), broker, topic], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const killer = setTimeout(() => p.kill("SIGKILL"), 30000);
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    clearTimeout(killer);
    if (code !== 0) throw new Error(`kafka_python_topic.py exited ${code}: ${err}`);
    return JSON.parse(out);
  }
  const kcatPartitions = async (topic: string): Promise<number | null> => {
    // -t asks for this topic only
    const m = /topic "[^"]+" with (\d+) partitions/.exec(await kcat(["-L", "-t", topic]));
    return m ? Number(m[1]) : null;
  };

  test("kafkajs admin creates (4 partitions, retention.ms), adds partitions, alters, deletes; kcat and kafka-python see each change", async () => {
    const client = new Kafka({ clientId: "e2e-admin-seen", brokers: [broker], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
    const admin = client.admin();
    await admin.connect();
    const topic = "seen-by-all";
    try {
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 4, configEntries: [{ name: "retention.ms", value: "3600000" }] }] })).toBe(true);
      expect(await kcatPartitions(topic)).toBe(4);
      expect(await kafkaPythonView(topic)).toEqual({ partitions: [0, 1, 2, 3], retention_ms: "3600000" });

      await admin.createPartitions({ topicPartitions: [{ topic, count: 6 }] });
      await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: topic, configEntries: [{ name: "retention.ms", value: "7200000" }] }] });
      expect(await kcatPartitions(topic)).toBe(6);
      expect(await kafkaPythonView(topic)).toEqual({ partitions: [0, 1, 2, 3, 4, 5], retention_ms: "7200000" });

      await admin.deleteTopics({ topics: [topic] });
      // all topics (kcat -L -t would auto-create it again, as Kafka with auto.create.topics.enable does)
      expect(await kcat(["-L"])).not.toContain(`topic "${topic}"`);
      expect((await kafkaPythonView(topic)).partitions).toBeNull();
    } finally {
      await admin.disconnect();
    }
  }, 90_000);
});

describe.skipIf(!KAFKA_PYTHON && !REQUIRED)("kafka-python", () => {
  test("python3-kafka is installed", () => {
    expect(KAFKA_PYTHON).toBe(true);
  });

  test("produces keyed messages with headers, reads offsets, consumes them back by assignment", async () => {
    const p = Bun.spawn([DEBIAN_PYTHON, join(import.meta.dir, "clients", "kafka_python.py"), broker, "kp"], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const killer = setTimeout(() => p.kill("SIGKILL"), 40000);
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    clearTimeout(killer);
    expect(err.trim()).toBe("");
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r.end).toBe(10);
    expect(r.beginning).toBe(0);
    expect(r.by_time).toBe(0);
    expect(r.messages).toEqual(Array.from({ length: 10 }, (_, i) => [i, `k${i}`, `v${i}`, [["h", `x${i}`]]]));
  });
});
