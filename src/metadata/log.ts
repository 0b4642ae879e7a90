// The KRaft metadata log, <logdir>/__cluster_metadata-0/: record batches whose
// record values are framed metadata records
//   frameVersion uvarint (1) | apiKey uvarint (record type) | version uvarint | body (flexible codec)
// Control batches (leader change, snapshot header/footer, voters) are skipped.
//
// The segments are the same PartitionLog the partitions use (scan, append,
// read back); opening checks every CRC there. Opening replays the latest
// snapshot (<endOffset>-<epoch>.checkpoint), then every log batch from the
// snapshot's end offset. A torn or corrupt batch ends the replay with one
// warning and the log is truncated there, so later appends follow valid data.
// Appends are one batch per call, written and fsynced before returning:
// metadata changes are rare and must survive a crash.

import { log } from "../log.ts";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { codecFor } from "../protocol/codec.ts";
import { DecodeError, Reader } from "../protocol/reader.ts";
import { parseVersions, type Encodable } from "../protocol/schema.ts";
import { Writer } from "../protocol/writer.ts";
import { OFF_ATTRIBUTES, OFF_BASE_OFFSET, int16At, int64At, scanBatches } from "../records/batch.ts";
import { buildBatch, decodeRecords, isControlBatch } from "../records/record.ts";
import { decodeRecordBody, METADATA_RECORDS, type DecodedRecord, type MetadataRecordDef } from "./records.ts";
import { PartitionLog } from "../storage/partition-log.ts";

export const METADATA_FRAME_VERSION = 1;

/** A framed record: its body decoded (typed by apiKey), or null when it was not (unknown or unwanted record type). */
export type MetadataRecord = { readonly version: number } & (DecodedRecord | { readonly apiKey: number; readonly data: null });

/** Frames one metadata record as Kafka's MetadataRecordSerde does. */
export function encodeMetadataRecord<D extends MetadataRecordDef>(def: D, version: number, data: Encodable<D>): Uint8Array {
  const w = new Writer(256);
  w.uvarint(METADATA_FRAME_VERSION);
  w.uvarint(def.apiKey);
  w.uvarint(version);
  codecFor(def, version).write(w, data);
  return w.finish().slice();
}

/**
 * Reads the frame of a metadata record and, when `wanted(apiKey)` and the type
 * is defined, its body. Throws DecodeError on a bad frame, an unsupported
 * version or a body that does not parse.
 */
export function decodeMetadataRecord(value: Uint8Array, wanted: (apiKey: number) => boolean = () => true): MetadataRecord {
  const r = new Reader(value);
  const frame = r.uvarint();
  if (frame !== METADATA_FRAME_VERSION) throw new DecodeError(`metadata frame version ${frame}`);
  const apiKey = r.uvarint();
  const version = r.uvarint();
  const def = METADATA_RECORDS.get(apiKey);
  if (!def || !wanted(apiKey)) return { apiKey, version, data: null };
  const range = parseVersions(def.validVersions);
  if (version < range.min || version > range.max) throw new DecodeError(`${def.name} version ${version} is not supported`);
  return { version, ...decodeRecordBody(def, version, r) };
}

/** Calls `fn(offset, value)` for every record value at or after `fromOffset` of one batch (control batches skipped). */
function forEachValue(batch: Uint8Array, baseOffset: number, attributes: number, fromOffset: number, fn: (offset: number, value: Uint8Array) => void, warn: (m: string) => void): void {
  if (isControlBatch(attributes)) return;
  let recs;
  try {
    recs = decodeRecords(batch);
  } catch (e) {
    warn(`metadata batch at offset ${baseOffset} skipped: ${(e as Error).message}`);
    return;
  }
  for (const rec of recs) {
    const off = baseOffset + rec.offsetDelta;
    if (off >= fromOffset && rec.value !== null) fn(off, rec.value);
  }
}

const SNAPSHOT_RE = /^(\d{20})-(\d{10})\.checkpoint$/;
/** metadata.log.segment.bytes' default (1 GiB) */
const METADATA_SEGMENT_BYTES = 1 << 30;

