// DeleteRecords (key 21), versions 0-2, as Kafka 4.4's ReplicaManager.deleteRecords
// and Partition.deleteRecordsOnLeader answer it for one node:
// - offset -1 (HIGH_WATERMARK) stands for the high watermark; another
//   negative offset, or one above the high watermark, is OFFSET_OUT_OF_RANGE;
// - otherwise the log start offset moves up to it (never down) and the
//   answer is the new low watermark (the log start offset); whole segments
//   below it are deleted at once (Kafka leaves that to its retention thread);
//   the offset is kept in `<logdir>/log-start-offset-checkpoint` (Kafka's
//   format), read at start-up;
// - internal topics (__consumer_offsets, __transaction_state,
//   __share_group_state): INVALID_TOPIC_EXCEPTION;
// - a topic whose cleanup.policy has no "delete": POLICY_VIOLATION;
// - an unknown topic or partition: UNKNOWN_TOPIC_OR_PARTITION.
// Errors answer low_watermark -1. A partition listed twice is answered once
// (Kafka keys it in a map; the last offset wins). timeout_ms is not used:
// with one replica the deletion is complete when it is answered.

import { DeleteRecordsRequest, DeleteRecordsResponse } from "../protocol/messages/delete-records.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { Encodable } from "../protocol/schema.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import type { Broker } from "../broker.ts";
import { isInternalTopic } from "./topics.ts";

type Response = Encodable<typeof DeleteRecordsResponse>;
type TopicResponse = Response["topics"][number];
type PartitionResponse = TopicResponse["partitions"][number];

/** DeleteRecordsRequest.HIGH_WATERMARK */
const HIGH_WATERMARK = -1;

function deleteOne(broker: Broker, topic: string, partitionIndex: number, offset: number): PartitionResponse {
  const fail = (errorCode: number): PartitionResponse => ({ partitionIndex, lowWatermark: -1, errorCode });
  const part = broker.topic(topic) ? broker.storage.getPartition(topic, partitionIndex) : undefined;
  if (!part) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  if (isInternalTopic(topic)) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION);
  const policy = broker.metadata.configs.topic(topic, "cleanup.policy").text ?? "";
  if (!policy.split(",").map((x) => x.trim()).includes("delete")) return fail(ErrorCode.POLICY_VIOLATION);
  const to = offset === HIGH_WATERMARK ? part.highWatermark : offset;
  if (to < 0 || !broker.storage.deleteRecords(part, to)) return fail(ErrorCode.OFFSET_OUT_OF_RANGE);
  return { partitionIndex, lowWatermark: part.logStartOffset, errorCode: ErrorCode.NONE };
}

export const deleteRecords = defineHandler({
  key: 21,
  name: "DeleteRecords",
  request: DeleteRecordsRequest,
  response: DeleteRecordsResponse,
  minVersion: 0,
  maxVersion: 2,
  handle(req, { broker }): HandlerResult<Response> {
    const byTopic = new Map<string, Map<number, number>>();
    for (const t of req.topics) {
      let m = byTopic.get(t.name);
      if (!m) byTopic.set(t.name, (m = new Map()));
      for (const p of t.partitions) m.set(p.partitionIndex, p.offset);
    }
    return {
      throttleTimeMs: 0,
      topics: [...byTopic].map(([name, parts]): TopicResponse => ({
        name,
        partitions: [...parts].map(([index, offset]) => deleteOne(broker, name, index, offset)),
      })),
    };
  },
});
