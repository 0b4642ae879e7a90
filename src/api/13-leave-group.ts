// LeaveGroup (key 13), v0-5 as Kafka 4.4 serves them. v0-2 name one member;
// its outcome is the top-level error, as Kafka's LeaveGroupResponse gives old
// versions. v3+ leave a batch of members by identity, each with its own error
// (an empty member id with a group.instance.id removes that static member, as
// an admin does); v5 adds a reason, which is logged. A rebalance starts at once.
// For a group this broker does not know every member is UNKNOWN_MEMBER_ID
// (v3+: per member, no top-level error; v0-2: the top-level error).

import { LeaveGroupRequest, LeaveGroupResponse } from "../protocol/messages/leave-group.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import type { Encodable } from "../protocol/schema.ts";

type Response = Encodable<typeof LeaveGroupResponse>;

export const leaveGroup = defineHandler({
  key: 13,
  name: "LeaveGroup",
  request: LeaveGroupRequest,
  response: LeaveGroupResponse,
  minVersion: 0,
  maxVersion: 5,
  handle(req, { broker, apiVersion }): HandlerResult<Response> {
    const members = apiVersion < 3 ? [{ memberId: req.memberId, groupInstanceId: null, reason: null }] : req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, reason: m.reason }));
    const r = broker.groups.leaveGroup(req.groupId, members);
    if (apiVersion < 3) {
      const errorCode = r.errorCode !== ErrorCode.NONE ? r.errorCode : (r.members[0]?.errorCode ?? ErrorCode.NONE);
      return { throttleTimeMs: 0, errorCode, members: [] };
    }
    return { throttleTimeMs: 0, errorCode: r.errorCode, members: r.members };
  },
});
