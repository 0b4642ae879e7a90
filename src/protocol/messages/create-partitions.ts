// CreatePartitions (key 37): grow topics to a new partition count.
import { defineMessage } from "../schema.ts";

export const CreatePartitionsRequest = defineMessage({
  name: "CreatePartitionsRequest",
  apiKey: 37,
  type: "request",
  validVersions: "0-3",
  flexibleVersions: "2+",
  fields: [
    { name: "Topics", type: "[]CreatePartitionsTopic", versions: "0+", fields: [
      { name: "Name", type: "string", versions: "0+" },
      { name: "Count", type: "int32", versions: "0+" },
      { name: "Assignments", type: "[]CreatePartitionsAssignment", versions: "0+", nullableVersions: "0+", fields: [
        { name: "BrokerIds", type: "[]int32", versions: "0+" },
      ] },
    ] },
    { name: "TimeoutMs", type: "int32", versions: "0+" },
    { name: "ValidateOnly", type: "bool", versions: "0+" },
  ],
});

export const CreatePartitionsResponse = defineMessage({
  name: "CreatePartitionsResponse",
  apiKey: 37,
  type: "response",
  validVersions: "0-3",
  flexibleVersions: "2+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "0+" },
    { name: "Results", type: "[]CreatePartitionsTopicResult", versions: "0+", fields: [
      { name: "Name", type: "string", versions: "0+" },
      { name: "ErrorCode", type: "int16", versions: "0+" },
      { name: "ErrorMessage", type: "string", versions: "0+", nullableVersions: "0+", default: "null" },
    ] },
  ],
});
