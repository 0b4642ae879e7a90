// LeaveGroup (key 13): members leave a classic group, one by member id (v0-2) or a batch by identity (v3+).
import { defineMessage } from "../schema.ts";

export const LeaveGroupRequest = defineMessage({
  name: "LeaveGroupRequest",
  apiKey: 13,
  type: "request",
  validVersions: "0-5",
  flexibleVersions: "4+",
  fields: [
    { name: "GroupId", type: "string", versions: "0+" },
    { name: "MemberId", type: "string", versions: "0-2" },
    { name: "Members", type: "[]MemberIdentity", versions: "3+", fields: [
      { name: "MemberId", type: "string", versions: "3+" },
      { name: "GroupInstanceId", type: "string", versions: "3+", nullableVersions: "3+", default: "null" },
      { name: "Reason", type: "string", versions: "5+", nullableVersions: "5+", default: "null" },
    ] },
  ],
});

export const LeaveGroupResponse = defineMessage({
  name: "LeaveGroupResponse",
  apiKey: 13,
  type: "response",
  validVersions: "0-5",
  flexibleVersions: "4+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "1+" },
    { name: "ErrorCode", type: "int16", versions: "0+" },
    { name: "Members", type: "[]MemberResponse", versions: "3+", fields: [
      { name: "MemberId", type: "string", versions: "3+" },
      { name: "GroupInstanceId", type: "string", versions: "3+", nullableVersions: "3+" },
      { name: "ErrorCode", type: "int16", versions: "3+" },
    ] },
  ],
});
