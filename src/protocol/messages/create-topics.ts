// CreateTopics (key 19): create topics, with partitions, assignments and configs.
import { defineMessage } from "../schema.ts";

export const CreateTopicsRequest = defineMessage({
  name: "CreateTopicsRequest",
  apiKey: 19,
  type: "request",
  validVersions: "0-7",
  flexibleVersions: "5+",
  fields: [
    { name: "Topics", type: "[]CreatableTopic", versions: "0+", fields: [
      { name: "Name", type: "string", versions: "0+" },
      { name: "NumPartitions", type: "int32", versions: "0+" },
      { name: "ReplicationFactor", type: "int16", versions: "0+" },
      { name: "Assignments", type: "[]CreatableReplicaAssignment", versions: "0+", fields: [
        { name: "PartitionIndex", type: "int32", versions: "0+" },
        { name: "BrokerIds", type: "[]int32", versions: "0+" },
      ] },
      { name: "Configs", type: "[]CreatableTopicConfig", versions: "0+", fields: [
        { name: "Name", type: "string", versions: "0+" },
        { name: "Value", type: "string", versions: "0+", nullableVersions: "0+" },
      ] },
    ] },
    { name: "timeoutMs", type: "int32", versions: "0+", default: "60000" },
    { name: "validateOnly", type: "bool", versions: "1+", default: "false" },
  ],
});

export const CreateTopicsResponse = defineMessage({
  name: "CreateTopicsResponse",
  apiKey: 19,
  type: "response",
  validVersions: "0-7",
  flexibleVersions: "5+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "2+" },
    { name: "Topics", type: "[]CreatableTopicResult", versions: "0+", fields: [
      { name: "Name", type: "string", versions: "0+" },
      { name: "TopicId", type: "uuid", versions: "7+" },
      { name: "ErrorCode", type: "int16", versions: "0+" },
      { name: "ErrorMessage", type: "string", versions: "1+", nullableVersions: "0+" },
      { name: "TopicConfigErrorCode", type: "int16", versions: "5+", tag: 0, taggedVersions: "5+" },
      { name: "NumPartitions", type: "int32", versions: "5+", default: "-1" },
      { name: "ReplicationFactor", type: "int16", versions: "5+", default: "-1" },
      { name: "Configs", type: "[]CreatableTopicConfigs", versions: "5+", nullableVersions: "5+", fields: [
        { name: "Name", type: "string", versions: "5+" },
        { name: "Value", type: "string", versions: "5+", nullableVersions: "5+" },
        { name: "ReadOnly", type: "bool", versions: "5+" },
        { name: "ConfigSource", type: "int8", versions: "5+", default: "-1" },
        { name: "IsSensitive", type: "bool", versions: "5+" },
      ] },
    ] },
  ],
});
