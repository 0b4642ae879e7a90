// FindCoordinator (key 10), v0-6 as Kafka 4.4 serves them.
// Key type 0 (group): this broker, the only one, coordinates every group. The
// first such request creates __consumer_offsets (offsets.topic.num.partitions
// partitions, compacted), as Kafka's auto topic creation does; Kafka answers
// COORDINATOR_NOT_AVAILABLE until its controller has created the topic, we
// create it at once and answer with ourselves (a deliberate deviation, as for
// auto-created topics). An empty group id is a group like any other, as
// Kafka 4.4 answers it.
// Key type 1 (transaction): COORDINATOR_NOT_AVAILABLE until transactions
// exist. Key type 2 (share) and others: INVALID_REQUEST.
// v0-3 carry one key; v4+ a batch (coordinator_keys), each answered on its own.
// Error messages as KafkaApis sets them: v1-3 Errors.message() ("NONE" on
// success, the error's default message otherwise); v4+ never set, so "" (the
// field's default) for every key.

import { FindCoordinatorRequest, FindCoordinatorResponse } from "../protocol/messages/find-coordinator.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import type { Encodable } from "../protocol/schema.ts";
import type { RequestContext } from "./context.ts";
import { log } from "../log.ts";

type Response = Encodable<typeof FindCoordinatorResponse>;

interface Found {
  nodeId: number;
  host: string;
  port: number;
  errorCode: number;
  errorMessage: string | null;
}

/** Errors.message() of the errors answered here (v1-3) */
const MESSAGES: Record<number, string> = {
  [ErrorCode.NONE]: "NONE",
  [ErrorCode.COORDINATOR_NOT_AVAILABLE]: "The coordinator is not available.",
  [ErrorCode.INVALID_REQUEST]: "This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details.",
};

function notFound(errorCode: number): Found {
  return { nodeId: -1, host: "", port: -1, errorCode, errorMessage: MESSAGES[errorCode] ?? null };
}

function find(key: string, keyType: number, ctx: RequestContext): Found {
  const { broker } = ctx;
  if (keyType === 1) return notFound(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  if (keyType !== 0) return notFound(ErrorCode.INVALID_REQUEST);
  try {
    broker.groups.ensureOffsetsTopic();
  } catch (e) {
    log.error(`FindCoordinator: creating __consumer_offsets failed: ${(e as Error).message}`);
    return notFound(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  }
  const a = broker.advertisedFor(ctx.session.listenerName);
  return { nodeId: broker.nodeId, host: a.host, port: a.port, errorCode: ErrorCode.NONE, errorMessage: MESSAGES[ErrorCode.NONE]! };
}

export const findCoordinator = defineHandler({
  key: 10,
  name: "FindCoordinator",
  request: FindCoordinatorRequest,
  response: FindCoordinatorResponse,
  minVersion: 0,
  maxVersion: 6,
  handle(req, ctx): HandlerResult<Response> {
    if (ctx.apiVersion < 4) {
      const f = find(req.key, req.keyType, ctx);
      return { throttleTimeMs: 0, ...f, coordinators: [] };
    }
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      nodeId: 0,
      host: "",
      port: 0,
      coordinators: req.coordinatorKeys.map((key) => ({ key, ...find(key, req.keyType, ctx), errorMessage: "" })),
    };
  },
});
