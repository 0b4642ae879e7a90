// Codec round trips: every message definition, at every valid version, with
// every field set to a non-default value, encodes, decodes to the same value
// and re-encodes to the same bytes. Plus the primitive encodings by hand.

import { describe, expect, test } from "bun:test";
import { codecFor, decode, encode } from "../src/protocol/codec.ts";
import type { Msg } from "./helpers.ts";
import { Reader, DecodeError } from "../src/protocol/reader.ts";
import { Writer } from "../src/protocol/writer.ts";
import { camel, inRange, parseVersions, type FieldDef, type MessageDef } from "../src/protocol/schema.ts";
import * as apiVersions from "../src/protocol/messages/api-versions.ts";
import * as metadata from "../src/protocol/messages/metadata.ts";
import * as produce from "../src/protocol/messages/produce.ts";
import * as fetch from "../src/protocol/messages/fetch.ts";
import * as listOffsets from "../src/protocol/messages/list-offsets.ts";
import * as dtp from "../src/protocol/messages/describe-topic-partitions.ts";

const ALL: MessageDef[] = [apiVersions, metadata, produce, fetch, listOffsets, dtp].flatMap((m) => Object.values(m) as MessageDef[]);

let counter = 0;
function sample(fields: readonly FieldDef[], version: number): Msg {
  const o: Msg = {};
  for (const f of fields) {
    if (!inRange(parseVersions(f.versions), version)) continue;
    const elem = f.type.replace(/^\[\]/, "");
    const one = (): unknown => {
      counter++;
      switch (elem) {
        case "int8":
          return (counter % 100) + 1;
        case "int16":
          return 1000 + (counter % 1000);
        case "uint16":
          return 60000;
        case "int32":
          return 100000 + counter;
        case "int64":
          return 2 ** 40 + counter;
        case "float64":
          return 1.5;
        case "bool":
          return true;
        case "string":
          return `s${counter}-é`;
        case "bytes":
        case "records":
          return new Uint8Array([1, 2, 3, counter & 0xff]);
        case "uuid":
          return new Uint8Array(16).fill(counter & 0xff || 1);
        default:
          return sample(f.fields!, version);
      }
    };
    o[camel(f.name)] = f.type.startsWith("[]") ? [one(), one()] : one();
  }
  return o;
}

describe("codec round trip at every version", () => {
  for (const def of ALL) {
    const { min, max } = parseVersions(def.validVersions);
    for (let v = min; v <= max; v++) {
      test(`${def.name} v${v}`, () => {
        const value = sample(def.fields, v);
        const bytes = encode(def, v, value);
        const back = decode(def, v, bytes);
        expect(back).toMatchObject(value);
        expect(encode(def, v, back)).toEqual(bytes);
      });
    }
  }
});

describe("primitives", () => {
  test("unsigned varints and zigzag varints", () => {
    const w = new Writer(16);
    for (const v of [0, 1, 127, 128, 300, 2 ** 31 - 1]) {
      w.reset();
      w.uvarint(v);
      expect(new Reader(w.finish().slice()).uvarint()).toBe(v);
    }
    w.reset();
    w.uvarint(300);
    expect([...w.finish()]).toEqual([0xac, 0x02]);
    for (const [v, enc] of [[0, [0]], [-1, [1]], [1, [2]], [-64, [127]], [64, [0x80, 0x01]]] as const) {
      w.reset();
      w.varint(v);
      expect([...w.finish()]).toEqual([...enc]);
      expect(new Reader(w.finish().slice()).varint()).toBe(v);
    }
  });

  test("int64 as numbers, negative and large", () => {
    const w = new Writer(16);
    w.int64(-1);
    w.int64(2 ** 40 + 5);
    expect([...w.finish()]).toEqual([255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 1, 0, 0, 0, 0, 5]);
    const r = new Reader(w.finish().slice());
    expect(r.int64()).toBe(-1);
    expect(r.int64()).toBe(2 ** 40 + 5);
  });

  test("strings: classic, compact, null", () => {
    const w = new Writer(4);
    w.string("ab");
    w.string(null);
    w.compactString("ab");
    w.compactString(null);
    w.compactString("x".repeat(200));
    const b = w.finish().slice();
    expect([...b.subarray(0, 11)]).toEqual([0, 2, 97, 98, 255, 255, 3, 97, 98, 0, 0xc9]);
    const r = new Reader(b);
    expect(r.string()).toBe("ab");
    expect(r.string()).toBeNull();
    expect(r.compactString()).toBe("ab");
    expect(r.compactString()).toBeNull();
    expect(r.compactString()).toBe("x".repeat(200));
  });

  test("a truncated message is a DecodeError, not a crash", () => {
    const bytes = encode(metadata.MetadataRequest, 9, {
      topics: [{ name: "topic-a", topicId: new Uint8Array(16) }],
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(() => codecFor(metadata.MetadataRequest, 9).read(new Reader(bytes.subarray(0, cut)))).toThrow(DecodeError);
    }
  });

  test("unknown tagged fields are skipped", () => {
    // ApiVersionsRequest v3: client name, version, then 1 tagged field (tag 9, 2 bytes)
    const bytes = new Uint8Array([2, 97, 2, 49, 1, 9, 2, 0xaa, 0xbb]);
    expect(decode(apiVersions.ApiVersionsRequest, 3, bytes)).toEqual({ clientSoftwareName: "a", clientSoftwareVersion: "1" });
  });
});
