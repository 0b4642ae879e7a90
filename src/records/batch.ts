// RecordBatch v2 (magic 2) as a view over bytes: header fields, validation and
// the base-offset rewrite. Records inside a batch are never decoded here.
//
//   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8
//   crc uint32 | attributes int16 | lastOffsetDelta int32 | baseTimestamp int64
//   maxTimestamp int64 | producerId int64 | producerEpoch int16 | baseSequence int32
//   recordCount int32 | records...
// batchLength counts from partitionLeaderEpoch to the end; the CRC-32C covers
// attributes to the end.

import { crc32c } from "./crc32c.ts";

export const BATCH_OVERHEAD = 12; // baseOffset + batchLength
export const BATCH_HEADER_SIZE = 61;
export const OFF_BASE_OFFSET = 0;
export const OFF_LENGTH = 8;
export const OFF_LEADER_EPOCH = 12;
export const OFF_MAGIC = 16;
export const OFF_CRC = 17;
export const OFF_ATTRIBUTES = 21;
export const OFF_LAST_OFFSET_DELTA = 23;
export const OFF_BASE_TIMESTAMP = 27;
export const OFF_MAX_TIMESTAMP = 35;
export const OFF_PRODUCER_ID = 43;
export const OFF_PRODUCER_EPOCH = 51;
export const OFF_BASE_SEQUENCE = 53;
export const OFF_RECORD_COUNT = 57;

export const ATTR_COMPRESSION_MASK = 0x07;
export const ATTR_TIMESTAMP_TYPE = 0x08;
export const ATTR_TRANSACTIONAL = 0x10;
export const ATTR_CONTROL = 0x20;

/** Where one batch sits in a buffer, and the header fields the broker needs. */
export interface BatchInfo {
  /** offset of the batch's first byte in the scanned buffer */
  position: number;
  /** total size, including baseOffset and batchLength */
  size: number;
  baseOffset: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  attributes: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export type ScanResult = { ok: true; batches: BatchInfo[] } | { ok: false; reason: string };

// Byte-wise big-endian access: record bytes arrive in a fresh socket buffer per
// read, and a DataView over each (which touches .buffer) costs more than this.
export function int16At(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16)) >> 16;
}
export function int32At(b: Uint8Array, p: number): number {
  return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
}
export function uint32At(b: Uint8Array, p: number): number {
  return int32At(b, p) >>> 0;
}
export function int64At(b: Uint8Array, p: number): number {
  return int32At(b, p) * 4294967296 + uint32At(b, p + 4);
}
export function setInt64At(b: Uint8Array, p: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  const lo = v - hi * 4294967296;
  b[p] = hi >>> 24;
  b[p + 1] = hi >>> 16;
  b[p + 2] = hi >>> 8;
  b[p + 3] = hi;
  b[p + 4] = lo >>> 24;
  b[p + 5] = lo >>> 16;
  b[p + 6] = lo >>> 8;
  b[p + 7] = lo;
}

export function readBatchInfo(b: Uint8Array, p: number, size: number): BatchInfo {
  return {
    position: p,
    size,
    baseOffset: int64At(b, p + OFF_BASE_OFFSET),
    lastOffsetDelta: int32At(b, p + OFF_LAST_OFFSET_DELTA),
    baseTimestamp: int64At(b, p + OFF_BASE_TIMESTAMP),
    maxTimestamp: int64At(b, p + OFF_MAX_TIMESTAMP),
    attributes: int16At(b, p + OFF_ATTRIBUTES),
    producerId: int64At(b, p + OFF_PRODUCER_ID),
    producerEpoch: int16At(b, p + OFF_PRODUCER_EPOCH),
    baseSequence: int32At(b, p + OFF_BASE_SEQUENCE),
    recordCount: int32At(b, p + OFF_RECORD_COUNT),
  };
}

/** scanBatches' reason for a CRC-valid batch with a negative count or lastOffsetDelta (Produce: INVALID_RECORD, as Kafka) */
export const NEGATIVE_COUNT = "negative record count";

