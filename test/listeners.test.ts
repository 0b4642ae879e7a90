// Listeners: every entry of `listeners` is served, each advertised as
// configured; a security protocol the broker does not serve yet stops
// start-up with one line instead of being served as plaintext.

import { afterAll, describe, expect, test } from "bun:test";
import { removeDir, requestFrame, runCli, startKafka, tempDir, WireClient } from "./helpers.ts";
import { codecFor, encode, isFlexible } from "../src/protocol/codec.ts";
import { Reader } from "../src/protocol/reader.ts";
import { MetadataRequest, MetadataResponse } from "../src/protocol/messages/metadata.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

/** The brokers a Metadata v12 answer lists, asked on the given port. */
async function advertisedBrokers(port: number): Promise<{ host: string; port: number }[]> {
  const c = await WireClient.connect(port);
  try {
    c.send(requestFrame(3, 12, 7, "listeners", encode(MetadataRequest, 12, { topics: [], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }), isFlexible(MetadataRequest, 12)));
    const bytes = await c.readFrame();
    if (!bytes) throw new Error("connection closed");
    const r = new Reader(bytes);
    expect(r.int32()).toBe(7);
    r.uvarint();
    const md = codecFor(MetadataResponse, 12).read(r);
    return md.brokers.map((b) => ({ host: b.host, port: b.port }));
  } finally {
    c.close();
  }
}

describe("listeners", () => {
  test("two PLAINTEXT listeners are both served, each answering with its own advertised address", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const kafka = await startKafka(dir, [
      "--override",
      "listeners=PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0",
      "--override",
      "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT",
      "--override",
      "advertised.listeners=PLAINTEXT://public.example:19092,INTERNAL://127.0.0.1:0",
    ]);
    try {
      const m = /listening on PLAINTEXT:\/\/127\.0\.0\.1:(\d+) \(advertised public\.example:19092\), INTERNAL:\/\/127\.0\.0\.1:(\d+) \(advertised 127\.0\.0\.1:(\d+)\)/.exec(kafka.output());
      expect(m).not.toBeNull();
      const [external, internal, advertisedInternal] = [Number(m![1]), Number(m![2]), Number(m![3])];
      expect(advertisedInternal).toBe(internal);
      expect(await advertisedBrokers(external)).toEqual([{ host: "public.example", port: 19092 }]);
      expect(await advertisedBrokers(internal)).toEqual([{ host: "127.0.0.1", port: internal }]);
    } finally {
      expect(await kafka.stop()).toBe(0);
    }
  });

  for (const [listener, protocol] of [
    ["SSL://127.0.0.1:0", "SSL"],
    ["SASL_PLAINTEXT://127.0.0.1:0", "SASL_PLAINTEXT"],
    ["SASL_SSL://127.0.0.1:0", "SASL_SSL"],
  ] as const) {
    test(`a ${protocol} listener stops start-up with one line (never served as plaintext)`, async () => {
      const dir = tempDir();
      dirs.push(dir);
      const r = await runCli(["--override", `listeners=${listener}`, "--override", `log.dirs=${dir}`]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(`uses ${protocol}, which this broker does not serve yet`);
    });
  }

  test("a listener mapped to SSL by listener.security.protocol.map is refused too", async () => {
    const r = await runCli(["--override", "listeners=SECURE://127.0.0.1:0", "--override", "listener.security.protocol.map=SECURE:SSL"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("SECURE://127.0.0.1:0 uses SSL");
  });

  test("a listener name missing from listener.security.protocol.map: one line, exit 1", async () => {
    const r = await runCli(["--override", "listeners=EXTERNAL://127.0.0.1:0"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("no security protocol defined for listener EXTERNAL");
  });
});
