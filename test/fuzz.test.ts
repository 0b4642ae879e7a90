// The fuzz test (issue 9, item 7): the real executable takes random and
// mutated frames for every API key and version it advertises, over 16
// connections at once, while a well-behaved client on its own connection
// produces (acks=1) and fetches back. Request bodies are generated from the
// message definitions with well-typed values (existing topic names, small
// arrays, real record batches, some resealed lying ones) so handlers are
// reached, then mutated: byte flips, interesting values (huge and negative
// lengths and counts) written over the body, truncation, a lying size prefix,
// a random api key or version in the header, another API's body, garbage;
// frames go out in pipelined bursts, sometimes split across writes.
//
// Shown: the process never dies and answers at the end; its resident memory
// (VmRSS, sampled every second) stays under RSS_BOUND_MB; every record the
// good client had acknowledged comes back at its offset, throughout and at
// the end; no handler throws (no ERROR line); after a SIGTERM every batch in
// every .log file of the log dir has its lengths and CRC-32C right.
// FUZZ_SEED=<n> replays the frames each connection sends (their interleaving
// depends on timing), FUZZ_SECONDS=<n> runs longer (default 30). The
// broker's output goes to a file, shown only when something fails.

import { afterAll, expect, test } from "bun:test";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, watch } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { encode, isFlexible } from "../src/protocol/codec.ts";
import { camel, inRange, parseVersions, type FieldDef, type MessageDef } from "../src/protocol/schema.ts";
import { ApiVersionsRequest, ApiVersionsResponse } from "../src/protocol/messages/api-versions.ts";
import { MetadataRequest, MetadataResponse } from "../src/protocol/messages/metadata.ts";
import { scanBatches } from "../src/records/batch.ts";
import { buildBatch } from "../src/records/record.ts";
import { KAFKA_BIN, type Msg, removeDir, requestFrame, ROOT, seededRandom, tempDir, WireClient, withTimeout } from "./helpers.ts";
import { call, createTopic, fetchAll, produce } from "./wire-calls.ts";
import { LYING_CASES, reseal } from "./lying-batches.ts";

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31)) >>> 0;
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 30);
const WORKERS = 16;
/** idle ./kafka is about 50 MB, about 110 MB under the fuzzer; a leak of what it sends (hundreds of MB over 30 s) goes past this */
const RSS_BOUND_MB = 384;
const FUZZ_TOPICS = ["fz0", "fz1"];
const GOOD = "good";

