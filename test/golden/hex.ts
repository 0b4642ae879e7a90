// Hand-written golden bytes: tiny helpers that turn one value into its hex
// field (nothing here knows any message layout, and nothing uses
// src/protocol), a checker that compares a response field by field against an
// annotated expectation, and a driver that sends a request frame to an
// in-process broker and reads back one whole response frame.
//
// Annotated hex: one field per line, `<hex>  # what it is`. Whitespace inside
// the hex is ignored; lines with only a comment are section labels. Example:
//
//   0000002a        # correlation_id = 42
//   0003            # error_code = UNKNOWN_TOPIC_OR_PARTITION
//
// Primitive encodings (Kafka protocol guide, "Protocol Primitive Types"):
//   intN big-endian two's complement; STRING int16 length + UTF-8, null = ffff;
//   COMPACT_STRING uvarint(length+1) + UTF-8, null = 00; ARRAY int32 count,
//   null = ffffffff; COMPACT_ARRAY uvarint(count+1), null = 00; BYTES/RECORDS
//   int32 length (null ffffffff) or uvarint(length+1) when compact (null 00);
//   UUID 16 raw bytes; BOOLEAN 00/01; TAG_BUFFER uvarint count then
//   (uvarint tag, uvarint size, bytes) per field, 00 when empty.

import type { InProcessConnection } from "../helpers.ts";

function fixed(n: number | bigint, bytes: number): string {
  const bits = BigInt(bytes * 8);
  let v = BigInt(n);
  if (v < 0n) v += 1n << bits;
  if (v < 0n || v >= 1n << bits) throw new Error(`${n} does not fit in ${bytes} bytes`);
  return v.toString(16).padStart(bytes * 2, "0");
}

export const i8 = (n: number) => fixed(n, 1);
export const i16 = (n: number) => fixed(n, 2);
export const i32 = (n: number) => fixed(n, 4);
export const i64 = (n: number | bigint) => fixed(n, 8);
export const bool = (b: boolean) => (b ? "01" : "00");

/** unsigned varint (7 bits a byte, low group first, high bit = more) */
export function uvarint(n: number): string {
  let out = "";
  let v = n >>> 0;
  if (n !== v) throw new Error(`uvarint ${n} out of range`);
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out += b.toString(16).padStart(2, "0");
  } while (v !== 0);
  return out;
}

/** signed varint, zigzag encoded (record fields) */
export const varint = (n: number) => uvarint(n >= 0 ? n * 2 : -n * 2 - 1);

export const utf8 = (s: string) => Buffer.from(s, "utf8").toString("hex");

/** STRING: int16 length + bytes */
export const str = (s: string) => i16(Buffer.byteLength(s)) + " " + utf8(s);
/** COMPACT_STRING: uvarint(length + 1) + bytes */
export const cstr = (s: string) => uvarint(Buffer.byteLength(s) + 1) + " " + utf8(s);
export const NULL_STR = "ffff";
export const NULL_CSTR = "00";

/** ARRAY length: int32 count */
export const arr = (n: number) => i32(n);
/** COMPACT_ARRAY length: uvarint(count + 1) */
export const carr = (n: number) => uvarint(n + 1);
export const NULL_ARR = "ffffffff";
export const NULL_CARR = "00";

/** empty TAG_BUFFER */
export const TAGS = "00";

export const uuidHex = (b: Uint8Array) => Buffer.from(b).toString("hex");
export const ZERO_UUID = "00000000000000000000000000000000";

/** size of annotated hex, in bytes */
export function byteLength(annotated: string): number {
  return clean(annotated).length / 2;
}

interface Field {
  hex: string;
  note: string;
}

function parse(annotated: string): Field[] {
  const out: Field[] = [];
  for (const line of annotated.split("\n")) {
    const hashAt = line.indexOf("#");
    const hexPart = (hashAt < 0 ? line : line.slice(0, hashAt)).replace(/\s+/g, "").toLowerCase();
    const note = hashAt < 0 ? "" : line.slice(hashAt + 1).trim();
    if (!/^[0-9a-f]*$/.test(hexPart) || hexPart.length % 2 !== 0) throw new Error(`bad hex in golden line: ${JSON.stringify(line)}`);
    if (hexPart === "" && note === "") continue;
    out.push({ hex: hexPart, note });
  }
  return out;
}

export function clean(annotated: string): string {
  return parse(annotated)
    .map((f) => f.hex)
    .join("");
}

export function bytesOf(annotated: string): Uint8Array {
  return Uint8Array.from(Buffer.from(clean(annotated), "hex"));
}

/** Prefixes the 4-byte size of everything that follows. */
export function frame(annotated: string): string {
  return `${i32(byteLength(annotated))}  # message size = ${byteLength(annotated)}\n${annotated}`;
}

/**
 * Compares `actual` with annotated hex; on a mismatch throws a table of every
 * field with the bytes expected and the bytes received.
 */
