// Disk trouble (issue 9 item 6): an I/O error or a full disk on append is
// answered KAFKA_STORAGE_ERROR (56) for that partition, the connection stays
// up, nothing half-written stays (file size and offsets as before), reads go
// on, and once the disk takes writes again appends continue at the right
// offsets, also after a restart. A log dir that cannot be written stops the
// executable at start-up with one line and a non-zero exit.
// The full-disk case mounts a small tmpfs (root only); without it the test
// says why and checks nothing more.

import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KAFKA_BIN, removeDir, runCli, tempDir } from "./helpers.ts";
import { createTopic, fetchAll, metadata, produce, startListening, type ListeningBroker } from "./wire-calls.ts";
import { diskIo, resetDiskIo } from "../src/storage/disk-io.ts";

const STORAGE_ERROR = 56;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  resetDiskIo();
  for (const c of cleanups.splice(0).reverse()) await c();
});

function segmentFile(dir: string, topic: string, partition: number): string {
  const d = join(dir, `${topic}-${partition}`);
  return join(d, readdirSync(d).filter((n) => n.endsWith(".log")).sort().at(-1)!);
}

/** Mounts a tmpfs of `size` at a fresh dir; null (with the reason printed) when this process cannot. */
function mountTmpfs(size: string, ro = false): string | null {
  const dir = tempDir("kafka-tmpfs-");
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", `${ro ? "ro," : ""}size=${size}`, "tmpfs", dir], { stderr: "pipe" });
  if (r.exitCode !== 0) {
    console.log(`skipped: cannot mount a tmpfs (${r.stderr.toString().trim() || `mount exited ${r.exitCode}`})`);
    removeDir(dir);
    return null;
  }
  cleanups.push(() => {
    Bun.spawnSync(["umount", "-l", dir]);
    removeDir(dir);
  });
  return dir;
}

