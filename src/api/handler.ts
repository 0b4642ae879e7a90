// What an API handler is: one per API key, with the versions it serves beside
// its definition. The network layer decodes, calls handle, encodes.

import type { Msg } from "../protocol/codec.ts";
import type { MessageDef } from "../protocol/schema.ts";
import type { RequestContext } from "./context.ts";

/** `null` means no response at all (Produce with acks=0). */
export type HandlerResult = Msg | null | Promise<Msg | null>;

export interface ApiHandler {
  key: number;
  name: string;
  request: MessageDef;
  response: MessageDef;
  /** versions advertised in ApiVersions */
  minVersion: number;
  maxVersion: number;
  /**
   * Must not keep references to `bytes`/`records` fields of the request past
   * its synchronous part: they alias the connection's receive buffer.
   */
  handle(request: Msg, ctx: RequestContext): HandlerResult;
}
