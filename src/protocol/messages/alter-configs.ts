// AlterConfigs (key 33): replaces the whole set of dynamic config keys of topics and brokers.
import { defineMessage } from "../schema.ts";

export const AlterConfigsRequest = defineMessage({
  name: "AlterConfigsRequest",
  apiKey: 33,
  type: "request",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
    { name: "Resources", type: "[]AlterConfigsResource", versions: "0+", fields: [
      { name: "ResourceType", type: "int8", versions: "0+" },
      { name: "ResourceName", type: "string", versions: "0+" },
      { name: "Configs", type: "[]AlterableConfig", versions: "0+", fields: [
        { name: "Name", type: "string", versions: "0+" },
        { name: "Value", type: "string", versions: "0+", nullableVersions: "0+" },
      ] },
    ] },
    { name: "ValidateOnly", type: "bool", versions: "0+" },
  ],
});

export const AlterConfigsResponse = defineMessage({
  name: "AlterConfigsResponse",
  apiKey: 33,
  type: "response",
  validVersions: "0-2",
  flexibleVersions: "2+",
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
