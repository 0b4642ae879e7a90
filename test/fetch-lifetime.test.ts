// A fetch response holds the records it carries until it is encoded or
// dropped: queued behind a long-poll on the same connection, it still sends
// its own bytes when its log is deleted meanwhile, never another file's
// through a reused descriptor, and every descriptor is closed in the end.

import { afterEach, beforeEach, expect, test } from "bun:test";
import { closeSync, existsSync, openSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decode, encode } from "../src/protocol/codec.ts";
import { FetchRequest, FetchResponse } from "../src/protocol/messages/fetch.ts";
import { validateBatches } from "../src/records/batch.ts";
import { buildBatch } from "../src/records/record.ts";
import { Connection } from "../src/net/connection.ts";
import { requestFrame, startInProcess, type InProcessBroker } from "./helpers.ts";

const openFds = () => readdirSync("/proc/self/fd").length;
const tick = () => new Promise((r) => setTimeout(r, 10));
/** Waits (bounded) for an asynchronous removal to be done. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await tick();
}

class Socket {
  received: Uint8Array[] = [];
  write(b: Uint8Array, offset = 0, length = b.length - offset): number {
    this.received.push(b.slice(offset, offset + length));
    return length;
  }
  end() {}
  pause() {}
  resume() {}
  /** Whole response frames so far: [correlation id, body after the v1 header]. */
  frames(): [number, Uint8Array][] {
    const all = Buffer.concat(this.received);
    const out: [number, Uint8Array][] = [];
    for (let p = 0; p + 4 <= all.length; ) {
      const size = all.readInt32BE(p);
      if (p + 4 + size > all.length) break;
      out.push([all.readInt32BE(p + 4), new Uint8Array(all.subarray(p + 9, p + 4 + size))]); // corr + empty tagged fields
      p += 4 + size;
    }
    return out;
  }
}

function fetchFrame(corr: number, topic: string, maxWaitMs: number): Uint8Array {
  const body = encode(FetchRequest, 12, {
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1 << 20,
    topics: [{ topic, topicId: new Uint8Array(16), partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [],
  });
  return requestFrame(1, 12, corr, "held", body, true);
}

function append(topic: string, fill: number): Uint8Array {
  const batch = buildBatch({ records: [{ value: new Uint8Array(1000).fill(fill) }] });
  const scan = validateBatches(batch);
  if (!scan.ok) throw new Error(scan.reason);
  kafka.storage.getPartition(topic, 0)!.append(batch, scan.batches);
  return batch; // as written: offset and leader epoch set in place
}

let kafka: InProcessBroker;
beforeEach(async () => {
  kafka = await startInProcess();
  kafka.storage.createTopic("idle", 1);
  kafka.storage.createTopic("data", 1);
});
afterEach(() => kafka.close());

test("a response queued behind a long-poll sends its own bytes after its log is deleted; descriptors all close", async () => {
  const written = append("data", 0xab);
  const before = openFds();
  const sock = new Socket();
  const conn = new Connection(sock as never, kafka.broker, "held");
  conn.onData(Buffer.concat([fetchFrame(1, "idle", 10_000), fetchFrame(2, "data", 0)]));
  expect(sock.frames()).toEqual([]); // the second is answered but waits behind the first

  const deleted = kafka.storage.deletePartition("data", 0)!;
  expect(deleted).toMatch(/data-0\.[0-9a-f]{32}-delete$/);
  expect(kafka.storage.getPartition("data", 0)).toBeUndefined();
  // new files where the old ones were: they would take freed descriptor numbers
  const stranger = openSync(join(kafka.dir, "stranger"), "w+");
  writeFileSync(stranger, new Uint8Array(4096).fill(0xee));
  kafka.storage.createTopic("data2", 1);
  append("data2", 0xcd);

  append("idle", 0x11); // answers the long-poll
  for (let i = 0; i < 100 && sock.frames().length < 2; i++) await tick();
  const frames = sock.frames();
  expect(frames.map(([corr]) => corr)).toEqual([1, 2]);
  const res = decode(FetchResponse, 12, frames[1]![1]);
  expect(res.responses[0].partitions[0].errorCode).toBe(0);
  expect(Buffer.from(res.responses[0].partitions[0].records ?? [])).toEqual(Buffer.from(written));

  closeSync(stranger);
  await until(() => !existsSync(deleted));
  expect(existsSync(deleted)).toBe(false); // removed once the response let go
  conn.onClose();
  const data2 = kafka.storage.deletePartition("data2", 0)!; // its descriptors were opened after `before`
  await until(() => !existsSync(data2)); // the removal runs in the background
  // data-0's segment and its two index files (open while it was the active segment), open before, are closed too
  expect(openFds()).toBe(before - 3);
}, 5000);

test("a response dropped unencoded (connection closed) lets go of its segments", async () => {
  append("data", 1);
  const before = openFds();
  const sock = new Socket();
  const conn = new Connection(sock as never, kafka.broker, "held");
  conn.onData(Buffer.concat([fetchFrame(1, "idle", 10_000), fetchFrame(2, "data", 0), fetchFrame(3, "data", 0)]));
  const deleted = kafka.storage.deletePartition("data", 0)!;
  // the segment stays open for the two held responses; its index files close with the log
  expect(openFds()).toBe(before - 2);
  expect(existsSync(deleted)).toBe(true);
  conn.onClose();
  await until(() => !existsSync(deleted));
  expect(openFds()).toBe(before - 3);
  expect(existsSync(deleted)).toBe(false);
  expect(sock.frames()).toEqual([]);
}, 5000);

test("a long-poll on a log deleted under it answers UNKNOWN_TOPIC_OR_PARTITION", async () => {
  const sock = new Socket();
  const conn = new Connection(sock as never, kafka.broker, "held");
  conn.onData(fetchFrame(1, "idle", 10_000));
  kafka.storage.deletePartition("idle", 0);
  for (let i = 0; i < 100 && sock.frames().length < 1; i++) await tick();
  const res = decode(FetchResponse, 12, sock.frames()[0]![1]);
  expect(res.responses[0].partitions[0].errorCode).toBe(3);
  conn.onClose();
}, 5000);
