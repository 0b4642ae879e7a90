// CreateTopics (key 19), versions 2-7, answered as Kafka 4.4's controller
// (ControllerApis.createTopics, ReplicationControlManager.createTopics) does
// for one KRaft node without an authorizer:
// - a name listed more than once is INVALID_REQUEST "Duplicate topic name.",
//   answered once, after the other topics' results;
// - then, per topic and in this order: Topic.validate's message
//   (INVALID_TOPIC_EXCEPTION), a name colliding with an existing one in '.'
//   vs '_' (INVALID_TOPIC_EXCEPTION), an existing topic (TOPIC_ALREADY_EXISTS),
//   __cluster_metadata (INVALID_REQUEST), a null config value (INVALID_CONFIG "Null value not supported for topic
//   configs: a,b"), an unknown key or bad value (INVALID_CONFIG, the catalog's
//   message naming the key), then the partitions:
//   - with assignments: num_partitions and replication_factor must be -1
//     (INVALID_REQUEST), each partition once, replicas non-empty, registered
//     (only our node is), not repeated, as many for every partition, indexes
//     0..n-1 (INVALID_REPLICA_ASSIGNMENT, Kafka's messages);
//   - without: replication_factor 0 or < -1 is INVALID_REPLICATION_FACTOR,
//     num_partitions 0 or < -1 INVALID_PARTITIONS; -1 means the broker's
//     num.partitions / default.replication.factor; a factor above 1 cannot be
//     placed on one broker: INVALID_REPLICATION_FACTOR with the placer's message;
// - more than 10000 metadata records for the topics that passed (1 + partitions
//   + configs each): every topic of the request POLICY_VIOLATION, nothing created.
// - a success has a fresh topic id (v7), error_message null, and from v5 the
//   partition count, replication factor and every topic config of the catalog
//   sorted by name: value (null when sensitive), read_only false, source
//   (1 for the request's own keys, else where the broker's value comes from).
//   An error has num_partitions/replication_factor -1 and no configs.
// - validate_only: the same answers, nothing written.
// - the topic and its ConfigRecords are one metadata batch; with one node the
//   creation is complete when the batch is written, so timeout_ms never waits.
//   Kafka's controller fails a request whose deadline has passed before it runs:
//   timeout_ms <= 0 answers REQUEST_TIMED_OUT (message null) for every topic, nothing created.
// v0-1 (removed by KIP-896) are not advertised and close the connection, as Kafka 4.

import { CreateTopicsRequest, CreateTopicsResponse } from "../protocol/messages/create-topics.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/codec.ts";
import type { Decoded, Encodable } from "../protocol/schema.ts";
import { BROKER_CONFIGS, ConfigSource, TOPIC_CONFIGS } from "../config/catalog.ts";
import { MAX_PARTITIONS_PER_TOPIC, MetadataError, METADATA_TOPIC, validateTopicConfigs, validateTopicName } from "../metadata/store.ts";
import { randomUuid } from "../metadata/uuid.ts";
import type { Broker } from "../broker.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";

type Response = Encodable<typeof CreateTopicsResponse>;
type Result = Response["topics"][number];
type TopicConfigEntry = NonNullable<Result["configs"]>[number];
type Topic = Decoded<typeof CreateTopicsRequest>["topics"][number];

const DUPLICATE = "Duplicate topic name.";
/** Errors.REQUEST_TIMED_OUT; Kafka's controller answers it when a request's deadline passed before it ran. */
const REQUEST_TIMED_OUT = 7;
const INVALID_REPLICA_ASSIGNMENT = 39;
const POLICY_VIOLATION = 44;
/**
 * Kafka's controller writes at most MAX_RECORDS_PER_USER_OP (10000) records for
 * one request (a TopicRecord, a PartitionRecord per partition, a ConfigRecord
 * per key, over every topic it would create) and fails the whole request with
 * this when there would be more; Kafka 4.4 answers 10001 partitions so.
 */
export const TOO_MANY_PARTITIONS = "Excessively large number of partitions per request.";

