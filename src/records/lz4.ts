// LZ4 frame format (magic 0x184D2204), as Kafka's Lz4BlockOutputStream and
// librdkafka write it inside record batches. Pure TypeScript: Bun has no LZ4.
// Decoding accepts what either writes and more: block checksums, a content
// checksum (both verified), a content size, linked or independent blocks, any
// block size, uncompressed blocks, several frames back to back and skippable
// frames. A dictionary id is refused (no client sends one).
// Encoding writes what the Java client writes: 64 KB independent blocks, no
// block or content checksum, no content size; a block that does not shrink is
// stored uncompressed. Matches are found with a single-entry hash table
// (greedy, as LZ4's fast mode does).

import { xxhash32 } from "./xxhash32.ts";

const MAGIC = 0x184d2204;
const BLOCK_SIZE = 64 * 1024;
const MIN_MATCH = 4;
const HASH_LOG = 14;

export class Lz4Error extends Error {}

function u32le(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

/** A growable output buffer: linked blocks refer back into what was already decoded. */
class Out {
  buf: Uint8Array;
  len = 0;
  /** the most the output may grow to */
  max = Infinity;
  constructor(cap: number) {
    this.buf = new Uint8Array(Math.max(cap, 64));
  }
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    if (this.len + n > this.max + BLOCK_SIZE * 64) throw new Lz4Error(`decompresses to more than ${this.max} bytes`);
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
}

/** Decodes one LZ4 block from src[start, end) onto out; `floor` is how far back matches may reach. */
function decodeBlock(src: Uint8Array, start: number, end: number, out: Out, floor: number, maxBlock: number): void {
  out.reserve(maxBlock);
  let o = out.buf;
  let op = out.len;
  const blockStart = op;
  let ip = start;
  while (ip < end) {
    const token = src[ip++]!;
    let lit = token >>> 4;
    if (lit === 15) {
      let s: number;
      do {
        if (ip >= end) throw new Lz4Error("truncated literal length");
        s = src[ip++]!;
        lit += s;
      } while (s === 255);
    }
    if (ip + lit > end) throw new Lz4Error("literals run past the block");
    if (op + lit - blockStart > maxBlock) throw new Lz4Error("block larger than its maximum size");
    // short literals byte by byte: a subarray per sequence costs more than the copy
    if (lit < 32) for (let k = 0; k < lit; k++) o[op + k] = src[ip + k]!;
    else o.set(src.subarray(ip, ip + lit), op);
    ip += lit;
    op += lit;
    if (ip === end) break; // the last sequence has literals only
    if (ip + 2 > end) throw new Lz4Error("truncated match offset");
    const dist = src[ip]! | (src[ip + 1]! << 8);
    ip += 2;
    if (dist === 0 || op - dist < floor) throw new Lz4Error(`match offset ${dist} out of range`);
    let mlen = token & 15;
    if (mlen === 15) {
      let s: number;
      do {
        if (ip >= end) throw new Lz4Error("truncated match length");
        s = src[ip++]!;
        mlen += s;
      } while (s === 255);
    }
    mlen += MIN_MATCH;
    if (op + mlen - blockStart > maxBlock) throw new Lz4Error("block larger than its maximum size");
    op = copyMatch(o, op, dist, mlen);
  }
  out.len = op;
  o = out.buf;
}

/** Copies a match of `len` bytes from `dist` back; an overlapping one (a run) in doubling steps. Returns the new op. */
export function copyMatch(o: Uint8Array, op: number, dist: number, len: number): number {
  const m = op - dist;
  if (dist >= len) {
    if (len < 32) for (let k = 0; k < len; k++) o[op + k] = o[m + k]!;
    else o.copyWithin(op, m, m + len);
    return op + len;
  }
  if (dist === 1) {
    o.fill(o[m]!, op, op + len);
    return op + len;
  }
  const stop = op + len;
  let step = dist;
  while (op < stop) {
    const n = Math.min(step, stop - op);
    o.copyWithin(op, m, m + n);
    op += n;
    step += n; // the pattern from m now repeats over a longer stretch
  }
  return op;
}

const BLOCK_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

// one output buffer reused across calls (grown as needed): produce validation decompresses every batch
const scratch = new Out(256 * 1024);

/**
 * Decompresses LZ4 frames. Throws Lz4Error on anything malformed. With
 * `view`, the result is a view of a buffer the next call overwrites.
 */
export function lz4Decompress(src: Uint8Array, view = false, maxOutput = Infinity): Uint8Array {
  const out = scratch;
  out.len = 0;
  out.max = maxOutput;
  let p = 0;
  let frames = 0;
  while (p < src.length) {
    if (src.length - p < 4) throw new Lz4Error("truncated frame magic");
    const magic = u32le(src, p);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      // skippable frame
      if (src.length - p < 8) throw new Lz4Error("truncated skippable frame");
      const n = u32le(src, p + 4);
      if (p + 8 + n > src.length) throw new Lz4Error("truncated skippable frame");
      p += 8 + n;
      continue;
    }
    if (magic !== MAGIC) throw new Lz4Error(`bad frame magic 0x${magic.toString(16)}`);
    p += 4;
    if (src.length - p < 3) throw new Lz4Error("truncated frame descriptor");
    const descStart = p;
    const flg = src[p++]!;
    const bd = src[p++]!;
    if (flg >>> 6 !== 1) throw new Lz4Error(`frame version ${flg >>> 6}`);
    const independent = (flg & 0x20) !== 0;
    const blockChecksum = (flg & 0x10) !== 0;
    const contentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    if (flg & 0x01) throw new Lz4Error("dictionary id not supported");
    const maxBlock = BLOCK_MAX[(bd >>> 4) & 7]!;
    if (maxBlock === 0) throw new Lz4Error(`block size code ${(bd >>> 4) & 7}`);
    if (contentSize) p += 8;
    if (p >= src.length) throw new Lz4Error("truncated frame descriptor");
    const hc = (xxhash32(src, descStart, p) >>> 8) & 0xff;
    if (src[p] !== hc) throw new Lz4Error("frame descriptor checksum mismatch");
    p++;
    const frameStart = out.len;
    for (;;) {
      if (src.length - p < 4) throw new Lz4Error("truncated block size");
      const word = u32le(src, p);
      p += 4;
      if (word === 0) break; // end mark
      const size = word & 0x7fffffff;
      if (size > maxBlock) throw new Lz4Error(`block of ${size} bytes over its maximum ${maxBlock}`);
      if (p + size + (blockChecksum ? 4 : 0) > src.length) throw new Lz4Error("truncated block");
      if (blockChecksum && xxhash32(src, p, p + size) !== u32le(src, p + size)) throw new Lz4Error("block checksum mismatch");
      if (word & 0x80000000) {
        out.reserve(size);
        out.buf.set(src.subarray(p, p + size), out.len);
        out.len += size;
      } else {
        decodeBlock(src, p, p + size, out, independent ? out.len : frameStart, maxBlock);
      }
      p += size + (blockChecksum ? 4 : 0);
    }
    if (contentChecksum) {
      if (src.length - p < 4) throw new Lz4Error("truncated content checksum");
      if (xxhash32(out.buf, frameStart, out.len) !== u32le(src, p)) throw new Lz4Error("content checksum mismatch");
      p += 4;
    }
    frames++;
  }
  if (frames === 0) throw new Lz4Error("no frame");
  if (out.len > maxOutput) throw new Lz4Error(`decompresses to more than ${maxOutput} bytes`);
  // a huge frame does not keep its buffer
  const result = view ? out.buf.subarray(0, out.len) : out.buf.slice(0, out.len);
  if (out.buf.length > 4 * 1024 * 1024) out.buf = new Uint8Array(256 * 1024);
  return result;
}

