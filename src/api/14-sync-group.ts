// SyncGroup (key 14), v0-5 as Kafka 4.4 serves them. After a join the leader
// sends every member's assignment; the coordinator stores the group (a
// GroupMetadata record in __consumer_offsets), then answers every parked
// member with its own. Followers that sync first are parked until then. v3+
// carry group.instance.id; v5 the protocol type and name, which must match
// the group's (INCONSISTENT_GROUP_PROTOCOL). From v5 both are mandatory: a
// null one is INCONSISTENT_GROUP_PROTOCOL before the group is looked at, as
// KafkaApis checks (areMandatoryProtocolTypeAndNamePresent).

import { SyncGroupRequest, SyncGroupResponse } from "../protocol/messages/sync-group.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import type { Encodable } from "../protocol/schema.ts";
import type { SyncResult } from "../coordinator/group/group-coordinator.ts";
import { own, requestInfo } from "./groups.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { EMPTY_ASSIGNMENT } from "../coordinator/group/classic-group.ts";

type Response = Encodable<typeof SyncGroupResponse>;

function toResponse(r: SyncResult): Response {
  return { throttleTimeMs: 0, errorCode: r.errorCode, protocolType: r.protocolType, protocolName: r.protocolName, assignment: r.assignment };
}

export const syncGroup = defineHandler({
  key: 14,
  name: "SyncGroup",
  request: SyncGroupRequest,
  response: SyncGroupResponse,
  minVersion: 0,
  maxVersion: 5,
  handle(req, ctx): HandlerResult<Response> {
    if (ctx.apiVersion >= 5 && (req.protocolType === null || req.protocolName === null)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL, protocolType: null, protocolName: null, assignment: EMPTY_ASSIGNMENT };
    }
    const result = ctx.broker.groups.syncGroup(
      {
        groupId: req.groupId,
        generationId: req.generationId,
        memberId: req.memberId,
        groupInstanceId: req.groupInstanceId,
        protocolType: req.protocolType,
        protocolName: req.protocolName,
        assignments: req.assignments.map((a) => ({ memberId: a.memberId, assignment: own(a.assignment) })),
      },
      requestInfo(ctx),
    );
    return result instanceof Promise ? result.then(toResponse) : toResponse(result);
  },
});
