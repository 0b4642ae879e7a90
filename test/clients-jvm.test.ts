// The Java client (org.apache.kafka:kafka-clients 4.4.0) against the compiled
// ./kafka: test/java-client/Client.java, a single-file source program on the
// classpath test/java-client/install.sh resolves with Maven into a cache
// outside the repo. A producer (enable.idempotence=false, acks=all) sends
// keyed records with headers to an auto-created topic, a consumer with assign()
// + seekToBeginning (no group.id) reads them back, endOffsets /
// beginningOffsets / offsetsForTimes; the admin client's describeCluster,
// listTopics and describeTopics; the default (idempotent) producer, read back
// exactly; a consumer group (group.id + subscribe(), commitSync, a second
// member resuming after the commits) with the admin client's group calls at
// each step; and Kafka Streams (test/java-client/StreamsApp.java) upper-casing
// one topic into another as a consumer group of its own. Without Java 17 (a
// JDK: source programs need javac's module) or the installed classpath these
// skip, except with KAFKA_REQUIRE_CLIENTS=1 (CI).

import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { brokerForSuite, clientCache, clientJson, CLIENTS_REQUIRED, runClient, stampMatches } from "./client-run.ts";

const HERE = join(import.meta.dir, "java-client");
const CACHE = process.env.KAFKA_JAVA_CLIENT_CACHE ?? clientCache("java-client");
const CLASSPATH_FILE = join(CACHE, "classpath.txt");
const INSTALL = "bash test/java-client/install.sh";

function javaPath(): string | null {
  const home = process.env.JAVA_HOME;
  if (home && existsSync(join(home, "bin", "java"))) return join(home, "bin", "java");
  return Bun.which("java");
}
const JAVA = javaPath();

/** Why the Java client cannot run here, or null when it can. */
function unavailable(): string | null {
  if (!JAVA) return "no java on PATH (needs a Java 17 JDK: apt-get install openjdk-17-jdk-headless)";
  const mods = Bun.spawnSync([JAVA, "--list-modules"], { stdout: "pipe", stderr: "pipe", timeout: 20_000 }).stdout.toString();
  if (!/^jdk\.compiler@/m.test(mods)) return `${JAVA} is a JRE: single-file source programs need a JDK (openjdk-17-jdk-headless)`;
  if (!existsSync(CLASSPATH_FILE)) return `kafka-clients is not installed in ${CACHE} (run ${INSTALL}; it needs mvn)`;
  if (!stampMatches(join(CACHE, "stamp"), [join(HERE, "pom.xml")])) return `the classpath in ${CACHE} is not of test/java-client/pom.xml (run ${INSTALL})`;
  const missing = readFileSync(CLASSPATH_FILE, "utf8").trim().split(":").find((jar) => !existsSync(jar));
  if (missing) return `a jar of the cached classpath is gone: ${missing} (run ${INSTALL})`;
  return null;
}
const UNAVAILABLE = unavailable();

