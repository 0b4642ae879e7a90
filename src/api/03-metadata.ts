// Metadata (key 3), versions 0-12.
// One broker (this node, at its advertised host and port), ControllerId =
// node.id so admin clients send their requests here, topic ids from v10.
// Requested topics that do not exist are created when auto.create.topics.enable
// and the request allow it (AllowAutoTopicCreation from v4; always before);
// otherwise UNKNOWN_TOPIC_OR_PARTITION. Deliberate deviation: a topic created
// here is answered as ready in the same response. Kafka (KRaft) forwards the
// creation to its controller and answers UNKNOWN_TOPIC_OR_PARTITION this once
// (AutoTopicCreationManager), so every client retries after a backoff (100 ms
// to 1 s); with one node the topic exists already, and every client accepts
// the ready answer.
// A null topic list (v1+) or an empty one at v0 means every topic.
// As Kafka: at v10-11 (topic ids in the schema, not yet served) a request
// naming a topic by id or without a name is INVALID_REQUEST for every topic.
// The broker's address is the one advertised for the listener the request
// came in on.

import { MetadataRequest, MetadataResponse } from "../protocol/messages/metadata.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/codec.ts";
import { isZeroUuid } from "../metadata/uuid.ts";
import type { Encodable } from "../protocol/schema.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import type { TopicInfo } from "../metadata/image.ts";
import { ALL_CLUSTER_OPERATIONS, ALL_TOPIC_OPERATIONS, OPERATIONS_NOT_REQUESTED, describePartition, isInternalTopic, lookupOrCreate, topicById } from "./topics.ts";

// Annotations with these types make unknown fields in the literals errors (inferred returns are not checked for them).
type Response = Encodable<typeof MetadataResponse>;
type TopicResponse = Response["topics"][number];

function describeTopic(t: TopicInfo, includeOps: boolean): TopicResponse {
  return {
    errorCode: ErrorCode.NONE,
    name: t.name,
    topicId: t.id,
    isInternal: isInternalTopic(t.name),
    partitions: t.partitions.map(describePartition),
    topicAuthorizedOperations: includeOps ? ALL_TOPIC_OPERATIONS : OPERATIONS_NOT_REQUESTED,
  };
}

export const metadata = defineHandler({
  key: 3,
  name: "Metadata",
  request: MetadataRequest,
  response: MetadataResponse,
  minVersion: 0,
  maxVersion: 12,
  handle(req, { broker, header, session }): HandlerResult<Response> {
    const version = header.apiVersion;
    const includeOps = req.includeTopicAuthorizedOperations;
    const allTopics = req.topics === null || (version === 0 && req.topics.length === 0);
    const topics: TopicResponse[] = [];
    if (!allTopics && version < 12 && req.topics.some((t) => t.name === null || !isZeroUuid(t.topicId))) {
      // MetadataRequest.getErrorResponse: no brokers, no cluster id, controller -1
      const failed = req.topics.map((t): TopicResponse => ({ errorCode: ErrorCode.INVALID_REQUEST, name: t.name ?? "", topicId: t.topicId, isInternal: false, partitions: [] }));
      return { throttleTimeMs: 0, brokers: [], clusterId: null, controllerId: -1, topics: failed, clusterAuthorizedOperations: OPERATIONS_NOT_REQUESTED };
    }
    if (allTopics) {
      for (const t of broker.storage.image.topics.values()) topics.push(describeTopic(t, includeOps));
    } else {
      const allowCreate = version < 4 || req.allowAutoTopicCreation;
      for (const rt of req.topics) {
        if (rt.name === null) {
          const t = topicById(broker, rt.topicId);
          topics.push(t ? describeTopic(t, includeOps) : { errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null, topicId: rt.topicId, partitions: [] });
          continue;
        }
        const t = lookupOrCreate(broker, rt.name, allowCreate);
        if (typeof t === "number") topics.push({ errorCode: t, name: rt.name, topicId: ZERO_UUID, partitions: [] });
        else topics.push(describeTopic(t, includeOps));
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId: broker.nodeId, ...broker.advertisedFor(session.listenerName), rack: null }],
      clusterId: broker.clusterId,
      controllerId: broker.nodeId,
      topics,
      clusterAuthorizedOperations: req.includeClusterAuthorizedOperations ? ALL_CLUSTER_OPERATIONS : OPERATIONS_NOT_REQUESTED,
    };
  },
});
