// The log dir as a whole: metadata (format, replay, topic creation) plus one
// Partition (its log and state) per partition the metadata image knows. A
// deleted topic's logs are renamed `<topic>-<n>.<uuid hex>-delete` and removed
// once no response reads them; such dirs left by a crash go at start-up.
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
//
// Clean and unclean stops, as Kafka's LogManager: close() flushes and closes
// every log, writes recovery-point-offset-checkpoint (each log's recovery
// point: everything below it is on disk), log-start-offset-checkpoint,
// replication-offset-checkpoint (the high watermarks), then the
// .kafka_cleanshutdown marker. A start that finds the marker trusts every
// segment and index as they are and deletes the marker once the logs are open;
// one without it recovers each log from its checkpointed recovery point (see
// partition-log.ts). While running, the checkpoints are rewritten every
// log.flush.offset.checkpoint.interval.ms, log.flush.start.offset.checkpoint.interval.ms
// and replica.high.watermark.checkpoint.interval.ms.
//
// Retention (retention.ts), as LogManager.cleanupLogs: log.initial.task.delay.ms
// after start-up, then every log.retention.check.interval.ms, each partition's
// old segments are deleted by its topic's retention.ms / retention.bytes (only
// topics whose cleanup.policy includes delete) and log start offset; a deleted
// segment's files are removed file.delete.delay.ms later.
//
// Idle producer ids (producer.id.expiration.ms, dynamic) are dropped from
// every partition's producer state every producer.id.expiration.check.interval.ms,
// as Kafka's PeriodicProducerExpirationCheck does.

import { closeSync, existsSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { MetadataImage, TopicInfo } from "../metadata/image.ts";
import { readPartitionMetadata } from "../metadata/properties.ts";
import { MAX_PARTITIONS_PER_TOPIC, METADATA_DIR, MetadataStore, validateTopicName, type ConfigEntries } from "../metadata/store.ts";
import { randomUuid, uuidEquals, uuidHex } from "../metadata/uuid.ts";
import { Partition } from "./partition.ts";
import type { LogRollConfig } from "./partition-log.ts";
import type { TopicConfig } from "../config/resolve.ts";
import { Durability } from "./durability.ts";
import { applyRetention } from "./retention.ts";
import {
  CLEAN_SHUTDOWN_FILE,
  LOG_START_OFFSET_CHECKPOINT,
  readOffsetCheckpoint,
  RECOVERY_POINT_CHECKPOINT,
  REPLICATION_OFFSET_CHECKPOINT,
  writeOffsetCheckpoint,
  type OffsetCheckpoint,
} from "./checkpoint.ts";
import { BROKER_CONFIGS, ConfigResourceType } from "../config/catalog.ts";
import { LogCleaner, type CleanerSettings, type TopicCleanConfig } from "./cleaner.ts";
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
  /** server.properties keys: the broker layer of topic config lookups (segment.bytes <- log.segment.bytes, ...) */
  brokerConfig?: ReadonlyMap<string, string>;
}

/** The static broker config; segmentBytes/indexIntervalBytes stand for their log.* keys when the caller gave no full config. */
function brokerLayer(cfg: StorageConfig): ReadonlyMap<string, string> {
  const m = new Map(cfg.brokerConfig ?? []);
  if (!m.has("log.segment.bytes")) m.set("log.segment.bytes", String(cfg.segmentBytes));
  if (cfg.indexIntervalBytes !== undefined && !m.has("log.index.interval.bytes")) m.set("log.index.interval.bytes", String(cfg.indexIntervalBytes));
  return m;
}

function rollConfig(tc: TopicConfig): LogRollConfig {
  return { segmentBytes: tc.segmentBytes, indexIntervalBytes: tc.indexIntervalBytes, segmentMs: tc.segmentMs, segmentJitterMs: tc.segmentJitterMs, indexMaxBytes: tc.indexMaxBytes };
}

