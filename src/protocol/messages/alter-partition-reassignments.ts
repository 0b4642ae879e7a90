// AlterPartitionReassignments (key 45): move partitions to other replicas, or cancel a move.
// Our schemas have version 0 only (Kafka 4.4 also has v1, AllowReplicationFactorChange).
import { defineMessage } from "../schema.ts";

export const AlterPartitionReassignmentsRequest = defineMessage({
  name: "AlterPartitionReassignmentsRequest",
  apiKey: 45,
  type: "request",
  validVersions: "0",
  flexibleVersions: "0+",
  fields: [
    { name: "TimeoutMs", type: "int32", versions: "0+", default: "60000" },
    { name: "Topics", type: "[]ReassignableTopic", versions: "0+", fields: [
      { name: "Name", type: "string", versions: "0+" },
      { name: "Partitions", type: "[]ReassignablePartition", versions: "0+", fields: [
        { name: "PartitionIndex", type: "int32", versions: "0+" },
        { name: "Replicas", type: "[]int32", versions: "0+", nullableVersions: "0+", default: "null" },
      ] },
    ] },
  ],
});

export const AlterPartitionReassignmentsResponse = defineMessage({
  name: "AlterPartitionReassignmentsResponse",
  apiKey: 45,
  type: "response",
  validVersions: "0",
  flexibleVersions: "0+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "0+" },
    { name: "ErrorCode", type: "int16", versions: "0+" },
    { name: "ErrorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
    { name: "Responses", type: "[]ReassignableTopicResponse", versions: "0+", fields: [
      { name: "Name", type: "string", versions: "0+" },
      { name: "Partitions", type: "[]ReassignablePartitionResponse", versions: "0+", fields: [
        { name: "PartitionIndex", type: "int32", versions: "0+" },
        { name: "ErrorCode", type: "int16", versions: "0+" },
        { name: "ErrorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
      ] },
    ] },
  ],
});