const fail = (name: string, code: number, message: string | null): Result => ({
  name,
  topicId: ZERO_UUID,
  errorCode: code,
  errorMessage: message,
  numPartitions: -1,
  replicationFactor: -1,
  configs: [],
});

/** What a checked topic will be: its partition count and replication factor. */
interface Plan {
  numPartitions: number;
  replicationFactor: number;
  configs: [string, string][];
}

/** Kafka's checks for one topic, in its order; throws MetadataError. */
function plan(broker: Broker, t: Topic): Plan {
  const image = broker.storage.image;
  const invalid = validateTopicName(t.name);
  if (invalid) throw new MetadataError(ErrorCode.INVALID_TOPIC_EXCEPTION, invalid);
  if (image.topics.has(t.name)) throw new MetadataError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${t.name}' already exists.`);
  // INVALID_REQUEST, not INVALID_TOPIC_EXCEPTION, as Kafka 4.4 answers it
  if (t.name === METADATA_TOPIC) throw new MetadataError(ErrorCode.INVALID_REQUEST, `Creation of internal topic ${t.name} is prohibited.`);
  if (/[._]/.test(t.name)) {
    const norm = t.name.replaceAll(".", "_");
    for (const other of image.topics.keys()) {
      if (other.replaceAll(".", "_") === norm) throw new MetadataError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${t.name}' collides with existing topic: ${other}`);
    }
  }
  const nulls = t.configs.filter((c) => c.value === null).map((c) => c.name);
  if (nulls.length > 0) throw new MetadataError(ErrorCode.INVALID_CONFIG, `Null value not supported for topic configs: ${nulls.join(",")}`);
  const configs = t.configs.map((c): [string, string] => [c.name, c.value!]);
  validateTopicConfigs(new Map(configs));

  const nodeId = broker.storage.image.nodeId;
  if (t.assignments.length > 0) {
    if (t.replicationFactor !== -1) throw new MetadataError(ErrorCode.INVALID_REQUEST, "A manual partition assignment was specified, but replication factor was not set to -1.");
    if (t.numPartitions !== -1) throw new MetadataError(ErrorCode.INVALID_REQUEST, "A manual partition assignment was specified, but numPartitions was not set to -1.");
    const seen = new Set<number>();
    let factor: number | null = null;
    for (const a of t.assignments) {
      if (seen.has(a.partitionIndex)) throw new MetadataError(INVALID_REPLICA_ASSIGNMENT, `Found multiple manual partition assignments for partition ${a.partitionIndex}`);
      checkReplicas(a.brokerIds, nodeId, factor);
      factor = a.brokerIds.length;
      seen.add(a.partitionIndex);
    }
    for (let i = 0; i < seen.size; i++) {
      if (!seen.has(i)) throw new MetadataError(INVALID_REPLICA_ASSIGNMENT, "partitions should be a consecutive 0-based integer sequence");
    }
    return { numPartitions: seen.size, replicationFactor: factor!, configs };
  }
  if (t.replicationFactor < -1 || t.replicationFactor === 0) {
    throw new MetadataError(ErrorCode.INVALID_REPLICATION_FACTOR, "Replication factor must be larger than 0, or -1 to use the default value.");
  }
  if (t.numPartitions < -1 || t.numPartitions === 0) throw new MetadataError(ErrorCode.INVALID_PARTITIONS, "Number of partitions was set to an invalid non-positive value.");
  const resolver = broker.metadata.configs;
  const numPartitions = t.numPartitions === -1 ? (resolver.broker(BROKER_CONFIGS.get("num.partitions")!).value as number) : t.numPartitions;
  const replicationFactor = t.replicationFactor === -1 ? (resolver.broker(BROKER_CONFIGS.get("default.replication.factor")!).value as number) : t.replicationFactor;
  if (replicationFactor > 1) {
    throw new MetadataError(
      ErrorCode.INVALID_REPLICATION_FACTOR,
      `Unable to replicate the partition ${replicationFactor} time(s): The target replication factor of ${replicationFactor} cannot be reached because only 1 broker(s) are registered or some brokers have all their log directories cordoned.`,
    );
  }
  return { numPartitions, replicationFactor, configs };
}

