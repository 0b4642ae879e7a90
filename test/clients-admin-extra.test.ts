// Real admin clients against the compiled ./kafka for ElectLeaders (43),
// AlterPartitionReassignments (45) and ListPartitionReassignments (46):
// - confluent-kafka's AdminClient (librdkafka; the venv of
//   test/python-clients/install.sh): elect_leaders, preferred and unclean,
//   named partitions and all of them (it has no reassignment calls);
// - kafkajs's admin: alterPartitionReassignments (to our node, to another
//   broker, an unknown topic) and listPartitionReassignments;
// - Kafka's own tools (the Java Admin client; the reference install of
//   test/kafka-ref/install.sh): LeaderElectionCommand and
//   ReassignPartitionsCommand --generate, --execute, --verify, --list, --cancel.
// Each answer is what these clients print against Apache Kafka 4.4 (checked by
// hand once; the wire answers are compared in test/differential.test.ts).
// Without the venv or the reference install these skip, except with
// KAFKA_REQUIRE_CLIENTS=1 (CI), where their absence fails.

import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { brokerForSuite, clientCache, clientJson, CLIENTS_REQUIRED, runClient, stampMatches } from "./client-run.ts";
import { removeDir, tempDir } from "./helpers.ts";
import { referenceToolsUnavailable, runKafkaTool, type ToolResult } from "./kafka-ref/reference.ts";

const HERE = join(import.meta.dir, "python-clients");
const VENV = process.env.KAFKA_PY_VENV ?? clientCache("venv");
const PYTHON = join(VENV, "bin", "python");

/** Why confluent-kafka cannot run here, or null when it can (as test/clients-python.test.ts checks). */
function pythonUnavailable(): string | null {
  const install = "bash test/python-clients/install.sh";
  if (!existsSync(PYTHON)) return `no venv at ${VENV} (run ${install})`;
  if (!stampMatches(join(VENV, "kafka-bun.stamp"), [join(HERE, "requirements.txt")])) return `the venv ${VENV} is not of test/python-clients/requirements.txt (run ${install})`;
  const check = Bun.spawnSync([PYTHON, "-c", "import confluent_kafka"], { stdout: "pipe", stderr: "pipe", timeout: 30_000 });
  if (check.exitCode !== 0) return `confluent_kafka does not import in ${VENV}: ${check.stderr.toString().trim().split("\n").pop()} (run ${install})`;
  return null;
}
const PYTHON_UNAVAILABLE = pythonUnavailable();
const TOOLS_UNAVAILABLE = referenceToolsUnavailable();

if (PYTHON_UNAVAILABLE !== null && !CLIENTS_REQUIRED) test.skip(`confluent-kafka elect_leaders (skipped: ${PYTHON_UNAVAILABLE})`, () => {});
if (TOOLS_UNAVAILABLE !== null && !CLIENTS_REQUIRED) test.skip(`Kafka's LeaderElectionCommand and ReassignPartitionsCommand (skipped: ${TOOLS_UNAVAILABLE})`, () => {});

const NOT_NEEDED = ["ELECTION_NOT_NEEDED", "Leader election not needed for topic partition."];

/** The tool's stdout, failing with its own words unless it exited `code`. */
function toolOut(what: string, r: ToolResult, code = 0): string {
  if (r.code !== code) throw new Error(`${what}: exit ${r.code}, expected ${code}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`);
  return r.stdout.trim();
}

