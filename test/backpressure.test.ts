// Back-pressure: a client that pipelines fetches but does not read its
// responses must not make the broker buffer without bound. The connection
// stops reading and handling requests past its high-water mark, and picks up
// where it stopped once the client drains the output, answering in order.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { encode } from "../src/protocol/codec.ts";
import { FetchRequest } from "../src/protocol/messages/fetch.ts";
import { validateBatches } from "../src/records/batch.ts";
import { buildBatch } from "../src/records/record.ts";
import { Connection } from "../src/net/connection.ts";
import { requestFrame, startInProcess, type InProcessBroker } from "./helpers.ts";

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startInProcess();
  kafka.storage.createTopic("bp", 1);
  const plog = kafka.storage.getPartition("bp", 0)!;
  // 1 MiB of records: every fetch below is answered with about 1 MiB
  for (let i = 0; i < 8; i++) {
    const batch = buildBatch({ records: [{ value: new Uint8Array(128 * 1024).fill(i) }] });
    const scan = validateBatches(batch);
    if (!scan.ok) throw new Error(scan.reason);
    plog.append(batch, scan.batches);
  }
});
afterAll(() => kafka.close());

/** A socket whose peer reads nothing until told to. */
class SlowSocket {
  received: Uint8Array[] = [];
  accept = 0; // bytes the peer will take
  paused = false;
  pauses = 0;
  write(b: Uint8Array, offset = 0, length = b.length - offset): number {
    const n = Math.min(length, this.accept);
    this.accept -= n;
    if (n > 0) this.received.push(b.slice(offset, offset + n));
    return n;
  }
  pause() {
    this.paused = true;
    this.pauses++;
  }
  resume() {
    this.paused = false;
  }
  end() {}
  get bytes(): number {
    return this.received.reduce((n, b) => n + b.length, 0);
  }
}

test("100 pipelined 1 MiB fetches to a client that reads nothing: output bounded, then all answered in order", () => {
  const sock = new SlowSocket();
  const conn = new Connection(sock as never, kafka.broker, "slow");
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 100; i++) {
    const body = encode(FetchRequest, 12, {
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 64 << 20,
      topics: [{ topic: "bp", topicId: new Uint8Array(16), partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 64 << 20 }] }],
      forgottenTopicsData: [],
    });
    frames.push(requestFrame(1, 12, i, "slow", body, true));
  }
  const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let p = 0;
  for (const f of frames) {
    all.set(f, p);
    p += f.length;
  }
  conn.onData(all);
  // stopped short of answering everything, reading paused, output bounded
  expect(sock.paused).toBe(true);
  const buffered = (conn as unknown as { out: { pos: number } }).out.pos;
  expect(buffered).toBeLessThan(40 << 20);
  expect(buffered).toBeGreaterThan(30 << 20);

  // the client reads 4 MiB at a time; bounded loop
  for (let i = 0; i < 1000 && !(sock.bytes > 0 && !sock.paused && conn.idle && ((conn as unknown as { inLen: number }).inLen === 0)); i++) {
    sock.accept += 4 << 20;
    conn.onDrain();
  }
  expect(sock.pauses).toBeGreaterThanOrEqual(1);
  // every response arrived, whole and in order
  const out = new Uint8Array(sock.bytes);
  let q = 0;
  for (const b of sock.received) {
    out.set(b, q);
    q += b.length;
  }
  const view = new DataView(out.buffer);
  let pos = 0;
  for (let i = 0; i < 100; i++) {
    const size = view.getInt32(pos);
    expect(view.getInt32(pos + 4)).toBe(i);
    expect(size).toBeGreaterThan(768 << 10);
    pos += 4 + size;
  }
  expect(pos).toBe(out.length);
});
