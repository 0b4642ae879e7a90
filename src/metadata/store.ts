// The single node's controller side: formats a log dir the way
// `kafka-storage format` plus a first start would, replays the metadata log
// into the image, and turns topic creation into metadata records.
//
// Formatting writes meta.properties and a metadata log whose first batch holds
// the bootstrap records, as the fixture written by Kafka 3.8 shows:
//   BeginTransaction("Bootstrap records"), FeatureLevel(metadata.version),
//   ZkMigrationState(NONE), EndTransaction
// or, when <logdir>/bootstrap.checkpoint exists (written by Kafka's own
// `kafka-storage format`), its records wrapped the same way.
//
// Snapshots, as Kafka's controller (SnapshotGenerator): after an append, when
// metadata.log.max.record.bytes.between.snapshots have been appended (or
// replayed at start-up) since the last snapshot, or when
// metadata.log.max.snapshot.interval.ms has passed since it and there are new
// records (a timer notices that too), the image is written as a snapshot at
// the log end (snapshot.ts); then old snapshots and the segments below the
// next one go per metadata.max.retention.bytes / .ms (log.ts, as
// KafkaMetadataLog.maybeClean). A restart replays the latest snapshot and the
// log after it.

import { log as logger } from "../log.ts";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { ErrorCode } from "../protocol/errors.ts";
import type { Encodable } from "../protocol/schema.ts";
import { isAppliedRecordType, MetadataImage, type TopicInfo } from "./image.ts";
import { MetadataEvents } from "./events.ts";
import { decodeMetadataRecord, encodeMetadataRecord, MetadataLog, readCheckpointValues } from "./log.ts";
import { ensureQuorumState, readMetaProperties, readPartitionMetadata, writeMetaProperties, writePartitionMetadata, type MetaProperties } from "./properties.ts";
import { BROKER_CONFIGS, checkValue, ConfigResourceType, TOPIC_CONFIGS } from "../config/catalog.ts";
import { imageRecords } from "./snapshot.ts";
import { ConfigResolver, type TopicConfig } from "../config/resolve.ts";
import {
  AbortTransactionRecord,
  BeginTransactionRecord,
  ConfigRecord,
  EndTransactionRecord,
  FeatureLevelRecord,
  PartitionRecord,
  ProducerIdsRecord,
  RemoveTopicRecord,
  TopicRecord,
  ZkMigrationStateRecord,
} from "./records.ts";
import { METADATA_TOPIC_ID, randomUuid, uuidFromBase64, uuidToBase64 } from "./uuid.ts";

export const METADATA_DIR = "__cluster_metadata-0";
export const METADATA_TOPIC = "__cluster_metadata";
/** metadata.version written when formatting: 20 = 3.8-IV0, what the Kafka-written fixture carries. */
export const DEFAULT_METADATA_VERSION = 20;
/** 3.7-IV2: PartitionRecord v1 (with Directories) from this level on. */
const MV_DIRECTORY_ASSIGNMENT = 17;
/** Kafka's QuorumController.MAX_RECORDS_PER_USER_OP bounds one creation to this many records. */
export const MAX_PARTITIONS_PER_TOPIC = 10_000;
const MAX_TOPIC_NAME_LENGTH = 249;
/** producer ids are handed to a broker in blocks this large (Kafka's ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE) */
export const PRODUCER_ID_BLOCK_SIZE = 1000;

/** A refused metadata change, with the Kafka error code the API should answer. */
export class MetadataError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Kafka's Topic.validate: the reason a name is illegal, or null when it is fine. */
export function validateTopicName(name: string): string | null {
  // Kafka 4.4's wording (DescribeConfigs sends it back as the error message)
  if (name.length === 0) return "Topic name is invalid: the empty string is not allowed";
  if (name === "." || name === "..") return `Topic name is invalid: '${name}' is not allowed`;
  if (name.length > MAX_TOPIC_NAME_LENGTH) return `Topic name is invalid: the length of '${name}' is longer than the max allowed length ${MAX_TOPIC_NAME_LENGTH}`;
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return `Topic name is invalid: '${name}' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'`;
  return null;
}

export interface MetadataStoreOptions {
  logDir: string;
  nodeId: number;
  /** the static broker config (server.properties, --override): the broker layer of config lookups */
  brokerConfig?: ReadonlyMap<string, string>;
  warn?: (message: string) => void;
}

