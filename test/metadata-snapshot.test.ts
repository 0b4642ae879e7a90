// KRaft metadata snapshots (src/metadata/snapshot.ts, log.ts, store.ts): the
// file layout Kafka's RecordsSnapshotWriter gives (SnapshotHeaderRecord
// first, the image's records, SnapshotFooterRecord last, `%020d-%010d.checkpoint`
// written through `.part`), snapshots taken by bytes and by time, old
// snapshots and the segments below the next one deleted per
// metadata.max.retention.bytes / .ms, and a restart after all that rebuilding
// the same image. Kafka's DumpLogSegments --cluster-metadata-decoder reads our
// snapshot when Kafka's jars are installed (skipped with the reason otherwise).

import { log } from "../src/log.ts";
import { afterEach, beforeEach, describe, expect, spyOn, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ATTR_CONTROL, int16At, validateBatches } from "../src/records/batch.ts";
import { decodeRecords } from "../src/records/record.ts";
import { decodeMetadataRecord } from "../src/metadata/log.ts";
import { METADATA_DIR, MetadataStore } from "../src/metadata/store.ts";
import { snapshotBatches, snapshotFileName } from "../src/metadata/snapshot.ts";
import { uuidHex, uuidToBase64 } from "../src/metadata/uuid.ts";
import type { MetadataImage } from "../src/metadata/image.ts";
import { REFERENCE_REQUIRED, referenceToolsUnavailable, referenceUnavailable, runKafkaTool, startReference } from "./kafka-ref/reference.ts";
import { MetadataRequest, MetadataResponse } from "../src/protocol/messages/metadata.ts";
import { WireClient } from "./helpers.ts";
import { call } from "./wire-calls.ts";

let dir: string;
const open: MetadataStore[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "metadata-snapshot-"));
});
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

function store(config: Record<string, string> = {}): MetadataStore {
  const s = MetadataStore.open({ logDir: dir, nodeId: 1, brokerConfig: new Map(Object.entries(config)), warn: () => {} });
  open.push(s);
  return s;
}
function close(s: MetadataStore): void {
  open.splice(open.indexOf(s), 1);
  s.close();
}
const metaDir = () => join(dir, METADATA_DIR);
const filesEnding = (suffix: string) =>
  readdirSync(metaDir())
    .filter((n) => n.endsWith(suffix))
    .sort();

