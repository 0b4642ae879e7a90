// Golden bytes: CreateTopics (key 19), versions 2-7 (v5+ flexible: request
// header v2, response header v1). Checked field by field against
// CreateTopicsRequest.json / CreateTopicsResponse.json:
//
//   request:  topics ARRAY[name STRING, num_partitions int32,
//             replication_factor int16, assignments ARRAY[partition_index
//             int32, broker_ids ARRAY[int32]], configs ARRAY[name STRING,
//             value nullable STRING]], timeout_ms int32, validate_only bool (v1+)
//   response: throttle_time_ms int32 (v2+), topics ARRAY[name STRING,
//             topic_id uuid (v7+), error_code int16, error_message nullable
//             STRING (v1+), num_partitions int32 (v5+), replication_factor
//             int16 (v5+), configs nullable ARRAY (v5+)[name, value (nullable),
//             read_only bool, config_source int8, is_sensitive bool],
//             tagged topic_config_error_code (tag 0, v5+: 0, so not written)]
//
// Kafka 4 removed v0-1 (KIP-896): not advertised, such a request closes the
// connection. error_message is null on success. From v5 a success lists every
// topic key, sorted by name, with its value and source (1 the request's own,
// 4 static broker config, 5 default); an error has -1, -1 and no configs.
// A name listed twice is answered once, last, INVALID_REQUEST.
//
// Data: node 1 started with num.partitions=2 and log.segment.bytes=2000000.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startInProcess, type InProcessBroker } from "../helpers.ts";
import { TAGS, arr, bool, carr, cstr, exchange, expectBytes, expectClosed, frame, i16, i32, i8, requestHeader, responseHeader, roundTrip, str, uuidHex, ZERO_UUID } from "./hex.ts";
import { TOPIC_CONFIGS } from "../../src/config/catalog.ts";

const flex = (v: number) => v >= 5;
const s = (v: number, x: string) => (flex(v) ? cstr(x) : str(x));
const ns = (v: number, x: string | null) => (x === null ? (flex(v) ? "00" : "ffff") : s(v, x));
const a = (v: number, n: number) => (flex(v) ? carr(n) : arr(n));
const tags = (v: number, what: string) => (flex(v) ? `${TAGS}  # ${what} tagged fields: none` : "");

interface Topic {
  name: string;
  partitions: number;
  factor: number;
  assignments?: [number, number[]][];
  configs?: [string, string | null][];
}

