// Record batch codecs (src/records/compression.ts): every codec round-trips
// on Kafka-like payloads; frames written by other tools (lz4 and zstd CLIs,
// gzip with several members) decode; corrupt bytes throw CompressionError and
// nothing else; batches compressed by librdkafka (kcat -z gzip|snappy|lz4|zstd)
// and by kafka-python decode record for record; batches we compress are
// consumed back by kcat; batches compressed by Kafka's Java codecs (the
// reference broker recompressing to a topic's compression.type) decode too.
// The CLIs and clients are Debian packages: without them those tests skip,
// except with KAFKA_REQUIRE_CLIENTS=1 (CI), where their absence fails.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Codec, CompressionError, compress, decompress } from "../src/records/compression.ts";
import { lz4Compress } from "../src/records/lz4.ts";
import { snappyCompressRaw, snappyDecompress } from "../src/records/snappy.ts";
import { scanBatches, ATTR_COMPRESSION_MASK } from "../src/records/batch.ts";
import { buildBatch, decodeRecords } from "../src/records/record.ts";
import { forEachRecord, findRecord } from "../src/records/walk.ts";
import { encode, isFlexible } from "../src/protocol/codec.ts";
import { ProduceRequest, ProduceResponse } from "../src/protocol/messages/produce.ts";
import { MetadataRequest, MetadataResponse } from "../src/protocol/messages/metadata.ts";
import { codecFor } from "../src/protocol/codec.ts";
import { Reader } from "../src/protocol/reader.ts";
import type { MessageDef } from "../src/protocol/schema.ts";
import { REFERENCE_REQUIRED, referenceUnavailable, sharedReference, stopSharedReference } from "./kafka-ref/reference.ts";
import { CreateTopicsRequest, CreateTopicsResponse } from "../src/protocol/messages/create-topics.ts";
import { FetchRequest, FetchResponse } from "../src/protocol/messages/fetch.ts";
import { removeDir, requestFrame, startKafka, tempDir, WireClient, type Msg, type RunningKafka } from "./helpers.ts";

