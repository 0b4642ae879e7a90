// DeleteGroups (key 42), v0-2 as Kafka 4.4 serves them: an Empty group is
// deleted with its committed offsets (tombstones for each offset, then for the
// group, in __consumer_offsets). A group with members: NON_EMPTY_GROUP; one
// this broker does not know: GROUP_ID_NOT_FOUND. "" is a group id like any
// other (as Kafka keeps it for backwards compatibility). A name listed twice
// is answered once (KafkaApis takes the distinct names), in request order.

import { DeleteGroupsRequest, DeleteGroupsResponse } from "../protocol/messages/delete-groups.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import type { Encodable } from "../protocol/schema.ts";

type Response = Encodable<typeof DeleteGroupsResponse>;

export const deleteGroups = defineHandler({
  key: 42,
  name: "DeleteGroups",
  request: DeleteGroupsRequest,
  response: DeleteGroupsResponse,
  minVersion: 0,
  maxVersion: 2,
  handle(req, { broker }): HandlerResult<Response> {
    const names = [...new Set(req.groupsNames)];
    return { throttleTimeMs: 0, results: names.map((groupId) => ({ groupId, errorCode: broker.groups.deleteGroup(groupId) })) };
  },
});
