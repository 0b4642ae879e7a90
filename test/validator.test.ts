// Kafka's log validator on produce (src/records/validator.ts, used by
// src/api/00-produce.ts): every lying-header batch of test/lying-batches.ts
// (CRC-valid, contents lying) gets Kafka's error code, record_errors and
// error_message, and nothing of it is written: the next good batch lands at
// the offset it would have had and a read returns only good batches. Good
// batches of every codec pass; message.timestamp.type=LogAppendTime stamps the
// batch; a topic compression.type recompresses to that codec. Against the
// reference Kafka (when available, else skipped) each case's answer is
// compared with Kafka's, except the deviations the cases list with a reason.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decode, encode } from "../src/protocol/codec.ts";
import { ProduceRequest, ProduceResponse } from "../src/protocol/messages/produce.ts";
import { CreateTopicsRequest, CreateTopicsResponse } from "../src/protocol/messages/create-topics.ts";
import { MetadataRequest, MetadataResponse } from "../src/protocol/messages/metadata.ts";
import type { MessageDef } from "../src/protocol/schema.ts";
import { ATTR_COMPRESSION_MASK, ATTR_TIMESTAMP_TYPE, NEGATIVE_COUNT, scanBatches, validateBatches, int64At, OFF_MAX_TIMESTAMP } from "../src/records/batch.ts";
import { Codec } from "../src/records/compression.ts";
import { buildBatch, decodeRecords } from "../src/records/record.ts";
import { validateProducedBatch, type ValidationConfig } from "../src/records/validator.ts";
import { releaseAll, type SegmentRecords } from "../src/storage/segment.ts";
import { requestFrame, startInProcess, WireClient, type InProcessBroker, type Msg } from "./helpers.ts";
import { LYING_CASES, records, type TopicKind } from "./lying-batches.ts";
import { REFERENCE_REQUIRED, referenceUnavailable, sharedReference, stopSharedReference } from "./kafka-ref/reference.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

const TOPIC_CONFIGS: Record<TopicKind, Record<string, string>> = {
  plain: {},
  compact: { "cleanup.policy": "compact" },
  before1h: { "message.timestamp.before.max.ms": "3600000" },
  logAppend: { "message.timestamp.type": "LogAppendTime" },
};
const topicOf = (k: TopicKind) => `v-${k}`;

function unitConfig(kind: TopicKind, now = Date.now()): ValidationConfig {
  return {
    logAppendTime: kind === "logAppend",
    beforeMaxMs: kind === "before1h" ? 3600_000 : Number.MAX_VALUE,
    afterMaxMs: 3600_000,
    compacted: kind === "compact",
    now,
  };
}

describe("validateProducedBatch (unit)", () => {
  for (const c of LYING_CASES) {
    test(`${c.name}: ${c.errorCode === 0 ? "accepted" : `error ${c.errorCode}`}`, () => {
      const b = c.batch();
      const scan = validateBatches(b);
      if (!scan.ok) {
        // negative counts stop the framing scan already; Produce answers them INVALID_RECORD
        expect(scan.reason).toStartWith(NEGATIVE_COUNT);
        expect(c.errorCode).toBe(87);
        return;
      }
      const r = validateProducedBatch(b, scan.batches[0]!, `${topicOf(c.topic)}-0`, unitConfig(c.topic));
      expect(r?.errorCode ?? 0).toBe(c.errorCode);
      expect((r?.recordErrors ?? []).map((e) => e.batchIndex)).toEqual(c.recordErrors ?? []);
    });
  }
  test("good batches of every codec, and of 1 to 2,000 records, pass", () => {
    for (const codec of [0, 1, 2, 3, 4])
      for (const n of [1, 2, 100, 2000]) {
        const b = buildBatch({ ...records(n), attributes: codec });
        const r = validateProducedBatch(b, scanBatches(b).batches[0]!, "t-0", unitConfig("compact"));
        if (r !== null) throw new Error(`codec ${codec}, ${n} records: ${r.message}`);
      }
  });
  test("each error message names the partition, as Kafka's", () => {
    const c = LYING_CASES.find((x) => x.name.startsWith("lastOffsetDelta"))!;
    const b = c.batch();
    const r = validateProducedBatch(b, scanBatches(b).batches[0]!, "v-plain-0", unitConfig("plain"))!;
    expect(r.message).toBe("Inconsistent batch offset range [0, 2147483647] and count of records 1 in topic partition v-plain-0");
  });
});

