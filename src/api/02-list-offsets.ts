// ListOffsets (key 2), versions 1-8 (as Kafka 4, which dropped v0: KIP-896).
// Timestamp -2 (and -4, earliest local: no tiered storage here): the log start
// offset; -1: the high watermark; -3 (v7+): the record with the
// largest timestamp; otherwise the first offset whose record timestamp is at or
// after the given one (-1 when none is). A partition asked for twice gets
// INVALID_REQUEST in both places. Each partition is answered with one offset
// and its timestamp.

import { ListOffsetsRequest, ListOffsetsResponse } from "../protocol/messages/list-offsets.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { Decoded, Encodable } from "../protocol/schema.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import type { Broker } from "../broker.ts";

export const EARLIEST_TIMESTAMP = -2;
export const LATEST_TIMESTAMP = -1;
export const MAX_TIMESTAMP = -3;
export const EARLIEST_LOCAL_TIMESTAMP = -4;

// Annotations with these types make unknown fields in the literals errors (inferred returns are not checked for them).
type RequestPartition = Decoded<typeof ListOffsetsRequest>["topics"][number]["partitions"][number];
type Response = Encodable<typeof ListOffsetsResponse>;
type TopicResponse = Response["topics"][number];
type PartitionResponse = TopicResponse["partitions"][number];

function lookup(broker: Broker, topic: string, rp: RequestPartition): PartitionResponse {
  const out: Required<PartitionResponse> = { partitionIndex: rp.partitionIndex, errorCode: ErrorCode.NONE, oldStyleOffsets: [], timestamp: -1, offset: -1, leaderEpoch: -1 };
  const part = broker.topic(topic) ? broker.storage.getPartition(topic, rp.partitionIndex) : undefined;
  if (!part) {
    out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    return out;
  }
  const ts = rp.timestamp;
  if (ts === EARLIEST_TIMESTAMP || ts === EARLIEST_LOCAL_TIMESTAMP) {
    out.offset = part.logStartOffset;
    out.leaderEpoch = part.leaderEpoch;
  } else if (ts === LATEST_TIMESTAMP) {
    out.offset = part.highWatermark;
    out.leaderEpoch = part.leaderEpoch;
  } else if (ts === MAX_TIMESTAMP) {
    const m = part.maxTimestampOffset();
    if (m) {
      out.offset = m.offset;
      out.timestamp = m.timestamp;
      out.leaderEpoch = part.leaderEpoch;
    }
  } else if (ts < 0) {
    out.errorCode = ErrorCode.INVALID_REQUEST;
  } else {
    const found = part.offsetForTimestamp(ts);
    if (found) {
      out.offset = found.offset;
      out.timestamp = found.timestamp;
      out.leaderEpoch = part.leaderEpoch;
    }
  }
  return out;
}

export const listOffsets = defineHandler({
  key: 2,
  name: "ListOffsets",
  request: ListOffsetsRequest,
  response: ListOffsetsResponse,
  minVersion: 1,
  maxVersion: 8,
  handle(req, { broker, header }): HandlerResult<Response> {
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((rt): TopicResponse => {
        const seen = new Set<number>();
        const dup = new Set<number>();
        if (header.apiVersion >= 1) for (const rp of rt.partitions) (seen.has(rp.partitionIndex) ? dup : seen).add(rp.partitionIndex);
        return {
          name: rt.name,
          partitions: rt.partitions.map((rp): PartitionResponse =>
            dup.has(rp.partitionIndex)
              ? { partitionIndex: rp.partitionIndex, errorCode: ErrorCode.INVALID_REQUEST, oldStyleOffsets: [], timestamp: -1, offset: -1, leaderEpoch: -1 }
              : lookup(broker, rt.name, rp),
          ),
        };
      }),
    };
  },
});
