// Records inside a v2 batch, for the few places the broker must look inside
// (metadata log, timestamp lookups, tests). The produce/fetch path never
// decodes records: see batch.ts.
//
//   length varint | attributes int8 | timestampDelta varlong | offsetDelta varint
//   keyLength varint | key | valueLength varint | value
//   headerCount varint | (headerKeyLength varint | headerKey | headerValueLength varint | headerValue)*
// Lengths of -1 mean null.

import { DecodeError, Reader } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";
import {
  ATTR_COMPRESSION_MASK,
  ATTR_CONTROL,
  BATCH_HEADER_SIZE,
  BATCH_OVERHEAD,
  OFF_ATTRIBUTES,
  OFF_BASE_TIMESTAMP,
  OFF_CRC,
  OFF_LENGTH,
  OFF_MAGIC,
  OFF_RECORD_COUNT,
} from "./batch.ts";
import { crc32c } from "./crc32c.ts";
import { compress, decompress } from "./compression.ts";

export interface RecordHeader {
  key: string;
  value: Uint8Array | null;
}

/** One decoded record. key/value are views into the batch bytes, not copies. */
export interface Record {
  offsetDelta: number;
  timestampDelta: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
}
/** Alias for modules where `Record` would shadow TypeScript's utility type. */
export type KafkaRecord = Record;

export interface RecordInput {
  key?: Uint8Array | null;
  value?: Uint8Array | null;
  headers?: RecordHeader[];
  timestampDelta?: number;
}

export interface BuildBatchOptions {
  baseOffset?: number;
  /** default Date.now() */
  baseTimestamp?: number;
  /** the compression bits (low 3) choose the codec the records are compressed with */
  attributes?: number;
  /** offset deltas, default 0..n-1 (tests write lying ones) */
  offsetDeltas?: number[];
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  /** default -1, as producers send it */
  partitionLeaderEpoch?: number;
  records: RecordInput[];
}

/** Control record types (key: version int16, type int16). */
export const ControlType = {
  ABORT: 0,
  COMMIT: 1,
  LEADER_CHANGE: 2,
  SNAPSHOT_HEADER: 3,
  SNAPSHOT_FOOTER: 4,
  KRAFT_VERSION: 5,
  KRAFT_VOTERS: 6,
} as const;

export function isControlBatch(attributes: number): boolean {
  return (attributes & ATTR_CONTROL) !== 0;
}

/** The type of a control record (from its key), or -1 if the key is not a control key. */
export function controlRecordType(rec: Record): number {
  const k = rec.key;
  if (k === null || k.length < 4) return -1;
  return (k[2]! << 8) | k[3]!;
}

/** Control record key bytes: version 0, type. */
export function controlRecordKey(type: number): Uint8Array {
  return new Uint8Array([0, 0, (type >> 8) & 0xff, type & 0xff]);
}

function readVarBytes(r: Reader): Uint8Array | null {
  const n = r.varint();
  if (n < 0) return null;
  return r.raw(n);
}

/**
 * Decodes the records of one magic-2 batch (the bytes start at its
 * baseOffset), decompressing it first when it is compressed. Throws
 * DecodeError on malformed batches, CompressionError on bad compressed bytes.
 */
export function decodeRecords(batch: Uint8Array): Record[] {
  if (batch.length < BATCH_HEADER_SIZE) throw new DecodeError(`batch of ${batch.length} bytes is shorter than its header`);
  const v = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  const size = v.getInt32(OFF_LENGTH) + BATCH_OVERHEAD;
  if (size < BATCH_HEADER_SIZE || size > batch.length) throw new DecodeError(`batch length ${size} does not fit ${batch.length} bytes`);
  const magic = v.getInt8(OFF_MAGIC);
  if (magic !== 2) throw new DecodeError(`magic ${magic}`);
  const codec = v.getInt16(OFF_ATTRIBUTES) & ATTR_COMPRESSION_MASK;
  const count = v.getInt32(OFF_RECORD_COUNT);
  if (codec === 0) return decodeRecordsSection(batch, BATCH_HEADER_SIZE, size, count);
  const data = decompress(codec, batch.subarray(BATCH_HEADER_SIZE, size));
  return decodeRecordsSection(data, 0, data.length, count);
}

/** Decodes `count` records from buf[start, end) (an uncompressed records section). */
export function decodeRecordsSection(buf: Uint8Array, start: number, end: number, count: number): Record[] {
  // every record takes at least 7 bytes, so a larger count is corrupt
  if (count < 0 || count * 7 > end - start) throw new DecodeError(`record count ${count}`);
  const out: Record[] = new Array(count);
  const outer = new Reader(buf, start, end);
  for (let i = 0; i < count; i++) {
    const len = outer.varint();
    if (len < 0 || len > outer.remaining) throw new DecodeError(`record ${i}: length ${len}`);
    // a reader bounded by the record's own length, so a bad field cannot read into the next record
    const r = new Reader(buf, outer.pos, outer.pos + len);
    outer.pos += len;
    r.int8(); // record attributes: unused
    const timestampDelta = r.varlong();
    const offsetDelta = r.varint();
    const key = readVarBytes(r);
    const value = readVarBytes(r);
    const hc = r.varint();
    if (hc < 0 || hc > r.remaining) throw new DecodeError(`record ${i}: header count ${hc}`);
    const headers: RecordHeader[] = new Array(hc);
    for (let h = 0; h < hc; h++) {
      const kl = r.varint();
      if (kl < 0) throw new DecodeError(`record ${i}: null header key`);
      headers[h] = { key: r.utf8(kl), value: readVarBytes(r) };
    }
    out[i] = { offsetDelta, timestampDelta, key, value, headers };
  }
  return out;
}

