// Heartbeat (key 12), v0-4 as Kafka 4.4 serves them: keeps a classic group
// member's session alive; REBALANCE_IN_PROGRESS tells it to rejoin.
// UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION and FENCED_INSTANCE_ID (v3+ static
// members) as Kafka's coordinator answers them.

import { HeartbeatRequest, HeartbeatResponse } from "../protocol/messages/heartbeat.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import type { Encodable } from "../protocol/schema.ts";

type Response = Encodable<typeof HeartbeatResponse>;

export const heartbeat = defineHandler({
  key: 12,
  name: "Heartbeat",
  request: HeartbeatRequest,
  response: HeartbeatResponse,
  minVersion: 0,
  maxVersion: 4,
  handle(req, { broker }): HandlerResult<Response> {
    return { throttleTimeMs: 0, errorCode: broker.groups.heartbeat(req.groupId, req.generationId, req.memberId, req.groupInstanceId) };
  },
});