type Rnd = () => number;
const int = (r: Rnd, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rnd, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const bytes = (r: Rnd, n: number) => Uint8Array.from({ length: n }, () => int(r, 0, 255));

// ---- the broker, its output in a file ----

let proc: Subprocess | null = null;
let dir = "";
let logPath = "";
afterAll(() => {
  proc?.kill("SIGKILL");
  if (dir) removeDir(dir);
});

function brokerLog(): string {
  try {
    const s = readFileSync(logPath, "utf8");
    return s.length > 20_000 ? `...${s.slice(-20_000)}` : s;
  } catch {
    return "(no log)";
  }
}

/** Fails with the seed and the broker's log. */
function check(ok: boolean, what: string): asserts ok {
  if (!ok) throw new Error(`${what} (FUZZ_SEED=${SEED})\n--- broker log ---\n${brokerLog()}`);
}

async function startBroker(): Promise<number> {
  dir = tempDir("kafka-fuzz-");
  logPath = join(dir, "broker.log");
  const fd = openSync(logPath, "a");
  proc = Bun.spawn([KAFKA_BIN, "--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", `log.dirs=${join(dir, "data")}`, "--override", "group.initial.rebalance.delay.ms=0"], {
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  // the listening line, seen when the log file changes (inotify), within 10 s
  return await new Promise<number>((resolvePort, reject) => {
    const done = (f: () => void) => {
      watcher.close();
      clearTimeout(timer);
      f();
    };
    const look = () => {
      const m = /listening on PLAINTEXT:\/\/[^:]+:(\d+)/.exec(brokerLog());
      if (m) done(() => resolvePort(Number(m[1])));
    };
    const watcher = watch(logPath, look);
    const timer = setTimeout(() => done(() => reject(new Error(`./kafka did not start in 10 s (FUZZ_SEED=${SEED})\n${brokerLog()}`))), 10_000);
    proc!.exited.then((code) => done(() => reject(new Error(`./kafka exited with ${code} before listening\n${brokerLog()}`))));
    look();
  });
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
}

// ---- well-typed values from the schema ----

interface Ctx {
  topicIds: Uint8Array[];
}

const CONFIG_NAMES = ["retention.ms", "cleanup.policy", "max.message.bytes", "retention.bytes", "compression.type", "min.compaction.lag.ms", "no.such.key"];
const CONFIG_VALUES = ["1", "1000", "-1", "delete", "compact", "gzip", "producer", "x", ""];
const STRING_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789._-";

function topicName(r: Rnd): string {
  const x = r();
  if (x < 0.75) return pick(r, FUZZ_TOPICS);
  if (x < 0.9) return `fz${int(r, 2, 4)}`;
  return pick(r, ["", "__consumer_offsets", "bad/name", "x".repeat(int(r, 1, 300))]);
}

function someString(r: Rnd): string {
  return Array.from({ length: int(r, 0, 8) }, () => pick(r, [...STRING_CHARS])).join("");
}

function stringFor(f: FieldDef, parent: string, r: Rnd): string {
  const n = f.name;
  if (/^(Topic|TopicName)$/.test(n) || (n === "Name" && /Topic|Creatable|Deletable|Reassignable/.test(parent))) return topicName(r);
  if (/Config|Synonym/.test(parent) && n === "Name") return pick(r, CONFIG_NAMES);
  if (n === "Value") return pick(r, CONFIG_VALUES);
  if (/GroupId|^Groups?$|^Key$/.test(n)) return pick(r, ["g0", "g1", someString(r)]);
  if (n === "ResourceName") return pick(r, [...FUZZ_TOPICS, "1", "", someString(r)]);
  if (n === "ProtocolType") return pick(r, ["consumer", "", someString(r)]);
  if (n === "MemberId") return pick(r, ["", someString(r)]);
  if (n === "Path" || n === "LogDir") return pick(r, ["", "/tmp", someString(r)]);
  return someString(r);
}

function intFor(f: FieldDef, type: string, r: Rnd): number {
  const n = f.name;
  const bits = type === "int8" ? 8 : type === "int16" ? 16 : type === "uint16" ? 16 : 32;
  if (r() < 0.08) {
    const edges = type === "uint16" ? [0, 1, 65535] : type === "int8" ? [-128, -1, 0, 127] : [-(2 ** (bits - 1)), -2, -1, 0, 2 ** (bits - 1) - 1];
    return pick(r, edges);
  }
  if (/Partition(Index)?$|PartitionIndexes|^Partitions$/.test(n)) return int(r, 0, 2);
  if (/Timeout|MaxWait|Delay/.test(n)) return int(r, 0, 200);
  if (n === "Acks") return pick(r, [-1, 0, 1]);
  if (/NumPartitions|^Count$/.test(n)) return pick(r, [-1, 1, 2, 3]);
  if (/ReplicationFactor/.test(n)) return pick(r, [-1, 1]);
  if (/Epoch|Generation/.test(n)) return pick(r, [-1, 0, 1]);
  if (/BrokerId|NodeId|ReplicaId|Leader|Replicas/.test(n)) return pick(r, [-1, 1, 2]);
  if (n === "ResourceType") return pick(r, [2, 4, int(r, 0, 8)]);
  if (/MaxBytes/.test(n)) return pick(r, [0, 1, 1024, 1 << 20]);
  if (type === "uint16") return int(r, 0, 100);
  return int(r, -1, 10);
}

function recordsValue(r: Rnd): Uint8Array {
  const x = r();
  const n = int(r, 1, 3);
  const batch = () =>
    buildBatch({
      baseTimestamp: Date.now(),
      attributes: pick(r, [0, 0, 0, 1, 2, 3, 4]),
      records: Array.from({ length: n }, () => ({ key: r() < 0.5 ? bytes(r, int(r, 0, 4)) : null, value: bytes(r, int(r, 0, 64)) })),
    });
  if (x < 0.55) return batch();
  if (x < 0.7) return pick(r, LYING_CASES).batch();
  if (x < 0.85) {
    // flipped past the header and resealed: the CRC holds, the records lie
    const b = batch();
    for (let k = int(r, 1, 3); k > 0; k--) b[int(r, 61, b.length - 1)] = int(r, 0, 255);
    return reseal(b);
  }
  if (x < 0.95) return bytes(r, int(r, 0, 80));
  return new Uint8Array(0);
}

function genStruct(fields: readonly FieldDef[], v: number, flexible: boolean, parent: string, r: Rnd, ctx: Ctx): Msg {
  const out: Msg = {};
  for (const f of fields) {
    if (!inRange(parseVersions(f.versions), v)) continue;
    if (f.tag !== undefined && (!flexible || !inRange(parseVersions(f.taggedVersions), v) || r() < 0.5)) continue;
    if (inRange(parseVersions(f.nullableVersions), v) && r() < 0.1) {
      out[camel(f.name)] = null;
      continue;
    }
    if (f.type.startsWith("[]")) {
      const elem = f.type.slice(2);
      out[camel(f.name)] = Array.from({ length: pick(r, [0, 1, 1, 1, 2, 3]) }, () => genValue(f, elem, v, flexible, r, ctx));
    } else out[camel(f.name)] = genValue(f, f.type, v, flexible, r, ctx);
  }
  return out;
}

function genValue(f: FieldDef, type: string, v: number, flexible: boolean, r: Rnd, ctx: Ctx): unknown {
  switch (type) {
    case "int8":
    case "int16":
    case "uint16":
    case "int32":
    case "uint32":
      return intFor(f, type, r);
    case "int64":
      return pick(r, [-2, -1, 0, 1, int(r, 0, 100), Date.now()]);
    case "float64":
      return r() * 10;
    case "bool":
      return r() < 0.5;
    case "string":
      return stringFor(f, "", r);
    case "bytes":
      return bytes(r, int(r, 0, 16));
    case "uuid":
      return r() < 0.6 && ctx.topicIds.length > 0 ? pick(r, ctx.topicIds) : r() < 0.5 ? new Uint8Array(16) : bytes(r, 16);
    case "records":
      return recordsValue(r);
    default:
      return genStructNamed(f, v, flexible, r, ctx);
  }
}

function genStructNamed(f: FieldDef, v: number, flexible: boolean, r: Rnd, ctx: Ctx): Msg {
  // strings inside a struct take their meaning from the struct's field name (Topics[].Name is a topic)
  const out = genStruct(f.fields ?? [], v, flexible, f.name, r, ctx);
  for (const sf of f.fields ?? []) {
    const k = camel(sf.name);
    if (sf.type === "string" && typeof out[k] === "string") out[k] = stringFor(sf, f.name, r);
  }
  return out;
}

// ---- mutations ----

const INTERESTING = [
  Uint8Array.of(0x7f, 0xff, 0xff, 0xff),
  Uint8Array.of(0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0x80, 0, 0, 0),
  Uint8Array.of(0xff, 0xff, 0xff, 0xfe),
  Uint8Array.of(0, 0xff, 0xff, 0xff),
  Uint8Array.of(0xff, 0xff),
  Uint8Array.of(0x7f, 0xff),
  Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f),
  Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80),
  Uint8Array.of(0),
];

function setSize(f: Uint8Array, size: number): void {
  new DataView(f.buffer, f.byteOffset, f.byteLength).setInt32(0, size);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let p = 0;
  for (const x of parts) {
    out.set(x, p);
    p += x.length;
  }
  return out;
}

/** A mutated copy of `frame`; `other` is another API's frame, for a body under the wrong header. */
function mutate(frame: Uint8Array, other: Uint8Array, r: Rnd): { bytes: Uint8Array; kind: string } {
  let f = frame.slice();
  const x = r();
  if (x < 0.2) return { bytes: f, kind: "valid" };
  if (x < 0.4) {
    for (let k = int(r, 1, 4); k > 0; k--) f[int(r, 4, f.length - 1)] = int(r, 0, 255);
    return { bytes: f, kind: "flip" };
  }
  if (x < 0.55) {
    const v = pick(r, INTERESTING);
    const at = int(r, 12, Math.max(12, f.length - v.length));
    if (at + v.length <= f.length) f.set(v, at);
    return { bytes: f, kind: "interesting" };
  }
  if (x < 0.65) {
    f = f.slice(0, int(r, 4, f.length - 1));
    setSize(f, f.length - 4);
    return { bytes: f, kind: "truncate" };
  }
  if (x < 0.7) {
    setSize(f, pick(r, [f.length - 4 + int(r, 1, 40), 0x7fffffff, -1, -(2 ** 31), 0, 3]));
    return { bytes: f, kind: "size" };
  }
  if (x < 0.8) {
    const v = new DataView(f.buffer);
    if (r() < 0.6) v.setInt16(4, pick(r, [-1, int(r, 0, 80), 9999, 32767]));
    if (r() < 0.7) v.setInt16(6, pick(r, [-1, int(r, 0, 20), 32767]));
    return { bytes: f, kind: "header" };
  }
  if (x < 0.87) {
    // this header, another API's body
    const headerEnd = (b: Uint8Array) => Math.min(b.length, 14 + Math.max(0, new DataView(b.buffer, b.byteOffset).getInt16(12)));
    const out = concat([f.subarray(0, headerEnd(f)), other.subarray(headerEnd(other))]);
    if (out.length >= 4) setSize(out, out.length - 4);
    return { bytes: out, kind: "swap" };
  }
  if (x < 0.93) {
    const out = concat([f, bytes(r, int(r, 1, 32))]);
    setSize(out, out.length - 4);
    return { bytes: out, kind: "trailing" };
  }
  const g = concat([new Uint8Array(4), bytes(r, int(r, 0, 64))]);
  setSize(g, g.length - 4);
  if (g.length >= 8 && r() < 0.5) new DataView(g.buffer).setInt16(4, int(r, 0, 75));
  return { bytes: g, kind: "garbage" };
}

// ---- a fuzzing connection ----

class FuzzConn {
  closed = false;
  frames = 0;
  private pending: Uint8Array[] = [];
  private buf = new Uint8Array(0);
  private wake: (() => void) | null = null;
  private constructor(private socket: import("bun").Socket<undefined>) {}

  static async open(port: number): Promise<FuzzConn | null> {
    let c!: FuzzConn;
    try {
      const s = await Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: {
          data(_s, chunk) {
            c.take(chunk);
          },
          drain() {
            c.flush();
          },
          close() {
            c.closed = true;
            c.wake?.();
          },
          error() {},
        },
      });
      c = new FuzzConn(s);
      return c;
    } catch {
      return null;
    }
  }

  private take(chunk: Uint8Array): void {
    const b = this.buf.length === 0 ? chunk : concat([this.buf, chunk]);
    let p = 0;
    while (b.length - p >= 4) {
      const size = new DataView(b.buffer, b.byteOffset + p).getInt32(0);
      if (b.length - p < 4 + size) break;
      this.frames++;
      p += 4 + size;
    }
    this.buf = b.slice(p);
    this.wake?.();
  }

  write(b: Uint8Array): void {
    if (this.closed) return;
    this.pending.push(b);
    this.flush();
  }

  private flush(): void {
    while (this.pending.length > 0 && !this.closed) {
      const b = this.pending[0]!;
      const n = this.socket.write(b);
      if (n < b.length) {
        this.pending[0] = b.subarray(Math.max(0, n));
        return;
      }
      this.pending.shift();
    }
  }

  /** Until `n` response frames came in all told, the connection closed, or `ms` passed. */
  async until(n: number, ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (!this.closed && this.frames < n && Date.now() < end) {
      await Promise.race([new Promise<void>((r) => (this.wake = r)), Bun.sleep(Math.max(1, end - Date.now()))]);
      this.wake = null;
    }
  }

  close(): void {
    this.socket.end();
  }
}

