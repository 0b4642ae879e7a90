// Idempotent producers, in process: InitProducerId hands out fresh ids (never
// reused, also after a restart), and Produce checks each partition's producer
// state: a duplicate of a recent batch is stored once and answered with the
// original base offset, a sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER (45),
// an older epoch INVALID_PRODUCER_EPOCH (47), a new epoch must start at 0.
// The state survives a restart in Kafka's <offset>.snapshot files (golden
// bytes here; Kafka's DumpLogSegments reads them in kafka-tools.test.ts):
// written at rolls, on close and at start-up, loaded (one batch per producer,
// as Kafka keeps) with the batches after them; corrupt, stray and too new
// ones handled as Kafka does; deleted with their segments. Idle producers
// expire after producer.id.expiration.ms, checked every
// producer.id.expiration.check.interval.ms.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PartitionInfo } from "../src/metadata/image.ts";
import { decode, encode } from "../src/protocol/codec.ts";
import { InitProducerIdRequest, InitProducerIdResponse } from "../src/protocol/messages/init-producer-id.ts";
import { ProduceRequest, ProduceResponse } from "../src/protocol/messages/produce.ts";
import type { MessageDef } from "../src/protocol/schema.ts";
import { validateBatches } from "../src/records/batch.ts";
import { crc32c } from "../src/records/crc32c.ts";
import { buildBatch } from "../src/records/record.ts";
import { Partition, type PartitionOpenOptions } from "../src/storage/partition.ts";
import { CorruptSnapshotError, decodeProducerSnapshot, encodeProducerSnapshot, readProducerSnapshot, snapshotPath, writeProducerSnapshot } from "../src/storage/producer-snapshot.ts";
import { decrementSequence, incrementSequence, ProducerState } from "../src/storage/producer-state.ts";
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

