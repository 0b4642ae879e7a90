// CRC-32C candidates, measured side by side (bun bench/crc32c.ts):
// the table-driven TypeScript version, slicing-by-8 in WebAssembly (counting
// the copy into its memory, which a broker would pay), and the SSE4.2 crc32
// instruction through bun:ffi, the one src/records/crc32c.ts picks when the
// CPU has it.

import { cc } from "bun:ffi";
import { join } from "node:path";
import wabtInit from "wabt";
import { CRC32C_TABLES, crc32cTable } from "../src/records/crc32c.ts";

const wabt = await wabtInit();
const wat = await Bun.file(join(import.meta.dir, "crc32c.wat")).text();
const { buffer } = wabt.parseWat("crc32c.wat", wat).toBinary({});
const inst = new WebAssembly.Instance(new WebAssembly.Module(buffer), {});
const mem = new Uint8Array((inst.exports.mem as WebAssembly.Memory).buffer);
const DATA = 8192;

mem.set(new Uint8Array(CRC32C_TABLES.buffer), 0);
const wasmCrc = inst.exports.crc as (p: number, n: number) => number;
const wasm = (b: Uint8Array) => {
  mem.set(b, DATA);
  return wasmCrc(DATA, b.length) >>> 0;
};

const native = cc({
  source: join(import.meta.dir, "..", "src", "records", "crc32c.c"),
  symbols: { crc32c_sse42: { args: ["ptr", "u32"], returns: "u32" } },
}).symbols.crc32c_sse42 as unknown as (b: Uint8Array, n: number) => number;

const check = new TextEncoder().encode("123456789");
for (const [name, f] of [["table", crc32cTable], ["wasm", wasm], ["sse4.2", (b: Uint8Array) => native(b, b.length) >>> 0]] as const) {
  if (f(check) !== 0xe3069283) throw new Error(`${name} gives the wrong check value`);
}

console.log("| size | table (TypeScript) | WebAssembly (incl. copy in) | SSE4.2 via bun:ffi |\n|---|---|---|---|");
for (const size of [1500, 16384, 1 << 20]) {
  const b = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
  const iters = Math.max(50, Math.floor(300e6 / size));
  const rate = (f: () => number) => {
    for (let i = 0; i < 20; i++) f();
    const t = performance.now();
    for (let i = 0; i < iters; i++) f();
    return `${((iters * size) / 1e6 / ((performance.now() - t) / 1000)).toFixed(0)} MB/s`;
  };
  console.log(`| ${size} B | ${rate(() => crc32cTable(b))} | ${rate(() => wasm(b))} | ${rate(() => native(b, b.length))} |`);
}
