// DescribeConfigs (key 32), versions 0-4, answered as Kafka 4.4's ConfigHelper
// does for one KRaft node without an authorizer:
// - TOPIC: an illegal name is INVALID_TOPIC_EXCEPTION with Topic.validate's
//   message; an unknown topic UNKNOWN_TOPIC_OR_PARTITION; else every topic key
//   of the catalog (or those of configuration_keys that it knows: unknown keys
//   are left out, no error). Value is the effective one; source the first
//   synonym's (topic record, then each broker layer); never read-only.
// - BROKER: our node id lists the catalog's Kafka broker keys (Kafka lists
//   every key it has, hundreds: a deliberate deviation); "" the cluster-default
//   dynamic keys that are set; another id or a non-number INVALID_REQUEST.
//   Read-only unless the key is dynamically updatable. Keys Kafka defines as
//   internal (producer.id.expiration.check.interval.ms) are listed only when
//   set in server.properties, as Kafka's allConfigs does.
// - BROKER_LOGGER: our node id lists the root logger at our log.level;
//   CLIENT_METRICS: a subscription's three keys at their defaults (none can be
//   set yet); GROUP: an empty list (Kafka lists its group keys, which our
//   catalog does not have: a known deviation); an empty name is INVALID_REQUEST.
// - a resource of any other type fails the whole request, as Kafka's
//   authorization pass does: every result INVALID_REQUEST, the generic message.
// v0 (removed by KIP-896) is not advertised and closes the connection, as Kafka 4.
// error_message is "" when there is none, as Kafka 4.4 sends it (not null).
// Synonyms (v1+, include_synonyms) follow Kafka's configSynonyms: layer by
// layer (per-broker dynamic, cluster default, static, default), each layer in
// the synonym order, then everything before the key itself is dropped (that
// is Kafka's: a topic key's synonyms start at its primary broker key, so
// retention.ms has none unless log.retention.ms is set somewhere).
// Sensitive (password) values are null.

import { DescribeConfigsRequest, DescribeConfigsResponse } from "../protocol/messages/describe-configs.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { Encodable } from "../protocol/schema.ts";
import { BROKER_CONFIGS, CONFIG_TYPE_CODE, ConfigSource, TOPIC_CONFIGS, type ConfigKey, type ConfigSourceCode } from "../config/catalog.ts";
import type { ConfigResolver } from "../config/resolve.ts";
import { validateTopicName } from "../metadata/store.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";

type Response = Encodable<typeof DescribeConfigsResponse>;
type Result = Response["results"][number];
type Entry = Result["configs"][number];
type Synonym = Entry["synonyms"][number];

/** Kafka's ConfigResource.Type ids. */
const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8, CLIENT_METRICS: 16, GROUP: 32 } as const;
const KNOWN_TYPES = new Set<number>(Object.values(ResourceType));
/** Kafka's ConfigSource for loggers. */
const DYNAMIC_BROKER_LOGGER_CONFIG = 6;
const LAYERS: ConfigSourceCode[] = [ConfigSource.DYNAMIC_BROKER_CONFIG, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, ConfigSource.STATIC_BROKER_CONFIG, ConfigSource.DEFAULT_CONFIG];

class InvalidRequest extends Error {}

/** Every broker key that stands for the same setting as `name`, in Kafka's order (DynamicBrokerConfig.brokerConfigSynonyms). */
function brokerSynonymGroup(name: string): string[] {
  for (const t of TOPIC_CONFIGS.values()) {
    const names = t.synonyms.map((s) => s.name);
    // the ms/minutes/hours groups stand for each other; log.flush.interval.ms falls back to
    // log.flush.scheduler.interval.ms but not the other way round
    if (names.length > 1 && (names[0] === name || t.synonyms.some((s) => s.name === name && s.unit))) return names;
  }
  return [name];
}

/** A client metrics subscription's keys (ClientMetricsConfigs), at their defaults. */
const CLIENT_METRICS_KEYS = [
  { name: "interval.ms", value: "300000", configType: CONFIG_TYPE_CODE.int, doc: "Metrics push interval in milliseconds" },
  { name: "match", value: "", configType: CONFIG_TYPE_CODE.list, doc: "Client match criteria" },
  { name: "metrics", value: "", configType: CONFIG_TYPE_CODE.list, doc: "Telemetry metric name prefix list" },
];
/** Errors.INVALID_REQUEST's own message, which Kafka sends when the whole request fails. */
const INVALID_REQUEST_MESSAGE =
  "This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details.";

