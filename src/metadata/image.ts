// The metadata image: what the broker knows about the cluster, built by
// replaying __cluster_metadata records in order. Only the record types the
// broker serves are applied; every other type is ignored, never fatal.
//
// Transactions (BeginTransaction .. EndTransaction, e.g. the bootstrap
// records) are applied only when they end; an aborted or unfinished one is
// dropped, as Kafka's MetadataLoader does.

import { uuidHex } from "./uuid.ts";
import type { MetadataEvent } from "./events.ts";
import type { DecodedRecord } from "./records.ts";

export interface PartitionInfo {
  partition: number;
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
  replicas: readonly number[];
  isr: readonly number[];
}

export interface TopicInfo {
  name: string;
  /** 16 bytes */
  id: Uint8Array;
  /** indexed by partition id */
  partitions: PartitionInfo[];
}

/** Record types (apiKey) the image applies. */
export const RecordType = {
  TOPIC: 2,
  PARTITION: 3,
  CONFIG: 4,
  PARTITION_CHANGE: 5,
  REMOVE_TOPIC: 9,
  FEATURE_LEVEL: 12,
  PRODUCER_IDS: 15,
  BEGIN_TRANSACTION: 23,
  END_TRANSACTION: 24,
  ABORT_TRANSACTION: 25,
} as const;

const APPLIED = new Set<number>(Object.values(RecordType));

export function isAppliedRecordType(apiKey: number): boolean {
  return APPLIED.has(apiKey);
}

// ConfigRecord resource types (Kafka's ConfigResource.Type)
const CONFIG_RESOURCE_TOPIC = 2;
const CONFIG_RESOURCE_BROKER = 4;

// PartitionChangeRecord sentinels
const NO_LEADER_CHANGE = -2;
// Kafka refuses more partitions than this per topic anyway; it guards the array below.
const MAX_PARTITION_ID = 1_000_000;

export class MetadataImage {
  clusterId = "";
  nodeId = -1;
  /** finalized metadata.version level (FeatureLevelRecord), 0 until one is seen */
  metadataVersion = 0;
  /** every finalized feature level, metadata.version included */
  readonly features = new Map<string, number>();
  readonly topics = new Map<string, TopicInfo>();
  readonly topicsById = new Map<string, TopicInfo>();
  /** ConfigRecords of resource type TOPIC: topic name -> key -> value (kept by name, as Kafka's ConfigurationImage) */
  readonly topicConfigs = new Map<string, Map<string, string>>();
  /** ConfigRecords of resource type BROKER: "" (cluster default) or a node id -> key -> value */
  readonly brokerConfigs = new Map<string, Map<string, string>>();
  /** the first producer id not yet handed out in a block (ProducerIdsRecord), 0 until one is seen */
  nextProducerId = 0;
  /** bumped by every applied ConfigRecord, so config lookups can cache */
  configVersion = 0;
  /** what PartitionRecords carry beyond PartitionInfo, kept for snapshots: each replica's log dir (v1+), the leader recovery state */
  readonly partitionExtras = new WeakMap<PartitionInfo, { directories: readonly Uint8Array[]; leaderRecoveryState: number }>();

  private pending: DecodedRecord[] | null = null;
  /** what applied records changed since the last takeChanges() */
  private changes: MetadataEvent[] = [];
  /** topics created since the last takeChanges(): their partitions are part of the creation */
  private readonly created = new Set<TopicInfo>();

  /** The changes applied since the last call, in log order. */
  takeChanges(): MetadataEvent[] {
    const out = this.changes;
    this.changes = [];
    this.created.clear();
    return out;
  }

  /** Applies one decoded record (or buffers it inside a transaction). Returns a warning text for records that did not fit, else null. */
  replay(rec: DecodedRecord): string | null {
    switch (rec.apiKey) {
      case RecordType.BEGIN_TRANSACTION: {
        const warn = this.pending ? "BeginTransactionRecord inside a transaction: the open one is dropped" : null;
        this.pending = [];
        return warn;
      }
      case RecordType.END_TRANSACTION: {
        const p = this.pending;
        this.pending = null;
        if (!p) return "EndTransactionRecord without a transaction";
        const warnings = p.map((r) => this.apply(r)).filter((w) => w !== null);
        return warnings.length ? warnings.join("; ") : null;
      }
      case RecordType.ABORT_TRANSACTION:
        this.pending = null;
        return null;
    }
    if (this.pending) {
      this.pending.push(rec);
      return null;
    }
    return this.apply(rec);
  }

  /** True while a transaction is open (after replay: the log ended inside one). */
  get inTransaction(): boolean {
    return this.pending !== null;
  }

  /** Drops an unfinished transaction (end of replay). */
  abortPending(): void {
    this.pending = null;
  }

