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
// not decompress; callers turn that into a Kafka error code.

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
function gunzip(b: Uint8Array): Uint8Array {
  // node:zlib also reads several gzip members back to back, as java.util.zip does
  return zlib.gunzipSync(b);
}
function zstd(b: Uint8Array): Uint8Array {
  if (hasBun) return Bun.zstdCompressSync(b as Uint8Array<ArrayBuffer>, { level: 3 });
  if (!z.zstdCompressSync) throw new CompressionError("zstd needs Node 22.15 or later");
  return z.zstdCompressSync(b);
}
function unzstd(b: Uint8Array): Uint8Array {
  if (hasBun) return Bun.zstdDecompressSync(b as Uint8Array<ArrayBuffer>);
  if (!z.zstdDecompressSync) throw new CompressionError("zstd needs Node 22.15 or later");
  return z.zstdDecompressSync(b);
}

export function isKnownCodec(codec: number): codec is CodecId {
  return codec >= 0 && codec <= 4;
}

/**
 * Decompresses a batch's records section. Throws CompressionError. With
 * `transient`, the result may be a view of a buffer the next call reuses
 * (produce validation reads it once).
 */
export function decompress(codec: number, bytes: Uint8Array, transient = false): Uint8Array {
  try {
    switch (codec) {
      case Codec.NONE:
        return bytes;
      case Codec.GZIP:
        return gunzip(bytes);
      case Codec.SNAPPY:
        return snappyDecompress(bytes);
      case Codec.LZ4:
        return lz4Decompress(bytes, transient);
      case Codec.ZSTD:
        return unzstd(bytes);
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
