// What IncrementalAlterConfigs (44) and AlterConfigs (33) share: Kafka 4.4's
// broker pre-checks (ConfigAdminManager.preprocess) and its controller's
// ConfigurationControlManager, for one KRaft node without an authorizer.
//
// - A resource (type, name) listed twice: both INVALID_REQUEST "Each resource
//   must appear at most once."; a key listed twice in one resource:
//   INVALID_REQUEST "Error due to duplicate config keys"; a null value (except
//   for DELETE): INVALID_REQUEST "Null value not supported for : a, b".
// - TOPIC: the new set of the topic's own keys is computed (SET, DELETE,
//   APPEND/SUBTRACT on list keys, starting from the key's default when the
//   topic has none; AlterConfigs: exactly the keys given), then validated as
//   Kafka's controller does: an empty name INVALID_REQUEST, an illegal one
//   INVALID_TOPIC_EXCEPTION, unknown keys then bad values INVALID_CONFIG,
//   then the topic must exist (UNKNOWN_TOPIC_OR_PARTITION). Only keys whose
//   value changes become ConfigRecords; validate_only writes none.
// - BROKER ("" is the cluster default, else our node id): read-only keys are
//   INVALID_REQUEST "Cannot update these configs dynamically: [...]", and
//   per-broker keys at the cluster default "Cannot update these configs at
//   default cluster level, broker id must be specified: [...]", as Kafka's
//   DynamicBrokerConfig says. Cluster-wide keys of the catalog are applied as
//   BROKER ConfigRecords (effective at once through the resolver's layers).
//   Deviations: per-broker keys (listeners) are refused, since we cannot
//   reconfigure listeners live; keys outside our catalog are refused (Kafka
//   accepts any of its hundreds of keys).
// - an unknown operation: UNKNOWN_SERVER_ERROR without a message (Kafka 4.4
//   fails inside its controller); an unknown resource type INVALID_REQUEST
//   "Unknown resource type 99".
// - BROKER_LOGGER, CLIENT_METRICS, GROUP: refused with INVALID_REQUEST (a
//   deviation: Kafka applies them; we have no loggers, subscriptions or group
//   configs to change yet).

import { ErrorCode } from "../protocol/errors.ts";
import { BROKER_CONFIGS, checkValue, ConfigResourceType, TOPIC_CONFIGS } from "../config/catalog.ts";
import { validateTopicName, type MetadataStore } from "../metadata/store.ts";

/** Kafka's AlterConfigOp.OpType ids. */
export const OpType = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;
const OP_NAMES = ["SET", "DELETE", "APPEND", "SUBTRACT"];

export class AlterError extends Error {
  constructor(
    readonly code: number,
    readonly text: string | null,
  ) {
    super(text ?? "");
  }
}

/** Kafka's ConfigResource.Type ids beyond TOPIC and BROKER. */
const ResourceType = { BROKER_LOGGER: 8, CLIENT_METRICS: 16, GROUP: 32 } as const;

export interface AlterOp {
  name: string;
  /** null for AlterConfigs: the whole set is replaced */
  op: number;
  value: string | null;
}

export interface Change {
  resourceType: number;
  resourceName: string;
  name: string;
  value: string | null;
}

export interface AlterResult {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}

/** Kafka's rendering of a key set (a Java Set's toString). */
const javaSet = (keys: string[]) => `[${keys.join(", ")}]`;

