// OffsetDelete (key 47): delete a group's committed offsets for some partitions.
import { defineMessage } from "../schema.ts";

export const OffsetDeleteRequest = defineMessage({
  name: "OffsetDeleteRequest",
  apiKey: 47,
  type: "request",
  validVersions: "0",
  flexibleVersions: "none",
  fields: [
    { name: "GroupId", type: "string", versions: "0+" },
    { name: "Topics", type: "[]OffsetDeleteRequestTopic", versions: "0+", fields: [
      { name: "Name", type: "string", versions: "0+" },
      { name: "Partitions", type: "[]OffsetDeleteRequestPartition", versions: "0+", fields: [
        { name: "PartitionIndex", type: "int32", versions: "0+" },
      ] },
    ] },
  ],
});

export const OffsetDeleteResponse = defineMessage({
  name: "OffsetDeleteResponse",
  apiKey: 47,
  type: "response",
  validVersions: "0",
  flexibleVersions: "none",
  fields: [
    { name: "ErrorCode", type: "int16", versions: "0+" },
    { name: "ThrottleTimeMs", type: "int32", versions: "0+" },
    { name: "Topics", type: "[]OffsetDeleteResponseTopic", versions: "0+", fields: [
      { name: "Name", type: "string", versions: "0+" },
      { name: "Partitions", type: "[]OffsetDeleteResponsePartition", versions: "0+", fields: [
        { name: "PartitionIndex", type: "int32", versions: "0+" },
        { name: "ErrorCode", type: "int16", versions: "0+" },
      ] },
    ] },
  ],
});
