// Bad input on one connection: the requests before a bad frame are answered
// before the connection ends; a client sending thousands of bad frames writes
// a bounded number of log lines; lengths and counts that lie are refused
// without allocating; abandoned long polls leave the partition's waiters at once;
// at the file-descriptor limit the executable holds off accepting, quietly.

import { afterEach, beforeEach, expect, test } from "bun:test";
import { decode, encode } from "../src/protocol/codec.ts";
import { FetchRequest, FetchResponse } from "../src/protocol/messages/fetch.ts";
import { ProduceRequest, ProduceResponse } from "../src/protocol/messages/produce.ts";
import { buildBatch } from "../src/records/record.ts";
import { validateBatches } from "../src/records/batch.ts";
import { Connection } from "../src/net/connection.ts";
import { buildConfig } from "../src/config.ts";
import { Broker } from "../src/broker.ts";
import { ApiVersionsRequest, ApiVersionsResponse } from "../src/protocol/messages/api-versions.ts";
import { existsSync, readFileSync } from "node:fs";
import { removeDir, requestFrame, startInProcess, startKafka, tempDir, WireClient, type InProcessBroker } from "./helpers.ts";
import { call, createTopic, fetchAll, produce } from "./wire-calls.ts";

let kafka: InProcessBroker;
beforeEach(async () => {
  kafka = await startInProcess();
  kafka.storage.createTopic("t", 1);
  kafka.storage.createTopic("idle", 1);
});
afterEach(() => kafka.close());

const produceFrame = (corr: number, value: string) =>
  requestFrame(0, 9, corr, "hard", encode(ProduceRequest, 9, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: "t", partitionData: [{ index: 0, records: buildBatch({ baseTimestamp: Date.now(), records: [{ value: new TextEncoder().encode(value) }] }) }] }] }), true);

const fetchFrame = (corr: number, topic: string, maxWaitMs: number) =>
  requestFrame(1, 12, corr, "hard", encode(FetchRequest, 12, { maxWaitMs, minBytes: 1, maxBytes: 1 << 20, topics: [{ topic, topicId: new Uint8Array(16), partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [] }), true);

/** A frame for an api key nobody serves: Kafka closes the connection. */
const badFrame = () => requestFrame(9999, 0, 77, "hard", new Uint8Array(0), false);

/** Response frames in `bytes`: [correlation id, body after a flexible v1 header]. */
function frames(bytes: Uint8Array): [number, Uint8Array][] {
  const b = Buffer.from(bytes);
  const out: [number, Uint8Array][] = [];
  for (let p = 0; p + 4 <= b.length; ) {
    const size = b.readInt32BE(p);
    out.push([b.readInt32BE(p + 4), new Uint8Array(b.subarray(p + 9, p + 4 + size))]);
    p += 4 + size;
  }
  return out;
}

/** Lines the broker writes to stderr while `fn` runs. */
async function stderrLines(fn: () => Promise<void> | void): Promise<string[]> {
  const lines: string[] = [];
  const orig = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split("\n").filter((l) => l.length > 0));
    return true;
  }) as typeof process.stderr.write;
  try {
    await fn();
  } finally {
    process.stderr.write = orig;
  }
  return lines;
}

test("a bad frame pipelined behind two produces: both are answered, then the connection ends", async () => {
  const c = kafka.connect("10.1.0.1:5000");
  await stderrLines(() => c.send(Buffer.concat([produceFrame(1, "a"), produceFrame(2, "b"), badFrame(), produceFrame(3, "never")])));
  const got = frames(c.take());
  expect(got.map(([corr]) => corr)).toEqual([1, 2]);
  for (const [, body] of got) expect(decode(ProduceResponse, 9, body).responses[0].partitionResponses[0].errorCode).toBe(0);
  expect(c.closed).toBe(true);
  expect(kafka.storage.getPartition("t", 0)!.logEndOffset).toBe(2); // the frame after the bad one is not read
});

test("a bad frame behind a long poll: the long poll is answered at its max wait, then the connection ends", async () => {
  const c = kafka.connect("10.1.0.2:5000");
  await stderrLines(() => c.send(Buffer.concat([fetchFrame(1, "idle", 150), badFrame()])));
  expect(c.closed).toBe(false); // waits for the earlier request
  const got = frames(await c.waitFor(1));
  expect(got.map(([corr]) => corr)).toEqual([1]);
  expect(decode(FetchResponse, 12, got[0]![1]).responses[0].partitions[0].errorCode).toBe(0);
  expect(c.closed).toBe(true);
});

