// JoinGroup (key 11), v0-9 as Kafka 4.4 serves them. The group coordinator
// (src/coordinator/group) runs Kafka's classic rebalance: the request is parked
// until the group's join phase completes, then every member is answered, the
// leader with every member's metadata for the chosen protocol.
// v0 has no rebalance timeout: the session timeout stands in (as Kafka's
// JoinGroupRequest does). From v4 a member without an id is given one with
// MEMBER_ID_REQUIRED and must join again with it (KIP-394). v5 adds
// group.instance.id (static membership), v9 skip_assignment for a static
// leader that rejoins without a rebalance. Below v7 a null protocol name is
// sent as "" (the field is not nullable there).

import { JoinGroupRequest, JoinGroupResponse } from "../protocol/messages/join-group.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import type { Encodable } from "../protocol/schema.ts";
import type { JoinResult } from "../coordinator/group/group-coordinator.ts";
import { own, requestInfo } from "./groups.ts";

type Response = Encodable<typeof JoinGroupResponse>;

function toResponse(r: JoinResult, version: number): Response {
  return {
    throttleTimeMs: 0,
    errorCode: r.errorCode,
    generationId: r.generationId,
    protocolType: r.protocolType,
    protocolName: r.protocolName ?? (version < 7 ? "" : null),
    leader: r.leader,
    skipAssignment: r.skipAssignment,
    memberId: r.memberId,
    members: r.members,
  };
}

export const joinGroup = defineHandler({
  key: 11,
  name: "JoinGroup",
  request: JoinGroupRequest,
  response: JoinGroupResponse,
  minVersion: 0,
  maxVersion: 9,
  handle(req, ctx): HandlerResult<Response> {
    const version = ctx.apiVersion;
    const result = ctx.broker.groups.joinGroup(
      {
        groupId: req.groupId,
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs: version === 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs,
        memberId: req.memberId,
        groupInstanceId: req.groupInstanceId,
        protocolType: req.protocolType,
        protocols: req.protocols.map((p) => ({ name: p.name, metadata: own(p.metadata) })),
        reason: req.reason,
      },
      requestInfo(ctx),
    );
    return result instanceof Promise ? result.then((r) => toResponse(r, version)) : toResponse(result, version);
  },
});
