// OffsetCommit (key 8): a group commits consumed offsets per partition.
import { defineMessage } from "../schema.ts";

export const OffsetCommitRequest = defineMessage({
  name: "OffsetCommitRequest",
  apiKey: 8,
  type: "request",
  validVersions: "0-9",
  flexibleVersions: "8+",
  fields: [
    { name: "GroupId", type: "string", versions: "0+" },
    { name: "GenerationIdOrMemberEpoch", type: "int32", versions: "1+", default: "-1" },
    { name: "MemberId", type: "string", versions: "1+" },
    { name: "GroupInstanceId", type: "string", versions: "7+", nullableVersions: "7+", default: "null" },
    { name: "RetentionTimeMs", type: "int64", versions: "2-4", default: "-1" },
    { name: "Topics", type: "[]OffsetCommitRequestTopic", versions: "0+", fields: [
      { name: "Name", type: "string", versions: "0+" },
      { name: "Partitions", type: "[]OffsetCommitRequestPartition", versions: "0+", fields: [
        { name: "PartitionIndex", type: "int32", versions: "0+" },
        { name: "CommittedOffset", type: "int64", versions: "0+" },
        { name: "CommittedLeaderEpoch", type: "int32", versions: "6+", default: "-1" },
        { name: "CommitTimestamp", type: "int64", versions: "1", default: "-1" },
        { name: "CommittedMetadata", type: "string", versions: "0+", nullableVersions: "0+" },
      ] },
    ] },
  ],
});

export const OffsetCommitResponse = defineMessage({
  name: "OffsetCommitResponse",
  apiKey: 8,
  type: "response",
  validVersions: "0-9",
  flexibleVersions: "8+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "3+" },
    { name: "Topics", type: "[]OffsetCommitResponseTopic", versions: "0+", fields: [
      { name: "Name", type: "string", versions: "0+" },
      { name: "Partitions", type: "[]OffsetCommitResponsePartition", versions: "0+", fields: [
        { name: "PartitionIndex", type: "int32", versions: "0+" },
        { name: "ErrorCode", type: "int16", versions: "0+" },
      ] },
    ] },
  ],
});