// ---------------------------------------------------------------------------
// through Produce, in process

let corr = 0;
async function call(kafka: InProcessBroker, req: MessageDef, res: MessageDef, v: number, body: Msg): Promise<Msg> {
  const conn = kafka.connect();
  const id = ++corr;
  const flexible = v >= (req.apiKey === 0 ? 9 : req.apiKey === 19 ? 5 : 9);
  conn.send(requestFrame(req.apiKey!, v, id, "validator", encode(req, v, body), flexible));
  let out = await conn.waitFor(4);
  const size = new DataView(out.buffer, out.byteOffset).getInt32(0);
  if (out.length < 4 + size) out = Buffer.concat([out, await conn.waitFor(4 + size - out.length)]);
  return decode(res, v, out.subarray(flexible ? 9 : 8, 4 + size));
}

function produceBody(topic: string, batch: Uint8Array): Msg {
  return { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] };
}

function readAll(kafka: InProcessBroker, topic: string): Uint8Array {
  const slices: SegmentRecords[] = kafka.storage.getPartition(topic, 0)!.read(0, 64 << 20);
  const out = new Uint8Array(slices.reduce((n, s) => n + s.size, 0));
  let p = 0;
  for (const s of slices) p += s.writeTo(out, p);
  releaseAll(slices);
  return out;
}

