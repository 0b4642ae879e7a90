// ListOffsets by timestamp (and -3, MAX_TIMESTAMP) inside compressed batches:
// Kafka answers the exact record's offset and timestamp, not the batch's base
// offset, for every codec. In process, and next to the reference Kafka when
// it is available (else skipped).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decode, encode } from "../src/protocol/codec.ts";
import { ProduceRequest, ProduceResponse } from "../src/protocol/messages/produce.ts";
import { ListOffsetsRequest, ListOffsetsResponse } from "../src/protocol/messages/list-offsets.ts";
import { CreateTopicsRequest, CreateTopicsResponse } from "../src/protocol/messages/create-topics.ts";
import { MetadataRequest, MetadataResponse } from "../src/protocol/messages/metadata.ts";
import type { MessageDef } from "../src/protocol/schema.ts";
import { Codec } from "../src/records/compression.ts";
import { buildBatch } from "../src/records/record.ts";
import { requestFrame, startInProcess, WireClient, type InProcessBroker, type Msg } from "./helpers.ts";
import { REFERENCE_REQUIRED, referenceUnavailable, sharedReference, stopSharedReference } from "./kafka-ref/reference.ts";

const enc = new TextEncoder();
const T0 = 1_700_000_000_000;
const CODECS = [Codec.NONE, Codec.GZIP, Codec.SNAPPY, Codec.LZ4, Codec.ZSTD];

/** Three batches of 10 records each: timestamps T0 + 1000*b + 10*i, the middle batch's record 7 holding the largest timestamp. */
function batches(codec: number): Uint8Array[] {
  return [0, 1, 2].map((b) =>
    buildBatch({
      baseTimestamp: T0 + 1000 * b,
      attributes: codec,
      records: Array.from({ length: 10 }, (_, i) => ({
        key: enc.encode(`k${b}-${i}`),
        value: enc.encode(`v${b}-${i}`),
        timestampDelta: b === 1 && i === 7 ? 5000 : 10 * i,
      })),
    }),
  );
}

/** [asked timestamp, expected offset, expected timestamp] */
const LOOKUPS: [number, number, number][] = [
  [T0, 0, T0],
  [T0 + 1, 1, T0 + 10],
  [T0 + 55, 6, T0 + 60],
  [T0 + 1000, 10, T0 + 1000],
  [T0 + 1031, 14, T0 + 1040],
  // record 7 of the middle batch is at T0 + 6000, past the third batch's records
  [T0 + 2000, 17, T0 + 6000],
  [T0 + 6000, 17, T0 + 6000],
  [T0 + 6001, -1, -1],
  [-3, 17, T0 + 6000],
];

interface Peer {
  call(req: MessageDef, res: MessageDef, v: number, body: Msg): Promise<Msg>;
}

function produceBody(topic: string, batch: Uint8Array): Msg {
  return { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] };
}

async function lookups(peer: Peer, topic: string): Promise<[number, number, number][]> {
  const out: [number, number, number][] = [];
  for (const [ts] of LOOKUPS) {
    const r = await peer.call(ListOffsetsRequest, ListOffsetsResponse, 8, { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: ts, currentLeaderEpoch: -1 }] }] });
    const p = r.topics[0].partitions[0];
    expect(p.errorCode).toBe(0);
    out.push([ts, Number(p.offset), Number(p.timestamp)]);
  }
  return out;
}

let corr = 0;
function inProcessPeer(kafka: InProcessBroker): Peer {
  return {
    async call(req, res, v, body) {
      const conn = kafka.connect();
      const id = ++corr;
      const flexible = v >= (req.apiKey === 0 ? 9 : 6);
      conn.send(requestFrame(req.apiKey!, v, id, "ts", encode(req, v, body), flexible));
      let out = await conn.waitFor(4);
      const size = new DataView(out.buffer, out.byteOffset).getInt32(0);
      if (out.length < 4 + size) out = Buffer.concat([out, await conn.waitFor(4 + size - out.length)]);
      return decode(res, v, out.subarray(flexible ? 9 : 8, 4 + size));
    },
  };
}

describe("ListOffsets by timestamp inside compressed batches (in process)", () => {
  let kafka: InProcessBroker;
  beforeAll(async () => {
    kafka = await startInProcess();
  });
  afterAll(async () => {
    await kafka.close();
  });
  for (const codec of CODECS) {
    test(`codec ${codec}: the exact record's offset and timestamp`, async () => {
      const topic = `ts-${codec}`;
      kafka.storage.createTopic(topic, 1);
      const peer = inProcessPeer(kafka);
      for (const b of batches(codec)) expect((await peer.call(ProduceRequest, ProduceResponse, 9, produceBody(topic, b))).responses[0].partitionResponses[0].errorCode).toBe(0);
      expect(await lookups(peer, topic)).toEqual(LOOKUPS);
    });
  }
});

const REASON = referenceUnavailable();
if (REASON && REFERENCE_REQUIRED) test("reference Kafka is available (KAFKA_REQUIRE_CLIENTS=1)", () => void expect(REASON).toBeNull());

describe.skipIf(REASON !== null)("ListOffsets by timestamp inside compressed batches: Kafka 4.4 answers the same", () => {
  let client: WireClient;
  let refCorr = 0;
  const peer: Peer = {
    async call(req, res, v, body) {
      const id = ++refCorr;
      const flexible = v >= (req.apiKey === 0 ? 9 : req.apiKey === 2 ? 6 : req.apiKey === 19 ? 5 : 9);
      client.send(requestFrame(req.apiKey!, v, id, "ts", encode(req, v, body), flexible));
      const f = await client.readFrame();
      if (!f) throw new Error("reference Kafka closed the connection");
      return decode(res, v, f.subarray(flexible ? 5 : 4));
    },
  };
  beforeAll(async () => {
    client = await WireClient.connect((await sharedReference()).port);
  }, 120_000);
  afterAll(async () => {
    client?.close();
    await stopSharedReference();
  });
  test("every codec", async () => {
    const suffix = Date.now().toString(36);
    for (const codec of CODECS) {
      const topic = `ts-${codec}-${suffix}`;
      const c = await peer.call(CreateTopicsRequest, CreateTopicsResponse, 7, { topics: [{ name: topic, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 30000, validateOnly: false });
      expect(c.topics[0].errorCode).toBe(0);
      for (let i = 0; ; i++) {
        const m = await peer.call(MetadataRequest, MetadataResponse, 12, { topics: [{ name: topic }], allowAutoTopicCreation: false });
        if (m.topics[0].errorCode === 0 && m.topics[0].partitions[0]?.leaderId >= 0) break;
        if (i > 150) throw new Error("topic not ready");
        await Bun.sleep(100);
      }
      for (const b of batches(codec)) {
        let code = 6;
        for (let i = 0; i < 50 && code === 6; i++) {
          code = (await peer.call(ProduceRequest, ProduceResponse, 9, produceBody(topic, b.slice()))).responses[0].partitionResponses[0].errorCode;
          if (code === 6) await Bun.sleep(100);
        }
        expect(code).toBe(0);
      }
      expect({ codec, answers: await lookups(peer, topic) }).toEqual({ codec, answers: LOOKUPS });
    }
  }, 120_000);
});
