// DescribeTopicPartitions (key 75), version 0.
// Topics sorted by name (every topic when the list is empty); an unknown topic
// gets UNKNOWN_TOPIC_OR_PARTITION with the all-zero id. ResponsePartitionLimit
// caps the partitions in one response (at most 2000, Kafka's
// max.request.partition.size.limit); the cursor says where to resume
// (topic, first partition) and NextCursor where the next page starts.

import { DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse } from "../protocol/messages/describe-topic-partitions.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/codec.ts";
import type { Encodable } from "../protocol/schema.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import { ALL_TOPIC_OPERATIONS, describePartition, isInternalTopic } from "./topics.ts";

// Annotations with these types make unknown fields in the literals errors (inferred returns are not checked for them).
type Response = Encodable<typeof DescribeTopicPartitionsResponse>;
type TopicResponse = Response["topics"][number];

export const describeTopicPartitions = defineHandler({
  key: 75,
  name: "DescribeTopicPartitions",
  request: DescribeTopicPartitionsRequest,
  response: DescribeTopicPartitionsResponse,
  minVersion: 0,
  maxVersion: 0,
  handle(req, { broker }): HandlerResult<Response> {
    const image = broker.storage.image;
    const requested: string[] = req.topics.length === 0 ? [...image.topics.keys()] : req.topics.map((t) => t.name);
    const names = [...new Set(requested)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const cursor = req.cursor;
    if (cursor && req.topics.length > 0 && !names.includes(cursor.topicName)) {
      // as Kafka: a cursor outside the requested topics is an invalid request
      const topics = names.map((name): TopicResponse => ({ errorCode: ErrorCode.INVALID_REQUEST, name, topicId: ZERO_UUID, isInternal: false, partitions: [] }));
      return { throttleTimeMs: 0, topics, nextCursor: null };
    }
    // as Kafka: the client's limit, capped by max.request.partition.size.limit
    let remaining = Math.max(1, Math.min(broker.config.maxRequestPartitionSizeLimit, req.responsePartitionLimit));
    const topics: TopicResponse[] = [];
    let nextCursor: Response["nextCursor"] = null;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      if (cursor && name < cursor.topicName) continue;
      // once the limit is used up the next topic, known or not, starts the next page
      if (remaining === 0) {
        nextCursor = { topicName: name, partitionIndex: 0 };
        break;
      }
      const t = image.topics.get(name);
      if (!t) {
        topics.push({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: ALL_TOPIC_OPERATIONS });
        continue;
      }
      const first = cursor && name === cursor.topicName ? Math.max(0, cursor.partitionIndex) : 0;
      const parts = t.partitions.filter((p) => p.partition >= first).sort((a, b) => a.partition - b.partition);
      const page = parts.slice(0, remaining);
      remaining -= page.length;
      topics.push({
        errorCode: ErrorCode.NONE,
        name,
        topicId: t.id,
        isInternal: isInternalTopic(name),
        partitions: page.map(describePartition),
        topicAuthorizedOperations: ALL_TOPIC_OPERATIONS,
      });
      if (page.length < parts.length) {
        nextCursor = { topicName: name, partitionIndex: parts[page.length]!.partition };
        break;
      }
    }
    return { throttleTimeMs: 0, topics, nextCursor };
  },
});
