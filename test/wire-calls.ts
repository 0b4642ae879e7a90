// Typed request/response calls over the test WireClient (test/helpers.ts), as the
// durability, disk and crash tests use them: create a topic, produce values,
// fetch them back. Several requests may be in flight on one client; responses
// come back in order and carry their correlation ids, which are checked.

import { buildConfig } from "../src/config.ts";
import { Broker } from "../src/broker.ts";
import { encode, codecFor, isFlexible } from "../src/protocol/codec.ts";
import { Reader } from "../src/protocol/reader.ts";
import type { MessageDef } from "../src/protocol/schema.ts";
import { ApiVersionsResponse } from "../src/protocol/messages/api-versions.ts";
import { CreateTopicsRequest, CreateTopicsResponse } from "../src/protocol/messages/create-topics.ts";
import { MetadataRequest, MetadataResponse } from "../src/protocol/messages/metadata.ts";
import { ProduceRequest, ProduceResponse } from "../src/protocol/messages/produce.ts";
import { FetchRequest, FetchResponse } from "../src/protocol/messages/fetch.ts";
import { buildBatch, decodeRecords } from "../src/records/record.ts";
import { type Msg, removeDir, requestFrame, tempDir, WireClient } from "./helpers.ts";

let corr = 1;

/** Sends one request; resolves with its decoded response (in-order reads: await them in the order sent). */
export function send(client: WireClient, req: MessageDef, res: MessageDef, version: number, body: Msg): () => Promise<Msg> {
  const c = corr++;
  client.send(requestFrame(req.apiKey!, version, c, "wire-calls", encode(req, version, body), isFlexible(req, version)));
  return async () => {
    const bytes = await client.readFrame();
    if (!bytes) throw new Error("connection closed");
    const r = new Reader(bytes);
    const got = r.int32();
    if (got !== c) throw new Error(`correlation id ${got}, expected ${c}`);
    if (res !== ApiVersionsResponse && isFlexible(res, version)) r.uvarint();
    return codecFor(res, version).read(r);
  };
}

export async function call(client: WireClient, req: MessageDef, res: MessageDef, version: number, body: Msg): Promise<Msg> {
  return send(client, req, res, version, body)();
}

export async function createTopic(client: WireClient, name: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
  const r = await call(client, CreateTopicsRequest, CreateTopicsResponse, 7, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  if (r.topics[0].errorCode !== 0) throw new Error(`CreateTopics ${name}: error ${r.topics[0].errorCode}`);
}

export async function metadata(client: WireClient, topic: string): Promise<Msg> {
  return call(client, MetadataRequest, MetadataResponse, 12, { topics: [{ topicId: new Uint8Array(16), name: topic }], allowAutoTopicCreation: false });
}

export function produceBody(topic: string, partition: number, values: string[], acks = -1): Msg {
  const batch = buildBatch({ baseTimestamp: Date.now(), records: values.map((v) => ({ key: null, value: new TextEncoder().encode(v) })) });
  return { transactionalId: null, acks, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }] };
}

/** Produces one batch of `values`; the partition response (errorCode, baseOffset). */
export function sendProduce(client: WireClient, topic: string, partition: number, values: string[], acks = -1): () => Promise<Msg> {
  const next = send(client, ProduceRequest, ProduceResponse, 9, produceBody(topic, partition, values, acks));
  return async () => (await next()).responses[0].partitionResponses[0];
}

export async function produce(client: WireClient, topic: string, partition: number, values: string[], acks = -1): Promise<Msg> {
  return sendProduce(client, topic, partition, values, acks)();
}

/** Every record of the partition from `offset` to its end: [offset, value] pairs, and the high watermark. */
export async function fetchAll(client: WireClient, topic: string, partition: number, offset = 0): Promise<{ records: [number, string][]; highWatermark: number; errorCode: number }> {
  const out: [number, string][] = [];
  let next = offset;
  for (;;) {
    const r = await call(client, FetchRequest, FetchResponse, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 8 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition, fetchOffset: next, partitionMaxBytes: 8 << 20, logStartOffset: -1, currentLeaderEpoch: -1 }] }],
      forgottenTopicsData: [],
      rackId: "",
    });
    const p = r.responses[0].partitions[0];
    if (p.errorCode !== 0) return { records: out, highWatermark: p.highWatermark, errorCode: p.errorCode };
    const before = out.length;
    const recs: Uint8Array | null = p.records;
    if (recs && recs.length > 0) {
      const v = new DataView(recs.buffer, recs.byteOffset, recs.byteLength);
      let pos = 0;
      while (pos + 12 <= recs.length) {
        const size = v.getInt32(pos + 8) + 12;
        if (pos + size > recs.length) break;
        const batch = recs.subarray(pos, pos + size);
        const base = Number(new DataView(batch.buffer, batch.byteOffset).getBigInt64(0));
        for (const rec of decodeRecords(batch)) {
          const o = base + rec.offsetDelta;
          if (o >= next) out.push([o, new TextDecoder().decode(rec.value!)]);
        }
        pos += size;
      }
    }
    if (out.length > before) next = out[out.length - 1]![0] + 1;
    if (next >= p.highWatermark || out.length === before) return { records: out, highWatermark: p.highWatermark, errorCode: 0 };
  }
}

export interface ListeningBroker {
  broker: Broker;
  port: number;
  dir: string;
  connect(): Promise<WireClient>;
  /** stops the broker (closing the clients it handed out); removes the dir unless keepDir */
  close(keepDir?: boolean): Promise<void>;
}

/** A broker in this process with a real TCP listener on 127.0.0.1 (a free port). */
export async function startListening(overrides: Record<string, string> = {}, dir = tempDir()): Promise<ListeningBroker> {
  const raw = new Map<string, string>(Object.entries({ "log.dirs": dir, listeners: "PLAINTEXT://127.0.0.1:0", ...overrides }));
  const broker = await new Broker(buildConfig(raw)).start();
  const port = broker.firstListener.boundPort;
  const clients: WireClient[] = [];
  return {
    broker,
    port,
    dir,
    async connect() {
      const c = await WireClient.connect(port);
      clients.push(c);
      return c;
    },
    async close(keepDir = false) {
      for (const c of clients) c.close();
      broker.stopping = true;
      broker.wakeAll();
      await broker.stop();
      if (!keepDir) removeDir(dir);
    },
  };
}
