// DeleteRecords (key 21): move partitions' log start offsets up.
import { defineMessage } from "../schema.ts";

export const DeleteRecordsRequest = defineMessage({
  name: "DeleteRecordsRequest",
  apiKey: 21,
  type: "request",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
    { name: "Topics", type: "[]DeleteRecordsTopic", versions: "0+", fields: [
      { name: "Name", type: "string", versions: "0+" },
      { name: "Partitions", type: "[]DeleteRecordsPartition", versions: "0+", fields: [
        { name: "PartitionIndex", type: "int32", versions: "0+" },
        { name: "Offset", type: "int64", versions: "0+" },
      ] },
    ] },
    { name: "TimeoutMs", type: "int32", versions: "0+" },
  ],
});

export const DeleteRecordsResponse = defineMessage({
  name: "DeleteRecordsResponse",
  apiKey: 21,
  type: "response",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "0+" },
    { name: "Topics", type: "[]DeleteRecordsTopicResult", versions: "0+", fields: [
      { name: "Name", type: "string", versions: "0+" },
      { name: "Partitions", type: "[]DeleteRecordsPartitionResult", versions: "0+", fields: [
        { name: "PartitionIndex", type: "int32", versions: "0+" },
        { name: "LowWatermark", type: "int64", versions: "0+" },
        { name: "ErrorCode", type: "int16", versions: "0+" },
      ] },
    ] },
  ],
});
