// The log dir as a whole: metadata (format, replay, topic creation) plus one
// PartitionLog per partition the metadata image knows.
//
// Startup cases:
// - missing or empty log dir: formatted (meta.properties, bootstrap metadata log).
// - meta.properties and topic folders but no (or an empty) __cluster_metadata-0:
//   never reformatted. The metadata log is created with the bootstrap records,
//   and each `<topic>-<n>` folder is adopted: its topic id comes from
//   partition.metadata (a new id is made when there is none), the partition
//   count is the highest n + 1, and the matching TopicRecord/PartitionRecords
//   are appended, so the next start replays them like any other topic.
// - a normal dir: the metadata log is the truth. Folders it does not know are
//   left alone (one warning); a folder whose partition.metadata holds another
//   topic id is renamed `<dir>.<id hex>-stray`, as Kafka does, and a fresh log
//   takes its place.

import { readdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import type { MetadataImage, TopicInfo } from "../metadata/image.ts";
import { readPartitionMetadata } from "../metadata/properties.ts";
import { MAX_PARTITIONS_PER_TOPIC, METADATA_DIR, MetadataStore, validateTopicName } from "../metadata/store.ts";
import { randomUuid, uuidEquals, uuidHex } from "../metadata/uuid.ts";
import { PartitionLog } from "./partition-log.ts";
import { log } from "../log.ts";

export interface StorageConfig {
  logDir: string;
  nodeId: number;
  /** num.partitions: the default for createTopic */
  numPartitions: number;
  /** log.segment.bytes */
  segmentBytes: number;
  /** log.index.interval.bytes (default 4096) */
  indexIntervalBytes?: number;
}

const PARTITION_DIR_RE = /^(.+)-(\d{1,9})$/;

export class Storage {
  private readonly logs = new Map<string, PartitionLog[]>();
  private readonly warn = (m: string) => log.warn(m);
  private readonly unsubscribe: () => void;

  private constructor(
    readonly cfg: StorageConfig,
    readonly metadata: MetadataStore,
    /** opened by open() itself, so closed with the logs */
    private readonly ownsMetadata: boolean,
  ) {
    // logs follow the metadata: a topic or partition that appears gets its log
    this.unsubscribe = metadata.events.subscribe((e) => {
      if (e.type === "topicCreated") this.openTopic(e.topic);
      else if (e.type === "partitionsAdded") this.openTopic(e.topic);
      else if (e.type === "topicDeleted") this.closeTopic(e.topic.name);
    });
  }

  get image(): MetadataImage {
    return this.metadata.image;
  }

  get clusterId(): string {
    return this.metadata.clusterId;
  }

  /**
   * Opens every partition's log the metadata knows (the metadata store has
   * formatted the log dir and replayed its log); without a store, opens one.
   */
  static async open(cfg: StorageConfig, metadata?: MetadataStore): Promise<Storage> {
    const s = new Storage(cfg, metadata ?? MetadataStore.open({ logDir: cfg.logDir, nodeId: cfg.nodeId, warn: (m) => log.warn(m) }), metadata === undefined);
    if (s.metadata.bootstrapped) s.adoptPartitionDirs();
    for (const t of s.image.topics.values()) s.openTopic(t);
    s.warnStrays();
    return s;
  }

  getLog(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(topic)?.[partition];
  }

  /**
   * Creates a topic (metadata records, then one empty log per partition).
   * numPartitions undefined or -1 means num.partitions. Throws MetadataError
   * (with the Kafka error code) for an invalid or existing name.
   */
  createTopic(name: string, numPartitions?: number): TopicInfo {
    const n = numPartitions === undefined || numPartitions === -1 ? this.cfg.numPartitions : numPartitions;
    // the topicCreated event opens the logs
    return this.metadata.createTopic(name, n);
  }

  /** fsyncs every log appended to since the last flush. */
  flush(): void {
    for (const logs of this.logs.values()) for (const l of logs) l?.flush();
  }

  /** Closes every log (and the metadata store when open() opened it). */
  close(): void {
    this.unsubscribe();
    for (const logs of this.logs.values()) for (const l of logs) l?.close();
    this.logs.clear();
    if (this.ownsMetadata) this.metadata.close();
  }

  private closeTopic(name: string): void {
    for (const l of this.logs.get(name) ?? []) l?.close();
    this.logs.delete(name);
  }

  /** Opens the logs of the topic's partitions that are not open yet. */
  private openTopic(t: TopicInfo): void {
    const logs: PartitionLog[] = this.logs.get(t.name) ?? [];
    for (const p of t.partitions) {
      if (!p || logs[p.partition]) continue;
      const dir = join(this.cfg.logDir, `${t.name}-${p.partition}`);
      try {
        let onDisk = readPartitionMetadata(dir);
        if (onDisk !== null && !uuidEquals(onDisk, t.id)) {
          const stray = `${dir}.${uuidHex(onDisk)}-stray`;
          this.warn(`${dir} belongs to another topic id; moved to ${stray}`);
          renameSync(dir, stray);
          onDisk = null;
        }
        logs[p.partition] = PartitionLog.open(dir, {
          segmentBytes: this.cfg.segmentBytes,
          indexIntervalBytes: this.cfg.indexIntervalBytes,
          topicId: t.id,
          topicIdOnDisk: onDisk,
          warn: this.warn,
        });
      } catch (e) {
        this.warn(`${dir}: cannot open the partition log, it stays offline: ${(e as Error).message}`);
      }
    }
    this.logs.set(t.name, logs);
  }

  /** `<topic>-<n>` folders in the log dir, by topic. */
  private partitionDirs(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const e of readdirSync(this.cfg.logDir, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name === METADATA_DIR) continue;
      const m = PARTITION_DIR_RE.exec(e.name);
      if (!m || validateTopicName(m[1]!) !== null) continue;
      const list = out.get(m[1]!) ?? [];
      list.push(Number(m[2]));
      out.set(m[1]!, list);
    }
    return out;
  }

  private adoptPartitionDirs(): void {
    for (const [name, parts] of this.partitionDirs()) {
      if (this.image.topics.has(name)) continue;
      let id: Uint8Array | null = null;
      for (const p of parts) {
        const pid = readPartitionMetadata(join(this.cfg.logDir, `${name}-${p}`));
        if (pid === null) continue;
        if (id === null) id = pid;
        else if (!uuidEquals(id, pid)) this.warn(`${name}-${p}: topic id differs from the topic's other partitions; it will be moved aside`);
      }
      const count = Math.max(...parts) + 1;
      if (count > MAX_PARTITIONS_PER_TOPIC) {
        this.warn(`${name}: partition folders up to ${count - 1} exceed the limit of ${MAX_PARTITIONS_PER_TOPIC}; not adopted`);
        continue;
      }
      try {
        this.metadata.addTopic(name, id ?? randomUuid(), count);
        this.warn(`adopted topic ${name} (${count} partitions) from its folders into the new metadata log`);
      } catch (e) {
        this.warn(`${name}: not adopted: ${(e as Error).message}`);
      }
    }
  }

  private warnStrays(): void {
    const strays: string[] = [];
    for (const [name, parts] of this.partitionDirs()) {
      const t = this.image.topics.get(name);
      for (const p of parts) if (!t?.partitions[p]) strays.push(`${name}-${p}`);
    }
    if (strays.length > 0) this.warn(`ignoring ${strays.length} partition folder(s) unknown to the metadata log: ${strays.slice(0, 10).join(", ")}${strays.length > 10 ? ", ..." : ""}`);
  }
}
