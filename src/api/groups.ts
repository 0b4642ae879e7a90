// Helpers shared by the group handlers (keys 8-16, 42, 47).

import type { RequestContext } from "./context.ts";
import { clientHostOf, type RequestInfo } from "../coordinator/group/group-coordinator.ts";

/** Who sent a group request, as the coordinator records a member. */
export function requestInfo(ctx: RequestContext): RequestInfo {
  return { apiVersion: ctx.apiVersion, clientId: ctx.header.clientId ?? "", clientHost: clientHostOf(ctx.session.clientAddress), signal: ctx.session.signal };
}

/** Bytes decoded from a request alias the receive buffer; what the coordinator keeps is copied. */
export function own(b: Uint8Array): Uint8Array {
  return b.slice();
}
