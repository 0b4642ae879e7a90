// The one codec: turns a MessageDef into a reader and a writer for one version.
// Each (message, version) pair is compiled once into closures, so the hot path
// does no schema lookups. Fields absent at a version decode to their defaults,
// which lets handlers read every field without version checks.

import { DecodeError, Reader } from "./reader.ts";
import { recordsSize, Writer, type RecordsValue } from "./writer.ts";
import { camel, inRange, parseVersions, type Decoded, type Encodable, type FieldDef, type MessageDef, type Struct } from "./schema.ts";

// Decoded messages are plain objects keyed by camelCase field names; their
// static types (Decoded, Encodable) come from the definitions, while the
// compiled closures below work on untyped structs.
type MutableStruct = { [field: string]: unknown };

type ReadFn = (r: Reader) => unknown;
type WriteFn = (w: Writer, v: unknown) => void;

/** Reads and writes one message at one version. */
export interface Codec<D extends MessageDef = MessageDef> {
  read(r: Reader): Decoded<D>;
  write(w: Writer, v: Encodable<D>): void;
}

interface StructCodec {
  read(r: Reader): Struct;
  write(w: Writer, v: Struct): void;
}

export const ZERO_UUID = new Uint8Array(16);

const PRIMITIVES = new Set(["int8", "int16", "uint16", "int32", "uint32", "int64", "float64", "bool", "string", "bytes", "records", "uuid"]);

/** Shared and frozen: what absent arrays decode to, and what a response can carry for an empty one without allocating. */
export const EMPTY_ARRAY: readonly never[] = Object.freeze([]);
const EMPTY_BYTES = Object.freeze(new Uint8Array(0));

/**
 * A field's default. Arrays, bytes and structs are shared frozen values, so
 * decoding and encoding allocate nothing for absent fields (a handler that
 * wants to add to one builds its own).
 */
function defaultOf(f: FieldDef, elemType: string, version: number): () => unknown {
  const nullable = inRange(parseVersions(f.nullableVersions), version);
  const d = f.default;
  // "null" is the default at every version, also where the field is absent
  // (JoinGroup v0-4 have no GroupInstanceId: it is null, as Kafka's generated classes say)
  if (d === "null" && f.nullableVersions !== undefined) return () => null;
  if (f.type.startsWith("[]")) return () => EMPTY_ARRAY;
  switch (elemType) {
    case "int8":
    case "int16":
    case "uint16":
    case "int32":
    case "uint32":
    case "int64":
    case "float64": {
      const n = d === undefined ? 0 : Number(d);
      return () => n;
    }
    case "bool": {
      const b = d === "true";
      return () => b;
    }
    case "string": {
      const s = d === undefined ? "" : String(d);
      return () => s;
    }
    case "bytes":
      return () => (nullable ? null : EMPTY_BYTES);
    case "records":
      return () => null;
    case "uuid":
      return () => ZERO_UUID;
    default: {
      if (nullable) return () => null;
      const value = Object.freeze(defaultStruct(f.fields ?? [], version));
      return () => value;
    }
  }
}

function defaultStruct(fields: readonly FieldDef[], version: number): Struct {
  const o: MutableStruct = {};
  for (const f of fields) o[camel(f.name)] = defaultOf(f, f.type.replace(/^\[\]/, ""), version)();
  return o;
}