function request(v: number, corr: number, topics: Topic[], validateOnly = false, timeoutMs = 30000): string {
  const t = topics.map((x) => {
    const as = x.assignments ?? [];
    const cs = x.configs ?? [];
    return `
      ${s(v, x.name)}  # name = "${x.name}"
      ${i32(x.partitions)}  # num_partitions = ${x.partitions}
      ${i16(x.factor)}  # replication_factor = ${x.factor}
      ${a(v, as.length)}  # assignments: ${as.length}
      ${as.map(([p, ids]) => `        ${i32(p)} ${a(v, ids.length)} ${ids.map(i32).join(" ")} ${flex(v) ? TAGS : ""}  # partition ${p}: brokers ${ids.join(",")}`).join("\n")}
      ${a(v, cs.length)}  # configs: ${cs.length}
      ${cs.map(([n, val]) => `        ${s(v, n)} ${ns(v, val)} ${flex(v) ? TAGS : ""}  # ${n}=${val}`).join("\n")}
      ${tags(v, "topic")}`;
  });
  return `
    ${requestHeader(19, v, corr, flex(v))}
    ${a(v, topics.length)}  # topics: ${topics.length}
    ${t.join("\n")}
    ${i32(timeoutMs)}  # timeout_ms = ${timeoutMs}
    ${v >= 1 ? `${bool(validateOnly)}  # validate_only = ${validateOnly}` : ""}
    ${tags(v, "request")}`;
}

/** Every topic key sorted by name: the given ones as [value, source], the rest at the catalog's default (source 5). */
function allConfigs(v: number, set: Record<string, [string, number]>): string {
  const names = [...TOPIC_CONFIGS.keys()].sort();
  return [
    `${a(v, names.length)}  # configs: ${names.length}`,
    ...names.map((n) => {
      const key = TOPIC_CONFIGS.get(n)!;
      const [value, source] = set[n] ?? [key.default, 5];
      return `        ${s(v, n)} ${ns(v, key.sensitive ? null : value)} ${bool(false)} ${i8(source)} ${bool(key.sensitive)} ${TAGS}  # ${n}=${value}, read_only false, source ${source}`;
    }),
  ].join("\n");
}

function ok(v: number, name: string, id: Uint8Array, partitions: number, factor: number, set: Record<string, [string, number]>): string {
  return `
      ${s(v, name)}  # name = "${name}"
      ${v >= 7 ? `${uuidHex(id)}  # topic_id` : ""}
      ${i16(0)}  # error_code = 0
      ${ns(v, null)}  # error_message = null
      ${v >= 5 ? `${i32(partitions)}  # num_partitions = ${partitions}` : ""}
      ${v >= 5 ? `${i16(factor)}  # replication_factor = ${factor}` : ""}
      ${v >= 5 ? allConfigs(v, set) : ""}
      ${tags(v, "topic (topic_config_error_code 0: not written)")}`;
}

function failed(v: number, name: string, error: number, message: string | null): string {
  return `
      ${s(v, name)}  # name = "${name}"
      ${v >= 7 ? `${ZERO_UUID}  # topic_id = zero` : ""}
      ${i16(error)}  # error_code = ${error}
      ${ns(v, message)}  # error_message = ${JSON.stringify(message)}
      ${v >= 5 ? `${i32(-1)}  # num_partitions = -1` : ""}
      ${v >= 5 ? `${i16(-1)}  # replication_factor = -1` : ""}
      ${v >= 5 ? `${a(v, 0)}  # configs: 0` : ""}
      ${tags(v, "topic")}`;
}

function response(v: number, corr: number, topics: string[]): string {
  return `
    ${responseHeader(corr, flex(v))}
    ${i32(0)}  # throttle_time_ms = 0
    ${a(v, topics.length)}  # topics: ${topics.length}
    ${topics.join("\n")}
    ${tags(v, "response")}`;
}

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startInProcess({ "node.id": "1", "num.partitions": "2", "log.segment.bytes": "2000000" });
});
afterAll(() => kafka.close());

const OWN_AND_STATIC = { "retention.ms": ["3600000", 1], "segment.bytes": ["2000000", 4] } as Record<string, [string, number]>;

describe("CreateTopics golden bytes", () => {
  for (const v of [0, 1]) {
    test(`v${v}: removed in Kafka 4 (KIP-896): the connection closes`, async () => {
      await expectClosed(kafka.connect(), request(v, 900 + v, [{ name: `ct-old-v${v}`, partitions: 1, factor: 1 }]));
      expect(kafka.storage.image.topics.has(`ct-old-v${v}`)).toBe(false);
    });
  }

  for (const v of [2, 3, 4, 5, 6, 7]) {
    test(`v${v}: broker defaults (-1, -1) and a config of its own`, async () => {
      const name = `ct-v${v}`;
      const got = await roundTrip(kafka.connect(), request(v, 910 + v, [{ name, partitions: -1, factor: -1, configs: [["retention.ms", "3600000"]] }]));
      const t = kafka.storage.image.topics.get(name)!;
      expect(t.partitions.length).toBe(2);
      expect(kafka.broker.metadata.configs.topicOwn(name, "retention.ms")).toBe("3600000");
      expectBytes(got, frame(response(v, 910 + v, [ok(v, name, t.id, 2, 1, OWN_AND_STATIC)])));
    });

    test(`v${v}: assignments for our broker`, async () => {
      const name = `ct-assign-v${v}`;
      const got = await roundTrip(kafka.connect(), request(v, 920 + v, [{ name, partitions: -1, factor: -1, assignments: [[0, [1]], [1, [1]], [2, [1]]] }]));
      const t = kafka.storage.image.topics.get(name)!;
      expect(t.partitions.length).toBe(3);
      expectBytes(got, frame(response(v, 920 + v, [ok(v, name, t.id, 3, 1, { "segment.bytes": ["2000000", 4] })])));
    });

    test(`v${v}: already exists, illegal name, replication factor 2, zero partitions, bad config, unknown broker, a name twice`, async () => {
      const topics: Topic[] = [
        { name: `ct-v${v}`, partitions: 1, factor: 1 },
        { name: "a b", partitions: 1, factor: 1 },
        { name: `ct-rf2-v${v}`, partitions: 1, factor: 2 },
        { name: `ct-p0-v${v}`, partitions: 0, factor: 1 },
        { name: `ct-cfg-v${v}`, partitions: 1, factor: 1, configs: [["no.such.key", "1"]] },
        { name: `ct-null-v${v}`, partitions: 1, factor: 1, configs: [["retention.ms", null]] },
        { name: `ct-b2-v${v}`, partitions: -1, factor: -1, assignments: [[0, [2]]] },
        { name: `ct-dup-v${v}`, partitions: 1, factor: 1 },
        { name: `ct-dup-v${v}`, partitions: 1, factor: 1 },
      ];
      await exchange(
        kafka.connect(),
        request(v, 930 + v, topics),
        response(v, 930 + v, [
          failed(v, `ct-v${v}`, 36, `Topic 'ct-v${v}' already exists.`),
          failed(v, "a b", 17, "Topic name is invalid: 'a b' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"),
          failed(v, `ct-rf2-v${v}`, 38, "Unable to replicate the partition 2 time(s): The target replication factor of 2 cannot be reached because only 1 broker(s) are registered or some brokers have all their log directories cordoned."),
          failed(v, `ct-p0-v${v}`, 37, "Number of partitions was set to an invalid non-positive value."),
          failed(v, `ct-cfg-v${v}`, 40, "Unknown topic config name: no.such.key"),
          failed(v, `ct-null-v${v}`, 40, "Null value not supported for topic configs: retention.ms"),
          failed(v, `ct-b2-v${v}`, 39, "The manual partition assignment includes broker 2, but no such broker is registered."),
          failed(v, `ct-dup-v${v}`, 42, "Duplicate topic name."),
        ]),
      );
      for (const t of topics.slice(2)) expect(kafka.storage.image.topics.has(t.name)).toBe(false);
    });
  }

  test("v4: validate_only answers as a creation would and creates nothing", async () => {
    await exchange(kafka.connect(), request(4, 940, [{ name: "ct-validate", partitions: 3, factor: 1 }], true), response(4, 940, [ok(4, "ct-validate", new Uint8Array(16), 3, 1, {})]));
    expect(kafka.storage.image.topics.has("ct-validate")).toBe(false);
  });

  test("v7: more than 10000 metadata records in one request (1 + 10000 partitions): every topic POLICY_VIOLATION (44), nothing created", async () => {
    await exchange(
      kafka.connect(),
      request(7, 942, [{ name: "ct-big", partitions: 10000, factor: 1 }, { name: "ct-small", partitions: 1, factor: 1 }]),
      response(7, 942, [failed(7, "ct-big", 44, "Excessively large number of partitions per request."), failed(7, "ct-small", 44, "Excessively large number of partitions per request.")]),
    );
    expect(kafka.storage.image.topics.has("ct-big") || kafka.storage.image.topics.has("ct-small")).toBe(false);
  });

  test("v5: timeout_ms 0: the deadline has passed, REQUEST_TIMED_OUT (7) with a null message, nothing created", async () => {
    await exchange(kafka.connect(), request(5, 941, [{ name: "ct-timeout", partitions: 1, factor: 1 }], false, 0), response(5, 941, [failed(5, "ct-timeout", 7, null)]));
    expect(kafka.storage.image.topics.has("ct-timeout")).toBe(false);
  });
});