const REQUIRED = process.env.KAFKA_REQUIRE_CLIENTS === "1";
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
function prng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}
function randomBytes(n: number, seed: number): Uint8Array {
  const r = prng(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = r() & 0xff;
  return b;
}
function jsonPayload(n: number, seed: number): Uint8Array {
  const r = prng(seed);
  const lines: string[] = [];
  let len = 0;
  for (let i = 0; len < n; i++) {
    const line = JSON.stringify({ id: i, user: `user-${r() % 500}`, event: ["click", "view", "buy"][r() % 3], ts: 1_700_000_000_000 + i * 37, v: r() / 2 ** 32 });
    lines.push(line);
    len += line.length + 1;
  }
  return enc.encode(lines.join("\n")).subarray(0, n);
}

const PAYLOADS: [string, Uint8Array][] = [
  ["empty", new Uint8Array(0)],
  ["one byte", new Uint8Array([7])],
  ["13 bytes", enc.encode("hello, kafka!")],
  ["a run of 100,000 zeros", new Uint8Array(100_000)],
  ["json 1 KB", jsonPayload(1024, 1)],
  ["json 300 KB (several blocks)", jsonPayload(300_000, 2)],
  ["random 70 KB (incompressible, over one block)", randomBytes(70_000, 3)],
  ["short period (overlapping copies)", enc.encode("abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcab".repeat(50))],
];
const CODECS: [string, number][] = [
  ["gzip", Codec.GZIP],
  ["snappy", Codec.SNAPPY],
  ["lz4", Codec.LZ4],
  ["zstd", Codec.ZSTD],
];

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

describe("codecs round-trip", () => {
  for (const [name, codec] of CODECS) {
    test(`${name}: every payload comes back byte for byte, compressible ones shrink`, () => {
      for (const [what, raw] of PAYLOADS) {
        const c = compress(codec, raw);
        if (!same(decompress(codec, c), raw)) throw new Error(`${name} ${what}: round-trip differs`);
        if (what.startsWith("json 300") || what.startsWith("a run")) expect(c.length).toBeLessThan(raw.length / 2);
      }
    });
  }
  test("raw snappy (as librdkafka and kafkajs write it) round-trips through the same decoder", () => {
    for (const [what, raw] of PAYLOADS) if (!same(snappyDecompress(snappyCompressRaw(raw)), raw)) throw new Error(`raw snappy ${what}`);
  });
  test("codec 0 is the identity; codecs 5-7 are refused", () => {
    const raw = enc.encode("x");
    expect(decompress(Codec.NONE, raw)).toBe(raw);
    for (const c of [5, 6, 7]) {
      expect(() => decompress(c, raw)).toThrow(CompressionError);
      expect(() => compress(c, raw)).toThrow(CompressionError);
    }
  });
});

describe("corrupt compressed bytes", () => {
  test("garbage, truncation and flipped bytes throw CompressionError (or decode to bytes), never anything else", () => {
    const raw = jsonPayload(20_000, 9);
    const r = prng(42);
    for (const [name, codec] of CODECS) {
      expect(() => decompress(codec, randomBytes(64, 5))).toThrow(CompressionError);
      const good = compress(codec, raw);
      for (let i = 0; i < 300; i++) {
        const bad = i % 3 === 0 ? good.subarray(0, r() % good.length) : good.slice();
        if (i % 3 !== 0) for (let k = 0; k <= i % 4; k++) bad[r() % bad.length] ^= 1 << (r() % 8);
        try {
          const out = decompress(codec, bad);
          expect(out).toBeInstanceOf(Uint8Array);
        } catch (e) {
          if (!(e instanceof CompressionError)) throw new Error(`${name} mutation ${i}: ${(e as Error).constructor.name}: ${(e as Error).message}`);
        }
      }
    }
  });
  test("a snappy length preamble larger than the bytes could ever produce is refused before allocating", () => {
    // preamble 2^31 over 6 bytes
    expect(() => snappyDecompress(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x08, 0x00]))).toThrow(/impossible/);
  });
  test("decompression bombs are refused before their output is allocated", () => {
    // a zstd frame of RLE blocks: 4 bytes each, 128 KB out each (librdkafka's frames carry no content size either)
    const rleFrame = (blocks: number): Uint8Array => {
      const b = new Uint8Array(6 + blocks * 4);
      b.set([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]); // magic, no content size, window 128 KB
      for (let i = 0; i < blocks; i++) {
        const h = (131072 << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0);
        b.set([h & 0xff, (h >>> 8) & 0xff, h >>> 16, 0x7a], 6 + i * 4);
      }
      return b;
    };
    const small = decompress(Codec.ZSTD, rleFrame(3));
    expect(small.length).toBe(3 * 131072);
    expect(small.every((x) => x === 0x7a)).toBe(true);
    // 12 KB that would be 384 MB
    expect(() => decompress(Codec.ZSTD, rleFrame(3000))).toThrow(/more than/);
    const zeros = new Uint8Array(4 << 20);
    for (const [name, codec] of CODECS) {
      const c = compress(codec, zeros);
      expect(decompress(codec, c, false, 4 << 20).length).toBe(4 << 20);
      expect(() => decompress(codec, c, false, 1 << 20)).toThrow(CompressionError);
      if (name === "lz4") expect(decompress(codec, c).length).toBe(4 << 20); // the shared buffer is usable after a refusal
    }
  });
  test("lz4: content and block checksum mismatches are detected", () => {
    const raw = jsonPayload(5000, 4);
    const frame = lz4Compress(raw);
    // set the content-checksum flag and append a wrong checksum: the header checksum must be recomputed, so expect an error either way
    const f2 = new Uint8Array(frame.length + 4);
    f2.set(frame);
    f2[4]! |= 0x04;
    expect(() => decompress(Codec.LZ4, f2)).toThrow(CompressionError);
  });
});

const LZ4_CLI = Bun.which("lz4");
const ZSTD_CLI = Bun.which("zstd");
const GZIP_CLI = Bun.which("gzip");

async function pipeThrough(cmd: string[], input: Uint8Array): Promise<Uint8Array> {
  const p = Bun.spawn(cmd, { stdin: "pipe", stdout: "pipe", stderr: "ignore" });
  p.stdin.write(input);
  await p.stdin.end();
  const out = new Uint8Array(await new Response(p.stdout).arrayBuffer());
  expect(await p.exited).toBe(0);
  return out;
}

