// DeleteTopics (key 20): delete topics by name (v0-5) or by name or id (v6+).
import { defineMessage } from "../schema.ts";

export const DeleteTopicsRequest = defineMessage({
  name: "DeleteTopicsRequest",
  apiKey: 20,
  type: "request",
  validVersions: "0-6",
  flexibleVersions: "4+",
  fields: [
    { name: "Topics", type: "[]DeleteTopicState", versions: "6+", fields: [
      { name: "Name", type: "string", versions: "6+", nullableVersions: "6+", default: "null" },
      { name: "TopicId", type: "uuid", versions: "6+" },
    ] },
    { name: "TopicNames", type: "[]string", versions: "0-5" },
    { name: "TimeoutMs", type: "int32", versions: "0+" },
  ],
});

export const DeleteTopicsResponse = defineMessage({
  name: "DeleteTopicsResponse",
  apiKey: 20,
  type: "response",
  validVersions: "0-6",
  flexibleVersions: "4+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "1+" },
    { name: "Responses", type: "[]DeletableTopicResult", versions: "0+", fields: [
      { name: "Name", type: "string", versions: "0+", nullableVersions: "6+" },
      { name: "TopicId", type: "uuid", versions: "6+" },
      { name: "ErrorCode", type: "int16", versions: "0+" },
      { name: "ErrorMessage", type: "string", versions: "5+", nullableVersions: "5+", default: "null" },
    ] },
  ],
});
