// ListPartitionReassignments (key 46): the reassignments in progress.
import { defineMessage } from "../schema.ts";

export const ListPartitionReassignmentsRequest = defineMessage({
  name: "ListPartitionReassignmentsRequest",
  apiKey: 46,
  type: "request",
  validVersions: "0",
  flexibleVersions: "0+",
  fields: [
    { name: "TimeoutMs", type: "int32", versions: "0+", default: "60000" },
    { name: "Topics", type: "[]ListPartitionReassignmentsTopics", versions: "0+", nullableVersions: "0+", default: "null", fields: [
      { name: "Name", type: "string", versions: "0+" },
      { name: "PartitionIndexes", type: "[]int32", versions: "0+" },
    ] },
  ],
});

export const ListPartitionReassignmentsResponse = defineMessage({
  name: "ListPartitionReassignmentsResponse",
  apiKey: 46,
  type: "response",
  validVersions: "0",
  flexibleVersions: "0+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "0+" },
    { name: "ErrorCode", type: "int16", versions: "0+" },
    { name: "ErrorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
    { name: "Topics", type: "[]OngoingTopicReassignment", versions: "0+", fields: [
      { name: "Name", type: "string", versions: "0+" },
      { name: "Partitions", type: "[]OngoingPartitionReassignment", versions: "0+", fields: [
        { name: "PartitionIndex", type: "int32", versions: "0+" },
        { name: "Replicas", type: "[]int32", versions: "0+" },
        { name: "AddingReplicas", type: "[]int32", versions: "0+" },
        { name: "RemovingReplicas", type: "[]int32", versions: "0+" },
      ] },
    ] },
  ],
});
