// Big-endian writer into a growable buffer that is reused between messages:
// fresh memory is slow to touch on these machines, so the hot path encodes
// into the same bytes again and again. Callers that keep the result past the
// next encode must copy it (Writer.finish returns a view).
// Nothing here touches files: record bytes that live elsewhere (log segments)
// come as RecordsSource, which writes itself into the output.

const textEncoder = new TextEncoder();

/**
 * Record bytes that live elsewhere (e.g. a log segment), written straight
 * into the output buffer by their owner. The owner keeps them valid until
 * the response is encoded or dropped.
 */
export interface RecordsSource {
  readonly size: number;
  /** Writes exactly `size` bytes at `dst[at]` and returns that count; throws if it cannot. */
  writeTo(dst: Uint8Array, at: number): number;
}

export type RecordsValue = Uint8Array | RecordsSource[] | null;

export function recordsSize(v: RecordsValue): number {
  if (v === null) return 0;
  if (v instanceof Uint8Array) return v.length;
  let n = 0;
  for (const s of v) n += s.size;
  return n;
}

export class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(initial = 64 * 1024) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  reset(): this {
    this.pos = 0;
    return this;
  }

  /** A view of what was written; valid until the next reset/write. */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  int8(v: number): void {
    this.ensure(1);
    this.view.setInt8(this.pos, v);
    this.pos += 1;
  }
  uint8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  bool(v: boolean): void {
    this.uint8(v ? 1 : 0);
  }
  int16(v: number): void {
    this.ensure(2);
    this.view.setInt16(this.pos, v);
    this.pos += 2;
  }
  uint16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }
  int32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
  }
  uint32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }
  int64(v: number): void {
    this.ensure(8);
    const hi = Math.floor(v / 4294967296);
    this.view.setInt32(this.pos, hi);
    this.view.setUint32(this.pos + 4, v - hi * 4294967296);
    this.pos += 8;
  }
  float64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }

  uvarint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
  varint(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  // Same zigzag as varint; the name marks the 64-bit fields of the record format.
  varlong(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  uuid(v: Uint8Array): void {
    if (v.length !== 16) throw new Error("uuid must be 16 bytes");
    this.raw(v);
  }

  private utf8(s: string): number {
    // Worst case 3 bytes per UTF-16 unit; reserve then encode in place.
    this.ensure(s.length * 3 + 5);
    return s.length;
  }

  string(s: string | null): void {
    if (s === null) return this.int16(-1);
    this.utf8(s);
    const start = this.pos;
    const { written } = textEncoder.encodeInto(s, this.buf.subarray(start + 2));
    this.view.setInt16(start, written);
    this.pos = start + 2 + written;
  }

  compactString(s: string | null): void {
    if (s === null) return this.uvarint(0);
    // Lengths below 127 (most names) fit a one-byte varint: encode in place.
    this.utf8(s);
    if (s.length < 42) {
      const start = this.pos;
      const { written } = textEncoder.encodeInto(s, this.buf.subarray(start + 1));
      this.buf[start] = written + 1;
      this.pos = start + 1 + written;
      return;
    }
    const bytes = textEncoder.encode(s);
    this.uvarint(bytes.length + 1);
    this.raw(bytes);
  }

  bytes(b: Uint8Array | null): void {
    if (b === null) return this.int32(-1);
    this.int32(b.length);
    this.raw(b);
  }
  compactBytes(b: Uint8Array | null): void {
    if (b === null) return this.uvarint(0);
    this.uvarint(b.length + 1);
    this.raw(b);
  }

  /** Record bytes, from memory or written by their sources directly into the output. */
  records(v: RecordsValue): void {
    if (v === null || v instanceof Uint8Array) {
      if (v) this.raw(v);
      return;
    }
    for (const s of v) {
      this.ensure(s.size);
      const n = s.writeTo(this.buf, this.pos);
      // the size prefix is already written: fewer bytes would corrupt the frame
      if (n !== s.size) throw new Error(`records source wrote ${n} of ${s.size} bytes`);
      this.pos += n;
    }
  }

  /** Reserve an int32 to patch later (e.g. a size prefix); returns its position. */
  reserveInt32(): number {
    this.ensure(4);
    const p = this.pos;
    this.pos += 4;
    return p;
  }
  patchInt32(at: number, v: number): void {
    this.view.setInt32(at, v);
  }
}
