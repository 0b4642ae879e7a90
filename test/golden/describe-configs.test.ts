// Golden bytes: DescribeConfigs (key 32), versions 0-4 (v4 flexible: request
// header v2, response header v1). Checked field by field against
// DescribeConfigsRequest.json / DescribeConfigsResponse.json:
//
//   request:  resources ARRAY[resource_type int8, resource_name STRING,
//             configuration_keys nullable ARRAY[STRING]],
//             include_synonyms bool (v1+), include_documentation bool (v3+)
//   response: throttle_time_ms int32, results ARRAY[error_code int16,
//             error_message nullable STRING, resource_type int8, resource_name
//             STRING, configs ARRAY[name, value (nullable), read_only,
//             is_default (v0 only), config_source int8 (v1+), is_sensitive,
//             synonyms (v1+) ARRAY[name, value (nullable), source int8],
//             config_type int8 (v3+), documentation nullable STRING (v3+)]]
//
// Kafka 4 removed v0 (KIP-896): not advertised, a v0 request closes the
// connection. error_message is "" (not null) when there is no error, and for
// an unknown topic, as Kafka 4.4 sends it. Config sources: 1 topic record,
// 4 static broker config, 5 default. Synonyms are listed layer by layer and
// start at the topic key's primary broker key: retention.ms set on the topic
// has only its own entry, since log.retention.ms is set nowhere.
//
// Data: node 1 started with log.segment.bytes=2000000; topic "dc-t" with the
// ConfigRecord retention.ms=3600000. Keys asked: retention.ms, segment.bytes,
// cleanup.policy and "nope" (unknown: left out); they come back in catalog
// order (segment.bytes, retention.ms, cleanup.policy).

import { afterAll, beforeAll, describe, test } from "bun:test";
import { startInProcess, type InProcessBroker } from "../helpers.ts";
import { TAGS, arr, bool, carr, cstr, exchange, expectClosed, i16, i32, i8, requestHeader, responseHeader, str } from "./hex.ts";
import { TOPIC_CONFIGS } from "../../src/config/catalog.ts";

const flex = (v: number) => v >= 4;
const s = (v: number, x: string) => (flex(v) ? cstr(x) : str(x));
const ns = (v: number, x: string | null) => (x === null ? (flex(v) ? "00" : "ffff") : s(v, x));
const a = (v: number, n: number) => (flex(v) ? carr(n) : arr(n));
const tags = (v: number, what: string) => (flex(v) ? `${TAGS}  # ${what} tagged fields: none` : "");

interface Resource {
  type: number;
  name: string;
  keys: string[] | null;
}

