// The KRaft metadata log, <logdir>/__cluster_metadata-0/: record batches whose
// record values are framed metadata records
//   frameVersion uvarint (1) | apiKey uvarint (record type) | version uvarint | body (flexible codec)
// Control batches (leader change, snapshot header/footer, voters) are skipped.
//
// Opening replays the latest snapshot (<endOffset>-<epoch>.checkpoint), then
// every log batch from the snapshot's end offset. A torn or corrupt batch ends
// the replay with one warning and the file is truncated there, so later appends
// follow valid data. Appends are one batch per call, written and fsynced
// before returning: metadata changes are rare and must survive a crash.

import { log } from "../log.ts";
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { codecFor, type Msg } from "../protocol/codec.ts";
import { DecodeError, Reader } from "../protocol/reader.ts";
import { parseVersions, type MessageDef } from "../protocol/schema.ts";
import { Writer } from "../protocol/writer.ts";
import { OFF_LEADER_EPOCH, scanBatches, type BatchInfo } from "../records/batch.ts";
import { buildBatch, decodeRecords, isControlBatch } from "../records/record.ts";
import { METADATA_RECORDS } from "./records.ts";

export const METADATA_FRAME_VERSION = 1;

export interface MetadataRecord {
  apiKey: number;
  version: number;
  /** null when the body was not decoded (unknown or unwanted record type) */
  data: Msg | null;
}

/** Frames one metadata record as Kafka's MetadataRecordSerde does. */
export function encodeMetadataRecord(def: MessageDef, version: number, data: Msg): Uint8Array {
  const w = new Writer(256);
  w.uvarint(METADATA_FRAME_VERSION);
  w.uvarint(def.apiKey!);
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
  return { apiKey, version, data: codecFor(def, version).read(r) };
}

/** Calls `fn(offset, value)` for every record value of the non-control batches at or after `fromOffset`. */
function forEachValue(buf: Uint8Array, batches: BatchInfo[], fromOffset: number, fn: (offset: number, value: Uint8Array) => void, warn: (m: string) => void): void {
  for (const b of batches) {
    if (isControlBatch(b.attributes) || b.baseOffset + b.lastOffsetDelta < fromOffset) continue;
    let recs;
    try {
      recs = decodeRecords(buf.subarray(b.position, b.position + b.size));
    } catch (e) {
      warn(`metadata batch at offset ${b.baseOffset} skipped: ${(e as Error).message}`);
      continue;
    }
    for (const rec of recs) {
      const off = b.baseOffset + rec.offsetDelta;
      if (off >= fromOffset && rec.value !== null) fn(off, rec.value);
    }
  }
}

const SEGMENT_RE = /^(\d{20})\.log$/;
const SNAPSHOT_RE = /^(\d{20})-(\d{10})\.checkpoint$/;

export function segmentFileName(baseOffset: number, suffix = ".log"): string {
  return String(baseOffset).padStart(20, "0") + suffix;
}

/** Reads the metadata record values of a snapshot file (bootstrap.checkpoint or <end>-<epoch>.checkpoint). */
export function readCheckpointValues(path: string, warn: (m: string) => void = log.warn): Uint8Array[] {
  const buf = new Uint8Array(readFileSync(path));
  const scan = scanBatches(buf);
  if (scan.error) warn(`${path}: ${scan.error}; using the records before it`);
  const out: Uint8Array[] = [];
  forEachValue(buf, scan.batches, 0, (_, v) => out.push(v), warn);
  return out;
}

export class MetadataLog {
  private constructor(
    readonly dir: string,
    private fd: number,
    private fileSize: number,
    /** the offset the next appended record gets */
    public nextOffset: number,
    /** written into appended batches: the last epoch seen in the log, else 1 */
    public leaderEpoch: number,
    /** records replayed (0: the log held nothing) */
    readonly replayedRecords: number,
  ) {}

  /**
   * Opens (creating if needed) the metadata log in `dir` and replays it:
   * `onRecord` gets every metadata record in offset order, its body decoded
   * when `wanted(apiKey)`. Records that do not decode are skipped with a warning.
   */
  static open(dir: string, onRecord: (offset: number, rec: MetadataRecord) => void, wanted?: (apiKey: number) => boolean, warn: (m: string) => void = log.warn): MetadataLog {
    mkdirSync(dir, { recursive: true });
    const names = readdirSync(dir);
    let count = 0;
    let epoch = -1;
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
    const snapshots = names.map((n) => SNAPSHOT_RE.exec(n)).filter((m) => m !== null).sort((a, b) => Number(b[1]) - Number(a[1]));
    if (snapshots.length > 0) {
      const m = snapshots[0]!;
      snapshotEnd = Number(m[1]);
      epoch = Number(m[2]);
      for (const v of readCheckpointValues(join(dir, m[0]), warn)) deliver(-1, v);
    }

    const segments = names.map((n) => SEGMENT_RE.exec(n)).filter((m) => m !== null).map((m) => Number(m[1])).sort((a, b) => a - b);
    if (segments.length === 0) segments.push(snapshotEnd);
    let nextOffset = Math.max(snapshotEnd, segments[0]!);
    let lastFileSize = 0;
    for (let i = 0; i < segments.length; i++) {
      const path = join(dir, segmentFileName(segments[i]!));
      const buf = existsSync(path) ? new Uint8Array(readFileSync(path)) : new Uint8Array(0);
      const scan = scanBatches(buf);
      forEachValue(buf, scan.batches, snapshotEnd, deliver, warn);
      for (const b of scan.batches) {
        nextOffset = Math.max(nextOffset, b.baseOffset + b.lastOffsetDelta + 1);
        const ple = new DataView(buf.buffer, buf.byteOffset + b.position + OFF_LEADER_EPOCH, 4).getInt32(0);
        if (ple >= 0) epoch = Math.max(epoch, ple);
      }
      lastFileSize = scan.end;
      if (scan.error) {
        warn(`${path}: ${scan.error}; metadata replay stops there and the log is truncated`);
        truncateFile(path, scan.end);
        // what follows a corrupt batch cannot be trusted (Kafka's recovery drops it too)
        for (const later of segments.slice(i + 1)) unlinkSync(join(dir, segmentFileName(later)));
        segments.length = i + 1;
        break;
      }
    }

    const active = join(dir, segmentFileName(segments[segments.length - 1]!));
    const fd = openSync(active, existsSync(active) ? "r+" : "w+");
    return new MetadataLog(dir, fd, lastFileSize, nextOffset, epoch >= 0 ? epoch : 1, count);
  }

  /** Appends record values as one batch, synced to disk. Returns the first record's offset. */
  appendValues(values: Uint8Array[]): number {
    const baseOffset = this.nextOffset;
    const batch = buildBatch({
      baseOffset,
      partitionLeaderEpoch: this.leaderEpoch,
      records: values.map((value) => ({ value })),
    });
    let done = 0;
    try {
      while (done < batch.length) done += writeSync(this.fd, batch, done, batch.length - done, this.fileSize + done);
      fsyncSync(this.fd);
    } catch (e) {
      ftruncateSync(this.fd, this.fileSize); // never leave half a batch behind
      throw e;
    }
    this.fileSize += batch.length;
    this.nextOffset += values.length;
    return baseOffset;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

function truncateFile(path: string, size: number): void {
  const fd = openSync(path, "r+");
  try {
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}