const hashTable = new Int32Array(1 << HASH_LOG);

function hash4(v: number): number {
  return Math.imul(v, -1640531535) >>> (32 - HASH_LOG);
}

/** Compresses src[start, end) as one LZ4 block into dst at dp; returns the new dp. */
function encodeBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array, dp: number): number {
  hashTable.fill(-1);
  let anchor = start;
  let ip = start;
  // the last 5 bytes are always literals and the last match starts 12 bytes before the end (LZ4's rules)
  const matchLimit = end - 12;
  const emitSeq = (litEnd: number, matchLen: number, dist: number): void => {
    const lit = litEnd - anchor;
    const tokenPos = dp++;
    let token = (lit >= 15 ? 15 : lit) << 4;
    if (lit >= 15) {
      let n = lit - 15;
      while (n >= 255) {
        dst[dp++] = 255;
        n -= 255;
      }
      dst[dp++] = n;
    }
    dst.set(src.subarray(anchor, litEnd), dp);
    dp += lit;
    if (matchLen > 0) {
      dst[dp++] = dist & 0xff;
      dst[dp++] = dist >>> 8;
      const ml = matchLen - MIN_MATCH;
      token |= ml >= 15 ? 15 : ml;
      if (ml >= 15) {
        let n = ml - 15;
        while (n >= 255) {
          dst[dp++] = 255;
          n -= 255;
        }
        dst[dp++] = n;
      }
    }
    dst[tokenPos] = token;
  };
  let misses = 0; // after 64 misses in a row the step grows, as LZ4 skips incompressible stretches
  while (ip < matchLimit) {
    const v = src[ip]! | (src[ip + 1]! << 8) | (src[ip + 2]! << 16) | (src[ip + 3]! << 24);
    const h = hash4(v);
    const ref = hashTable[h]!;
    hashTable[h] = ip;
    if (
      ref < 0 ||
      ip - ref > 65535 ||
      src[ref] !== src[ip] ||
      src[ref + 1] !== src[ip + 1] ||
      src[ref + 2] !== src[ip + 2] ||
      src[ref + 3] !== src[ip + 3]
    ) {
      ip += 1 + (misses++ >>> 6);
      continue;
    }
    misses = 0;
    let len = MIN_MATCH;
    const lenLimit = end - 5;
    while (ip + len < lenLimit && src[ref + len] === src[ip + len]) len++;
    emitSeq(ip, len, ip - ref);
    ip += len;
    anchor = ip;
  }
  emitSeq(end, 0, 0);
  return dp;
}