describe.skipIf((!LZ4_CLI || !ZSTD_CLI || !GZIP_CLI) && !REQUIRED)("frames written by other tools", () => {
  const raw = jsonPayload(200_000, 7);
  test("lz4 CLI: content checksum, block checksums, linked blocks, content size, 4 MB blocks; and the CLI reads ours", async () => {
    for (const flags of [[], ["--no-frame-crc"], ["-BX"], ["-BD"], ["--content-size"], ["-B7"], ["-9", "-BD", "-BX", "--content-size"]]) {
      const frame = await pipeThrough([LZ4_CLI!, "-q", "-c", ...flags], raw);
      if (!same(decompress(Codec.LZ4, frame), raw)) throw new Error(`lz4 ${flags.join(" ")}`);
    }
    expect(same(await pipeThrough([LZ4_CLI!, "-d", "-q", "-c"], compress(Codec.LZ4, raw)), raw)).toBe(true);
  });
  test("zstd CLI: a streamed frame (no content size), levels 1 and 19, two frames back to back; and the CLI reads ours", async () => {
    const streamed = await pipeThrough([ZSTD_CLI!, "-q", "-c", "--no-content-size"], raw);
    expect(same(decompress(Codec.ZSTD, streamed), raw)).toBe(true);
    const l19 = await pipeThrough([ZSTD_CLI!, "-q", "-c", "-19"], raw);
    expect(same(decompress(Codec.ZSTD, l19), raw)).toBe(true);
    const l1 = await pipeThrough([ZSTD_CLI!, "-q", "-c", "-1"], raw.subarray(0, 1000));
    const two = new Uint8Array(l1.length * 2);
    two.set(l1);
    two.set(l1, l1.length);
    expect(decompress(Codec.ZSTD, two).length).toBe(2000);
    expect(same(await pipeThrough([ZSTD_CLI!, "-d", "-q", "-c"], compress(Codec.ZSTD, raw)), raw)).toBe(true);
  });
  test("gzip CLI: one member and two members back to back; and the CLI reads ours", async () => {
    const one = await pipeThrough([GZIP_CLI!, "-c", "-9"], raw);
    expect(same(decompress(Codec.GZIP, one), raw)).toBe(true);
    const two = new Uint8Array(one.length * 2);
    two.set(one);
    two.set(one, one.length);
    expect(decompress(Codec.GZIP, two).length).toBe(raw.length * 2);
    expect(same(await pipeThrough([GZIP_CLI!, "-d", "-c"], compress(Codec.GZIP, raw)), raw)).toBe(true);
  });
});

describe("records inside compressed batches", () => {
  test("decodeRecords, forEachRecord and findRecord see every record of a batch of each codec", () => {
    for (const [name, codec] of CODECS) {
      const records = Array.from({ length: 50 }, (_, i) => ({ key: enc.encode(`k${i}`), value: enc.encode(`v${i}-${"x".repeat(i)}`), timestampDelta: i * 10 }));
      const batch = buildBatch({ baseOffset: 100, baseTimestamp: 1_000_000, attributes: codec, records });
      expect(batch[22]! & ATTR_COMPRESSION_MASK).toBe(codec);
      expect(scanBatches(batch).error).toBeNull();
      const decoded = decodeRecords(batch);
      expect(decoded.map((r) => dec.decode(r.value!))).toEqual(records.map((r) => dec.decode(r.value)));
      const seen: number[] = [];
      forEachRecord(batch, (r) => void seen.push(r.offset, r.timestamp));
      expect(seen.slice(0, 4)).toEqual([100, 1_000_000, 101, 1_000_010]);
      expect(seen.length).toBe(100);
      expect(findRecord(batch, (t) => t >= 1_000_095)).toEqual({ offset: 110, timestamp: 1_000_100 });
      expect(findRecord(batch, (t) => t > 2_000_000)).toBeNull();
      if (name === "gzip") expect(decodeRecords(batch)[49]!.key).toEqual(enc.encode("k49"));
    }
  });
});

// ---------------------------------------------------------------------------
// real clients against the executable

const KCAT = Bun.which("kcat");
const DEBIAN_PYTHON = "/usr/bin/python3";
const KAFKA_PYTHON = existsSync("/usr/lib/python3/dist-packages/kafka/__init__.py") && existsSync(DEBIAN_PYTHON);