/** Topic config changes: key -> value, null deletes the key (falls back to the broker's value). */
export type ConfigEntries = Readonly<Record<string, string | null>> | ReadonlyMap<string, string | null>;

function entriesOf(entries: ConfigEntries): [string, string | null][] {
  return entries instanceof Map ? [...entries] : Object.entries(entries as Record<string, string | null>);
}

/** Checks topic config entries against the catalog; throws MetadataError(INVALID_CONFIG) naming the first bad key. */
export function validateTopicConfigs(entries: ConfigEntries): [string, string | null][] {
  const list = entriesOf(entries);
  for (const [name, value] of list) {
    const key = TOPIC_CONFIGS.get(name);
    if (!key) throw new MetadataError(ErrorCode.INVALID_CONFIG, `Unknown topic config name: ${name}`);
    if (value === null) continue;
    const why = checkValue(key, value);
    if (why) throw new MetadataError(ErrorCode.INVALID_CONFIG, why);
  }
  return list;
}

export class MetadataStore {
  /** changes made after start-up, published once they are in the log and the image */
  readonly events = new MetadataEvents();

  /** effective config values: topic ConfigRecords, broker ConfigRecords, the static broker config, defaults */
  readonly configs: ConfigResolver;

  private constructor(
    readonly logDir: string,
    readonly image: MetadataImage,
    readonly meta: MetaProperties,
    readonly directoryId: Uint8Array,
    private readonly log: MetadataLog,
    /** true when this open wrote the bootstrap records: the metadata log was missing or empty */
    readonly bootstrapped: boolean,
    brokerConfig: ReadonlyMap<string, string>,
  ) {
    this.configs = new ConfigResolver(brokerConfig, image);
    const n = (key: string) => this.configs.broker(BROKER_CONFIGS.get(key)!).value as number;
    this.snapshotPolicy = {
      maxBytes: n("metadata.log.max.record.bytes.between.snapshots"),
      intervalMs: n("metadata.log.max.snapshot.interval.ms"),
      retentionBytes: n("metadata.max.retention.bytes"),
      retentionMs: n("metadata.max.retention.ms"),
    };
  }

  /** the snapshot keys (read-only in Kafka: read once) */
  private readonly snapshotPolicy: { maxBytes: number; intervalMs: number; retentionBytes: number; retentionMs: number };
  private snapshotTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  /** set at the end of open(): the bootstrap and abort appends of opening take no snapshot */
  private opened = false;

  /** Kafka's SnapshotGenerator.publishLogDelta: a snapshot once enough bytes, or enough time with new records, went by. */
  private maybeSnapshot(nowMs = Date.now()): void {
    const p = this.snapshotPolicy;
    const bytes = this.log.bytesSinceSnapshot;
    if (!this.opened || bytes === 0) return;
    if (bytes >= p.maxBytes) this.snapshot(`${bytes} bytes were appended since the last snapshot (metadata.log.max.record.bytes.between.snapshots ${p.maxBytes})`);
    else if (p.intervalMs > 0 && nowMs - this.log.lastSnapshotMs >= p.intervalMs) this.snapshot(`${nowMs - this.log.lastSnapshotMs} ms passed since the last snapshot (metadata.log.max.snapshot.interval.ms ${p.intervalMs})`);
  }

  /**
   * Writes the image as a snapshot at the log end, then cleans old snapshots
   * and segments. A failure is one warning (the log itself is whole); the
   * next append tries again. Returns the snapshot's path, or null.
   */
  snapshot(reason = "asked"): string | null {
    if (this.image.inTransaction) return null;
    let path: string | null = null;
    try {
      const snap = this.log.writeSnapshot(imageRecords(this.image, this.directoryId));
      if (snap) {
        path = snap.path;
        logger.info(`metadata snapshot ${snap.path} written (end offset ${snap.endOffset}, epoch ${snap.epoch}, ${snap.size} bytes): ${reason}`);
      }
      this.log.clean(Date.now(), this.snapshotPolicy.retentionBytes, this.snapshotPolicy.retentionMs);
    } catch (e) {
      logger.warn(`metadata snapshot not written: ${(e as Error).message}`);
    }
    this.armSnapshotTimer();
    return path;
  }

