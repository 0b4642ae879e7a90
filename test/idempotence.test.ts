// Idempotent producers, in process: InitProducerId hands out fresh ids (never
// reused, also after a restart), and Produce checks each partition's producer
// state: a duplicate of a recent batch is stored once and answered with the
// original base offset, a sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER (45),
// an older epoch INVALID_PRODUCER_EPOCH (47), a new epoch must start at 0;
// the state is rebuilt from the log when the partition opens again.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decode, encode } from "../src/protocol/codec.ts";
import { InitProducerIdRequest, InitProducerIdResponse } from "../src/protocol/messages/init-producer-id.ts";
import { ProduceRequest, ProduceResponse } from "../src/protocol/messages/produce.ts";
import type { MessageDef } from "../src/protocol/schema.ts";
import { buildBatch } from "../src/records/record.ts";
import { incrementSequence, ProducerState } from "../src/storage/producer-state.ts";
import { removeDir, requestFrame, startInProcess, tempDir, type InProcessBroker, type Msg } from "./helpers.ts";

const TOPIC = "idem";
let corr = 0;

async function call(kafka: InProcessBroker, req: MessageDef, res: MessageDef, v: number, body: Msg): Promise<Msg> {
  const conn = kafka.connect();
  const id = ++corr;
  const flexible = v >= (req.apiKey === 0 ? 9 : 2);
  conn.send(requestFrame(req.apiKey!, v, id, "idem", encode(req, v, body), flexible));
  let out = await conn.waitFor(4);
  const size = new DataView(out.buffer, out.byteOffset).getInt32(0);
  if (out.length < 4 + size) out = Buffer.concat([out, await conn.waitFor(4 + size - out.length)]);
  return decode(res, v, out.subarray(flexible ? 9 : 8, 4 + size));
}

function initProducerId(kafka: InProcessBroker, v = 4, body: Msg = {}): Promise<Msg> {
  return call(kafka, InitProducerIdRequest, InitProducerIdResponse, v, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1, ...body });
}

function batch(pid: number, epoch: number, seq: number, n = 1, tag = "v"): Uint8Array {
  return buildBatch({
    baseTimestamp: 1_700_000_000_000,
    producerId: pid,
    producerEpoch: epoch,
    baseSequence: seq,
    records: Array.from({ length: n }, (_, i) => ({ value: new TextEncoder().encode(`${tag}-${seq}-${i}`) })),
  });
}

async function produce(kafka: InProcessBroker, records: Uint8Array, partition = 0): Promise<{ errorCode: number; baseOffset: number }> {
  const res = await call(kafka, ProduceRequest, ProduceResponse, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: TOPIC, partitionData: [{ index: partition, records }] }] });
  const p = res.responses[0].partitionResponses[0];
  lastAppendTime = p.logAppendTimeMs;
  return { errorCode: p.errorCode, baseOffset: p.baseOffset };
}
/** log_append_time_ms of the last produce answer */
let lastAppendTime = 0;

function leo(kafka: InProcessBroker, partition = 0): number {
  return kafka.storage.getPartition(TOPIC, partition)!.logEndOffset;
}

describe("producer state (unit)", () => {
  test("sequences wrap at INT32_MAX to 0", () => {
    expect(incrementSequence(2147483647, 1)).toBe(0);
    expect(incrementSequence(2147483646, 2)).toBe(0);
    expect(incrementSequence(2147483640, 10)).toBe(2);
    expect(incrementSequence(5, 3)).toBe(8);
    const s = new ProducerState();
    s.update(7, 0, 2147483646, 100, 1, 0); // seqs 2147483646..2147483647
    expect(s.check(7, 0, 0, 0)).toEqual({ kind: "append" });
    expect(s.check(7, 0, 1, 0).kind).toBe("error");
    s.update(7, 0, 2147483647, 102, 2, 5); // wraps: 2147483647, 0, 1
    expect(s.check(7, 0, 2, 0)).toEqual({ kind: "append" });
    expect(s.check(7, 0, 2147483647, 2)).toEqual({ kind: "duplicate", baseOffset: 102, timestamp: 5 });
  });

  test("only the last five batches are recognised as duplicates", () => {
    const s = new ProducerState();
    for (let i = 0; i < 6; i++) s.update(1, 0, i, i, 0, 10 + i);
    expect(s.check(1, 0, 0, 0).kind).toBe("error"); // fell out: not a duplicate, and out of order
    for (let i = 1; i < 6; i++) expect(s.check(1, 0, i, 0)).toEqual({ kind: "duplicate", baseOffset: i, timestamp: 10 + i });
    expect(s.check(1, 0, 6, 0)).toEqual({ kind: "append" });
  });
});