describe.skipIf(!KCAT && !REQUIRED)("real clients", () => {
  let dir: string;
  let kafka: RunningKafka;
  let broker: string;
  beforeAll(async () => {
    dir = tempDir();
    kafka = await startKafka(dir, ["--override", "num.partitions=1"]);
    broker = `127.0.0.1:${kafka.port}`;
  });
  afterAll(async () => {
    expect(await kafka.stop()).toBe(0);
    removeDir(dir);
  });

  async function run(cmd: string[], input?: string): Promise<string> {
    const p = Bun.spawn(cmd, { stdin: input === undefined ? "ignore" : "pipe", stdout: "pipe", stderr: "pipe" });
    if (input !== undefined && p.stdin) {
      p.stdin.write(input);
      await p.stdin.end();
    }
    const killer = setTimeout(() => p.kill("SIGKILL"), 30000);
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    clearTimeout(killer);
    if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}: ${err}`);
    return out;
  }

  /** Every batch in the partition's segment files, in order. */
  function batchesOnDisk(topic: string): Uint8Array[] {
    const pdir = join(dir, `${topic}-0`);
    const out: Uint8Array[] = [];
    for (const f of readdirSync(pdir).filter((n) => n.endsWith(".log")).sort()) {
      const buf = new Uint8Array(readFileSync(join(pdir, f)));
      const scan = scanBatches(buf);
      expect(scan.error).toBeNull();
      for (const b of scan.batches) out.push(buf.subarray(b.position, b.position + b.size));
    }
    return out;
  }

  const lines = Array.from({ length: 300 }, (_, i) => `key-${i}\t${JSON.stringify({ n: i, pad: "p".repeat(i % 40), text: "the quick brown fox " + i })}`);

  for (const [name, codec] of CODECS) {
    test(`kcat -z ${name}: the broker stores ${name} batches whose records decode to what kcat sent`, async () => {
      const topic = `kz-${name}`;
      await run([KCAT!, "-b", broker, "-P", "-t", topic, "-p", "0", "-K", "\t", "-z", name, "-X", "linger.ms=50"], lines.join("\n") + "\n");
      const got: string[] = [];
      let compressed = 0;
      let expectOffset = 0;
      for (const b of batchesOnDisk(topic)) {
        if ((b[22]! & ATTR_COMPRESSION_MASK) === codec) compressed++;
        forEachRecord(b, (r) => {
          expect(r.offset).toBe(expectOffset++);
          got.push(`${dec.decode(r.key!)}\t${dec.decode(r.value!)}`);
        });
      }
      expect(compressed).toBeGreaterThan(0);
      expect(got).toEqual(lines);
    }, 40000);

    test(`batches we compress with ${name} are consumed by kcat record for record`, async () => {
      const topic = `ours-${name}`;
      const c = await WireClient.connect(kafka.port);
      try {
        let corr = 1;
        const call = async (req: MessageDef, res: MessageDef, version: number, body: Msg): Promise<Msg> => {
          const id = corr++;
          c.send(requestFrame(req.apiKey!, version, id, "compression-test", encode(req, version, body), isFlexible(req, version)));
          const bytes = await c.readFrame();
          if (!bytes) throw new Error("connection closed");
          const r = new Reader(bytes);
          expect(r.int32()).toBe(id);
          if (isFlexible(res, version)) r.uvarint();
          return codecFor(res, version).read(r);
        };
        const md = await call(MetadataRequest, MetadataResponse, 12, { topics: [{ topicId: new Uint8Array(16), name: topic }], allowAutoTopicCreation: true });
        expect(md.topics[0].errorCode).toBe(0);
        for (let b = 0; b < 3; b++) {
          const records = Array.from({ length: 100 }, (_, i) => ({ key: enc.encode(`k${b * 100 + i}`), value: enc.encode(`value ${b * 100 + i} ${"z".repeat(i)}`) }));
          const batch = buildBatch({ attributes: codec, records });
          const pr = await call(ProduceRequest, ProduceResponse, 9, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] });
          expect(pr.responses[0].partitionResponses[0].errorCode).toBe(0);
        }
      } finally {
        c.close();
      }
      const out = await run([KCAT!, "-b", broker, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q", "-f", "%o|%k|%s\\n"]);
      const expected = Array.from({ length: 300 }, (_, i) => `${i}|k${i}|value ${i} ${"z".repeat(i % 100)}`);
      expect(out.trimEnd().split("\n")).toEqual(expected);
    }, 40000);
  }

  test.skipIf(!KAFKA_PYTHON)("kafka-python's gzip, snappy? and lz4 batches decode (codecs it has modules for)", async () => {
    const script = `
import sys
from kafka import KafkaProducer
from kafka.codec import has_snappy, has_lz4, has_zstd
codecs = ['gzip'] + (['snappy'] if has_snappy() else []) + (['lz4'] if has_lz4() else []) + (['zstd'] if has_zstd() else [])
for c in codecs:
    p = KafkaProducer(bootstrap_servers=sys.argv[1], compression_type=c, linger_ms=20, api_version=(2, 5))
    for i in range(200):
        p.send('kp-' + c, key=b'key-%d' % i, value=(b'value-%d ' % i) + b'x' * (i % 50))
    p.flush()
    p.close()
print(' '.join(codecs))
`;
    const codecs = (await run([DEBIAN_PYTHON, "-c", script, broker])).trim().split(" ");
    expect(codecs).toContain("gzip");
    for (const name of codecs) {
      const got: string[] = [];
      for (const b of batchesOnDisk(`kp-${name}`)) forEachRecord(b, (r) => void got.push(`${dec.decode(r.key!)}=${dec.decode(r.value!)}`));
      expect(got).toEqual(Array.from({ length: 200 }, (_, i) => `key-${i}=value-${i} ${"x".repeat(i % 50)}`));
    }
  }, 60000);
});

// ---------------------------------------------------------------------------
// the Java codecs, through the reference Kafka: a topic with compression.type
// set makes Kafka recompress what it is sent with kafka-clients' own codecs
// (xerial snappy-java, lz4-java, zstd-jni, java.util.zip), so fetching the
// stored batch gives bytes the Java code wrote. (Kafka accepting the batches
// we compress, read record by record by its validator, is in
// test/validator.test.ts.)


const REF_REASON = referenceUnavailable();
if (REF_REASON && REFERENCE_REQUIRED) test("reference Kafka is available (KAFKA_REQUIRE_CLIENTS=1)", () => void expect(REF_REASON).toBeNull());

describe.skipIf(REF_REASON !== null)("batches compressed by Kafka's Java codecs decode record for record", () => {
  let client: WireClient;
  let corr = 0;
  async function call(req: MessageDef, res: MessageDef, v: number, body: Msg): Promise<Msg> {
    const id = ++corr;
    const flexible = isFlexible(req, v);
    client.send(requestFrame(req.apiKey!, v, id, "compression-test", encode(req, v, body), flexible));
    const f = await client.readFrame();
    if (!f) throw new Error("reference Kafka closed the connection");
    const r = new Reader(f);
    expect(r.int32()).toBe(id);
    if (isFlexible(res, v)) r.uvarint(); // response header tagged fields (none)
    return codecFor(res, v).read(r);
  }
  beforeAll(async () => {
    client = await WireClient.connect((await sharedReference()).port);
  }, 120_000);
  afterAll(async () => {
    client?.close();
    await stopSharedReference();
  });

  test("gzip, snappy (xerial), lz4 and zstd as Kafka 4.4 writes them", async () => {
    const suffix = Date.now().toString(36);
    for (const [name, codec] of CODECS) {
      const topic = `java-${name}-${suffix}`;
      const c = await call(CreateTopicsRequest, CreateTopicsResponse, 7, { topics: [{ name: topic, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: "compression.type", value: name }] }], timeoutMs: 30000, validateOnly: false });
      expect(c.topics[0].errorCode).toBe(0);
      // 3,000 records, 150 KB: several xerial chunks (32 KB) and lz4 blocks (64 KB)
      const sent = Array.from({ length: 3000 }, (_, i) => ({ key: enc.encode(`key-${i}`), value: enc.encode(`value ${i} ${"abcdefgh".repeat(i % 9)} ${(i * 7919) % 1000}`), timestampDelta: i }));
      let code = 6;
      for (let i = 0; i < 100 && (code === 6 || code === 3); i++) {
        code = (await call(ProduceRequest, ProduceResponse, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records: buildBatch({ baseTimestamp: Date.now(), records: sent }) }] }] })).responses[0].partitionResponses[0].errorCode;
        if (code === 6 || code === 3) await Bun.sleep(100);
      }
      expect(code).toBe(0);
      const f = await call(FetchRequest, FetchResponse, 12, {
        replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 50 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, logStartOffset: -1, partitionMaxBytes: 50 << 20, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
        forgottenTopicsData: [], rackId: "",
      });
      const records: Uint8Array = f.responses[0].partitions[0].records;
      const scan = scanBatches(records);
      expect(scan.error).toBeNull();
      expect(scan.batches.length).toBe(1);
      expect(scan.batches[0]!.attributes & ATTR_COMPRESSION_MASK).toBe(codec);
      const got: string[] = [];
      forEachRecord(records, (r) => void got.push(`${r.offset}:${dec.decode(r.key!)}=${dec.decode(r.value!)}`));
      expect(got).toEqual(sent.map((s, i) => `${i}:key-${i}=${dec.decode(s.value)}`));
    }
  }, 120_000);
});
