// Golden bytes: IncrementalAlterConfigs (key 44) v0-1 (v1 flexible) and
// AlterConfigs (key 33) v0-2 (v2 flexible); flexible versions use request
// header v2 and response header v1. Checked field by field against
// IncrementalAlterConfigsRequest/Response.json and AlterConfigsRequest/Response.json:
//
//   request:  resources ARRAY[resource_type int8, resource_name STRING,
//             configs ARRAY[name STRING, config_operation int8 (key 44 only),
//             value nullable STRING]], validate_only bool
//   response: throttle_time_ms int32, responses ARRAY[error_code int16,
//             error_message nullable STRING, resource_type int8, resource_name STRING]
//
// As Kafka 4.4 answers (the differential test compares the same cases):
// error_message null on success; an unknown key or a bad value INVALID_CONFIG
// (40) with Kafka's message; an unknown topic UNKNOWN_TOPIC_OR_PARTITION (3),
// "The topic 'x' does not exist."; a read-only broker key INVALID_REQUEST
// (42) "Cannot update these configs dynamically: [log.dirs]". APPEND to an
// unset list key starts from its default (cleanup.policy: delete).
// AlterConfigs replaces the whole set: keys not given are removed.
// A lowered max.message.bytes applies to the next Produce (MESSAGE_TOO_LARGE).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startInProcess, type InProcessBroker } from "../helpers.ts";
import { BATCH_SIZE, batch } from "./batch.ts";
import { TAGS, arr, bool, carr, cstr, exchange, i16, i32, i64, i8, requestHeader, responseHeader, str } from "./hex.ts";

type Op = [name: string, op: number | null, value: string | null];
type Resource = [type: number, name: string, ops: Op[]];
type Result = [error: number, message: string | null, type: number, name: string];

/** key 44 (flexible from v1) or 33 (flexible from v2) */
function codec(key: 33 | 44, v: number) {
  const flex = key === 44 ? v >= 1 : v >= 2;
  const s = (x: string) => (flex ? cstr(x) : str(x));
  const ns = (x: string | null) => (x === null ? (flex ? "00" : "ffff") : s(x));
  const a = (n: number) => (flex ? carr(n) : arr(n));
  const tags = (what: string) => (flex ? `${TAGS}  # ${what} tagged fields: none` : "");
  const request = (corr: number, resources: Resource[], validateOnly = false) => `
    ${requestHeader(key, v, corr, flex)}
    ${a(resources.length)}  # resources: ${resources.length}
    ${resources
      .map(
        ([type, name, ops]) => `
      ${i8(type)}  # resource_type = ${type}
      ${s(name)}  # resource_name = "${name}"
      ${a(ops.length)}  # configs: ${ops.length}
      ${ops
        .map(
          ([n, op, value]) => `
        ${s(n)}  # name = "${n}"
        ${key === 44 ? `${i8(op!)}  # config_operation = ${op}` : ""}
        ${ns(value)}  # value = ${JSON.stringify(value)}
        ${tags("config")}`,
        )
        .join("\n")}
      ${tags("resource")}`,
      )
      .join("\n")}
    ${bool(validateOnly)}  # validate_only = ${validateOnly}
    ${tags("request")}`;
  const response = (corr: number, results: Result[]) => `
    ${responseHeader(corr, flex)}
    ${i32(0)}  # throttle_time_ms = 0
    ${a(results.length)}  # responses: ${results.length}
    ${results
      .map(
        ([error, message, type, name]) => `
      ${i16(error)}  # error_code = ${error}
      ${ns(message)}  # error_message = ${JSON.stringify(message)}
      ${i8(type)}  # resource_type = ${type}
      ${s(name)}  # resource_name = "${name}"
      ${tags("response")}`,
      )
      .join("\n")}
    ${tags("response")}`;
  return { request, response };
}

/** Produce v3, one batch (two records) to partition 0, and its answer (error, base offset) */
function produce(corr: number, topic: string): string {
  return `
    ${requestHeader(0, 3, corr, false)}
    ffff  # transactional_id = null
    ${i16(-1)}  # acks = -1
    ${i32(5000)}  # timeout_ms = 5000
    ${arr(1)} ${str(topic)} ${arr(1)} ${i32(0)}  # topic_data: 1, "${topic}", partition_data: 1, index 0
    ${i32(BATCH_SIZE)}  # records: ${BATCH_SIZE} bytes
    ${batch(0, -1)}`;
}
function produced(corr: number, topic: string, error: number, baseOffset: number): string {
  return `
    ${responseHeader(corr, false)}
    ${arr(1)} ${str(topic)} ${arr(1)} ${i32(0)}  # responses: 1, "${topic}", partition_responses: 1, index 0
    ${i16(error)}  # error_code = ${error}
    ${i64(baseOffset)}  # base_offset = ${baseOffset}
    ${i64(-1)}  # log_append_time_ms = -1
    ${i32(0)}  # throttle_time_ms = 0`;
}

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startInProcess({ "node.id": "1" });
});
afterAll(() => kafka.close());

