// What an API handler is: one per API key, with the versions it serves beside
// its definition. The network layer decodes, calls handle, encodes.

import type { Decoded, Encodable, MessageDef, Struct } from "../protocol/schema.ts";
import type { RequestContext } from "./context.ts";

/** `null` means no response at all (Produce with acks=0). */
export type HandlerResult<Res> = Res | null | Promise<Res | null>;

export interface Handler<Req extends MessageDef, Res extends MessageDef> {
  /** the request's apiKey */
  readonly key: NonNullable<Req["apiKey"]>;
  readonly name: string;
  readonly request: Req;
  readonly response: Res;
  /** versions advertised in ApiVersions */
  readonly minVersion: number;
  readonly maxVersion: number;
  /**
   * The lowest version handled, when it is above minVersion: the versions
   * between are advertised (old clients check for them) but a request at one
   * closes the connection, as Kafka does for Produce v0-2.
   */
  readonly servedFrom?: number;
  /**
   * Must not keep references to `bytes`/`records` fields of the request past
   * its synchronous part: they alias the connection's receive buffer.
   */
  handle(request: Decoded<Req>, ctx: RequestContext): HandlerResult<Encodable<Res>>;
}

/**
 * A handler with its message types erased, as the registry and the network
 * layer hold it. Every Handler<Req, Res> is one: `handle` is a method, and
 * TypeScript compares method parameters bivariantly. That is sound here
 * because the network layer only ever passes a request decoded with
 * `handler.request` and encodes the result with `handler.response`.
 * (Declared on its own rather than as Handler<MessageDef, MessageDef>, so
 * that the comparison is structural.)
 */
export interface ApiHandler {
  readonly key: number;
  readonly name: string;
  readonly request: MessageDef;
  readonly response: MessageDef;
  readonly minVersion: number;
  readonly maxVersion: number;
  /**
   * The lowest version handled, when it is above minVersion: the versions
   * between are advertised (old clients check for them) but a request at one
   * closes the connection, as Kafka does for Produce v0-2.
   */
  readonly servedFrom?: number;
  handle(request: Struct, ctx: RequestContext): HandlerResult<Struct>;
}

/**
 * Declares a handler; `req` and the response type follow from `request` and
 * `response`. Declare handle's return type too (HandlerResult<Encodable<typeof
 * XResponse>>): TypeScript rejects unknown fields in object literals only
 * against a declared type, not against what it infers for a return.
 */
export function defineHandler<Req extends MessageDef, Res extends MessageDef>(h: Handler<Req, Res>): Handler<Req, Res> {
  return h;
}
