// Bad input on one connection: the requests before a bad frame are answered
// before the connection ends; a client sending thousands of bad frames writes
// a bounded number of log lines; lengths and counts that lie are refused
// without allocating; abandoned long polls leave the partition's waiters at once.

import { afterEach, beforeEach, expect, test } from "bun:test";
import { decode, encode } from "../src/protocol/codec.ts";
import { FetchRequest, FetchResponse } from "../src/protocol/messages/fetch.ts";
import { ProduceRequest, ProduceResponse } from "../src/protocol/messages/produce.ts";
import { buildBatch } from "../src/records/record.ts";
import { requestFrame, startInProcess, type InProcessBroker } from "./helpers.ts";

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