describe("Produce with the validator (in process)", () => {
  let kafka: InProcessBroker;
  beforeAll(async () => {
    kafka = await startInProcess();
    for (const [kind, cfg] of Object.entries(TOPIC_CONFIGS)) kafka.storage.createTopic(topicOf(kind as TopicKind), 1, cfg);
    kafka.storage.createTopic("v-lz4", 1, { "compression.type": "lz4" });
    kafka.storage.createTopic("v-uncompressed", 1, { "compression.type": "uncompressed" });
  });
  afterAll(async () => {
    await kafka.close();
  });

  test("every lying batch gets its error, record_errors and error_message; nothing of it is written", async () => {
    const written = new Map<string, number>();
    for (const c of LYING_CASES) {
      const topic = topicOf(c.topic);
      const before = kafka.storage.getPartition(topic, 0)!.logEndOffset;
      const r = await call(kafka, ProduceRequest, ProduceResponse, 11, produceBody(topic, c.batch()));
      const p = r.responses[0].partitionResponses[0];
      expect({ case: c.name, errorCode: p.errorCode }).toEqual({ case: c.name, errorCode: c.errorCode });
      expect(p.recordErrors.map((e: Msg) => e.batchIndex)).toEqual(c.recordErrors ?? []);
      const after = kafka.storage.getPartition(topic, 0)!.logEndOffset;
      if (c.errorCode !== 0) {
        expect(p.baseOffset).toBe(-1);
        expect(after).toBe(before);
        // Kafka sets error_message only with record errors
        if ((c.recordErrors ?? []).length > 0) expect(p.errorMessage).toStartWith("One or more records have been rejected");
        else expect(p.errorMessage).toBeNull();
      } else {
        expect(p.baseOffset).toBe(before);
        written.set(topic, (written.get(topic) ?? 0) + 1);
      }
    }
    // a good batch after them lands right after what was accepted, and a read returns only whole, true batches
    for (const kind of Object.keys(TOPIC_CONFIGS) as TopicKind[]) {
      const topic = topicOf(kind);
      const leo = kafka.storage.getPartition(topic, 0)!.logEndOffset;
      const r = await call(kafka, ProduceRequest, ProduceResponse, 9, produceBody(topic, buildBatch(records(3))));
      expect(r.responses[0].partitionResponses[0].errorCode).toBe(0);
      expect(r.responses[0].partitionResponses[0].baseOffset).toBe(leo);
      const scan = scanBatches(readAll(kafka, topic));
      expect(scan.error).toBeNull();
      let next = 0;
      for (const b of scan.batches) {
        expect(b.baseOffset).toBe(next);
        expect(b.lastOffsetDelta + 1).toBe(b.recordCount);
        expect(b.attributes & 0x20).toBe(0);
        next = b.baseOffset + b.recordCount;
      }
      expect(next).toBe(leo + 3);
    }
  });

  test("message.timestamp.type=LogAppendTime: the batch is stamped (attribute, maxTimestamp, CRC) and log_append_time_ms answered", async () => {
    const t0 = Date.now();
    const topic = topicOf("logAppend");
    const leo = kafka.storage.getPartition(topic, 0)!.logEndOffset;
    for (const codec of [0, Codec.ZSTD]) {
      const r = await call(kafka, ProduceRequest, ProduceResponse, 9, produceBody(topic, buildBatch({ baseTimestamp: 1000, attributes: codec, records: records(2).records })));
      const p = r.responses[0].partitionResponses[0];
      expect(p.errorCode).toBe(0);
      expect(p.logAppendTimeMs).toBeGreaterThanOrEqual(t0);
      expect(p.logAppendTimeMs).toBeLessThanOrEqual(Date.now());
    }
    const bytes = readAll(kafka, topic);
    const scan = scanBatches(bytes); // verifies the CRC
    expect(scan.error).toBeNull();
    const mine = scan.batches.filter((b) => b.baseOffset >= leo);
    expect(mine.length).toBe(2);
    for (const b of mine) {
      expect(b.attributes & ATTR_TIMESTAMP_TYPE).toBe(ATTR_TIMESTAMP_TYPE);
      expect(int64At(bytes, b.position + OFF_MAX_TIMESTAMP)).toBeGreaterThanOrEqual(t0);
    }
    // a CreateTime topic answers -1
    const r = await call(kafka, ProduceRequest, ProduceResponse, 9, produceBody(topicOf("plain"), buildBatch(records(1))));
    expect(r.responses[0].partitionResponses[0].logAppendTimeMs).toBe(-1);
  });

  test("compression.type=lz4 recompresses batches to lz4; compression.type=uncompressed stores them uncompressed; records unchanged", async () => {
    const cases: [string, number, number][] = [
      ["v-lz4", 0, Codec.LZ4],
      ["v-lz4", Codec.GZIP, Codec.LZ4],
      ["v-lz4", Codec.LZ4, Codec.LZ4],
      ["v-uncompressed", Codec.SNAPPY, 0],
    ];
    for (const [topic, from, to] of cases) {
      const leo = kafka.storage.getPartition(topic, 0)!.logEndOffset;
      const sent = Array.from({ length: 20 }, (_, i) => ({ key: enc.encode(`k${i}`), value: enc.encode(`value ${i} ${"x".repeat(i * 5)}`), headers: [{ key: "h", value: enc.encode(String(i)) }], timestampDelta: i }));
      const batch = buildBatch({ baseTimestamp: Date.now(), producerId: -1, attributes: from, records: sent });
      const r = await call(kafka, ProduceRequest, ProduceResponse, 9, produceBody(topic, batch));
      expect(r.responses[0].partitionResponses[0].errorCode).toBe(0);
      expect(r.responses[0].partitionResponses[0].baseOffset).toBe(leo);
      const bytes = readAll(kafka, topic);
      const b = scanBatches(bytes).batches.find((x) => x.baseOffset === leo)!;
      expect(b.attributes & ATTR_COMPRESSION_MASK).toBe(to);
      const got = decodeRecords(bytes.subarray(b.position, b.position + b.size));
      expect(got.map((x) => `${dec.decode(x.key!)}=${dec.decode(x.value!)}/${dec.decode(x.headers[0]!.value!)}@${x.timestampDelta}#${x.offsetDelta}`)).toEqual(
        sent.map((x, i) => `k${i}=${dec.decode(x.value)}/${i}@${i}#${i}`),
      );
    }
  });
});

// ---------------------------------------------------------------------------
// the same cases against the reference Kafka

const REASON = referenceUnavailable();
if (REASON && REFERENCE_REQUIRED) test("reference Kafka is available (KAFKA_REQUIRE_CLIENTS=1)", () => void expect(REASON).toBeNull());

