// IncrementalAlterConfigs (key 44): SET, DELETE, APPEND, SUBTRACT config keys of topics and brokers.
import { defineMessage } from "../schema.ts";

export const IncrementalAlterConfigsRequest = defineMessage({
  name: "IncrementalAlterConfigsRequest",
  apiKey: 44,
  type: "request",
  validVersions: "0-1",
  flexibleVersions: "1+",
  fields: [
    { name: "Resources", type: "[]AlterConfigsResource", versions: "0+", fields: [
      { name: "ResourceType", type: "int8", versions: "0+" },
      { name: "ResourceName", type: "string", versions: "0+" },
      { name: "Configs", type: "[]AlterableConfig", versions: "0+", fields: [
        { name: "Name", type: "string", versions: "0+" },
        { name: "ConfigOperation", type: "int8", versions: "0+" },
        { name: "Value", type: "string", versions: "0+", nullableVersions: "0+" },
      ] },
    ] },
    { name: "ValidateOnly", type: "bool", versions: "0+" },
  ],
});

export const IncrementalAlterConfigsResponse = defineMessage({
  name: "IncrementalAlterConfigsResponse",
  apiKey: 44,
  type: "response",
  validVersions: "0-1",
  flexibleVersions: "1+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "0+" },
    { name: "Responses", type: "[]AlterConfigsResourceResponse", versions: "0+", fields: [
      { name: "ErrorCode", type: "int16", versions: "0+" },
      { name: "ErrorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
      { name: "ResourceType", type: "int8", versions: "0+" },
      { name: "ResourceName", type: "string", versions: "0+" },
    ] },
  ],
});
