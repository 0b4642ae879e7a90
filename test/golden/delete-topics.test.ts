// Golden bytes: DeleteTopics (key 20), versions 0-6 (v4+ flexible: request
// header v2, response header v1). Checked field by field against
// DeleteTopicsRequest.json / DeleteTopicsResponse.json:
//
//   request:  topics (v6+) ARRAY[name nullable STRING, topic_id UUID],
//             topic_names (v0-5) ARRAY[STRING], timeout_ms int32
//   response: throttle_time_ms int32 (v1+), responses ARRAY[name STRING
//             (nullable v6+), topic_id UUID (v6+), error_code int16,
//             error_message nullable STRING (v5+)]
//
// Kafka 4 removed v0 (KIP-896): not advertised, a v0 request closes the
// connection. As Kafka 4.4's controller answers (checked by the differential
// test): a deleted topic has a null message; an unknown name
// UNKNOWN_TOPIC_OR_PARTITION, an unknown id UNKNOWN_TOPIC_ID (name null), each
// with Kafka's default message; a name listed twice one INVALID_REQUEST
// "Duplicate topic name." (zero id); name and id both, or neither,
// INVALID_REQUEST. delete.topic.enable=false: TOPIC_DELETION_DISABLED (73) for
// each topic as asked (INVALID_REQUEST below v3), no message; timeout_ms 0 or
// less: REQUEST_TIMED_OUT (7) for each topic as asked, nothing deleted.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startInProcess, type InProcessBroker } from "../helpers.ts";
import { NULL_CSTR, TAGS, ZERO_UUID, arr, carr, cstr, exchange, expectClosed, i16, i32, requestHeader, responseHeader, str, uuidHex } from "./hex.ts";

const flex = (v: number) => v >= 4;
const s = (v: number, x: string) => (flex(v) ? cstr(x) : str(x));
const a = (v: number, n: number) => (flex(v) ? carr(n) : arr(n));
const tags = (v: number, what: string) => (flex(v) ? `${TAGS}  # ${what} tagged fields: none` : "");
const ns = (v: number, x: string | null) => (x === null ? (flex(v) ? NULL_CSTR : "ffff") : s(v, x));

type Ask = { name: string | null; id?: string };

function request(v: number, corr: number, topics: Ask[], timeoutMs = 30000): string {
  const body =
    v >= 6
      ? `${a(v, topics.length)}  # topics: ${topics.length}
${topics.map((t) => `      ${ns(v, t.name)} ${t.id ?? ZERO_UUID} ${TAGS}  # name = ${JSON.stringify(t.name)}, topic_id, tagged fields: none`).join("\n")}`
      : `${a(v, topics.length)}  # topic_names: ${topics.length}
${topics.map((t) => `      ${s(v, t.name!)}  # "${t.name}"`).join("\n")}`;
  return `
    ${requestHeader(20, v, corr, flex(v))}
    ${body}
    ${i32(timeoutMs)}  # timeout_ms = ${timeoutMs}
    ${tags(v, "request")}`;
}

type Result = { name: string | null; id?: string; error: number; message: string | null };

