// When bytes reach the disk (src/storage/durability.ts): durable mode
// (log.flush.before.ack) answers acks=all produces after their fsync, with
// group commit, without holding up other connections while an fsync runs;
// Kafka's flush.messages and flush.ms. The fsync is replaced (disk-io.ts) by a
// counting one that can be held until the test lets it go, standing in for a
// slow disk.

import { afterEach, describe, expect, test } from "bun:test";
import { closeSync, fstatSync, openSync, readFileSync, readlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { removeDir, tempDir } from "./helpers.ts";
import { diskIo, realDiskIo, resetDiskIo } from "../src/storage/disk-io.ts";
import { ApiVersionsRequest, ApiVersionsResponse } from "../src/protocol/messages/api-versions.ts";
import { createTopic, fetchAll, metadata, produce, send, sendProduce, startListening, type ListeningBroker } from "./wire-calls.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  resetDiskIo();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A fsync that counts its calls and, while held, waits until released (then does the real fsync). */
function gatedFsync() {
  let held = false;
  let release: () => void = () => {};
  let gate = Promise.resolve();
  let entered: () => void = () => {};
  let enteredP = new Promise<void>((r) => (entered = r));
  const g = {
    calls: 0,
    hold() {
      held = true;
      gate = new Promise<void>((r) => (release = r));
      enteredP = new Promise<void>((r) => (entered = r));
    },
    release() {
      held = false;
      release();
    },
    /** resolves once an fsync is waiting at the gate */
    get entered() {
      return enteredP;
    },
  };
  diskIo.fsync = async (fd) => {
    g.calls++;
    if (held) {
      entered();
      await gate;
    }
    return realDiskIo.fsync(fd);
  };
  return g;
}

async function start(overrides: Record<string, string> = {}): Promise<ListeningBroker> {
  const b = await startListening(overrides);
  cleanups.push(() => b.close());
  return b;
}

/** resolves once `cond` holds, checked on every turn of the event loop */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

describe("durable mode (log.flush.before.ack=true)", () => {
  test("off by default: acks=all is answered without an fsync", async () => {
    const b = await start();
    const c = await b.connect();
    await createTopic(c, "t", 1);
    const g = gatedFsync();
    g.hold();
    expect((await produce(c, "t", 0, ["a"], -1)).baseOffset).toBe(0);
    expect(g.calls).toBe(0);
  });

  test("acks=all waits for the fsync; meanwhile other connections are served and acks=1 is not held; responses stay in order", async () => {
    const b = await start({ "log.flush.before.ack": "true" });
    const a = await b.connect();
    await createTopic(a, "t", 2);
    const g = gatedFsync();
    g.hold();
    let answered = 0;
    const produced = sendProduce(a, "t", 0, ["v0", "v1"], -1);
    const behind = send(a, ApiVersionsRequest, ApiVersionsResponse, 3, { clientSoftwareName: "t", clientSoftwareVersion: "1" });
    const both = (async () => {
      const p = await produced();
      answered++;
      const v = await behind();
      answered++;
      return { p, v };
    })();
    await g.entered;

    // the fsync is stuck: another connection gets Metadata, Fetch and an acks=1 produce answered
    const o = await b.connect();
    expect((await metadata(o, "t")).topics[0].errorCode).toBe(0);
    expect((await produce(o, "t", 1, ["x"], 1)).baseOffset).toBe(0);
    const seen = await fetchAll(o, "t", 1);
    expect(seen.records).toEqual([[0, "x"]]);
    expect(answered).toBe(0);

    g.release();
    const { p, v } = await both;
    expect(p.errorCode).toBe(0);
    expect(p.baseOffset).toBe(0);
    expect(v.errorCode).toBe(0);
    expect(answered).toBe(2);
  });

  test("group commit: produces arriving during an fsync share the next round, one fsync per dirty segment", async () => {
    const b = await start({ "log.flush.before.ack": "true" });
    const first = await b.connect();
    await createTopic(first, "g", 4);
    const d = b.broker.storage.durability;
    const g = gatedFsync();
    g.hold();
    const roundsBefore = d.rounds;
    const firstAck = sendProduce(first, "g", 0, ["first"], -1);
    await g.entered;
    expect(g.calls).toBe(1);

    const clients = await Promise.all(Array.from({ length: 16 }, () => b.connect()));
    const acks: { partition: number; read: () => Promise<{ errorCode: number; baseOffset: number }> }[] = [];
    clients.forEach((c, i) => {
      for (let k = 0; k < 2; k++) {
        const partition = (i + k) % 4;
        acks.push({ partition, read: sendProduce(c, "g", partition, [`c${i}-${k}`], -1) as never });
      }
    });
    const parts = [0, 1, 2, 3].map((i) => b.broker.storage.getPartition("g", i)!);
    // every produce read and appended (synchronously, on arrival), none answered: they wait for the next round
    await until(() => parts.reduce((n, p) => n + p.logEndOffset, 0) === 1 + acks.length);
    g.release();
    expect((await firstAck()).baseOffset).toBe(0);
    const results = await Promise.all(acks.map(async (a) => ({ partition: a.partition, ...(await a.read()) })));
    for (const r of results) expect(r.errorCode).toBe(0);
    for (let p = 0; p < 4; p++) {
      const offsets = results.filter((r) => r.partition === p).map((r) => r.baseOffset).sort((x, y) => x - y);
      const from = p === 0 ? 1 : 0;
      expect(offsets).toEqual(offsets.map((_, i) => from + i));
    }
    // round 1: the first produce's segment; round 2: the four partitions' segments, once each
    expect(d.rounds - roundsBefore).toBe(2);
    expect(g.calls).toBe(1 + 4);
  });

  test("every acknowledged batch was inside an fsync that completed before its response (8 connections, 4 partitions, pipelined)", async () => {
    const b = await start({ "log.flush.before.ack": "true" });
    const setup = await b.connect();
    await createTopic(setup, "d", 4);
    // per file: the size it had when an fsync that has completed started
    const synced = new Map<string, number>();
    diskIo.fsync = async (fd) => {
      const path = readlinkSync(`/proc/self/fd/${fd}`);
      const size = fstatSync(fd).size;
      await realDiskIo.fsync(fd);
      synced.set(path, Math.max(synced.get(path) ?? 0, size));
    };
    const segment = (p: number) => join(b.dir, `d-${p}`, "00000000000000000000.log");
    /** the byte position where the batch at `base` ends in the segment file */
    const batchEnd = (p: number, base: number): number => {
      const f = readFileSync(segment(p));
      const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
      for (let pos = 0; pos + 12 <= f.length; pos += 12 + v.getInt32(pos + 8)) {
        if (Number(v.getBigInt64(pos)) === base) return pos + 12 + v.getInt32(pos + 8);
      }
      throw new Error(`d-${p}: no batch at ${base}`);
    };
    const clients = await Promise.all(Array.from({ length: 8 }, () => b.connect()));
    let checked = 0;
    await Promise.all(
      clients.map(async (c, i) => {
        for (let round = 0; round < 10; round++) {
          const sent = [0, 1, 2].map((k) => {
            const p = (i + round + k) % 4;
            return { p, read: sendProduce(c, "d", p, [`c${i}-${round}-${k}`, "x"], -1) };
          });
          for (const s of sent) {
            const r = await s.read();
            expect(r.errorCode).toBe(0);
            // checked the moment the response arrives
            expect(synced.get(segment(s.p)) ?? 0).toBeGreaterThanOrEqual(batchEnd(s.p, r.baseOffset));
            checked++;
          }
        }
      }),
    );
    expect(checked).toBe(8 * 10 * 3);
  });

  test("a failed fsync: KAFKA_STORAGE_ERROR for acks=all, acks=1 unaffected, later rounds work", async () => {
    const b = await start({ "log.flush.before.ack": "true" });
    const c = await b.connect();
    await createTopic(c, "e", 1);
    diskIo.fsync = async () => {
      throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
    };
    const r = await produce(c, "e", 0, ["a"], -1);
    expect(r.errorCode).toBe(56);
    expect(r.baseOffset).toBe(-1);
    expect((await produce(c, "e", 0, ["b"], 1)).errorCode).toBe(0);
    resetDiskIo();
    const ok = await produce(c, "e", 0, ["c"], -1);
    expect(ok.errorCode).toBe(0);
    expect(ok.baseOffset).toBe(2);
    // the connection was never closed
    expect((await metadata(c, "e")).topics[0].errorCode).toBe(0);
  });
});

describe("the async fsync (Bun's thread pool)", () => {
  test("the event loop keeps turning while the real fsync of a large dirty file runs", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const fd = openSync(join(dir, "dirty"), "w");
    cleanups.push(() => closeSync(fd));
    const chunk = new Uint8Array(1 << 20).fill(7);
    const dirty = (mb: number) => {
      for (let i = 0; i < mb; i++) writeSync(fd, chunk);
    };
    dirty(64);
    let t = performance.now();
    realDiskIo.fsyncSync(fd);
    const syncMs = performance.now() - t;
    if (syncMs < 5) {
      console.log(`skipped: fsync of 64 MiB took ${syncMs.toFixed(2)} ms here (tmpfs?): too quick to tell a blocked loop from a free one`);
      return;
    }
    dirty(64);
    let turns = 0;
    let done = false;
    const spin = () => {
      if (done) return;
      turns++;
      setImmediate(spin);
    };
    t = performance.now();
    setImmediate(spin);
    await realDiskIo.fsync(fd);
    done = true;
    const asyncMs = performance.now() - t;
    console.log(`fsync of 64 MiB: ${syncMs.toFixed(1)} ms blocking, ${asyncMs.toFixed(1)} ms async with ${turns} event loop turns meanwhile`);
    // a blocking fsync would leave the loop at most one turn
    expect(turns).toBeGreaterThanOrEqual(3);
  });
});

