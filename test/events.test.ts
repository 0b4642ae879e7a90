// Metadata changes as events: published once the records are in the log and
// the image, in log order; storage follows them (a new topic or partition gets
// its log, a removed topic's logs close). Replay at start-up publishes nothing.

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Broker } from "../src/broker.ts";
import { buildConfig } from "../src/config.ts";
import type { MetadataEvent } from "../src/metadata/events.ts";
import { MetadataError } from "../src/metadata/store.ts";
import { ErrorCode } from "../src/protocol/errors.ts";
import { removeDir, tempDir } from "./helpers.ts";

let dir: string;
let broker: Broker;
const open = async () => (broker = await new Broker(buildConfig(new Map([["log.dirs", dir], ["listeners", "PLAINTEXT://127.0.0.1:0"]])), { listen: false }).start());
beforeEach(async () => {
  dir = tempDir();
  await open();
});
afterEach(async () => {
  await broker.stop();
  removeDir(dir);
});

const summary = (e: MetadataEvent) => (e.type === "configChanged" ? `${e.type} ${e.name}` : e.type === "partitionsAdded" ? `${e.type} ${e.topic.name} ${e.partitions.join(",")}` : `${e.type} ${e.topic.name}`);

describe("metadata events", () => {
  test("create, grow and delete a topic: events in order, storage follows each", async () => {
    const seen: string[] = [];
    // each event sees the image already updated
    const unsubscribe = broker.metadata.events.subscribe((e) => seen.push(`${summary(e)} (in image: ${"topic" in e && broker.metadata.image.topics.has(e.topic.name)})`));
    const t = broker.metadata.createTopic("ev", 2);
    expect(broker.storage.getPartition("ev", 1)).toBeDefined();
    broker.metadata.createPartitions("ev", 4);
    expect(broker.storage.getPartition("ev", 3)).toBeDefined();
    expect(existsSync(join(dir, "ev-3"))).toBe(true);
    broker.metadata.deleteTopic("ev");
    expect(broker.storage.getPartition("ev", 0)).toBeUndefined();
    unsubscribe();
    broker.metadata.createTopic("after", 1);
    expect(seen).toEqual(["topicCreated ev (in image: true)", "partitionsAdded ev 2,3 (in image: true)", "topicDeleted ev (in image: false)"]);
    expect(t.partitions.length).toBe(4);
  });

  test("Kafka's refusals: not an increase, equal, unknown topic", () => {
    broker.metadata.createTopic("grow", 3);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return [(e as MetadataError).code, (e as Error).message];
      }
      return null;
    };
    expect(code(() => broker.metadata.createPartitions("grow", 3))).toEqual([ErrorCode.INVALID_PARTITIONS, "Topic already has 3 partition(s)."]);
    expect(code(() => broker.metadata.createPartitions("grow", 2))).toEqual([ErrorCode.INVALID_PARTITIONS, "The topic grow currently has 3 partition(s); 2 would not be an increase."]);
    expect(code(() => broker.metadata.createPartitions("nope", 5))?.[0]).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(code(() => broker.metadata.deleteTopic("nope"))?.[0]).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  test("replay at start-up publishes nothing; the restarted broker has the grown topic and not the deleted one", async () => {
    broker.metadata.createTopic("kept", 1);
    broker.metadata.createPartitions("kept", 3);
    broker.metadata.createTopic("gone", 1);
    broker.metadata.deleteTopic("gone");
    await broker.stop();
    await open();
    const seen: MetadataEvent[] = [];
    broker.metadata.events.subscribe((e) => seen.push(e));
    expect(broker.metadata.image.topics.get("kept")!.partitions.length).toBe(3);
    expect(broker.storage.getPartition("kept", 2)).toBeDefined();
    expect(broker.metadata.image.topics.has("gone")).toBe(false);
    expect(seen).toEqual([]);
  });
});