function response(v: number, corr: number, results: Result[]): string {
  return `
    ${responseHeader(corr, flex(v))}
    ${v >= 1 ? `${i32(0)}  # throttle_time_ms = 0` : ""}
    ${a(v, results.length)}  # responses: ${results.length}
    ${results
      .map(
        (r) => `
      ${ns(v, r.name)}  # name = ${JSON.stringify(r.name)}
      ${v >= 6 ? `${r.id ?? ZERO_UUID}  # topic_id` : ""}
      ${i16(r.error)}  # error_code = ${r.error}
      ${v >= 5 ? `${ns(v, r.message)}  # error_message = ${JSON.stringify(r.message)}` : ""}
      ${tags(v, "result")}`,
      )
      .join("\n")}
    ${tags(v, "response")}`;
}

const UNKNOWN = "This server does not host this topic-partition.";
const UNKNOWN_ID = "This server does not host this topic ID.";

let kafka: InProcessBroker;
let disabled: InProcessBroker;
beforeAll(async () => {
  kafka = await startInProcess({ "node.id": "1" });
  disabled = await startInProcess({ "node.id": "1", "delete.topic.enable": "false" });
});
afterAll(async () => {
  await kafka.close();
  await disabled.close();
});

describe("DeleteTopics golden bytes", () => {
  test("v0: removed in Kafka 4 (KIP-896): the connection closes", async () => {
    kafka.storage.createTopic("del-v0", 1);
    await expectClosed(kafka.connect(), request(0, 700, [{ name: "del-v0" }]));
    expect(kafka.broker.topic("del-v0")).toBeDefined();
  });

  for (const v of [1, 2, 3, 4, 5, 6]) {
    test(`v${v}: by name: a topic deleted, an unknown one`, async () => {
      const t = kafka.storage.createTopic(`del-v${v}`, 2);
      const id = uuidHex(t.id);
      await exchange(
        kafka.connect(),
        request(v, 710 + v, [{ name: `del-v${v}` }, { name: "del-none" }]),
        response(v, 710 + v, [
          { name: "del-none", error: 3, message: UNKNOWN },
          { name: `del-v${v}`, id, error: 0, message: null },
        ]),
      );
      expect(kafka.broker.topic(`del-v${v}`)).toBeUndefined();
    });

    test(`v${v}: a name listed twice is not deleted; __cluster_metadata is unknown`, async () => {
      kafka.storage.createTopic(`del-twice-v${v}`, 1);
      await exchange(
        kafka.connect(),
        request(v, 720 + v, [{ name: `del-twice-v${v}` }, { name: "__cluster_metadata" }, { name: `del-twice-v${v}` }]),
        response(v, 720 + v, [
          { name: `del-twice-v${v}`, error: 42, message: "Duplicate topic name." },
          { name: "__cluster_metadata", error: 3, message: UNKNOWN },
        ]),
      );
      expect(kafka.broker.topic(`del-twice-v${v}`)).toBeDefined();
    });

    test(`v${v}: delete.topic.enable=false: ${v < 3 ? "INVALID_REQUEST" : "TOPIC_DELETION_DISABLED"} for each topic`, async () => {
      disabled.storage.createTopic(`del-off-v${v}`, 1);
      const code = v < 3 ? 42 : 73;
      await exchange(
        disabled.connect(),
        request(v, 730 + v, [{ name: `del-off-v${v}` }, { name: "del-none" }]),
        response(v, 730 + v, [
          { name: `del-off-v${v}`, error: code, message: null },
          { name: "del-none", error: code, message: null },
        ]),
      );
      expect(disabled.broker.topic(`del-off-v${v}`)).toBeDefined();
    });
  }

  for (const timeout of [0, -1]) {
    test(`v6: timeout_ms ${timeout}: REQUEST_TIMED_OUT for each topic as asked, nothing deleted`, async () => {
      const t = kafka.storage.createTopic(`del-t${timeout}`, 1);
      const id = uuidHex(t.id);
      await exchange(
        kafka.connect(),
        request(6, 745 - timeout, [{ name: `del-t${timeout}` }, { name: null, id }, { name: null }], timeout),
        response(6, 745 - timeout, [
          { name: `del-t${timeout}`, error: 7, message: null },
          { name: null, id, error: 7, message: null },
          { name: null, error: 7, message: null },
        ]),
      );
      expect(kafka.broker.topic(`del-t${timeout}`)).toBeDefined();
    });
  }

  test("v6: by id: deleted, unknown id, name and id, neither, an id twice", async () => {
    const t = kafka.storage.createTopic("del-id", 1);
    const t2 = kafka.storage.createTopic("del-id2", 1);
    const id = uuidHex(t.id);
    const id2 = uuidHex(t2.id);
    const other = "0102030405060708090a0b0c0d0e0f10";
    await exchange(
      kafka.connect(),
      request(6, 740, [{ name: null, id }, { name: null, id: other }, { name: "del-id2", id: id2 }, { name: null }, { name: null, id: id2 }, { name: null, id: id2 }]),
      response(6, 740, [
        { name: "del-id2", id: id2, error: 42, message: "You may not specify both topic name and topic id." },
        { name: null, error: 42, message: "Neither topic name nor id were specified." },
        { name: null, id: id2, error: 42, message: "Duplicate topic id." },
        { name: null, id: other, error: 100, message: UNKNOWN_ID },
        { name: "del-id", id, error: 0, message: null },
      ]),
    );
    expect(kafka.broker.topic("del-id")).toBeUndefined();
    expect(kafka.broker.topic("del-id2")).toBeDefined();
  });

  test("v6: a name and the id it maps to: neither deleted", async () => {
    const t = kafka.storage.createTopic("del-both", 1);
    const id = uuidHex(t.id);
    await exchange(
      kafka.connect(),
      request(6, 750, [{ name: null, id }, { name: "del-both" }]),
      response(6, 750, [{ name: "del-both", id, error: 42, message: "The provided topic name maps to an ID that was already supplied." }]),
    );
    expect(kafka.broker.topic("del-both")).toBeDefined();
  });

  test("v6: a topic deleted and created again gets a new id; the old id is unknown", async () => {
    const old = kafka.storage.createTopic("del-again", 1);
    const oldId = uuidHex(old.id);
    await exchange(kafka.connect(), request(6, 760, [{ name: "del-again" }]), response(6, 760, [{ name: "del-again", id: oldId, error: 0, message: null }]));
    const again = kafka.storage.createTopic("del-again", 1);
    expect(uuidHex(again.id)).not.toBe(oldId);
    await exchange(kafka.connect(), request(6, 761, [{ name: null, id: oldId }]), response(6, 761, [{ name: null, id: oldId, error: 100, message: UNKNOWN_ID }]));
    expect(kafka.broker.topic("del-again")).toBeDefined();
  });
});
