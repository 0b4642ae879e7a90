// AlterPartitionReassignments (key 45), version 0 (Kafka 4.4 also serves v1,
// which adds allow_replication_factor_change; our schemas have v0 only),
// answered as Kafka 4.4's controller (QuorumController and
// ReplicationControlManager.alterPartitionReassignments) does for one KRaft
// node without an authorizer (checked against Kafka 4.4 in the differential test):
// - per partition, in request order (a topic or partition listed twice is
//   answered twice): an unknown topic UNKNOWN_TOPIC_OR_PARTITION "Unable to
//   find a topic named T.", an unknown partition "Unable to find partition T:P.";
// - replicas null (cancel): nothing is ever reassigning here, so
//   NO_REASSIGNMENT_IN_PROGRESS (85), message null (Kafka's default message is
//   left out);
// - replicas checked as CreateTopics' manual assignments
//   (validateManualPartitionAssignment): empty, a broker other than ours
//   (negative ids too; the lowest id named first), or ours twice:
//   INVALID_REPLICA_ASSIGNMENT (39) with Kafka's messages;
// - replicas [our node]: the current assignment, so no change: NONE, message null;
// - top level NONE with a null message; but no topics at all answers NONE
//   with an empty-string message "" (Kafka's controller returns a fresh
//   response there, whose non-null default message is "").
// Nothing is ever written: one node has nowhere to move a replica. timeout_ms never waits.

import { AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse } from "../protocol/messages/alter-partition-reassignments.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { Encodable } from "../protocol/schema.ts";
import { MetadataError } from "../metadata/store.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import { checkReplicas } from "./19-create-topics.ts";

type Response = Encodable<typeof AlterPartitionReassignmentsResponse>;

export const alterPartitionReassignments = defineHandler({
  key: 45,
  name: "AlterPartitionReassignments",
  request: AlterPartitionReassignmentsRequest,
  response: AlterPartitionReassignmentsResponse,
  minVersion: 0,
  maxVersion: 0,
  handle(req, { broker }): HandlerResult<Response> {
    if (req.topics.length === 0) return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: "", responses: [] };
    const image = broker.storage.image;
    const alter = (topic: string, partitionIndex: number, replicas: readonly number[] | null): void => {
      const info = image.topics.get(topic);
      if (!info) throw new MetadataError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Unable to find a topic named ${topic}.`);
      if (!info.partitions[partitionIndex]) throw new MetadataError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Unable to find partition ${topic}:${partitionIndex}.`);
      if (replicas === null) throw new MetadataError(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, "");
      // the only valid target is [our node]: the current assignment, nothing to change
      checkReplicas(replicas, image.nodeId, null);
    };
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      responses: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          try {
            alter(t.name, p.partitionIndex, p.replicas);
            return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE, errorMessage: null };
          } catch (e) {
            if (!(e instanceof MetadataError)) throw e;
            return { partitionIndex: p.partitionIndex, errorCode: e.code, errorMessage: e.message === "" ? null : e.message };
          }
        }),
      })),
    };
  },
});
