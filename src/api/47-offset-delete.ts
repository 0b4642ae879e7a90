// OffsetDelete (key 47), v0 as Kafka 4.4 serves it: removes a group's
// committed offsets for some partitions (a tombstone each in
// __consumer_offsets). GROUP_ID_NOT_FOUND for a group this broker does not
// know; NON_EMPTY_GROUP for an active group of another protocol type; for an
// active consumer group a topic it subscribes to gets GROUP_SUBSCRIBED_TO_TOPIC
// per partition. Partitions of topics that do not exist get
// UNKNOWN_TOPIC_OR_PARTITION, as KafkaApis answers.

import { OffsetDeleteRequest, OffsetDeleteResponse } from "../protocol/messages/offset-delete.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import type { Encodable } from "../protocol/schema.ts";

type Response = Encodable<typeof OffsetDeleteResponse>;

export const offsetDelete = defineHandler({
  key: 47,
  name: "OffsetDelete",
  request: OffsetDeleteRequest,
  response: OffsetDeleteResponse,
  minVersion: 0,
  maxVersion: 0,
  handle(req, { broker }): HandlerResult<Response> {
    const known = req.topics.filter((t) => broker.topic(t.name) !== undefined);
    const r = broker.groups.deleteOffsets(
      req.groupId,
      known.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => p.partitionIndex) })),
    );
    if (r.errorCode !== ErrorCode.NONE) return { errorCode: r.errorCode, throttleTimeMs: 0, topics: [] };
    const results = new Map(r.topics.map((t) => [t.name, t]));
    return {
      errorCode: ErrorCode.NONE,
      throttleTimeMs: 0,
      topics: req.topics.map((t) => results.get(t.name) ?? { name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION })) }),
    };
  },
});
