// Big-endian reader over a Uint8Array. Pure: bytes in, values out.
// int64 values are returned as JS numbers (offsets, timestamps and ids stay far
// below 2^53 in practice); bytes/records fields are subarrays, never copies.

export class DecodeError extends Error {}

const textDecoder = new TextDecoder("utf-8", { fatal: false });

export class Reader {
  readonly view: DataView;
  pos: number;

  /** `view` may be passed when the caller already has one over `buf` (one per socket read, not per frame). */
  constructor(readonly buf: Uint8Array, offset = 0, readonly end = buf.length, view?: DataView) {
    this.view = view ?? new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = offset;
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
    return this.view.getInt8(this.need(1));
  }
  uint8(): number {
    return this.view.getUint8(this.need(1));
  }
  bool(): boolean {
    return this.view.getUint8(this.need(1)) !== 0;
  }
  int16(): number {
    return this.view.getInt16(this.need(2));
  }
  uint16(): number {
    return this.view.getUint16(this.need(2));
  }
  int32(): number {
    return this.view.getInt32(this.need(4));
  }
  uint32(): number {
    return this.view.getUint32(this.need(4));
  }
  int64(): number {
    const p = this.need(8);
    return this.view.getInt32(p) * 4294967296 + this.view.getUint32(p + 4);
  }
  float64(): number {
    return this.view.getFloat64(this.need(8));
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
    return textDecoder.decode(this.buf.subarray(p, p + n));
  }

  // Classic (non-flexible) strings: int16 length, -1 for null.
  string(): string | null {
    const n = this.int16();
    if (n < 0) return null;
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
    if (n < 0) return null;
    return this.raw(n);
  }
  compactBytes(): Uint8Array | null {
    const n = this.uvarint() - 1;
    if (n < 0) return null;
    return this.raw(n);
  }
}