interface Api {
  def: MessageDef;
  key: number;
  version: number;
}

interface Stats {
  frames: number;
  connections: number;
  byKind: Map<string, number>;
  sentValid: Set<string>;
  encodeErrors: Map<string, string>;
}

async function fuzzWorker(id: number, port: number, apis: Api[], ctx: Ctx, deadline: number, stats: Stats): Promise<void> {
  const r = seededRandom(SEED ^ Math.imul(id + 1, 0x9e3779b1));
  let corr = 1;
  let turn = id;
  const frameFor = (a: Api): Uint8Array | null => {
    try {
      const body = encode(a.def, a.version, genStruct(a.def.fields, a.version, isFlexible(a.def, a.version), "", r, ctx) as never);
      return requestFrame(a.key, a.version, corr++, r() < 0.1 ? null : pick(r, ["fuzz", someString(r)]), body, isFlexible(a.def, a.version));
    } catch (e) {
      stats.encodeErrors.set(`${a.key}v${a.version}`, (e as Error).message);
      return null;
    }
  };
  while (Date.now() < deadline) {
    const conn = await FuzzConn.open(port);
    if (conn === null) {
      await Bun.sleep(10);
      continue;
    }
    stats.connections++;
    let expected = 0;
    for (let burst = int(r, 1, 8); burst > 0 && !conn.closed && Date.now() < deadline; burst--) {
      const parts: Uint8Array[] = [];
      for (let k = r() < 0.3 ? int(r, 2, 16) : int(r, 1, 2); k > 0; k--) {
        // every advertised (key, version) in turn, so each is covered many times over
        const a = apis[turn++ % apis.length]!;
        const f = frameFor(a);
        const o = frameFor(pick(r, apis));
        if (f === null || o === null) continue;
        const m = mutate(f, o, r);
        stats.byKind.set(m.kind, (stats.byKind.get(m.kind) ?? 0) + 1);
        if (m.kind === "valid") stats.sentValid.add(`${a.key}v${a.version}`);
        stats.frames++;
        parts.push(m.bytes);
        expected++;
      }
      const all = concat(parts);
      if (r() < 0.3 && all.length > 1) {
        // split across writes
        for (let p = 0; p < all.length && !conn.closed; ) {
          const n = int(r, 1, Math.max(1, Math.ceil(all.length / 3)));
          conn.write(all.subarray(p, p + n));
          p += n;
          await Bun.sleep(int(r, 0, 2));
        }
      } else conn.write(all);
      await conn.until(expected, 300);
    }
    conn.close();
  }
}