function primitive(type: string, flexible: boolean): [ReadFn, WriteFn] {
  switch (type) {
    case "int8":
      return [(r) => r.int8(), (w, v) => w.int8(v as number)];
    case "int16":
      return [(r) => r.int16(), (w, v) => w.int16(v as number)];
    case "uint16":
      return [(r) => r.uint16(), (w, v) => w.uint16(v as number)];
    case "int32":
      return [(r) => r.int32(), (w, v) => w.int32(v as number)];
    case "uint32":
      return [(r) => r.uint32(), (w, v) => w.uint32(v as number)];
    case "int64":
      return [(r) => r.int64(), (w, v) => w.int64(v as number)];
    case "float64":
      return [(r) => r.float64(), (w, v) => w.float64(v as number)];
    case "bool":
      return [(r) => r.bool(), (w, v) => w.bool(v as boolean)];
    case "uuid":
      return [(r) => r.uuid(), (w, v) => w.uuid(v as Uint8Array)];
    case "string":
      return flexible
        ? [(r) => r.compactString(), (w, v) => w.compactString(v as string | null)]
        : [(r) => r.string(), (w, v) => w.string(v as string | null)];
    case "bytes":
      return flexible
        ? [(r) => r.compactBytes(), (w, v) => w.compactBytes(v as Uint8Array | null)]
        : [(r) => r.bytes(), (w, v) => w.bytes(v as Uint8Array | null)];
    case "records":
      return flexible
        ? [
            (r) => r.compactBytes(),
            (w, v) => {
              const rv = v as RecordsValue;
              if (rv === null) return w.uvarint(0);
              w.uvarint(recordsSize(rv) + 1);
              w.records(rv);
            },
          ]
        : [
            (r) => r.bytes(),
            (w, v) => {
              const rv = v as RecordsValue;
              if (rv === null) return w.int32(-1);
              w.int32(recordsSize(rv));
              w.records(rv);
            },
          ];
  }
  throw new Error(`unknown primitive type ${type}`);
}

const NULLABLE_ON_WIRE = new Set(["string", "bytes", "records"]);

function compileField(f: FieldDef, version: number, flexible: boolean): [ReadFn, WriteFn] {
  const isArray = f.type.startsWith("[]");
  const elemType = isArray ? f.type.slice(2) : f.type;
  const nullable = inRange(parseVersions(f.nullableVersions), version);
  let elem: [ReadFn, WriteFn];
  if (PRIMITIVES.has(elemType)) {
    elem = primitive(elemType, flexible);
    if (!nullable && NULLABLE_ON_WIRE.has(elemType)) {
      // as Kafka: a null where the schema allows none is a malformed request, not a null for the handler
      const [rd, wr] = elem;
      elem = [
        (r) => {
          const v = rd(r);
          if (v === null) throw new DecodeError(`field ${f.name}: null for a non-nullable ${elemType}`);
          return v;
        },
        wr,
      ];
    }
  } else {
    if (!f.fields) throw new Error(`field ${f.name}: struct type ${elemType} without fields`);
    const s = compileStruct(f.fields, version, flexible);
    elem = [s.read, s.write as WriteFn];
    if (!isArray && nullable) {
      // Nullable structs carry a one-byte presence marker.
      const [rd, wr] = elem;
      elem = [(r) => (r.int8() < 0 ? null : rd(r)), (w, v) => (v === null ? w.int8(-1) : (w.int8(1), wr(w, v)))];
    }
  }
  if (!isArray) return elem;
  const [rdElem, wrElem] = elem;
  const read: ReadFn = (r) => {
    const n = flexible ? r.uvarint() - 1 : r.int32();
    if (n < 0) {
      if (!nullable) throw new DecodeError(`field ${f.name}: null array`);
      return null;
    }
    if (n > r.remaining) throw new DecodeError(`field ${f.name}: array length ${n} exceeds the frame`);
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = rdElem(r);
    return out;
  };
  const write: WriteFn = (w, v) => {
    const a = v as unknown[] | null;
    if (a === null) return flexible ? w.uvarint(0) : w.int32(-1);
    if (flexible) w.uvarint(a.length + 1);
    else w.int32(a.length);
    for (let i = 0; i < a.length; i++) wrElem(w, a[i]);
  };
  return [read, write];
}

interface CompiledField {
  key: string;
  read: ReadFn;
  write: WriteFn;
  dflt: () => unknown;
}

function isDefaultValue(v: unknown, d: unknown): boolean {
  if (v === d) return true;
  if (Array.isArray(v)) return v.length === 0 && Array.isArray(d) && d.length === 0;
  if (v instanceof Uint8Array && d instanceof Uint8Array) return v.length === d.length && v.every((x, i) => x === d[i]);
  if (v && d && typeof v === "object" && typeof d === "object") {
    const dv = d as Struct;
    const vv = v as Struct;
    for (const k in vv) if (!isDefaultValue(vv[k], dv[k])) return false;
    return true;
  }
  return false;
}