/** Compresses into one LZ4 frame, as Kafka's Java client writes it. */
export function lz4Compress(src: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(src.length / BLOCK_SIZE));
  // worst case: every block stored, plus LZ4's literal-length bytes
  const dst = new Uint8Array(7 + blocks * (4 + BLOCK_SIZE + BLOCK_SIZE / 255 + 16) + 4);
  dst[0] = 0x04;
  dst[1] = 0x22;
  dst[2] = 0x4d;
  dst[3] = 0x18;
  dst[4] = 0x60; // version 1, independent blocks, no checksums, no content size
  dst[5] = 0x40; // 64 KB blocks
  dst[6] = (xxhash32(dst, 4, 6) >>> 8) & 0xff;
  let dp = 7;
  for (let s = 0; s < src.length; s += BLOCK_SIZE) {
    const e = Math.min(src.length, s + BLOCK_SIZE);
    const sizePos = dp;
    const end = encodeBlock(src, s, e, dst, dp + 4);
    let size = end - dp - 4;
    if (size >= e - s) {
      dst.set(src.subarray(s, e), dp + 4);
      size = e - s;
      dst[sizePos + 3] = 0x80;
    } else dst[sizePos + 3] = 0;
    dst[sizePos] = size & 0xff;
    dst[sizePos + 1] = (size >>> 8) & 0xff;
    dst[sizePos + 2] = (size >>> 16) & 0xff;
    dp += 4 + size;
  }
  dst.fill(0, dp, dp + 4); // end mark (the encoder may have left bytes there)
  return dst.slice(0, dp + 4);
}
