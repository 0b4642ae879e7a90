// The KRaft metadata log, <logdir>/__cluster_metadata-0/: record batches whose
// record values are framed metadata records
//   frameVersion uvarint (1) | apiKey uvarint (record type) | version uvarint | body (flexible codec)
// Control batches (leader change, snapshot header/footer, voters) are skipped.
//
// The segments are the same PartitionLog the partitions use (scan, append,
// read back); opening checks every CRC there. Opening replays the latest
// snapshot (<endOffset>-<epoch>.checkpoint, snapshot.ts) that reads whole
// (header first, footer last; a damaged one is passed over with a warning,
// a `.part` left by a crash is removed), then every log batch from the
// snapshot's end offset. The store decides when to snapshot; clean() then
// drops old snapshots and the segments below the next one, as Kafka's
// KafkaMetadataLog.maybeClean, never the latest snapshot. A torn or corrupt batch ends the replay with one
// warning and the log is truncated there, so later appends follow valid data.
// Appends are one batch per call, written and fsynced before returning:
// metadata changes are rare and must survive a crash.

import { log } from "../log.ts";
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync } from "node:fs";
import { basename, join } from "node:path";
import { codecFor } from "../protocol/codec.ts";
import { DecodeError, Reader } from "../protocol/reader.ts";
import { parseVersions, type Encodable } from "../protocol/schema.ts";
import { Writer } from "../protocol/writer.ts";
import { OFF_ATTRIBUTES, OFF_BASE_OFFSET, int16At, int64At, scanBatches } from "../records/batch.ts";
import { buildBatch, decodeRecords, isControlBatch } from "../records/record.ts";
import { decodeRecordBody, METADATA_RECORDS, type DecodedRecord, type MetadataRecordDef } from "./records.ts";
import { PartitionLog } from "../storage/partition-log.ts";
import { checkSnapshotFile, PART_SUFFIX, SNAPSHOT_FILE_RE, SNAPSHOT_SUFFIX, writeSnapshotFile } from "./snapshot.ts";

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

/** metadata.log.segment.bytes' default (1 GiB) */
const METADATA_SEGMENT_BYTES = 1 << 30;
/** internal.metadata.delete.delay.millis' default: deleted segments and snapshots linger this long */
const METADATA_FILE_DELETE_DELAY_MS = 60_000;

export interface MetadataLogOptions {
  /** metadata.log.segment.bytes */
  segmentBytes?: number;
  /** metadata.log.segment.ms */
  segmentMs?: number;
  /** internal.metadata.delete.delay.millis */
  fileDeleteDelayMs?: number;
  info?: (message: string) => void;
}

