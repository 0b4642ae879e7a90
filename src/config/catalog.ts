// Every config key the broker knows, as data: Kafka's name, scope, type,
// default, valid values, update mode, one line of doc, the broker synonyms of
// topic keys (Kafka's order) and whether the broker acts on it yet. --help,
// server.properties validation, BrokerConfig, the topic config lookup and
// (later) DescribeConfigs/CreateTopics/AlterConfigs all read this one table.

export class ConfigError extends Error {}

/** Kafka's ConfigDef.Type. */
export type ConfigType = "boolean" | "string" | "int" | "short" | "long" | "double" | "list" | "class" | "password";

/** DescribeConfigs v3+ configType codes (Kafka's DescribeConfigsResponse.ConfigType). */
export const CONFIG_TYPE_CODE: Readonly<Record<ConfigType, number>> = {
  boolean: 1,
  string: 2,
  int: 3,
  short: 4,
  long: 5,
  double: 6,
  list: 7,
  class: 8,
  password: 9,
};

/** DescribeConfigs configSource codes (Kafka's DescribeConfigsResponse.ConfigSource). */
export const ConfigSource = {
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;
export type ConfigSourceCode = (typeof ConfigSource)[keyof typeof ConfigSource];

/** ConfigRecord / DescribeConfigs resource types (Kafka's ConfigResource.Type). */
export const ConfigResourceType = { TOPIC: 2, BROKER: 4 } as const;

export type ConfigScope = "broker" | "topic";

/** Kafka's dynamic update mode of a broker key; topic keys are always dynamic ("cluster-wide" here). */
export type UpdateMode = "read-only" | "per-broker" | "cluster-wide";

/** A broker key standing in for a topic key; `unit` when the broker key counts minutes or hours and the topic key milliseconds. */
export interface Synonym {
  name: string;
  unit?: "minutes" | "hours";
}

export type ConfigValue = boolean | number | string | string[] | null;

export interface ConfigKey {
  readonly name: string;
  readonly scope: ConfigScope;
  readonly type: ConfigType;
  /** the value used when nothing sets the key (null: none); Kafka's default unless `kafkaDefault` says otherwise */
  readonly default: string | null;
  /** Kafka's default where ours differs on purpose (node.id) */
  readonly kafkaDefault?: string | null;
  /** numeric bounds, inclusive */
  readonly min?: number;
  readonly max?: number;
  /** valid values (each element, for lists) */
  readonly validValues?: readonly string[];
  /** validValues compare case-insensitively (Kafka's CaseInsensitiveValidString) */
  readonly ignoreCase?: boolean;
  /** numeric values allowed besides [min, max] (gzip's -1) */
  readonly alsoValid?: readonly number[];
  readonly updateMode: UpdateMode;
  readonly doc: string;
  /** topic keys: broker keys that supply the value when the topic has none, in Kafka's order */
  readonly synonyms: readonly Synonym[];
  /** the broker acts on this key today; --help only claims these */
  readonly applied: boolean;
  /** false for our own keys that Kafka does not have (log.level) */
  readonly kafka: boolean;
  /** password-typed: DescribeConfigs hides the value */
  readonly sensitive: boolean;
  /** Kafka defines it with defineInternal: DescribeConfigs lists it only where server.properties sets it */
  readonly internal?: boolean;
}

interface KeyOptions {
  min?: number;
  max?: number;
  validValues?: readonly string[];
  alsoValid?: readonly number[];
  ignoreCase?: boolean;
  mode?: UpdateMode;
  synonyms?: readonly (string | Synonym)[];
  applied?: boolean;
  kafka?: boolean;
  kafkaDefault?: string | null;
  internal?: boolean;
}

const INT_MAX = 2 ** 31 - 1;
const LONG_MAX = "9223372036854775807";

function key(scope: ConfigScope, name: string, type: ConfigType, dflt: string | null, doc: string, o: KeyOptions = {}): ConfigKey {
  return {
    name,
    scope,
    type,
    default: dflt,
    ...(o.kafkaDefault !== undefined ? { kafkaDefault: o.kafkaDefault } : {}),
    min: o.min,
    max: o.max,
    validValues: o.validValues,
    alsoValid: o.alsoValid,
    ...(o.ignoreCase ? { ignoreCase: true } : {}),
    updateMode: scope === "topic" ? "cluster-wide" : (o.mode ?? "read-only"),
    doc,
    synonyms: (o.synonyms ?? []).map((s) => (typeof s === "string" ? { name: s } : s)),
    applied: o.applied ?? false,
    kafka: o.kafka ?? true,
    sensitive: type === "password",
    ...(o.internal ? { internal: true } : {}),
  };
}
const broker = (name: string, type: ConfigType, dflt: string | null, doc: string, o?: KeyOptions) => key("broker", name, type, dflt, doc, o);
const topic = (name: string, type: ConfigType, dflt: string | null, doc: string, o?: KeyOptions) => key("topic", name, type, dflt, doc, o);

const COMPRESSION_TYPES = ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"] as const;
const TIMESTAMP_TYPES = ["CreateTime", "LogAppendTime"] as const;
const CLEANUP_POLICIES = ["compact", "delete"] as const;
const CW: KeyOptions = { mode: "cluster-wide" };

// Defaults, bounds and update modes are Kafka's (ServerConfigs, ServerLogConfigs, LogConfig,
// SocketServerConfigs, GroupCoordinatorConfig, TransactionLogConfig, DynamicBrokerConfig).
const KEYS: readonly ConfigKey[] = [
  // --- broker: applied today
  broker("node.id", "int", "1", "The node id of this broker (and the one in meta.properties).", { min: 0, applied: true, kafkaDefault: "-1" }),
  broker("listeners", "string", "PLAINTEXT://:9092", "Listeners to bind, NAME://host:port, comma separated.", { mode: "per-broker", applied: true }),
  broker("advertised.listeners", "string", null, "Listeners given to clients, when they differ from listeners.", { mode: "per-broker", applied: true }),
  broker("listener.security.protocol.map", "string", "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT", "Listener name to security protocol (only PLAINTEXT is served).", { mode: "per-broker", applied: true }),
  broker("controller.listener.names", "string", null, "Listener names of the controller; those listeners are not served as client listeners.", { applied: true }),
  broker("log.dirs", "string", null, "The data directory (only the first entry is used); overrides log.dir.", { applied: true }),
  broker("log.dir", "string", "/tmp/kafka-logs", "The data directory when log.dirs is not set.", { applied: true }),
  broker("num.partitions", "int", "1", "Partitions of an auto-created topic.", { min: 1, applied: true }),
  broker("auto.create.topics.enable", "boolean", "true", "Metadata creates a topic it is asked about that does not exist.", { applied: true }),
  broker("log.segment.bytes", "int", "1073741824", "Segment file size before rolling a new one.", { min: 14, ...CW, applied: true }),
  broker("log.index.interval.bytes", "int", "4096", "Bytes between offset index entries.", { min: 0, ...CW, applied: true }),
  broker("message.max.bytes", "int", "1048588", "Largest record batch accepted by Produce.", { min: 0, ...CW, applied: true }),
  broker("socket.request.max.bytes", "int", "104857600", "Largest request frame accepted.", { min: 1, applied: true }),
  broker("max.request.partition.size.limit", "int", "2000", "Most partitions one DescribeTopicPartitions response carries.", { min: 1, applied: true }),
  broker("producer.id.expiration.ms", "int", "86400000", "Idle time (since its last batch's timestamp) before a producer id's state is dropped.", { min: 1, ...CW, applied: true }),
  broker("producer.id.expiration.check.interval.ms", "int", "600000", "How often idle producer ids are looked for (internal in Kafka).", { min: 1, internal: true, applied: true }),
  broker("log.flush.interval.messages", "long", LONG_MAX, "Messages appended before a partition is fsynced.", { min: 1, ...CW, applied: true }),
  broker("log.flush.interval.ms", "long", null, "Time a message stays unflushed; falls back to log.flush.scheduler.interval.ms.", { ...CW, applied: true }),
  broker("log.flush.scheduler.interval.ms", "long", LONG_MAX, "How often the flusher checks for logs to flush.", { applied: true }),
  broker("log.flush.before.ack", "boolean", "false", "Ours: an acks=all produce is answered once its bytes are fsynced (group commit).", { applied: true, kafka: false }),
  broker("log.flush.offset.checkpoint.interval.ms", "int", "60000", "How often recovery-point-offset-checkpoint is written.", { min: 0, applied: true }),
  broker("log.flush.start.offset.checkpoint.interval.ms", "int", "60000", "How often log-start-offset-checkpoint is written.", { min: 0, applied: true }),
  broker("replica.high.watermark.checkpoint.interval.ms", "long", "5000", "How often replication-offset-checkpoint (the high watermarks) is written.", { applied: true }),
  broker("log.retention.ms", "long", null, "Retention of log segments in ms; overrides log.retention.minutes/hours; -1 keeps forever.", { ...CW, applied: true }),
  broker("log.retention.minutes", "int", null, "Retention in minutes, when log.retention.ms is not set.", { applied: true }),
  broker("log.retention.hours", "int", "168", "Retention in hours, when log.retention.ms/minutes are not set.", { applied: true }),
  broker("log.retention.bytes", "long", "-1", "Largest partition size before old segments are deleted; -1 is unlimited.", { ...CW, applied: true }),
  broker("log.retention.check.interval.ms", "long", "300000", "How often segments are checked for deletion.", { min: 1, applied: true }),
  broker("log.segment.delete.delay.ms", "long", "60000", "Delay before a deleted segment's files are removed.", { min: 0, ...CW, applied: true }),
  broker("log.initial.task.delay.ms", "long", "30000", "Delay before the first retention check after start-up (internal in Kafka).", { min: 0, internal: true, applied: true }),
  broker("log.cleaner.enable", "boolean", "true", "Run the log cleaner (compaction of topics whose cleanup.policy has compact).", { applied: true }),
  broker("log.cleaner.backoff.ms", "long", "15000", "The cleaner's pause when no log needs cleaning.", { min: 0, ...CW, applied: true }),
  broker("log.cleaner.min.cleanable.ratio", "double", "0.5", "Dirty share of a log that triggers compaction (topic: min.cleanable.dirty.ratio).", { min: 0, max: 1, ...CW, applied: true }),
  broker("log.cleaner.delete.retention.ms", "long", "86400000", "How long tombstones are kept after compaction first sees them (topic: delete.retention.ms).", { min: 0, ...CW, applied: true }),
  broker("log.cleaner.min.compaction.lag.ms", "long", "0", "Least time a record stays uncompacted (topic: min.compaction.lag.ms).", { min: 0, ...CW, applied: true }),
  broker("log.cleaner.max.compaction.lag.ms", "long", LONG_MAX, "Most time a record stays uncompacted (topic: max.compaction.lag.ms).", { min: 1, ...CW, applied: true }),
  broker("log.cleaner.dedupe.buffer.size", "long", "134217728", "Memory of the cleaner's key -> offset map (24 bytes a key).", { ...CW, applied: true }),
  broker("log.cleaner.io.buffer.size", "int", "524288", "The cleaner's read and write buffers.", { min: 0, ...CW, applied: true }),
  broker("log.cleaner.io.buffer.load.factor", "double", "0.9", "How full the cleaner's key -> offset map may get.", { ...CW, applied: true }),
  broker("metadata.log.max.record.bytes.between.snapshots", "long", "20971520", "Metadata log bytes appended before a new snapshot is written.", { min: 1, applied: true }),
  broker("metadata.log.max.snapshot.interval.ms", "long", "3600000", "Longest time before new metadata records get a snapshot; 0 disables time-based snapshots.", { min: 0, applied: true }),
  broker("metadata.max.retention.bytes", "long", "104857600", "Metadata log and snapshot bytes kept before old snapshots and segments go; -1 is unlimited.", { applied: true }),
  broker("metadata.max.retention.ms", "long", "604800000", "Age of a metadata snapshot before it and the segments it covers go (the latest stays); -1 keeps all.", { applied: true }),
  broker("metadata.log.segment.bytes", "int", "1073741824", "Segment size of the metadata log.", { min: 8388608, applied: true }),
  broker("internal.metadata.log.segment.bytes", "int", null, "Segment size of the metadata log, overriding metadata.log.segment.bytes without its minimum (internal in Kafka, for tests).", { internal: true, applied: true }),
  broker("internal.metadata.delete.delay.millis", "long", "60000", "Delay before deleted metadata log segments and snapshots are removed (internal in Kafka).", { internal: true, applied: true }),
  broker("metadata.log.segment.ms", "long", "604800000", "Time before a new metadata log segment is rolled.", { applied: true }),
  broker("log.level", "string", "info", "Our log threshold (not a Kafka key).", { validValues: ["debug", "info", "warn", "error"], ignoreCase: true, applied: true, kafka: false }),

  // --- broker: declared for the coming issues, not acted on yet
  broker("log.roll.ms", "long", null, "Time before a new segment is rolled; overrides log.roll.hours.", { ...CW, applied: true }),
  broker("log.roll.hours", "int", "168", "Time in hours before a new segment is rolled.", { min: 1, applied: true }),
  broker("log.index.size.max.bytes", "int", "10485760", "Largest offset index file.", { min: 4, ...CW, applied: true }),
  broker("log.cleanup.policy", "list", "delete", "Default cleanup policy of topics: delete and/or compact.", { validValues: CLEANUP_POLICIES, ...CW }),
  broker("log.message.timestamp.type", "string", "CreateTime", "Default timestamp type of topics.", { validValues: TIMESTAMP_TYPES, ...CW }),
  broker("log.message.timestamp.before.max.ms", "long", LONG_MAX, "How far a record timestamp may lie before the broker's time.", { min: 0, ...CW }),
  broker("log.message.timestamp.after.max.ms", "long", "3600000", "How far a record timestamp may lie after the broker's time.", { min: 0, ...CW }),
  broker("log.preallocate", "boolean", "false", "Preallocate segment files.", CW),
  broker("compression.type", "string", "producer", "Final compression of topics; producer keeps the producer's.", { validValues: COMPRESSION_TYPES, ...CW }),
  broker("min.insync.replicas", "int", "1", "Replicas that must acknowledge an acks=all write.", { min: 1, ...CW }),
  broker("unclean.leader.election.enable", "boolean", "false", "Allow out-of-sync replicas to become leader.", CW),
  broker("default.replication.factor", "int", "1", "Replication factor of auto-created topics."),
  broker("delete.topic.enable", "boolean", "true", "Allow DeleteTopics.", { applied: true }),
  broker("group.initial.rebalance.delay.ms", "int", "3000", "Wait for more members before the first rebalance of a new group.", { min: 0, applied: true }),
  broker("group.min.session.timeout.ms", "int", "6000", "Smallest session timeout a consumer may ask for.", { applied: true }),
  broker("group.max.session.timeout.ms", "int", "1800000", "Largest session timeout a consumer may ask for.", { applied: true }),
  broker("group.max.size", "int", String(INT_MAX), "Largest number of members in a classic group.", { min: 1, applied: true }),
  broker("offsets.topic.num.partitions", "int", "50", "Partitions of __consumer_offsets, when the first FindCoordinator creates it.", { min: 1, applied: true }),
  broker("offsets.topic.replication.factor", "short", "3", "Replication factor of __consumer_offsets.", { min: 1 }),
  broker("offsets.topic.segment.bytes", "int", "104857600", "Segment size of __consumer_offsets.", { min: 1, applied: true }),
  broker("offsets.retention.minutes", "int", "10080", "Committed offsets of an empty group are kept this long.", { min: 1, applied: true }),
  broker("offsets.retention.check.interval.ms", "long", "600000", "How often stale offsets are looked for.", { min: 1, applied: true }),
  broker("offset.metadata.max.bytes", "int", "4096", "Longest metadata string an offset commit may carry.", { applied: true }),
  broker("transactional.id.expiration.ms", "int", "604800000", "Idle time before a transactional id expires.", { min: 1 }),
  broker("max.connections", "int", String(INT_MAX), "Most connections the broker accepts.", { min: 0, ...CW, applied: true }),
  broker("max.connections.per.ip", "int", String(INT_MAX), "Most connections from one address.", { min: 0, ...CW, applied: true }),
  broker("max.connections.per.ip.overrides", "string", "", "Per-address limits, host:count comma separated.", { ...CW, applied: true }),
  broker("connections.max.idle.ms", "long", "600000", "Idle connections are closed after this long.", { applied: true }),
  broker("socket.output.buffer.max.bytes", "long", "134217728", "Ours: most unsent response bytes over all connections; past it connections stop reading requests until their output drains.", { min: 1, applied: true, kafka: false }),
  broker("log.cleaner.threads", "int", "1", "Cleaner threads (one cleaner task on the event loop here).", { min: 0, ...CW }),
  broker("log.cleaner.io.max.bytes.per.second", "double", "1.7976931348623157E308", "The cleaner's read and written bytes per second, at most (checked every 300 ms, as Kafka's throttler).", { ...CW, applied: true }),
  broker("num.network.threads", "int", "3", "Network threads (one event loop here).", { min: 1, ...CW }),
  broker("num.io.threads", "int", "8", "Request handler threads (one event loop here).", { min: 1, ...CW }),
  broker("socket.send.buffer.bytes", "int", "102400", "SO_SNDBUF of sockets; -1 keeps the OS default."),
  broker("socket.receive.buffer.bytes", "int", "102400", "SO_RCVBUF of sockets; -1 keeps the OS default."),
  broker("num.recovery.threads.per.data.dir", "int", "1", "Threads recovering logs at start-up.", { min: 1, ...CW }),

  // --- topic keys (all dynamic); synonyms in Kafka's order (ServerTopicConfigSynonyms)
  topic("segment.bytes", "int", "1073741824", "Segment file size before rolling a new one.", { min: 14, synonyms: ["log.segment.bytes"], applied: true }),
  topic("index.interval.bytes", "int", "4096", "Bytes between offset index entries.", { min: 0, synonyms: ["log.index.interval.bytes"], applied: true }),
  topic("max.message.bytes", "int", "1048588", "Largest record batch accepted by Produce.", { min: 0, synonyms: ["message.max.bytes"], applied: true }),
  topic("segment.ms", "long", "604800000", "Time before a new segment is rolled.", { min: 1, applied: true, synonyms: ["log.roll.ms", { name: "log.roll.hours", unit: "hours" }] }),
  topic("segment.jitter.ms", "long", "0", "Random jitter subtracted from segment.ms.", { min: 0, applied: true, synonyms: ["log.roll.jitter.ms", { name: "log.roll.jitter.hours", unit: "hours" }] }),
  topic("segment.index.bytes", "int", "10485760", "Largest offset index file.", { min: 4, applied: true, synonyms: ["log.index.size.max.bytes"] }),
  topic("flush.messages", "long", LONG_MAX, "Messages appended before the partition is fsynced.", { min: 1, synonyms: ["log.flush.interval.messages"], applied: true }),
  topic("flush.ms", "long", LONG_MAX, "Time a message stays unflushed.", { min: 0, synonyms: ["log.flush.interval.ms", "log.flush.scheduler.interval.ms"], applied: true }),
  topic("retention.bytes", "long", "-1", "Largest partition size before old segments are deleted; -1 is unlimited.", { synonyms: ["log.retention.bytes"], applied: true }),
  topic("retention.ms", "long", "604800000", "Retention of log segments; -1 keeps forever.", {
    min: -1,
    applied: true,
    synonyms: ["log.retention.ms", { name: "log.retention.minutes", unit: "minutes" }, { name: "log.retention.hours", unit: "hours" }],
  }),
  topic("delete.retention.ms", "long", "86400000", "How long delete tombstones are kept in compacted topics.", { min: 0, synonyms: ["log.cleaner.delete.retention.ms"], applied: true }),
  topic("min.compaction.lag.ms", "long", "0", "Least time a message stays uncompacted.", { min: 0, synonyms: ["log.cleaner.min.compaction.lag.ms"], applied: true }),
  topic("max.compaction.lag.ms", "long", LONG_MAX, "Most time a message stays uncompacted.", { min: 1, synonyms: ["log.cleaner.max.compaction.lag.ms"], applied: true }),
  topic("file.delete.delay.ms", "long", "60000", "Delay before a deleted segment's files are removed.", { min: 0, synonyms: ["log.segment.delete.delay.ms"], applied: true }),
  topic("min.cleanable.dirty.ratio", "double", "0.5", "Dirty share of the log that triggers compaction.", { min: 0, max: 1, synonyms: ["log.cleaner.min.cleanable.ratio"], applied: true }),
  topic("cleanup.policy", "list", "delete", "delete and/or compact.", { validValues: CLEANUP_POLICIES, synonyms: ["log.cleanup.policy"], applied: true }),
  topic("unclean.leader.election.enable", "boolean", "false", "Allow out-of-sync replicas to become leader.", { synonyms: ["unclean.leader.election.enable"] }),
  topic("min.insync.replicas", "int", "1", "Replicas that must acknowledge an acks=all write.", { min: 1, synonyms: ["min.insync.replicas"] }),
  topic("compression.type", "string", "producer", "Final compression; producer keeps the producer's.", { validValues: COMPRESSION_TYPES, synonyms: ["compression.type"] }),
  topic("compression.gzip.level", "int", "-1", "gzip level when compression.type is gzip.", { min: 1, max: 9, alsoValid: [-1], synonyms: ["compression.gzip.level"] }),
  topic("compression.lz4.level", "int", "9", "lz4 level when compression.type is lz4.", { min: 1, max: 17, synonyms: ["compression.lz4.level"] }),
  topic("compression.zstd.level", "int", "3", "zstd level when compression.type is zstd.", { min: -131072, max: 22, synonyms: ["compression.zstd.level"] }),
  topic("preallocate", "boolean", "false", "Preallocate segment files.", { synonyms: ["log.preallocate"] }),
  topic("message.timestamp.type", "string", "CreateTime", "CreateTime or LogAppendTime.", { validValues: TIMESTAMP_TYPES, synonyms: ["log.message.timestamp.type"] }),
  topic("message.timestamp.before.max.ms", "long", LONG_MAX, "How far a record timestamp may lie before the broker's time.", { min: 0, synonyms: ["log.message.timestamp.before.max.ms"] }),
  topic("message.timestamp.after.max.ms", "long", "3600000", "How far a record timestamp may lie after the broker's time.", { min: 0, synonyms: ["log.message.timestamp.after.max.ms"] }),
  topic("max.decompressed.message.bytes", "int", "2147483639", "Largest decompressed size of a record batch.", { min: 0, synonyms: ["max.decompressed.message.bytes"] }),
  topic("errors.deadletterqueue.group.enable", "boolean", "false", "This topic may be a share group's dead-letter queue.", {}),
  topic("remote.copy.lag.bytes", "long", "-1", "Bytes a segment may lag before it is copied to remote storage.", { synonyms: ["log.remote.copy.lag.bytes"] }),
  topic("remote.copy.lag.ms", "long", "0", "Time a segment may lag before it is copied to remote storage.", { synonyms: ["log.remote.copy.lag.ms"] }),
  topic("leader.replication.throttled.replicas", "list", "", "Replicas throttled on the leader side.", {}),
  topic("follower.replication.throttled.replicas", "list", "", "Replicas throttled on the follower side.", {}),
  topic("remote.storage.enable", "boolean", "false", "Tiered storage for this topic.", {}),
  topic("local.retention.ms", "long", "-2", "Local retention with tiered storage; -2 follows retention.ms.", { min: -2, synonyms: ["log.local.retention.ms"] }),
  topic("local.retention.bytes", "long", "-2", "Local retention bytes with tiered storage; -2 follows retention.bytes.", { min: -2, synonyms: ["log.local.retention.bytes"] }),
  topic("remote.log.copy.disable", "boolean", "false", "Stop copying segments to remote storage.", {}),
  topic("remote.log.delete.on.disable", "boolean", "false", "Delete remote data when tiering is turned off.", {}),
];

export const BROKER_CONFIGS: ReadonlyMap<string, ConfigKey> = new Map(KEYS.filter((k) => k.scope === "broker").map((k) => [k.name, k]));
export const TOPIC_CONFIGS: ReadonlyMap<string, ConfigKey> = new Map(KEYS.filter((k) => k.scope === "topic").map((k) => [k.name, k]));

/** Kafka's wording (ConfigException), so the same text can go back in an INVALID_CONFIG error. */
function invalid(key: ConfigKey, text: string, why: string): ConfigError {
  return new ConfigError(`Invalid value ${text} for configuration ${key.name}: ${why}`);
}

const INTEGER_RE = /^[+-]?\d+$/;
const TYPE_BOUNDS: Partial<Record<ConfigType, [bigint, bigint]>> = {
  short: [-(2n ** 15n), 2n ** 15n - 1n],
  int: [-(2n ** 31n), 2n ** 31n - 1n],
  long: [-(2n ** 63n), 2n ** 63n - 1n],
};

/**
 * Parses and checks a value as Kafka's ConfigDef does (trimmed; type, then
 * range or valid values). Longs beyond 2^53 come back rounded, which only
 * matters for Long.MAX_VALUE-style "never" values. Throws ConfigError.
 */
export function parseValue(key: ConfigKey, text: string): ConfigValue {
  const v = text.trim();
  switch (key.type) {
    case "boolean": {
      const l = v.toLowerCase();
      if (l !== "true" && l !== "false") throw invalid(key, text, "Expected value to be either true or false");
      return l === "true";
    }
    case "short":
    case "int":
    case "long": {
      const [lo, hi] = TYPE_BOUNDS[key.type]!;
      if (!INTEGER_RE.test(v) || BigInt(v) < lo || BigInt(v) > hi) throw invalid(key, text, `Not a number of type ${key.type.toUpperCase()}`);
      const n = Number(v);
      checkRange(key, text, n);
      return n;
    }
    case "double": {
      const n = Number(v);
      if (v === "" || !Number.isFinite(n)) throw invalid(key, text, "Not a number of type DOUBLE");
      checkRange(key, text, n);
      return n;
    }
    case "list": {
      const items = v === "" ? [] : v.split(",").map((s) => s.trim());
      if (key.validValues) for (const i of items) if (!key.validValues.includes(i)) throw invalid(key, text, `String must be one of: ${key.validValues.join(", ")}`);
      return items;
    }
    default:
      if (key.validValues && !(key.ignoreCase ? key.validValues.includes(v.toLowerCase()) : key.validValues.includes(v))) {
        throw invalid(key, text, `String must be one of${key.ignoreCase ? " (case insensitive)" : ""}: ${key.validValues.join(", ")}`);
      }
      return v;
  }
}

function checkRange(key: ConfigKey, text: string, n: number): void {
  if (key.alsoValid?.includes(n)) return;
  if (key.min !== undefined && n < key.min) throw invalid(key, text, `Value must be at least ${key.min}`);
  if (key.max !== undefined && n > key.max) throw invalid(key, text, `Value must be no more than ${key.max}`);
}

/** The reason `text` is not a valid value of `key`, or null. */
export function checkValue(key: ConfigKey, text: string): string | null {
  try {
    parseValue(key, text);
    return null;
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
}

/** A synonym's value in the topic key's unit (ms). Negative durations mean "forever", as KafkaConfig reads them. */
export function convertSynonym(s: Synonym, value: number): number {
  if (!s.unit) return value;
  if (value < 0) return -1;
  return value * (s.unit === "hours" ? 3_600_000 : 60_000);
}

/** One line per key for --help: applied keys first, then the declared ones. */
export function helpLines(): string[] {
  const line = (k: ConfigKey) => `  ${k.name.padEnd(40)} ${(k.default ?? "(none)").padEnd(12)} ${k.doc}`;
  const brokerKeys = [...BROKER_CONFIGS.values()];
  const topicKeys = [...TOPIC_CONFIGS.values()];
  return [
    "Broker keys honoured (key, default, meaning):",
    ...brokerKeys.filter((k) => k.applied).map(line),
    "",
    "Topic keys honoured per topic (falling back to the broker synonym, then the default):",
    ...topicKeys.filter((k) => k.applied).map((k) => `${line(k)} [${k.synonyms.map((s) => s.name).join(", ")}]`),
    "",
    "Declared with Kafka's defaults and validated, not acted on yet:",
    ...brokerKeys.filter((k) => !k.applied).map(line),
    ...topicKeys.filter((k) => !k.applied).map((k) => `${line(k)} (topic)`),
  ];
}
