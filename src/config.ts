// Broker configuration with Kafka's names and defaults (server.properties).
// Keys we do not use (process.roles, controller.quorum.voters, ...) are accepted
// and ignored, so a real Kafka server.properties works unchanged.

export class ConfigError extends Error {}

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
  logSegmentBytes: number;
  messageMaxBytes: number;
  socketRequestMaxBytes: number;
  logLevel: string;
  /** max.request.partition.size.limit: most partitions one DescribeTopicPartitions response carries */
  maxRequestPartitionSizeLimit: number;
  /** every key as given, for DescribeConfigs later */
  raw: Map<string, string>;
}

export const DEFAULTS: Record<string, string> = {
  "node.id": "1",
  listeners: "PLAINTEXT://:9092",
  "log.dir": "/tmp/kafka-logs",
  "num.partitions": "1",
  "auto.create.topics.enable": "true",
  "log.segment.bytes": "1073741824",
  "message.max.bytes": "1048588",
  "socket.request.max.bytes": "104857600",
  "log.level": "info",
  "max.request.partition.size.limit": "2000",
  "listener.security.protocol.map": "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT",
};

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

function int(raw: Map<string, string>, key: string, min: number, max = 2 ** 31 - 1): number {
  const v = raw.get(key) ?? DEFAULTS[key]!;
  if (!/^-?\d+$/.test(v.trim())) throw new ConfigError(`${key}: '${v}' is not an integer`);
  const n = Number(v.trim());
  if (n < min || n > max) throw new ConfigError(`${key}: ${n} is out of range [${min}, ${max}]`);
  return n;
}

function bool(raw: Map<string, string>, key: string): boolean {
  const v = (raw.get(key) ?? DEFAULTS[key]!).trim().toLowerCase();
  if (v !== "true" && v !== "false") throw new ConfigError(`${key}: '${v}' is not true or false`);
  return v === "true";
}

export function buildConfig(raw: Map<string, string>): BrokerConfig {
  const protocols = parseSecurityProtocolMap(raw.get("listener.security.protocol.map") ?? DEFAULTS["listener.security.protocol.map"]!);
  // The broker serves its client listeners; a CONTROLLER listener from a combined-mode file is ignored
  // (Kafka maps a controller listener missing from the map to PLAINTEXT).
  const controllerNames = new Set((raw.get("controller.listener.names") ?? "").split(",").map((s) => s.trim().toUpperCase()));
  for (const n of controllerNames) if (n && !protocols.has(n)) protocols.set(n, "PLAINTEXT");
  const listeners = parseListeners(raw.get("listeners") ?? DEFAULTS.listeners!, "listeners", protocols);
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
  const logDirs = (raw.get("log.dirs") ?? raw.get("log.dir") ?? DEFAULTS["log.dir"]!).split(",").map((s) => s.trim()).filter(Boolean);
  if (logDirs.length === 0) throw new ConfigError("log.dirs: empty");
  const logLevel = (raw.get("log.level") ?? DEFAULTS["log.level"]!).toLowerCase();
  if (!["debug", "info", "warn", "error"].includes(logLevel)) throw new ConfigError(`log.level: '${logLevel}' is not debug, info, warn or error`);
  return {
    nodeId: int(raw, "node.id", 0),
    listeners: clientListeners,
    advertisedListeners: advertised,
    logDir: logDirs[0]!,
    numPartitions: int(raw, "num.partitions", 1, 100000),
    autoCreateTopicsEnable: bool(raw, "auto.create.topics.enable"),
    logSegmentBytes: int(raw, "log.segment.bytes", 14),
    messageMaxBytes: int(raw, "message.max.bytes", 0),
    socketRequestMaxBytes: int(raw, "socket.request.max.bytes", 1),
    logLevel,
    maxRequestPartitionSizeLimit: int(raw, "max.request.partition.size.limit", 1),
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
