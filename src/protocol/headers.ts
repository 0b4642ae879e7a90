// Request and response headers. The header version follows from the API's
// flexible versions; ApiVersions responses always use header v0 so that a
// client can read them before it knows what the broker speaks.

import { DecodeError, Reader } from "./reader.ts";
import type { Writer } from "./writer.ts";

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

export const API_VERSIONS_KEY = 18;

/** Reads the fixed part (key, version, correlation id, client id); tagged fields are read by readHeaderTags. */
export function readRequestHeader(r: Reader): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  // ControlledShutdown v0 alone used header v0; every other request has a client id (never compact).
  const clientId = apiKey === 7 && apiVersion === 0 ? null : r.string();
  return { apiKey, apiVersion, correlationId, clientId };
}

/** Skips the header's tagged fields (request header v2). */
export function skipTaggedFields(r: Reader): void {
  const n = r.uvarint();
  for (let i = 0; i < n; i++) {
    r.uvarint();
    const size = r.uvarint();
    if (size > r.remaining) throw new DecodeError("header tagged field overruns the frame");
    r.raw(size);
  }
}

export function writeResponseHeader(w: Writer, correlationId: number, flexible: boolean): void {
  w.int32(correlationId);
  if (flexible) w.uvarint(0);
}