/** Everything the image holds, comparable. */
function imageState(image: MetadataImage) {
  return {
    metadataVersion: image.metadataVersion,
    features: [...image.features].sort(),
    topics: [...image.topics.values()]
      .map((t) => ({ name: t.name, id: uuidHex(t.id), partitions: t.partitions.map((p) => ({ ...p })) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    topicConfigs: [...image.topicConfigs].map(([k, v]) => [k, [...v].sort()]).sort(),
    brokerConfigs: [...image.brokerConfigs].map(([k, v]) => [k, [...v].sort()]).sort(),
    nextProducerId: image.nextProducerId,
  };
}

/** A little of everything the image keeps: topics with partitions, topic and broker configs, a deleted topic, producer ids. */
function churn(s: MetadataStore, round: number): void {
  s.createTopic(`t${round}`, 1 + (round % 3), { "retention.ms": String(1000 * (round + 1)) });
  s.alterTopicConfigs(`t${round}`, { "segment.bytes": String(1 << 20) });
  if (round % 2 === 1) s.createPartitions(`t${round}`, 4);
  if (round % 3 === 2) s.deleteTopic(`t${round - 1}`);
  s.writeConfigRecords([{ resourceType: 4, resourceName: "", name: "log.retention.bytes", value: String(round) }]);
  s.allocateProducerIdBlock();
}

/** The batches of a snapshot file: offset, epoch, control type (or null) and decoded records. */
function readSnapshot(path: string) {
  const buf = new Uint8Array(readFileSync(path));
  const scan = validateBatches(buf);
  if (!scan.ok) throw new Error(scan.reason);
  return scan.batches.map((b) => {
    const bytes = buf.subarray(b.position, b.position + b.size);
    const recs = decodeRecords(bytes);
    const control = (b.attributes & ATTR_CONTROL) !== 0;
    return {
      baseOffset: b.baseOffset,
      epoch: new DataView(bytes.buffer, bytes.byteOffset).getInt32(12),
      controlType: control ? int16At(recs[0]!.key!, 2) : null,
      records: control ? [] : recs.map((r) => decodeMetadataRecord(r.value!)),
      count: recs.length,
    };
  });
}

describe("the snapshot file", () => {
  test("named %020d-%010d.checkpoint; a header control batch at offset 0, data batches, a footer control batch, one epoch, offsets contiguous", () => {
    expect(snapshotFileName(1234, 7)).toBe("00000000000000001234-0000000007.checkpoint");
    const values = Array.from({ length: 5 }, () => new Uint8Array(300_000).fill(1));
    const batches = snapshotBatches(values, 7, 42_000, 50_000);
    // 5 values of 300 kB: data batches are cut at about 1 MiB
    expect(batches.length).toBe(4);
    const path = join(dir, "x.checkpoint");
    writeFileSync(path, Buffer.concat(batches));
    const read = readSnapshot(path);
    expect(read.map((b) => [b.baseOffset, b.controlType, b.count, b.epoch])).toEqual([
      [0, 3, 1, 7],
      [1, null, 3, 7],
      [4, null, 2, 7],
      [6, 4, 1, 7],
    ]);
    // SnapshotHeaderRecord v0: version 0, LastContainedLogTimestamp, no tagged fields
    const head = decodeRecords(new Uint8Array(batches[0]!))[0]!;
    expect([...head.key!]).toEqual([0, 0, 0, 3]);
    expect(Buffer.from(head.value!).toString("hex")).toBe("0000" + (42_000).toString(16).padStart(16, "0") + "00");
    const foot = decodeRecords(new Uint8Array(batches[3]!))[0]!;
    expect([...foot.key!, ...foot.value!]).toEqual([0, 0, 0, 4, 0, 0, 0]);
  });
});

describe("snapshots of the metadata log", () => {
  // every append snapshots; tiny segments roll often; the retention limits are always breached
  const EAGER = {
    "metadata.log.max.record.bytes.between.snapshots": "1",
    "internal.metadata.log.segment.bytes": "400",
    "metadata.max.retention.bytes": "0",
  };

  test("written after each append past the bytes limit; older snapshots and the segments below the latest go; a restart rebuilds the same image", () => {
    let s = store(EAGER);
    for (let round = 0; round < 8; round++) churn(s, round);
    const end = s.metadataLog.nextOffset;
    const snaps = filesEnding(".checkpoint");
    // only the latest stays, at the log end, at the log's epoch
    expect(snaps).toEqual([snapshotFileName(end, s.metadataLog.leaderEpoch)]);
    // the deleted ones wait out the file delete delay as .deleted
    expect(filesEnding(".checkpoint.deleted").length).toBeGreaterThan(5);
    expect(filesEnding(".checkpoint.part")).toEqual([]);
    // segments wholly below the latest snapshot went; what is left reaches from at or below it to the end
    const bases = s.metadataLog.segmentBaseOffsets;
    expect(bases.length).toBeLessThanOrEqual(2);
    expect(bases[0]!).toBeLessThanOrEqual(end);
    expect(filesEnding(".log.deleted").length).toBeGreaterThan(3);
    // the snapshot holds the image: metadata.version first, then topics with their partitions, configs, producer ids
    const read = readSnapshot(join(metaDir(), snaps[0]!));
    expect(read[0]!.controlType).toBe(3);
    expect(read[read.length - 1]!.controlType).toBe(4);
    const records = read.flatMap((b) => b.records);
    expect(records[0]).toMatchObject({ apiKey: 12, data: { name: "metadata.version", featureLevel: s.image.metadataVersion } });
    expect(records.filter((r) => r.apiKey === 2).map((r) => (r.data as { name: string }).name).sort()).toEqual([...s.image.topics.keys()].sort());
    expect(records.filter((r) => r.apiKey === 3)).toHaveLength([...s.image.topics.values()].reduce((n, t) => n + t.partitions.length, 0));
    expect(records.filter((r) => r.apiKey === 15).map((r) => (r.data as { nextProducerId: number }).nextProducerId)).toEqual([s.image.nextProducerId]);
    const before = imageState(s.image);
    expect(before.topics.length).toBe(6); // 8 created, 2 deleted
    close(s);

    // default limits: the restart replays the snapshot (and the log after it, empty here), removes the .deleted files
    s = store();
    expect(imageState(s.image)).toEqual(before);
    expect(filesEnding(".deleted")).toEqual([]);
    // records after the snapshot: replayed from the log on the next start
    churn(s, 8);
    expect(filesEnding(".checkpoint")).toEqual(snaps);
    const after = imageState(s.image);
    close(s);
    s = store();
    expect(imageState(s.image)).toEqual(after);
    // topic ids in partition records match the topics
    expect(after.topics.find((t) => t.name === "t8")!.id).toBe(uuidHex(s.image.topics.get("t8")!.id));
  });

  test("without retention pressure the older snapshots stay; metadata.max.retention.ms removes the old ones but never the latest", async () => {
    let s = store({ "metadata.log.max.record.bytes.between.snapshots": "1", "internal.metadata.delete.delay.millis": "50" });
    for (let round = 0; round < 3; round++) churn(s, round);
    const all = filesEnding(".checkpoint");
    // one per append (no retention reached: 100 MiB, 7 days)
    expect(all.length).toBeGreaterThan(10);
    // by time: nothing is older than a minute yet, then (clock moved on) all but the latest are
    const log = s.metadataLog;
    expect(log.clean(Date.now(), -1, 60_000)).toBe(false);
    expect(filesEnding(".checkpoint")).toEqual(all);
    expect(log.clean(Date.now() + 120_000, -1, 60_000)).toBe(true);
    expect(filesEnding(".checkpoint")).toEqual([snapshotFileName(log.nextOffset, log.leaderEpoch)]);
    expect(filesEnding(".checkpoint.deleted")).toHaveLength(all.length - 1);
    // removed once internal.metadata.delete.delay.millis (50 ms here) has passed
    const deadline = Date.now() + 5000;
    while (filesEnding(".checkpoint.deleted").length > 0) {
      if (Date.now() > deadline) throw new Error("the .deleted snapshots were not removed");
      await Bun.sleep(10);
    }
    const state = imageState(s.image);
    close(s);
    s = store();
    expect(imageState(s.image)).toEqual(state);
  });

  test("metadata.log.max.snapshot.interval.ms: new records get a snapshot once the interval has passed", async () => {
    const s = store({ "metadata.log.max.snapshot.interval.ms": "50" });
    expect(filesEnding(".checkpoint")).toEqual([]);
    s.createTopic("later", 1);
    const deadline = Date.now() + 5000;
    while (filesEnding(".checkpoint").length === 0) {
      if (Date.now() > deadline) throw new Error("no snapshot after the interval");
      await Bun.sleep(10);
    }
    expect(filesEnding(".checkpoint")).toEqual([snapshotFileName(s.metadataLog.nextOffset, s.metadataLog.leaderEpoch)]);
    // a later record gets the next one, once the interval has passed again
    const n = s.metadataLog.snapshotFiles.length;
    s.createTopic("again", 1);
    const deadline2 = Date.now() + 5000;
    while (s.metadataLog.snapshotFiles.length === n) {
      if (Date.now() > deadline2) throw new Error("no second snapshot");
      await Bun.sleep(10);
    }
    expect(s.metadataLog.snapshotFiles.at(-1)!.endOffset).toBe(s.metadataLog.nextOffset);
  });

  test("a cut-short .part file is removed and a damaged latest snapshot is passed over with one warning: the older one and the log rebuild the image", async () => {
    let s = store({ "metadata.log.max.record.bytes.between.snapshots": "1" });
    churn(s, 0);
    churn(s, 1);
    const state = imageState(s.image);
    const latest = s.metadataLog.snapshotFiles.at(-1)!;
    close(s);
    writeFileSync(join(metaDir(), snapshotFileName(latest.endOffset + 100, 1) + ".part"), "torn");
    // the latest snapshot loses its footer
    const bytes = readFileSync(latest.path);
    writeFileSync(latest.path, bytes.subarray(0, bytes.length - 10));
    const spy = spyOn(log, "warn").mockImplementation(() => {});
    const warned: string[] = [];
    try {
      s = MetadataStore.open({ logDir: dir, nodeId: 1, warn: (m) => warned.push(m) });
      open.push(s);
    } finally {
      spy.mockRestore();
    }
    expect(warned.filter((w) => w.includes("not a usable snapshot"))).toHaveLength(1);
    expect(imageState(s.image)).toEqual(state);
    expect(filesEnding(".part")).toEqual([]);
  });

});

const TOOLS = referenceToolsUnavailable();
describe("Kafka's tools", () => {
  test.skipIf(TOOLS !== null && !REFERENCE_REQUIRED)(`DumpLogSegments --cluster-metadata-decoder reads our snapshot${TOOLS ? ` (skipped: ${TOOLS})` : ""}`, async () => {
    const s = store({ "metadata.log.max.record.bytes.between.snapshots": "1" });
    for (let round = 0; round < 3; round++) churn(s, round);
    const snap = s.metadataLog.snapshotFiles.at(-1)!;
    const image = imageState(s.image);
    const r = await runKafkaTool("org.apache.kafka.tools.DumpLogSegments", ["--cluster-metadata-decoder", "--files", snap.path], 120_000);
    const all = `${r.stdout}\n${r.stderr}`;
    const bad = all.split("\n").filter((l) => /exception|error|mismatch|corrupt|non-consecutive|failed/i.test(l));
    if (r.code !== 0 || bad.length > 0) throw new Error(`DumpLogSegments: exit ${r.code}\n${bad.join("\n") || all.slice(-2000)}`);
    expect(r.stdout).toContain(`Snapshot end offset: ${snap.endOffset}, epoch: ${snap.epoch}`);
    expect(r.stdout).toMatch(/SnapshotHeader \{"version":0,"lastContainedLogTimestamp":\d+\}/);
    expect(r.stdout).toContain('SnapshotFooter {"version":0}');
    const payloads = r.stdout
      .split("\n")
      .map((l) => /payload: (\{.*\})$/.exec(l)?.[1])
      .filter((p): p is string => p !== undefined)
      .map((p) => JSON.parse(p) as { type: string; data: Record<string, unknown> });
    expect(payloads[0]).toMatchObject({ type: "FEATURE_LEVEL_RECORD", data: { name: "metadata.version", featureLevel: image.metadataVersion } });
    const topics = payloads.filter((p) => p.type === "TOPIC_RECORD").map((p) => p.data);
    expect(topics.map((t) => t.name).sort()).toEqual(image.topics.map((t) => t.name));
    for (const t of s.image.topics.values()) {
      const parts = payloads.filter((p) => p.type === "PARTITION_RECORD" && p.data.topicId === uuidToBase64(t.id));
      expect(parts.map((p) => [p.data.partitionId, p.data.leader, p.data.replicas])).toEqual(t.partitions.map((p) => [p.partition, 1, [1]]));
    }
    expect(payloads.filter((p) => p.type === "CONFIG_RECORD")).toHaveLength(image.topicConfigs.reduce((n, [, v]) => n + v.length, 0) + image.brokerConfigs.reduce((n, [, v]) => n + v.length, 0));
    expect(payloads.filter((p) => p.type === "PRODUCER_IDS_RECORD").map((p) => p.data.nextProducerId)).toEqual([image.nextProducerId]);
    expect(existsSync(snap.path)).toBe(true);
  }, 130_000);
});

const REFERENCE = referenceUnavailable();
describe("Apache Kafka", () => {
  test.skipIf(REFERENCE !== null && !REFERENCE_REQUIRED)(`adopts a metadata log whose start was moved to our snapshot${REFERENCE ? ` (skipped: ${REFERENCE})` : ""}`, async () => {
    const s = store({ "metadata.log.max.record.bytes.between.snapshots": "1", "internal.metadata.log.segment.bytes": "400", "metadata.max.retention.bytes": "0" });
    for (let round = 0; round < 6; round++) churn(s, round);
    // t0's TopicRecord (offset 4, after the four bootstrap records) is in a deleted segment: only the snapshot has it
    expect(s.metadataLog.segmentBaseOffsets[0]!).toBeGreaterThan(4);
    const image = imageState(s.image);
    close(s);
    const reference = await startReference({ dataDir: dir });
    try {
      const client = await WireClient.connect(reference.port);
      let md;
      try {
        md = await call(client, MetadataRequest, MetadataResponse, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      } finally {
        client.close();
      }
      const got = (md.topics as { name: string; topicId: Uint8Array; partitions: unknown[] }[]).map((t) => ({ name: t.name, id: uuidHex(t.topicId), partitions: t.partitions.length })).sort((a, b) => a.name.localeCompare(b.name));
      expect(got).toEqual(image.topics.map((t) => ({ name: t.name, id: t.id, partitions: t.partitions.length })));
    } finally {
      await reference.stop();
    }
  }, 180_000);
});
