import { crc32c, crc32cTable, enableNativeCrc32c, removeStaleCompileDirs } from "../src/records/crc32c.ts";
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "bun:test";
import { ATTR_CONTROL, ATTR_TRANSACTIONAL, validateBatches } from "../src/records/batch.ts";
import { buildBatch, controlRecordKey, controlRecordType, ControlType, decodeRecords, isControlBatch } from "../src/records/record.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));
/** Hex bytes, one field a line; three or more spaces start a comment. */
const hex = (s: string) =>
  Uint8Array.from(
    s
      .split("\n")
      .map((line) => line.trim().split(/\s{3,}/)[0]!.replace(/\s+/g, ""))
      .join("")
      .match(/../g)!
      .map((h) => parseInt(h, 16)),
  );

// One batch written down byte by byte. The CRC was computed with an
// independent bitwise CRC-32C (Python), not with src/records/crc32c.ts.
const GOLDEN = hex(`
  0000000000000005   baseOffset 5
  0000003f           batchLength 63 = 75 - 12
  00000000           partitionLeaderEpoch 0
  02                 magic 2
  8f465314           crc32c of everything after this field
  0000               attributes: no compression, CreateTime, not transactional, not control
  00000000           lastOffsetDelta 0
  00000000000003e8   baseTimestamp 1000
  00000000000003eb   maxTimestamp 1003
  0000000000000007   producerId 7
  0001               producerEpoch 1
  00000000           baseSequence 0
  00000001           recordCount 1
  1a                 record length 13 (zigzag varint 26)
  00                 record attributes
  06                 timestampDelta 3 (zigzag 6)
  00                 offsetDelta 0
  02 6b              key length 1, "k"
  04 6869            value length 2, "hi"
  02                 header count 1
  02 68              header key length 1, "h"
  02 78              header value length 1, "x"
`);

describe("record batches", () => {
  test("golden batch: buildBatch writes exactly these bytes", () => {
    const b = buildBatch({
      baseOffset: 5,
      baseTimestamp: 1000,
      partitionLeaderEpoch: 0,
      producerId: 7,
      producerEpoch: 1,
      baseSequence: 0,
      records: [{ key: enc("k"), value: enc("hi"), timestampDelta: 3, headers: [{ key: "h", value: enc("x") }] }],
    });
    expect(GOLDEN.length).toBe(75);
    expect(Buffer.from(b).toString("hex")).toBe(Buffer.from(GOLDEN).toString("hex"));
  }, 2000);

  test("golden batch: validates and decodes", () => {
    const scan = validateBatches(GOLDEN);
    expect(scan.ok).toBe(true);
    if (!scan.ok) return;
    expect(scan.batches[0]).toMatchObject({ baseOffset: 5, size: 75, recordCount: 1, maxTimestamp: 1003, producerId: 7 });
    const [r] = decodeRecords(GOLDEN);
    expect(r!.offsetDelta).toBe(0);
    expect(r!.timestampDelta).toBe(3);
    expect(dec(r!.key)).toBe("k");
    expect(dec(r!.value)).toBe("hi");
    expect(r!.headers.map((h) => [h.key, dec(h.value)])).toEqual([["h", "x"]]);
  }, 2000);

  test("round trip: nulls, empty values, headers, large and negative deltas", () => {
    const big = new Uint8Array(300).fill(7); // lengths above one varint byte
    const recs = [
      { key: null, value: enc("a") },
      { key: enc(""), value: null, timestampDelta: 70000 },
      { value: big, headers: [{ key: "ä-ключ", value: null }, { key: "", value: enc("") }], timestampDelta: -5 },
    ];
    const b = buildBatch({ baseTimestamp: 1_700_000_000_000, records: recs });
    const scan = validateBatches(b);
    expect(scan.ok).toBe(true);
    if (scan.ok) {
      expect(scan.batches[0]!.lastOffsetDelta).toBe(2);
      expect(scan.batches[0]!.maxTimestamp).toBe(1_700_000_070_000);
      expect(scan.batches[0]!.producerId).toBe(-1);
    }
    const out = decodeRecords(b);
    expect(out.map((r) => r.offsetDelta)).toEqual([0, 1, 2]);
    expect(out.map((r) => r.timestampDelta)).toEqual([0, 70000, -5]);
    expect(out[0]!.key).toBeNull();
    expect(dec(out[0]!.value)).toBe("a");
    expect(out[1]!.key!.length).toBe(0);
    expect(out[1]!.value).toBeNull();
    expect(out[2]!.value).toEqual(big);
    expect(out[2]!.headers.map((h) => [h.key, dec(h.value)])).toEqual([["ä-ключ", null], ["", ""]]);
  }, 2000);

  test("a flipped byte breaks the CRC", () => {
    const b = buildBatch({ records: [{ value: enc("x") }] });
    b[b.length - 2]! ^= 1;
    expect(validateBatches(b).ok).toBe(false);
  }, 2000);

  test("malformed batches, and ones whose compressed bytes do not decompress, are refused, never misread", () => {
    const b = buildBatch({ records: [{ value: enc("x") }] });
    const gz = b.slice();
    gz[22] = 1; // attributes low byte: gzip, over bytes that are not gzip
    expect(() => decodeRecords(gz)).toThrow(/gzip/);
    expect(() => decodeRecords(b.subarray(0, 40))).toThrow();
    const lying = b.slice();
    new DataView(lying.buffer).setInt32(57, 1000); // recordCount far beyond the bytes
    expect(() => decodeRecords(lying)).toThrow();
    expect(() => buildBatch({ records: [] })).toThrow();
  }, 2000);

  test("control batches", () => {
    const b = buildBatch({ attributes: ATTR_CONTROL | ATTR_TRANSACTIONAL, records: [{ key: controlRecordKey(ControlType.COMMIT), value: new Uint8Array(6) }] });
    const scan = validateBatches(b);
    expect(scan.ok && isControlBatch(scan.batches[0]!.attributes)).toBe(true);
    expect(controlRecordType(decodeRecords(b)[0]!)).toBe(ControlType.COMMIT);
  }, 2000);
});

