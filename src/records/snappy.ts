// Snappy, as Kafka clients put it in record batches. Pure TypeScript: Bun has
// no Snappy. Two framings occur: the Java client writes xerial's stream
// (magic 0x82 'SNAPPY' 0, version and compatible-version int32s, then chunks
// of int32 length + raw snappy block); librdkafka and kafkajs write one raw
// snappy block. Decoding takes both (as librdkafka does); encoding writes the
// xerial stream with 32 KB chunks as the Java client does, which the Java
// client, librdkafka, kafkajs and franz-go all read.

import { copyMatch } from "./lz4.ts";

export class SnappyError extends Error {}

const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00];
const XERIAL_HEADER = 16;
const XERIAL_CHUNK = 32 * 1024;
// a copy element of 2 bytes yields at most 64 bytes: no valid block expands beyond that ratio
const MAX_RATIO = 64;

function isXerial(b: Uint8Array): boolean {
  if (b.length < XERIAL_HEADER) return false;
  for (let i = 0; i < 8; i++) if (b[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

function readVarint(b: Uint8Array, p: number, end: number): [number, number] {
  let v = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (p >= end) throw new SnappyError("truncated length preamble");
    const c = b[p++]!;
    v += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) return [v, p];
  }
  throw new SnappyError("length preamble too long");
}

/** The uncompressed length a raw block declares. */
function blockLength(src: Uint8Array, start: number, end: number): number {
  const [n] = readVarint(src, start, end);
  if (n > (end - start) * MAX_RATIO) throw new SnappyError(`declared length ${n} impossible for ${end - start} bytes`);
  return n;
}

/** Decodes the raw block src[start, end) into dst at op; returns the end position in dst. */
function decodeBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array, op: number): number {
  const [n, p0] = readVarint(src, start, end);
  let ip = p0;
  const base = op;
  const limit = op + n;
  if (limit > dst.length) throw new SnappyError("output overflow");
  while (ip < end) {
    const tag = src[ip++]!;
    let len: number;
    let dist: number;
    switch (tag & 3) {
      case 0: {
        len = tag >>> 2;
        if (len >= 60) {
          const extra = len - 59;
          if (ip + extra > end) throw new SnappyError("truncated literal length");
          len = 0;
          for (let i = 0; i < extra; i++) len += src[ip + i]! * 2 ** (8 * i);
          ip += extra;
        }
        len += 1;
        if (ip + len > end || op + len > limit) throw new SnappyError("literal runs past the block");
        if (len < 32) for (let k = 0; k < len; k++) dst[op + k] = src[ip + k]!;
        else dst.set(src.subarray(ip, ip + len), op);
        ip += len;
        op += len;
        continue;
      }
      case 1:
        if (ip >= end) throw new SnappyError("truncated copy");
        len = 4 + ((tag >>> 2) & 7);
        dist = ((tag >>> 5) << 8) | src[ip++]!;
        break;
      case 2:
        if (ip + 2 > end) throw new SnappyError("truncated copy");
        len = (tag >>> 2) + 1;
        dist = src[ip]! | (src[ip + 1]! << 8);
        ip += 2;
        break;
      default:
        if (ip + 4 > end) throw new SnappyError("truncated copy");
        len = (tag >>> 2) + 1;
        dist = (src[ip]! | (src[ip + 1]! << 8) | (src[ip + 2]! << 16) | (src[ip + 3]! << 24)) >>> 0;
        ip += 4;
    }
    if (dist === 0 || op - dist < base) throw new SnappyError(`copy offset ${dist} out of range`);
    if (op + len > limit) throw new SnappyError("copy runs past the declared length");
    op = copyMatch(dst, op, dist, len);
  }
  if (op !== limit) throw new SnappyError(`block decodes to ${op - base} bytes, declares ${n}`);
  return op;
}

function int32be(b: Uint8Array, p: number): number {
  return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
}

/** Decompresses a raw snappy block or a xerial stream. Throws SnappyError on anything malformed. */
export function snappyDecompress(src: Uint8Array, maxOutput = Infinity): Uint8Array {
  if (!isXerial(src)) {
    const n = blockLength(src, 0, src.length);
    if (n > maxOutput) throw new SnappyError(`decompresses to ${n} bytes, more than ${maxOutput}`);
    const out = new Uint8Array(n);
    decodeBlock(src, 0, src.length, out, 0);
    return out;
  }
  // two passes: sum the chunks' declared lengths, then decode into one buffer
  let total = 0;
  for (let p = XERIAL_HEADER; p < src.length; ) {
    if (src.length - p < 4) throw new SnappyError("truncated xerial chunk length");
    const n = int32be(src, p);
    if (n < 0 || p + 4 + n > src.length) throw new SnappyError(`xerial chunk of ${n} bytes does not fit`);
    total += blockLength(src, p + 4, p + 4 + n);
    p += 4 + n;
  }
  if (total > maxOutput) throw new SnappyError(`decompresses to ${total} bytes, more than ${maxOutput}`);
  const out = new Uint8Array(total);
  let op = 0;
  for (let p = XERIAL_HEADER; p < src.length; ) {
    const n = int32be(src, p);
    op = decodeBlock(src, p + 4, p + 4 + n, out, op);
    p += 4 + n;
  }
  return out;
}