const own = (topic: string) => Object.fromEntries(kafka.broker.metadata.image.topicConfigs.get(topic) ?? []);

describe("IncrementalAlterConfigs golden bytes", () => {
  for (const v of [0, 1]) {
    test(`v${v}: validate_only, SET, APPEND, SUBTRACT, DELETE, errors, a broker key`, async () => {
      const { request, response } = codec(44, v);
      const t = `iac-v${v}`;
      kafka.storage.createTopic(t, 1);
      await exchange(kafka.connect(), request(100 + v, [[2, t, [["retention.ms", 0, "1000"]]]], true), response(100 + v, [[0, null, 2, t]]));
      expect(own(t)).toEqual({});
      await exchange(kafka.connect(), request(110 + v, [[2, t, [["retention.ms", 0, "3600000"], ["cleanup.policy", 2, "compact"]]]]), response(110 + v, [[0, null, 2, t]]));
      expect(own(t)).toEqual({ "retention.ms": "3600000", "cleanup.policy": "delete,compact" });
      await exchange(kafka.connect(), request(120 + v, [[2, t, [["cleanup.policy", 3, "delete"], ["retention.ms", 1, null]]]]), response(120 + v, [[0, null, 2, t]]));
      expect(own(t)).toEqual({ "cleanup.policy": "compact" });
      await exchange(
        kafka.connect(),
        request(130 + v, [
          [2, t, [["nope", 0, "1"]]],
          [2, "iac-none", [["retention.ms", 0, "1"]]],
          [2, `${t}-x`, [["retention.ms", 0, "abc"]]],
          [4, "1", [["log.dirs", 0, "/tmp/x"]]],
        ]),
        response(130 + v, [
          [40, "Unknown topic config name: nope", 2, t],
          [3, "The topic 'iac-none' does not exist.", 2, "iac-none"],
          [40, "Invalid value abc for configuration retention.ms: Not a number of type LONG", 2, `${t}-x`],
          [42, "Cannot update these configs dynamically: [log.dirs]", 4, "1"],
        ]),
      );
      expect(own(t)).toEqual({ "cleanup.policy": "compact" });
    });
  }

  test("a lowered max.message.bytes applies to the next produce; a cluster-default broker key applies at once", async () => {
    const { request, response } = codec(44, 1);
    const t = "iac-mmb";
    kafka.storage.createTopic(t, 1);
    await exchange(kafka.connect(), produce(140, t), produced(140, t, 0, 0));
    await exchange(kafka.connect(), request(141, [[2, t, [["max.message.bytes", 0, "50"]]]]), response(141, [[0, null, 2, t]]));
    await exchange(kafka.connect(), produce(142, t), produced(142, t, 10, -1));
    await exchange(kafka.connect(), request(143, [[2, t, [["max.message.bytes", 1, null]]]]), response(143, [[0, null, 2, t]]));
    await exchange(kafka.connect(), produce(144, t), produced(144, t, 0, 2));
    // message.max.bytes at the cluster default: the topic follows its synonym
    await exchange(kafka.connect(), request(145, [[4, "", [["message.max.bytes", 0, "60"]]]]), response(145, [[0, null, 4, ""]]));
    await exchange(kafka.connect(), produce(146, t), produced(146, t, 10, -1));
    await exchange(kafka.connect(), request(147, [[4, "", [["message.max.bytes", 1, null]]]]), response(147, [[0, null, 4, ""]]));
    await exchange(kafka.connect(), produce(148, t), produced(148, t, 0, 4));
  });
});

describe("AlterConfigs golden bytes", () => {
  for (const v of [0, 1, 2]) {
    test(`v${v}: replaces the whole set; validate_only; errors`, async () => {
      const { request, response } = codec(33, v);
      const t = `ac-v${v}`;
      kafka.storage.createTopic(t, 1, { "retention.ms": "3600000", "cleanup.policy": "compact" });
      await exchange(kafka.connect(), request(200 + v, [[2, t, [["segment.bytes", null, "2000000"]]]], true), response(200 + v, [[0, null, 2, t]]));
      expect(own(t)).toEqual({ "retention.ms": "3600000", "cleanup.policy": "compact" });
      await exchange(kafka.connect(), request(210 + v, [[2, t, [["retention.ms", null, "3600000"], ["segment.bytes", null, "2000000"]]]]), response(210 + v, [[0, null, 2, t]]));
      expect(own(t)).toEqual({ "retention.ms": "3600000", "segment.bytes": "2000000" });
      await exchange(
        kafka.connect(),
        request(220 + v, [
          [2, t, [["retention.ms", null, null]]],
          [2, "ac-none", [["retention.ms", null, "1"]]],
          [99, "x", [["a", null, "1"]]],
        ]),
        response(220 + v, [
          [42, "Null value not supported for : retention.ms", 2, t],
          [3, "The topic 'ac-none' does not exist.", 2, "ac-none"],
          [42, "Unknown resource type 99", 99, "x"],
        ]),
      );
      expect(own(t)).toEqual({ "retention.ms": "3600000", "segment.bytes": "2000000" });
    });
  }
});
