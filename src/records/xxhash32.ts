// XXH32, as the LZ4 frame format uses it (header checksum, block and content
// checksums). Math.imul keeps the 32-bit multiplications exact.

const P1 = 0x9e3779b1 | 0;
const P2 = 0x85ebca77 | 0;
const P3 = 0xc2b2ae3d | 0;
const P4 = 0x27d4eb2f | 0;
const P5 = 0x165667b1 | 0;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function u32le(b: Uint8Array, p: number): number {
  return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
}

export function xxhash32(b: Uint8Array, start = 0, end = b.length, seed = 0): number {
  let p = start;
  const len = end - start;
  let h: number;
  if (len >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    const limit = end - 16;
    while (p <= limit) {
      v1 = Math.imul(rotl((v1 + Math.imul(u32le(b, p), P2)) | 0, 13), P1);
      v2 = Math.imul(rotl((v2 + Math.imul(u32le(b, p + 4), P2)) | 0, 13), P1);
      v3 = Math.imul(rotl((v3 + Math.imul(u32le(b, p + 8), P2)) | 0, 13), P1);
      v4 = Math.imul(rotl((v4 + Math.imul(u32le(b, p + 12), P2)) | 0, 13), P1);
      p += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + P5) | 0;
  }
  h = (h + len) | 0;
  while (p + 4 <= end) {
    h = Math.imul(rotl((h + Math.imul(u32le(b, p), P3)) | 0, 17), P4);
    p += 4;
  }
  while (p < end) {
    h = Math.imul(rotl((h + Math.imul(b[p]!, P5)) | 0, 11), P1);
    p++;
  }
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}