describe("CRC-32C implementations", () => {
  test("the table version matches the standard check value", () => {
    expect(crc32cTable(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
  });

  test("the SSE4.2 version (where the CPU has it) matches the table version at every length and offset", () => {
    const which = enableNativeCrc32c();
    expect(["sse4.2", "table"]).toContain(which);
    const buf = new Uint8Array(4096).map((_, i) => (i * 131 + 17) & 0xff);
    for (let len = 0; len < 300; len += 7) {
      for (const start of [0, 1, 5, 64]) {
        expect(crc32c(buf, start, start + len)).toBe(crc32cTable(buf, start, start + len));
      }
    }
    expect(crc32c(buf)).toBe(crc32cTable(buf));
  });

  test("compile dirs left by a start killed while compiling are removed: only ours, only stale, only holding crc32c.c", () => {
    const root = mkdtempSync(join(tmpdir(), "crc-stale-"));
    try {
      const make = (name: string, files: string[], ageMs: number) => {
        const d = join(root, name);
        mkdirSync(d);
        for (const f of files) writeFileSync(join(d, f), "x");
        const t = (Date.now() - ageMs) / 1000;
        utimesSync(d, t, t);
        return d;
      };
      const stale = make("kafka-crc32c-aaaaaa", ["crc32c.c"], 120_000);
      const empty = make("kafka-crc32c-bbbbbb", [], 120_000);
      const fresh = make("kafka-crc32c-cccccc", ["crc32c.c"], 1_000);
      const other = make("kafka-crc32c-dddddd", ["crc32c.c", "notes.txt"], 120_000);
      const unrelated = make("something-else", ["crc32c.c"], 120_000);
      expect(removeStaleCompileDirs(root)).toBe(2);
      expect([stale, empty, fresh, other, unrelated].map((d) => existsSync(d))).toEqual([false, false, true, true, true]);
      expect(removeStaleCompileDirs(join(root, "missing"))).toBe(0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