  private apply(rec: DecodedRecord): string | null {
    switch (rec.apiKey) {
      case RecordType.TOPIC: {
        const r = rec.data;
        const name = r.name;
        const id = r.topicId;
        const t: TopicInfo = { name, id, partitions: [] };
        this.topics.set(name, t);
        this.topicsById.set(uuidHex(id), t);
        this.changes.push({ type: "topicCreated", topic: t });
        this.created.add(t);
        return null;
      }
      case RecordType.PARTITION: {
        const r = rec.data;
        const t = this.topicsById.get(uuidHex(r.topicId));
        const id = r.partitionId;
        if (!t) return `PartitionRecord for unknown topic id ${uuidHex(r.topicId)}`;
        if (id < 0 || id > MAX_PARTITION_ID) return `PartitionRecord with partition id ${id}`;
        const info: PartitionInfo = {
          partition: id,
          leader: r.leader,
          leaderEpoch: r.leaderEpoch,
          partitionEpoch: r.partitionEpoch,
          replicas: r.replicas,
          isr: r.isr,
        };
        t.partitions[id] = info;
        this.partitionExtras.set(info, { directories: r.directories, leaderRecoveryState: r.leaderRecoveryState });
        if (!this.created.has(t)) {
          const last = this.changes[this.changes.length - 1];
          if (last?.type === "partitionsAdded" && last.topic === t) (last.partitions as number[]).push(id);
          else this.changes.push({ type: "partitionsAdded", topic: t, partitions: [id] });
        }
        return null;
      }
      case RecordType.PARTITION_CHANGE: {
        const r = rec.data;
        const t = this.topicsById.get(uuidHex(r.topicId));
        const p = t?.partitions[r.partitionId];
        if (!p) return `PartitionChangeRecord for unknown partition ${uuidHex(r.topicId)}-${r.partitionId}`;
        // as PartitionRegistration.merge: a leader change bumps the leader epoch; every change bumps the partition epoch
        if (r.leader !== NO_LEADER_CHANGE) {
          p.leader = r.leader;
          p.leaderEpoch++;
        }
        // null (absent) means unchanged. Empty is read the same way: the codec
        // currently decodes absent nullable arrays as [], and an empty list is
        // never a real change here (only ELR, which we do not model, empties the ISR).
        if (r.isr !== null && r.isr.length > 0) p.isr = r.isr;
        if (r.replicas !== null && r.replicas.length > 0) p.replicas = r.replicas;
        const extras = this.partitionExtras.get(p);
        if (extras) {
          if (r.directories !== null && r.directories.length > 0) extras.directories = r.directories;
          if (r.leaderRecoveryState !== -1) extras.leaderRecoveryState = r.leaderRecoveryState;
        }
        p.partitionEpoch++;
        return null;
      }
      case RecordType.CONFIG: {
        const r = rec.data;
        const byResource = r.resourceType === CONFIG_RESOURCE_TOPIC ? this.topicConfigs : r.resourceType === CONFIG_RESOURCE_BROKER ? this.brokerConfigs : null;
        // other resource types (client metrics, groups) are not served
        if (!byResource) return null;
        this.configVersion++;
        const resource = r.resourceName;
        this.changes.push({ type: "configChanged", resourceType: r.resourceType, resourceName: resource, name: r.name, value: r.value });
        let configs = byResource.get(resource);
        if (r.value === null) {
          // a null value deletes the key
          configs?.delete(r.name);
          if (configs?.size === 0) byResource.delete(resource);
          return null;
        }
        if (!configs) byResource.set(resource, (configs = new Map()));
        configs.set(r.name, r.value);
        return null;
      }
      case RecordType.REMOVE_TOPIC: {
        const r = rec.data;
        const key = uuidHex(r.topicId);
        const t = this.topicsById.get(key);
        if (!t) return `RemoveTopicRecord for unknown topic id ${key}`;
        this.topicsById.delete(key);
        if (this.topics.get(t.name) === t) {
          this.topics.delete(t.name);
          if (this.topicConfigs.delete(t.name)) this.configVersion++;
        }
        this.changes.push({ type: "topicDeleted", topic: t });
        return null;
      }
      case RecordType.FEATURE_LEVEL: {
        const r = rec.data;
        const name = r.name;
        const level = r.featureLevel;
        // level 0 removes a feature
        if (level === 0) this.features.delete(name);
        else this.features.set(name, level);
        if (name === "metadata.version") this.metadataVersion = level;
        return null;
      }
      case RecordType.PRODUCER_IDS: {
        const next = rec.data.nextProducerId;
        // blocks only move forward (Kafka's ProducerIdControlManager refuses a lower one)
        if (next <= this.nextProducerId) return `ProducerIdsRecord next_producer_id ${next} is not above ${this.nextProducerId}; ignored`;
        this.nextProducerId = next;
        return null;
      }
    }
    return null;
  }
}
