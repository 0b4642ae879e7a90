// Storage engine benchmark (issue 9): what the sparse on-disk indexes buy.
//
//   1. Memory: ./kafka's resident memory after opening PARTS partitions
//      holding BIG_MB each (10 GB in total by default) next to the same
//      partitions holding SMALL_KB each (10 MB in total), small batches (1 KiB,
//      10 records) in both. With per-batch in-memory indexes the first grows
//      with the batch count; with sparse on-disk indexes both should be about
//      the same.
//   2. Start-up: ./kafka exec -> accepting connections on those dirs, after a
//      clean stop (.kafka_cleanshutdown: nothing scanned) and after an unclean
//      one (no marker, recovery points at 0: every batch's CRC checked).
//   3. Fetch position: in process, PartitionLog.read of 1 MiB at random
//      offsets in the middle of a MIDDLE_GB log, next to the same reads in a
//      fresh 64 MiB log (page cache warm in both).
//
// Run: `bun bench/storage.ts` (after `bun run build`); env PARTS (1000),
// BIG_MB (10), SMALL_KB (10), MIDDLE_GB (2), RUNS (3), KAFKA_BIN (./kafka).
// Needs about PARTS*BIG_MB + MIDDLE_GB*1024 MB of disk under $TMPDIR, removed at the end.

import type { Subprocess } from "bun";
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encode, decode } from "../src/protocol/codec.ts";
import { MetadataRequest, MetadataResponse } from "../src/protocol/messages/metadata.ts";
import { validateBatches, type BatchInfo } from "../src/records/batch.ts";
import { buildBatch } from "../src/records/record.ts";
import type { PartitionInfo } from "../src/metadata/image.ts";
import { Partition } from "../src/storage/partition.ts";
import { PartitionLog } from "../src/storage/partition-log.ts";
import { releaseAll } from "../src/storage/segment.ts";

const ROOT = join(import.meta.dir, "..");
const num = (k: string, d: number) => {
  const v = Number(process.env[k] ?? d);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${k} must be a positive number`);
  return v;
};
const PARTS = Math.floor(num("PARTS", 1000));
const BIG_MB = num("BIG_MB", 10);
const SMALL_KB = num("SMALL_KB", 10);
const MIDDLE_GB = num("MIDDLE_GB", 2);
const RUNS = Math.floor(num("RUNS", 3));
const KAFKA_BIN = process.env.KAFKA_BIN ?? join(ROOT, "kafka");
const TOPIC = "s";
const tmp = mkdtempSync(join(tmpdir(), "kstorage-"));
const procs = new Set<Subprocess>();
const t0 = performance.now();
const say = (m: string) => console.error(`[storage ${((performance.now() - t0) / 1000).toFixed(1)}s] ${m}`);

process.on("SIGINT", () => {
  for (const p of procs) p.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
  process.exit(130);
});

/** 64 batches of 10 records (about 1 KiB each), as one append: the offsets are stamped again by every append. */
function chunk(): { buf: Uint8Array; batches: BatchInfo[] } {
  const parts = Array.from({ length: 64 }, (_, i) =>
    buildBatch({ baseTimestamp: 1_700_000_000_000 + i, records: Array.from({ length: 10 }, (_, j) => ({ key: new TextEncoder().encode(`k${j}`), value: new Uint8Array(80).fill(i + j) })) }),
  );
  const buf = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    buf.set(p, at);
    at += p.length;
  }
  const scan = validateBatches(buf);
  if (!scan.ok) throw new Error(scan.reason);
  return { buf, batches: scan.batches };
}

async function freePort(): Promise<number> {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

interface Running {
  proc: Subprocess;
  port: number;
  startMs: number;
}

async function start(dir: string): Promise<Running> {
  const port = await freePort();
  const began = performance.now();
  const proc = Bun.spawn([KAFKA_BIN, "--override", `listeners=PLAINTEXT://127.0.0.1:${port}`, "--override", `log.dirs=${dir}`, "--override", `num.partitions=${PARTS}`], {
    stdout: Bun.file(join(tmp, "broker.log")),
    stderr: Bun.file(join(tmp, "broker.err")),
  });
  procs.add(proc);
  const end = performance.now() + 600_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`./kafka exited: ${readFileSync(join(tmp, "broker.err"), "utf8").slice(-500)}`);
    try {
      const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      s.end();
      break;
    } catch {
      if (performance.now() > end) throw new Error("not accepting connections after 600 s");
      await Bun.sleep(2);
    }
  }
  return { proc, port, startMs: performance.now() - began };
}

