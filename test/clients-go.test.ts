// franz-go (github.com/twmb/franz-go: kgo v1.22.3, kadm v1.20.0) against the
// compiled ./kafka: test/go-client/main.go, built by test/go-client/install.sh
// into a cache outside the repo. It produces keyed records with headers
// (acks=all, idempotence off, then again with kgo's default idempotent
// producer), consumes them back with kgo.ConsumePartitions
// (no group), lists start/end/by-time offsets with kadm (ListOffsets +
// Metadata) and reads the metadata; in its "group" mode a kgo.ConsumerGroup
// consumer consumes and commits, a second member of the group resumes from the
// commits, and kadm fetches the offsets and describes and lists the group.
// Without the built client these skip, except with KAFKA_REQUIRE_CLIENTS=1 (CI).

import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { brokerForSuite, clientCache, clientJson, CLIENTS_REQUIRED, runClient, stampMatches } from "./client-run.ts";

const HERE = join(import.meta.dir, "go-client");
const CACHE = process.env.KAFKA_GO_CLIENT_CACHE ?? clientCache("go-client");
const CLIENT = join(CACHE, "client");
const INSTALL = "bash test/go-client/install.sh";

/** Why the franz-go client cannot run here, or null when it can. */
function unavailable(): string | null {
  if (!existsSync(CLIENT)) return `the franz-go client is not built in ${CACHE} (run ${INSTALL}; it needs go)`;
  if (!stampMatches(join(CACHE, "stamp"), ["go.mod", "go.sum", "main.go"].map((f) => join(HERE, f)))) return `${CLIENT} is not built from test/go-client as it is (run ${INSTALL})`;
  return null;
}
const UNAVAILABLE = unavailable();

// outside CI a missing client skips, and the skip names why
if (UNAVAILABLE !== null && !CLIENTS_REQUIRED) test.skip(`franz-go tests (skipped: ${UNAVAILABLE})`, () => {});

describe.skipIf(UNAVAILABLE !== null && !CLIENTS_REQUIRED)("franz-go", () => {
  const broker = brokerForSuite();

  test("the franz-go client is built", () => {
    expect(UNAVAILABLE).toBeNull();
  });

  test(
    "kgo produces keyed records with headers, ConsumePartitions reads them back; kadm lists start/end/by-time offsets and metadata, creates a topic with a config and deletes it",
    async () => {
      const run = await runClient([CLIENT, broker.bootstrap, "fg", "10"], 60_000);
      const r = clientJson("go-client", run);
      expect(run.err).toBe("");
      // ProduceSync lists results as they complete: partition 2's batch may finish before partition 0's
      const byPartition = (a: number[], b: number[]) => a[0]! - b[0]! || a[1]! - b[1]!;
      expect([...r.produced].sort(byPartition)).toEqual([...Array.from({ length: 10 }, (_, i) => [0, i]), [2, 0]]);
      expect(r.records).toEqual([
        ...Array.from({ length: 10 }, (_, i) => ({
          partition: 0,
          offset: i,
          key: `k${i}`,
          value: `v${i}`,
          headers: [["trace-id", `t${i}`], ["source", "franz-go"]],
        })),
        { partition: 2, offset: 0, key: null, value: "keyless", headers: [] },
      ]);
      expect(r.start).toEqual([0, 0, 0]);
      expect(r.end).toEqual([10, 0, 1]);
      // kadm answers an empty partition (nothing at or after the time) with its end offset
      expect(r.byTime).toEqual([0, 0, 0]);
      expect(r.brokers).toEqual([`1 127.0.0.1:${broker.port}`]);
      expect(r.partitions).toEqual([0, 1, 2]);
      // kadm CreateTopic with a config (v5+ answers carry partitions, replication factor and configs), then DeleteTopics
      expect(r.created).toEqual([4, 1]);
      expect(r.retention).toBe("3600000");
      expect(r.deleted).toBe(true);
    },
    90_000,
  );

  test(
    "kgo with its default idempotent producer (InitProducerId, sequenced batches): ConsumePartitions reads back exactly what was sent",
    async () => {
      const run = await runClient([CLIENT, broker.bootstrap, "fg-idem", "10", "idempotent"], 60_000);
      const r = clientJson("go-client idempotent", run);
      expect(run.err).toBe("");
      const byPartition = (a: number[], b: number[]) => a[0]! - b[0]! || a[1]! - b[1]!;
      expect([...r.produced].sort(byPartition)).toEqual([...Array.from({ length: 10 }, (_, i) => [0, i]), [2, 0]]);
      expect(r.records).toEqual([
        ...Array.from({ length: 10 }, (_, i) => ({
          partition: 0,
          offset: i,
          key: `k${i}`,
          value: `v${i}`,
          headers: [["trace-id", `t${i}`], ["source", "franz-go"]],
        })),
        { partition: 2, offset: 0, key: null, value: "keyless", headers: [] },
      ]);
      expect(r.end).toEqual([10, 0, 1]);
    },
    90_000,
  );

  // a group's first join waits out group.initial.rebalance.delay.ms (3 s by default), once per member here
  test(
    "kgo.ConsumerGroup (cooperative-sticky): commits with CommitUncommittedOffsets and leaves; a second member resumes after the commits and autocommits on close; kadm FetchOffsets, DescribeGroups, ListGroups",
    async () => {
      const run = await runClient([CLIENT, broker.bootstrap, "fg-group", "4", "group"], 90_000);
      const r = clientJson("go-client group", run);
      expect(run.err).toBe("");
      const records = (from: number, to: number) => [0, 1, 2].flatMap((p) => Array.from({ length: to - from }, (_, i) => [p, from + i, `v${p}-${from + i}`]));
      // kgo commits its member id as each offset's metadata
      const committed = (o: number, member: string) => Object.fromEntries([0, 1, 2].map((p) => [String(p), [o, expect.stringMatching(new RegExp(`^${member}-[0-9a-f-]{36}$`))]]));
      // the first member gets all three partitions and reads the 4 records of each
      expect(r.first).toEqual({ records: records(0, 4), partitions: [0, 1, 2] });
      expect(r.committedFirst).toEqual(committed(4, "e2e-franz-go-group-1"));
      // it left (Close): Empty, no protocol, its protocol type kept
      expect(r.describedEmpty).toEqual({ state: "Empty", protocolType: "consumer", protocol: "", members: [] });
      // the second member starts at the commits: the 2 new records per partition, nothing old
      expect(r.second).toEqual({ records: records(4, 6), partitions: [0, 1, 2] });
      expect(r.describedActive).toEqual({
        state: "Stable",
        protocolType: "consumer",
        protocol: "cooperative-sticky",
        members: [{ clientId: "e2e-franz-go-group-2", clientHost: "/127.0.0.1", topics: ["fg-group"], assigned: [0, 1, 2] }],
      });
      // its autocommit committed on the revoke of Close
      expect(r.committedSecond).toEqual(committed(6, "e2e-franz-go-group-2"));
      expect(r.listed).toEqual([{ group: "fg-group-group", state: "Empty", protocolType: "consumer", groupType: "classic" }]);
    },
    120_000,
  );
});
