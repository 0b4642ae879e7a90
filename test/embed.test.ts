// The embeddable broker: `import { startBroker } from "kafka-bun"` in a Bun
// test starts one in this process; a Node program gets the same call, backed
// by the executable. Both driven with kafkajs.

import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { startBroker } from "kafka-bun";
import { ROOT } from "./helpers.ts";

async function produceAndCount(bootstrap: string, topic: string): Promise<number[][]> {
  const client = new Kafka({ clientId: "embed-bun", brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
  const producer = client.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  await producer.send({ topic, messages: [{ partition: 0, value: "a" }, { partition: 0, value: "b" }, { partition: 1, value: "c" }] });
  await producer.disconnect();
  const admin = client.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  return offsets.map((o) => [o.partition, Number(o.high)]).sort((a, b) => a[0]! - b[0]!);
}

describe("embedded broker", () => {
  test("Bun: starts in this process on a free port with a temporary log dir; stop() removes it", async () => {
    const kafka = await startBroker({ overrides: { "num.partitions": "2" } });
    try {
      expect(kafka.bootstrap).toBe(`127.0.0.1:${kafka.port}`);
      expect(kafka.port).toBeGreaterThan(0);
      expect(existsSync(join(kafka.logDir, "meta.properties"))).toBe(true);
      expect(await produceAndCount(kafka.bootstrap, "embedded-bun")).toEqual([
        [0, 2],
        [1, 1],
      ]);
    } finally {
      await kafka.stop();
    }
    expect(existsSync(kafka.logDir)).toBe(false);
    // the port is closed
    await expect(Bun.connect({ hostname: "127.0.0.1", port: kafka.port, socket: { data() {} } })).rejects.toThrow();
  }, 20000);

  test("Bun: two brokers side by side, and a given log dir is kept and reopened", async () => {
    const a = await startBroker();
    const b = await startBroker();
    try {
      expect(a.port).not.toBe(b.port);
      expect(a.logDir).not.toBe(b.logDir);
    } finally {
      await a.stop();
      await b.stop();
    }
    const dir = (await import("./helpers.ts")).tempDir();
    try {
      const first = await startBroker({ logDir: dir });
      await produceAndCount(first.bootstrap, "kept");
      await first.stop();
      expect(existsSync(join(dir, "kept-0"))).toBe(true);
      const again = await startBroker({ logDir: dir });
      try {
        const client = new Kafka({ clientId: "embed-bun", brokers: [again.bootstrap], logLevel: logLevel.NOTHING });
        const admin = client.admin();
        await admin.connect();
        const offsets = await admin.fetchTopicOffsets("kept");
        await admin.disconnect();
        expect(offsets.map((o) => Number(o.high))).toEqual([2]);
      } finally {
        await again.stop();
      }
    } finally {
      (await import("./helpers.ts")).removeDir(dir);
    }
  }, 20000);

  test("Node: the same call spawns the executable and waits for its listening line", async () => {
    expect(existsSync(join(ROOT, "dist", "embed-node.js"))).toBe(true);
    const proc = Bun.spawn(["node", join(ROOT, "test", "fixtures", "embed-node-client.mjs")], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const killer = setTimeout(() => proc.kill("SIGKILL"), 20000);
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(killer);
    expect(err).toBe("");
    expect(code).toBe(0);
    const result = JSON.parse(out.trim()) as { bootstrap: string; logDir: string; offsets: number[][] };
    expect(result.bootstrap).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(result.offsets).toEqual([
      [0, 2],
      [1, 1],
    ]);
    expect(existsSync(result.logDir)).toBe(false);
  }, 25000);
});