function values(prefix: string, n: number, size = 8): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}`.padEnd(size, "."));
}

describe("append errors", () => {
  test("an injected write error: KAFKA_STORAGE_ERROR for that partition, nothing half-written, reads and later appends go on", async () => {
    const b = await startListening();
    let closed = false;
    cleanups.push(() => (closed ? undefined : b.close()));
    const c = await b.connect();
    await createTopic(c, "t", 2);
    expect((await produce(c, "t", 0, values("a", 3))).baseOffset).toBe(0);
    expect((await produce(c, "t", 1, values("b", 2))).baseOffset).toBe(0);
    const file = segmentFile(b.dir, "t", 0);
    const sizeBefore = statSync(file).size;

    // the next write puts half its bytes down, then the disk fails
    let failures = 0;
    diskIo.writeSync = (fd, buf, offset, length, position) => {
      failures++;
      resetDiskIo();
      diskIo.writeSync(fd, buf, offset, length >> 1, position);
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    };
    const failed = await produce(c, "t", 0, values("x", 4));
    expect(failures).toBe(1);
    expect(failed.errorCode).toBe(STORAGE_ERROR);
    expect(failed.baseOffset).toBe(-1);
    expect(statSync(file).size).toBe(sizeBefore);

    // same connection: still served, reads see only what was acknowledged
    expect((await metadata(c, "t")).topics[0].errorCode).toBe(0);
    const r0 = await fetchAll(c, "t", 0);
    expect(r0.highWatermark).toBe(3);
    expect(r0.records).toEqual(values("a", 3).map((v, i) => [i, v]));
    expect((await produce(c, "t", 1, values("b2", 1))).baseOffset).toBe(2);

    // the disk works again: offsets continue where the acknowledged ones ended
    expect((await produce(c, "t", 0, values("y", 2))).baseOffset).toBe(3);

    await b.close(true);
    closed = true;
    const again = await startListening({}, b.dir);
    cleanups.push(() => again.close());
    const c2 = await again.connect();
    const after = await fetchAll(c2, "t", 0);
    expect(after.records).toEqual([...values("a", 3), ...values("y", 2)].map((v, i) => [i, v]));
    expect((await produce(c2, "t", 0, values("z", 1))).baseOffset).toBe(5);
  });

  test("a full disk (small tmpfs): KAFKA_STORAGE_ERROR, acknowledged records intact, appends continue once space is back", async () => {
    const mnt = mountTmpfs("3m");
    if (mnt === null) return;
    const dir = join(mnt, "logs");
    mkdirSync(dir);
    // room to give back later
    const filler = join(mnt, "filler");
    writeFileSync(filler, new Uint8Array(512 * 1024));
    let b: ListeningBroker | null = await startListening({}, dir);
    cleanups.push(() => b?.close());
    const c = await b.connect();
    // small segments, so rolls (index files, new segment files) meet the full disk too
    await createTopic(c, "full", 2, { "segment.bytes": "200000" });

    const acked: string[][] = [[], []];
    const errors = [0, 0];
    const big = 16 * 1024;
    for (let round = 0; round < 1000 && (errors[0] === 0 || errors[1] === 0); round++) {
      for (const p of [0, 1]) {
        if (errors[p] !== 0) continue;
        const vs = values(`p${p}r${round}`, 3, big);
        const r = await produce(c, "full", p, vs);
        if (r.errorCode !== 0) {
          errors[p] = r.errorCode;
          continue;
        }
        expect(r.baseOffset).toBe(acked[p]!.length);
        acked[p]!.push(...vs);
      }
    }
    expect(errors).toEqual([STORAGE_ERROR, STORAGE_ERROR]);
    for (const p of [0, 1]) {
      expect(acked[p]!.length).toBeGreaterThan(0);
      // the broker still answers and serves every acknowledged record, nothing more
      const got = await fetchAll(c, "full", p);
      expect(got.highWatermark).toBe(acked[p]!.length);
      expect(got.records.map(([o]) => o)).toEqual(acked[p]!.map((_, i) => i));
      expect(got.records.map(([, v]) => v)).toEqual(acked[p]!);
    }

    unlinkSync(filler);
    for (const p of [0, 1]) {
      const more = values(`after${p}`, 2, 1024);
      const r = await produce(c, "full", p, more);
      expect(r.errorCode).toBe(0);
      expect(r.baseOffset).toBe(acked[p]!.length);
      acked[p]!.push(...more);
    }

    await b.close(true);
    b = await startListening({}, dir);
    const c2 = await b.connect();
    for (const p of [0, 1]) {
      const back = await fetchAll(c2, "full", p);
      expect(back.records.map(([, v]) => v)).toEqual(acked[p]!);
      expect(back.records.map(([o]) => o)).toEqual(acked[p]!.map((_, i) => i));
      expect((await produce(c2, "full", p, ["again"])).baseOffset).toBe(acked[p]!.length);
    }
  }, 30_000);
});

describe("an unwritable log dir at start-up", () => {
  test.skipIf(!existsSync(KAFKA_BIN))("a file where the log dir should be: one line, exit 1", async () => {
    const d = tempDir();
    cleanups.push(() => removeDir(d));
    const file = join(d, "not-a-dir");
    writeFileSync(file, "x");
    const r = await runCli(["--override", `log.dirs=${file}`, "--override", "listeners=PLAINTEXT://127.0.0.1:0"]);
    expect(r.code).not.toBe(0);
    const lines = (r.stdout + r.stderr).trim().split("\n");
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain(file);
    expect(lines[0]).toMatch(/not a directory/i);
  });

  test.skipIf(!existsSync(KAFKA_BIN))("a read-only file system, fresh and formatted: one line, exit 1", async () => {
    const mnt = mountTmpfs("4m");
    if (mnt === null) return;
    // formatted by a first run with a topic, then remounted read-only
    const b = await startListening({}, mnt);
    const c = await b.connect();
    await createTopic(c, "ro", 1);
    await produce(c, "ro", 0, ["v"]);
    await b.close(true);
    expect(Bun.spawnSync(["mount", "-o", "remount,ro", mnt]).exitCode).toBe(0);
    const r = await runCli(["--override", `log.dirs=${mnt}`, "--override", "listeners=PLAINTEXT://127.0.0.1:0"]);
    expect(r.code).not.toBe(0);
    const lines = (r.stdout + r.stderr).trim().split("\n");
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain(mnt);
    expect(lines[0]).toMatch(/read-only|not writable/i);

    const fresh = mountTmpfs("1m", true);
    if (fresh === null) return;
    const r2 = await runCli(["--override", `log.dirs=${fresh}`, "--override", "listeners=PLAINTEXT://127.0.0.1:0"]);
    expect(r2.code).not.toBe(0);
    const lines2 = (r2.stdout + r2.stderr).trim().split("\n");
    expect(lines2.length).toBe(1);
    expect(lines2[0]).toMatch(/read-only|not writable/i);
  });
});
