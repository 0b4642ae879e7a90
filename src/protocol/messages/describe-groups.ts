// DescribeGroups (key 15): the state, protocol and members of classic groups.
import { defineMessage } from "../schema.ts";

export const DescribeGroupsRequest = defineMessage({
  name: "DescribeGroupsRequest",
  apiKey: 15,
  type: "request",
  validVersions: "0-5",
  flexibleVersions: "5+",
  fields: [
    { name: "Groups", type: "[]string", versions: "0+" },
    { name: "IncludeAuthorizedOperations", type: "bool", versions: "3+" },
  ],
});

export const DescribeGroupsResponse = defineMessage({
  name: "DescribeGroupsResponse",
  apiKey: 15,
  type: "response",
  validVersions: "0-5",
  flexibleVersions: "5+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "1+" },
    { name: "Groups", type: "[]DescribedGroup", versions: "0+", fields: [
      { name: "ErrorCode", type: "int16", versions: "0+" },
      { name: "GroupId", type: "string", versions: "0+" },
      { name: "GroupState", type: "string", versions: "0+" },
      { name: "ProtocolType", type: "string", versions: "0+" },
      { name: "ProtocolData", type: "string", versions: "0+" },
      { name: "Members", type: "[]DescribedGroupMember", versions: "0+", fields: [
        { name: "MemberId", type: "string", versions: "0+" },
        { name: "GroupInstanceId", type: "string", versions: "4+", nullableVersions: "4+", default: "null" },
        { name: "ClientId", type: "string", versions: "0+" },
        { name: "ClientHost", type: "string", versions: "0+" },
        { name: "MemberMetadata", type: "bytes", versions: "0+" },
        { name: "MemberAssignment", type: "bytes", versions: "0+" },
      ] },
      { name: "AuthorizedOperations", type: "int32", versions: "3+", default: "-2147483648" },
    ] },
  ],
});
