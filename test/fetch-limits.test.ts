// Fetch size limits: the client's max_bytes and partition_max_bytes are byte
// counts (the records may end in a partial batch, as Kafka's do), while the
// broker's own 1 MiB response cap ends at a batch boundary, so a client asking
// for more never gets bytes it must throw away.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decode, encode } from "../src/protocol/codec.ts";
import { FetchRequest, FetchResponse } from "../src/protocol/messages/fetch.ts";
import { validateBatches } from "../src/records/batch.ts";
import { buildBatch } from "../src/records/record.ts";
import { requestFrame, startInProcess, type InProcessBroker } from "./helpers.ts";

const BATCHES = 15;
let kafka: InProcessBroker;
let batchSize = 0;
beforeAll(async () => {
  kafka = await startInProcess();
  kafka.storage.createTopic("limits", 1);
  const part = kafka.storage.getPartition("limits", 0)!;
  for (let i = 0; i < BATCHES; i++) {
    const batch = buildBatch({ records: [{ value: new Uint8Array(100_000).fill(i) }] });
    batchSize = batch.length;
    const scan = validateBatches(batch);
    if (!scan.ok) throw new Error(scan.reason);
    part.append(batch, scan.batches);
  }
});
afterAll(() => kafka.close());

async function fetchBytes(maxBytes: number, partitionMaxBytes: number): Promise<number> {
  const conn = kafka.connect();
  const body = encode(FetchRequest, 12, {
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes,
    topics: [{ topic: "limits", topicId: new Uint8Array(16), partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes }] }],
    forgottenTopicsData: [],
  });
  conn.send(requestFrame(1, 12, 1, "limits", body, true));
  let out = await conn.waitFor(4);
  const size = new DataView(out.buffer, out.byteOffset).getInt32(0);
  if (out.length < 4 + size) out = Buffer.concat([out, await conn.waitFor(4 + size - out.length)]);
  const res = decode(FetchResponse, 12, out.subarray(9, 4 + size));
  return res.responses[0]!.partitions[0]!.records?.length ?? 0;
}

describe("fetch limits", () => {
  test("a client asking for more than the broker's 1 MiB cap gets whole batches only", async () => {
    const got = await fetchBytes(50 << 20, 50 << 20);
    expect(got % batchSize).toBe(0);
    expect(got).toBeLessThanOrEqual(1 << 20);
    expect(got).toBeGreaterThan((1 << 20) - batchSize);
  });

  test("the client's partition_max_bytes is a byte count: whole batches, then part of the next", async () => {
    expect(await fetchBytes(50 << 20, 2 * batchSize + 500)).toBe(2 * batchSize + 500);
  });

  test("the client's max_bytes likewise; the first batch is whole even when larger", async () => {
    expect(await fetchBytes(batchSize + 7, 50 << 20)).toBe(batchSize + 7);
    expect(await fetchBytes(10, 50 << 20)).toBe(batchSize);
  });
});

describe("fetch limits: the clients' default", () => {
  test("partition_max_bytes of 1 MiB (equal to the broker's cap) ends at a batch", async () => {
    const got = await fetchBytes(50 << 20, 1 << 20);
    expect(got % batchSize).toBe(0);
    expect(got).toBeGreaterThan((1 << 20) - batchSize);
  });
});
