// SyncGroup (key 14): after a join, the leader hands in the assignments and every member gets its own.
import { defineMessage } from "../schema.ts";

export const SyncGroupRequest = defineMessage({
  name: "SyncGroupRequest",
  apiKey: 14,
  type: "request",
  validVersions: "0-5",
  flexibleVersions: "4+",
  fields: [
    { name: "GroupId", type: "string", versions: "0+" },
    { name: "GenerationId", type: "int32", versions: "0+" },
    { name: "MemberId", type: "string", versions: "0+" },
    { name: "GroupInstanceId", type: "string", versions: "3+", nullableVersions: "3+", default: "null" },
    { name: "ProtocolType", type: "string", versions: "5+", nullableVersions: "5+", default: "null" },
    { name: "ProtocolName", type: "string", versions: "5+", nullableVersions: "5+", default: "null" },
    { name: "Assignments", type: "[]SyncGroupRequestAssignment", versions: "0+", fields: [
      { name: "MemberId", type: "string", versions: "0+" },
      { name: "Assignment", type: "bytes", versions: "0+" },
    ] },
  ],
});

export const SyncGroupResponse = defineMessage({
  name: "SyncGroupResponse",
  apiKey: 14,
  type: "response",
  validVersions: "0-5",
  flexibleVersions: "4+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "1+" },
    { name: "ErrorCode", type: "int16", versions: "0+" },
    { name: "ProtocolType", type: "string", versions: "5+", nullableVersions: "5+", default: "null" },
    { name: "ProtocolName", type: "string", versions: "5+", nullableVersions: "5+", default: "null" },
    { name: "Assignment", type: "bytes", versions: "0+" },
  ],
});
