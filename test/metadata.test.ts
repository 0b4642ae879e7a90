import { log } from "../src/log.ts";
import { afterEach, beforeEach, describe, expect, spyOn, test } from "bun:test";
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode } from "../src/protocol/errors.ts";
import { ATTR_CONTROL, validateBatches } from "../src/records/batch.ts";
import { buildBatch, controlRecordKey, ControlType, decodeRecords } from "../src/records/record.ts";
import { decodeMetadataRecord, encodeMetadataRecord } from "../src/metadata/log.ts";
import { BeginTransactionRecord, PartitionChangeRecord, RemoveTopicRecord, TopicRecord } from "../src/metadata/records.ts";
import { DEFAULT_METADATA_VERSION, METADATA_DIR, MetadataError, MetadataStore, validateTopicName } from "../src/metadata/store.ts";
import { uuidHex, uuidToBase64 } from "../src/metadata/uuid.ts";
import { Storage } from "../src/storage/log-manager.ts";
import { SHARED_FIXTURE } from "./helpers.ts";

const FIXTURE = SHARED_FIXTURE;
const LOG = "00000000000000000000.log";

let dir: string;
const open: { close(): void }[] = [];
function store(nodeId = 1): MetadataStore {
  const s = MetadataStore.open({ logDir: dir, nodeId, warn: () => {} });
  open.push(s);
  return s;
}
async function storage(nodeId = 1): Promise<Storage> {
  const s = await Storage.open({ logDir: dir, nodeId, numPartitions: 2, segmentBytes: 1 << 20 });
  open.push(s);
  return s;
}
function closeAll(): void {
  for (const s of open.splice(0)) s.close();
}
/** Runs fn with console.warn (the broker log) captured; returns the warnings. */
async function warnings(fn: () => unknown): Promise<string[]> {
  const spy = spyOn(log, "warn").mockImplementation(() => {});
  try {
    await fn();
    return spy.mock.calls.map((c) => String(c[0]));
  } finally {
    spy.mockRestore();
  }
}

/** Every batch of a metadata log file: base offset, epoch, control flag, framed records. */
function readMetadataLog(path: string) {
  const buf = new Uint8Array(readFileSync(path));
  const scan = validateBatches(buf);
  if (!scan.ok) throw new Error(scan.reason);
  return scan.batches.map((b) => {
    const bytes = buf.subarray(b.position, b.position + b.size);
    return {
      baseOffset: b.baseOffset,
      epoch: new DataView(bytes.buffer, bytes.byteOffset).getInt32(12),
      control: (b.attributes & ATTR_CONTROL) !== 0,
      values: decodeRecords(bytes).map((r) => r.value!),
    };
  });
}

function appendBatch(values: Uint8Array[], baseOffset: number, attributes = 0): void {
  appendFileSync(join(dir, METADATA_DIR, LOG), buildBatch({ baseOffset, partitionLeaderEpoch: 1, attributes, records: values.map((value) => ({ value })) }));
}

beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), "metadata-test-")), "logs");
});
afterEach(() => {
  closeAll();
  rmSync(join(dir, ".."), { recursive: true, force: true });
});