test("10,000 bad frames from one client address write a bounded number of log lines", async () => {
  const lines = await stderrLines(() => {
    for (let i = 0; i < 10_000; i++) kafka.connect(`10.2.0.1:${10000 + (i % 50000)}`).send(badFrame());
    kafka.connect("10.2.0.2:1").send(badFrame()); // another client still gets its own line
  });
  expect(lines.filter((l) => l.includes("10.2.0.1")).length).toBe(1);
  expect(lines.filter((l) => l.includes("10.2.0.2")).length).toBe(1);
  expect(lines.length).toBeLessThanOrEqual(3);
});

test("lengths and counts beyond the frame are refused without allocating", async () => {
  const huge = [
    // Metadata v1: topics array count 2^31-1 in a 4-byte frame body
    requestFrame(3, 1, 1, "hard", Uint8Array.of(0x7f, 0xff, 0xff, 0xff), false),
    // Metadata v12 (flexible): compact array count 2^32-2 as a varint
    requestFrame(3, 12, 1, "hard", Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f), true),
    // a compact string length far past the frame
    requestFrame(3, 12, 1, "hard", Uint8Array.of(0x02, 0x00, 0xff, 0xff, 0xff, 0x7f), true),
    // a truncated varint
    requestFrame(3, 12, 1, "hard", Uint8Array.of(0xff, 0xff), true),
    // tagged fields: 2^31 of them claimed
    requestFrame(3, 12, 1, "hard", Uint8Array.of(0x01, 0x00, 0x00, 0x80, 0x80, 0x80, 0x80, 0x08), true),
    // a negative string length (-5) in a classic request
    requestFrame(3, 1, 1, "hard", Uint8Array.of(0, 0, 0, 1, 0xff, 0xfb), false),
  ];
  Bun.gc(true);
  const before = process.memoryUsage().rss;
  await stderrLines(() => {
    for (let i = 0; i < 200; i++)
      for (const [k, f] of huge.entries()) {
        const c = kafka.connect(`10.3.${k}.${i % 250}:1`);
        c.send(f);
        expect([k, c.closed]).toEqual([k, true]);
        expect(c.take().length).toBe(0);
      }
  });
  Bun.gc(true);
  expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024); // one 2^31-slot array would be 16 GiB
});

test("abandoned long polls leave the partition's waiters when their connections close", async () => {
  const part = kafka.storage.getPartition("idle", 0)!;
  const conns = Array.from({ length: 2000 }, (_, i) => kafka.connect(`10.4.0.1:${i}`));
  for (const [i, c] of conns.entries()) c.send(fetchFrame(i, "idle", 60_000));
  expect(part.waitingFetches).toBe(2000);
  for (const c of conns) c.disconnect();
  expect(part.waitingFetches).toBe(0);
});

test("an append wakes each long poll once, after the produce returns, and answers it", async () => {
  const part = kafka.storage.getPartition("t", 0)!;
  const conns = Array.from({ length: 500 }, (_, i) => kafka.connect(`10.5.0.1:${i}`));
  for (const [i, c] of conns.entries()) c.send(fetchFrame(i, "t", 60_000));
  expect(part.waitingFetches).toBe(500);
  const p = kafka.connect("10.5.0.2:1");
  p.send(Buffer.concat([produceFrame(1, "x"), produceFrame(2, "y")]));
  expect(frames(p.take()).length).toBe(2); // answered before any waiter ran
  expect(part.waitingFetches).toBe(500);
  const answered = await Promise.all(conns.map((c) => c.waitFor(1)));
  expect(part.waitingFetches).toBe(0);
  for (const a of answered) expect(decode(FetchResponse, 12, frames(a)[0]![1]).responses[0].partitions[0].records!.length).toBeGreaterThan(0);
});

/** A broker listening on 127.0.0.1 (port 0), in this process. */
async function listening(overrides: Record<string, string>): Promise<{ broker: Broker; port: number; close(): Promise<void> }> {
  const dir = tempDir();
  const config = buildConfig(new Map(Object.entries({ "log.dirs": dir, listeners: "PLAINTEXT://127.0.0.1:0", ...overrides })));
  const broker = await new Broker(config).start();
  return {
    broker,
    port: broker.listeners.boundPort("PLAINTEXT")!,
    async close() {
      await broker.stop();
      removeDir(dir);
    },
  };
}

const apiVersionsFrame = (corr: number) => requestFrame(18, 3, corr, "hard", Uint8Array.of(2, 0x61, 2, 0x62, 0), true);

