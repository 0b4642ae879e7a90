// Broker configuration with Kafka's names and defaults (server.properties),
// typed from the catalog (config/catalog.ts). Kafka keys we do not implement
// (process.roles, controller.quorum.voters, ...) are accepted and listed once at
// debug level, so a real Kafka server.properties works unchanged; a key Kafka
// does not have gets one warning.

import { BROKER_CONFIGS, ConfigError, parseValue, type ConfigKey } from "./config/catalog.ts";
import { KAFKA_BROKER_KEY_PREFIXES, KAFKA_BROKER_KEYS } from "./config/kafka-keys.ts";

export { ConfigError };

export type SecurityProtocol = "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL";
const SECURITY_PROTOCOLS: readonly string[] = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];
/** what the broker can serve today; the others stop start-up rather than run as plaintext */
const SERVED_PROTOCOLS: readonly SecurityProtocol[] = ["PLAINTEXT"];

export interface Listener {
  name: string;
  host: string;
  port: number;
  /** from listener.security.protocol.map (advertised listeners: as the listener of that name) */
  securityProtocol: SecurityProtocol;
}

export interface BrokerConfig {
  nodeId: number;
  listeners: Listener[];
  advertisedListeners: Listener[];
  logDir: string;
  numPartitions: number;
  autoCreateTopicsEnable: boolean;
  /** delete.topic.enable: DeleteTopics deletes (else TOPIC_DELETION_DISABLED) */
  deleteTopicEnable: boolean;
  logSegmentBytes: number;
  messageMaxBytes: number;
  socketRequestMaxBytes: number;
  logLevel: string;
  /** max.request.partition.size.limit: most partitions one DescribeTopicPartitions response carries */
  maxRequestPartitionSizeLimit: number;
  /** every key as given, for DescribeConfigs later */
  raw: Map<string, string>;
}

/** Defaults of the keys the broker applies (for --help and callers that want the plain map). */
export const DEFAULTS: Record<string, string> = Object.fromEntries(
  [...BROKER_CONFIGS.values()].filter((k) => k.applied && k.default !== null).map((k) => [k.name, k.default!]),
);

/** Parses java.util.Properties text: `key=value`, `key: value`, `key value`, #/! comments, `\` continuations and escapes. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/^\s+/, "");
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    // an odd number of trailing backslashes continues the line
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i]!.replace(/^\s+/, "");
    }
    const m = /^((?:\\.|[^=:\s\\])*)\s*[=:\s]?\s*(.*)$/.exec(line);
    if (!m) continue;
    out.set(unescape(m[1]!), unescape(m[2]!));
  }
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c: string) => {
    if (c.length === 5) return String.fromCharCode(parseInt(c.slice(1), 16));
    return c === "t" ? "\t" : c === "n" ? "\n" : c === "r" ? "\r" : c === "f" ? "\f" : c;
  });
}

/** listener.security.protocol.map: listener name -> security protocol. */
export function parseSecurityProtocolMap(value: string): Map<string, SecurityProtocol> {
  const out = new Map<string, SecurityProtocol>();
  for (const part of value.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [name, proto] = part.split(":").map((s) => s.trim().toUpperCase());
    if (!name || !proto || !SECURITY_PROTOCOLS.includes(proto)) throw new ConfigError(`listener.security.protocol.map: '${part}' is not NAME:PROTOCOL with PROTOCOL one of ${SECURITY_PROTOCOLS.join(", ")}`);
    out.set(name, proto as SecurityProtocol);
  }
  return out;
}

export function parseListeners(value: string, key: string, protocols: Map<string, SecurityProtocol>): Listener[] {
  const out: Listener[] = [];
  for (const part of value.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(part);
    if (!m) throw new ConfigError(`${key}: '${part}' is not NAME://host:port`);
    const port = Number(m[3]);
    if (port > 65535) throw new ConfigError(`${key}: port ${port} out of range`);
    const name = m[1]!.toUpperCase();
    const securityProtocol = protocols.get(name);
    if (!securityProtocol) throw new ConfigError(`${key}: no security protocol defined for listener ${name} (listener.security.protocol.map)`);
    if (out.some((l) => l.name === name)) throw new ConfigError(`${key}: listener name ${name} appears more than once`);
    out.push({ name, host: m[2]!.replace(/^\[|\]$/g, ""), port, securityProtocol });
  }
  return out;
}

function catalogKey(name: string): ConfigKey {
  const k = BROKER_CONFIGS.get(name);
  if (!k) throw new Error(`${name} is not in the config catalog`);
  return k;
}

/** The typed value of a catalog broker key: the given value, else its default. */
export function brokerValue<T extends boolean | number | string | string[] | null>(raw: ReadonlyMap<string, string>, name: string): T {
  const k = catalogKey(name);
  const v = raw.get(name) ?? k.default;
  return (v === null ? null : parseValue(k, v)) as T;
}

