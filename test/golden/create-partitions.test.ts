// Golden bytes: CreatePartitions (key 37), versions 0-3 (v2+ flexible:
// request header v2, response header v1). Checked field by field against
// CreatePartitionsRequest.json / CreatePartitionsResponse.json:
//
//   request:  topics ARRAY[name STRING, count int32, assignments nullable
//             ARRAY[broker_ids ARRAY[int32]]], timeout_ms int32, validate_only bool
//   response: throttle_time_ms int32, results ARRAY[name STRING, error_code
//             int16, error_message nullable STRING]
//
// As Kafka 4.4's controller: only growing (the same count or fewer is
// INVALID_PARTITIONS, 37, with Kafka's messages); an unknown topic is
// UNKNOWN_TOPIC_OR_PARTITION (3) with a null message; a name listed twice is
// answered once, first, INVALID_REQUEST (42); assignments one per new
// partition, our broker only (INVALID_REPLICA_ASSIGNMENT, 39); error_message
// null on success; validate_only writes nothing.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startInProcess, type InProcessBroker } from "../helpers.ts";
import { TAGS, arr, bool, carr, cstr, exchange, i16, i32, requestHeader, responseHeader, str } from "./hex.ts";

const flex = (v: number) => v >= 2;
const s = (v: number, x: string) => (flex(v) ? cstr(x) : str(x));
const ns = (v: number, x: string | null) => (x === null ? (flex(v) ? "00" : "ffff") : s(v, x));
const a = (v: number, n: number) => (flex(v) ? carr(n) : arr(n));
const tags = (v: number, what: string) => (flex(v) ? `${TAGS}  # ${what} tagged fields: none` : "");

interface Topic {
  name: string;
  count: number;
  assignments?: number[][] | null;
}

function request(v: number, corr: number, topics: Topic[], validateOnly = false): string {
  const t = topics.map((x) => {
    const as = x.assignments ?? null;
    return `
      ${s(v, x.name)}  # name = "${x.name}"
      ${i32(x.count)}  # count = ${x.count}
      ${as === null ? `${flex(v) ? "00" : "ffffffff"}  # assignments = null` : `${a(v, as.length)}  # assignments: ${as.length}`}
      ${(as ?? []).map((ids) => `        ${a(v, ids.length)} ${ids.map(i32).join(" ")} ${flex(v) ? TAGS : ""}  # brokers ${ids.join(",")}`).join("\n")}
      ${tags(v, "topic")}`;
  });
  return `
    ${requestHeader(37, v, corr, flex(v))}
    ${a(v, topics.length)}  # topics: ${topics.length}
    ${t.join("\n")}
    ${i32(30000)}  # timeout_ms = 30000
    ${bool(validateOnly)}  # validate_only = ${validateOnly}
    ${tags(v, "request")}`;
}

function result(v: number, name: string, error: number, message: string | null): string {
  return `
      ${s(v, name)}  # name = "${name}"
      ${i16(error)}  # error_code = ${error}
      ${ns(v, message)}  # error_message = ${JSON.stringify(message)}
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

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startInProcess({ "node.id": "1" });
});
afterAll(() => kafka.close());

const parts = (name: string) => kafka.storage.image.topics.get(name)?.partitions.length;

describe("CreatePartitions golden bytes", () => {
  for (const v of [0, 1, 2, 3]) {
    test(`v${v}: validate_only, then grow 1 -> 3 with assignments, then equal, shrink, unknown, a name twice`, async () => {
      const name = `cp-v${v}`;
      kafka.storage.createTopic(name, 1);
      await exchange(kafka.connect(), request(v, 950 + v, [{ name, count: 4 }], true), response(v, 950 + v, [result(v, name, 0, null)]));
      expect(parts(name)).toBe(1);
      await exchange(kafka.connect(), request(v, 955 + v, [{ name, count: 3, assignments: [[1], [1]] }]), response(v, 955 + v, [result(v, name, 0, null)]));
      expect(parts(name)).toBe(3);
      expect(kafka.storage.getPartition(name, 2)).toBeDefined();
      await exchange(
        kafka.connect(),
        request(v, 960 + v, [
          { name: "cp-none", count: 2 },
          { name, count: 3 },
          { name: `cp-dup-v${v}`, count: 2 },
          { name, count: 2 },
          { name: `cp-dup-v${v}`, count: 2 },
        ]),
        response(v, 960 + v, [
          // the name listed twice first (both of `name`'s entries count as twice too)
          result(v, name, 42, "Duplicate topic name."),
          result(v, `cp-dup-v${v}`, 42, "Duplicate topic name."),
          result(v, "cp-none", 3, null),
        ]),
      );
      await exchange(
        kafka.connect(),
        request(v, 965 + v, [{ name, count: 3 }, { name: `${name}-other`, count: 1 }]),
        response(v, 965 + v, [result(v, name, 37, "Topic already has 3 partition(s)."), result(v, `${name}-other`, 3, null)]),
      );
      await exchange(kafka.connect(), request(v, 970 + v, [{ name, count: 2 }]), response(v, 970 + v, [result(v, name, 37, `The topic ${name} currently has 3 partition(s); 2 would not be an increase.`)]));
      await exchange(
        kafka.connect(),
        request(v, 975 + v, [{ name, count: 5, assignments: [[1]] }]),
        response(v, 975 + v, [result(v, name, 39, "Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.")]),
      );
      await exchange(
        kafka.connect(),
        request(v, 980 + v, [{ name, count: 4, assignments: [[2]] }]),
        response(v, 980 + v, [result(v, name, 39, "The manual partition assignment includes broker 2, but no such broker is registered.")]),
      );
      expect(parts(name)).toBe(3);
    });
  }
});