/** A modest JVM (2 cores, maybe a benchmark beside): small heap, serial GC, C1 only; client logs warn+ on stderr. */
function java(program: string, args: string[], timeoutMs = 60_000) {
  const cp = readFileSync(CLASSPATH_FILE, "utf8").trim();
  return runClient(
    [JAVA!, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", cp, join(HERE, program), ...args],
    timeoutMs,
  );
}

// outside CI a missing client skips, and the skip names why
if (UNAVAILABLE !== null && !CLIENTS_REQUIRED) test.skip(`Java client tests (skipped: ${UNAVAILABLE})`, () => {});

describe.skipIf(UNAVAILABLE !== null && !CLIENTS_REQUIRED)("Java client (kafka-clients 4.4.0)", () => {
  const broker = brokerForSuite();

  test("kafka-clients is installed", () => {
    expect(UNAVAILABLE).toBeNull();
  });

  test(
    "producer (enable.idempotence=false, acks=all) with keys and headers; assign() + seekToBeginning consumer reads them back; end/beginning/by-time offsets",
    async () => {
      const r = clientJson("Client.java produce-consume", await java("Client.java", ["produce-consume", broker.bootstrap, "jv"]));
      const p0 = Array.from({ length: 10 }, (_, i) => [0, i]);
      expect(r.sent).toEqual([...p0, [1, 0]]);
      expect(r.records).toEqual([
        ...Array.from({ length: 10 }, (_, i) => [0, i, `k${i}`, `v${i}-${"j".repeat(i * 7)}`, [["trace-id", `t${i}`], ["source", "java"]], true]),
        [1, 0, null, "keyless", [], true],
      ]);
      expect(r.end).toEqual([10, 1]);
      expect(r.beginning).toEqual([0, 0]);
      expect(r.byTime0).toBe(0);
      // no record has a timestamp at or after Long.MAX_VALUE: Kafka answers offset -1, the client null
      expect(r.byTimeMax1).toBeNull();
      expect(r.position).toEqual([10, 1]);
    },
    90_000,
  );

  // runs after the test above: the admin client does not create topics
  test(
    "admin: describeCluster, listTopics, describeTopics; createTopics with a config, describeConfigs, incrementalAlterConfigs, createPartitions, deleteTopics",
    async () => {
      const r = clientJson("Client.java admin", await java("Client.java", ["admin", broker.bootstrap, "jv"]));
      expect(r.describeCluster.ok).toMatchObject({ controller: 1, nodes: [[1, "127.0.0.1", broker.port]] });
      expect(r.describeCluster.ok.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(r.listTopics).toEqual({ ok: ["jv"] });
      expect(r.describeTopics).toEqual({
        ok: { name: "jv", internal: false, topicId: true, partitions: [0, 1, 2].map((p) => [p, 1, 1, 1]) },
      });
      // CreateTopics with a config, DescribeConfigs, CreatePartitions, DeleteTopics
      expect(r.createTopics).toEqual({ ok: "jv-admin" });
      expect(r.describeConfigs).toEqual({ ok: { value: "3600000", source: "DYNAMIC_TOPIC_CONFIG" } });
      expect(r.incrementalAlterConfigs).toEqual({ ok: { "cleanup.policy": "delete,compact", "retention.ms": "DEFAULT_CONFIG" } });
      expect(r.createPartitions).toEqual({ ok: 6 });
      expect(r.deleteTopics).toEqual({ ok: false });
    },
    90_000,
  );

  test(
    "the default producer (idempotent: InitProducerId, sequenced batches) to two partitions; the consumer reads back exactly what was sent",
    async () => {
      const r = clientJson("Client.java idempotent", await java("Client.java", ["idempotent", broker.bootstrap, "jv-idem"]));
      const n = 20;
      const expected = Array.from({ length: n }, (_, i) => [i % 2, Math.floor(i / 2)]);
      expect(r.sent).toEqual(expected);
      const records = Array.from({ length: n }, (_, i) => [i % 2, Math.floor(i / 2), `k${i}`, `v${i}`]).sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number));
      // exactly once each: nothing missing, nothing twice
      expect(r.records).toEqual(records);
    },
    90_000,
  );

  // a group's first join waits out group.initial.rebalance.delay.ms (3 s by default), once per member here
  test(
    "consumer group: subscribe() + commitSync, a second member resumes after the commits; admin listConsumerGroups, listGroups with filters, describeConsumerGroups, listConsumerGroupOffsets, deleteConsumerGroupOffsets, deleteConsumerGroups",
    async () => {
      const r = clientJson("Client.java group", await java("Client.java", ["group", broker.bootstrap, "jvg"], 90_000));
      const records = (from: number, to: number) => [0, 1, 2].flatMap((p) => Array.from({ length: to - from }, (_, i) => [p, from + i, `v${p}-${from + i}`]));
      const offsets = (o: number, parts = [0, 1, 2]) => Object.fromEntries(parts.map((p) => [String(p), [o, ""]]));
      const empty = { groupId: "jvg-group", state: "Empty", type: "Classic", simple: false, assignor: "", coordinator: 1, members: [] };
      // the first member (the range assignor, the only one) gets all three partitions and reads the 5 records of each
      expect(r.firstRecords).toEqual(records(0, 5));
      expect(r.firstAssignment).toEqual([0, 1, 2]);
      expect(r.firstCommitted).toEqual([5, 5, 5]);
      // it left on close: the group is Empty (no protocol), the commits stay
      expect(r.afterFirst).toEqual({
        list: { ok: [["jvg-group", "Empty", "Classic", false]] },
        describe: { ok: empty },
        offsets: { ok: offsets(5) },
      });
      // the second member starts at the committed offsets: only the 2 new records per partition, nothing old
      expect(r.secondRecords).toEqual(records(5, 7));
      // Admin.listGroups sends ListGroups v5 filters ("Classic"/"Consumer" types, states), matched case-insensitively;
      // the group is classic, so a filter on the consumer (KIP-848) or streams type leaves it out
      const stable = [["jvg-group", "Classic", "consumer", "Stable"]];
      expect(r.filtered).toEqual({ consumerStable: { ok: stable }, consumerEmpty: { ok: [] }, typeClassic: { ok: stable }, typeConsumer: { ok: [] }, typeStreams: { ok: [] } });
      expect(r.whileActive).toEqual({
        list: { ok: [["jvg-group", "Stable", "Classic", false]] },
        describe: {
          ok: { ...empty, state: "Stable", assignor: "range", members: [{ clientId: "e2e-java-group-2", host: "/127.0.0.1", memberId: true, instanceId: null, assignment: [0, 1, 2] }] },
        },
        // NON_EMPTY_GROUP, and GROUP_SUBSCRIBED_TO_TOPIC for the offsets of a topic a member consumes
        deleteGroup: { error: "org.apache.kafka.common.errors.GroupNotEmptyException", message: "The group is not empty." },
        deleteOffsets: {
          error: "org.apache.kafka.common.errors.GroupSubscribedToTopicException",
          message: "Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it.",
        },
      });
      expect(r.afterSecond).toEqual({ describe: { ok: empty }, offsets: { ok: offsets(7) } });
      // once it is empty: partition 0's offset goes (OffsetDelete), then the group (DeleteGroups)
      expect(r.deleteOffsets).toEqual({ ok: offsets(7, [1, 2]) });
      expect(r.deleteGroup).toEqual({ ok: true });
      expect(r.afterDelete).toEqual({
        list: { ok: [] },
        // DescribeGroups below v6 answers an unknown group Dead with no error, as Kafka does; Kafka 4.4 also
        // serves v6 (and ConsumerGroupDescribe), where it is GROUP_ID_NOT_FOUND and this admin call throws
        // GroupIdNotFoundException ("Group jvg-group not found."). We serve DescribeGroups 0-5.
        describe: { ok: { ...empty, state: "Dead", simple: true } },
        offsets: { ok: {} },
        deleteAgain: { error: "org.apache.kafka.common.errors.GroupIdNotFoundException", message: "The group id does not exist." },
      });
    },
    120_000,
  );

  test(
    "Kafka Streams (StreamsApp: at_least_once, its default idempotent producer) upper-cases a 3-partition topic into another; the output read back, the application's offsets committed",
    async () => {
      const n = 12;
      const r = clientJson("StreamsApp.java", await java("StreamsApp.java", [broker.bootstrap, "jv-streams-in", "jv-streams-out", String(n)], 90_000));
      expect(r.processed).toBe(n);
      // each input record once in the output, upper-cased, key kept
      expect(r.output).toEqual(Array.from({ length: n }, (_, i) => [`k${i}`, `HELLO ${i}`]));
      // the group e2e-streams-jv-streams-in committed every input record: k0..k11 fall 3, 5 and 4 to partitions 0-2 (murmur2)
      expect(r.committed).toEqual({ "0": 3, "1": 5, "2": 4 });
    },
    120_000,
  );
});
