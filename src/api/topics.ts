// Helpers shared by the handlers that describe topics and partitions.

import type { Broker } from "../broker.ts";
import type { PartitionInfo, TopicInfo } from "../metadata/image.ts";
import type { Encodable } from "../protocol/schema.ts";
import type { MetadataResponse } from "../protocol/messages/metadata.ts";
import type { DescribeTopicPartitionsResponse } from "../protocol/messages/describe-topic-partitions.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { MetadataError, validateTopicName } from "../metadata/store.ts";

/** AclOperation bits: with no authorizer every topic operation is allowed (READ..ALTER_CONFIGS). */
export const ALL_TOPIC_OPERATIONS = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);
/**
 * The cluster operations Kafka supports on the CLUSTER resource (AclEntry.supportedOperations), all allowed with no
 * authorizer: CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE = 8096, as
 * Kafka 4.4 answers in Metadata and DescribeCluster (CREATE_TOKENS/DESCRIBE_TOKENS belong to other resource types).
 */
export const ALL_CLUSTER_OPERATIONS = (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12);
export const OPERATIONS_NOT_REQUESTED = -2147483648;

/** Kafka's Topic.isInternal: the coordinators' topics, which clients may not write and Metadata marks internal. */
export const INTERNAL_TOPICS: ReadonlySet<string> = new Set(["__consumer_offsets", "__transaction_state", "__share_group_state"]);

export function isInternalTopic(name: string): boolean {
  return INTERNAL_TOPICS.has(name);
}

export function uuidKey(id: Uint8Array): string {
  let s = "";
  for (let i = 0; i < id.length; i++) s += id[i]!.toString(16).padStart(2, "0");
  return s;
}

export function topicById(broker: Broker, id: Uint8Array): TopicInfo | undefined {
  return broker.storage.image.topicsById.get(uuidKey(id));
}

/** Finds a topic, creating it when the request and the config allow; returns an error code otherwise. */
export function lookupOrCreate(broker: Broker, name: string, allowCreate: boolean): TopicInfo | number {
  const t = broker.topic(name);
  if (t) return t;
  if (validateTopicName(name) !== null) return ErrorCode.INVALID_TOPIC_EXCEPTION;
  if (!allowCreate || !broker.config.autoCreateTopicsEnable) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  try {
    // as Kafka's AutoTopicCreationManager: __consumer_offsets gets its own partition count and configs
    if (name === "__consumer_offsets") {
      broker.groups.ensureOffsetsTopic();
      return broker.topic(name)!;
    }
    return broker.autoCreate(name)!;
  } catch (e) {
    if (e instanceof MetadataError) return e.code;
    throw e;
  }
}

/** Both responses describe partitions alike; DescribeTopicPartitions adds the ELR fields. */
type PartitionDescription = Encodable<typeof MetadataResponse>["topics"][number]["partitions"][number] &
  Encodable<typeof DescribeTopicPartitionsResponse>["topics"][number]["partitions"][number];

/** A partition as Metadata and DescribeTopicPartitions describe it (single node: nothing offline). */
export function describePartition(p: PartitionInfo): PartitionDescription {
  return {
    errorCode: ErrorCode.NONE,
    partitionIndex: p.partition,
    leaderId: p.leader,
    leaderEpoch: p.leaderEpoch,
    replicaNodes: p.replicas,
    isrNodes: p.isr,
    eligibleLeaderReplicas: [],
    lastKnownElr: [],
    offlineReplicas: [],
  };
}
