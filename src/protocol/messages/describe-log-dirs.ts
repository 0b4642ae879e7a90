// DescribeLogDirs (key 35): the broker's log directories, their partitions and sizes.
import { defineMessage } from "../schema.ts";

export const DescribeLogDirsRequest = defineMessage({
  name: "DescribeLogDirsRequest",
  apiKey: 35,
  type: "request",
  validVersions: "0-4",
  flexibleVersions: "2+",
  fields: [
    { name: "Topics", type: "[]DescribableLogDirTopic", versions: "0+", nullableVersions: "0+", fields: [
      { name: "Topic", type: "string", versions: "0+" },
      { name: "Partitions", type: "[]int32", versions: "0+" },
    ] },
  ],
});

export const DescribeLogDirsResponse = defineMessage({
  name: "DescribeLogDirsResponse",
  apiKey: 35,
  type: "response",
  validVersions: "0-4",
  flexibleVersions: "2+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "0+" },
    { name: "ErrorCode", type: "int16", versions: "3+" },
    { name: "Results", type: "[]DescribeLogDirsResult", versions: "0+", fields: [
      { name: "ErrorCode", type: "int16", versions: "0+" },
      { name: "LogDir", type: "string", versions: "0+" },
      { name: "Topics", type: "[]DescribeLogDirsTopic", versions: "0+", fields: [
        { name: "Name", type: "string", versions: "0+" },
        { name: "Partitions", type: "[]DescribeLogDirsPartition", versions: "0+", fields: [
          { name: "PartitionIndex", type: "int32", versions: "0+" },
          { name: "PartitionSize", type: "int64", versions: "0+" },
          { name: "OffsetLag", type: "int64", versions: "0+" },
          { name: "IsFutureKey", type: "bool", versions: "0+" },
        ] },
      ] },
      { name: "TotalBytes", type: "int64", versions: "4+", default: "-1" },
      { name: "UsableBytes", type: "int64", versions: "4+", default: "-1" },
    ] },
  ],
});
