// OffsetForLeaderEpoch (key 23): the end offset of a leader epoch (truncation checks after an epoch change).
import { defineMessage } from "../schema.ts";

export const OffsetForLeaderEpochRequest = defineMessage({
  name: "OffsetForLeaderEpochRequest",
  apiKey: 23,
  type: "request",
  validVersions: "0-4",
  flexibleVersions: "4+",
  fields: [
    { name: "ReplicaId", type: "int32", versions: "3+", default: "-2" },
    { name: "Topics", type: "[]OffsetForLeaderTopic", versions: "0+", fields: [
      { name: "Topic", type: "string", versions: "0+" },
      { name: "Partitions", type: "[]OffsetForLeaderPartition", versions: "0+", fields: [
        { name: "Partition", type: "int32", versions: "0+" },
        { name: "CurrentLeaderEpoch", type: "int32", versions: "2+", default: "-1" },
        { name: "LeaderEpoch", type: "int32", versions: "0+" },
      ] },
    ] },
  ],
});

export const OffsetForLeaderEpochResponse = defineMessage({
  name: "OffsetForLeaderEpochResponse",
  apiKey: 23,
  type: "response",
  validVersions: "0-4",
  flexibleVersions: "4+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "2+" },
    { name: "Topics", type: "[]OffsetForLeaderTopicResult", versions: "0+", fields: [
      { name: "Topic", type: "string", versions: "0+" },
      { name: "Partitions", type: "[]EpochEndOffset", versions: "0+", fields: [
        { name: "ErrorCode", type: "int16", versions: "0+" },
        { name: "Partition", type: "int32", versions: "0+" },
        { name: "LeaderEpoch", type: "int32", versions: "1+", default: "-1" },
        { name: "EndOffset", type: "int64", versions: "0+", default: "-1" },
      ] },
    ] },
  ],
});