/** Resolves when the client sees its connection closed, or false after `ms`. */
async function closedWithin(c: WireClient, ms: number): Promise<boolean> {
  const t = Date.now();
  while (!c.closed && Date.now() - t < ms) await Bun.sleep(10);
  return c.closed;
}

test("max.connections.per.ip (with an override) and max.connections close connections past the limit", async () => {
  const k = await listening({ "max.connections.per.ip": "2", "max.connections": "3" });
  const lines = await stderrLines(async () => {
    const a = await WireClient.connect(k.port);
    const b = await WireClient.connect(k.port);
    const c = await WireClient.connect(k.port);
    expect(await closedWithin(c, 2000)).toBe(true);
    for (const x of [a, b]) {
      x.send(apiVersionsFrame(1));
      expect(await x.readFrame()).not.toBeNull();
    }
    a.close();
    expect(await closedWithin(a, 2000)).toBe(true);
    await Bun.sleep(50); // the broker's close event
    const d = await WireClient.connect(k.port);
    d.send(apiVersionsFrame(2));
    expect(await d.readFrame()).not.toBeNull();
    b.close();
    d.close();
  });
  expect(lines.some((l) => l.includes("max.connections.per.ip 2"))).toBe(true);
  await k.close();
  const k2 = await listening({ "max.connections.per.ip": "1", "max.connections.per.ip.overrides": "127.0.0.1:5", "max.connections": "3" });
  await stderrLines(async () => {
    const cs = await Promise.all([1, 2, 3, 4].map(() => WireClient.connect(k2.port)));
    expect(await closedWithin(cs[3]!, 2000)).toBe(true); // the fourth: max.connections 3, the override lets 127.0.0.1 have 5
    for (const c of cs.slice(0, 3)) {
      c.send(apiVersionsFrame(1));
      expect(await c.readFrame()).not.toBeNull();
      c.close();
    }
  });
  await k2.close();
}, 15_000);

test("connections.max.idle.ms closes an idle connection and one trickling a frame byte by byte, not a busy one", async () => {
  const k = await listening({ "connections.max.idle.ms": "400" });
  const idle = await WireClient.connect(k.port);
  const trickle = await WireClient.connect(k.port);
  const busy = await WireClient.connect(k.port);
  const frame = apiVersionsFrame(1);
  let i = 0;
  let corr = 0;
  const t0 = Date.now();
  // the trickled frame is 20x longer than its bytes take to send within the idle time
  const slow = requestFrame(18, 3, 5, "x".repeat(200), Uint8Array.of(2, 0x61, 2, 0x62, 0), true);
  while (Date.now() - t0 < 1500 && !trickle.closed) {
    if (i < slow.length) trickle.send(slow.subarray(i, ++i));
    busy.send(apiVersionsFrame(++corr));
    expect(await busy.readFrame()).not.toBeNull();
    await Bun.sleep(20);
  }
  expect(idle.closed).toBe(true);
  expect(trickle.closed).toBe(true);
  expect(busy.closed).toBe(false);
  expect(i).toBeLessThan(slow.length);
  busy.send(frame);
  expect(await busy.readFrame()).not.toBeNull();
  busy.close();
  await k.close();
}, 15_000);

/** A client socket that takes no bytes until told to (a consumer that stopped reading). */
class SlowSocket {
  reading = false;
  received = 0;
  paused = false;
  ended = false;
  write(_b: Uint8Array, offset = 0, length = _b.length - offset): number {
    if (!this.reading) return 0;
    this.received += length;
    return length;
  }
  end() {
    this.ended = true;
  }
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
}

test("socket.output.buffer.max.bytes bounds unsent output over all connections; held ones go on when output drains; closed ones release theirs", async () => {
  const k = await startInProcess({ "socket.output.buffer.max.bytes": String(4 << 20) });
  try {
    k.storage.createTopic("big", 1);
    const batch = buildBatch({ records: Array.from({ length: 4 }, () => ({ value: new Uint8Array(200_000).fill(7) })) });
    const scan = validateBatches(batch);
    if (!scan.ok) throw new Error(scan.reason);
    k.storage.getPartition("big", 0)!.append(batch, scan.batches);
    const budget = k.broker.listeners.output;
    const socks = Array.from({ length: 8 }, () => new SlowSocket());
    const conns = socks.map((s, i) => new Connection(s as never, k.broker, `10.6.0.1:${i}`));
    const fetches = Buffer.concat(Array.from({ length: 20 }, (_, i) => fetchFrame(i, "big", 0)));
    for (const c of conns) c.onData(fetches); // 8 x 20 x 800 kB asked for: 128 MB
    expect(budget.total).toBeGreaterThan(4 << 20);
    // past the cap at most one response per connection (each goes on until it has unsent output of its own)
    const bound = (4 << 20) + 8 * (1 << 20);
    expect(budget.total).toBeLessThan(bound); // without the cap: 128 MB
    expect(socks.filter((s) => s.paused).length).toBeGreaterThan(0);
    // one consumer reads again: output drains, the held connections answer the rest of their requests
    socks[0]!.reading = true;
    conns[0]!.onDrain();
    expect(socks[0]!.received).toBeGreaterThan(0);
    for (let round = 0; round < 200 && socks[0]!.received < 20 * 800_000; round++) {
      for (const [i, c] of conns.entries()) if (i === 0) c.onDrain();
      await new Promise((r) => setImmediate(r));
    }
    expect(socks[0]!.received).toBeGreaterThan(20 * 800_000); // all of its 20 responses
    expect(budget.total).toBeLessThan(bound);
    // the non-readers leave: their buffers go
    for (const c of conns) c.onClose();
    expect(budget.total).toBe(0);
  } finally {
    await k.close();
  }
});