/** A broker key's default as Kafka's staticDefaultConfigs has it; for synonyms outside the catalog, the topic key's default in the synonym's unit. */
function brokerDefault(name: string, topicKey?: ConfigKey): string | null {
  const b = BROKER_CONFIGS.get(name);
  if (b) return b.kafkaDefault !== undefined ? b.kafkaDefault : b.default;
  const s = topicKey?.synonyms.find((x) => x.name === name);
  if (!topicKey || !s || topicKey.default === null) return null;
  // in an ms/hours group the ms key has no default (log.roll.jitter.ms): the hours key carries it
  if (!s.unit) return topicKey.synonyms.some((x) => x.unit) ? null : topicKey.default;
  return String(Number(topicKey.default) / (s.unit === "hours" ? 3_600_000 : 60_000));
}

/** Kafka's configSynonyms: each layer in turn, each synonym in order, dropped up to `primary`. */
function synonyms(resolver: ConfigResolver, primary: string, names: readonly string[], sensitive: boolean, topicKey?: ConfigKey): Synonym[] {
  const out: Synonym[] = [];
  for (const source of LAYERS) {
    for (const n of names) {
      const v = source === ConfigSource.DEFAULT_CONFIG ? brokerDefault(n, topicKey) : (resolver.layer(n, source) ?? null);
      if (v === null) continue;
      out.push({ name: n, value: sensitive ? null : v, source });
    }
  }
  const first = out.findIndex((s) => s.name === primary);
  return first < 0 ? [] : out.slice(first);
}

function entry(key: ConfigKey, value: string | null, readOnly: boolean, all: Synonym[], includeSynonyms: boolean, includeDocumentation: boolean): Entry {
  const source = all.length === 0 ? ConfigSource.DEFAULT_CONFIG : all[0]!.source;
  return {
    name: key.name,
    value: key.sensitive ? null : value,
    readOnly,
    isDefault: source === ConfigSource.DEFAULT_CONFIG,
    configSource: source,
    isSensitive: key.sensitive,
    synonyms: includeSynonyms ? all : [],
    configType: CONFIG_TYPE_CODE[key.type],
    documentation: includeDocumentation ? key.doc : null,
  };
}

/** Only the requested keys (null or empty: every key); unknown ones are left out, as Kafka. */
function pick<T extends { name: string }>(keys: Iterable<T>, wanted: readonly string[] | null): T[] {
  const all = [...keys];
  if (wanted === null || wanted.length === 0) return all;
  const set = new Set(wanted);
  return all.filter((k) => set.has(k.name));
}

function brokerId(name: string): number {
  // Kafka's resourceNameToBrokerId: Integer.parseInt
  if (!/^[+-]?\d+$/.test(name) || Math.abs(Number(name)) > 2 ** 31 - 1) throw new InvalidRequest(`Broker id must be an integer, but it is: ${name}`);
  return Number(name);
}

