// ListGroups (key 16): the groups this broker coordinates, optionally filtered by state (v4+) and type (v5+).
import { defineMessage } from "../schema.ts";

export const ListGroupsRequest = defineMessage({
  name: "ListGroupsRequest",
  apiKey: 16,
  type: "request",
  validVersions: "0-5",
  flexibleVersions: "3+",
  fields: [
    { name: "StatesFilter", type: "[]string", versions: "4+" },
    { name: "TypesFilter", type: "[]string", versions: "5+" },
  ],
});

export const ListGroupsResponse = defineMessage({
  name: "ListGroupsResponse",
  apiKey: 16,
  type: "response",
  validVersions: "0-5",
  flexibleVersions: "3+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "1+" },
    { name: "ErrorCode", type: "int16", versions: "0+" },
    { name: "Groups", type: "[]ListedGroup", versions: "0+", fields: [
      { name: "GroupId", type: "string", versions: "0+" },
      { name: "ProtocolType", type: "string", versions: "0+" },
      { name: "GroupState", type: "string", versions: "4+" },
      { name: "GroupType", type: "string", versions: "5+" },
    ] },
  ],
});
