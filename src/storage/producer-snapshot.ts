// Kafka's producer state snapshot files, `<20-digit offset>.snapshot` in a
// partition dir (ProducerStateManager.writeSnapshot/readSnapshot, the
// ProducerSnapshot message of storage/src/main/resources/message, version 1,
// not flexible), big-endian:
//   version                 int16   1
//   crc                     uint32  CRC-32C of every byte after it (offset 6 to the end)
//   producer entry count    int32
//   per entry (46 bytes):
//     producer id           int64
//     epoch                 int16
//     last sequence         int32   -1 when the entry holds no batch
//     last offset           int64   -1 when the entry holds no batch
//     offset delta          int32   last offset - first offset of the last batch (0 without one)
//     timestamp             int64   the producer's last timestamp (its last batch's max timestamp)
//     coordinator epoch     int32   -1 until a transaction marker
//     current txn first offset int64 -1 without an open transaction
// The offset in the name is the log offset the state holds up to (exclusive).
// Only the last batch of each producer is kept: a state loaded from a
// snapshot recognises that one batch as a duplicate, not the five before.
// A file that does not parse, has another version or a wrong CRC is corrupt
// (CorruptSnapshotError), as Kafka's CorruptSnapshotException.

import { closeSync, fsyncSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { crc32c } from "../records/crc32c.ts";

export const SNAPSHOT_SUFFIX = ".snapshot";
export const SNAPSHOT_FILE_RE = /^(\d{20})\.snapshot$/;
const VERSION = 1;
const CRC_OFFSET = 2;
const ENTRIES_OFFSET = 6;
const ENTRY_SIZE = 46;

/** One producer as a snapshot holds it (Kafka's ProducerSnapshot.ProducerEntry). */
export interface SnapshotEntry {
  producerId: number;
  epoch: number;
  lastSequence: number;
  lastOffset: number;
  offsetDelta: number;
  timestamp: number;
  coordinatorEpoch: number;
  currentTxnFirstOffset: number;
}

export class CorruptSnapshotError extends Error {}

/** `<dir>/<20-digit offset>.snapshot` */
export function snapshotPath(dir: string, offset: number): string {
  return join(dir, String(offset).padStart(20, "0") + SNAPSHOT_SUFFIX);
}

/** The file's bytes, CRC filled in, as Kafka's writeSnapshot lays them out. */
export function encodeProducerSnapshot(entries: readonly SnapshotEntry[]): Uint8Array {
  const buf = new Uint8Array(ENTRIES_OFFSET + 4 + entries.length * ENTRY_SIZE);
  const v = new DataView(buf.buffer);
  v.setInt16(0, VERSION);
  v.setInt32(ENTRIES_OFFSET, entries.length);
  let p = ENTRIES_OFFSET + 4;
  for (const e of entries) {
    v.setBigInt64(p, BigInt(e.producerId));
    v.setInt16(p + 8, e.epoch);
    v.setInt32(p + 10, e.lastSequence);
    v.setBigInt64(p + 14, BigInt(e.lastOffset));
    v.setInt32(p + 22, e.offsetDelta);
    v.setBigInt64(p + 26, BigInt(e.timestamp));
    v.setInt32(p + 34, e.coordinatorEpoch);
    v.setBigInt64(p + 38, BigInt(e.currentTxnFirstOffset));
    p += ENTRY_SIZE;
  }
  v.setUint32(CRC_OFFSET, crc32c(buf, ENTRIES_OFFSET));
  return buf;
}

/** The entries of a snapshot file's bytes; throws CorruptSnapshotError as Kafka's readSnapshot would. */
export function decodeProducerSnapshot(buf: Uint8Array): SnapshotEntry[] {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 2) throw new CorruptSnapshotError("Snapshot failed schema validation: buffer underflow");
  const version = v.getInt16(0);
  if (version !== VERSION) throw new CorruptSnapshotError(`Snapshot contained an unknown file version ${version}`);
  if (buf.length < ENTRIES_OFFSET + 4) throw new CorruptSnapshotError("Snapshot failed schema validation: buffer underflow");
  const count = v.getInt32(ENTRIES_OFFSET);
  if (count < 0) throw new CorruptSnapshotError("Snapshot failed schema validation: non-nullable field producerEntries was serialized as null");
  if (buf.length < ENTRIES_OFFSET + 4 + count * ENTRY_SIZE) throw new CorruptSnapshotError("Snapshot failed schema validation: buffer underflow");
  const stored = v.getUint32(CRC_OFFSET);
  const computed = crc32c(buf, ENTRIES_OFFSET);
  if (stored !== computed) throw new CorruptSnapshotError(`Snapshot is corrupt (CRC is no longer valid). Stored crc: ${stored}. Computed crc: ${computed}`);
  const out: SnapshotEntry[] = [];
  let p = ENTRIES_OFFSET + 4;
  for (let i = 0; i < count; i++) {
    out.push({
      producerId: Number(v.getBigInt64(p)),
      epoch: v.getInt16(p + 8),
      lastSequence: v.getInt32(p + 10),
      lastOffset: Number(v.getBigInt64(p + 14)),
      offsetDelta: v.getInt32(p + 22),
      timestamp: Number(v.getBigInt64(p + 26)),
      coordinatorEpoch: v.getInt32(p + 34),
      currentTxnFirstOffset: Number(v.getBigInt64(p + 38)),
    });
    p += ENTRY_SIZE;
  }
  return out;
}