describe("Kafka's flush policies", () => {
  test("flush.messages: the append that reaches it is answered after the fsync (any acks), the others at once", async () => {
    const b = await start();
    const c = await b.connect();
    await createTopic(c, "m", 1, { "flush.messages": "3" });
    const g = gatedFsync();
    expect((await produce(c, "m", 0, ["1"], 1)).baseOffset).toBe(0);
    expect((await produce(c, "m", 0, ["2"], 1)).baseOffset).toBe(1);
    expect(g.calls).toBe(0);
    g.hold();
    let done = false;
    const third = sendProduce(c, "m", 0, ["3"], 1);
    const p = third().then((r) => ((done = true), r));
    await g.entered;
    expect(done).toBe(false);
    g.release();
    expect((await p).baseOffset).toBe(2);
    expect(g.calls).toBe(1);
    // counted again from the flush
    expect((await produce(c, "m", 0, ["4", "5"], 1)).baseOffset).toBe(3);
    expect(g.calls).toBe(1);
    expect((await produce(c, "m", 0, ["6"], 1)).baseOffset).toBe(5);
    expect(g.calls).toBe(2);
  });

  test("log.flush.interval.messages is the broker default of flush.messages", async () => {
    const b = await start({ "log.flush.interval.messages": "1" });
    const c = await b.connect();
    await createTopic(c, "m1", 1);
    const g = gatedFsync();
    await produce(c, "m1", 0, ["a"], 1);
    expect(g.calls).toBe(1);
    sendProduce(c, "m1", 0, ["b"], 0); // acks=0: no response, flushed all the same
    await until(() => g.calls === 2);
  });

  test("flush.ms: checked every log.flush.scheduler.interval.ms, partitions whose last flush is that old are fsynced in the background", async () => {
    const b = await start({ "log.flush.scheduler.interval.ms": "20" });
    const c = await b.connect();
    await createTopic(c, "ms", 2, { "flush.ms": "0" });
    await createTopic(c, "later", 1, { "flush.ms": "600000" });
    // flush.ms falls back to log.flush.interval.ms, then to log.flush.scheduler.interval.ms, as in Kafka
    await createTopic(c, "dflt", 1);
    const g = gatedFsync();
    const d = b.broker.storage.durability;
    let checks = 0;
    const check = d.flushDirty.bind(d);
    d.flushDirty = (now) => (checks++, check(now));
    expect((await produce(c, "later", 0, ["n"], 1)).errorCode).toBe(0);
    expect((await produce(c, "ms", 1, ["a"], 1)).errorCode).toBe(0);
    expect((await produce(c, "dflt", 0, ["d"], 1)).errorCode).toBe(0);
    // the scheduler's next checks flush them
    await until(() => g.calls >= 2);
    const after = checks;
    await until(() => checks >= after + 3);
    // ms-1 and dflt-0, once each; ms-0 had nothing, "later" is not due
    expect(g.calls).toBe(2);
  });

  test("defaults: nothing is fsynced while running (the page cache), everything on a clean stop", async () => {
    const b = await start();
    const c = await b.connect();
    await createTopic(c, "p", 1);
    const g = gatedFsync();
    let syncCalls = 0;
    diskIo.fsyncSync = (fd) => (syncCalls++, realDiskIo.fsyncSync(fd));
    for (let i = 0; i < 20; i++) await produce(c, "p", 0, [`v${i}`], i % 2 ? 1 : -1);
    expect(g.calls).toBe(0);
    expect(syncCalls).toBe(0);
    expect(b.broker.storage.durability.flushDirty(Date.now())).toBe(0);
    await b.close();
    cleanups.length = 0;
    expect(syncCalls).toBeGreaterThanOrEqual(1);
  });
});
