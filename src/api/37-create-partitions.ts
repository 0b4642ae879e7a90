// CreatePartitions (key 37), versions 0-3, answered as Kafka 4.4's controller
// (ControllerApis.createPartitions, ReplicationControlManager.createPartitions)
// does for one KRaft node without an authorizer:
// - a name listed more than once is INVALID_REQUEST "Duplicate topic name.",
//   answered once and first; the other topics follow (Kafka lists both groups
//   in a HashSet's order, ours in request order: the same for one topic each);
// - an unknown topic is UNKNOWN_TOPIC_OR_PARTITION, message null;
// - only growing: the same count or a smaller one is INVALID_PARTITIONS with
//   the store's (Kafka's) messages;
// - assignments, when given, one per new partition (INVALID_REPLICA_ASSIGNMENT
//   otherwise), each as many replicas as the topic's replication factor (1),
//   only our node, as CreateTopics checks them;
// - more than 10000 new partitions for one topic: POLICY_VIOLATION with the message
//   Kafka's CreateTopics gives (not compared: Kafka bounds the request's records
//   over all its topics and fails it whole; Kafka grows 1 -> 10001 fine).
// - validate_only: the same answers, nothing written. error_message null on success.
// One node: the partitions exist once the batch is written; timeout_ms never waits.

import { CreatePartitionsRequest, CreatePartitionsResponse } from "../protocol/messages/create-partitions.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { Encodable } from "../protocol/schema.ts";
import { MetadataError, MAX_PARTITIONS_PER_TOPIC } from "../metadata/store.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import { checkReplicas } from "./19-create-topics.ts";

type Response = Encodable<typeof CreatePartitionsResponse>;
type Result = Response["results"][number];

const INVALID_REPLICA_ASSIGNMENT = 39;

export const createPartitions = defineHandler({
  key: 37,
  name: "CreatePartitions",
  request: CreatePartitionsRequest,
  response: CreatePartitionsResponse,
  minVersion: 0,
  maxVersion: 3,
  handle(req, { broker }): HandlerResult<Response> {
    const counts = new Map<string, number>();
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const results: Result[] = [...counts].filter(([, n]) => n > 1).map(([name]) => ({ name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "Duplicate topic name." }));
    const image = broker.storage.image;
    const nodeId = image.nodeId;
    for (const t of req.topics) {
      if (counts.get(t.name) !== 1) continue;
      try {
        const info = image.topics.get(t.name);
        if (!info) throw new MetadataError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "");
        const current = info.partitions.length;
        if (t.count === current) throw new MetadataError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partition(s).`);
        if (t.count < current) throw new MetadataError(ErrorCode.INVALID_PARTITIONS, `The topic ${t.name} currently has ${current} partition(s); ${t.count} would not be an increase.`);
        const additional = t.count - current;
        if (t.assignments !== null) {
          if (t.assignments.length !== additional) {
            throw new MetadataError(INVALID_REPLICA_ASSIGNMENT, `Attempted to add ${additional} additional partition(s), but only ${t.assignments.length} assignment(s) were specified.`);
          }
          const factor = info.partitions[0]?.replicas.length ?? 1;
          for (const a of t.assignments) checkReplicas(a.brokerIds, nodeId, factor);
        }
        // the store's bound on one request's records (Kafka's MAX_RECORDS_PER_USER_OP), checked here too for validate_only
        if (additional > MAX_PARTITIONS_PER_TOPIC) throw new MetadataError(44, "Excessively large number of partitions per request.");
        if (!req.validateOnly) broker.metadata.createPartitions(t.name, t.count);
        results.push({ name: t.name, errorCode: ErrorCode.NONE, errorMessage: null });
      } catch (e) {
        if (!(e instanceof MetadataError)) throw e;
        results.push({ name: t.name, errorCode: e.code, errorMessage: e.message === "" ? null : e.message });
      }
    }
    return { throttleTimeMs: 0, results };
  },
});