  /** Wakes up when metadata.log.max.snapshot.interval.ms will have passed since the last snapshot (nothing new then: the next append snapshots). */
  private armSnapshotTimer(): void {
    if (this.snapshotTimer !== null) clearTimeout(this.snapshotTimer);
    this.snapshotTimer = null;
    const interval = this.snapshotPolicy.intervalMs;
    if (this.closed || !(interval > 0)) return;
    this.snapshotTimer = setTimeout(() => {
      this.snapshotTimer = null;
      this.maybeSnapshot();
    }, Math.max(0, this.log.lastSnapshotMs + interval - Date.now()));
    this.snapshotTimer.unref?.();
  }

  /** The metadata log's snapshot files and segments (tests, diagnostics). */
  get metadataLog(): MetadataLog {
    return this.log;
  }

  get clusterId(): string {
    return this.meta.clusterId;
  }

  /** Formats `logDir` if needed, then replays its metadata log. Throws on a node.id mismatch. */
  static open(opts: MetadataStoreOptions): MetadataStore {
    const warn = opts.warn ?? logger.warn;
    const { logDir, nodeId } = opts;
    mkdirSync(logDir, { recursive: true });

    let meta = readMetaProperties(logDir);
    if (meta === null) {
      meta = { version: 1, clusterId: uuidToBase64(randomUuid()), nodeId, directoryId: uuidToBase64(randomUuid()) };
      writeMetaProperties(logDir, meta);
    } else if (meta.nodeId !== nodeId) {
      throw new Error(`node.id ${nodeId} in the configuration does not match node.id ${meta.nodeId} in ${join(logDir, "meta.properties")}`);
    }
    let directoryId = meta.directoryId !== null ? uuidFromBase64(meta.directoryId) : null;
    if (directoryId === null) {
      // dirs formatted before Kafka 3.7 have none; Kafka adds one on start too
      directoryId = randomUuid();
      meta = { ...meta, directoryId: uuidToBase64(directoryId) };
      writeMetaProperties(logDir, meta);
    }

    const image = new MetadataImage();
    image.clusterId = meta.clusterId;
    image.nodeId = nodeId;
    const metaDir = join(logDir, METADATA_DIR);
    const staticNumber = (key: string) => {
      const text = opts.brokerConfig?.get(key) ?? BROKER_CONFIGS.get(key)!.default;
      return text === null ? null : Number(text);
    };
    const log = MetadataLog.open(
      metaDir,
      (offset, rec) => {
        if (rec.data === null) return;
        const w = image.replay(rec);
        if (w) warn(`metadata record at offset ${offset}: ${w}`);
      },
      isAppliedRecordType,
      warn,
      {
        // as Kafka 4.4's MetadataLogConfig: the internal key (tests) wins over the public one and its 8 MiB minimum
        segmentBytes: staticNumber("internal.metadata.log.segment.bytes") ?? staticNumber("metadata.log.segment.bytes")!,
        segmentMs: staticNumber("metadata.log.segment.ms")!,
        fileDeleteDelayMs: staticNumber("internal.metadata.delete.delay.millis")!,
      },
    );
    if (readPartitionMetadata(metaDir) === null) writePartitionMetadata(metaDir, METADATA_TOPIC_ID);
    // this node leads the metadata log at the epoch its batches carry: Kafka adopting the dir starts from there
    ensureQuorumState(metaDir, nodeId, log.leaderEpoch);

    const store = new MetadataStore(logDir, image, meta, directoryId, log, log.replayedRecords === 0, opts.brokerConfig ?? new Map());
    if (image.inTransaction) {
      // the log ended inside a transaction: close it so later records stand on their own, as a new Kafka leader does
      warn("metadata log ends inside a transaction; aborting it");
      image.abortPending();
      store.appendAndApply([encodeMetadataRecord(AbortTransactionRecord, 0, { reason: "unfinished at startup" })]);
    }
    if (store.bootstrapped) store.writeBootstrap(warn);
    if (image.metadataVersion === 0) {
      warn(`no metadata.version in the metadata log; assuming ${DEFAULT_METADATA_VERSION}`);
      image.metadataVersion = DEFAULT_METADATA_VERSION;
    }
    // what was loaded is the starting image, not a change
    image.takeChanges();
    // what was replayed after the latest snapshot counts, as in Kafka's loader
    store.opened = true;
    store.maybeSnapshot();
    store.armSnapshotTimer();
    return store;
  }

