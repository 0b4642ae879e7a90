// Python clients from PyPI against the compiled ./kafka, pip-installed by
// test/python-clients/install.sh into a venv outside the repo:
// confluent-kafka (its wheel carries a current librdkafka) and aiokafka (an
// asyncio protocol implementation of its own). Each produces keyed messages
// with headers, consumes them back by assignment (no group joined) and lists
// offsets; confluent-kafka's AdminClient describes the cluster, creates topics
// and partitions and deletes topics; both again with idempotent producers
// (enable.idempotence / enable_idempotence); both in a consumer group
// (confluent-kafka Consumer.subscribe, aiokafka AIOKafkaConsumer with
// group_id): consume, commit, and a second consumer of the group resumes after
// the commits. Without the venv these skip, except with KAFKA_REQUIRE_CLIENTS=1 (CI).

import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { brokerForSuite, clientCache, clientJson, CLIENTS_REQUIRED, runClient, stampMatches } from "./client-run.ts";
import type { Msg } from "./helpers.ts";

const HERE = join(import.meta.dir, "python-clients");
const VENV = process.env.KAFKA_PY_VENV ?? clientCache("venv");
const PYTHON = join(VENV, "bin", "python");
const INSTALL = "bash test/python-clients/install.sh";

/** Why the Python clients cannot run here, or null when they can. */
function unavailable(): string | null {
  if (!existsSync(PYTHON)) return `no venv at ${VENV} (run ${INSTALL})`;
  if (!stampMatches(join(VENV, "kafka-bun.stamp"), [join(HERE, "requirements.txt")])) return `the venv ${VENV} is not of test/python-clients/requirements.txt (run ${INSTALL})`;
  const check = Bun.spawnSync([PYTHON, "-c", "import confluent_kafka, aiokafka"], { stdout: "pipe", stderr: "pipe", timeout: 30_000 });
  if (check.exitCode !== 0) return `confluent_kafka / aiokafka do not import in ${VENV}: ${check.stderr.toString().trim().split("\n").pop()} (run ${INSTALL})`;
  return null;
}
const UNAVAILABLE = unavailable();

const python = (script: string, args: string[]) => runClient([PYTHON, join(HERE, script), ...args], 60_000, { PYTHONDONTWRITEBYTECODE: "1" });

// outside CI a missing client skips, and the skip names why
if (UNAVAILABLE !== null && !CLIENTS_REQUIRED) test.skip(`confluent-kafka and aiokafka tests (skipped: ${UNAVAILABLE})`, () => {});

/** What confluent_client.py reports after producing 10 keyed messages with headers to partition 0 and reading them back. */
function expectConfluentRoundTrip(run: { err: string }, r: Msg): void {
      expect(run.err.trim()).toBe("");
      expect(r.errors).toEqual([]);
      expect(r.unflushed).toBe(0);
      expect(r.delivered).toEqual(Array.from({ length: 10 }, (_, i) => [0, i]));
      expect(r.messages).toEqual(Array.from({ length: 10 }, (_, i) => [0, i, `k${i}`, `v${i}`, [["trace-id", `t${i}`], ["n", `${i}`]]]));
      expect(r.eof).toBe(true);
      expect(r.watermarks).toEqual([0, 10]);
}

