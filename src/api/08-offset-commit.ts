// OffsetCommit (key 8), v2-9 as Kafka 4.4 serves them (it dropped v0-1, KIP-896).
// Partitions of topics the metadata does not have are answered
// UNKNOWN_TOPIC_OR_PARTITION first, as KafkaApis does (the coordinator's
// answers are merged after them by topic name; with none refused they are the
// response as they are, a topic named twice answered twice); the rest go to the
// group coordinator, which checks the member and generation (generation -1
// with an empty member id commits for a group with no members: simple
// consumers and admin tools) and writes one OffsetCommit record per partition
// to __consumer_offsets before answering. A refused request gives its error to
// every partition. v2-4 carry retention_time_ms (-1: the broker's
// offsets.retention.minutes); v6+ the leader epoch; v7+ group.instance.id.
// From v9 a generation for a group that does not exist is GROUP_ID_NOT_FOUND,
// before that ILLEGAL_GENERATION.

import { OffsetCommitRequest, OffsetCommitResponse } from "../protocol/messages/offset-commit.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import type { Encodable } from "../protocol/schema.ts";
import type { CommitRequest } from "../coordinator/group/group-coordinator.ts";

type Response = Encodable<typeof OffsetCommitResponse>;
type ResponseTopic = { name: string; partitions: { partitionIndex: number; errorCode: number }[] };

export const offsetCommit = defineHandler({
  key: 8,
  name: "OffsetCommit",
  request: OffsetCommitRequest,
  response: OffsetCommitResponse,
  minVersion: 2,
  maxVersion: 9,
  handle(req, { broker, apiVersion }): HandlerResult<Response> {
    const out: ResponseTopic[] = [];
    const byName = new Map<string, ResponseTopic>();
    const topicOf = (name: string) => {
      let t = byName.get(name);
      if (!t) {
        t = { name, partitions: [] };
        byName.set(name, t);
        out.push(t);
      }
      return t;
    };
    const valid: CommitRequest["topics"] = [];
    for (const t of req.topics) {
      const info = broker.topic(t.name);
      const ok: CommitRequest["topics"][number]["partitions"] = [];
      for (const p of t.partitions) {
        if (!info || !info.partitions[p.partitionIndex]) topicOf(t.name).partitions.push({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
        else ok.push({ partitionIndex: p.partitionIndex, committedOffset: p.committedOffset, committedLeaderEpoch: p.committedLeaderEpoch, committedMetadata: p.committedMetadata });
      }
      if (ok.length > 0) valid.push({ name: t.name, partitions: ok });
    }
    if (valid.length > 0) {
      const r = broker.groups.commitOffsets(
        {
          groupId: req.groupId,
          generationIdOrMemberEpoch: req.generationIdOrMemberEpoch,
          memberId: req.memberId,
          groupInstanceId: req.groupInstanceId,
          retentionTimeMs: req.retentionTimeMs,
          topics: valid,
        },
        apiVersion,
      );
      const answered: ResponseTopic[] =
        "errorCode" in r ? valid.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: r.errorCode })) })) : r.topics;
      // OffsetCommitResponse.Builder.merge: the coordinator's topics as they are when nothing was refused
      // before (a topic named twice stays twice), else merged into the refused ones by name
      if (out.length === 0) return { throttleTimeMs: 0, topics: answered };
      for (const t of answered) {
        const known = byName.get(t.name);
        if (known) known.partitions.push(...t.partitions);
        else {
          byName.set(t.name, t);
          out.push(t);
        }
      }
    }
    return { throttleTimeMs: 0, topics: out };
  },
});
