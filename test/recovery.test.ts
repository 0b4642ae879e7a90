// Start-up after a clean and after an unclean stop, on a real log dir of the
// in-process broker (Storage, Partition, PartitionLog as the executable runs
// them). An unclean stop is what kill -9 leaves on disk: no
// .kafka_cleanshutdown and a recovery-point-offset-checkpoint that lags (here:
// none, so every segment is recovered; or one naming an offset, so the
// segments below it are trusted). test/crash.test.ts kills the real executable.
//
// Each damage is tried after both stops: a clean start trusts the logs and
// never truncates them; an unclean one checks every batch past the recovery
// point, and the first bad one ends the log, with the bytes from it and the
// later segments moved to .quarantine files beside the segment.

import { afterEach, expect, spyOn, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { log } from "../src/log.ts";
import { OFF_MAGIC, validateBatches } from "../src/records/batch.ts";
import { buildBatch, decodeRecords } from "../src/records/record.ts";
import { readOffsetCheckpoint } from "../src/storage/checkpoint.ts";
import { startInProcess, tempDir, type InProcessBroker } from "./helpers.ts";

const T = "r";
const SEG = 8 * 1024;
const dirs: string[] = [];
const running: InProcessBroker[] = [];

afterEach(async () => {
  for (const k of running.splice(0)) await k.broker.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(dir: string, extra: Record<string, string> = {}): Promise<InProcessBroker> {
  const k = await startInProcess({ "log.segment.bytes": String(SEG), "log.index.interval.bytes": "512", ...extra }, dir);
  running.push(k);
  return k;
}

async function stop(k: InProcessBroker): Promise<void> {
  running.splice(running.indexOf(k), 1);
  await k.broker.stop();
}

/** Appends `n` batches of 5 records (values "b<i>-<j>") to partition 0; returns the base offset of each. */
function fill(k: InProcessBroker, n: number, from = 0): number[] {
  const part = k.storage.getPartition(T, 0)!;
  const bases: number[] = [];
  for (let i = from; i < from + n; i++) {
    const batch = buildBatch({ baseTimestamp: 1_700_000_000_000 + i, records: Array.from({ length: 5 }, (_, j) => ({ value: new TextEncoder().encode(`b${i}-${j}`.padEnd(100, ".")) })) });
    const scan = validateBatches(batch);
    if (!scan.ok) throw new Error(scan.reason);
    const r = part.append(batch, scan.batches);
    expect(r.errorCode).toBe(0);
    bases.push(r.baseOffset);
  }
  return bases;
}

/** Every record partition 0 serves, as offset -> value, read batch by batch through the log (a batch that fails its CRC or does not decode is skipped). */
function served(k: InProcessBroker): Map<number, string> {
  const out = new Map<number, string>();
  const part = k.storage.getPartition(T, 0)!;
  part.log.forEachBatch(0, (b) => {
    if (!validateBatches(b).ok) return; // the damaged batch, as a client's CRC check would drop it
    try {
      const base = Number(new DataView(b.buffer, b.byteOffset).getBigInt64(0));
      for (const r of decodeRecords(b)) out.set(base + r.offsetDelta, new TextDecoder().decode(r.value!).replace(/\.+$/, ""));
    } catch {
      // the damaged batch
    }
  });
  return out;
}

function expected(batches: number, skip: Set<number> = new Set()): Map<number, string> {
  const m = new Map<number, string>();
  for (let i = 0; i < batches; i++) for (let j = 0; j < 5; j++) if (!skip.has(i)) m.set(i * 5 + j, `b${i}-${j}`);
  return m;
}

const partDir = (dir: string) => join(dir, `${T}-0`);
const bytesOf = (path: string): Uint8Array<ArrayBufferLike> => new Uint8Array(readFileSync(path));
const segFiles = (dir: string, ext: string) => readdirSync(partDir(dir)).filter((n) => n.endsWith(ext)).sort();
const quarantined = (dir: string) => readdirSync(partDir(dir)).filter((n) => n.includes(".quarantine")).sort();

/** What kill -9 leaves: no clean-shutdown marker; the recovery point checkpoint at `rp` (null: none written yet). */
function makeUnclean(dir: string, rp: number | null): void {
  unlinkSync(join(dir, ".kafka_cleanshutdown"));
  const cp = join(dir, "recovery-point-offset-checkpoint");
  if (rp === null) unlinkSync(cp);
  else writeFileSync(cp, `0\n1\n${T} 0 ${rp}\n`);
}

/** A fresh log dir with topic T (1 partition) holding `batches` batches over several segments, stopped cleanly. */
async function prepared(batches: number): Promise<{ dir: string; bytes: Map<string, Uint8Array> }> {
  const dir = tempDir();
  dirs.push(dir);
  const k = await start(dir);
  k.storage.createTopic(T, 1);
  fill(k, batches);
  await stop(k);
  const bytes = new Map<string, Uint8Array>();
  for (const n of readdirSync(partDir(dir))) bytes.set(n, bytesOf(join(partDir(dir), n)));
  return { dir, bytes };
}

/** The position of batch `i` in its segment file, walking the files by batch lengths. */
function locateBatch(dir: string, i: number): { file: string; position: number; size: number } {
  let n = 0;
  for (const f of segFiles(dir, ".log")) {
    const b = readFileSync(join(partDir(dir), f));
    for (let p = 0; p + 12 <= b.length; ) {
      const size = b.readInt32BE(p + 8) + 12;
      if (n++ === i) return { file: f, position: p, size };
      p += size;
    }
  }
  throw new Error(`no batch ${i}`);
}

function silenced<R>(fn: () => Promise<R>): Promise<{ result: R; warnings: string[]; infos: string[] }> {
  const warnings: string[] = [];
  const infos: string[] = [];
  const w = spyOn(log, "warn").mockImplementation((m: string) => void warnings.push(m));
  const i = spyOn(log, "info").mockImplementation((m: string) => void infos.push(m));
  return fn()
    .then((result) => ({ result, warnings, infos }))
    .finally(() => {
      w.mockRestore();
      i.mockRestore();
    });
}

test("a clean stop writes Kafka's checkpoints and .kafka_cleanshutdown; the next start trusts the logs and removes the marker", async () => {
  const { dir } = await prepared(40);
  expect(JSON.parse(readFileSync(join(dir, ".kafka_cleanshutdown"), "utf8"))).toEqual({ version: 0, brokerEpoch: -1 });
  expect(readOffsetCheckpoint(join(dir, "recovery-point-offset-checkpoint")).get(T)?.get(0)).toBe(200);
  expect(readOffsetCheckpoint(join(dir, "replication-offset-checkpoint")).get(T)?.get(0)).toBe(200);
  expect(existsSync(join(dir, "log-start-offset-checkpoint"))).toBe(true);
  expect(segFiles(dir, ".log").length).toBeGreaterThan(3);
  // every segment's indexes trimmed to their entries
  for (const f of segFiles(dir, ".index")) expect(statSync(join(partDir(dir), f)).size % 8).toBe(0);
  expect(statSync(join(partDir(dir), segFiles(dir, ".index").at(-1)!)).size).toBeLessThan(1024);
  const { result: k, warnings, infos } = await silenced(() => start(dir));
  expect(warnings).toEqual([]);
  expect(infos.filter((l) => l.includes("recovered"))).toEqual([]);
  expect(existsSync(join(dir, ".kafka_cleanshutdown"))).toBe(false);
  expect(served(k)).toEqual(expected(40));
  expect(fill(k, 1, 40)).toEqual([200]);
}, 20_000);

for (const stopKind of ["clean", "unclean"] as const) {
  test(`a torn write at the end (${stopKind} stop): cut at the last whole batch, the torn bytes quarantined, appends continue`, async () => {
    const { dir } = await prepared(40);
    const last = segFiles(dir, ".log").at(-1)!;
    const torn = Buffer.from(buildBatch({ records: [{ value: new Uint8Array(300).fill(7) }] }).subarray(0, 90));
    writeFileSync(join(partDir(dir), last), Buffer.concat([readFileSync(join(partDir(dir), last)), torn]));
    if (stopKind === "unclean") makeUnclean(dir, null);
    const { result: k, warnings } = await silenced(() => start(dir));
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toMatch(/torn batch .* the log now ends at offset 200; 90 byte\(s\) from there moved aside/);
    expect(served(k)).toEqual(expected(40));
    expect(quarantined(dir)).toEqual([`${last}.quarantine`]);
    expect(bytesOf(join(partDir(dir), `${last}.quarantine`))).toEqual(new Uint8Array(torn));
    expect(fill(k, 2, 40)).toEqual([200, 205]);
    expect(served(k)).toEqual(expected(42));
  }, 20_000);

  test(`a flipped byte inside a batch in the middle of a segment (${stopKind} stop)`, async () => {
    const { dir, bytes } = await prepared(40);
    const at = locateBatch(dir, 17);
    const file = join(partDir(dir), at.file);
    const b = readFileSync(file);
    b[at.position + at.size - 20] ^= 0xff; // a record value byte: covered by the CRC
    writeFileSync(file, b);
    if (stopKind === "unclean") makeUnclean(dir, null);
    const { result: k, warnings } = await silenced(() => start(dir));
    if (stopKind === "clean") {
      // trusted as Kafka trusts a cleanly stopped log: nothing truncated, every other batch served
      expect(warnings).toEqual([]);
      expect(served(k)).toEqual(expected(40, new Set([17])));
      expect(k.storage.getPartition(T, 0)!.logEndOffset).toBe(200);
      expect(quarantined(dir)).toEqual([]);
      return;
    }
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toContain("crc mismatch in the batch at offset 85");
    expect(warnings[0]).toContain("the log now ends at offset 85");
    // what is before it is served; the rest of its segment and every later segment are moved aside, not deleted
    expect(served(k)).toEqual(expected(17));
    const later = [...bytes.keys()].filter((n) => n.endsWith(".log") && n > at.file).sort();
    expect(later.length).toBeGreaterThan(0);
    expect(quarantined(dir)).toEqual([`${at.file}.quarantine`, ...later.map((n) => `${n}.quarantine`)].sort());
    expect(bytesOf(join(partDir(dir), `${at.file}.quarantine`))).toEqual(new Uint8Array(b.subarray(at.position)));
    for (const n of later) expect(bytesOf(join(partDir(dir), `${n}.quarantine`))).toEqual(bytes.get(n)!);
    // offsets stay contiguous
    expect(fill(k, 1, 17)).toEqual([85]);
    expect(served(k)).toEqual(expected(18));
  }, 20_000);

  test(`a bad magic byte in an old batch (${stopKind} stop, recovery point past it): no acknowledged record is destroyed`, async () => {
    const { dir } = await prepared(40);
    const at = locateBatch(dir, 2);
    const file = join(partDir(dir), at.file);
    const b = readFileSync(file);
    b[at.position + OFF_MAGIC] = 7;
    writeFileSync(file, b);
    // the batch is in the first segment, below a recovery point at the last segment's base
    if (stopKind === "unclean") makeUnclean(dir, Number(segFiles(dir, ".log").at(-1)!.slice(0, 20)));
    const { result: k, warnings } = await silenced(() => start(dir));
    expect(warnings).toEqual([]);
    expect(served(k)).toEqual(expected(40, new Set([2])));
    expect(k.storage.getPartition(T, 0)!.logEndOffset).toBe(200);
    expect(bytesOf(file)).toEqual(new Uint8Array(b));
    expect(quarantined(dir)).toEqual([]);
  }, 20_000);

  test(`a torn middle segment (${stopKind} stop)`, async () => {
    const { dir, bytes } = await prepared(40);
    const logs = segFiles(dir, ".log");
    const middle = logs[1]!;
    const file = join(partDir(dir), middle);
    const size = statSync(file).size;
    truncateSync(file, size - 30);
    if (stopKind === "unclean") makeUnclean(dir, null);
    const { result: k, warnings } = await silenced(() => start(dir));
    const firstOfLater = Number(logs[2]!.slice(0, 20));
    if (stopKind === "clean") {
      // trusted: the later segments stay and serve; only the torn batch is unreadable, said once
      expect(warnings.length).toBe(1);
      expect(warnings[0]).toMatch(/torn batch .* while rebuilding its index; left as it is \(trusted: clean shutdown\)/);
      expect(quarantined(dir)).toEqual([]);
      const got = served(k);
      expect(got.get(firstOfLater)).toBe(expected(40).get(firstOfLater)!);
      expect(got.get(199)).toBe("b39-4");
      expect(k.storage.getPartition(T, 0)!.logEndOffset).toBe(200);
      return;
    }
    expect(warnings.length).toBe(1);
    const end = k.storage.getPartition(T, 0)!.logEndOffset;
    expect(end).toBeLessThan(firstOfLater);
    expect(end % 5).toBe(0);
    expect(served(k)).toEqual(expected(end / 5));
    expect(quarantined(dir)).toEqual([`${middle}.quarantine`, ...logs.slice(2).map((n) => `${n}.quarantine`)].sort());
    for (const n of logs.slice(2)) expect(bytesOf(join(partDir(dir), `${n}.quarantine`))).toEqual(bytes.get(n)!);
    expect(fill(k, 1, end / 5)).toEqual([end]);
  }, 20_000);

  test(`index files deleted or damaged are rebuilt as they were (${stopKind} stop)`, async () => {
    const { dir, bytes } = await prepared(40);
    const indexes = [...bytes.keys()].filter((n) => n.endsWith(".index") || n.endsWith(".timeindex")).sort();
    expect(indexes.length).toBeGreaterThan(6);
    // the first segment's indexes deleted, the second's overwritten with garbage, the last's cut short
    unlinkSync(join(partDir(dir), indexes.find((n) => n.endsWith(".index"))!));
    unlinkSync(join(partDir(dir), indexes.find((n) => n.endsWith(".timeindex"))!));
    const second = indexes.filter((n) => n.endsWith(".index"))[1]!;
    writeFileSync(join(partDir(dir), second), new Uint8Array(bytes.get(second)!.length).fill(0xa5));
    const lastIndex = indexes.filter((n) => n.endsWith(".index")).at(-1)!;
    truncateSync(join(partDir(dir), lastIndex), Math.max(0, bytes.get(lastIndex)!.length - 3));
    if (stopKind === "unclean") makeUnclean(dir, 200);
    const { result: k, warnings } = await silenced(() => start(dir));
    expect(warnings).toEqual([]);
    // every lookup through them still lands on the right batch
    const part = k.storage.getPartition(T, 0)!;
    for (let off = 0; off < 200; off++) {
      const recs = part.read(off, 1);
      const buf = new Uint8Array(recs[0]!.size);
      recs[0]!.writeTo(buf, 0);
      for (const r of recs) r.release();
      const base = Number(new DataView(buf.buffer).getBigInt64(0));
      expect(base).toBe(off - (off % 5));
    }
    await stop(k);
    // rebuilt byte for byte as the append path wrote them
    for (const n of indexes) expect(bytesOf(join(partDir(dir), n))).toEqual(bytes.get(n)!);
  }, 30_000);
}

test("an unclean stop: only the segments from the recovery point on are checked; one line says what was recovered", async () => {
  const { dir } = await prepared(40);
  const logs = segFiles(dir, ".log");
  const rpSegment = logs.at(-2)!;
  // damage below the recovery point is not looked for (trusted, as Kafka); above it, it is
  const old = locateBatch(dir, 1);
  const f = join(partDir(dir), old.file);
  const b = readFileSync(f);
  b[old.position + old.size - 5] ^= 1;
  writeFileSync(f, b);
  makeUnclean(dir, Number(rpSegment.slice(0, 20)) + 1);
  const { result: k, warnings, infos } = await silenced(() => start(dir));
  expect(warnings).toEqual([]);
  const lines = infos.filter((l) => l.includes("recovered after an unclean stop"));
  expect(lines.length).toBe(1);
  expect(lines[0]).toContain(`${T}-0`);
  expect(lines[0]).toContain("2 segment(s)");
  expect(k.storage.getPartition(T, 0)!.logEndOffset).toBe(200);
}, 20_000);