describe("admin clients: leader election and partition reassignment", () => {
  const broker = brokerForSuite();

  describe.skipIf(PYTHON_UNAVAILABLE !== null && !CLIENTS_REQUIRED)("confluent-kafka AdminClient", () => {
    test("is installed", () => {
      expect(PYTHON_UNAVAILABLE).toBeNull();
    });

    test(
      "elect_leaders: named partitions ELECTION_NOT_NEEDED (preferred and unclean), unknown ones with Kafka's messages; all partitions: nothing to report",
      async () => {
        const run = await runClient([PYTHON, join(HERE, "confluent_elect.py"), broker.bootstrap, "cf-elect"], 60_000, { PYTHONDONTWRITEBYTECODE: "1" });
        const r = clientJson("confluent_elect.py", run);
        expect(r).toEqual({
          created: [0, 1],
          preferred: {
            "cf-elect:0": NOT_NEEDED,
            "cf-elect:1": NOT_NEEDED,
            "cf-elect:5": ["UNKNOWN_TOPIC_OR_PART", "No such partition as cf-elect-5"],
            "cf-elect-missing:0": ["UNKNOWN_TOPIC_OR_PART", "No such topic as cf-elect-missing"],
          },
          unclean: { "cf-elect:1": NOT_NEEDED },
          preferred_all: {},
          unclean_all: {},
        });
      },
      90_000,
    );
  });

  describe("kafkajs admin", () => {
    test("alterPartitionReassignments: to our node succeeds, another broker INVALID_REPLICA_ASSIGNMENT, an unknown topic UNKNOWN_TOPIC_OR_PARTITION; listPartitionReassignments: none", async () => {
      const client = new Kafka({ clientId: "admin-extra-kafkajs", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
      const admin = client.admin();
      await admin.connect();
      try {
        expect(await admin.createTopics({ topics: [{ topic: "js-reassign", numPartitions: 2 }], waitForLeaders: true })).toBe(true);
        const reassign = async (topic: string, replicas: number[][]): Promise<unknown> => {
          try {
            return await admin.alterPartitionReassignments({ topics: [{ topic, partitionAssignment: replicas.map((r, partition) => ({ partition, replicas: r })) }], timeout: 5000 });
          } catch (e) {
            const err = e as { name: string; errors?: { type: string; topic: string; partition: number }[] };
            return [err.name, (err.errors ?? []).map((x) => [x.type, x.topic, x.partition])];
          }
        };
        expect(await reassign("js-reassign", [[1], [1]])).toBeUndefined();
        expect(await reassign("js-reassign", [[2], [1]])).toEqual(["KafkaJSAggregateError", [["INVALID_REPLICA_ASSIGNMENT", "js-reassign", 0]]]);
        expect(await reassign("js-reassign-nope", [[1]])).toEqual(["KafkaJSAggregateError", [["UNKNOWN_TOPIC_OR_PARTITION", "js-reassign-nope", 0]]]);
        expect(await admin.listPartitionReassignments({ timeout: 5000 })).toEqual({ topics: [] });
        expect(await admin.listPartitionReassignments({ topics: [{ topic: "js-reassign", partitions: [0, 1, 4] }, { topic: "js-reassign-nope", partitions: [0] }], timeout: 5000 })).toEqual({ topics: [] });
        const md = await admin.fetchTopicMetadata({ topics: ["js-reassign"] });
        expect(md.topics[0]!.partitions.map((p) => [p.partitionId, p.leader, p.replicas]).sort()).toEqual([
          [0, 1, [1]],
          [1, 1, [1]],
        ]);
      } finally {
        await admin.disconnect();
      }
    });
  });

  describe.skipIf(TOOLS_UNAVAILABLE !== null && !CLIENTS_REQUIRED)("Kafka's tools (the Java Admin client)", () => {
    const LEADER_ELECTION = "org.apache.kafka.tools.LeaderElectionCommand";
    const REASSIGN = "org.apache.kafka.tools.reassign.ReassignPartitionsCommand";
    const TOPIC = "tools-elect";

    test("are installed", () => {
      expect(TOOLS_UNAVAILABLE).toBeNull();
    });

    test(
      "LeaderElectionCommand: all partitions and a named one need no election (exit 0), an unknown partition fails with Kafka's message (exit 1)",
      async () => {
        const bs = ["--bootstrap-server", broker.bootstrap];
        toolOut("TopicCommand --create", await runKafkaTool("org.apache.kafka.tools.TopicCommand", [...bs, "--create", "--topic", TOPIC, "--partitions", "2", "--replication-factor", "1"]));
        expect(toolOut("--all-topic-partitions", await runKafkaTool(LEADER_ELECTION, [...bs, "--election-type", "PREFERRED", "--all-topic-partitions"]))).toBe("");
        expect(toolOut("--topic --partition", await runKafkaTool(LEADER_ELECTION, [...bs, "--election-type", "PREFERRED", "--topic", TOPIC, "--partition", "0"]))).toBe(`Valid replica already elected for partitions ${TOPIC}-0`);
        const unknown = await runKafkaTool(LEADER_ELECTION, [...bs, "--election-type", "UNCLEAN", "--topic", TOPIC, "--partition", "7"]);
        expect(toolOut("unknown partition", unknown, 1)).toContain(`Error completing leader election (UNCLEAN) for partition: ${TOPIC}-7: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: No such partition as ${TOPIC}-7`);
      },
      120_000,
    );

    test(
      "ReassignPartitionsCommand: --generate proposes our node, --execute to it starts and --verify finds it completed, --list finds none, another broker is refused, --cancel finds nothing active",
      async () => {
        const bs = ["--bootstrap-server", broker.bootstrap];
        const dir = tempDir("reassign-json-");
        try {
          const file = (name: string, body: unknown) => {
            const p = join(dir, name);
            writeFileSync(p, JSON.stringify(body));
            return p;
          };
          const topics = file("topics.json", { version: 1, topics: [{ topic: TOPIC }] });
          const move = file("move.json", { version: 1, partitions: [{ topic: TOPIC, partition: 0, replicas: [1] }] });
          const away = file("away.json", { version: 1, partitions: [{ topic: TOPIC, partition: 1, replicas: [2] }] });
          const generated = toolOut("--generate", await runKafkaTool(REASSIGN, [...bs, "--generate", "--topics-to-move-json-file", topics, "--broker-list", "1"]));
          expect(generated).toContain(`Proposed partition reassignment configuration\n{"version":1,"partitions":[{"topic":"${TOPIC}","partition":0,"replicas":[1],"log_dirs":["any"]},{"topic":"${TOPIC}","partition":1,"replicas":[1],"log_dirs":["any"]}]}`);
          expect(toolOut("--execute", await runKafkaTool(REASSIGN, [...bs, "--execute", "--reassignment-json-file", move]))).toContain(`Successfully started partition reassignment for ${TOPIC}-0`);
          const verified = toolOut("--verify", await runKafkaTool(REASSIGN, [...bs, "--verify", "--reassignment-json-file", move]));
          expect(verified).toContain(`Reassignment of partition ${TOPIC}-0 is completed.`);
          expect(verified).toContain(`Clearing topic-level throttles on topic ${TOPIC}`);
          expect(toolOut("--list", await runKafkaTool(REASSIGN, [...bs, "--list"]))).toBe("No partition reassignments found.");
          // the tool checks the brokers itself (DescribeCluster) before it sends anything
          expect(toolOut("--execute to broker 2", await runKafkaTool(REASSIGN, [...bs, "--execute", "--reassignment-json-file", away]), 1)).toContain("Error: Unknown broker id 2");
          expect(toolOut("--cancel", await runKafkaTool(REASSIGN, [...bs, "--cancel", "--reassignment-json-file", move]))).toContain("None of the specified partition reassignments are active.");
        } finally {
          removeDir(dir);
        }
      },
      180_000,
    );
  });
});