export function expectBytes(actual: Uint8Array, annotated: string): void {
  const fields = parse(annotated);
  const got = Buffer.from(actual).toString("hex");
  const want = fields.map((f) => f.hex).join("");
  if (got === want) return;
  const lines: string[] = [];
  let pos = 0;
  let firstBad = -1;
  for (const f of fields) {
    if (f.hex === "") {
      lines.push(`                -- ${f.note}`);
      continue;
    }
    const g = got.slice(pos, pos + f.hex.length);
    const ok = g === f.hex;
    if (!ok && firstBad < 0) firstBad = pos / 2;
    lines.push(`${ok ? "   ok " : ">> BAD"} @${String(pos / 2).padStart(4)}  ${f.hex}${ok ? "" : `  got ${g || "(nothing)"}`}  # ${f.note}`);
    pos += f.hex.length;
  }
  if (got.length > pos) lines.push(`>> EXTRA @${pos / 2}: ${got.slice(pos)}`);
  throw new Error(
    `response bytes differ from the golden bytes (first difference at byte ${firstBad < 0 ? pos / 2 : firstBad}; ` +
      `${actual.length} bytes received, ${want.length / 2} expected)\n${lines.join("\n")}\nreceived: ${got}\nexpected: ${want}`,
  );
}

/** Reads one whole response frame (size prefix included) from the connection. */
export async function readFrame(conn: InProcessConnection, timeoutMs = 3000): Promise<Uint8Array> {
  let buf = new Uint8Array(0);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const more = conn.take();
    if (more.length > 0) {
      const next = new Uint8Array(buf.length + more.length);
      next.set(buf);
      next.set(more, buf.length);
      buf = next;
    }
    if (buf.length >= 4) {
      const size = new DataView(buf.buffer, buf.byteOffset).getInt32(0);
      if (buf.length >= 4 + size) {
        if (buf.length > 4 + size) throw new Error(`more than one response frame: ${Buffer.from(buf).toString("hex")}`);
        return buf;
      }
    }
    if (conn.closed) throw new Error(`broker closed the connection (received so far: ${Buffer.from(buf).toString("hex") || "nothing"})`);
    if (Date.now() > deadline) throw new Error(`no whole response within ${timeoutMs} ms (received so far: ${Buffer.from(buf).toString("hex") || "nothing"})`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Sends one request (annotated hex without the size prefix) and returns the whole response frame. */
export async function roundTrip(conn: InProcessConnection, request: string): Promise<Uint8Array> {
  conn.send(bytesOf(frame(request)));
  return readFrame(conn);
}

/** Sends one request (annotated hex without the size prefix) and checks the whole response frame against `response`. */
export async function exchange(conn: InProcessConnection, request: string, response: string): Promise<void> {
  expectBytes(await roundTrip(conn, request), frame(response));
}

export const CLIENT_ID = "golden";

/**
 * Request header v1 (non-flexible request versions) or v2 (flexible: + empty
 * tagged fields). The client id is a nullable int16-length STRING in both,
 * never compact (RequestHeader.json: "flexibleVersions": "none" for ClientId).
 */
export function requestHeader(apiKey: number, version: number, correlationId: number, flexible: boolean, clientId: string | null = CLIENT_ID): string {
  return [
    `${i16(apiKey)}        # request_api_key = ${apiKey}`,
    `${i16(version)}        # request_api_version = ${version}`,
    `${i32(correlationId)}    # correlation_id = ${correlationId}`,
    clientId === null ? `${NULL_STR}        # client_id = null` : `${str(clientId)}  # client_id = "${clientId}"`,
    flexible ? `${TAGS}          # header tagged fields: none (request header v2)` : `              # (request header v1: no tagged fields)`,
  ].join("\n");
}

/** Response header v0 (correlation id) or v1 (+ empty tagged fields). */
export function responseHeader(correlationId: number, flexible: boolean): string {
  return [
    `${i32(correlationId)}    # correlation_id = ${correlationId}`,
    flexible ? `${TAGS}          # header tagged fields: none (response header v1)` : `              # (response header v0)`,
  ].join("\n");
}

/** Indents annotated text (for nesting inside arrays). */
export function indent(annotated: string, by = "  "): string {
  return annotated
    .split("\n")
    .map((l) => (l.trim() === "" ? l : by + l))
    .join("\n");
}

/**
 * Sends one request and expects the broker to close the connection without
 * answering (what Kafka does for a version it does not serve, other than
 * ApiVersions, or an unknown API key: the request cannot be parsed).
 */
export async function expectClosed(conn: InProcessConnection, request: string, timeoutMs = 3000): Promise<void> {
  conn.send(bytesOf(frame(request)));
  const deadline = Date.now() + timeoutMs;
  while (!conn.closed) {
    if (Date.now() > deadline) throw new Error(`connection still open after ${timeoutMs} ms (received: ${Buffer.from(conn.take()).toString("hex") || "nothing"})`);
    await new Promise((r) => setTimeout(r, 1));
  }
  const got = conn.take();
  if (got.length > 0) throw new Error(`connection closed, but after sending ${Buffer.from(got).toString("hex")}`);
}