/** The broker pre-checks common to every resource: duplicate keys, null values. */
export function precheck(ops: readonly AlterOp[], incremental: boolean): void {
  if (new Set(ops.map((o) => o.name)).size !== ops.length) throw new AlterError(ErrorCode.INVALID_REQUEST, "Error due to duplicate config keys");
  const nulls = ops.filter((o) => o.value === null && (!incremental || o.op !== OpType.DELETE)).map((o) => o.name);
  if (nulls.length > 0) throw new AlterError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${nulls.join(", ")}`);
}

/** The topic's own keys after `ops` (incremental) or replaced by them; throws AlterError. */
function newTopicSet(current: ReadonlyMap<string, string>, ops: readonly AlterOp[], incremental: boolean): Map<string, string> {
  if (!incremental) return new Map(ops.map((o) => [o.name, o.value!]));
  const next = new Map(current);
  for (const o of ops) {
    switch (o.op) {
      case OpType.SET:
        next.set(o.name, o.value!);
        break;
      case OpType.DELETE:
        next.delete(o.name);
        break;
      case OpType.APPEND:
      case OpType.SUBTRACT: {
        const key = TOPIC_CONFIGS.get(o.name);
        if (!key || key.type !== "list") throw new AlterError(ErrorCode.INVALID_CONFIG, `Can't ${OP_NAMES[o.op]} to key ${o.name} because its type is not LIST.`);
        const old = next.get(o.name) ?? key.default ?? "";
        const parts = old.split(",").filter((p) => p !== "");
        for (const v of o.value!.split(",")) {
          if (o.op === OpType.APPEND) {
            if (!parts.includes(v)) parts.push(v);
          } else {
            const i = parts.indexOf(v);
            if (i >= 0) parts.splice(i, 1);
          }
        }
        next.set(o.name, parts.join(","));
        break;
      }
      default:
        // Kafka 4.4 fails on it inside the controller: UNKNOWN_SERVER_ERROR, no message
        throw new AlterError(ErrorCode.UNKNOWN_SERVER_ERROR, null);
    }
  }
  return next;
}

/** Validates a topic change and returns its ConfigRecords (only keys whose value changes). Throws AlterError. */
export function topicChanges(store: MetadataStore, topic: string, ops: readonly AlterOp[], incremental: boolean): Change[] {
  const current = store.image.topicConfigs.get(topic) ?? new Map<string, string>();
  const next = newTopicSet(current, ops, incremental);
  if (topic === "") throw new AlterError(ErrorCode.INVALID_REQUEST, "Default topic resources are not allowed.");
  const bad = validateTopicName(topic);
  if (bad) throw new AlterError(ErrorCode.INVALID_TOPIC_EXCEPTION, bad);
  for (const name of next.keys()) if (!TOPIC_CONFIGS.has(name)) throw new AlterError(ErrorCode.INVALID_CONFIG, `Unknown topic config name: ${name}`);
  for (const [name, value] of next) {
    const why = checkValue(TOPIC_CONFIGS.get(name)!, value);
    if (why) throw new AlterError(ErrorCode.INVALID_CONFIG, why);
  }
  if (!store.image.topics.has(topic)) throw new AlterError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${topic}' does not exist.`);
  return diff(ConfigResourceType.TOPIC, topic, current, next);
}

function diff(resourceType: number, resourceName: string, current: ReadonlyMap<string, string>, next: ReadonlyMap<string, string>): Change[] {
  const out: Change[] = [];
  for (const [name, value] of next) if (current.get(name) !== value) out.push({ resourceType, resourceName, name, value });
  for (const name of current.keys()) if (!next.has(name)) out.push({ resourceType, resourceName, name, value: null });
  return out;
}