function batch(pid: number, epoch: number, seq: number, n = 1, tag = "v", baseTimestamp = 1_700_000_000_000): Uint8Array {
  return buildBatch({
    baseTimestamp,
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
    expect(decrementSequence(1, 2)).toBe(2147483647);
    expect(decrementSequence(9, 4)).toBe(5);
  });

  test("an entry with no batch (a snapshot's lastOffset -1) continues at sequence 0 of its epoch, as Kafka's checkSequence", () => {
    const s = new ProducerState();
    s.loadEntry({ producerId: 3, epoch: 2, lastSequence: -1, lastOffset: -1, offsetDelta: 0, timestamp: 0, coordinatorEpoch: -1, currentTxnFirstOffset: -1 });
    expect(s.check(3, 2, 5, 0).kind).toBe("error");
    expect(s.check(3, 2, 0, 0)).toEqual({ kind: "append" });
    expect(s.check(3, 1, 0, 0).kind).toBe("error");
  });

  test("expiration: idle since the last batch's timestamp for producer.id.expiration.ms or more; never with an open transaction", () => {
    const s = new ProducerState();
    s.update(1, 0, 0, 0, 0, 1000);
    s.update(2, 0, 0, 1, 0, 5000);
    s.loadEntry({ producerId: 3, epoch: 0, lastSequence: 0, lastOffset: 2, offsetDelta: 0, timestamp: 0, coordinatorEpoch: 1, currentTxnFirstOffset: 2 });
    expect(s.removeExpired(5999, 5000)).toBe(0);
    expect(s.removeExpired(6000, 5000)).toBe(1); // 6000 - 1000 >= 5000
    expect([s.epochOf(1), s.epochOf(2), s.epochOf(3)]).toEqual([undefined, 0, 0]);
    expect(s.removeExpired(1e12, 5000)).toBe(1);
    expect(s.size).toBe(1); // the one in a transaction stays
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
  test("producer ids are not reused and the last batch is still recognised as a duplicate after a clean restart", async () => {
    const dir = tempDir();
    try {
      let kafka = await startInProcess({}, dir);
      kafka.storage.createTopic(TOPIC, 1);
      const { producerId: pid } = await initProducerId(kafka);
      // recent timestamps: a producer whose last batch is older than producer.id.expiration.ms (a day) is not loaded
      const now = Date.now();
      const first = await produce(kafka, batch(pid, 0, 0, 2, "v", now));
      const second = await produce(kafka, batch(pid, 0, 2, 1, "v", now));
      expect(second.baseOffset).toBe(first.baseOffset + 2);
      kafka.broker.stopping = true;
      await kafka.broker.stop();

      kafka = await startInProcess({}, dir);
      try {
        const end = leo(kafka);
        // a clean stop wrote the snapshot at the log end: it keeps each producer's last batch only, as Kafka's does
        expect(kafka.storage.getPartition(TOPIC, 0)!.snapshotOffsets).toEqual([end]);
        expect(await produce(kafka, batch(pid, 0, 2, 1, "v", now))).toEqual(second);
        expect(await produce(kafka, batch(pid, 0, 0, 2, "v", now))).toEqual({ errorCode: 45, baseOffset: -1 });
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

// ---------------------------------------------------------------------------
// snapshots, on one Partition opened directly

const INFO: PartitionInfo = { partition: 0, leader: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1], isr: [1] };
const PID = 7;
/** batch timestamps within producer.id.expiration.ms (a day): older producers are not loaded from a snapshot */
const NOW = Date.now();

describe("producer state snapshots", () => {
  let dir: string;
  let pdir: string;
  let warnings: string[];
  const open: Partition[] = [];
  beforeEach(() => {
    dir = tempDir("idem-snap-");
    pdir = join(dir, "t-0");
    warnings = [];
  });
  afterEach(() => {
    for (const p of open.splice(0)) if (!p.isClosed) p.log.close();
    removeDir(dir);
  });

  /** ~85 bytes a batch: a 200-byte segment holds two */
  const openPartition = (opts: Partial<PartitionOpenOptions> = {}): Partition => {
    const p = Partition.open(pdir, "t", INFO, { segmentBytes: 200, topicId: new Uint8Array(16).fill(3), warn: (m) => warnings.push(m), ...opts });
    open.push(p);
    return p;
  };
  const append = (p: Partition, bytes: Uint8Array) => {
    const scan = validateBatches(bytes);
    if (!scan.ok) throw new Error(scan.reason);
    return p.append(bytes, scan.batches);
  };
  /** seqs from..to-1 of PID, one single-record batch each */
  const produceSeqs = (p: Partition, from: number, to: number) => {
    for (let q = from; q < to; q++) expect(append(p, batch(PID, 0, q, 1, "v", NOW)).errorCode).toBe(0);
  };
  /** what a retry of seq q answers: the original offset, or an error code */
  const retry = (p: Partition, q: number) => {
    const r = append(p, batch(PID, 0, q, 1, "v", NOW));
    return r.duplicate ? `dup@${r.baseOffset}` : r.errorCode === 0 ? "appended" : `error ${r.errorCode}`;
  };
  /** a crash: the log's files close without the shutdown snapshot */
  const crash = (p: Partition) => p.log.close();
  const snapshotFiles = () => readdirSync(pdir).filter((n) => n.endsWith(".snapshot")).sort();

  test("the file is Kafka's ProducerSnapshot v1: version, CRC-32C of the rest, the entries (golden bytes)", () => {
    // no entries: version 1, crc32c(00000000) = 48674bc7, count 0
    expect(Buffer.from(encodeProducerSnapshot([])).toString("hex")).toBe("0001" + "48674bc7" + "00000000");
    const body =
      "00000001" + // one entry
      "00000000000003e8" + // producer id 1000
      "0003" + // epoch 3
      "00000009" + // last sequence 9
      "0000000000000029" + // last offset 41
      "00000004" + // offset delta 4
      "0000018bcfe5687b" + // timestamp 1700000000123
      "ffffffff" + // coordinator epoch -1
      "ffffffffffffffff"; // current txn first offset -1
    const crc = crc32c(Buffer.from(body, "hex")).toString(16).padStart(8, "0");
    const entry = { producerId: 1000, epoch: 3, lastSequence: 9, lastOffset: 41, offsetDelta: 4, timestamp: 1700000000123, coordinatorEpoch: -1, currentTxnFirstOffset: -1 };
    const bytes = encodeProducerSnapshot([entry]);
    expect(Buffer.from(bytes).toString("hex")).toBe("0001" + crc + body);
    expect(decodeProducerSnapshot(bytes)).toEqual([entry]);
    // corrupt: a flipped byte (CRC), another version, cut short, a negative count
    const flipped = bytes.slice();
    flipped[20]! ^= 1;
    expect(() => decodeProducerSnapshot(flipped)).toThrow(/CRC is no longer valid/);
    const v2 = bytes.slice();
    v2[1] = 2;
    expect(() => decodeProducerSnapshot(v2)).toThrow(/unknown file version 2/);
    expect(() => decodeProducerSnapshot(bytes.subarray(0, 30))).toThrow(CorruptSnapshotError);
    expect(() => decodeProducerSnapshot(new Uint8Array([0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]))).toThrow(CorruptSnapshotError);
  });

  test("a roll snapshots the state at the new segment's base; a clean close at the log end", () => {
    const p = openPartition();
    produceSeqs(p, 0, 10);
    const bases = p.log.segmentBaseOffsets;
    expect(bases.length).toBeGreaterThan(3);
    expect(p.snapshotOffsets).toEqual(bases.slice(1));
    for (const b of bases.slice(1)) {
      // the state up to (not including) the base: the producer's last batch is offset b - 1, seq b - 1
      expect(readProducerSnapshot(snapshotPath(pdir, b))).toEqual([
        { producerId: PID, epoch: 0, lastSequence: b - 1, lastOffset: b - 1, offsetDelta: 0, timestamp: NOW, coordinatorEpoch: -1, currentTxnFirstOffset: -1 },
      ]);
    }
    p.flush();
    p.close();
    expect(snapshotFiles()).toEqual([...bases.slice(1), 10].map((o) => `${String(o).padStart(20, "0")}.snapshot`));
    expect(readProducerSnapshot(snapshotPath(pdir, 10))[0]).toMatchObject({ lastSequence: 9, lastOffset: 9 });
  });

  test("after a clean close only each producer's last batch is a duplicate (the snapshot holds one), and no batch is scanned", () => {
    const p = openPartition();
    produceSeqs(p, 0, 10);
    p.close();
    const q = openPartition();
    expect(q.snapshotOffsets.at(-1)).toBe(10);
    expect(retry(q, 9)).toBe("dup@9");
    // a full scan would know seqs 5-8 as duplicates: the batches before the snapshot were not applied
    expect(retry(q, 8)).toBe("error 45");
    expect(retry(q, 10)).toBe("appended");
    expect(warnings).toEqual([]);
  });

  test("after a crash the newest snapshot plus the batches after it rebuild the state; a snapshot at the log end is written", () => {
    const p = openPartition();
    produceSeqs(p, 0, 11);
    const lastBase = p.log.segmentBaseOffsets.at(-1)!;
    crash(p);
    expect(snapshotFiles().at(-1)).toBe(`${String(lastBase).padStart(20, "0")}.snapshot`);
    const q = openPartition();
    expect(q.snapshotOffsets.at(-1)).toBe(11);
    // the snapshot's batch (lastBase - 1) and every batch scanned after it
    for (let s = lastBase - 1; s < 11; s++) expect(retry(q, s)).toBe(`dup@${s}`);
    expect(retry(q, lastBase - 2)).toBe("error 45");
    expect(warnings).toEqual([]);
  });

  test("a corrupt newest snapshot is deleted with a warning and the one before is used", () => {
    const p = openPartition();
    produceSeqs(p, 0, 11);
    const [prevBase, lastBase] = p.log.segmentBaseOffsets.slice(-2) as [number, number];
    crash(p);
    const newest = snapshotPath(pdir, lastBase);
    const bytes = readFileSync(newest);
    bytes[bytes.length - 1]! ^= 0xff;
    writeFileSync(newest, bytes);
    const q = openPartition();
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toContain(`Failed to load producer snapshot from '${newest}': Snapshot is corrupt (CRC is no longer valid)`);
    // rebuilt from prevBase: the newest is written again on the way through the last segment, then the log end
    expect(q.snapshotOffsets.slice(-2)).toEqual([lastBase, 11]);
    expect(readProducerSnapshot(newest)[0]).toMatchObject({ lastSequence: lastBase - 1 });
    for (let s = prevBase - 1; s < 11; s++) expect(retry(q, s)).toBe(`dup@${s}`);
  });

  test("a snapshot above the log end is deleted; an older one and its batches, read again, give the state", () => {
    const p = openPartition();
    produceSeqs(p, 0, 11);
    crash(p);
    // as if the log's tail had been cut after this snapshot was written: another epoch there
    writeProducerSnapshot(snapshotPath(pdir, 500), [{ producerId: PID, epoch: 9, lastSequence: 99, lastOffset: 499, offsetDelta: 0, timestamp: Date.now(), coordinatorEpoch: -1, currentTxnFirstOffset: -1 }], false);
    const q = openPartition();
    expect(existsSync(snapshotPath(pdir, 500))).toBe(false);
    expect(q.producerEpoch(PID)).toBe(0);
    expect(retry(q, 10)).toBe("dup@10");
    expect(retry(q, 11)).toBe("appended");
  });

  test("stray snapshots (at no segment's base) go, but for the newest above the last base; no snapshot for an empty log", () => {
    let p = openPartition();
    p.close();
    expect(snapshotFiles()).toEqual([]);
    p = openPartition();
    produceSeqs(p, 0, 12);
    p.close();
    const bases = p.log.segmentBaseOffsets;
    expect(bases.at(-1)).toBe(10);
    const src = snapshotPath(pdir, 12);
    for (const o of [1, 3, 11]) copyFileSync(src, snapshotPath(pdir, o));
    const q = openPartition();
    // 1 and 3 lie below the last base; of the strays 11 and 12 (the clean close's) only the newest stays
    expect(q.snapshotOffsets).toEqual([...bases.slice(1), 12]);
    expect(snapshotFiles().length).toBe(bases.length);
    expect(retry(q, 11)).toBe("dup@11");
  });

  test("deleting segments deletes the snapshots at their base offsets", () => {
    const p = openPartition();
    produceSeqs(p, 0, 11);
    const bases = p.log.segmentBaseOffsets;
    expect(p.deleteSegmentsBefore(bases[2]!)).toBe(2);
    expect(p.snapshotOffsets).toEqual(bases.slice(2));
    expect(snapshotFiles()).toEqual(bases.slice(2).map((o) => `${String(o).padStart(20, "0")}.snapshot`));
  });

  test("a partition that never saw a producer id gets snapshots with no entries, as Kafka writes them", () => {
    const p = openPartition();
    for (let i = 0; i < 5; i++) append(p, buildBatch({ records: [{ value: new Uint8Array(20) }] }));
    p.close();
    const files = snapshotFiles();
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) expect(Buffer.from(readFileSync(join(pdir, f))).toString("hex")).toBe("000148674bc700000000");
    const q = openPartition();
    expect(q.producerCount).toBe(0);
    expect(q.snapshotOffsets).toEqual(p.snapshotOffsets);
  });

  test("producers expired when the snapshot is loaded are left out; removeExpiredProducers drops idle ones", () => {
    const p = openPartition();
    append(p, batch(1, 0, 0, 1, "v", Date.now() - 10_000));
    append(p, batch(2, 0, 0, 1, "v", Date.now()));
    p.close();
    const q = openPartition({ producerIdExpirationMs: 5_000 });
    expect([q.producerEpoch(1), q.producerEpoch(2)]).toEqual([undefined, 0]);
    expect(q.removeExpiredProducers(Date.now() + 60_000, 5_000)).toBe(1);
    expect(q.producerCount).toBe(0);
    // an expired producer is an unknown one: any sequence
    expect(append(q, batch(2, 0, 17)).errorCode).toBe(0);
  });
});

describe("producer.id.expiration.ms (in process)", () => {
  test("an idle producer id is dropped at the periodic check; its next batch is then accepted at any sequence", async () => {
    const kafka = await startInProcess({ "producer.id.expiration.ms": "60000", "producer.id.expiration.check.interval.ms": "20" });
    try {
      kafka.storage.createTopic(TOPIC, 1);
      const { producerId: idle } = await initProducerId(kafka);
      const { producerId: busy } = await initProducerId(kafka);
      // the last batch's timestamp is what expiration measures from: two minutes ago
      expect((await produce(kafka, batch(idle, 0, 0, 1, "v", Date.now() - 120_000))).errorCode).toBe(0);
      expect((await produce(kafka, batch(busy, 0, 0, 1, "v", Date.now()))).errorCode).toBe(0);
      // wait for the check that removes it (the storage's timer calls removeExpiredProducers)
      const storage = kafka.storage;
      const check = storage.removeExpiredProducers.bind(storage);
      await new Promise<void>((resolve) => {
        storage.removeExpiredProducers = (now: number) => {
          const n = check(now);
          if (n > 0) resolve();
          return n;
        };
      });
      const part = storage.getPartition(TOPIC, 0)!;
      expect([part.producerEpoch(idle), part.producerEpoch(busy)]).toEqual([undefined, 0]);
      // unknown now: a non-zero sequence is accepted, as Kafka 4.4 does; the other still gets 45 for a gap
      expect((await produce(kafka, batch(idle, 0, 42))).errorCode).toBe(0);
      expect((await produce(kafka, batch(busy, 0, 5))).errorCode).toBe(45);
    } finally {
      await kafka.close();
    }
  }, 10_000);

  test("a cluster-wide dynamic value applies at the next check", async () => {
    const kafka = await startInProcess({ "producer.id.expiration.check.interval.ms": "600000" });
    try {
      kafka.storage.createTopic(TOPIC, 1);
      const { producerId: pid } = await initProducerId(kafka);
      expect((await produce(kafka, batch(pid, 0, 0, 1, "v", Date.now() - 10_000))).errorCode).toBe(0);
      expect(kafka.storage.removeExpiredProducers(Date.now())).toBe(0); // the default: a day
      kafka.storage.metadata.writeConfigRecords([{ resourceType: 4, resourceName: "", name: "producer.id.expiration.ms", value: "5000" }]);
      expect(kafka.storage.removeExpiredProducers(Date.now())).toBe(1);
    } finally {
      await kafka.close();
    }
  });
});
