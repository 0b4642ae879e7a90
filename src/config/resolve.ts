// Effective config values, layered as Kafka does:
//   topic key:  the topic's own value (ConfigRecord) -> each broker synonym in
//               Kafka's order, per layer below -> the topic key's default
//   broker key: dynamic for this node -> dynamic cluster default -> static
//               (server.properties / --override) -> the key's default
// The dynamic layers are BROKER ConfigRecords (resource "" or the node id).

import { ConfigError, ConfigSource, convertSynonym, parseValue, TOPIC_CONFIGS, type ConfigKey, type ConfigSourceCode, type ConfigValue } from "./catalog.ts";

/** What the resolver reads from the metadata image. */
export interface ConfigLayers {
  readonly nodeId: number;
  readonly topicConfigs: ReadonlyMap<string, ReadonlyMap<string, string>>;
  readonly brokerConfigs: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** changes whenever a config in the maps above changes */
  readonly configVersion: number;
}

export interface EffectiveValue {
  /** the value as configured (after a synonym's unit conversion), null when the key has no value at all */
  text: string | null;
  value: ConfigValue;
  source: ConfigSourceCode;
  /** the key that supplied it: the topic key itself, a broker synonym, or the key (default) */
  from: string;
}

/** The topic keys the broker applies, typed. */
export interface TopicConfig {
  segmentBytes: number;
  indexIntervalBytes: number;
  /** segment.ms, segment.jitter.ms, segment.index.bytes */
  segmentMs: number;
  segmentJitterMs: number;
  indexMaxBytes: number;
  maxMessageBytes: number;
  /** message.timestamp.type is LogAppendTime */
  logAppendTime: boolean;
  timestampBeforeMaxMs: number;
  timestampAfterMaxMs: number;
  /** cleanup.policy includes compact */
  compacted: boolean;
  /** compression.type: "producer" keeps the batch's codec */
  compressionType: string;
  /** cleanup.policy includes delete: retention.ms / retention.bytes apply */
  deleteRetention: boolean;
  /** retention.ms (-1: no time limit) */
  retentionMs: number;
  /** retention.bytes (-1: no size limit) */
  retentionBytes: number;
  /** file.delete.delay.ms: how long a deleted segment's *.deleted files stay */
  fileDeleteDelayMs: number;
}

export class ConfigResolver {
  // Produce reads max.message.bytes per partition; parse once per topic and config change
  private cache = new Map<string, TopicConfig>();
  private cachedVersion = -1;

  constructor(
    /** server.properties and --override keys */
    readonly staticConfig: ReadonlyMap<string, string>,
    private readonly layers: ConfigLayers,
  ) {}

  /** The value of a broker key in the first layer that sets it, as text, or null. */
  private brokerText(name: string): { text: string; source: ConfigSourceCode } | null {
    const own = this.layers.brokerConfigs.get(String(this.layers.nodeId))?.get(name);
    if (own !== undefined) return { text: own, source: ConfigSource.DYNAMIC_BROKER_CONFIG };
    const cluster = this.layers.brokerConfigs.get("")?.get(name);
    if (cluster !== undefined) return { text: cluster, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG };
    const stat = this.staticConfig.get(name);
    if (stat !== undefined) return { text: stat, source: ConfigSource.STATIC_BROKER_CONFIG };
    return null;
  }

  /**
   * What one layer sets for broker key `name` (DYNAMIC_BROKER_CONFIG: this node's
   * record, DYNAMIC_DEFAULT_BROKER_CONFIG: the cluster default, STATIC_BROKER_CONFIG:
   * server.properties), or undefined; DescribeConfigs lists each as a synonym.
   */
  layer(name: string, source: ConfigSourceCode): string | undefined {
    switch (source) {
      case ConfigSource.DYNAMIC_BROKER_CONFIG:
        return this.layers.brokerConfigs.get(String(this.layers.nodeId))?.get(name);
      case ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG:
        return this.layers.brokerConfigs.get("")?.get(name);
      case ConfigSource.STATIC_BROKER_CONFIG:
        return this.staticConfig.get(name);
      default:
        return undefined;
    }
  }

  /** The topic's own value of `name` (its ConfigRecord), or undefined. */
  topicOwn(topic: string, name: string): string | undefined {
    return this.layers.topicConfigs.get(topic)?.get(name);
  }

  /** The node id the per-broker layer belongs to. */
  get nodeId(): number {
    return this.layers.nodeId;
  }

  /** The effective value of a broker key. */
  broker(key: ConfigKey): EffectiveValue {
    const set = this.brokerText(key.name);
    if (set) return { ...set, value: parseValue(key, set.text), from: key.name };
    return { text: key.default, value: key.default === null ? null : parseValue(key, key.default), source: ConfigSource.DEFAULT_CONFIG, from: key.name };
  }

  /** The effective value of topic key `name` for `topic` (which need not exist). Throws for a name outside the catalog. */
  topic(topic: string, name: string): EffectiveValue {
    const key = TOPIC_CONFIGS.get(name);
    if (!key) throw new ConfigError(`Unknown topic config name: ${name}`);
    const own = this.layers.topicConfigs.get(topic)?.get(name);
    if (own !== undefined) return { text: own, value: parseValue(key, own), source: ConfigSource.DYNAMIC_TOPIC_CONFIG, from: name };
    for (const s of key.synonyms) {
      const set = this.brokerText(s.name);
      if (!set) continue;
      let text = set.text;
      // a bad broker value was refused at start-up for catalog keys; synonyms outside the catalog are parsed with the topic key's type
      if (s.unit) text = String(convertSynonym(s, Number(text.trim())));
      return { text, value: parseValue(key, text), source: set.source, from: s.name };
    }
    return { text: key.default, value: key.default === null ? null : parseValue(key, key.default), source: ConfigSource.DEFAULT_CONFIG, from: name };
  }

  /** The applied topic keys of `topic`, typed. */
  topicConfig(topic: string): TopicConfig {
    if (this.cachedVersion !== this.layers.configVersion) {
      this.cache.clear();
      this.cachedVersion = this.layers.configVersion;
    }
    let c = this.cache.get(topic);
    if (!c) {
      c = {
        segmentBytes: this.topic(topic, "segment.bytes").value as number,
        indexIntervalBytes: this.topic(topic, "index.interval.bytes").value as number,
        segmentMs: this.topic(topic, "segment.ms").value as number,
        segmentJitterMs: this.topic(topic, "segment.jitter.ms").value as number,
        indexMaxBytes: this.topic(topic, "segment.index.bytes").value as number,
        maxMessageBytes: this.topic(topic, "max.message.bytes").value as number,
        logAppendTime: this.topic(topic, "message.timestamp.type").value === "LogAppendTime",
        timestampBeforeMaxMs: this.topic(topic, "message.timestamp.before.max.ms").value as number,
        timestampAfterMaxMs: this.topic(topic, "message.timestamp.after.max.ms").value as number,
        compacted: (this.topic(topic, "cleanup.policy").value as string[]).includes("compact"),
        compressionType: this.topic(topic, "compression.type").value as string,
        deleteRetention: (this.topic(topic, "cleanup.policy").value as string[]).includes("delete"),
        retentionMs: this.topic(topic, "retention.ms").value as number,
        retentionBytes: this.topic(topic, "retention.bytes").value as number,
        fileDeleteDelayMs: this.topic(topic, "file.delete.delay.ms").value as number,
      };
      this.cache.set(topic, c);
    }
    return c;
  }
}
