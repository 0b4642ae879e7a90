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

// the multi-byte cases; single-byte varints (most lengths and deltas) are read inline in walkRecords
function uvarintSlow(b: Uint8Array): number {
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
  if (pos < lim) {
    const c = b[pos]!;
    if (c < 0x80) {
      pos++;
      return (c >>> 1) ^ -(c & 1);
    }
  }
  const u = uvarintSlow(b);
  return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
}
function varlong(b: Uint8Array): number {
  if (pos < lim) {
    const c = b[pos]!;
    if (c < 0x80) {
      pos++;
      return (c >>> 1) ^ -(c & 1);
    }
  }
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

function truncated(i: number, field: string): string {
  return `record ${i}: truncated or overlong ${field} varint`;
}

/**
 * Walks `count` records in buf[start, end). Returns null when every record's
 * length adds up and the records end exactly at `end`, else the reason (in
 * Kafka's words where it has them). `visit` sees each record that parsed.
 * Hot path of produce validation: one- and two-byte varints are read inline with
 * local positions; the rest through varint()/varlong() above.
 */
export function walkRecords(buf: Uint8Array, start: number, end: number, count: number, visit?: RecordVisitor): string | null {
  let p = start;
  let c = 0;
  let c2 = 0;
  for (let i = 0; i < count; i++) {
    let q = p;
    let len = 0;
    bad = false;
    if (q < end && (c = buf[q]!) < 0x80) {
      len = (c >>> 1) ^ -(c & 1);
      q++;
    } else if (q + 1 < end && (c2 = buf[q + 1]!) < 0x80) {
      c = (c & 0x7f) | (c2 << 7);
      len = (c >>> 1) ^ -(c & 1);
      q += 2;
    } else {
      pos = q;
      lim = end;
      len = varint(buf);
      if (bad) return truncated(i, "len");
      q = pos;
    }
    if (len <= 0 || q + len > end) return `record ${i}: invalid record size ${len}, ${end - q} bytes remain`;
    const recEnd = q + len;
    q++; // attributes (unused in v2)
    let timestampDelta = 0;
    if (q < recEnd && (c = buf[q]!) < 0x80) {
      timestampDelta = (c >>> 1) ^ -(c & 1);
      q++;
    } else if (q + 1 < recEnd && (c2 = buf[q + 1]!) < 0x80) {
      c = (c & 0x7f) | (c2 << 7);
      timestampDelta = (c >>> 1) ^ -(c & 1);
      q += 2;
    } else {
      pos = q;
      lim = recEnd;
      timestampDelta = varlong(buf);
      if (bad) return truncated(i, "timestampDelta");
      q = pos;
    }
    let offsetDelta = 0;
    if (q < recEnd && (c = buf[q]!) < 0x80) {
      offsetDelta = (c >>> 1) ^ -(c & 1);
      q++;
    } else if (q + 1 < recEnd && (c2 = buf[q + 1]!) < 0x80) {
      c = (c & 0x7f) | (c2 << 7);
      offsetDelta = (c >>> 1) ^ -(c & 1);
      q += 2;
    } else {
      pos = q;
      lim = recEnd;
      offsetDelta = varint(buf);
      if (bad) return truncated(i, "offsetDelta");
      q = pos;
    }
    let keyLength = 0;
    if (q < recEnd && (c = buf[q]!) < 0x80) {
      keyLength = (c >>> 1) ^ -(c & 1);
      q++;
    } else if (q + 1 < recEnd && (c2 = buf[q + 1]!) < 0x80) {
      c = (c & 0x7f) | (c2 << 7);
      keyLength = (c >>> 1) ^ -(c & 1);
      q += 2;
    } else {
      pos = q;
      lim = recEnd;
      keyLength = varint(buf);
      if (bad) return truncated(i, "keyLength");
      q = pos;
    }
    if (keyLength > 0) q += keyLength;
    let valueLength = 0;
    if (q > recEnd) return sizeMismatch(i, len, true, 0);
    if (q < recEnd && (c = buf[q]!) < 0x80) {
      valueLength = (c >>> 1) ^ -(c & 1);
      q++;
    } else if (q + 1 < recEnd && (c2 = buf[q + 1]!) < 0x80) {
      c = (c & 0x7f) | (c2 << 7);
      valueLength = (c >>> 1) ^ -(c & 1);
      q += 2;
    } else {
      pos = q;
      lim = recEnd;
      valueLength = varint(buf);
      if (bad) return truncated(i, "valueLength");
      q = pos;
    }
    if (valueLength > 0) q += valueLength;
    let headers = 0;
    if (q > recEnd) return sizeMismatch(i, len, true, 0);
    if (q < recEnd && (c = buf[q]!) < 0x80) {
      headers = (c >>> 1) ^ -(c & 1);
      q++;
    } else if (q + 1 < recEnd && (c2 = buf[q + 1]!) < 0x80) {
      c = (c & 0x7f) | (c2 << 7);
      headers = (c >>> 1) ^ -(c & 1);
      q += 2;
    } else {
      pos = q;
      lim = recEnd;
      headers = varint(buf);
      if (bad) return truncated(i, "headers");
      q = pos;
    }
    if (headers !== 0) {
      if (headers < 0) return `record ${i}: found invalid number of record headers ${headers}`;
      if (headers > recEnd - q) return `record ${i}: found invalid number of record headers. ${headers} is larger than the remaining size of the buffer`;
      pos = q;
      lim = recEnd;
      for (let h = 0; h < headers && !bad && pos <= lim; h++) {
        const kl = varint(buf);
        if (kl < 0) return `record ${i}: invalid negative header key size ${kl}`;
        pos += kl;
        if (bad || pos > lim) break;
        const vl = varint(buf);
        if (vl > 0) pos += vl;
      }
      if (bad) return truncated(i, "header");
      q = pos;
    }
    if (keyLength < -1 || valueLength < -1 || q !== recEnd) return sizeMismatch(i, len, q > recEnd, q - (recEnd - len));
    if (visit !== undefined && visit(i, offsetDelta, timestampDelta, keyLength) === false) return null;
    p = recEnd;
  }
  if (p !== end) return `incorrect declared batch size, ${end - p} bytes remain after ${count} records`;
  return null;
}

function sizeMismatch(i: number, len: number, past: boolean, read: number): string {
  return `record ${i}: invalid record size: expected to read ${len} bytes in record payload, but ${past ? "the fields run past it" : `read ${read}`}`;
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
export function findRecord(batch: Uint8Array, match: (timestamp: number) => boolean, minOffset = -Infinity): { offset: number; timestamp: number } | null {
  const data = recordsSection(batch);
  const base = int64At(batch, OFF_BASE_OFFSET);
  const baseTs = int64At(batch, OFF_BASE_TIMESTAMP);
  let found: { offset: number; timestamp: number } | null = null;
  walkRecords(data, 0, data.length, int32At(batch, OFF_RECORD_COUNT), (_i, offsetDelta, timestampDelta) => {
    const t = baseTs + timestampDelta;
    if (!match(t) || base + offsetDelta < minOffset) return true;
    found = { offset: base + offsetDelta, timestamp: t };
    return false;
  });
  return found;
}