describe("formatting", () => {
  test("a missing dir gets meta.properties and the bootstrap records", () => {
    const s = store(3);
    const props = readFileSync(join(dir, "meta.properties"), "utf8");
    expect(props).toMatch(/^#\n#(Sun|Mon|Tue|Wed|Thu|Fri|Sat) [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4}\ncluster\.id=[\w-]{22}\ndirectory\.id=[\w-]{22}\nnode\.id=3\nversion=1\n$/);
    expect(props).toContain(`cluster.id=${s.clusterId}\n`);
    expect(readFileSync(join(dir, METADATA_DIR, "partition.metadata"), "utf8")).toBe("version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ");

    const batches = readMetadataLog(join(dir, METADATA_DIR, LOG));
    expect(batches.length).toBe(1);
    expect(batches[0]).toMatchObject({ baseOffset: 0, epoch: 1, control: false });
    const recs = batches[0]!.values.map((v) => decodeMetadataRecord(v));
    expect(recs.map((r) => r.apiKey)).toEqual([23, 12, 21, 24]);
    expect(recs[0]!.data).toEqual({ name: "Bootstrap records" });
    expect(recs[1]!.data).toEqual({ name: "metadata.version", featureLevel: DEFAULT_METADATA_VERSION });

    expect(s.bootstrapped).toBe(true);
    expect(s.image.metadataVersion).toBe(DEFAULT_METADATA_VERSION);
    expect(s.image.nodeId).toBe(3);
    expect(s.image.clusterId).toBe(s.clusterId);
    expect(s.image.topics.size).toBe(0);
  }, 3000);

  test("reopening does not reformat", () => {
    const id = store().clusterId;
    closeAll();
    const s = store();
    expect(s.clusterId).toBe(id);
    expect(s.bootstrapped).toBe(false);
    expect(readMetadataLog(join(dir, METADATA_DIR, LOG)).length).toBe(1);
  }, 3000);

  test("quorum-state names this node leader at the log's epoch, as Kafka's FileQuorumStateStore writes it; Kafka's own is kept", () => {
    store(3);
    closeAll();
    const path = join(dir, METADATA_DIR, "quorum-state");
    // without it Kafka, adopting the dir, assumes epoch 0 and warns that the log's epoch 1 is larger
    expect(readFileSync(path, "utf8")).toBe('{"clusterId":"","leaderId":3,"leaderEpoch":1,"votedId":-1,"appliedOffset":0,"currentVoters":[{"voterId":3}],"data_version":0}');
    const kafkas = '{"clusterId":"","leaderId":3,"leaderEpoch":2,"votedId":-1,"appliedOffset":0,"currentVoters":[{"voterId":3}],"data_version":0}';
    writeFileSync(path, kafkas);
    store(3);
    expect(readFileSync(path, "utf8")).toBe(kafkas);
  }, 3000);

  test("node.id mismatch is a clear error", () => {
    store(1);
    closeAll();
    expect(() => store(2)).toThrow(/node\.id 2 .* does not match node\.id 1/);
  }, 3000);

  test.skipIf(!existsSync(FIXTURE))("bootstrap records match the ones Kafka wrote, byte for byte", () => {
    store();
    const ours = readMetadataLog(join(dir, METADATA_DIR, LOG))[0]!.values;
    const kafka = readMetadataLog(join(FIXTURE, METADATA_DIR, LOG))[0]!.values;
    expect(ours.map((v) => Buffer.from(v).toString("hex"))).toEqual(kafka.map((v) => Buffer.from(v).toString("hex")));
  }, 3000);
});

describe("topics", () => {
  test("createTopic, then reopen: same id and partitions, folders in Kafka's layout", async () => {
    let s = await storage();
    const t = s.createTopic("orders", 3);
    expect(t.id.length).toBe(16);
    expect(t.partitions).toEqual([0, 1, 2].map((p) => ({ partition: p, leader: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1], isr: [1] })));
    expect(s.image.topicsById.get(uuidHex(t.id))).toBe(t);
    for (let p = 0; p < 3; p++) {
      const d = join(dir, `orders-${p}`);
      expect(readFileSync(join(d, "partition.metadata"), "utf8")).toBe(`version: 0\ntopic_id: ${uuidToBase64(t.id)}`);
      expect(statSync(join(d, "00000000000000000000.log")).size).toBe(0);
      // the active segment's indexes are preallocated while it is open (segment.index.bytes)
      expect(statSync(join(d, "00000000000000000000.index")).size).toBe(10485760);
      expect(s.getPartition("orders", p)).toBeDefined();
    }
    expect(s.getPartition("orders", 3)).toBeUndefined();
    expect(s.createTopic("dflt").partitions.length).toBe(2); // num.partitions

    // one batch: TopicRecord, then PartitionRecord v1 with this dir's id, as the fixture's
    const batches = readMetadataLog(join(dir, METADATA_DIR, LOG));
    expect(batches[1]!.baseOffset).toBe(4);
    const recs = batches[1]!.values.map((v) => decodeMetadataRecord(v));
    expect(recs.map((r) => [r.apiKey, r.version])).toEqual([[2, 0], [3, 1], [3, 1], [3, 1]]);
    const partition = recs[1]!;
    if (partition.apiKey !== 3 || partition.data === null) throw new Error("expected a decoded PartitionRecord");
    expect(uuidToBase64(partition.data.directories[0]!)).toBe(s.metadata.meta.directoryId!);

    closeAll();
    s = await storage();
    const again = s.image.topics.get("orders")!;
    expect(again.id).toEqual(t.id);
    expect(again.partitions).toEqual(t.partitions);
    expect(s.getPartition("orders", 2)).toBeDefined();
    expect(s.image.topics.get("dflt")!.partitions.length).toBe(2);
  }, 3000);

  test("names and counts are checked as Kafka does", () => {
    const s = store();
    s.createTopic("a.b", 1);
    const code = (name: string, n = 1) => {
      try {
        s.createTopic(name, n);
        return ErrorCode.NONE;
      } catch (e) {
        expect(e).toBeInstanceOf(MetadataError);
        return (e as MetadataError).code;
      }
    };
    expect(code("a.b")).toBe(ErrorCode.TOPIC_ALREADY_EXISTS);
    expect(code("a_b")).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION); // collides with a.b
    for (const bad of ["", ".", "..", "x".repeat(250), "a/b", "a b", "é", "__cluster_metadata"]) expect(code(bad)).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
    expect(code("ok", 0)).toBe(ErrorCode.INVALID_PARTITIONS);
    expect(code("ok", -3)).toBe(ErrorCode.INVALID_PARTITIONS);
    expect(code("ok", 1e9)).toBe(ErrorCode.INVALID_PARTITIONS);
    expect(validateTopicName("x".repeat(249))).toBeNull();
    expect(validateTopicName("Az09._-")).toBeNull();
  }, 3000);
});

