// Mutated frames thrown at the real connection handling (framing, headers,
// codec, handlers, storage): every one must end in a response or a closed
// connection, never an exception, and the broker must keep serving others.

import { afterAll, beforeAll, expect, spyOn, test } from "bun:test";
import { log } from "../src/log.ts";
import { encode, isFlexible } from "../src/protocol/codec.ts";
import type { MessageDef } from "../src/protocol/schema.ts";
import { ApiVersionsRequest } from "../src/protocol/messages/api-versions.ts";
import { MetadataRequest } from "../src/protocol/messages/metadata.ts";
import { ProduceRequest } from "../src/protocol/messages/produce.ts";
import { FetchRequest } from "../src/protocol/messages/fetch.ts";
import { ListOffsetsRequest } from "../src/protocol/messages/list-offsets.ts";
import { DescribeTopicPartitionsRequest } from "../src/protocol/messages/describe-topic-partitions.ts";
import { buildBatch } from "../src/records/record.ts";
import { requestFrame, startInProcess, type InProcessBroker, type Msg } from "./helpers.ts";

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startInProcess({ "num.partitions": "2" });
  kafka.storage.createTopic("fz", 2);
});
afterAll(() => kafka.close());

/** xorshift32: the same mutations on every run */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

function seeds(): { def: MessageDef; version: number; body: Msg }[] {
  const batch = buildBatch({ records: [{ key: new Uint8Array([1]), value: new Uint8Array(20), headers: [{ key: "h", value: new Uint8Array([2]) }] }] });
  const out: { def: MessageDef; version: number; body: Msg }[] = [];
  for (const v of [0, 3, 4]) out.push({ def: ApiVersionsRequest, version: v, body: { clientSoftwareName: "fz", clientSoftwareVersion: "1" } });
  for (const v of [1, 9, 12]) out.push({ def: MetadataRequest, version: v, body: { topics: [{ name: "fz", topicId: new Uint8Array(16) }], allowAutoTopicCreation: false } });
  for (const v of [3, 9, 11]) out.push({ def: ProduceRequest, version: v, body: { transactionalId: null, acks: 1, timeoutMs: 100, topicData: [{ name: "fz", partitionData: [{ index: 0, records: batch }] }] } });
  for (const v of [4, 12, 13, 17])
    out.push({
      def: FetchRequest,
      version: v,
      body: { maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, topics: [{ topic: "fz", topicId: kafka.broker.topic("fz")!.id, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }] },
    });
  for (const v of [0, 5, 8]) out.push({ def: ListOffsetsRequest, version: v, body: { replicaId: -1, topics: [{ name: "fz", partitions: [{ partitionIndex: 0, timestamp: -1 }] }] } });
  out.push({ def: DescribeTopicPartitionsRequest, version: 0, body: { topics: [{ name: "fz" }], responsePartitionLimit: 10, cursor: null } });
  return out;
}

test("3,000 mutated frames: each answered or closed, no exception, broker still serves", async () => {
  const random = rng(0x6b61666b);
  const frames = seeds().map((s) => requestFrame(s.def.apiKey!, s.version, 7, "fuzz", encode(s.def, s.version, s.body), isFlexible(s.def, s.version)));
  let closed = 0;
  let answered = 0;
  // one warning per closed connection is the broker's job; keep them out of the test output
  const warn = spyOn(log, "warn").mockImplementation(() => {});
  const info = spyOn(log, "info").mockImplementation(() => {});
  for (let i = 0; i < 3000; i++) {
    const f = frames[i % frames.length]!.slice();
    const flips = 1 + Math.floor(random() * 4);
    for (let k = 0; k < flips; k++) {
      // keep the size prefix mostly sane so the body, not just framing, gets exercised
      const at = 4 + Math.floor(random() * (f.length - 4));
      f[at] = Math.floor(random() * 256);
    }
    const cut = random() < 0.2 ? 4 + Math.floor(random() * (f.length - 4)) : f.length;
    const bytes = f.subarray(0, cut);
    if (cut < f.length) new DataView(bytes.buffer).setInt32(0, cut - 4);
    const conn = kafka.connect();
    expect(() => conn.send(bytes)).not.toThrow();
    if (conn.closed) closed++;
    else answered++;
  }
  warn.mockRestore();
  info.mockRestore();
  expect(closed + answered).toBe(3000);
  expect(closed).toBeGreaterThan(0);
  expect(answered).toBeGreaterThan(0);
  // the broker still answers a good request on a new connection
  const conn = kafka.connect();
  conn.send(requestFrame(18, 0, 99, "after", new Uint8Array(0), false));
  const res = await conn.waitFor(10);
  expect(new DataView(res.buffer, res.byteOffset).getInt32(4)).toBe(99);
  expect(new DataView(res.buffer, res.byteOffset).getInt16(8)).toBe(0);
});