/** Reads the metadata record values of a snapshot file (bootstrap.checkpoint or <end>-<epoch>.checkpoint). */
export function readCheckpointValues(path: string, warn: (m: string) => void = log.warn): Uint8Array[] {
  const buf = new Uint8Array(readFileSync(path));
  const scan = scanBatches(buf);
  if (scan.error) warn(`${path}: ${scan.error}; using the records before it`);
  const out: Uint8Array[] = [];
  for (const b of scan.batches) forEachValue(buf.subarray(b.position, b.position + b.size), b.baseOffset, b.attributes, 0, (_, v) => out.push(v), warn);
  return out;
}

export class MetadataLog {
  private constructor(
    private readonly log: PartitionLog,
    /** written into appended batches: the last epoch seen in the log, else 1 */
    public leaderEpoch: number,
    /** records replayed (0: the log held nothing) */
    readonly replayedRecords: number,
  ) {}

  get dir(): string {
    return this.log.dir;
  }

  /** the offset the next appended record gets */
  get nextOffset(): number {
    return this.log.logEndOffset;
  }

  /**
   * Opens (creating if needed) the metadata log in `dir` and replays it:
   * `onRecord` gets every metadata record in offset order, its body decoded
   * when `wanted(apiKey)`. Records that do not decode are skipped with a warning.
   */
  static open(dir: string, onRecord: (offset: number, rec: MetadataRecord) => void, wanted?: (apiKey: number) => boolean, warn: (m: string) => void = log.warn): MetadataLog {
    mkdirSync(dir, { recursive: true });
    let count = 0;
    const deliver = (offset: number, value: Uint8Array) => {
      count++;
      let rec: MetadataRecord;
      try {
        rec = decodeMetadataRecord(value, wanted);
      } catch (e) {
        warn(`metadata record at offset ${offset} skipped: ${(e as Error).message}`);
        return;
      }
      onRecord(offset, rec);
    };

    // the latest snapshot holds the whole state up to its end offset
    let snapshotEnd = 0;
    let epoch = -1;
    const snapshots = readdirSync(dir).map((n) => SNAPSHOT_RE.exec(n)).filter((m) => m !== null).sort((a, b) => Number(b[1]) - Number(a[1]));
    if (snapshots.length > 0) {
      const m = snapshots[0]!;
      snapshotEnd = Number(m[1]);
      epoch = Number(m[2]);
      for (const v of readCheckpointValues(join(dir, m[0]), warn)) deliver(-1, v);
    }

    // the log's own scan checks every batch (a bad one truncates the log there, with one warning)
    // and hands each header over: the epoch comes from there, the records from a read back
    const plog = PartitionLog.open(dir, {
      segmentBytes: METADATA_SEGMENT_BYTES,
      verifyCrc: "all",
      minStartOffset: snapshotEnd,
      onBatch: (b) => {
        if (b.partitionLeaderEpoch > epoch) epoch = b.partitionLeaderEpoch;
      },
      warn,
    });
    try {
      plog.forEachBatch(snapshotEnd, (batch) => forEachValue(batch, int64At(batch, OFF_BASE_OFFSET), int16At(batch, OFF_ATTRIBUTES), snapshotEnd, deliver, warn));
    } catch (e) {
      plog.close();
      throw e;
    }
    return new MetadataLog(plog, epoch >= 0 ? epoch : 1, count);
  }

  /** Appends record values as one batch, synced to disk. Returns the first record's offset. */
  appendValues(values: Uint8Array[]): number {
    const baseOffset = this.log.logEndOffset;
    const batch = buildBatch({
      baseOffset,
      partitionLeaderEpoch: this.leaderEpoch,
      records: values.map((value) => ({ value })),
    });
    this.log.append(batch, scanBatches(batch, false).batches);
    // metadata changes are rare and must survive a crash
    this.log.flush();
    return baseOffset;
  }

  close(): void {
    this.log.close();
  }
}