/** Kafka's validateResourceNameIsCurrentNodeId. */
export function checkNodeId(name: string, nodeId: number): void {
  if (!/^[+-]?\d+$/.test(name) || Math.abs(Number(name)) > 2 ** 31 - 1) throw new AlterError(ErrorCode.INVALID_REQUEST, `Node id must be an integer, but it is: ${name}`);
  if (Number(name) !== nodeId) throw new AlterError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${nodeId}, but received ${name}`);
}

/** Validates a broker change ("" = cluster default) and returns its ConfigRecords. Throws AlterError. */
export function brokerChanges(store: MetadataStore, name: string, ops: readonly AlterOp[], incremental: boolean): Change[] {
  if (name !== "") checkNodeId(name, store.image.nodeId);
  const current = store.image.brokerConfigs.get(name) ?? new Map<string, string>();
  let next: Map<string, string>;
  if (!incremental) next = new Map(ops.map((o) => [o.name, o.value!]));
  else {
    next = new Map(current);
    for (const o of ops) {
      if (o.op === OpType.SET) next.set(o.name, o.value!);
      else if (o.op === OpType.DELETE) next.delete(o.name);
      else if (o.op === OpType.APPEND || o.op === OpType.SUBTRACT) {
        const key = BROKER_CONFIGS.get(o.name);
        if (!key || key.type !== "list") throw new AlterError(ErrorCode.INVALID_CONFIG, `Config value append is not allowed for config key: ${o.name}`);
        const parts = (next.get(o.name) ?? key.default ?? "").split(",").filter((p) => p !== "");
        for (const v of o.value!.split(",")) {
          const i = parts.indexOf(v);
          if (o.op === OpType.APPEND && i < 0) parts.push(v);
          if (o.op === OpType.SUBTRACT && i >= 0) parts.splice(i, 1);
        }
        next.set(o.name, parts.join(","));
      } else throw new AlterError(ErrorCode.INVALID_REQUEST, `Unknown operations type ${o.op}`);
    }
  }
  const changed = diff(ConfigResourceType.BROKER, name, current, next);
  const keys = changed.map((c) => c.name);
  const readOnly = keys.filter((k) => BROKER_CONFIGS.get(k)?.updateMode === "read-only");
  if (readOnly.length > 0) throw new AlterError(ErrorCode.INVALID_REQUEST, `Cannot update these configs dynamically: ${javaSet(readOnly)}`);
  const perBroker = keys.filter((k) => BROKER_CONFIGS.get(k)?.updateMode === "per-broker");
  if (name === "" && perBroker.length > 0) {
    throw new AlterError(ErrorCode.INVALID_REQUEST, `Cannot update these configs at default cluster level, broker id must be specified: ${javaSet(perBroker)}`);
  }
  // deviations: see the header
  if (perBroker.length > 0) throw new AlterError(ErrorCode.INVALID_REQUEST, `Cannot update these configs dynamically on this broker yet: ${javaSet(perBroker)}`);
  const unknown = keys.filter((k) => !BROKER_CONFIGS.get(k)?.kafka);
  if (unknown.length > 0) throw new AlterError(ErrorCode.INVALID_REQUEST, `Cannot update these configs dynamically on this broker yet: ${javaSet(unknown)}`);
  for (const c of changed) {
    if (c.value === null) continue;
    const why = checkValue(BROKER_CONFIGS.get(c.name)!, c.value);
    if (why) throw new AlterError(ErrorCode.INVALID_REQUEST, why);
  }
  return changed;
}

/** Each (type, name) listed more than once: the indexes of every copy. */
export function duplicates(resources: readonly { resourceType: number; resourceName: string }[]): Set<number> {
  const seen = new Map<string, number[]>();
  resources.forEach((r, i) => {
    const k = `${r.resourceType}\u0000${r.resourceName}`;
    seen.set(k, [...(seen.get(k) ?? []), i]);
  });
  return new Set([...seen.values()].filter((l) => l.length > 1).flat());
}

/** Both APIs: each resource checked on its own; the accepted changes written as one batch unless validate_only. */
export function alterConfigs(
  store: MetadataStore,
  resources: readonly { resourceType: number; resourceName: string; configs: readonly AlterOp[] }[],
  validateOnly: boolean,
  incremental: boolean,
): AlterResult[] {
  const dup = duplicates(resources);
  const all: Change[] = [];
  const results = resources.map((r, i): AlterResult => {
    const res = (errorCode: number, errorMessage: string | null): AlterResult => ({ errorCode, errorMessage, resourceType: r.resourceType, resourceName: r.resourceName });
    if (dup.has(i)) return res(ErrorCode.INVALID_REQUEST, "Each resource must appear at most once.");
    try {
      precheck(r.configs, incremental);
      switch (r.resourceType) {
        case ConfigResourceType.TOPIC:
          all.push(...topicChanges(store, r.resourceName, r.configs, incremental));
          break;
        case ConfigResourceType.BROKER:
          all.push(...brokerChanges(store, r.resourceName, r.configs, incremental));
          break;
        case ResourceType.BROKER_LOGGER:
        case ResourceType.CLIENT_METRICS:
        case ResourceType.GROUP:
          // deviation: Kafka changes logger levels, client metrics subscriptions and group configs
          throw new AlterError(ErrorCode.INVALID_REQUEST, `Altering configs of resource type ${r.resourceType} is not supported by this broker yet`);
        default:
          throw new AlterError(ErrorCode.INVALID_REQUEST, `Unknown resource type ${r.resourceType}`);
      }
      return res(ErrorCode.NONE, null);
    } catch (e) {
      if (!(e instanceof AlterError)) throw e;
      return res(e.code, e.text);
    }
  });
  if (!validateOnly) store.writeConfigRecords(all);
  return results;
}