/** Kafka's validateManualPartitionAssignment, for a cluster of one registered broker. */
export function checkReplicas(ids: readonly number[], nodeId: number, factor: number | null): void {
  if (ids.length === 0) throw new MetadataError(INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment includes an empty replica list.");
  const sorted = [...ids].sort((a, b) => a - b);
  let prev: number | null = null;
  for (const id of sorted) {
    if (id !== nodeId) throw new MetadataError(INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes broker ${id}, but no such broker is registered.`);
    if (id === prev) throw new MetadataError(INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes the broker ${prev} more than once.`);
    prev = id;
  }
  if (factor !== null && sorted.length !== factor) {
    throw new MetadataError(
      INVALID_REPLICA_ASSIGNMENT,
      `The manual partition assignment includes a partition with ${sorted.length} replica(s), but this is not consistent with previous partitions, which have ${factor} replica(s).`,
    );
  }
}

/** Every topic key sorted by name, as the topic will have it (the request's own keys, else the broker's). */
function effectiveConfigs(broker: Broker, name: string, own: ReadonlyMap<string, string>): TopicConfigEntry[] {
  const resolver = broker.metadata.configs;
  return [...TOPIC_CONFIGS.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((key) => {
      const mine = own.get(key.name);
      const eff = mine !== undefined ? { text: mine, source: ConfigSource.DYNAMIC_TOPIC_CONFIG } : resolver.topic(name, key.name);
      return { name: key.name, value: key.sensitive ? null : eff.text, readOnly: false, configSource: eff.source, isSensitive: key.sensitive };
    });
}

export const createTopics = defineHandler({
  key: 19,
  name: "CreateTopics",
  request: CreateTopicsRequest,
  response: CreateTopicsResponse,
  minVersion: 2,
  maxVersion: 7,
  handle(req, { broker }): HandlerResult<Response> {
    const counts = new Map<string, number>();
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const duplicates = [...counts].filter(([, n]) => n > 1).map(([name]) => name);
    const unique = req.topics.filter((t) => counts.get(t.name) === 1);

    if (req.timeoutMs <= 0) {
      // the controller's deadline (now + max(0, timeout_ms)) has passed before the request runs
      // the TimeoutException has no message: error_message null
      return { throttleTimeMs: 0, topics: [...unique, ...duplicates.map((name) => ({ name }))].map((t) => fail(t.name, REQUEST_TIMED_OUT, null)) };
    }

    const plans = unique.map((t): Plan | Result => {
      try {
        return plan(broker, t);
      } catch (e) {
        if (!(e instanceof MetadataError)) throw e;
        return fail(t.name, e.code, e.message);
      }
    });
    let records = 0;
    for (const p of plans) if ("configs" in p && !("errorCode" in p)) records += 1 + p.numPartitions + p.configs.length;
    if (records > MAX_PARTITIONS_PER_TOPIC) {
      // the whole request fails, as Kafka's getErrorResponse answers it: every topic listed, duplicates too
      return { throttleTimeMs: 0, topics: req.topics.map((t) => fail(t.name, POLICY_VIOLATION, TOO_MANY_PARTITIONS)) };
    }
    const topics: Result[] = unique.map((t, i): Result => {
      const p = plans[i]!;
      if ("errorCode" in p) return p;
      const own = new Map(p.configs);
      if (!req.validateOnly) broker.storage.createTopic(t.name, p.numPartitions, own);
      // validate_only: Kafka draws the id and drops the records
      const id = req.validateOnly ? randomUuid() : broker.storage.image.topics.get(t.name)!.id;
      return {
        name: t.name,
        topicId: id,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        numPartitions: p.numPartitions,
        replicationFactor: p.replicationFactor,
        configs: effectiveConfigs(broker, t.name, own),
      };
    });
    for (const name of duplicates) topics.push(fail(name, ErrorCode.INVALID_REQUEST, DUPLICATE));
    return { throttleTimeMs: 0, topics };
  },
});
