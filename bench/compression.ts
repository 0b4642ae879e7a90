// Codec candidates on Kafka-like record payloads: MB/s (of uncompressed bytes)
// to compress and decompress, and the ratio. Run: bun bench/compression.ts
// Optional npm candidates (not dependencies of the project) are measured when
// CODEC_CANDIDATES names a folder they were installed in, e.g.
//   npm install --no-save --prefix /tmp/cands lz4js snappyjs snappy lz4-napi
//   CODEC_CANDIDATES=/tmp/cands bun bench/compression.ts
// Payloads: records sections as producers batch them (1 KB JSON records, 16 KB
// and 1 MB batches) and 64 KB of random bytes (incompressible).

import * as zlib from "node:zlib";
import { join } from "node:path";
import { lz4Compress, lz4Decompress } from "../src/records/lz4.ts";
import { snappyCompress, snappyCompressRaw, snappyDecompress } from "../src/records/snappy.ts";
import { buildBatch } from "../src/records/record.ts";

type Fn = (b: Uint8Array) => Uint8Array;
interface Candidate {
  codec: string;
  name: string;
  compress: Fn;
  decompress: Fn;
}

const enc = new TextEncoder();
function recordsSection(totalBytes: number): Uint8Array {
  const records = [];
  let n = 0;
  for (let i = 0; n < totalBytes; i++) {
    const value = enc.encode(JSON.stringify({ id: i, user: `user-${(i * 7919) % 1000}`, action: ["click", "view", "purchase"][i % 3], ts: 1_700_000_000_000 + i * 13, payload: "lorem ipsum dolor sit amet ".repeat(30) + i }));
    records.push({ key: enc.encode(`key-${i % 100}`), value });
    n += value.length + 20;
  }
  return buildBatch({ records }).subarray(61);
}
const rand = new Uint8Array(65536);
let x = 2463534242;
for (let i = 0; i < rand.length; i++) {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  rand[i] = x & 0xff;
}

const payloads: [string, Uint8Array][] = [
  ["16 KB batch", recordsSection(16 * 1024)],
  ["1 MB batch", recordsSection(1024 * 1024)],
  ["64 KB random", rand],
];

const candidates: Candidate[] = [
  { codec: "gzip", name: "Bun.gzipSync/gunzipSync", compress: (b) => Bun.gzipSync(b as Uint8Array<ArrayBuffer>), decompress: (b) => Bun.gunzipSync(b as Uint8Array<ArrayBuffer>) },
  { codec: "gzip", name: "node:zlib gzipSync/gunzipSync", compress: (b) => zlib.gzipSync(b), decompress: (b) => zlib.gunzipSync(b) },
  { codec: "zstd", name: "Bun.zstdCompressSync level 3", compress: (b) => Bun.zstdCompressSync(b as Uint8Array<ArrayBuffer>, { level: 3 }), decompress: (b) => Bun.zstdDecompressSync(b as Uint8Array<ArrayBuffer>) },
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  { codec: "zstd", name: "node:zlib zstd", compress: (b) => (zlib as any).zstdCompressSync(b), decompress: (b) => (zlib as any).zstdDecompressSync(b) },
  { codec: "snappy", name: "ours (TS), xerial framing", compress: snappyCompress, decompress: snappyDecompress },
  { codec: "snappy", name: "ours (TS), raw", compress: snappyCompressRaw, decompress: snappyDecompress },
  { codec: "lz4", name: "ours (TS), frame", compress: lz4Compress, decompress: lz4Decompress },
];

