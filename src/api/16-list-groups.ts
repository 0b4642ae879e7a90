// ListGroups (key 16), v0-5 as Kafka 4.4 serves them: every group this broker
// coordinates, with its protocol type; v4+ its state and a states filter, v5+
// its type ("classic": the only kind served yet) and a types filter; filters
// compare case-insensitively. COORDINATOR_LOAD_IN_PROGRESS while a partition
// of __consumer_offsets is still loading (the groups already loaded are listed).

import { ListGroupsRequest, ListGroupsResponse } from "../protocol/messages/list-groups.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import type { Encodable } from "../protocol/schema.ts";

type Response = Encodable<typeof ListGroupsResponse>;

export const listGroups = defineHandler({
  key: 16,
  name: "ListGroups",
  request: ListGroupsRequest,
  response: ListGroupsResponse,
  minVersion: 0,
  maxVersion: 5,
  handle(req, { broker }): HandlerResult<Response> {
    const r = broker.groups.listGroups(req.statesFilter, req.typesFilter);
    return { throttleTimeMs: 0, errorCode: r.errorCode, groups: r.groups };
  },
});