/** Kafka's CleanShutdownFileHandler.write: {"version":0,"brokerEpoch":...}, fsynced. */
function writeCleanShutdownFile(path: string): void {
  const fd = openSync(path, "w");
  try {
    writeSync(fd, JSON.stringify({ version: 0, brokerEpoch: -1 }));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const PARTITION_DIR_RE = /^(.+)-(\d{1,9})$/;
const DELETE_DIR_RE = /^.+-\d{1,9}\.[0-9a-f]{32}-delete$/;

export class Storage {
  private readonly partitions = new Map<string, Partition[]>();
  private readonly warn = (m: string) => log.warn(m);
  private readonly unsubscribe: () => void;
  /** log-start-offset-checkpoint as read at start-up: applied as each partition opens */
  private checkpointedStarts: OffsetCheckpoint = new Map();
  private expirationTimer: ReturnType<typeof setInterval> | null = null;
  /** the retention check: a timeout for the first round, then an interval */
  private retentionTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly checkpointTimers: ReturnType<typeof setInterval>[] = [];
  /** the log dir had .kafka_cleanshutdown at start-up */
  private cleanStart = false;
  /** recovery-point-offset-checkpoint as read at start-up */
  private checkpointedRecovery: OffsetCheckpoint = new Map();
  /** flush policies, durable mode, group commit (set by open) */
  durability!: Durability;
  /** compaction of the logs whose cleanup.policy has compact (set by open) */
  cleaner!: LogCleaner;

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
      else if (e.type === "topicDeleted") this.deleteTopic(e.topic.name);
      // a topic's own value, or a broker default it falls back to, changed: effective from the next append
      else if (e.type === "configChanged") {
        const topics = e.resourceType === ConfigResourceType.TOPIC ? [e.resourceName] : [...this.partitions.keys()];
        for (const name of topics) this.reconfigureTopic(name);
      }
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
    const s = new Storage(cfg, metadata ?? MetadataStore.open({ logDir: cfg.logDir, nodeId: cfg.nodeId, brokerConfig: brokerLayer(cfg), warn: (m) => log.warn(m) }), metadata === undefined);
    if (s.metadata.bootstrapped) s.adoptPartitionDirs();
    try {
      s.checkpointedStarts = readOffsetCheckpoint(join(cfg.logDir, LOG_START_OFFSET_CHECKPOINT));
    } catch (e) {
      s.warn(`${LOG_START_OFFSET_CHECKPOINT}: ignored: ${(e as Error).message}`);
    }
    const marker = join(cfg.logDir, CLEAN_SHUTDOWN_FILE);
    s.cleanStart = existsSync(marker);
    if (!s.cleanStart) {
      try {
        s.checkpointedRecovery = readOffsetCheckpoint(join(cfg.logDir, RECOVERY_POINT_CHECKPOINT));
      } catch (e) {
        s.warn(`${RECOVERY_POINT_CHECKPOINT}: ignored, every log is recovered from its start: ${(e as Error).message}`);
      }
    }
    for (const t of s.image.topics.values()) s.openTopic(t);
    s.checkpointedStarts = new Map();
    s.checkpointedRecovery = new Map();
    // partitions created from now on are new: nothing to recover
    s.cleanStart = true;
    try {
      unlinkSync(marker);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    const every = (key: string, fn: () => void) => {
      const ms = s.brokerNumber(key);
      if (!(ms > 0)) return;
      const t = setInterval(fn, ms);
      t.unref?.();
      s.checkpointTimers.push(t);
    };
    every("log.flush.offset.checkpoint.interval.ms", () => s.writeRecoveryPointCheckpoint());
    every("log.flush.start.offset.checkpoint.interval.ms", () => s.writeLogStartCheckpoint());
    every("replica.high.watermark.checkpoint.interval.ms", () => s.writeHighWatermarkCheckpoint());
    s.warnStrays();
    s.removeDeleteDirs();
    const interval = s.brokerNumber("producer.id.expiration.check.interval.ms");
    s.expirationTimer = setInterval(() => s.removeExpiredProducers(Date.now()), interval);
    s.expirationTimer.unref?.();
    s.scheduleRetention();
    s.durability = new Durability(s.metadata, () => s.allPartitions());
    s.cleaner = new LogCleaner({
      logDir: cfg.logDir,
      partitions: () => s.allPartitions(),
      settings: () => s.cleanerSettings(),
      topicConfig: (topic) => s.topicCleanConfig(topic),
    });
    s.cleaner.start();
    return s;
  }

  /** A numeric broker key's effective value (dynamic, static, default). */
  private brokerNumber(name: string): number {
    return this.metadata.configs.broker(BROKER_CONFIGS.get(name)!).value as number;
  }

  /** The log.cleaner.* keys, current (dynamic ones included). */
  private cleanerSettings(): CleanerSettings {
    const b = (name: string) => this.metadata.configs.broker(BROKER_CONFIGS.get(name)!).value;
    return {
      enable: b("log.cleaner.enable") as boolean,
      backoffMs: b("log.cleaner.backoff.ms") as number,
      dedupeBufferSize: b("log.cleaner.dedupe.buffer.size") as number,
      ioBufferSize: b("log.cleaner.io.buffer.size") as number,
      loadFactor: b("log.cleaner.io.buffer.load.factor") as number,
      maxIoBytesPerSecond: b("log.cleaner.io.max.bytes.per.second") as number,
    };
  }

  /** A topic's compaction keys, current. */
  private topicCleanConfig(topic: string): TopicCleanConfig {
    const t = (name: string) => this.metadata.configs.topic(topic, name).value;
    const policy = t("cleanup.policy") as string[];
    return {
      compact: policy.includes("compact"),
      delete: policy.includes("delete"),
      segmentBytes: t("segment.bytes") as number,
      minCleanableRatio: t("min.cleanable.dirty.ratio") as number,
      minCompactionLagMs: t("min.compaction.lag.ms") as number,
      maxCompactionLagMs: t("max.compaction.lag.ms") as number,
      deleteRetentionMs: t("delete.retention.ms") as number,
    };
  }

  /** Drops the producer ids idle for producer.id.expiration.ms from every partition; returns how many went. */
  removeExpiredProducers(nowMs: number): number {
    const expirationMs = this.brokerNumber("producer.id.expiration.ms");
    let n = 0;
    for (const p of this.allPartitions()) n += p.removeExpiredProducers(nowMs, expirationMs);
    return n;
  }

  /** The first retention round after log.initial.task.delay.ms, then one every log.retention.check.interval.ms (read once, as Kafka). */
  private scheduleRetention(): void {
    const period = this.brokerNumber("log.retention.check.interval.ms");
    const round = () => {
      try {
        this.runRetention(Date.now());
      } catch (e) {
        this.warn(`retention check failed: ${(e as Error).message}`);
      }
    };
    this.retentionTimer = setTimeout(() => {
      round();
      if (this.retentionTimer === null) return; // closed meanwhile
      this.retentionTimer = setInterval(round, period);
      this.retentionTimer.unref?.();
    }, this.brokerNumber("log.initial.task.delay.ms"));
    this.retentionTimer.unref?.();
  }

  /**
   * One retention round over every partition (see retention.ts); returns the
   * number of segments deleted. A partition that fails is logged and skipped.
   */
  runRetention(nowMs: number): number {
    let total = 0;
    for (const [topic, parts] of this.partitions) {
      const tc = this.metadata.topicConfig(topic);
      for (const p of parts) {
        if (!p) continue;
        try {
          total += applyRetention(p, tc, nowMs)?.segments ?? 0;
        } catch (e) {
          this.warn(`${p.name}: retention: segments not deleted: ${(e as Error).message}`);
        }
      }
    }
    if (total > 0) this.writeLogStartCheckpoint();
    return total;
  }

  /** Every open partition, by topic (creation order), then index. */
  *allPartitions(): Iterable<Partition> {
    for (const parts of this.partitions.values()) for (const p of parts) if (p) yield p;
  }

  getPartition(topic: string, partition: number): Partition | undefined {
    return this.partitions.get(topic)?.[partition];
  }

  /**
   * Creates a topic (metadata records, then one empty log per partition).
   * numPartitions undefined or -1 means num.partitions. Throws MetadataError
   * (with the Kafka error code) for an invalid or existing name.
   */
  createTopic(name: string, numPartitions?: number, configs?: ConfigEntries): TopicInfo {
    const n = numPartitions === undefined || numPartitions === -1 ? this.cfg.numPartitions : numPartitions;
    // the topicCreated event opens the logs
    return this.metadata.createTopic(name, n, configs);
  }

  /**
   * Deletes one partition's log (see PartitionLog.delete): it is no longer
   * served, its waiting fetches answer, responses already holding its
   * records still send them. Returns the renamed dir, or null if unknown.
   */
  deletePartition(topic: string, partition: number): string | null {
    const parts = this.partitions.get(topic);
    const p = parts?.[partition];
    if (!parts || !p) return null;
    delete parts[partition];
    this.cleaner?.forget(topic, partition);
    if (p.startOffsetAboveLog) this.writeLogStartCheckpoint();
    try {
      return p.delete();
    } catch (e) {
      this.warn(`${p.name}: log not deleted: ${(e as Error).message}`);
      p.close();
      return null;
    }
  }

  /**
   * DeleteRecords on one partition: moves its log start offset up to `offset`
   * (whole segments below go) and writes log-start-offset-checkpoint, so it
   * survives a restart. False when `offset` is above the high watermark.
   */
  deleteRecords(part: Partition, offset: number): boolean {
    const before = part.logStartOffset;
    if (!part.deleteRecordsBefore(offset)) return false;
    if (part.logStartOffset !== before) this.writeLogStartCheckpoint();
    return true;
  }

  /** Kafka's log-start-offset-checkpoint: the partitions whose log start offset is above their first segment. */
  private writeLogStartCheckpoint(): boolean {
    return this.writeCheckpoint(LOG_START_OFFSET_CHECKPOINT, (p) => (p.startOffsetAboveLog ? p.logStartOffset : null));
  }

  /** Kafka's recovery-point-offset-checkpoint: each log's recovery point. */
  private writeRecoveryPointCheckpoint(): boolean {
    return this.writeCheckpoint(RECOVERY_POINT_CHECKPOINT, (p) => p.log.recoveryPoint);
  }

  /** Kafka's replication-offset-checkpoint: each partition's high watermark. */
  private writeHighWatermarkCheckpoint(): boolean {
    return this.writeCheckpoint(REPLICATION_OFFSET_CHECKPOINT, (p) => p.highWatermark);
  }

  private writeCheckpoint(name: string, value: (p: Partition) => number | null): boolean {
    const entries: [string, number, number][] = [];
    for (const [topic, parts] of this.partitions) {
      for (const p of parts) {
        const v = p ? value(p) : null;
        if (p && v !== null) entries.push([topic, p.index, v]);
      }
    }
    try {
      writeOffsetCheckpoint(join(this.cfg.logDir, name), entries);
      return true;
    } catch (e) {
      this.warn(`${name}: not written: ${(e as Error).message}`);
      return false;
    }
  }

  /** How many fetches wait for appends, over all partitions. */
  get waitingFetches(): number {
    let n = 0;
    for (const parts of this.partitions.values()) for (const p of parts) if (p) n += p.waitingFetches;
    return n;
  }

  /** Answers every waiting fetch (shutdown). */
  wakeAll(): void {
    for (const parts of this.partitions.values()) for (const p of parts) p?.wakeWaiters();
  }

  /** set by a flush() that reached every log: close() may then mark the stop clean */
  private flushedForClose = false;

  /** fsyncs every log appended to since the last flush. */
  flush(): void {
    this.flushedForClose = false;
    for (const parts of this.partitions.values()) for (const p of parts) p?.flush();
    this.flushedForClose = true;
  }

  /**
   * Closes every log (and the metadata store when open() opened it). After a
   * flush() (a clean stop), the checkpoints and the clean-shutdown marker are
   * written, so the next start trusts the logs as they are.
   */
  close(): void {
    if (this.expirationTimer !== null) clearInterval(this.expirationTimer);
    this.expirationTimer = null;
    if (this.retentionTimer !== null) clearInterval(this.retentionTimer);
    this.retentionTimer = null;
    for (const t of this.checkpointTimers.splice(0)) clearInterval(t);
    this.durability?.close();
    void this.cleaner?.stop(); // a round in progress gives up at its next slice
    this.unsubscribe();
    let clean = this.flushedForClose;
    for (const parts of this.partitions.values()) {
      for (const p of parts) {
        if (!p) continue;
        try {
          p.close();
        } catch (e) {
          clean = false;
          this.warn(`${p.name}: not closed cleanly: ${(e as Error).message}`);
        }
      }
    }
    // as LogManager.shutdown: checkpoints, then the marker, only when every log flushed and closed
    if (clean && this.writeRecoveryPointCheckpoint() && this.writeLogStartCheckpoint() && this.writeHighWatermarkCheckpoint()) {
      try {
        writeCleanShutdownFile(join(this.cfg.logDir, CLEAN_SHUTDOWN_FILE));
      } catch (e) {
        this.warn(`${CLEAN_SHUTDOWN_FILE}: not written, the next start recovers the logs: ${(e as Error).message}`);
      }
    }
    this.partitions.clear();
    if (this.ownsMetadata) this.metadata.close();
  }

  private deleteTopic(name: string): void {
    const parts = this.partitions.get(name) ?? [];
    parts.forEach((p, i) => p && this.deletePartition(name, i));
    this.partitions.delete(name);
  }

  private reconfigureTopic(name: string): void {
    const parts = this.partitions.get(name);
    if (!parts) return;
    const tc = this.metadata.topicConfig(name);
    for (const p of parts) {
      if (!p) continue;
      p.reconfigure(rollConfig(tc));
      p.log.fileDeleteDelayMs = tc.fileDeleteDelayMs;
    }
  }

  /** Opens the logs of the topic's partitions that are not open yet. */
  private openTopic(t: TopicInfo): void {
    const parts: Partition[] = this.partitions.get(t.name) ?? [];
    for (const p of t.partitions) {
      if (!p) continue;
      const open = parts[p.partition];
      if (open) {
        open.updateInfo(p);
        continue;
      }
      const dir = join(this.cfg.logDir, `${t.name}-${p.partition}`);
      const tc = this.metadata.topicConfig(t.name);
      try {
        let onDisk = readPartitionMetadata(dir);
        if (onDisk !== null && !uuidEquals(onDisk, t.id)) {
          const stray = `${dir}.${uuidHex(onDisk)}-stray`;
          this.warn(`${dir} belongs to another topic id; moved to ${stray}`);
          renameSync(dir, stray);
          onDisk = null;
        }
        const start = this.checkpointedStarts.get(t.name)?.get(p.partition);
        const part = Partition.open(dir, t.name, p, {
          ...rollConfig(tc),
          cleanShutdown: this.cleanStart,
          recoveryPoint: this.checkpointedRecovery.get(t.name)?.get(p.partition) ?? 0,
          topicId: t.id,
          topicIdOnDisk: onDisk,
          logStartOffset: start,
          producerIdExpirationMs: this.brokerNumber("producer.id.expiration.ms"),
          warn: this.warn,
        });
        if (start !== undefined) part.restoreLogStartOffset(start);
        part.log.fileDeleteDelayMs = tc.fileDeleteDelayMs;
        parts[p.partition] = part;
      } catch (e) {
        this.warn(`${dir}: cannot open the partition log, it stays offline: ${(e as Error).message}`);
      }
    }
    this.partitions.set(t.name, parts);
  }

  /** Removes the deleted logs whose removal a stop or crash cut short. */
  private removeDeleteDirs(): void {
    for (const name of readdirSync(this.cfg.logDir)) {
      if (!DELETE_DIR_RE.test(name)) continue;
      const d = join(this.cfg.logDir, name);
      rm(d, { recursive: true, force: true }).catch((err: Error) => this.warn(`${d}: not removed: ${err.message}`));
    }
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