/** One snapshot file of the metadata log. */
export interface SnapshotFile {
  /** the offset after the last record it contains */
  endOffset: number;
  epoch: number;
  path: string;
  size: number;
  /** SnapshotHeaderRecord.LastContainedLogTimestamp */
  timestamp: number;
}

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
  /** the valid snapshots, oldest first */
  private readonly snapshots: SnapshotFile[];
  /** bytes of the batches after the latest snapshot (replayed at open, then appended): what the snapshot policy counts */
  bytesSinceSnapshot: number;
  /** when the latest snapshot was written (or the log opened) */
  lastSnapshotMs = Date.now();
  /** the max timestamp of the last batch: a snapshot's LastContainedLogTimestamp */
  private lastBatchTimestamp: number;
  /** Kafka's log start offset of the metadata log: nothing below it is needed (the earliest snapshot covers it) */
  private startOffset: number;
  private readonly deleteTimers = new Set<ReturnType<typeof setTimeout>>();

  private constructor(
    private readonly log: PartitionLog,
    /** written into appended batches: the last epoch seen in the log, else 1 */
    public leaderEpoch: number,
    /** records replayed (0: the log held nothing) */
    readonly replayedRecords: number,
    snapshots: SnapshotFile[],
    bytesSinceSnapshot: number,
    lastBatchTimestamp: number,
    /** how long deleted snapshots linger as .deleted */
    private readonly fileDeleteDelayMs: number,
    private readonly warn: (m: string) => void,
    private readonly info: (m: string) => void,
  ) {
    this.snapshots = snapshots;
    this.bytesSinceSnapshot = bytesSinceSnapshot;
    this.lastBatchTimestamp = lastBatchTimestamp;
    this.startOffset = Math.max(log.logStartOffset, snapshots[0]?.endOffset ?? 0);
  }

  get dir(): string {
    return this.log.dir;
  }

  /** the offset the next appended record gets */
  get nextOffset(): number {
    return this.log.logEndOffset;
  }

  /** The valid snapshot files, oldest first. */
  get snapshotFiles(): readonly SnapshotFile[] {
    return this.snapshots;
  }

  /** The base offsets of the log's segments, oldest first. */
  get segmentBaseOffsets(): number[] {
    return this.log.segmentBaseOffsets;
  }

  /** The bytes of the log's segments. */
  get sizeInBytes(): number {
    return this.log.sizeInBytes;
  }

  /**
   * Opens (creating if needed) the metadata log in `dir` and replays it:
   * `onRecord` gets every metadata record in offset order, its body decoded
   * when `wanted(apiKey)`. Records that do not decode are skipped with a warning.
   */
  static open(dir: string, onRecord: (offset: number, rec: MetadataRecord) => void, wanted?: (apiKey: number) => boolean, warn: (m: string) => void = log.warn, opts: MetadataLogOptions = {}): MetadataLog {
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

    // the latest snapshot that reads whole (header first, footer last) holds the state up to its end offset
    const names = readdirSync(dir);
    // a snapshot whose writing a crash cut short (Kafka deletes these on start-up too)
    for (const n of names) if (n.endsWith(SNAPSHOT_SUFFIX + PART_SUFFIX)) unlinkQuietly(join(dir, n), warn);
    const snapshots: SnapshotFile[] = [];
    for (const n of names) {
      const m = SNAPSHOT_FILE_RE.exec(n);
      if (!m) continue;
      const path = join(dir, n);
      const check = checkSnapshotFile(path);
      if ("error" in check) {
        warn(`${path}: not a usable snapshot (${check.error}); ignored`);
        continue;
      }
      snapshots.push({ endOffset: Number(m[1]), epoch: Number(m[2]), path, size: statSync(path).size, timestamp: check.timestamp });
    }
    snapshots.sort((a, b) => a.endOffset - b.endOffset);
    let snapshotEnd = 0;
    let epoch = -1;
    const latest = snapshots[snapshots.length - 1];
    if (latest) {
      snapshotEnd = latest.endOffset;
      epoch = latest.epoch;
      for (const v of readCheckpointValues(latest.path, warn)) deliver(-1, v);
    }

    // the log's own scan checks every batch (a bad one truncates the log there, with one warning)
    // and hands each header over: the epoch comes from there, the records from a read back
    let lastTs = latest?.timestamp ?? -1;
    const plog = PartitionLog.open(dir, {
      segmentBytes: opts.segmentBytes ?? METADATA_SEGMENT_BYTES,
      segmentMs: opts.segmentMs,
      verifyCrc: "all",
      minStartOffset: snapshotEnd,
      onBatch: (b) => {
        if (b.partitionLeaderEpoch > epoch) epoch = b.partitionLeaderEpoch;
        lastTs = b.maxTimestamp;
      },
      names,
      warn,
    });
    plog.fileDeleteDelayMs = opts.fileDeleteDelayMs ?? METADATA_FILE_DELETE_DELAY_MS;
    let bytes = 0;
    try {
      plog.forEachBatch(snapshotEnd, (batch) => {
        bytes += batch.length;
        forEachValue(batch, int64At(batch, OFF_BASE_OFFSET), int16At(batch, OFF_ATTRIBUTES), snapshotEnd, deliver, warn);
      });
    } catch (e) {
      plog.close();
      throw e;
    }
    return new MetadataLog(plog, epoch >= 0 ? epoch : 1, count, snapshots, bytes, lastTs, plog.fileDeleteDelayMs, warn, opts.info ?? log.info);
  }

  /** Appends record values as one batch, synced to disk. Returns the first record's offset. */
  appendValues(values: Uint8Array[]): number {
    const baseOffset = this.log.logEndOffset;
    const now = Date.now();
    const batch = buildBatch({
      baseOffset,
      partitionLeaderEpoch: this.leaderEpoch,
      baseTimestamp: now,
      records: values.map((value) => ({ value })),
    });
    this.log.append(batch, scanBatches(batch, false).batches);
    // metadata changes are rare and must survive a crash
    this.log.flush();
    this.bytesSinceSnapshot += batch.length;
    this.lastBatchTimestamp = now;
    return baseOffset;
  }

  /**
   * Writes a snapshot at the log end holding `values` (the image's records)
   * and returns it; null when the latest snapshot is already there.
   */
  writeSnapshot(values: Uint8Array[]): SnapshotFile | null {
    const end = this.nextOffset;
    const latest = this.snapshots[this.snapshots.length - 1];
    if (latest && latest.endOffset >= end) return null;
    const { path, size } = writeSnapshotFile(this.dir, end, this.leaderEpoch, values, this.lastBatchTimestamp);
    const snap: SnapshotFile = { endOffset: end, epoch: this.leaderEpoch, path, size, timestamp: this.lastBatchTimestamp };
    this.snapshots.push(snap);
    this.bytesSinceSnapshot = 0;
    this.lastSnapshotMs = Date.now();
    return snap;
  }

  /**
   * Kafka's KafkaMetadataLog.maybeClean: while the log and the snapshots
   * together are above `retentionBytes`, or the oldest snapshot is older than
   * `retentionMs` (by its LastContainedLogTimestamp), the oldest snapshot
   * goes and the log start moves to the next one's end offset, taking the
   * segments wholly below it; the latest snapshot always stays, so nothing it
   * does not cover is deleted. Negative limits: none. Returns whether
   * anything went.
   */
  clean(nowMs: number, retentionBytes: number, retentionMs: number): boolean {
    let did = false;
    if (retentionBytes >= 0) {
      let total = 0;
      for (const s of this.snapshots) total += s.size;
      did = this.cleanWhile((s) => {
        if (this.log.sizeInBytes + total <= retentionBytes) return null;
        const reason = `the log (${this.log.sizeInBytes} bytes) and its snapshots (${total} bytes) are above metadata.max.retention.bytes ${retentionBytes}`;
        total -= s.size;
        return reason;
      });
    }
    if (retentionMs >= 0) {
      did = this.cleanWhile((s) => (nowMs - s.timestamp > retentionMs ? `it is older than metadata.max.retention.ms ${retentionMs} (last record at ${s.timestamp})` : null)) || did;
    }
    return did;
  }

  /** Kafka's cleanSnapshots: deletes before each next snapshot while `why` gives a reason for the one before it. */
  private cleanWhile(why: (oldest: SnapshotFile) => string | null): boolean {
    let did = false;
    while (this.snapshots.length >= 2) {
      const reason = why(this.snapshots[0]!);
      if (reason === null || !this.deleteBeforeSnapshot(this.snapshots[1]!, reason)) break;
      did = true;
    }
    return did;
  }

  /** Moves the log start to `snap` (not the latest's past): the segments wholly below it and the older snapshots go. */
  private deleteBeforeSnapshot(snap: SnapshotFile, reason: string): boolean {
    const latest = this.snapshots[this.snapshots.length - 1]!;
    if (!(this.startOffset < snap.endOffset && snap.endOffset <= latest.endOffset)) return false;
    this.startOffset = snap.endOffset;
    const segments = this.log.deleteSegmentsBefore(snap.endOffset);
    const gone = this.snapshots.splice(0, this.snapshots.indexOf(snap));
    for (const s of gone) this.removeSnapshot(s);
    this.info(
      `metadata log: start moved to ${snap.endOffset}: ${gone.map((s) => basename(s.path)).join(", ")} and ${segments} segment(s) below it deleted, because ${reason}`,
    );
    return true;
  }

  /** Renamed `.deleted` at once, removed after the file delete delay (a leftover goes at the next start-up). */
  private removeSnapshot(s: SnapshotFile): void {
    const to = s.path + ".deleted";
    try {
      renameSync(s.path, to);
    } catch (e) {
      this.warn(`${s.path}: not renamed for deletion: ${(e as Error).message}`);
      return;
    }
    const t = setTimeout(() => {
      this.deleteTimers.delete(t);
      unlinkQuietly(to, this.warn);
    }, this.fileDeleteDelayMs);
    t.unref?.();
    this.deleteTimers.add(t);
  }

  close(): void {
    for (const t of this.deleteTimers) clearTimeout(t);
    this.deleteTimers.clear();
    this.log.close();
  }
}

function unlinkQuietly(path: string, warn: (m: string) => void): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") warn(`${path}: not removed: ${(e as Error).message}`);
  }
}
