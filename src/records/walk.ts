// Walking the records of a v2 batch without materialising them: lengths,
// varints and the fields the broker checks, one record at a time, no object
// per record. Compressed batches are decompressed first (compression.ts).
// Used by the produce validator (validator.ts), timestamp lookups and
// compaction (forEachRecord / findRecord).
//
// A record, as Kafka's DefaultRecord reads it:
//   length varint | attributes int8 | timestampDelta varlong | offsetDelta varint
//   keyLength varint | key | valueLength varint | value | headerCount varint |
//   (headerKeyLength varint | headerKey | headerValueLength varint | headerValue)*
// and `length` must be exactly the bytes from attributes to the last header.

import {
  ATTR_COMPRESSION_MASK,
  BATCH_HEADER_SIZE,
  int64At,
  int32At,
  OFF_BASE_OFFSET,
  OFF_BASE_TIMESTAMP,
  OFF_ATTRIBUTES,
  OFF_RECORD_COUNT,
  int16At,
} from "./batch.ts";
import { decompress } from "./compression.ts";
import { decodeRecordsSection, type Record } from "./record.ts";

/** What the walker reports per record: plain numbers, so nothing is allocated. */
export interface RecordVisitor {
  /** return false to stop the walk early */
  (index: number, offsetDelta: number, timestampDelta: number, keyLength: number): boolean | void;
}

// the position of the varint readers below; module state keeps them allocation-free
let pos = 0;
let lim = 0;
let bad = false;

function uvarint(b: Uint8Array): number {
  let result = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= lim) break;
    const c = b[pos++]!;
    result += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) return result;
  }
  bad = true;
  return 0;
}
function varint(b: Uint8Array): number {
  const u = uvarint(b);
  return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
}
function varlong(b: Uint8Array): number {
  let result = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (pos >= lim) break;
    const c = b[pos++]!;
    result += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
  }
  bad = true;
  return 0;
}

/**
 * Walks `count` records in buf[start, end). Returns null when every record's
 * length adds up and the records end exactly at `end`, else the reason (in
 * Kafka's words where it has them). `visit` sees each record that parsed.
 */
export function walkRecords(buf: Uint8Array, start: number, end: number, count: number, visit?: RecordVisitor): string | null {
  let p = start;
  for (let i = 0; i < count; i++) {
    pos = p;
    lim = end;
    bad = false;
    const len = varint(buf);
    if (bad) return `record ${i}: truncated length varint`;
    if (len <= 0 || pos + len > end) return `record ${i}: invalid record size ${len}, ${end - pos} bytes remain`;
    const recEnd = pos + len;
    lim = recEnd;
    pos++; // attributes (unused in v2)
    const timestampDelta = varlong(buf);
    const offsetDelta = varint(buf);
    const keyLength = varint(buf);
    if (keyLength > 0) pos += keyLength;
    const valueLength = bad || pos > lim ? 0 : varint(buf);
    if (valueLength > 0) pos += valueLength;
    const headers = bad || pos > lim ? 0 : varint(buf);
    if (headers < 0) return `record ${i}: found invalid number of record headers ${headers}`;
    if (headers > lim - pos) return `record ${i}: found invalid number of record headers. ${headers} is larger than the remaining size of the buffer`;
    for (let h = 0; h < headers && !bad && pos <= lim; h++) {
      const kl = varint(buf);
      if (kl < 0) return `record ${i}: invalid negative header key size ${kl}`;
      pos += kl;
      if (bad || pos > lim) break;
      const vl = varint(buf);
      if (vl > 0) pos += vl;
    }
    if (bad || keyLength < -1 || valueLength < -1 || pos !== recEnd)
      return `record ${i}: invalid record size: expected to read ${len} bytes in record payload, but ${bad || pos > recEnd ? "the fields run past it" : `read ${pos - (recEnd - len)}`}`;
    if (visit !== undefined && visit(i, offsetDelta, timestampDelta, keyLength) === false) return null;
    p = recEnd;
  }
  if (p !== end) return `incorrect declared batch size, ${end - p} bytes remain after ${count} records`;
  return null;
}

/** A batch's records section, decompressed when the batch is compressed (throws CompressionError). */
export function recordsSection(batch: Uint8Array, size = batch.length): Uint8Array {
  const codec = int16At(batch, OFF_ATTRIBUTES) & ATTR_COMPRESSION_MASK;
  const body = batch.subarray(BATCH_HEADER_SIZE, size);
  return codec === 0 ? body : decompress(codec, body);
}

/** One record with its absolute offset and timestamp (offset = the batch's baseOffset + offsetDelta). */
export interface RecordAt extends Record {
  offset: number;
  timestamp: number;
}

/**
 * Calls fn for every record of a batch, compressed or not (throws
 * CompressionError or DecodeError on one that does not decode). Timestamps
 * are CreateTime: callers that honour LogAppendTime use the batch's max timestamp.
 */
export function forEachRecord(batch: Uint8Array, fn: (rec: RecordAt) => boolean | void): void {
  const data = recordsSection(batch);
  const base = int64At(batch, OFF_BASE_OFFSET);
  const baseTs = int64At(batch, OFF_BASE_TIMESTAMP);
  for (const r of decodeRecordsSection(data, 0, data.length, int32At(batch, OFF_RECORD_COUNT))) {
    const rec = r as RecordAt;
    rec.offset = base + r.offsetDelta;
    rec.timestamp = baseTs + r.timestampDelta;
    if (fn(rec) === false) return;
  }
}

/**
 * The first record of a batch whose timestamp matches, without materialising
 * records (ListOffsets by timestamp, also inside compressed batches), or null
 * when none does or the batch does not walk. Throws CompressionError.
 */
export function findRecord(batch: Uint8Array, match: (timestamp: number) => boolean): { offset: number; timestamp: number } | null {
  const data = recordsSection(batch);
  const base = int64At(batch, OFF_BASE_OFFSET);
  const baseTs = int64At(batch, OFF_BASE_TIMESTAMP);
  let found: { offset: number; timestamp: number } | null = null;
  walkRecords(data, 0, data.length, int32At(batch, OFF_RECORD_COUNT), (_i, offsetDelta, timestampDelta) => {
    const t = baseTs + timestampDelta;
    if (!match(t)) return true;
    found = { offset: base + offsetDelta, timestamp: t };
    return false;
  });
  return found;
}
