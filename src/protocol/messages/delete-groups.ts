// DeleteGroups (key 42): delete empty groups and their committed offsets.
import { defineMessage } from "../schema.ts";

export const DeleteGroupsRequest = defineMessage({
  name: "DeleteGroupsRequest",
  apiKey: 42,
  type: "request",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
    { name: "GroupsNames", type: "[]string", versions: "0+" },
  ],
});

export const DeleteGroupsResponse = defineMessage({
  name: "DeleteGroupsResponse",
  apiKey: 42,
  type: "response",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "0+" },
    { name: "Results", type: "[]DeletableGroupResult", versions: "0+", fields: [
      { name: "GroupId", type: "string", versions: "0+" },
      { name: "ErrorCode", type: "int16", versions: "0+" },
    ] },
  ],
});