function request(v: number, corr: number, resources: Resource[], synonyms: boolean, docs: boolean): string {
  const res = resources.map(
    (r) => `
      ${i8(r.type)}  # resource_type = ${r.type}
      ${s(v, r.name)}  # resource_name = "${r.name}"
      ${r.keys === null ? (flex(v) ? "00" : "ffffffff") + "  # configuration_keys = null" : `${a(v, r.keys.length)}  # configuration_keys: ${r.keys.length}\n${r.keys.map((k) => `        ${s(v, k)}  # "${k}"`).join("\n")}`}
      ${tags(v, "resource")}`,
  );
  return `
    ${requestHeader(32, v, corr, flex(v))}
    ${a(v, resources.length)}  # resources: ${resources.length}
    ${res.join("\n")}
    ${v >= 1 ? `${bool(synonyms)}  # include_synonyms = ${synonyms}` : ""}
    ${v >= 3 ? `${bool(docs)}  # include_documentation = ${docs}` : ""}
    ${tags(v, "request")}`;
}

interface Config {
  name: string;
  value: string | null;
  readOnly: boolean;
  source: number;
  type: number;
  synonyms: [string, string | null, number][];
}

function config(v: number, c: Config, synonyms: boolean, docs: boolean): string {
  const syn = synonyms ? c.synonyms : [];
  const doc = docs ? (TOPIC_CONFIGS.get(c.name)?.doc ?? null) : null;
  return `
        ${s(v, c.name)}  # name = "${c.name}"
        ${ns(v, c.value)}  # value = ${JSON.stringify(c.value)}
        ${bool(c.readOnly)}  # read_only = ${c.readOnly}
        ${v === 0 ? `${bool(c.source === 5)}  # is_default` : `${i8(c.source)}  # config_source = ${c.source}`}
        ${bool(false)}  # is_sensitive = false
        ${v >= 1 ? `${a(v, syn.length)}  # synonyms: ${syn.length}` : ""}
        ${syn.map(([n, val, src]) => `          ${s(v, n)} ${ns(v, val)} ${i8(src)} ${flex(v) ? TAGS : ""}  # synonym ${n}=${val} source ${src}`).join("\n")}
        ${v >= 3 ? `${i8(c.type)}  # config_type = ${c.type}` : ""}
        ${v >= 3 ? `${ns(v, doc)}  # documentation${doc === null ? " = null" : ""}` : ""}
        ${tags(v, "config")}`;
}

function result(v: number, error: number, message: string | null, type: number, name: string, configs: string[]): string {
  return `
      ${i16(error)}  # error_code = ${error}
      ${ns(v, message)}  # error_message = ${JSON.stringify(message)}
      ${i8(type)}  # resource_type = ${type}
      ${s(v, name)}  # resource_name = "${name}"
      ${a(v, configs.length)}  # configs: ${configs.length}
      ${configs.join("\n")}
      ${tags(v, "result")}`;
}

function response(v: number, corr: number, results: string[]): string {
  return `
    ${responseHeader(corr, flex(v))}
    ${i32(0)}  # throttle_time_ms = 0
    ${a(v, results.length)}  # results: ${results.length}
    ${results.join("\n")}
    ${tags(v, "response")}`;
}

const SEGMENT_BYTES: Config = { name: "segment.bytes", value: "2000000", readOnly: false, source: 4, type: 3, synonyms: [["log.segment.bytes", "2000000", 4], ["log.segment.bytes", "1073741824", 5]] };
const RETENTION_MS: Config = { name: "retention.ms", value: "3600000", readOnly: false, source: 1, type: 5, synonyms: [["retention.ms", "3600000", 1]] };
const CLEANUP_POLICY: Config = { name: "cleanup.policy", value: "delete", readOnly: false, source: 5, type: 7, synonyms: [["log.cleanup.policy", "delete", 5]] };
const TOPIC_KEYS = ["retention.ms", "segment.bytes", "cleanup.policy", "nope"];

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startInProcess({ "node.id": "1", "log.segment.bytes": "2000000" });
  kafka.storage.createTopic("dc-t", 1);
  kafka.broker.metadata.alterTopicConfigs("dc-t", { "retention.ms": "3600000" });
});
afterAll(() => kafka.close());

describe("DescribeConfigs golden bytes", () => {
  test("v0: removed in Kafka 4 (KIP-896): the connection closes", async () => {
    await expectClosed(kafka.connect(), request(0, 800, [{ type: 2, name: "dc-t", keys: TOPIC_KEYS }], false, false));
  });

  for (const v of [1, 2, 3, 4]) {
    test(`v${v}: a topic's own key, a static broker synonym and a default; unknown key left out`, async () => {
      const configs = [SEGMENT_BYTES, RETENTION_MS, CLEANUP_POLICY].map((c) => config(v, c, false, false));
      await exchange(kafka.connect(), request(v, 810 + v, [{ type: 2, name: "dc-t", keys: TOPIC_KEYS }], false, false), response(v, 810 + v, [result(v, 0, "", 2, "dc-t", configs)]));
    });

    test(`v${v}: with synonyms${v >= 3 ? " and documentation" : ""}`, async () => {
      const configs = [SEGMENT_BYTES, RETENTION_MS, CLEANUP_POLICY].map((c) => config(v, c, true, v >= 3));
      await exchange(kafka.connect(), request(v, 820 + v, [{ type: 2, name: "dc-t", keys: TOPIC_KEYS }], true, true), response(v, 820 + v, [result(v, 0, "", 2, "dc-t", configs)]));
    });

    test(`v${v}: unknown topic, illegal topic name, broker 1, broker 2, unknown broker name`, async () => {
      const brokerKeys = ["num.partitions", "log.segment.bytes", "log.retention.ms"];
      const broker1 = [
        { name: "num.partitions", value: "1", readOnly: true, source: 5, type: 3, synonyms: [["num.partitions", "1", 5]] },
        { name: "log.segment.bytes", value: "2000000", readOnly: false, source: 4, type: 3, synonyms: SEGMENT_BYTES.synonyms },
        { name: "log.retention.ms", value: null, readOnly: false, source: 5, type: 5, synonyms: [] },
      ] as Config[];
      await exchange(
        kafka.connect(),
        request(
          v,
          830 + v,
          [
            { type: 2, name: "dc-none", keys: null },
            { type: 2, name: "a b", keys: null },
            { type: 4, name: "1", keys: brokerKeys },
            { type: 4, name: "2", keys: null },
            { type: 4, name: "x", keys: null },
          ],
          true,
          false,
        ),
        response(v, 830 + v, [
          result(v, 3, "", 2, "dc-none", []),
          result(v, 17, "Topic name is invalid: 'a b' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'", 2, "a b", []),
          // the broker layer of synonyms: static then default; documentation not asked for
          result(v, 0, "", 4, "1", broker1.map((c) => config(v, c, true, false))),
          result(v, 42, "Unexpected broker id, expected 1 or empty string, but received 2", 4, "2", []),
          result(v, 42, "Broker id must be an integer, but it is: x", 4, "x", []),
        ]),
      );
    });
  }

  test("v4: cluster-default broker resource \"\" lists only the dynamic defaults set (none here)", async () => {
    await exchange(kafka.connect(), request(4, 840, [{ type: 4, name: "", keys: null }], true, false), response(4, 840, [result(4, 0, "", 4, "", [])]));
  });
});