async function stop(r: Running): Promise<void> {
  r.proc.kill("SIGTERM");
  const timer = setTimeout(() => r.proc.kill("SIGKILL"), 60_000);
  await r.proc.exited;
  clearTimeout(timer);
  procs.delete(r.proc);
}

function rssMb(pid: number): number {
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
  return kb / 1024;
}

/** One Metadata v4 request (auto-creating the topic with num.partitions), answered. */
async function metadata(port: number): Promise<number> {
  const body = encode(MetadataRequest, 4, { topics: [{ name: TOPIC, topicId: new Uint8Array(16) }], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
  const client = new TextEncoder().encode("bench");
  const frame = new Uint8Array(4 + 10 + client.length + body.length);
  const v = new DataView(frame.buffer);
  v.setInt32(0, frame.length - 4);
  v.setInt16(4, 3);
  v.setInt16(6, 4);
  v.setInt32(8, 1);
  v.setInt16(12, client.length);
  frame.set(client, 14);
  frame.set(body, 14 + client.length);
  const got: Uint8Array[] = [];
  let resolve!: (b: Uint8Array) => void;
  const done = new Promise<Uint8Array>((r) => (resolve = r));
  const sock = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, d) {
        got.push(new Uint8Array(d));
        const all = Buffer.concat(got);
        if (all.length >= 4 && all.length >= 4 + all.readInt32BE(0)) resolve(new Uint8Array(all.subarray(8, 4 + all.readInt32BE(0))));
      },
    },
  });
  sock.write(frame);
  const res = decode(MetadataResponse, 4, await done);
  sock.end();
  return res.topics[0]!.partitions.length;
}

/** A log dir whose topic has PARTS partitions of `bytes` each, stopped cleanly by ./kafka, then filled in place and closed as the broker would. */
async function dataset(name: string, bytes: number): Promise<string> {
  const dir = join(tmp, name);
  const r = await start(dir);
  const n = await metadata(r.port);
  if (n !== PARTS) throw new Error(`topic has ${n} partitions, expected ${PARTS}`);
  await stop(r);
  const c = chunk();
  for (let p = 0; p < PARTS; p++) {
    const info: PartitionInfo = { partition: p, leader: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1], isr: [1] };
    const part = Partition.open(join(dir, `${TOPIC}-${p}`), TOPIC, info, {
      segmentBytes: 1 << 30,
      cleanShutdown: true,
      warn: say,
    });
    for (let written = 0; written < bytes; written += c.buf.length) part.append(c.buf, c.batches);
    part.flush();
    part.close();
    if (p % 100 === 99) say(`${name}: ${p + 1}/${PARTS} partitions filled`);
  }
  // the fills are ours: the broker's checkpoints say these logs end where it left them (empty)
  writeFileSync(join(dir, "recovery-point-offset-checkpoint"), `0\n0\n`);
  return dir;
}

interface Figures {
  cleanMs: number[];
  uncleanMs: number[];
  rss: number[];
}

async function measure(dir: string): Promise<Figures> {
  const f: Figures = { cleanMs: [], uncleanMs: [], rss: [] };
  for (let i = 0; i < RUNS; i++) {
    if (!existsSync(join(dir, ".kafka_cleanshutdown"))) throw new Error("no clean-shutdown marker before a clean start");
    const r = await start(dir);
    f.cleanMs.push(r.startMs);
    await metadata(r.port);
    f.rss.push(rssMb(r.proc.pid));
    await stop(r);
  }
  for (let i = 0; i < RUNS; i++) {
    // what kill -9 leaves: no marker, recovery points at 0 (every batch checked)
    unlinkSync(join(dir, ".kafka_cleanshutdown"));
    writeFileSync(join(dir, "recovery-point-offset-checkpoint"), `0\n0\n`);
    const r = await start(dir);
    f.uncleanMs.push(r.startMs);
    await stop(r);
  }
  return f;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** µs per 1 MiB read (locate + copy into a buffer) at random offsets in [lo, hi). */
function readCost(log: PartitionLog, lo: number, hi: number, n: number): number {
  const out = new Uint8Array(1 << 20);
  let x = 12345;
  const began = performance.now();
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const off = lo + (x % (hi - lo));
    const r = log.read(off, 1 << 20);
    let at = 0;
    for (const s of r) at += s.writeTo(out, at);
    releaseAll(r);
  }
  return ((performance.now() - began) * 1000) / n;
}

