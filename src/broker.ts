// The broker: its configuration and its services, wired and ordered here.
//
//   metadata   formats the log dir, replays __cluster_metadata, publishes changes
//   storage    one log per partition the metadata knows; follows its events
//   groups     the group coordinator: consumer groups and committed offsets in __consumer_offsets
//   listeners  one TCP listener per entry of `listeners`
//
// start() runs them in that order, stop() in reverse: listeners stop accepting,
// answer waiting requests and drain; storage flushes and closes; the metadata
// log closes last. Handlers reach everything through the broker in their
// request context.

import { advertisedEndpoint, type BrokerConfig, type Listener } from "./config.ts";
import { MetadataStore } from "./metadata/store.ts";
import { Storage } from "./storage/log-manager.ts";
import type { TopicInfo } from "./metadata/image.ts";
import { Listeners } from "./net/server.ts";
import { GroupCoordinator } from "./coordinator/group/group-coordinator.ts";
import { service, type Service } from "./service.ts";
import { log } from "./log.ts";
import { checkLogDir } from "./storage/log-dir.ts";
import { ErrorCode } from "./protocol/errors.ts";

export interface BrokerOptions {
  /** bind the configured listeners (default true); tests that drive connections directly say false */
  listen?: boolean;
}

export class Broker {
  // set by their services' start, in order; handlers only run once all have started
  metadata!: MetadataStore;
  storage!: Storage;
  readonly groups: GroupCoordinator;
  readonly listeners: Listeners;
  private readonly services: Service[];
  private started: Service[] = [];
  /** set while shutting down: waiting fetches answer at once */
  stopping = false;

  constructor(
    readonly config: BrokerConfig,
    opts: BrokerOptions = {},
  ) {
    this.listeners = new Listeners(this, config.listeners);
    this.groups = new GroupCoordinator(this);
    this.services = [
      service(
        "metadata",
        () => {
          checkLogDir(config.logDir);
          this.metadata = MetadataStore.open({ logDir: config.logDir, nodeId: config.nodeId, brokerConfig: config.raw, warn: (m) => log.warn(m) });
        },
        () => this.metadata.close(),
      ),
      service(
        "storage",
        async () => {
          this.storage = await Storage.open(
            { logDir: config.logDir, nodeId: config.nodeId, numPartitions: config.numPartitions, segmentBytes: config.logSegmentBytes },
            this.metadata,
          );
        },
        async () => {
          await this.storage.cleaner.stop(); // a cleaning round gives up (and deletes its .cleaned file) before the logs close
          this.storage.flush();
          this.storage.close();
        },
      ),
      this.groups,
      ...(opts.listen === false ? [] : [this.listeners]),
    ];
  }

  /** Starts the services in order; if one fails, the ones started are stopped and the error is rethrown. */
  async start(): Promise<this> {
    for (const s of this.services) {
      try {
        await s.start();
      } catch (e) {
        await this.stop();
        throw e;
      }
      this.started.push(s);
    }
    return this;
  }

  /** Stops the started services in reverse order; safe to call twice. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeAll();
    const started = this.started;
    this.started = [];
    for (const s of started.reverse()) {
      try {
        await s.stop();
      } catch (e) {
        log.error(`stopping ${s.name}: ${(e as Error).message}`);
      }
    }
  }

  get nodeId(): number {
    return this.config.nodeId;
  }

  get clusterId(): string {
    return this.metadata.clusterId;
  }

  /** Where clients of a listener are told to connect (a bound port 0 becomes the real port). */
  advertisedFor(listenerName: string): { host: string; port: number } {
    const a = advertisedEndpoint(this.config, listenerName);
    return a.port === 0 ? { host: a.host, port: this.listeners.boundPort(listenerName) ?? 0 } : a;
  }

  /** The listener clients reach first (the first of `listeners`), with its bound port. */
  get firstListener(): Listener & { boundPort: number } {
    const l = this.config.listeners[0]!;
    return { ...l, boundPort: this.listeners.boundPort(l.name) ?? l.port };
  }

  topic(name: string): TopicInfo | undefined {
    return this.metadata.image.topics.get(name);
  }

  /** Creates the topic with num.partitions partitions when auto-creation is on. */
  autoCreate(name: string): TopicInfo | undefined {
    const existing = this.topic(name);
    if (existing || !this.config.autoCreateTopicsEnable) return existing;
    const t = this.storage.createTopic(name, this.config.numPartitions);
    log.info(`created topic ${name} with ${t.partitions.length} partitions`);
    return t;
  }

  /** How many fetches wait for appends, over all partitions. */
  get waitingFetches(): number {
    return this.storage?.waitingFetches ?? 0;
  }

  /** Shutdown: wakes every waiting fetch (each partition keeps its own) and answers parked JoinGroup/SyncGroup requests. */
  wakeAll(): void {
    // storage is unset when its service never started
    this.storage?.wakeAll();
    this.groups.answerParked(ErrorCode.NOT_COORDINATOR);
  }
}
