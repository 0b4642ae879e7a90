// ElectLeaders (key 43): elect the preferred (or, unclean, any live) replica as leader.
import { defineMessage } from "../schema.ts";

export const ElectLeadersRequest = defineMessage({
  name: "ElectLeadersRequest",
  apiKey: 43,
  type: "request",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
    { name: "ElectionType", type: "int8", versions: "1+" },
    { name: "TopicPartitions", type: "[]TopicPartitions", versions: "0+", nullableVersions: "0+", fields: [
      { name: "Topic", type: "string", versions: "0+" },
      { name: "Partitions", type: "[]int32", versions: "0+" },
    ] },
    { name: "TimeoutMs", type: "int32", versions: "0+", default: "60000" },
  ],
});

export const ElectLeadersResponse = defineMessage({
  name: "ElectLeadersResponse",
  apiKey: 43,
  type: "response",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "0+" },
    { name: "ErrorCode", type: "int16", versions: "1+" },
    { name: "ReplicaElectionResults", type: "[]ReplicaElectionResult", versions: "0+", fields: [
      { name: "Topic", type: "string", versions: "0+" },
      { name: "PartitionResult", type: "[]PartitionResult", versions: "0+", fields: [
        { name: "PartitionId", type: "int32", versions: "0+" },
        { name: "ErrorCode", type: "int16", versions: "0+" },
        { name: "ErrorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
      ] },
    ] },
  ],
});