function fetchPosition(): { middleUs: number; freshUs: number; middleLocateUs: number; freshLocateUs: number } {
  const c = chunk();
  const mk = (name: string, bytes: number) => {
    const log = PartitionLog.open(join(tmp, name), { segmentBytes: 1 << 30, cleanShutdown: true });
    for (let w = 0; w < bytes; w += c.buf.length) log.append(c.buf, c.batches);
    return log;
  };
  const big = mk("middle", MIDDLE_GB * 1024 ** 3);
  const fresh = mk("fresh", 64 << 20);
  const e = big.logEndOffset;
  // warm both (page cache, JIT)
  readCost(big, 0, e, 200);
  readCost(fresh, 0, fresh.logEndOffset, 200);
  const n = 3000;
  const middleUs = readCost(big, Math.floor(e / 3), Math.floor((2 * e) / 3), n);
  const freshUs = readCost(fresh, 0, fresh.logEndOffset, n);
  const locate = (log: PartitionLog, lo: number, hi: number) => {
    let x = 777;
    const began = performance.now();
    for (let i = 0; i < 20000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      log.readableBytes(lo + (x % (hi - lo)), 1 << 20);
    }
    return ((performance.now() - began) * 1000) / 20000;
  };
  const middleLocateUs = locate(big, Math.floor(e / 3), Math.floor((2 * e) / 3));
  const freshLocateUs = locate(fresh, 0, fresh.logEndOffset);
  big.close();
  fresh.close();
  return { middleUs, freshUs, middleLocateUs, freshLocateUs };
}

async function main(): Promise<void> {
  if (!existsSync(KAFKA_BIN)) throw new Error(`${KAFKA_BIN} not found: run \`bun run build\``);
  say(`datasets: ${PARTS} partitions x ${SMALL_KB} KiB and x ${BIG_MB} MiB`);
  const small = await dataset("small", SMALL_KB * 1024);
  const fs = await measure(small);
  say(`small: clean ${fs.cleanMs.map((x) => x.toFixed(0))} ms, unclean ${fs.uncleanMs.map((x) => x.toFixed(0))} ms, rss ${fs.rss.map((x) => x.toFixed(0))} MB`);
  rmSync(small, { recursive: true, force: true });
  const big = await dataset("big", BIG_MB * 1024 * 1024);
  const fb = await measure(big);
  say(`big: clean ${fb.cleanMs.map((x) => x.toFixed(0))} ms, unclean ${fb.uncleanMs.map((x) => x.toFixed(0))} ms, rss ${fb.rss.map((x) => x.toFixed(0))} MB`);
  rmSync(big, { recursive: true, force: true });
  say(`fetch position: a ${MIDDLE_GB} GiB log and a fresh 64 MiB one`);
  const fp = fetchPosition();
  const totalSmall = `${((PARTS * SMALL_KB) / 1024).toFixed(0)} MiB`;
  const totalBig = `${((PARTS * BIG_MB) / 1024).toFixed(1)} GiB`;
  const lines = [
    `| ${PARTS} partitions, small batches (1 KiB, 10 records) | ${totalSmall} | ${totalBig} | big/small |`,
    "|---|---|---|---|",
    `| resident memory after start-up + one Metadata, MB (median of ${RUNS}) | ${median(fs.rss).toFixed(0)} | ${median(fb.rss).toFixed(0)} | ${(median(fb.rss) / median(fs.rss)).toFixed(2)} |`,
    `| start-up after a clean stop, ms | ${median(fs.cleanMs).toFixed(0)} | ${median(fb.cleanMs).toFixed(0)} | ${(median(fb.cleanMs) / median(fs.cleanMs)).toFixed(2)} |`,
    `| start-up after an unclean stop (every batch CRC-checked), ms | ${median(fs.uncleanMs).toFixed(0)} | ${median(fb.uncleanMs).toFixed(0)} | ${(median(fb.uncleanMs) / median(fs.uncleanMs)).toFixed(2)} |`,
    "",
    `| 1 MiB read at a random offset | middle of a ${MIDDLE_GB} GiB log | fresh 64 MiB log | middle/fresh |`,
    "|---|---|---|---|",
    `| locate + copy, µs | ${fp.middleUs.toFixed(1)} | ${fp.freshUs.toFixed(1)} | ${(fp.middleUs / fp.freshUs).toFixed(2)} |`,
    `| locate only (readableBytes), µs | ${fp.middleLocateUs.toFixed(2)} | ${fp.freshLocateUs.toFixed(2)} | ${(fp.middleLocateUs / fp.freshLocateUs).toFixed(2)} |`,
  ];
  console.log(lines.join("\n"));
}

try {
  await main();
} finally {
  for (const p of procs) p.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
}
