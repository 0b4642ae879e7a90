// OffsetForLeaderEpoch (key 23), versions 2-4 (as Kafka 4, which dropped
// v0-v1: KIP-896). For each partition the end offset of the requested leader
// epoch, as Kafka 4.4's Partition.lastOffsetForLeaderEpoch and
// LeaderEpochFileCache.endOffsetFor answer it:
// - current_leader_epoch (v2+; -1 = not given) below the partition's epoch is
//   FENCED_LEADER_EPOCH, above it UNKNOWN_LEADER_EPOCH (leader_epoch and
//   end_offset -1);
// - a partition we do not host: UNKNOWN_TOPIC_OR_PARTITION;
// - leader_epoch -1 (UNDEFINED): no error, -1/-1;
// - the partition's current epoch: that epoch and the log end offset;
// - a larger epoch than the current: no error, -1/-1;
// - a smaller one: the requested epoch and the start offset of the first
//   epoch in the cache (Kafka: the first epoch's start offset, moved up with
//   the log start offset).
// Our epoch cache: a partition's leader epoch never changes today (one node,
// no reassignment), and Kafka adds the epoch at the log end offset when the
// partition becomes leader (an empty log too), so the cache is one entry:
// (current epoch, log start offset). Computed, not kept. When leader epochs
// can change this needs Kafka's leader-epoch-checkpoint (epoch -> start offset).
// replica_id (v3+) is not used: we are always the leader.

import { OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse } from "../protocol/messages/offset-for-leader-epoch.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { Decoded, Encodable } from "../protocol/schema.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import type { Broker } from "../broker.ts";

type RequestPartition = Decoded<typeof OffsetForLeaderEpochRequest>["topics"][number]["partitions"][number];
type Response = Encodable<typeof OffsetForLeaderEpochResponse>;
type TopicResponse = Response["topics"][number];
type PartitionResponse = TopicResponse["partitions"][number];

/** RecordBatch.NO_PARTITION_LEADER_EPOCH / LeaderEpochFileCache UNDEFINED_EPOCH. */
const UNDEFINED_EPOCH = -1;

function endOffsetFor(broker: Broker, topic: string, rp: RequestPartition): PartitionResponse {
  const out: Required<PartitionResponse> = { errorCode: ErrorCode.NONE, partition: rp.partition, leaderEpoch: -1, endOffset: -1 };
  const part = broker.topic(topic) ? broker.storage.getPartition(topic, rp.partition) : undefined;
  if (!part) {
    out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    return out;
  }
  const current = part.leaderEpoch;
  if (rp.currentLeaderEpoch !== UNDEFINED_EPOCH) {
    if (rp.currentLeaderEpoch < current) out.errorCode = ErrorCode.FENCED_LEADER_EPOCH;
    else if (rp.currentLeaderEpoch > current) out.errorCode = ErrorCode.UNKNOWN_LEADER_EPOCH;
    if (out.errorCode !== ErrorCode.NONE) return out;
  }
  const asked = rp.leaderEpoch;
  if (asked === UNDEFINED_EPOCH || asked > current) return out;
  if (asked === current) {
    out.leaderEpoch = current;
    out.endOffset = part.logEndOffset;
  } else {
    // smaller than any epoch in the cache: Kafka answers the requested epoch and the first epoch's start
    out.leaderEpoch = asked;
    out.endOffset = part.logStartOffset;
  }
  return out;
}

export const offsetForLeaderEpoch = defineHandler({
  key: 23,
  name: "OffsetForLeaderEpoch",
  request: OffsetForLeaderEpochRequest,
  response: OffsetForLeaderEpochResponse,
  minVersion: 2,
  maxVersion: 4,
  handle(req, { broker }): HandlerResult<Response> {
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((rt): TopicResponse => ({
        topic: rt.topic,
        partitions: rt.partitions.map((rp) => endOffsetFor(broker, rt.topic, rp)),
      })),
    };
  },
});
