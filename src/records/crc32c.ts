// CRC-32C (Castagnoli), as record batches v2 use it. Candidates measured by
// bench/crc32c.ts (MB/s on 1.5 KB / 1 MiB, this machine): slicing-by-8 tables
// in TypeScript ~1,300 / 1,200; slicing-by-8 in WebAssembly, with the copy
// into its memory, ~1,900 / 2,000; the SSE4.2 crc32 instruction through
// bun:ffi ~7,400 / 9,000.
// The native one is compiled at start-up by Bun's built-in TinyCC (it works
// inside the single executable) when the CPU has SSE4.2; the table version is
// the fallback and the reference the tests hold the native one to.

import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import source from "./crc32c.c" with { type: "text" };

const POLY = 0x82f63b78;
/** Slicing-by-8 tables: table t at [t * 256, t * 256 + 256). Shared with bench/crc32c.ts. */
export const CRC32C_TABLES = new Int32Array(8 * 256);
const T = CRC32C_TABLES;
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = T[n]!;
  for (let t = 1; t < 8; t++) {
    c = T[c & 0xff]! ^ (c >>> 8);
    T[t * 256 + n] = c;
  }
}

export function crc32cTable(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = -1;
  let i = start;
  const end8 = end - ((end - start) & 7);
  while (i < end8) {
    const a = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    crc =
      T[1792 + (a & 0xff)]! ^
      T[1536 + ((a >>> 8) & 0xff)]! ^
      T[1280 + ((a >>> 16) & 0xff)]! ^
      T[1024 + (a >>> 24)]! ^
      T[768 + buf[i + 4]!]! ^
      T[512 + buf[i + 5]!]! ^
      T[256 + buf[i + 6]!]! ^
      T[buf[i + 7]!]!;
    i += 8;
  }
  while (i < end) crc = T[(crc ^ buf[i++]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

type NativeCrc = (buf: Uint8Array, length: number) => number;
let native: NativeCrc | null = null;

// Below this size the FFI call costs more than it saves.
const NATIVE_MIN_BYTES = 64;

export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  if (native !== null && end - start >= NATIVE_MIN_BYTES) {
    return native(start === 0 && end === buf.length ? buf : buf.subarray(start, end), end - start);
  }
  return crc32cTable(buf, start, end);
}

function hasSse42(): boolean {
  if (process.arch !== "x64") return false;
  try {
    return /^flags\s*:.*\bsse4_2\b/m.test(readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    return false;
  }
}

const COMPILE_DIR_PREFIX = "kafka-crc32c-";
/** older than this, a compile dir is a leftover (a compile takes milliseconds) */
const STALE_COMPILE_DIR_MS = 60_000;

/**
 * Removes compile dirs that a process killed while compiling (kill -9 at
 * start-up) left in `root`: ours only (our uid, a directory holding nothing
 * but crc32c.c) and older than a minute, so a start compiling beside us is
 * not touched. Returns how many went.
 */
export function removeStaleCompileDirs(root = tmpdir(), now = Date.now()): number {
  let removed = 0;
  try {
    const uid = process.getuid?.() ?? -1;
    for (const name of readdirSync(root)) {
      if (!name.startsWith(COMPILE_DIR_PREFIX)) continue;
      const path = join(root, name);
      try {
        const st = lstatSync(path);
        if (!st.isDirectory() || st.uid !== uid || now - st.mtimeMs < STALE_COMPILE_DIR_MS) continue;
        if (readdirSync(path).some((f) => f !== "crc32c.c")) continue;
        rmSync(path, { recursive: true, force: true });
        removed++;
      } catch {
        // gone meanwhile, or not ours to read
      }
    }
  } catch {
    // no tmp dir to read: nothing to clean
  }
  return removed;
}

/** Switches to the SSE4.2 implementation when possible; returns which one is in use. */
export function enableNativeCrc32c(): "sse4.2" | "table" {
  if (native !== null) return "sse4.2";
  if (!hasSse42()) return "table";
  let dir: string | null = null;
  try {
    const { cc } = require("bun:ffi") as typeof import("bun:ffi");
    removeStaleCompileDirs();
    dir = mkdtempSync(join(tmpdir(), COMPILE_DIR_PREFIX));
    const file = join(dir, "crc32c.c");
    writeFileSync(file, source);
    const lib = cc({ source: file, symbols: { crc32c_sse42: { args: ["ptr", "u32"], returns: "u32" } } });
    const fn = lib.symbols.crc32c_sse42 as unknown as NativeCrc;
    // hold it to the table version before trusting it
    const probe = new Uint8Array(1000).map((_, i) => (i * 31 + 7) & 0xff);
    if (fn(probe, probe.length) !== crc32cTable(probe) || fn(probe.subarray(3, 900), 897) !== crc32cTable(probe, 3, 900)) return "table";
    native = fn;
    return "sse4.2";
  } catch {
    return "table";
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
