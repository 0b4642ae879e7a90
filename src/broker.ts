// The broker context that handlers receive: configuration, storage, the
// metadata image, topic creation and the waiters of long-polling fetches.

import { advertisedEndpoint, type BrokerConfig } from "./config.ts";
import type { ApiHandler } from "./api/handler.ts";
import { HANDLERS } from "./api/index.ts";
import type { Storage } from "./storage/log-manager.ts";
import type { PartitionLog } from "./storage/partition-log.ts";
import type { TopicInfo } from "./metadata/image.ts";
import { log } from "./log.ts";

export class Broker {
  readonly handlers = new Map<number, ApiHandler>();
  readonly advertised: { host: string; port: number };
  /** callbacks of fetches waiting for data, by partition log */
  private readonly waiters = new Map<PartitionLog, Set<() => void>>();
  /** set while shutting down: waiting fetches answer at once */
  stopping = false;

  constructor(
    readonly config: BrokerConfig,
    readonly storage: Storage,
  ) {
    for (const h of HANDLERS) this.handlers.set(h.key, h);
    this.advertised = advertisedEndpoint(config);
  }

  get nodeId(): number {
    return this.config.nodeId;
  }

  get clusterId(): string {
    return this.storage.clusterId;
  }

  topic(name: string): TopicInfo | undefined {
    return this.storage.image.topics.get(name);
  }

  /** Creates the topic with num.partitions partitions when auto-creation is on. */
  autoCreate(name: string): TopicInfo | undefined {
    const existing = this.topic(name);
    if (existing || !this.config.autoCreateTopicsEnable) return existing;
    const t = this.storage.createTopic(name, this.config.numPartitions);
    log.info(`created topic ${name} with ${t.partitions.length} partitions`);
    return t;
  }

  /** Registers a callback run after an append to `log`; returns its remover. */
  waitForAppend(plog: PartitionLog, cb: () => void): () => void {
    let set = this.waiters.get(plog);
    if (!set) this.waiters.set(plog, (set = new Set()));
    set.add(cb);
    return () => {
      set!.delete(cb);
      if (set!.size === 0 && this.waiters.get(plog) === set) this.waiters.delete(plog);
    };
  }

  notifyAppend(plog: PartitionLog): void {
    const set = this.waiters.get(plog);
    if (!set) return;
    for (const cb of [...set]) cb();
  }

  /** Wakes every waiting fetch (shutdown). */
  wakeAll(): void {
    for (const set of [...this.waiters.values()]) for (const cb of [...set]) cb();
  }
}