describe("idempotent produce (in process)", () => {
  let kafka: InProcessBroker;
  beforeAll(async () => {
    kafka = await startInProcess();
    kafka.storage.createTopic(TOPIC, 2);
  });
  afterAll(() => kafka.close());

  test("InitProducerId: a fresh id at epoch 0 each time", async () => {
    const a = await initProducerId(kafka);
    const b = await initProducerId(kafka);
    expect(a).toMatchObject({ errorCode: 0, producerEpoch: 0 });
    expect(b).toMatchObject({ errorCode: 0, producerEpoch: 0 });
    expect(b.producerId).toBe(a.producerId + 1);
    // KIP-360 bump of a non-transactional producer: just a new id
    const c = await initProducerId(kafka, 4, { producerId: b.producerId, producerEpoch: 0 });
    expect(c).toMatchObject({ errorCode: 0, producerId: b.producerId + 1, producerEpoch: 0 });
    // an id without an epoch (or the reverse) is INVALID_REQUEST
    expect((await initProducerId(kafka, 4, { producerId: 5, producerEpoch: -1 })).errorCode).toBe(42);
    // transactions are not served yet: NOT_COORDINATOR, as Kafka 4.4 answers before __transaction_state exists; "" is INVALID_REQUEST
    expect(await initProducerId(kafka, 4, { transactionalId: "tx" })).toMatchObject({ errorCode: 16, producerId: -1, producerEpoch: -1 });
    expect(await initProducerId(kafka, 4, { transactionalId: "" })).toMatchObject({ errorCode: 42, producerId: -1, producerEpoch: -1 });
  });

  test("a batch sent twice is stored once; both answers carry the same base offset", async () => {
    const { producerId: pid } = await initProducerId(kafka);
    const first = await produce(kafka, batch(pid, 0, 0, 3));
    expect(first.errorCode).toBe(0);
    const end = leo(kafka);
    expect(lastAppendTime).toBe(-1);
    const again = await produce(kafka, batch(pid, 0, 0, 3));
    expect(again).toEqual(first);
    // as Kafka 4.4: a duplicate's log_append_time_ms is the original batch's max timestamp
    expect(lastAppendTime).toBe(1_700_000_000_000);
    expect(leo(kafka)).toBe(end);
    // the next batch goes on
    const next = await produce(kafka, batch(pid, 0, 3, 2));
    expect(next).toEqual({ errorCode: 0, baseOffset: end });
    // an older one of the last five is still a duplicate
    expect(await produce(kafka, batch(pid, 0, 0, 3))).toEqual(first);
    expect(leo(kafka)).toBe(end + 2);
  });

  test("a sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER and writes nothing", async () => {
    const { producerId: pid } = await initProducerId(kafka);
    expect((await produce(kafka, batch(pid, 0, 0, 2))).errorCode).toBe(0);
    const end = leo(kafka);
    expect(await produce(kafka, batch(pid, 0, 5))).toEqual({ errorCode: 45, baseOffset: -1 });
    // overlapping but not the same range: also out of order
    expect((await produce(kafka, batch(pid, 0, 1))).errorCode).toBe(45);
    expect(leo(kafka)).toBe(end);
    expect((await produce(kafka, batch(pid, 0, 2))).errorCode).toBe(0);
  });

  test("an older epoch is INVALID_PRODUCER_EPOCH; a newer epoch must start at 0", async () => {
    const { producerId: pid } = await initProducerId(kafka);
    expect((await produce(kafka, batch(pid, 3, 0))).errorCode).toBe(0);
    expect((await produce(kafka, batch(pid, 2, 1))).errorCode).toBe(47);
    expect((await produce(kafka, batch(pid, 4, 1))).errorCode).toBe(45);
    expect((await produce(kafka, batch(pid, 4, 0))).errorCode).toBe(0);
    expect((await produce(kafka, batch(pid, 3, 1))).errorCode).toBe(47);
  });

  test("an unknown producer id is accepted at any sequence, as Kafka 4.4 does; partitions keep their own state", async () => {
    expect((await produce(kafka, batch(999_999, 0, 42))).errorCode).toBe(0);
    expect((await produce(kafka, batch(999_999, 0, 43))).errorCode).toBe(0);
    expect((await produce(kafka, batch(999_999, 0, 7), 1)).errorCode).toBe(0);
  });

  test("batches without a producer id are never checked", async () => {
    const plain = buildBatch({ records: [{ value: new Uint8Array([1]) }] });
    const a = await produce(kafka, plain);
    const b = await produce(kafka, plain);
    expect(b.baseOffset).toBe(a.baseOffset + 1);
  });
});

describe("idempotence across a restart", () => {
  test("producer ids are not reused and a duplicate is still recognised after the log reopens", async () => {
    const dir = tempDir();
    try {
      let kafka = await startInProcess({}, dir);
      kafka.storage.createTopic(TOPIC, 1);
      const { producerId: pid } = await initProducerId(kafka);
      const first = await produce(kafka, batch(pid, 0, 0, 2));
      const second = await produce(kafka, batch(pid, 0, 2, 1));
      expect(second.baseOffset).toBe(first.baseOffset + 2);
      kafka.broker.stopping = true;
      await kafka.broker.stop();

      kafka = await startInProcess({}, dir);
      try {
        const end = leo(kafka);
        expect(await produce(kafka, batch(pid, 0, 0, 2))).toEqual(first);
        expect(await produce(kafka, batch(pid, 0, 2, 1))).toEqual(second);
        expect(leo(kafka)).toBe(end);
        expect((await produce(kafka, batch(pid, 0, 9))).errorCode).toBe(45);
        expect((await produce(kafka, batch(pid, 0, 3))).errorCode).toBe(0);
        // a new block: above every id handed out before
        const { producerId: next } = await initProducerId(kafka);
        expect(next).toBeGreaterThan(pid);
        expect(next).toBe(1000);
      } finally {
        kafka.broker.stopping = true;
        await kafka.broker.stop();
      }
    } finally {
      removeDir(dir);
    }
  });
});