// ---- the good client ----

/** withTimeout, failing with the seed and the broker's log */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  try {
    return await withTimeout(p, ms, what);
  } catch (e) {
    throw new Error(`${(e as Error).message} (FUZZ_SEED=${SEED})\n--- broker log ---\n${brokerLog()}`);
  }
}

async function goodClient(port: number, deadline: number): Promise<{ acked: Map<number, string>[]; produces: number; fetches: number }> {
  const c = await WireClient.connect(port);
  const acked = [new Map<number, string>(), new Map<number, string>()];
  let produces = 0;
  let fetches = 0;
  const checkFetch = async (p: number) => {
    const got = await within(fetchAll(c, GOOD, p, 0), 10_000, `good client fetch ${GOOD}-${p}`);
    check(got.errorCode === 0, `good client fetch ${GOOD}-${p}: error ${got.errorCode}`);
    const byOffset = new Map(got.records);
    for (const [o, v] of acked[p]!) check(byOffset.get(o) === v, `${GOOD}-${p} offset ${o}: acknowledged ${v}, fetched ${byOffset.get(o)}`);
    fetches++;
  };
  for (let i = 0; Date.now() < deadline; i++) {
    const p = i % 2;
    const values = Array.from({ length: 1 + (i % 4) }, (_, j) => `good-${i}-${j}`);
    const r = await within(produce(c, GOOD, p, values, 1), 10_000, `good client produce ${i}`);
    check(r.errorCode === 0, `good client produce ${i} to ${GOOD}-${p}: error ${r.errorCode}`);
    values.forEach((v, j) => acked[p]!.set(Number(r.baseOffset) + j, v));
    produces++;
    if (i % 10 === 9) await checkFetch(p);
    await Bun.sleep(5);
  }
  for (const p of [0, 1]) await checkFetch(p);
  c.close();
  return { acked, produces, fetches };
}

