// Big-endian reader over a Uint8Array. Pure: bytes in, values out.
// int64 values are returned as JS numbers (offsets, timestamps and ids stay far
// below 2^53 in practice); bytes/records fields are subarrays, never copies.

export class DecodeError extends Error {}

const textDecoder = new TextDecoder("utf-8", { fatal: false });

// Names repeat on every request (client id, topic names): a small
// direct-mapped cache turns their bytes back into the same string without
// decoding or allocating.
const CACHE_SLOTS = 256;
const CACHE_MAX_LEN = 64;
const cachedBytes: (Uint8Array | null)[] = new Array(CACHE_SLOTS).fill(null);
const cachedStrings: string[] = new Array(CACHE_SLOTS).fill("");

function decodeShort(buf: Uint8Array, p: number, n: number): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ buf[p + i]!, 0x01000193);
  const slot = (h >>> 0) & (CACHE_SLOTS - 1);
  const bytes = cachedBytes[slot];
  if (bytes !== null && bytes.length === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (bytes[i] !== buf[p + i]) {
        same = false;
        break;
      }
    }
    if (same) return cachedStrings[slot]!;
  }
  const str = textDecoder.decode(buf.subarray(p, p + n));
  cachedBytes[slot] = buf.slice(p, p + n);
  cachedStrings[slot] = str;
  return str;
}

// Fields are read byte by byte rather than through a DataView: requests arrive
// in a fresh buffer per socket read, and a view over each (which materialises
// its ArrayBuffer) costs an allocation per read for nothing.
const f64 = new DataView(new ArrayBuffer(8));

export class Reader {
  pos: number;

  constructor(
    public buf: Uint8Array,
    offset = 0,
    public end = buf.length,
  ) {
    this.pos = offset;
  }

  /** Points this reader at another frame, so a connection reuses one reader. */
  reset(buf: Uint8Array, offset: number, end: number): this {
    this.buf = buf;
    this.pos = offset;
    this.end = end;
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): number {
    const p = this.pos;
    if (n < 0 || p + n > this.end) throw new DecodeError(`need ${n} bytes at ${p}, have ${this.end - p}`);
    this.pos = p + n;
    return p;
  }

  int8(): number {
    return (this.buf[this.need(1)]! << 24) >> 24;
  }
  uint8(): number {
    return this.buf[this.need(1)]!;
  }
  bool(): boolean {
    return this.buf[this.need(1)] !== 0;
  }
  int16(): number {
    const p = this.need(2);
    return ((this.buf[p]! << 24) | (this.buf[p + 1]! << 16)) >> 16;
  }
  uint16(): number {
    const p = this.need(2);
    return (this.buf[p]! << 8) | this.buf[p + 1]!;
  }
  int32(): number {
    const p = this.need(4);
    const b = this.buf;
    return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
  }
  uint32(): number {
    return this.int32() >>> 0;
  }
  int64(): number {
    const hi = this.int32();
    return hi * 4294967296 + this.uint32();
  }
  float64(): number {
    const p = this.need(8);
    for (let i = 0; i < 8; i++) f64.setUint8(i, this.buf[p + i]!);
    return f64.getFloat64(0);
  }

  uvarint(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.uint8();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    throw new DecodeError("unsigned varint longer than 5 bytes");
  }
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
  uvarlong(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      const b = this.uint8();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    throw new DecodeError("unsigned varlong longer than 10 bytes");
  }
  varlong(): number {
    const u = this.uvarlong();
    // zigzag on doubles: exact for |value| < 2^53
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  uuid(): Uint8Array {
    const p = this.need(16);
    return this.buf.slice(p, p + 16);
  }

  raw(n: number): Uint8Array {
    const p = this.need(n);
    return this.buf.subarray(p, p + n);
  }

  utf8(n: number): string {
    const p = this.need(n);
    if (n <= CACHE_MAX_LEN) return decodeShort(this.buf, p, n);
    return textDecoder.decode(this.buf.subarray(p, p + n));
  }

  // Classic (non-flexible) strings: int16 length, -1 for null.
  string(): string | null {
    const n = this.int16();
    if (n < 0) {
      if (n === -1) return null;
      throw new DecodeError(`string length ${n}`);
    }
    return this.utf8(n);
  }
  // Compact strings: unsigned varint length+1, 0 for null.
  compactString(): string | null {
    const n = this.uvarint() - 1;
    if (n < 0) return null;
    return this.utf8(n);
  }
  bytes(): Uint8Array | null {
    const n = this.int32();
    if (n < 0) {
      if (n === -1) return null;
      throw new DecodeError(`bytes length ${n}`);
    }
    return this.raw(n);
  }
  compactBytes(): Uint8Array | null {
    const n = this.uvarint() - 1;
    if (n < 0) return null;
    return this.raw(n);
  }
}