  private writeBootstrap(warn: (m: string) => void): void {
    const checkpoint = join(this.logDir, "bootstrap.checkpoint");
    const inner = existsSync(checkpoint)
      ? readCheckpointValues(checkpoint, warn)
      : [
          encodeMetadataRecord(FeatureLevelRecord, 0, { name: "metadata.version", featureLevel: DEFAULT_METADATA_VERSION }),
          encodeMetadataRecord(ZkMigrationStateRecord, 0, { zkMigrationState: 0 }),
        ];
    this.appendAndApply([
      encodeMetadataRecord(BeginTransactionRecord, 0, { name: "Bootstrap records" }),
      ...inner,
      encodeMetadataRecord(EndTransactionRecord, 0, {}),
    ]);
  }

  /** Writes record values as one batch, then replays them into the image (one code path for log and image). */
  private appendAndApply(values: Uint8Array[]): void {
    const base = this.log.appendValues(values);
    values.forEach((v, i) => {
      const rec = decodeMetadataRecord(v, isAppliedRecordType);
      if (rec.data === null) return;
      const w = this.image.replay(rec);
      if (w) logger.warn(`metadata record at offset ${base + i}: ${w}`);
    });
    this.events.publish(this.image.takeChanges());
    this.maybeSnapshot();
  }