/** CPU time (user + system) the process has used, in clock ticks, from /proc/<pid>/stat. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from 3 on; the name may hold spaces
  return Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
}

/** Resolves once `cond` holds, or false after `ms` (the broker's output is read as it comes). */
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const t = Date.now();
  while (!cond() && Date.now() - t < ms) await Bun.sleep(20);
  return cond();
}

test.skipIf(!existsSync("/proc/self/fd"))("at the file-descriptor limit ./kafka logs one line, holds off accepting without spinning, serves its connections, and accepts again once they close", async () => {
  const dir = tempDir();
  const k = await startKafka(dir, [], 10000, { fileLimit: 128 });
  const held: WireClient[] = [];
  try {
    const first = await WireClient.connect(k.port);
    await createTopic(first, "fd", 1);
    // many more connections than descriptors: each accepted one holds one open
    let refused = 0;
    for (let i = 0; i < 250 && refused < 20; i++) {
      try {
        held.push(await WireClient.connect(k.port));
      } catch {
        refused++;
      }
    }
    const limitLine = /file descriptors open \(RLIMIT_NOFILE\): not accepting connections/;
    expect(await until(() => limitLine.test(k.output()), 5000)).toBe(true);
    // held off, with clients still knocking: the process stays near idle (before the fix accept() failed in a loop at full CPU)
    const hz = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;
    const cpu0 = cpuTicks(k.proc.pid);
    const t0 = Date.now();
    while (Date.now() - t0 < 2000) {
      try {
        held.push(await WireClient.connect(k.port));
      } catch {
        refused++;
      }
      await Bun.sleep(50);
    }
    const used = (cpuTicks(k.proc.pid) - cpu0) / hz;
    expect(used).toBeLessThan(0.6); // seconds of CPU in a 2 s window; a spinning accept loop uses about 2
    expect(refused).toBeGreaterThan(0);
    expect(k.output().split("\n").filter((l) => limitLine.test(l)).length).toBe(1);
    // connections accepted before the limit are served: ApiVersions, a produce, a fetch of it
    const av = await call(first, ApiVersionsRequest, ApiVersionsResponse, 3, { clientSoftwareName: "fd", clientSoftwareVersion: "1" });
    expect(av.errorCode).toBe(0);
    const p = await produce(first, "fd", 0, ["a", "b"], 1);
    expect(p.errorCode).toBe(0);
    const alive = held.filter((c) => !c.closed);
    expect(alive.length).toBeGreaterThan(50);
    const other = alive[alive.length - 1]!;
    const p2 = await produce(other, "fd", 0, ["c"], 1);
    expect(p2.errorCode).toBe(0);
    expect((await fetchAll(other, "fd", 0)).records).toEqual([
      [0, "a"],
      [1, "b"],
      [2, "c"],
    ]);
    // the connections close: the broker listens again and a new client is served
    for (const c of held) c.close();
    expect(await until(() => /file descriptors open: accepting connections again/.test(k.output()), 10000)).toBe(true);
    const late = await WireClient.connect(k.port);
    const av2 = await call(late, ApiVersionsRequest, ApiVersionsResponse, 3, { clientSoftwareName: "fd", clientSoftwareVersion: "1" });
    expect(av2.errorCode).toBe(0);
    expect((await fetchAll(late, "fd", 0)).records.length).toBe(3);
    late.close();
    first.close();
    expect(await k.stop()).toBe(0);
  } finally {
    for (const c of held) c.close();
    k.proc.kill("SIGKILL");
    removeDir(dir);
  }
}, 30_000);
