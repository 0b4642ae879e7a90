// Record batch compression: the codec is the batch attributes' low 3 bits
// (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd), as Kafka numbers them.
// Choices (measured by bench/compression.ts, README "Compression"):
//   gzip   Bun.gzipSync to compress; node:zlib gunzipSync to decompress
//          (Bun.gunzipSync is faster but stops after the first gzip member)
//   zstd   Bun.zstdCompressSync / zstdDecompressSync (libzstd built into Bun;
//          node:zlib's zstd under Node 22.15+)
//   snappy, lz4  our own TypeScript (snappy.ts, lz4.ts): Bun has neither, and
//          they compile into the executable with no native dependency.
// decompress() throws CompressionError for an unknown codec or bytes that do
// not decompress; callers turn that into a Kafka error code. Its output is
// bounded (maxOutput, default DEFAULT_MAX_DECOMPRESSED): a small batch that
// would expand to gigabytes (a zstd run of RLE blocks, a gzip of zeros) is
// refused before it is allocated. zstd frames are walked block by block first
// for an upper bound of their size (librdkafka writes no content size).

import * as zlib from "node:zlib";
import { lz4Compress, lz4Decompress } from "./lz4.ts";
import { snappyCompress, snappyDecompress } from "./snappy.ts";

export const Codec = { NONE: 0, GZIP: 1, SNAPPY: 2, LZ4: 3, ZSTD: 4 } as const;
export type CodecId = (typeof Codec)[keyof typeof Codec];

/** Kafka's compression.type names, by codec id */
export const CODEC_NAMES = ["none", "gzip", "snappy", "lz4", "zstd"] as const;

export class CompressionError extends Error {}

const hasBun = typeof Bun !== "undefined";
type ZstdZlib = { zstdCompressSync?(b: Uint8Array): Uint8Array; zstdDecompressSync?(b: Uint8Array): Uint8Array };
const z = zlib as unknown as ZstdZlib;

function gzip(b: Uint8Array): Uint8Array {
  return hasBun ? Bun.gzipSync(b as Uint8Array<ArrayBuffer>) : zlib.gzipSync(b);
}
function gunzip(b: Uint8Array, maxOutput: number): Uint8Array {
  // node:zlib also reads several gzip members back to back, as java.util.zip does
  try {
    return zlib.gunzipSync(b, { maxOutputLength: maxOutput });
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw new CompressionError(`gzip: decompresses to more than ${maxOutput} bytes`);
    throw e;
  }
}
function zstd(b: Uint8Array): Uint8Array {
  if (hasBun) return Bun.zstdCompressSync(b as Uint8Array<ArrayBuffer>, { level: 3 });
  if (!z.zstdCompressSync) throw new CompressionError("zstd needs Node 22.15 or later");
  return z.zstdCompressSync(b);
}
const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_MAX_BLOCK = 128 * 1024;

/** An upper bound of what zstd frames decompress to, from their headers and block headers alone. */
export function zstdBound(b: Uint8Array): number {
  const u32 = (p: number) => (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  let p = 0;
  let total = 0;
  while (p < b.length) {
    if (b.length - p < 8) throw new CompressionError("zstd: truncated frame");
    const magic = u32(p);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      p += 8 + u32(p + 4); // skippable frame
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw new CompressionError(`zstd: bad frame magic 0x${magic.toString(16)}`);
    const fhd = b[p + 4]!;
    p += 5;
    const single = (fhd & 0x20) !== 0;
    if (!single) p++; // window descriptor
    p += [0, 1, 2, 4][fhd & 3]!;
    const fcsBytes = [single ? 1 : 0, 2, 4, 8][fhd >>> 6]!;
    if (fcsBytes > 0) {
      if (p + fcsBytes > b.length) throw new CompressionError("zstd: truncated frame header");
      let fcs = 0;
      for (let i = fcsBytes - 1; i >= 0; i--) fcs = fcs * 256 + b[p + i]!;
      if (fcsBytes === 2) fcs += 256;
      total += fcs;
    }
    p += fcsBytes;
    let blocks = 0;
    for (;;) {
      if (p + 3 > b.length) throw new CompressionError("zstd: truncated block header");
      const h = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
      p += 3;
      const type = (h >>> 1) & 3;
      const size = h >>> 3;
      if (type === 3) throw new CompressionError("zstd: reserved block type");
      // raw: size bytes; RLE: one byte repeated size times; compressed: at most 128 KB out
      blocks += type === 2 ? ZSTD_MAX_BLOCK : size;
      p += type === 1 ? 1 : size;
      if (h & 1) break;
    }
    if (fhd & 0x04) p += 4; // content checksum
    if (fcsBytes === 0) total += blocks;
  }
  return total;
}

function unzstd(b: Uint8Array): Uint8Array {
  if (hasBun) return Bun.zstdDecompressSync(b as Uint8Array<ArrayBuffer>);
  if (!z.zstdDecompressSync) throw new CompressionError("zstd needs Node 22.15 or later");
  return z.zstdDecompressSync(b);
}

export function isKnownCodec(codec: number): codec is CodecId {
  return codec >= 0 && codec <= 4;
}

/** The decompressed size decompress() refuses beyond unless told otherwise. */
export const DEFAULT_MAX_DECOMPRESSED = 256 * 1024 * 1024;

/**
 * Decompresses a batch's records section. Throws CompressionError, also when
 * the output would pass `maxOutput` bytes. With `transient`, the result may be
 * a view of a buffer the next call reuses (produce validation reads it once).
 */
export function decompress(codec: number, bytes: Uint8Array, transient = false, maxOutput = DEFAULT_MAX_DECOMPRESSED): Uint8Array {
  try {
    switch (codec) {
      case Codec.NONE:
        return bytes;
      case Codec.GZIP:
        return gunzip(bytes, maxOutput);
      case Codec.SNAPPY:
        return snappyDecompress(bytes, maxOutput);
      case Codec.LZ4:
        return lz4Decompress(bytes, transient, maxOutput);
      case Codec.ZSTD: {
        const bound = zstdBound(bytes);
        if (bound > maxOutput) throw new CompressionError(`zstd: may decompress to ${bound} bytes, more than ${maxOutput}`);
        return unzstd(bytes);
      }
    }
  } catch (e) {
    if (e instanceof CompressionError) throw e;
    throw new CompressionError(`${CODEC_NAMES[codec]}: ${(e as Error).message}`);
  }
  throw new CompressionError(`unknown compression codec ${codec}`);
}

/** Compresses a batch's records section with `codec`. */
export function compress(codec: number, bytes: Uint8Array): Uint8Array {
  switch (codec) {
    case Codec.NONE:
      return bytes;
    case Codec.GZIP:
      return gzip(bytes);
    case Codec.SNAPPY:
      return snappyCompress(bytes);
    case Codec.LZ4:
      return lz4Compress(bytes);
    case Codec.ZSTD:
      return zstd(bytes);
  }
  throw new CompressionError(`unknown compression codec ${codec}`);
}
