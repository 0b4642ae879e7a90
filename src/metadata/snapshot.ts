// KRaft metadata snapshots, `<endOffset %020d>-<epoch %010d>.checkpoint` in
// __cluster_metadata-0, as Kafka's controller writes them (SnapshotEmitter,
// RecordsSnapshotWriter, MetadataImage.write):
//   control batch at offset 0: SnapshotHeaderRecord (version 0, the append
//     time of the last log record the snapshot contains)
//   data batches from offset 1: the image as metadata records, in
//     MetadataImage.write's order: FeatureLevelRecords (metadata.version
//     first), ZkMigrationStateRecord, per topic its TopicRecord and
//     PartitionRecords, ConfigRecords, ProducerIdsRecord
//   control batch: SnapshotFooterRecord (version 0)
// every batch carrying the snapshot's epoch. The file is written as
// `<name>.part`, fsynced, then renamed and the dir fsynced (FileRawSnapshotWriter.freeze).
// Only what the image holds is written: record types the broker does not
// apply (broker registrations, ACLs, quotas) are not in our image.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Encodable } from "../protocol/schema.ts";
import { Writer } from "../protocol/writer.ts";
import { ATTR_CONTROL, int16At, scanBatches } from "../records/batch.ts";
import { buildBatch, controlRecordKey, ControlType, decodeRecords } from "../records/record.ts";
import type { MetadataImage } from "./image.ts";
import { encodeMetadataRecord } from "./log.ts";
import { ConfigRecord, FeatureLevelRecord, PartitionRecord, ProducerIdsRecord, TopicRecord, ZkMigrationStateRecord } from "./records.ts";

export const SNAPSHOT_SUFFIX = ".checkpoint";
export const PART_SUFFIX = ".part";
export const SNAPSHOT_FILE_RE = /^(\d{20})-(\d{10})\.checkpoint$/;

const SNAPSHOT_HEADER = ControlType.SNAPSHOT_HEADER;
const SNAPSHOT_FOOTER = ControlType.SNAPSHOT_FOOTER;
/** records of one data batch are cut at about this many bytes */
const BATCH_BYTES = 1 << 20;
/** metadata.version levels: 3.4-IV0 (ZK migration state), 3.7-IV2 (directory assignment, PartitionRecord v1) */
const MV_MIGRATION = 8;
const MV_DIRECTORY_ASSIGNMENT = 17;

export function snapshotFileName(endOffset: number, epoch: number): string {
  return `${String(endOffset).padStart(20, "0")}-${String(epoch).padStart(10, "0")}${SNAPSHOT_SUFFIX}`;
}

/**
 * The image as the metadata records that rebuild it (MetadataImage.write).
 * `directoryId` stands in for partitions whose records carried none.
 */
export function imageRecords(image: MetadataImage, directoryId: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const mv = image.metadataVersion;
  out.push(encodeMetadataRecord(FeatureLevelRecord, 0, { name: "metadata.version", featureLevel: mv }));
  for (const [name, level] of image.features) if (name !== "metadata.version") out.push(encodeMetadataRecord(FeatureLevelRecord, 0, { name, featureLevel: level }));
  // ours never migrates from ZooKeeper: NONE
  if (mv >= MV_MIGRATION) out.push(encodeMetadataRecord(ZkMigrationStateRecord, 0, { zkMigrationState: 0 }));
  const pv = mv >= MV_DIRECTORY_ASSIGNMENT ? 1 : 0;
  for (const t of image.topicsById.values()) {
    out.push(encodeMetadataRecord(TopicRecord, 0, { name: t.name, topicId: t.id }));
    for (const p of t.partitions) {
      if (!p) continue;
      const extras = image.partitionExtras.get(p);
      const dirs = extras?.directories ?? [];
      const rec: Encodable<typeof PartitionRecord> = {
        partitionId: p.partition,
        topicId: t.id,
        replicas: [...p.replicas],
        isr: [...p.isr],
        removingReplicas: [],
        addingReplicas: [],
        leader: p.leader,
        leaderRecoveryState: extras?.leaderRecoveryState ?? 0,
        leaderEpoch: p.leaderEpoch,
        partitionEpoch: p.partitionEpoch,
        directories: pv >= 1 ? (dirs.length === p.replicas.length ? [...dirs] : p.replicas.map(() => directoryId)) : [],
      };
      out.push(encodeMetadataRecord(PartitionRecord, pv, rec));
    }
  }
  const configs = (resourceType: number, byResource: ReadonlyMap<string, ReadonlyMap<string, string>>) => {
    for (const [resourceName, entries] of byResource) for (const [name, value] of entries) out.push(encodeMetadataRecord(ConfigRecord, 0, { resourceType, resourceName, name, value }));
  };
  configs(4, image.brokerConfigs);
  configs(2, image.topicConfigs);
  if (image.nextProducerId > 0) out.push(encodeMetadataRecord(ProducerIdsRecord, 0, { brokerId: -1, brokerEpoch: -1, nextProducerId: image.nextProducerId }));
  return out;
}