function compileStruct(fields: readonly FieldDef[], version: number, flexible: boolean): StructCodec {
  const regular: CompiledField[] = [];
  const tagged = new Map<number, CompiledField>();
  const absent: CompiledField[] = [];
  for (const f of fields) {
    const elemType = f.type.replace(/^\[\]/, "");
    const dflt = defaultOf(f, elemType, version);
    const key = camel(f.name);
    const present = inRange(parseVersions(f.versions), version);
    const isTagged = f.tag !== undefined && inRange(parseVersions(f.taggedVersions), version);
    if (!present) {
      absent.push({ key, read: () => undefined, write: () => {}, dflt });
      continue;
    }
    const [read, write] = compileField(f, version, flexible);
    const cf = { key, read, write, dflt };
    if (isTagged && flexible) tagged.set(f.tag!, cf);
    else if (!isTagged) regular.push(cf);
  }
  const taggedList = [...tagged.entries()].sort((a, b) => a[0] - b[0]);

  const read = (r: Reader): Struct => {
    const o: MutableStruct = {};
    for (let i = 0; i < regular.length; i++) {
      const f = regular[i]!;
      o[f.key] = f.read(r);
    }
    for (let i = 0; i < absent.length; i++) o[absent[i]!.key] = absent[i]!.dflt();
    if (flexible) {
      for (const [, f] of taggedList) o[f.key] = f.dflt();
      const n = r.uvarint();
      for (let i = 0; i < n; i++) {
        const tag = r.uvarint();
        const size = r.uvarint();
        const f = tagged.get(tag);
        if (!f) {
          r.raw(size); // unknown tags are skipped, as Kafka does
          continue;
        }
        const end = r.pos + size;
        if (end > r.end) throw new DecodeError(`tagged field ${tag} overruns the frame`);
        o[f.key] = f.read(new Reader(r.buf, r.pos, end));
        r.pos = end;
      }
    }
    return o;
  };

  const scratch = taggedList.length > 0 ? new Writer(256) : null;
  const write = (w: Writer, v: Struct): void => {
    for (let i = 0; i < regular.length; i++) {
      const f = regular[i]!;
      const x = v[f.key];
      f.write(w, x === undefined ? f.dflt() : x);
    }
    if (!flexible) return;
    if (taggedList.length === 0) return w.uvarint(0);
    let n = 0;
    for (let i = 0; i < taggedList.length; i++) {
      const f = taggedList[i]![1];
      if (v[f.key] !== undefined && !isDefaultValue(v[f.key], f.dflt())) n++;
    }
    w.uvarint(n);
    if (n === 0) return;
    for (const [tag, f] of taggedList) {
      if (v[f.key] === undefined || isDefaultValue(v[f.key], f.dflt())) continue;
      scratch!.reset();
      f.write(scratch!, v[f.key]);
      const bytes = scratch!.finish();
      w.uvarint(tag);
      w.uvarint(bytes.length);
      w.raw(bytes);
    }
  };
  return { read, write };
}

const cache = new WeakMap<MessageDef, Map<number, StructCodec>>();

export function codecFor<D extends MessageDef>(def: D, version: number): Codec<D> {
  let byVersion = cache.get(def);
  if (!byVersion) cache.set(def, (byVersion = new Map()));
  let c = byVersion.get(version);
  if (!c) {
    const flexible = inRange(parseVersions(def.flexibleVersions), version);
    c = compileStruct(def.fields, version, flexible);
    byVersion.set(version, c);
  }
  // The one place where the closures meet the types: they read and write
  // exactly the fields of `def`, which is what Decoded<D> / Encodable<D> say.
  return c as unknown as Codec<D>;
}

export function isFlexible(def: MessageDef, version: number): boolean {
  return inRange(parseVersions(def.flexibleVersions), version);
}

export function validVersions(def: MessageDef): { min: number; max: number } {
  return parseVersions(def.validVersions);
}

/** Decode a whole buffer as one message (used by tests and the metadata log). */
export function decode<D extends MessageDef>(def: D, version: number, buf: Uint8Array): Decoded<D> {
  return codecFor(def, version).read(new Reader(buf));
}

/** Encode one message into fresh bytes (tests and cold paths; the hot path reuses a Writer). */
export function encode<D extends MessageDef>(def: D, version: number, v: Encodable<D>): Uint8Array {
  const w = new Writer(1024);
  codecFor(def, version).write(w, v);
  return w.finish().slice();
}