/** Every .log file under `root`. */
function logFiles(root: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(root, { withFileTypes: true })) {
    const p = join(root, e.name);
    if (e.isDirectory()) out.push(...logFiles(p));
    else if (e.name.endsWith(".log")) out.push(p);
  }
  return out;
}

test(
  `fuzz: every advertised API and version, random and mutated frames over ${WORKERS} connections, ${SECONDS} s`,
  async () => {
    console.log(`fuzz: FUZZ_SEED=${SEED} FUZZ_SECONDS=${SECONDS}`);
    check(existsSync(KAFKA_BIN), `${KAFKA_BIN} missing: run npm run build (in ${ROOT})`);
    const port = await startBroker();
    const pid = proc!.pid;
    const admin = await WireClient.connect(port);
    await createTopic(admin, GOOD, 2);
    for (const t of FUZZ_TOPICS) await createTopic(admin, t, 3);
    const md = await call(admin, MetadataRequest, MetadataResponse, 12, { topics: FUZZ_TOPICS.map((name) => ({ name, topicId: new Uint8Array(16) })), allowAutoTopicCreation: false });
    const ctx: Ctx = { topicIds: md.topics.map((t: Msg) => t.topicId as Uint8Array) };
    // what the broker advertises, each with its definition
    const av = await call(admin, ApiVersionsRequest, ApiVersionsResponse, 3, { clientSoftwareName: "fuzz", clientSoftwareVersion: "1" });
    const defs = new Map<number, MessageDef>();
    const dirOf = join(ROOT, "src", "protocol", "messages");
    for (const f of readdirSync(dirOf))
      for (const v of Object.values(await import(join(dirOf, f))) as MessageDef[]) if (v && typeof v === "object" && v.type === "request" && v.apiKey !== undefined) defs.set(v.apiKey, v);
    const apis: Api[] = [];
    for (const k of av.apiKeys as Msg[]) {
      const def = defs.get(k.apiKey);
      check(def !== undefined, `no request definition for advertised api key ${k.apiKey}`);
      for (let v = k.minVersion; v <= k.maxVersion; v++) apis.push({ def, key: k.apiKey, version: v });
    }
    check(apis.length > 100, `only ${apis.length} api versions advertised`);

    const rss: number[] = [rssMb(pid)];
    const sampler = setInterval(() => {
      if (proc!.exitCode === null) rss.push(rssMb(pid));
    }, 1000);
    const stats: Stats = { frames: 0, connections: 0, byKind: new Map(), sentValid: new Set(), encodeErrors: new Map() };
    const deadline = Date.now() + SECONDS * 1000;
    let good: Awaited<ReturnType<typeof goodClient>>;
    try {
      const [g] = await Promise.all([goodClient(port, deadline), ...Array.from({ length: WORKERS }, (_, i) => fuzzWorker(i, port, apis, ctx, deadline, stats))]);
      good = g;
    } finally {
      clearInterval(sampler);
    }
    check(proc!.exitCode === null, `./kafka exited with ${proc!.exitCode}`);
    check(stats.encodeErrors.size === 0, `the generator could not encode: ${[...stats.encodeErrors].map(([k, e]) => `${k}: ${e}`).join("; ")}`);
    const missed = apis.filter((a) => !stats.sentValid.has(`${a.key}v${a.version}`)).map((a) => `${a.key}v${a.version}`);
    check(missed.length === 0, `no well-formed frame was sent for ${missed.join(", ")}`);
    // still answers, on a fresh connection
    const after = await WireClient.connect(port);
    const av2 = await within(call(after, ApiVersionsRequest, ApiVersionsResponse, 3, { clientSoftwareName: "fuzz", clientSoftwareVersion: "1" }), 10_000, "ApiVersions after the fuzzing");
    check(av2.errorCode === 0, "ApiVersions after the fuzzing");
    after.close();
    admin.close();
    const maxRss = Math.max(...rss);
    check(maxRss < RSS_BOUND_MB, `VmRSS reached ${maxRss.toFixed(0)} MB (bound ${RSS_BOUND_MB} MB); samples ${rss.map((x) => x.toFixed(0)).join(" ")}`);
    check(good.produces > 0 && good.fetches > 0, "the good client made no progress");

    // a clean stop, then every stored batch: lengths and CRC-32C
    proc!.kill("SIGTERM");
    const code = await within(proc!.exited, 15_000, "SIGTERM");
    check(code === 0, `./kafka exited with ${code} after SIGTERM`);
    // a handler that throws is caught and logged at ERROR (the connection closes): a bug the fuzzer found
    const errors = readFileSync(logPath, "utf8").split("\n").filter((l) => / ERROR /.test(l));
    check(errors.length === 0, `the broker logged errors:\n${errors.slice(0, 20).join("\n")}`);
    const files = logFiles(join(dir, "data"));
    let batches = 0;
    for (const f of files) {
      const b = new Uint8Array(readFileSync(f));
      const scan = scanBatches(b);
      check(scan.error === null && scan.end === b.length, `${f} (${statSync(f).size} bytes): ${scan.error}`);
      batches += scan.batches.length;
    }
    console.log(
      `fuzz: ${stats.frames} frames (${[...stats.byKind].map(([k, n]) => `${k} ${n}`).join(", ")}) for ${apis.length} api versions over ${stats.connections} connections; ` +
        `good client ${good.produces} produces, ${good.fetches} fetches checked; max VmRSS ${maxRss.toFixed(0)} MB; ${batches} batches in ${files.length} .log files all check out`,
    );
    removeDir(dir);
    check(!existsSync(dir), `${dir} left behind`);
    dir = "";
    proc = null;
    expect(batches).toBeGreaterThan(0);
  },
  (SECONDS + 60) * 1000,
);