const HASH_LOG = 14;
const table = new Int32Array(1 << HASH_LOG);

function writeVarint(dst: Uint8Array, dp: number, v: number): number {
  while (v >= 0x80) {
    dst[dp++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  dst[dp++] = v;
  return dp;
}

function emitLiteral(src: Uint8Array, s: number, e: number, dst: Uint8Array, dp: number): number {
  const n = e - s - 1;
  if (n < 60) dst[dp++] = n << 2;
  else if (n < 0x100) {
    dst[dp++] = 60 << 2;
    dst[dp++] = n;
  } else if (n < 0x10000) {
    dst[dp++] = 61 << 2;
    dst[dp++] = n & 0xff;
    dst[dp++] = n >>> 8;
  } else {
    dst[dp++] = 62 << 2;
    dst[dp++] = n & 0xff;
    dst[dp++] = (n >>> 8) & 0xff;
    dst[dp++] = n >>> 16;
  }
  dst.set(src.subarray(s, e), dp);
  return dp + (e - s);
}

function emitCopy(dst: Uint8Array, dp: number, dist: number, len: number): number {
  while (len > 0) {
    // pieces of at most 64; keep the last piece at least 4 long
    let n = len > 64 ? (len - 64 < 4 ? 60 : 64) : len;
    if (n >= 4 && n <= 11 && dist < 2048) {
      dst[dp++] = 1 | ((n - 4) << 2) | ((dist >>> 8) << 5);
      dst[dp++] = dist & 0xff;
    } else {
      dst[dp++] = 2 | ((n - 1) << 2);
      dst[dp++] = dist & 0xff;
      dst[dp++] = dist >>> 8;
    }
    len -= n;
  }
  return dp;
}

/** Compresses src[start, end) (at most 64 KB, so 2-byte offsets suffice) as one raw block; returns the new dp. */
function encodeBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array, dp: number): number {
  dp = writeVarint(dst, dp, end - start);
  table.fill(-1);
  let anchor = start;
  let ip = start;
  const limit = end - 4;
  let misses = 0; // the step grows after 32 misses in a row, as snappy skips incompressible stretches
  while (ip <= limit) {
    const v = src[ip]! | (src[ip + 1]! << 8) | (src[ip + 2]! << 16) | (src[ip + 3]! << 24);
    const h = Math.imul(v, 0x1e35a7bd) >>> (32 - HASH_LOG);
    const ref = table[h]!;
    table[h] = ip;
    if (ref < 0 || src[ref] !== src[ip] || src[ref + 1] !== src[ip + 1] || src[ref + 2] !== src[ip + 2] || src[ref + 3] !== src[ip + 3]) {
      ip += 1 + (misses++ >>> 5);
      continue;
    }
    misses = 0;
    let len = 4;
    while (ip + len < end && src[ref + len] === src[ip + len]) len++;
    if (ip > anchor) dp = emitLiteral(src, anchor, ip, dst, dp);
    dp = emitCopy(dst, dp, ip - ref, len);
    ip += len;
    anchor = ip;
  }
  if (anchor < end) dp = emitLiteral(src, anchor, end, dst, dp);
  return dp;
}

function maxBlockOutput(n: number): number {
  return 32 + n + Math.ceil(n / 6);
}

/** One raw snappy block (the framing librdkafka writes). */
export function snappyCompressRaw(src: Uint8Array): Uint8Array {
  const dst = new Uint8Array(maxBlockOutput(src.length) + 8);
  let dp = writeVarint(dst, 0, src.length);
  // fragments of 64 KB keep copy offsets within 2 bytes; the preamble covers the whole block
  for (let s = 0; s < src.length; s += 65536) {
    const e = Math.min(src.length, s + 65536);
    const tmpStart = dp;
    dp = encodeBlock(src, s, e, dst, dp);
    // drop the fragment's own preamble: shift its body left over it
    const pre = writeVarint(new Uint8Array(5), 0, e - s);
    dst.copyWithin(tmpStart, tmpStart + pre, dp);
    dp -= pre;
  }
  return dst.slice(0, dp);
}

/** The xerial stream with 32 KB chunks, as the Java client writes it. */
export function snappyCompress(src: Uint8Array): Uint8Array {
  const chunks = Math.max(1, Math.ceil(src.length / XERIAL_CHUNK));
  const dst = new Uint8Array(XERIAL_HEADER + chunks * (4 + maxBlockOutput(XERIAL_CHUNK)));
  dst.set(XERIAL_MAGIC, 0);
  dst[11] = 1; // version 1
  dst[15] = 1; // compatible with version 1
  let dp = XERIAL_HEADER;
  for (let s = 0; s < src.length; s += XERIAL_CHUNK) {
    const e = Math.min(src.length, s + XERIAL_CHUNK);
    const end = encodeBlock(src, s, e, dst, dp + 4);
    const n = end - dp - 4;
    dst[dp] = n >>> 24;
    dst[dp + 1] = (n >>> 16) & 0xff;
    dst[dp + 2] = (n >>> 8) & 0xff;
    dst[dp + 3] = n & 0xff;
    dp = end;
  }
  return dst.slice(0, dp);
}