describe.skipIf(UNAVAILABLE !== null && !CLIENTS_REQUIRED)("Python clients from PyPI", () => {
  // the first rebalance of a new group is not delayed: the group tests are not about the delay
  const broker = brokerForSuite(["--override", "group.initial.rebalance.delay.ms=0", "--override", "offsets.topic.num.partitions=3"]);

  test("confluent-kafka and aiokafka are installed", () => {
    expect(UNAVAILABLE).toBeNull();
  });

  test(
    "confluent-kafka: produces keyed messages with headers (acks=all), consumes them by assign(OFFSET_BEGINNING), watermarks and offsets_for_times",
    async () => {
      const run = await python("confluent_client.py", [broker.bootstrap, "cf", "10"]);
      const r = clientJson("confluent_client.py", run);
      // librdkafka logs to stderr: a configured group.id without subscribe() must not make it complain
      expectConfluentRoundTrip(run, r);
      expect(r.by_time).toBe(0);
    },
    90_000,
  );

  test(
    "confluent-kafka AdminClient: describe_cluster, then delete_topics of an auto-created topic and an unknown one",
    async () => {
      const run = await python("confluent_admin.py", [broker.bootstrap, "cf-admin"]);
      const r = clientJson("confluent_admin.py", run);
      expect(r.errors).toEqual([]);
      expect(r.unflushed).toBe(0);
      const [host, port] = broker.bootstrap.split(":");
      expect(r.cluster.controller).toBe(1);
      expect(r.cluster.nodes).toEqual([[1, host, Number(port)]]);
      expect(r.cluster.cluster_id).toMatch(/^\S{22}$/);
      expect(r.before).toBe(true);
      expect(r.deleted).toEqual({ "cf-admin": null, "cf-admin-missing": "UNKNOWN_TOPIC_OR_PART" });
      expect(r.after).toBe(false);
    },
    90_000,
  );

  test(
    "aiokafka: produces keyed messages with headers (acks=all), consumes them with no group_id by assign + seek_to_beginning, end/beginning/by-time offsets",
    async () => {
      const run = await python("aiokafka_client.py", [broker.bootstrap, "aio", "10"]);
      const r = clientJson("aiokafka_client.py", run);
      expect(run.err.trim()).toBe("");
      expect(r.sent).toEqual([...Array.from({ length: 10 }, (_, i) => [0, i]), [1, 0], [1, 1], [1, 2]]);
      expect(r.messages).toEqual([
        ...Array.from({ length: 10 }, (_, i) => [0, i, `k${i}`, `v${i}`, [["trace-id", `t${i}`]]]),
        ...[0, 1, 2].map((i) => [1, i, `b${i}`, "batched", []]),
      ]);
      expect(r.end).toEqual([10, 3]);
      expect(r.beginning).toEqual([0, 0]);
      expect(r.by_time).toBe(0);
    },
    90_000,
  );

  test(
    "confluent-kafka Consumer.subscribe() in a group: consumes every partition, commit() and committed() agree; a second consumer of the group resumes after the commits",
    async () => {
      const first = await python("confluent_group.py", [broker.bootstrap, "cf-group", "cf-group", "9", "9"]);
      const r1 = clientJson("confluent_group.py", first);
      expect(first.err.trim()).toBe("");
      expect(r1.errors).toEqual([]);
      expect(r1.unflushed).toBe(0);
      // 9 messages, one per partition in turn: offsets 0..2 of each of the 3
      expect(r1.assigned).toEqual([[0, 1, 2]]);
      expect(r1.messages).toEqual([0, 1, 2].flatMap((p) => [0, 1, 2].map((o) => [p, o, `n${p + 3 * o}`])));
      expect(r1.commit).toEqual([[0, 3], [1, 3], [2, 3]]);
      expect(r1.committed).toEqual([[0, 3], [1, 3], [2, 3]]);
      // 3 more: the group's next consumer gets only those
      const second = await python("confluent_group.py", [broker.bootstrap, "cf-group", "cf-group", "3", "3"]);
      const r2 = clientJson("confluent_group.py second", second);
      expect(second.err.trim()).toBe("");
      expect(r2.errors).toEqual([]);
      expect(r2.messages).toEqual([[0, 3, "n0"], [1, 3, "n1"], [2, 3, "n2"]]);
      expect(r2.committed).toEqual([[0, 4], [1, 4], [2, 4]]);
    },
    90_000,
  );
  test(
    "confluent-kafka Producer with enable.idempotence=true: produces, then consumes back exactly what was sent",
    async () => {
      const run = await python("confluent_client.py", [broker.bootstrap, "cf-idem", "10", "idempotent"]);
      const r = clientJson("confluent_client.py idempotent", run);
      expectConfluentRoundTrip(run, r);
    },
    90_000,
  );
  test(
    "confluent-kafka AdminClient: create_topics (config, validate_only, existing, replication factor 2, bad config) and create_partitions",
    async () => {
      const run = await python("confluent_create.py", [broker.bootstrap, "cfa"]);
      const r = clientJson("confluent_create.py", run);
      // librdkafka notes (level 5) the partition count it saw change: that is the growth asked for
      expect(run.err.split("\n").filter((l) => l.trim() !== "" && !/\|PARTCNT\|.*partition count changed from 3 to 5$/.test(l))).toEqual([]);
      expect(r).toEqual({
        validate: { "cfa-a": "ok" },
        validate_partitions: null,
        create: { "cfa-a": "ok", "cfa-b": "ok" },
        again: { "cfa-a": "TOPIC_ALREADY_EXISTS" },
        rf2: { "cfa-rf2": "INVALID_REPLICATION_FACTOR" },
        bad_config: { "cfa-cfg": "INVALID_CONFIG" },
        // cfa-b with the broker defaults: the suite broker runs with num.partitions=3
        partitions: [3, 3],
        grow_validate: { "cfa-a": "ok" },
        grow: { "cfa-a": "ok" },
        shrink: { "cfa-a": "INVALID_PARTITIONS" },
        unknown: { "cfa-none": "UNKNOWN_TOPIC_OR_PART" },
        after: 5,
      });
    },
    90_000,
  );
  test(
    "confluent-kafka AdminClient: incremental_alter_configs (APPEND, SET, DELETE, unknown key) and alter_configs (replaces the set)",
    async () => {
      const run = await python("confluent_alter.py", [broker.bootstrap, "cfa-alter"]);
      const r = clientJson("confluent_alter.py", run);
      expect(r).toEqual({
        create: ["ok"],
        append_set: ["ok"],
        after_append_set: { "cleanup.policy": "delete,compact", "retention.ms": "3600000" },
        delete: ["ok"],
        after_delete: { "cleanup.policy": "delete,compact" },
        unknown_key: ["INVALID_CONFIG"],
        replace: ["ok"],
        after_replace: { "max.message.bytes": "2000" },
      });
    },
    90_000,
  );
  test(
    "aiokafka AIOKafkaConsumer with group_id: consumes every partition, commits, committed() reads it back; a second consumer of the group resumes after the commits",
    async () => {
      const first = await python("aiokafka_group.py", [broker.bootstrap, "aio-group", "aio-group", "9", "9"]);
      const r1 = clientJson("aiokafka_group.py", first);
      expect(first.err.trim()).toBe("");
      expect(r1.assignment).toEqual([0, 1, 2]);
      expect(r1.messages).toEqual([0, 1, 2].flatMap((p) => [0, 1, 2].map((o) => [p, o, `n${p + 3 * o}`])));
      expect(r1.committed).toEqual({ 0: 3, 1: 3, 2: 3 });
      const second = await python("aiokafka_group.py", [broker.bootstrap, "aio-group", "aio-group", "3", "3"]);
      const r2 = clientJson("aiokafka_group.py second", second);
      expect(second.err.trim()).toBe("");
      expect(r2.messages).toEqual([[0, 3, "n0"], [1, 3, "n1"], [2, 3, "n2"]]);
      expect(r2.committed).toEqual({ 0: 4, 1: 4, 2: 4 });
    },
    90_000,
  );
  test(
    "aiokafka AIOKafkaProducer with enable_idempotence=True: produces, then consumes back exactly what was sent",
    async () => {
      const run = await python("aiokafka_client.py", [broker.bootstrap, "aio-idem", "10", "idempotent"]);
      const r = clientJson("aiokafka_client.py idempotent", run);
      expect(run.err.trim()).toBe("");
      expect(r.sent).toEqual([...Array.from({ length: 10 }, (_, i) => [0, i]), [1, 0], [1, 1], [1, 2]]);
      expect(r.messages).toEqual([
        ...Array.from({ length: 10 }, (_, i) => [0, i, `k${i}`, `v${i}`, [["trace-id", `t${i}`]]]),
        ...[0, 1, 2].map((i) => [1, i, `b${i}`, "batched", []]),
      ]);
      expect(r.end).toEqual([10, 3]);
    },
    90_000,
  );
});