describe.skipIf(REASON !== null)("lying batches: our answers next to Kafka 4.4's", () => {
  let kafka: InProcessBroker;
  let ref: WireClient;
  let refCorr = 0;
  async function refCall(req: MessageDef, res: MessageDef, v: number, body: Msg): Promise<Msg> {
    const id = ++refCorr;
    const flexible = v >= (req.apiKey === 0 ? 9 : req.apiKey === 19 ? 5 : 9);
    ref.send(requestFrame(req.apiKey!, v, id, "validator", encode(req, v, body), flexible));
    const f = await ref.readFrame();
    if (!f) throw new Error("reference Kafka closed the connection");
    return decode(res, v, f.subarray(flexible ? 5 : 4));
  }
  beforeAll(async () => {
    kafka = await startInProcess();
    const r = await sharedReference();
    ref = await WireClient.connect(r.port);
    const suffix = `-${Date.now().toString(36)}`;
    for (const [kind, cfg] of Object.entries(TOPIC_CONFIGS)) {
      kafka.storage.createTopic(topicOf(kind as TopicKind) + suffix, 1, cfg);
      const c = await refCall(CreateTopicsRequest, CreateTopicsResponse, 7, {
        topics: [{ name: topicOf(kind as TopicKind) + suffix, numPartitions: 1, replicationFactor: 1, assignments: [], configs: Object.entries(cfg).map(([name, value]) => ({ name, value })) }],
        timeoutMs: 30000,
        validateOnly: false,
      });
      expect(c.topics[0].errorCode).toBe(0);
    }
    topicSuffix = suffix;
    // wait until Kafka leads every partition
    const names = Object.keys(TOPIC_CONFIGS).map((k) => topicOf(k as TopicKind) + suffix);
    for (let i = 0; ; i++) {
      const m = await refCall(MetadataRequest, MetadataResponse, 12, { topics: names.map((name) => ({ name })), allowAutoTopicCreation: false });
      if (m.topics.every((t: Msg) => t.errorCode === 0 && t.partitions.length === 1 && t.partitions[0].leaderId >= 0)) break;
      if (i > 150) throw new Error("reference topics not ready");
      await Bun.sleep(100);
    }
  }, 120_000);
  let topicSuffix = "";
  afterAll(async () => {
    ref?.close();
    await kafka?.close();
    await stopSharedReference();
  });

  test("each case: Kafka's error code (or the listed deviation), record_errors indexes and messages", async () => {
    const diffs: string[] = [];
    for (const c of LYING_CASES) {
      const topic = topicOf(c.topic) + topicSuffix;
      const batch = c.batch();
      let k: Msg | null = null;
      // Kafka answers NOT_LEADER_OR_FOLLOWER for a moment after the topic's creation
      for (let i = 0; i < 50; i++) {
        k = (await refCall(ProduceRequest, ProduceResponse, 11, produceBody(topic, batch.slice()))).responses[0].partitionResponses[0];
        if (k!.errorCode !== 6) break;
        await Bun.sleep(100);
      }
      const o = (await call(kafka, ProduceRequest, ProduceResponse, 11, produceBody(topic, batch.slice()))).responses[0].partitionResponses[0];
      const kCode = k!.errorCode;
      const expectKafka = c.kafka?.errorCode ?? c.errorCode;
      if (kCode !== expectKafka) diffs.push(`${c.name}: Kafka answers ${kCode}, the case expects ${expectKafka}`);
      if (o.errorCode !== c.errorCode) diffs.push(`${c.name}: we answer ${o.errorCode}, the case expects ${c.errorCode}`);
      const ki = k!.recordErrors.map((e: Msg) => e.batchIndex);
      const oi = o.recordErrors.map((e: Msg) => e.batchIndex);
      if (JSON.stringify(ki) !== JSON.stringify(oi)) diffs.push(`${c.name}: record_errors Kafka ${JSON.stringify(ki)}, ours ${JSON.stringify(oi)}`);
      // messages: the same once the numbers that depend on the clock are masked; Kafka prints the record in one of them
      const mask = (s: string | null) => (s === null ? null : s.replace(/-?\d{6,}/g, "N").replace(/ DefaultRecord\([^)]*\)/g, ""));
      if (mask(k!.errorMessage) !== mask(o.errorMessage)) diffs.push(`${c.name}: error_message Kafka ${JSON.stringify(k!.errorMessage)}, ours ${JSON.stringify(o.errorMessage)}`);
      for (let i = 0; i < ki.length; i++) {
        const km = mask(k!.recordErrors[i].batchIndexErrorMessage);
        const om = mask(o.recordErrors[i]?.batchIndexErrorMessage ?? null);
        if (km !== om) diffs.push(`${c.name}: record error ${i} Kafka ${JSON.stringify(km)}, ours ${JSON.stringify(om)}`);
      }
      if (kCode === 0 && o.errorCode === 0 && k!.logAppendTimeMs !== -1 !== (o.logAppendTimeMs !== -1)) diffs.push(`${c.name}: log_append_time_ms set on one side only`);
      if (kCode !== 0 && k!.logStartOffset !== o.logStartOffset) diffs.push(`${c.name}: log_start_offset Kafka ${k!.logStartOffset}, ours ${o.logStartOffset}`);
    }
    expect(diffs).toEqual([]);
  }, 120_000);
});