describe("replay", () => {
  test("unknown record types, unsupported versions and control batches are skipped", async () => {
    store();
    closeAll();
    const id = new Uint8Array(16).fill(5);
    const frame = (apiKey: number, version: number, body: number[]) => Uint8Array.from([1, apiKey, version, ...body]);
    appendBatch([controlRecordKey(ControlType.LEADER_CHANGE)], 4, ATTR_CONTROL);
    appendBatch(
      [
        frame(99, 0, [1, 2, 3]), // a record type we do not know
        frame(2, 7, [0]), // TopicRecord at a version we do not know
        frame(17, 0, [0]), // a known-to-Kafka type we do not apply (BrokerRegistrationChange)
        encodeMetadataRecord(TopicRecord, 0, { name: "kept", topicId: id }),
      ],
      5,
    );
    let s!: MetadataStore;
    const w = await warnings(() => (s = MetadataStore.open({ logDir: dir, nodeId: 1 })));
    open.push(s);
    expect(w.length).toBe(1);
    expect(w[0]).toContain("version 7");
    expect(s.image.topics.get("kept")?.id).toEqual(id);
    // appends continue after the last offset seen
    s.createTopic("next", 1);
    expect(readMetadataLog(join(dir, METADATA_DIR, LOG)).at(-1)!.baseOffset).toBe(9);
  }, 3000);

  test("partition changes, topic removal and feature levels", () => {
    let s = store();
    const t = s.createTopic("t", 2);
    closeAll();
    appendBatch(
      [
        encodeMetadataRecord(PartitionChangeRecord, 0, { partitionId: 1, topicId: t.id, leader: 7, isr: [1, 7] }),
        encodeMetadataRecord(PartitionChangeRecord, 0, { partitionId: 1, topicId: t.id, replicas: [1, 7] }), // leader -2: unchanged
        encodeMetadataRecord(PartitionChangeRecord, 0, { partitionId: 9, topicId: t.id, leader: 1 }), // unknown partition: skipped
      ],
      7,
    );
    s = store();
    expect(s.image.topics.get("t")!.partitions[1]).toEqual({ partition: 1, leader: 7, leaderEpoch: 1, partitionEpoch: 2, replicas: [1, 7], isr: [1, 7] });
    expect(s.image.topics.get("t")!.partitions[0]!.leaderEpoch).toBe(0);
    closeAll();
    appendBatch([encodeMetadataRecord(RemoveTopicRecord, 0, { topicId: t.id })], 10);
    s = store();
    expect(s.image.topics.has("t")).toBe(false);
    expect(s.image.topicsById.size).toBe(0);
  }, 3000);

  test("a torn tail ends the replay with one warning and is truncated", async () => {
    let s = store();
    s.createTopic("before", 1);
    closeAll();
    const file = join(dir, METADATA_DIR, LOG);
    const good = statSync(file).size;
    const torn = buildBatch({ baseOffset: 6, records: [{ value: encodeMetadataRecord(TopicRecord, 0, { name: "torn", topicId: new Uint8Array(16).fill(3) }) }] });
    appendFileSync(file, torn.subarray(0, torn.length - 3));
    const w = await warnings(() => (s = MetadataStore.open({ logDir: dir, nodeId: 1 })));
    open.push(s);
    expect(w.length).toBe(1);
    expect(statSync(file).size).toBe(good);
    expect([...s.image.topics.keys()]).toEqual(["before"]);
    s.createTopic("after", 1);
    closeAll();
    expect([...store().image.topics.keys()]).toEqual(["before", "after"]);
  }, 3000);

  test("a bad CRC before the tail (every metadata batch is checked) ends the replay with one warning; what follows is dropped", async () => {
    let s = store();
    s.createTopic("before", 1);
    s.createTopic("lost", 1);
    closeAll();
    const file = join(dir, METADATA_DIR, LOG);
    const batches = readMetadataLog(file);
    expect(batches.map((b) => b.baseOffset)).toEqual([0, 4, 6]);
    const bytes = readFileSync(file);
    const scan = validateBatches(new Uint8Array(bytes));
    if (!scan.ok) throw new Error(scan.reason);
    // a flipped byte inside the "lost" topic's batch, with a good batch after it: not a torn tail
    const lostAt = scan.batches[2]!.position;
    bytes[lostAt + 70]! ^= 0xff;
    writeFileSync(file, Buffer.concat([bytes, buildBatch({ baseOffset: 8, partitionLeaderEpoch: 1, records: [{ value: encodeMetadataRecord(TopicRecord, 0, { name: "after-bad", topicId: new Uint8Array(16).fill(6) }) }] })]));
    const w = await warnings(() => (s = MetadataStore.open({ logDir: dir, nodeId: 1 })));
    open.push(s);
    expect(w.length).toBe(1);
    expect(w[0]).toContain("crc mismatch");
    expect(statSync(file).size).toBe(lostAt);
    expect([...s.image.topics.keys()]).toEqual(["before"]);
  }, 3000);

  test("a transaction the log ends inside is dropped, and closed with an abort", async () => {
    store();
    closeAll();
    appendBatch([encodeMetadataRecord(BeginTransactionRecord, 0, {}), encodeMetadataRecord(TopicRecord, 0, { name: "half", topicId: new Uint8Array(16).fill(4) })], 4);
    let s!: MetadataStore;
    const w = await warnings(() => (s = MetadataStore.open({ logDir: dir, nodeId: 1 })));
    open.push(s);
    expect(w.length).toBe(1);
    expect(s.image.topics.has("half")).toBe(false);
    const last = readMetadataLog(join(dir, METADATA_DIR, LOG)).at(-1)!;
    expect(decodeMetadataRecord(last.values[0]!).apiKey).toBe(25);
    s.createTopic("whole", 1);
    closeAll();
    expect([...store().image.topics.keys()]).toEqual(["whole"]);
  }, 3000);
});