  /**
   * Creates a topic with a fresh id: one TopicRecord and one PartitionRecord
   * per partition, led by this node, in one batch. Throws MetadataError.
   * Partition directories are the storage layer's business.
   */
  createTopic(name: string, numPartitions: number, configs: ConfigEntries = {}): TopicInfo {
    const invalid = validateTopicName(name);
    if (invalid) throw new MetadataError(ErrorCode.INVALID_TOPIC_EXCEPTION, invalid);
    if (name === METADATA_TOPIC) throw new MetadataError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Creation of internal topic ${name} is prohibited.`);
    if (this.image.topics.has(name)) throw new MetadataError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
    // '.' and '_' collide in metric names, so Kafka refuses names that differ only there
    const norm = name.replaceAll(".", "_");
    for (const other of this.image.topics.keys()) {
      if (other.replaceAll(".", "_") === norm) throw new MetadataError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${name}' collides with existing topic: ${other}`);
    }
    if (!Number.isInteger(numPartitions) || numPartitions < 1) {
      throw new MetadataError(ErrorCode.INVALID_PARTITIONS, "Number of partitions was set to an invalid non-positive value.");
    }
    if (numPartitions > MAX_PARTITIONS_PER_TOPIC) {
      throw new MetadataError(ErrorCode.INVALID_PARTITIONS, `Number of partitions ${numPartitions} is above the limit of ${MAX_PARTITIONS_PER_TOPIC}.`);
    }
    const entries = validateTopicConfigs(configs).filter(([, v]) => v !== null);
    return this.addTopic(name, randomUuid(), numPartitions, entries);
  }

  /** Records a topic whose id is already known (found on disk); no name checks beyond existence. */
  addTopic(name: string, id: Uint8Array, numPartitions: number, configs: [string, string | null][] = []): TopicInfo {
    if (this.image.topics.has(name)) throw new MetadataError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
    const values = [encodeMetadataRecord(TopicRecord, 0, { name, topicId: id })];
    for (let p = 0; p < numPartitions; p++) values.push(this.partitionRecord(id, p));
    // after the TopicRecord, in the same batch, as Kafka's ReplicationControlManager writes them
    values.push(...configs.map(([key, value]) => topicConfigRecord(name, key, value)));
    this.appendAndApply(values);
    return this.image.topics.get(name)!;
  }

  /** A new partition led by this node, in this log dir. */
  private partitionRecord(topicId: Uint8Array, partitionId: number): Uint8Array {
    const nodeId = this.image.nodeId;
    const pv = this.image.metadataVersion >= MV_DIRECTORY_ASSIGNMENT ? 1 : 0;
    const rec: Encodable<typeof PartitionRecord> = {
      partitionId,
      topicId,
      replicas: [nodeId],
      isr: [nodeId],
      removingReplicas: [],
      addingReplicas: [],
      leader: nodeId,
      leaderEpoch: 0,
      partitionEpoch: 0,
      directories: [this.directoryId],
    };
    return encodeMetadataRecord(PartitionRecord, pv, rec);
  }

  /**
   * Grows a topic to `totalCount` partitions: one PartitionRecord per new
   * partition, led by this node. Kafka never shrinks a topic: a count that is
   * not larger is INVALID_PARTITIONS. Throws MetadataError.
   */
  createPartitions(name: string, totalCount: number): TopicInfo {
    const t = this.image.topics.get(name);
    if (!t) throw new MetadataError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
    const current = t.partitions.length;
    // Kafka's messages (ReplicationControlManager.createPartitions)
    if (totalCount === current) throw new MetadataError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partition(s).`);
    if (!Number.isInteger(totalCount) || totalCount < current) {
      throw new MetadataError(ErrorCode.INVALID_PARTITIONS, `The topic ${name} currently has ${current} partition(s); ${totalCount} would not be an increase.`);
    }
    // the bound is on the records one request writes (Kafka's MAX_RECORDS_PER_USER_OP): Kafka 4.4 grows 1 -> 10001
    if (totalCount - current > MAX_PARTITIONS_PER_TOPIC) throw new MetadataError(44, "Excessively large number of partitions per request.");
    const values: Uint8Array[] = [];
    for (let p = current; p < totalCount; p++) values.push(this.partitionRecord(t.id, p));
    this.appendAndApply(values);
    return t;
  }

  /** Removes a topic: one RemoveTopicRecord. Throws MetadataError when it does not exist. */
  deleteTopic(name: string): TopicInfo {
    const t = this.image.topics.get(name);
    if (!t) throw new MetadataError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
    this.appendAndApply([encodeMetadataRecord(RemoveTopicRecord, 0, { topicId: t.id })]);
    return t;
  }

  /**
   * Sets (or, with a null value, deletes) config keys of an existing topic:
   * validated against the catalog, then one batch of ConfigRecords. Throws
   * MetadataError: INVALID_CONFIG (40) for an unknown key or a bad value,
   * UNKNOWN_TOPIC_OR_PARTITION for a missing topic.
   */
  alterTopicConfigs(topic: string, entries: ConfigEntries): void {
    if (!this.image.topics.has(topic)) throw new MetadataError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${topic}' does not exist.`);
    const list = validateTopicConfigs(entries);
    if (list.length === 0) return;
    this.appendAndApply(list.map(([key, value]) => topicConfigRecord(topic, key, value)));
  }

  /**
   * Takes the next block of PRODUCER_ID_BLOCK_SIZE producer ids: one
   * ProducerIdsRecord (next_producer_id = the block's end) in the metadata log
   * before any id of the block is handed out, so no id is reused after a
   * restart. Returns the block's first id. broker_epoch is -1: this node writes
   * no RegisterBrokerRecord whose offset would be its epoch.
   */
  private producerIdNext = 0;
  private producerIdEnd = 0;

  /** A producer id never handed out before, also across restarts (a new block is logged when this one is used up). */
  newProducerId(): number {
    if (this.producerIdNext >= this.producerIdEnd) {
      this.producerIdNext = this.allocateProducerIdBlock();
      this.producerIdEnd = this.producerIdNext + PRODUCER_ID_BLOCK_SIZE;
    }
    return this.producerIdNext++;
  }

  allocateProducerIdBlock(): number {
    const first = this.image.nextProducerId;
    this.appendAndApply([encodeMetadataRecord(ProducerIdsRecord, 0, { brokerId: this.image.nodeId, brokerEpoch: -1, nextProducerId: first + PRODUCER_ID_BLOCK_SIZE })]);
    return first;
  }

  /**
   * Writes config changes of any resources (TOPIC or BROKER; a null value
   * deletes the key) as one batch of ConfigRecords, already validated by the
   * caller (IncrementalAlterConfigs / AlterConfigs).
   */
  writeConfigRecords(changes: readonly { resourceType: number; resourceName: string; name: string; value: string | null }[]): void {
    if (changes.length === 0) return;
    this.appendAndApply(changes.map((c) => encodeMetadataRecord(ConfigRecord, 0, c)));
  }

  /** The applied topic keys of `topic`, typed: its own value, else the broker's (synonyms in order), else the default. */
  topicConfig(topic: string): TopicConfig {
    return this.configs.topicConfig(topic);
  }

  close(): void {
    this.closed = true;
    if (this.snapshotTimer !== null) clearTimeout(this.snapshotTimer);
    this.snapshotTimer = null;
    this.log.close();
  }
}

function topicConfigRecord(topic: string, name: string, value: string | null): Uint8Array {
  return encodeMetadataRecord(ConfigRecord, 0, { resourceType: ConfigResourceType.TOPIC, resourceName: topic, name, value });
}