/** The batches that check out, where they end, and why the walk stopped early (null when it did not). */
export interface BatchScan {
  batches: BatchInfo[];
  end: number;
  error: string | null;
}

/**
 * Walks the batches in `buf`: magic 2, lengths that fit exactly, sane counts
 * and the CRC-32C. Stops at the first bad batch. Nothing is copied.
 */
export function scanBatches(buf: Uint8Array, verifyCrc = true): BatchScan {
  const batches: BatchInfo[] = [];
  let p = 0;
  const stop = (error: string): BatchScan => ({ batches, end: p, error });
  while (p < buf.length) {
    if (buf.length - p < BATCH_HEADER_SIZE) return stop(`truncated batch header at ${p}`);
    const batchLength = int32At(buf, p + OFF_LENGTH);
    const size = batchLength + BATCH_OVERHEAD;
    if (batchLength < BATCH_HEADER_SIZE - BATCH_OVERHEAD || p + size > buf.length) return stop(`batch length ${batchLength} at ${p} does not fit`);
    const magic = (buf[p + OFF_MAGIC]! << 24) >> 24;
    if (magic !== 2) return stop(`magic ${magic} at ${p}`);
    const info = readBatchInfo(buf, p, size);
    if (verifyCrc && crc32c(buf, p + OFF_ATTRIBUTES, p + size) !== uint32At(buf, p + OFF_CRC)) return stop(`crc mismatch at ${p}`);
    if (info.recordCount < 0 || info.lastOffsetDelta < 0) return stop(`${NEGATIVE_COUNT} at ${p}`);
    batches.push(info);
    p += size;
  }
  return { batches, end: p, error: null };
}

/** A produce request's records: every batch must check out (see scanBatches). */
export function validateBatches(buf: Uint8Array, verifyCrc = true): ScanResult {
  if (buf.length === 0) return { ok: false, reason: "empty records" };
  const scan = scanBatches(buf, verifyCrc);
  return scan.error === null ? { ok: true, batches: scan.batches } : { ok: false, reason: scan.error };
}

/** Rewrites baseOffset in place; the CRC does not cover it, so nothing else changes. */
export function setBaseOffset(buf: Uint8Array, position: number, offset: number): void {
  setInt64At(buf, position + OFF_BASE_OFFSET, offset);
}

/** Rewrites the partition leader epoch in place (also outside the CRC). */
export function setPartitionLeaderEpoch(buf: Uint8Array, position: number, epoch: number): void {
  const p = position + OFF_LEADER_EPOCH;
  buf[p] = epoch >>> 24;
  buf[p + 1] = epoch >>> 16;
  buf[p + 2] = epoch >>> 8;
  buf[p + 3] = epoch;
}

/**
 * Stamps LogAppendTime as Kafka does for a topic with
 * message.timestamp.type=LogAppendTime: the timestamp-type attribute and
 * maxTimestamp = now (records keep their deltas; readers use maxTimestamp),
 * then the CRC again. Updates `info` to match.
 */
export function stampLogAppendTime(buf: Uint8Array, info: BatchInfo, now: number): void {
  const p = info.position;
  const attributes = info.attributes | ATTR_TIMESTAMP_TYPE;
  buf[p + OFF_ATTRIBUTES] = attributes >>> 8;
  buf[p + OFF_ATTRIBUTES + 1] = attributes;
  setInt64At(buf, p + OFF_MAX_TIMESTAMP, now);
  const crc = crc32c(buf, p + OFF_ATTRIBUTES, p + info.size);
  buf[p + OFF_CRC] = crc >>> 24;
  buf[p + OFF_CRC + 1] = crc >>> 16;
  buf[p + OFF_CRC + 2] = crc >>> 8;
  buf[p + OFF_CRC + 3] = crc;
  info.attributes = attributes;
  info.maxTimestamp = now;
}