/** Checks every catalog key that is set (type, range, valid values); throws ConfigError naming the first bad one. */
export function validateBrokerConfig(raw: ReadonlyMap<string, string>): void {
  for (const [name, v] of raw) {
    const k = BROKER_CONFIGS.get(name);
    if (k) parseValue(k, v);
  }
}

export function isKafkaBrokerKey(name: string): boolean {
  return KAFKA_BROKER_KEYS.has(name) || KAFKA_BROKER_KEY_PREFIXES.some((p) => name.startsWith(p));
}

/** Set keys outside the catalog: Kafka keys we do not implement, and keys Kafka does not have at all. */
export function unknownKeys(raw: ReadonlyMap<string, string>): { notImplemented: string[]; notKafka: string[] } {
  const notImplemented: string[] = [];
  const notKafka: string[] = [];
  for (const name of raw.keys()) {
    if (BROKER_CONFIGS.has(name)) continue;
    (isKafkaBrokerKey(name) ? notImplemented : notKafka).push(name);
  }
  return { notImplemented: notImplemented.sort(), notKafka: notKafka.sort() };
}

export function buildConfig(raw: Map<string, string>): BrokerConfig {
  validateBrokerConfig(raw);
  const protocols = parseSecurityProtocolMap(brokerValue<string>(raw, "listener.security.protocol.map"));
  // The broker serves its client listeners; a CONTROLLER listener from a combined-mode file is ignored
  // (Kafka maps a controller listener missing from the map to PLAINTEXT).
  const controllerNames = new Set((raw.get("controller.listener.names") ?? "").split(",").map((s) => s.trim().toUpperCase()));
  for (const n of controllerNames) if (n && !protocols.has(n)) protocols.set(n, "PLAINTEXT");
  const listeners = parseListeners(brokerValue<string>(raw, "listeners"), "listeners", protocols);
  const clientListeners = listeners.filter((l) => !controllerNames.has(l.name));
  if (clientListeners.length === 0) throw new ConfigError("listeners: no client listener");
  for (const l of clientListeners) {
    if (!SERVED_PROTOCOLS.includes(l.securityProtocol)) {
      throw new ConfigError(`listeners: ${l.name}://${l.host}:${l.port} uses ${l.securityProtocol}, which this broker does not serve yet (only ${SERVED_PROTOCOLS.join(", ")})`);
    }
  }
  const advertised = raw.has("advertised.listeners")
    ? parseListeners(raw.get("advertised.listeners")!, "advertised.listeners", protocols).filter((l) => !controllerNames.has(l.name))
    : clientListeners;
  for (const a of advertised) {
    if (!clientListeners.some((l) => l.name === a.name)) throw new ConfigError(`advertised.listeners: ${a.name} is not one of the listeners`);
  }
  const logDirs = (raw.get("log.dirs") ?? brokerValue<string>(raw, "log.dir")).split(",").map((s) => s.trim()).filter(Boolean);
  if (logDirs.length === 0) throw new ConfigError("log.dirs: empty");
  return {
    nodeId: brokerValue<number>(raw, "node.id"),
    listeners: clientListeners,
    advertisedListeners: advertised,
    logDir: logDirs[0]!,
    numPartitions: brokerValue<number>(raw, "num.partitions"),
    autoCreateTopicsEnable: brokerValue<boolean>(raw, "auto.create.topics.enable"),
    deleteTopicEnable: brokerValue<boolean>(raw, "delete.topic.enable"),
    logSegmentBytes: brokerValue<number>(raw, "log.segment.bytes"),
    messageMaxBytes: brokerValue<number>(raw, "message.max.bytes"),
    socketRequestMaxBytes: brokerValue<number>(raw, "socket.request.max.bytes"),
    logLevel: brokerValue<string>(raw, "log.level").toLowerCase(),
    maxRequestPartitionSizeLimit: brokerValue<number>(raw, "max.request.partition.size.limit"),
    raw,
  };
}

/**
 * The endpoint clients of `listenerName` are told to use: the advertised
 * listener of that name, else the listener itself. An empty or wildcard host
 * becomes "localhost" (Kafka uses the canonical host name, which often does
 * not resolve in containers and test machines).
 */
export function advertisedEndpoint(cfg: BrokerConfig, listenerName = cfg.listeners[0]!.name): { host: string; port: number } {
  const l = cfg.advertisedListeners.find((x) => x.name === listenerName) ?? cfg.listeners.find((x) => x.name === listenerName) ?? cfg.listeners[0]!;
  const host = l.host === "" || l.host === "0.0.0.0" || l.host === "::" ? "localhost" : l.host;
  return { host, port: l.port };
}