/** The base timestamp of a batch (record timestamps are baseTimestamp + timestampDelta). */
export function batchBaseTimestamp(batch: Uint8Array): number {
  const v = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  return v.getInt32(OFF_BASE_TIMESTAMP) * 4294967296 + v.getUint32(OFF_BASE_TIMESTAMP + 4);
}

const textEncoder = new TextEncoder();

function writeVarBytes(w: Writer, b: Uint8Array | null | undefined): void {
  if (b === null || b === undefined) return w.varint(-1);
  w.varint(b.length);
  w.raw(b);
}

/**
 * Builds one magic-2 batch with a correct CRC-32C, compressed with the codec in
 * attributes' low bits. Offset deltas are the record indexes unless given.
 */
export function buildBatch(opts: BuildBatchOptions): Uint8Array {
  const recs = opts.records;
  if (recs.length === 0) throw new Error("a batch needs at least one record");
  const attributes = opts.attributes ?? 0;
  const baseTimestamp = opts.baseTimestamp ?? Date.now();
  let maxDelta = 0;
  for (const r of recs) maxDelta = Math.max(maxDelta, r.timestampDelta ?? 0);

  const w = new Writer(256);
  w.int64(opts.baseOffset ?? 0);
  w.int32(0); // batchLength, patched below
  w.int32(opts.partitionLeaderEpoch ?? -1);
  w.int8(2); // magic
  w.uint32(0); // crc, patched below
  w.int16(attributes);
  w.int32(recs.length - 1); // lastOffsetDelta
  w.int64(baseTimestamp);
  w.int64(baseTimestamp + maxDelta); // maxTimestamp
  w.int64(opts.producerId ?? -1);
  w.int16(opts.producerEpoch ?? -1);
  w.int32(opts.baseSequence ?? -1);
  w.int32(recs.length);

  const records = new Writer(256);
  const body = new Writer(128);
  for (let i = 0; i < recs.length; i++) {
    const rec = recs[i]!;
    body.reset();
    body.int8(0); // record attributes
    body.varlong(rec.timestampDelta ?? 0);
    body.varint(opts.offsetDeltas?.[i] ?? i);
    writeVarBytes(body, rec.key);
    writeVarBytes(body, rec.value);
    const headers = rec.headers ?? [];
    body.varint(headers.length);
    for (const h of headers) {
      const k = textEncoder.encode(h.key);
      body.varint(k.length);
      body.raw(k);
      writeVarBytes(body, h.value);
    }
    records.varint(body.pos);
    records.raw(body.finish());
  }
  const codec = attributes & ATTR_COMPRESSION_MASK;
  w.raw(codec === 0 ? records.finish() : compress(codec, records.finish()));

  const out = w.finish().slice();
  const v = new DataView(out.buffer);
  v.setInt32(OFF_LENGTH, out.length - BATCH_OVERHEAD);
  v.setUint32(OFF_CRC, crc32c(out, OFF_ATTRIBUTES));
  return out;
}

/**
 * The same batch with its records compressed by `codec` instead (topic
 * compression.type other than producer, compaction): header fields kept,
 * records re-encoded with their deltas, CRC recomputed.
 */
export function recompressBatch(batch: Uint8Array, codec: number): Uint8Array {
  const v = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  const records = decodeRecords(batch);
  const attributes = (v.getInt16(OFF_ATTRIBUTES) & ~ATTR_COMPRESSION_MASK) | codec;
  const out = buildBatch({
    baseOffset: v.getInt32(0) * 4294967296 + v.getUint32(4),
    partitionLeaderEpoch: v.getInt32(12),
    attributes,
    baseTimestamp: batchBaseTimestamp(batch),
    producerId: v.getInt32(43) * 4294967296 + v.getUint32(47),
    producerEpoch: v.getInt16(51),
    baseSequence: v.getInt32(53),
    records: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestampDelta: r.timestampDelta })),
    offsetDeltas: records.map((r) => r.offsetDelta),
  });
  // keep the original maxTimestamp (buildBatch computes it from the deltas, which is the same unless it lied)
  out.set(batch.subarray(35, 43), 35);
  const ov = new DataView(out.buffer);
  ov.setInt32(23, v.getInt32(23)); // lastOffsetDelta as sent (validated already)
  ov.setUint32(OFF_CRC, crc32c(out, OFF_ATTRIBUTES));
  return out;
}
