// OffsetFetch (key 9), v1-9 as Kafka 4.4 serves them (it dropped v0, KIP-896).
// v1-7 ask for one group, v8+ for several at once. A null topic list (v2+)
// means every partition the group has committed. A partition with no commit
// is answered offset -1, leader epoch -1, metadata "". A group-level error
// (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS) is the top-level error from
// v2 and each partition's error in v1, as Kafka's OffsetFetchResponse does.
// require_stable (v7+) never waits: without transactions no offset is pending.

import { OffsetFetchRequest, OffsetFetchResponse } from "../protocol/messages/offset-fetch.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import type { Encodable } from "../protocol/schema.ts";

type Response = Encodable<typeof OffsetFetchResponse>;

export const offsetFetch = defineHandler({
  key: 9,
  name: "OffsetFetch",
  request: OffsetFetchRequest,
  response: OffsetFetchResponse,
  minVersion: 1,
  maxVersion: 9,
  handle(req, { broker, apiVersion }): HandlerResult<Response> {
    const coordinator = broker.groups;
    if (apiVersion >= 8) {
      return {
        throttleTimeMs: 0,
        topics: [],
        errorCode: 0,
        groups: req.groups.map((g) => {
          const r = coordinator.fetchOffsets(g.groupId, g.topics);
          return { groupId: g.groupId, topics: r.topics, errorCode: r.errorCode };
        }),
      };
    }
    const r = coordinator.fetchOffsets(req.groupId, req.topics);
    if (r.errorCode !== ErrorCode.NONE && apiVersion < 2) {
      // v1 has no top-level error: every partition asked for carries it
      const topics = (req.topics ?? []).map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) => ({ partitionIndex: p, committedOffset: -1, committedLeaderEpoch: -1, metadata: "", errorCode: r.errorCode })),
      }));
      return { throttleTimeMs: 0, topics, errorCode: r.errorCode, groups: [] };
    }
    return { throttleTimeMs: 0, topics: r.topics, errorCode: r.errorCode, groups: [] };
  },
});
