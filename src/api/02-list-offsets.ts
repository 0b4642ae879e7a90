// ListOffsets (key 2), versions 0-8.
// Timestamp -2: the log start offset; -1: the log end (the high watermark);
// -3 (v7+): the record with the largest timestamp; otherwise the first offset
// whose record timestamp is at or after the given one (-1 when none is).
// v0 answers with OldStyleOffsets, v1+ with one offset and its timestamp.

import { ListOffsetsRequest, ListOffsetsResponse } from "../protocol/messages/list-offsets.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { Msg } from "../protocol/codec.ts";
import type { ApiHandler } from "./handler.ts";
import type { Broker } from "../broker.ts";

export const EARLIEST_TIMESTAMP = -2;
export const LATEST_TIMESTAMP = -1;
export const MAX_TIMESTAMP = -3;

function lookup(broker: Broker, topic: string, rp: Msg): Msg {
  const out: Msg = { partitionIndex: rp.partitionIndex, errorCode: ErrorCode.NONE, oldStyleOffsets: [], timestamp: -1, offset: -1, leaderEpoch: -1 };
  const t = broker.topic(topic);
  const plog = t ? broker.storage.getLog(topic, rp.partitionIndex) : undefined;
  const part = t?.partitions.find((p) => p.partition === rp.partitionIndex);
  if (!plog || !part) {
    out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    return out;
  }
  const ts: number = rp.timestamp;
  if (ts === EARLIEST_TIMESTAMP) {
    out.offset = plog.logStartOffset;
    out.leaderEpoch = part.leaderEpoch;
  } else if (ts === LATEST_TIMESTAMP) {
    out.offset = plog.logEndOffset;
    out.leaderEpoch = part.leaderEpoch;
  } else if (ts === MAX_TIMESTAMP) {
    const m = plog.maxTimestampOffset();
    if (m) {
      out.offset = m.offset;
      out.timestamp = m.timestamp;
      out.leaderEpoch = part.leaderEpoch;
    }
  } else if (ts < 0) {
    out.errorCode = ErrorCode.INVALID_REQUEST;
  } else {
    const found = plog.offsetForTimestamp(ts);
    if (found) {
      out.offset = found.offset;
      out.timestamp = found.timestamp;
      out.leaderEpoch = part.leaderEpoch;
    }
  }
  if (out.offset >= 0) out.oldStyleOffsets = [out.offset];
  return out;
}

export const listOffsets: ApiHandler = {
  key: 2,
  name: "ListOffsets",
  request: ListOffsetsRequest,
  response: ListOffsetsResponse,
  minVersion: 0,
  maxVersion: 8,
  handle(broker, req) {
    return {
      throttleTimeMs: 0,
      topics: (req.topics as Msg[]).map((rt) => ({
        name: rt.name,
        partitions: (rt.partitions as Msg[]).map((rp) => lookup(broker, rt.name, rp)),
      })),
    };
  },
};