const dir = process.env.CODEC_CANDIDATES;
if (dir) {
  const req = (m: string) => require(join(dir, "node_modules", m));
  const tryAdd = (f: () => Candidate) => {
    try {
      candidates.push(f());
    } catch (e) {
      console.error(`candidate skipped: ${(e as Error).message.split("\n")[0]}`);
    }
  };
  tryAdd(() => {
    const m = req("snappyjs");
    return { codec: "snappy", name: "npm snappyjs (JS, raw)", compress: (b) => new Uint8Array(m.compress(b)), decompress: (b) => new Uint8Array(m.uncompress(b)) };
  });
  tryAdd(() => {
    const m = req("snappy");
    return { codec: "snappy", name: "npm snappy (napi-rs, native, raw)", compress: (b) => m.compressSync(b), decompress: (b) => m.uncompressSync(b) };
  });
  tryAdd(() => {
    const m = req("lz4js");
    return { codec: "lz4", name: "npm lz4js (JS, frame)", compress: (b) => m.compress(b), decompress: (b) => m.decompress(b) };
  });
  tryAdd(() => {
    const m = req("lz4-napi");
    return { codec: "lz4", name: "npm lz4-napi (native, frame)", compress: (b) => m.compressFrameSync(b), decompress: (b) => m.decompressFrameSync(b) };
  });
}

function mbps(fn: () => void, bytes: number): number {
  for (let i = 0; i < 3; i++) fn();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < 300) {
    fn();
    n++;
    t = performance.now();
  }
  return (n * bytes) / ((t - t0) / 1000) / 1e6;
}

console.log("| codec | implementation | payload | ratio | compress MB/s | decompress MB/s |");
console.log("| --- | --- | --- | --- | --- | --- |");
for (const c of candidates) {
  for (const [pname, p] of payloads) {
    let z: Uint8Array;
    try {
      z = c.compress(p);
      const back = c.decompress(z);
      if (back.length !== p.length || Buffer.compare(Buffer.from(back), Buffer.from(p)) !== 0) throw new Error("round trip differs");
    } catch (e) {
      console.log(`| ${c.codec} | ${c.name} | ${pname} | failed: ${(e as Error).message} | | |`);
      continue;
    }
    const cz = z;
    const cm = mbps(() => c.compress(p), p.length);
    const dm = mbps(() => c.decompress(cz), p.length);
    console.log(`| ${c.codec} | ${c.name} | ${pname} | ${(p.length / z.length).toFixed(2)} | ${cm.toFixed(0)} | ${dm.toFixed(0)} |`);
  }
}

// ---------------------------------------------------------------------------
// Produce validation (src/records/validator.ts) per codec, on batches shaped as
// librdkafka sends them in `npm run bench` (about 4,500 records of 100 B per
// batch; the payload as loadgen fills it): ms of CPU per MB of payload, in
// steady state. This is the cost validation adds to a produce.

import { validateProducedBatch } from "../src/records/validator.ts";
import { scanBatches } from "../src/records/batch.ts";

const loadgenPayload = new Uint8Array(100);
let lx = 2463534242;
for (let i = 0; i < 100; i++) {
  lx = (lx ^ (lx << 13)) >>> 0;
  lx = (lx ^ (lx >>> 17)) >>> 0;
  lx = (lx ^ (lx << 5)) >>> 0;
  loadgenPayload[i] = lx & 0xff;
}
const cfg = { logAppendTime: false, beforeMaxMs: Number.MAX_VALUE, afterMaxMs: 3_600_000, compacted: false, now: Date.now() };
console.log("\n| codec | batch bytes (4,500 × 100 B records) | validate ms per MB of payload |");
console.log("| --- | --- | --- |");
for (const [name, codec] of [["none", 0], ["gzip", 1], ["snappy", 2], ["lz4", 3], ["zstd", 4]] as const) {
  const batch = buildBatch({ baseTimestamp: Date.now(), attributes: codec, records: Array.from({ length: 4500 }, () => ({ value: loadgenPayload })) });
  const info = scanBatches(batch).batches[0]!;
  const run = () => {
    const r = validateProducedBatch(batch, info, "bench-0", cfg);
    if (r) throw new Error(r.message);
  };
  const mbPerS = mbps(run, 4500 * 100);
  console.log(`| ${name} | ${batch.length} | ${(1000 / mbPerS).toFixed(3)} |`);
}
