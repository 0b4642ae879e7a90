// What a handler knows about the request beyond its body: the header, the
// connection's session, and the broker it runs in. The session's signal fires
// when the connection closes, so a request that waits (a long-poll Fetch, a
// JoinGroup) stops waiting and lets go of what it holds.
// What a response holds until it is encoded (e.g. log segment records read
// straight into the output) is handed to afterResponse, which the connection
// runs once the response is encoded or dropped, whichever comes first.

import type { RequestHeader } from "../protocol/headers.ts";
import type { Broker } from "../broker.ts";

export type SecurityProtocol = "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL";

/** One client connection as handlers see it. */
export interface Session {
  /** "ip:port" of the client */
  readonly clientAddress: string;
  /** the listener the connection came in on (e.g. PLAINTEXT, INTERNAL) */
  readonly listenerName: string;
  readonly securityProtocol: SecurityProtocol;
  /** "User:ANONYMOUS" until authentication exists */
  readonly principal: string;
  /** aborted when the connection closes */
  readonly signal: AbortSignal;
}

export interface RequestContext {
  readonly header: RequestHeader;
  /** header.apiVersion, the version the request was decoded at */
  readonly apiVersion: number;
  readonly session: Session;
  readonly broker: Broker;
  /**
   * Runs `release` once this request's response has been encoded or dropped
   * (connection closed, encoding failed, no response); at once if that
   * already happened.
   */
  afterResponse(release: () => void): void;
}

export const ANONYMOUS = "User:ANONYMOUS";