export function readProducerSnapshot(path: string): SnapshotEntry[] {
  return decodeProducerSnapshot(readFileSync(path));
}

/** Writes the file (replacing one of that name); fsyncs it when `sync`. */
export function writeProducerSnapshot(path: string, entries: readonly SnapshotEntry[], sync: boolean): void {
  const bytes = encodeProducerSnapshot(entries);
  const fd = openSync(path, "w");
  try {
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, done);
    if (sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncs a snapshot written without sync; one already deleted is no error. */
export function syncProducerSnapshot(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Removes a snapshot file; a missing one is no error. */
export function deleteProducerSnapshot(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}

/**
 * The snapshot files of one partition dir, by offset, as Kafka's
 * ProducerStateManager tracks them: which exist, which are kept (those at a
 * segment's base offset, plus the newest "stray" above the last segment's
 * base: the one a clean shutdown or a start-up wrote at the log end), and
 * which written without fsync still need one.
 */
export class ProducerSnapshots {
  /** ascending */
  private offsets: number[] = [];
  private readonly unflushed = new Set<number>();

  constructor(
    readonly dir: string,
    names: readonly string[],
    private readonly warn: (message: string) => void,
  ) {
    for (const n of names) {
      const m = SNAPSHOT_FILE_RE.exec(n);
      if (m) this.offsets.push(Number(m[1]));
    }
    this.offsets.sort((a, b) => a - b);
  }

  /** The offsets of the snapshot files, oldest first. */
  get all(): readonly number[] {
    return this.offsets;
  }

  /** The newest snapshot's offset, or undefined when there is none. */
  get latest(): number | undefined {
    return this.offsets[this.offsets.length - 1];
  }

  /**
   * Kafka's removeStraySnapshots: a snapshot at no segment's base offset is
   * stray; only the newest stray is kept, and only when it lies above the
   * last segment's base offset.
   */
  removeStray(segmentBases: readonly number[]): void {
    const bases = new Set(segmentBases);
    let maxBase: number | undefined;
    for (const b of segmentBases) if (maxBase === undefined || b > maxBase) maxBase = b;
    let stray: number | undefined;
    for (const o of [...this.offsets]) {
      if (bases.has(o)) continue;
      if (stray !== undefined) this.delete(stray);
      stray = o;
    }
    if (stray !== undefined && maxBase !== undefined && stray < maxBase) this.delete(stray);
  }

  /** Deletes the snapshot at `offset`, if there is one. */
  delete(offset: number): void {
    const i = this.offsets.indexOf(offset);
    if (i < 0) return;
    this.offsets.splice(i, 1);
    this.unflushed.delete(offset);
    try {
      deleteProducerSnapshot(snapshotPath(this.dir, offset));
    } catch (e) {
      this.warn(`${snapshotPath(this.dir, offset)}: not removed: ${(e as Error).message}`);
    }
  }

  /** Deletes the snapshots outside [above + 1, atMost] (Kafka's truncateAndReload: at or below the log start, above the log end). */
  deleteOutside(above: number, atMost: number): void {
    for (const o of [...this.offsets]) if (o <= above || o > atMost) this.delete(o);
  }

  /**
   * The newest snapshot at or below `atMost` that reads back whole, with its
   * entries; corrupt ones on the way are deleted with a warning (Kafka's
   * loadFromSnapshot). Null when none is left.
   */
  loadLatest(atMost: number): { offset: number; entries: SnapshotEntry[] } | null {
    for (let i = this.offsets.length - 1; i >= 0; i--) {
      const offset = this.offsets[i]!;
      if (offset > atMost) continue;
      const path = snapshotPath(this.dir, offset);
      try {
        return { offset, entries: readProducerSnapshot(path) };
      } catch (e) {
        if (!(e instanceof CorruptSnapshotError) && (e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        this.warn(`Failed to load producer snapshot from '${path}': ${(e as Error).message}`);
        this.delete(offset);
      }
    }
    return null;
  }

  /** Writes the snapshot at `offset` (fsynced when `sync`, else at the next flush()). */
  take(offset: number, entries: readonly SnapshotEntry[], sync: boolean): void {
    writeProducerSnapshot(snapshotPath(this.dir, offset), entries, sync);
    if (!this.offsets.includes(offset)) {
      this.offsets.push(offset);
      this.offsets.sort((a, b) => a - b);
    }
    if (sync) this.unflushed.delete(offset);
    else this.unflushed.add(offset);
  }

  /** fsyncs the snapshots written without sync (Kafka flushes a rolled segment's snapshot with the segment). */
  flush(): void {
    for (const o of this.unflushed) syncProducerSnapshot(snapshotPath(this.dir, o));
    this.unflushed.clear();
  }
}
