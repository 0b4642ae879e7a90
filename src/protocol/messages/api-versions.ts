// ApiVersions (key 18): which API versions the broker supports.
import { defineMessage } from "../schema.ts";

export const ApiVersionsRequest = defineMessage({
  name: "ApiVersionsRequest",
  apiKey: 18,
  type: "request",
  validVersions: "0-4",
  flexibleVersions: "3+",
  fields: [
    { name: "ClientSoftwareName", type: "string", versions: "3+" },
    { name: "ClientSoftwareVersion", type: "string", versions: "3+" },
  ],
});

export const ApiVersionsResponse = defineMessage({
  name: "ApiVersionsResponse",
  apiKey: 18,
  type: "response",
  validVersions: "0-4",
  flexibleVersions: "3+",
  fields: [
    { name: "ErrorCode", type: "int16", versions: "0+" },
    { name: "ApiKeys", type: "[]ApiVersion", versions: "0+", fields: [
      { name: "ApiKey", type: "int16", versions: "0+" },
      { name: "MinVersion", type: "int16", versions: "0+" },
      { name: "MaxVersion", type: "int16", versions: "0+" },
    ] },
    { name: "ThrottleTimeMs", type: "int32", versions: "1+" },
    { name: "SupportedFeatures", type: "[]SupportedFeatureKey", versions: "3+", tag: 0, taggedVersions: "3+", fields: [
      { name: "Name", type: "string", versions: "3+" },
      { name: "MinVersion", type: "int16", versions: "3+" },
      { name: "MaxVersion", type: "int16", versions: "3+" },
    ] },
    { name: "FinalizedFeaturesEpoch", type: "int64", versions: "3+", tag: 1, taggedVersions: "3+", default: "-1" },
    { name: "FinalizedFeatures", type: "[]FinalizedFeatureKey", versions: "3+", tag: 2, taggedVersions: "3+", fields: [
      { name: "Name", type: "string", versions: "3+" },
      { name: "MaxVersionLevel", type: "int16", versions: "3+" },
      { name: "MinVersionLevel", type: "int16", versions: "3+" },
    ] },
    { name: "ZkMigrationReady", type: "bool", versions: "3+", tag: 3, taggedVersions: "3+", default: "false" },
  ],
});