describe("log dirs written elsewhere", () => {
  test("partition folders without a metadata log are adopted, not reformatted", async () => {
    let s = await storage();
    const cluster = s.clusterId;
    const t = s.createTopic("keep", 2);
    const b = buildBatch({ records: [{ value: new Uint8Array([1]) }] });
    const scan = validateBatches(b);
    if (!scan.ok) throw new Error(scan.reason);
    s.getPartition("keep", 1)!.append(b, scan.batches);
    closeAll();
    rmSync(join(dir, METADATA_DIR), { recursive: true });

    const w = await warnings(async () => (s = await storage()));
    expect(w.some((m) => m.includes("adopted topic keep"))).toBe(true);
    expect(s.clusterId).toBe(cluster);
    const again = s.image.topics.get("keep")!;
    expect(again.id).toEqual(t.id);
    expect(again.partitions.length).toBe(2);
    expect(s.getPartition("keep", 1)!.logEndOffset).toBe(1);
    closeAll();
    s = await storage(); // the adoption was written to the new metadata log
    expect(s.image.topics.get("keep")!.id).toEqual(t.id);
  }, 3000);

  test("a deleted topic's logs are renamed -delete and removed; such dirs left by a stop go at start-up", async () => {
    let s = await storage();
    const t = s.createTopic("gone", 2);
    s.metadata.events.publish([{ type: "topicDeleted", topic: t }]); // what a RemoveTopicRecord publishes
    expect(s.getPartition("gone", 0)).toBeUndefined();
    for (let i = 0; i < 100 && readdirSync(dir).some((n) => n.startsWith("gone")); i++) await new Promise((r) => setTimeout(r, 10));
    expect(readdirSync(dir).filter((n) => n.startsWith("gone"))).toEqual([]);
    closeAll();
    const left = join(dir, `left-3.${"ab".repeat(16)}-delete`);
    mkdirSync(left);
    writeFileSync(join(left, "00000000000000000000.log"), new Uint8Array(8));
    s = await storage();
    for (let i = 0; i < 100 && existsSync(left); i++) await new Promise((r) => setTimeout(r, 10));
    expect(existsSync(left)).toBe(false);
  }, 3000);

  test.skipIf(!existsSync(FIXTURE))("starts on the Kafka-written fixture (a copy) and serves topic foo", async () => {
    const before = snapshot(FIXTURE);
    cpSync(FIXTURE, dir, { recursive: true });
    let s = await storage(1);
    expect(s.clusterId).toBe("rwd2jqiwRaCycLq7mKVHXA");
    expect(s.image.metadataVersion).toBe(20);
    const foo = s.image.topics.get("foo")!;
    expect(uuidToBase64(foo.id)).toBe("v9meXjI1RVKB-NSvF0GXDA");
    expect(foo.partitions).toEqual([{ partition: 0, leader: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1], isr: [1] }]);
    const log = s.getPartition("foo", 0)!;
    expect([log.logStartOffset, log.logEndOffset]).toEqual([0, 1]);
    const [slice] = log.read(0, 1 << 20);
    const bytes = new Uint8Array(slice!.size);
    slice!.writeTo(bytes, 0);
    slice!.release();
    expect(new TextDecoder().decode(decodeRecords(bytes)[0]!.value!)).toBe("Hello World!");

    s.createTopic("bar", 1); // appended after the fixture's last offset (35)
    // in a new segment: the fixture's records are older than segment.ms (7 days), and Kafka rolls by record timestamps
    expect(readMetadataLog(join(dir, METADATA_DIR, "00000000000000000036.log")).at(0)!.baseOffset).toBe(36);
    closeAll();
    s = await storage(1);
    expect([...s.image.topics.keys()]).toEqual(["foo", "bar"]);
    closeAll();
    await expect(storage(2)).rejects.toThrow(/node\.id/);
    expect(snapshot(FIXTURE)).toEqual(before);
  }, 3000);
});

/** Names, sizes and contents of every file under a dir, to prove it was not touched. */
function snapshot(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const p = join(e.parentPath, e.name);
      return `${p} ${Buffer.from(readFileSync(p)).toString("hex")}`;
    })
    .sort();
}
