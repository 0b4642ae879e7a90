// FindCoordinator (key 10): the broker that coordinates a group or transactional id (v4+ several keys at once).
import { defineMessage } from "../schema.ts";

export const FindCoordinatorRequest = defineMessage({
  name: "FindCoordinatorRequest",
  apiKey: 10,
  type: "request",
  validVersions: "0-6",
  flexibleVersions: "3+",
  fields: [
    { name: "Key", type: "string", versions: "0-3" },
    { name: "KeyType", type: "int8", versions: "1+", default: "0" },
    { name: "CoordinatorKeys", type: "[]string", versions: "4+" },
  ],
});

export const FindCoordinatorResponse = defineMessage({
  name: "FindCoordinatorResponse",
  apiKey: 10,
  type: "response",
  validVersions: "0-6",
  flexibleVersions: "3+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "1+" },
    { name: "ErrorCode", type: "int16", versions: "0-3" },
    { name: "ErrorMessage", type: "string", versions: "1-3", nullableVersions: "1-3" },
    { name: "NodeId", type: "int32", versions: "0-3" },
    { name: "Host", type: "string", versions: "0-3" },
    { name: "Port", type: "int32", versions: "0-3" },
    { name: "Coordinators", type: "[]Coordinator", versions: "4+", fields: [
      { name: "Key", type: "string", versions: "4+" },
      { name: "NodeId", type: "int32", versions: "4+" },
      { name: "Host", type: "string", versions: "4+" },
      { name: "Port", type: "int32", versions: "4+" },
      { name: "ErrorCode", type: "int16", versions: "4+" },
      { name: "ErrorMessage", type: "string", versions: "4+", nullableVersions: "4+" },
    ] },
  ],
});