export const describeConfigs = defineHandler({
  key: 32,
  name: "DescribeConfigs",
  request: DescribeConfigsRequest,
  response: DescribeConfigsResponse,
  minVersion: 1,
  maxVersion: 4,
  handle(req, { broker }): HandlerResult<Response> {
    const resolver = broker.metadata.configs;
    const image = broker.storage.image;
    const includeSynonyms = req.includeSynonyms ?? false;
    const includeDocumentation = req.includeDocumentation ?? false;

    const describe = (type: number, name: string, wanted: readonly string[] | null): Result => {
      const ok = (configs: Entry[]): Result => ({ errorCode: ErrorCode.NONE, errorMessage: "", resourceType: type, resourceName: name, configs });
      switch (type) {
        case ResourceType.TOPIC: {
          const bad = validateTopicName(name);
          if (bad) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: bad, resourceType: type, resourceName: name, configs: [] };
          if (!image.topics.has(name)) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: "", resourceType: type, resourceName: name, configs: [] };
          return ok(
            pick(TOPIC_CONFIGS.values(), wanted).map((key) => {
              const own = resolver.topicOwn(name, key.name);
              const primary = key.synonyms[0]?.name;
              const all = primary ? synonyms(resolver, primary, key.synonyms.map((s) => s.name), key.sensitive, key) : [];
              if (own !== undefined) all.unshift({ name: key.name, value: key.sensitive ? null : own, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
              return entry(key, resolver.topic(name, key.name).text, false, all, includeSynonyms, includeDocumentation);
            }),
          );
        }
        case ResourceType.BROKER: {
          // Kafka's allConfigs: the originals plus nonInternalValues, so an internal key only where server.properties sets it
          const keys = [...BROKER_CONFIGS.values()].filter((k) => k.kafka && (!k.internal || resolver.layer(k.name, ConfigSource.STATIC_BROKER_CONFIG) !== undefined));
          if (name === "") {
            // the cluster default: only the keys set there, only that layer
            const set = pick(keys, wanted).filter((k) => resolver.layer(k.name, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG) !== undefined);
            return ok(
              set.map((key) => {
                const all = synonyms(resolver, key.name, brokerSynonymGroup(key.name), key.sensitive).filter((s) => s.source === ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
                return entry(key, resolver.layer(key.name, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG)!, key.updateMode === "read-only", all, includeSynonyms, includeDocumentation);
              }),
            );
          }
          const id = brokerId(name);
          if (id !== resolver.nodeId) throw new InvalidRequest(`Unexpected broker id, expected ${resolver.nodeId} or empty string, but received ${name}`);
          return ok(
            pick(keys, wanted).map((key) => {
              const all = synonyms(resolver, key.name, brokerSynonymGroup(key.name), key.sensitive);
              return entry(key, resolver.broker(key).text, key.updateMode === "read-only", all, includeSynonyms, includeDocumentation);
            }),
          );
        }
        case ResourceType.BROKER_LOGGER: {
          if (name === "") throw new InvalidRequest("Broker id must not be empty");
          const id = brokerId(name);
          if (id !== resolver.nodeId) throw new InvalidRequest(`Unexpected broker id, expected ${resolver.nodeId} but received ${name}`);
          const level = String(resolver.broker(BROKER_CONFIGS.get("log.level")!).value).toUpperCase();
          // Kafka leaves a logger's type and documentation unset: 0 and ""
          const loggers = pick([{ name: "root", level }], wanted);
          return ok(
            loggers.map((l) => ({ name: l.name, value: l.level, readOnly: false, isDefault: false, configSource: DYNAMIC_BROKER_LOGGER_CONFIG, isSensitive: false, synonyms: [], configType: 0, documentation: "" })),
          );
        }
        case ResourceType.CLIENT_METRICS:
          if (name === "") throw new InvalidRequest("Client metrics subscription name must not be empty");
          return ok(
            pick(CLIENT_METRICS_KEYS, wanted).map((k) => ({
              name: k.name,
              value: k.value,
              readOnly: false,
              isDefault: true,
              configSource: ConfigSource.DEFAULT_CONFIG,
              isSensitive: false,
              synonyms: [],
              configType: k.configType,
              documentation: includeDocumentation ? k.doc : null,
            })),
          );
        case ResourceType.GROUP:
          if (name === "") throw new InvalidRequest("Group name must not be empty");
          return ok([]);
        default:
          throw new InvalidRequest(`Unsupported resource type: ${type}`);
      }
    };

    if (req.resources.some((r) => !KNOWN_TYPES.has(r.resourceType))) {
      const results = req.resources.map((r): Result => ({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: INVALID_REQUEST_MESSAGE, resourceType: r.resourceType, resourceName: r.resourceName, configs: [] }));
      return { throttleTimeMs: 0, results };
    }
    const results = req.resources.map((r): Result => {
      try {
        return describe(r.resourceType, r.resourceName, r.configurationKeys);
      } catch (e) {
        if (!(e instanceof InvalidRequest)) throw e;
        return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: e.message, resourceType: r.resourceType, resourceName: r.resourceName, configs: [] };
      }
    });
    return { throttleTimeMs: 0, results };
  },
});