/** A control batch of one record (ControlRecordType key v0, the message with its flexible tagged-field count). */
function controlBatch(baseOffset: number, epoch: number, now: number, type: number, value: Uint8Array): Uint8Array {
  return buildBatch({ baseOffset, partitionLeaderEpoch: epoch, attributes: ATTR_CONTROL, baseTimestamp: now, records: [{ key: controlRecordKey(type), value }] });
}

function headerValue(lastContainedLogTimestamp: number): Uint8Array {
  const w = new Writer(16);
  w.int16(0); // version
  w.int64(lastContainedLogTimestamp);
  w.uvarint(0); // no tagged fields
  return w.finish().slice();
}

function footerValue(): Uint8Array {
  const w = new Writer(4);
  w.int16(0);
  w.uvarint(0);
  return w.finish().slice();
}

/** The batches of a snapshot file holding `values`. */
export function snapshotBatches(values: readonly Uint8Array[], epoch: number, lastContainedLogTimestamp: number, now = Date.now()): Uint8Array[] {
  const out = [controlBatch(0, epoch, now, SNAPSHOT_HEADER, headerValue(lastContainedLogTimestamp))];
  let offset = 1;
  for (let i = 0; i < values.length; ) {
    let bytes = 0;
    let j = i;
    while (j < values.length && (j === i || bytes + values[j]!.length <= BATCH_BYTES)) bytes += values[j++]!.length;
    out.push(buildBatch({ baseOffset: offset, partitionLeaderEpoch: epoch, baseTimestamp: now, records: values.slice(i, j).map((value) => ({ value })) }));
    offset += j - i;
    i = j;
  }
  out.push(controlBatch(offset, epoch, now, SNAPSHOT_FOOTER, footerValue()));
  return out;
}

/**
 * Writes the snapshot `<endOffset>-<epoch>.checkpoint` in `dir`: to a
 * `.part` file, fsynced, renamed, the dir fsynced. Returns its path and size.
 */
export function writeSnapshotFile(dir: string, endOffset: number, epoch: number, values: readonly Uint8Array[], lastContainedLogTimestamp: number): { path: string; size: number } {
  const path = join(dir, snapshotFileName(endOffset, epoch));
  const part = path + PART_SUFFIX;
  let size = 0;
  const fd = openSync(part, "w");
  try {
    for (const b of snapshotBatches(values, epoch, lastContainedLogTimestamp)) {
      for (let done = 0; done < b.length; ) done += writeSync(fd, b, done, b.length - done);
      size += b.length;
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(part, path);
  const d = openSync(dir, "r");
  try {
    fsyncSync(d);
  } finally {
    closeSync(d);
  }
  return { path, size };
}

/**
 * Checks a snapshot file as Kafka's reader would need it: whole batches, a
 * SnapshotHeaderRecord first and a SnapshotFooterRecord last. Returns the
 * header's lastContainedLogTimestamp, or the reason it is not usable.
 */
export function checkSnapshotFile(path: string): { timestamp: number } | { error: string } {
  let buf: Uint8Array;
  try {
    buf = new Uint8Array(readFileSync(path));
  } catch (e) {
    return { error: (e as Error).message };
  }
  const scan = scanBatches(buf);
  if (scan.error) return { error: scan.error };
  const controlType = (i: number): { type: number; value: Uint8Array } | null => {
    const b = scan.batches[i];
    if (!b || !(b.attributes & ATTR_CONTROL)) return null;
    const rec = decodeRecords(buf.subarray(b.position, b.position + b.size))[0];
    if (!rec?.key || rec.key.length < 4 || !rec.value) return null;
    return { type: int16At(rec.key, 2), value: rec.value };
  };
  const head = controlType(0);
  if (head?.type !== SNAPSHOT_HEADER || head.value.length < 10) return { error: "no SnapshotHeaderRecord first" };
  if (controlType(scan.batches.length - 1)?.type !== SNAPSHOT_FOOTER) return { error: "no SnapshotFooterRecord at the end" };
  const v = new DataView(head.value.buffer, head.value.byteOffset, head.value.byteLength);
  return { timestamp: Number(v.getBigInt64(2)) };
}
