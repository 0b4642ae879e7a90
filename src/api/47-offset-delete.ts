// OffsetDelete (key 47), v0 as Kafka 4.4 serves it: removes a group's
// committed offsets for some partitions (a tombstone each in
// __consumer_offsets). GROUP_ID_NOT_FOUND for a group this broker does not
// know; NON_EMPTY_GROUP for an active group of another protocol type; for an
// active consumer group a topic it subscribes to gets GROUP_SUBSCRIBED_TO_TOPIC
// per partition. Partitions that do not exist (of a topic that does not, or
// beyond its partition count) get UNKNOWN_TOPIC_OR_PARTITION, as KafkaApis
// answers, listed before the coordinator's answers for the same topic.

import { OffsetDeleteRequest, OffsetDeleteResponse } from "../protocol/messages/offset-delete.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import type { Encodable } from "../protocol/schema.ts";

type Response = Encodable<typeof OffsetDeleteResponse>;
type ResponseTopic = { name: string; partitions: { partitionIndex: number; errorCode: number }[] };

export const offsetDelete = defineHandler({
  key: 47,
  name: "OffsetDelete",
  request: OffsetDeleteRequest,
  response: OffsetDeleteResponse,
  minVersion: 0,
  maxVersion: 0,
  handle(req, { broker }): HandlerResult<Response> {
    // KafkaApis' OffsetDeleteResponse.Builder: partitions it refuses first, then the coordinator's merged in by topic
    const out: ResponseTopic[] = [];
    const byName = new Map<string, ResponseTopic>();
    const add = (name: string, partitions: ResponseTopic["partitions"]) => {
      let t = byName.get(name);
      if (!t) {
        t = { name, partitions: [] };
        byName.set(name, t);
        out.push(t);
      }
      t.partitions.push(...partitions);
    };
    const valid: { name: string; partitions: number[] }[] = [];
    for (const t of req.topics) {
      const info = broker.topic(t.name);
      const ok: number[] = [];
      for (const p of t.partitions) {
        if (info?.partitions[p.partitionIndex]) ok.push(p.partitionIndex);
        else add(t.name, [{ partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }]);
      }
      if (ok.length > 0) valid.push({ name: t.name, partitions: ok });
    }
    const r = broker.groups.deleteOffsets(req.groupId, valid);
    if (r.errorCode !== ErrorCode.NONE) return { errorCode: r.errorCode, throttleTimeMs: 0, topics: [] };
    // with none refused before, the coordinator's answer as it is (a topic named twice stays twice)
    if (out.length === 0) return { errorCode: ErrorCode.NONE, throttleTimeMs: 0, topics: r.topics };
    for (const t of r.topics) add(t.name, t.partitions);
    return { errorCode: ErrorCode.NONE, throttleTimeMs: 0, topics: out };
  },
});
