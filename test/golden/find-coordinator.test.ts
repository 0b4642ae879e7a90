// Golden bytes: FindCoordinator (key 10), versions 0-6; flexible from v3
// (request header v2, response header v1). Checked field by field against
// FindCoordinatorRequest.json / FindCoordinatorResponse.json:
//
//   v  | request                              | response
//   ---+--------------------------------------+---------------------------------------------
//   0  | key STRING                           | error_code, node_id, host STRING, port
//   1  | + key_type int8 (0 group, 1 txn,     | throttle_time_ms first; error_message
//      |   2 share)                           |   nullable STRING after error_code
//   2  | (same)                               | (same)
//   3  | flexible (compact, tagged fields)    | flexible
//   4  | key_type, coordinator_keys           | throttle_time_ms, coordinators ARRAY[key,
//      |   ARRAY[STRING] (key gone)           |   node_id, host, port, error_code,
//      |                                      |   error_message nullable] (v0-3 fields gone)
//   5  | (same: TRANSACTION_ABORTABLE may be returned, KIP-890)
//   6  | (same: key type 2, share groups, KIP-932)
//
// As Kafka 4.4 answers (each case was sent to the reference Kafka 4.4 of
// test/kafka-ref too): a group key, "" included, is coordinated by this
// broker, node 1 at its advertised 127.0.0.1:9092. Key type 1 (transactions)
// is COORDINATOR_NOT_AVAILABLE (15): no __transaction_state yet. Key type 2
// (share groups, not enabled) and unknown types are INVALID_REQUEST (42).
// Errors carry node -1, host "", port -1. error_message at v1-3 is
// Errors.message(): "NONE" on success, the error's text otherwise; at v4+
// KafkaApis never sets it per key, so it is "" (the field's default), errors
// included.
//
// One deliberate difference: the first FindCoordinator for a group creates
// __consumer_offsets and Kafka answers it COORDINATOR_NOT_AVAILABLE until its
// controller has made the topic; ours makes it at once and answers with
// itself.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startGroupBroker, encoders, q } from "./groups.ts";
import type { InProcessBroker } from "../helpers.ts";
import { exchange, expectClosed, i16, i32, i8, requestHeader, responseHeader } from "./hex.ts";

const flexible = (v: number) => v >= 3;

const NOT_AVAILABLE = "The coordinator is not available.";
const INVALID_REQUEST =
  "This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details.";
const MESSAGES: Record<number, string> = { 0: "NONE", 15: NOT_AVAILABLE, 42: INVALID_REQUEST };

/** v0-3: one key */
function request(v: number, corr: number, key: string, keyType = 0): string {
  const e = encoders(flexible(v));
  return `
    ${requestHeader(10, v, corr, flexible(v))}
    ${e.s(key)}  # key = ${q(key)}
    ${v >= 1 ? `${i8(keyType)}  # key_type = ${keyType}` : ""}
    ${e.tags("request")}`;
}

/** v4+: a batch of keys */
function batchRequest(v: number, corr: number, keyType: number, keys: string[]): string {
  const e = encoders(true);
  return `
    ${requestHeader(10, v, corr, true)}
    ${i8(keyType)}  # key_type = ${keyType}
    ${e.a(keys.length)}  # coordinator_keys: ${keys.length}
    ${keys.map((k) => `  ${e.s(k)}  # ${q(k)}`).join("\n")}
    ${e.tags("request")}`;
}

const US: [node: number, host: string, port: number] = [1, "127.0.0.1", 9092];
const NO_NODE: [node: number, host: string, port: number] = [-1, "", -1];

/** v0-3: the one answer at the top level */
function response(v: number, corr: number, error: number): string {
  const e = encoders(flexible(v));
  const [node, host, port] = error === 0 ? US : NO_NODE;
  return `
    ${responseHeader(corr, flexible(v))}
    ${v >= 1 ? `${i32(0)}  # throttle_time_ms = 0` : ""}
    ${i16(error)}  # error_code = ${error}
    ${v >= 1 ? `${e.ns(MESSAGES[error]!)}  # error_message = ${q(MESSAGES[error]!)}` : ""}
    ${i32(node)}  # node_id = ${node}
    ${e.s(host)}  # host = ${q(host)}
    ${i32(port)}  # port = ${port}
    ${e.tags("response")}`;
}

/** v4+: one coordinator per key, error_message "" throughout */
function batchResponse(corr: number, answers: [key: string, error: number][]): string {
  const e = encoders(true);
  return `
    ${responseHeader(corr, true)}
    ${i32(0)}  # throttle_time_ms = 0
    ${e.a(answers.length)}  # coordinators: ${answers.length}
    ${answers
      .map(([key, error]) => {
        const [node, host, port] = error === 0 ? US : NO_NODE;
        return `
      ${e.s(key)}  # key = ${q(key)}
      ${i32(node)}  # node_id = ${node}
      ${e.s(host)}  # host = ${q(host)}
      ${i32(port)}  # port = ${port}
      ${i16(error)}  # error_code = ${error}
      ${e.ns("")}  # error_message = "" (not set per key)
      ${e.tags("coordinator")}`;
      })
      .join("\n")}
    ${e.tags("response")}`;
}

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startGroupBroker();
});
afterAll(() => kafka.close());

describe("FindCoordinator golden bytes", () => {
  test("v0 on a fresh broker: answered with this broker at once; __consumer_offsets created (3 partitions, compacted)", async () => {
    const fresh = await startGroupBroker();
    try {
      expect(fresh.broker.topic("__consumer_offsets")).toBeUndefined();
      await exchange(fresh.connect(), request(0, 1000, "fc-first"), response(0, 1000, 0));
      const t = fresh.broker.topic("__consumer_offsets")!;
      expect(t.partitions.length).toBe(3);
      expect(fresh.broker.metadata.configs.topicOwn("__consumer_offsets", "cleanup.policy")).toBe("compact");
    } finally {
      await fresh.close();
    }
  });

  for (let v = 0; v <= 3; v++) {
    test(`v${v}: a group, and the group "" (a key like any other): this broker`, async () => {
      const conn = kafka.connect();
      await exchange(conn, request(v, 1010 + v, `fc-group-v${v}`), response(v, 1010 + v, 0));
      await exchange(conn, request(v, 1020 + v, ""), response(v, 1020 + v, 0));
      expect(kafka.broker.topic("__consumer_offsets")?.partitions.length).toBe(3);
    });
    if (v >= 1) {
      test(`v${v}: key type 1 (transaction): COORDINATOR_NOT_AVAILABLE; 2 (share) and 3: INVALID_REQUEST`, async () => {
        const conn = kafka.connect();
        await exchange(conn, request(v, 1030 + v, "fc-txn", 1), response(v, 1030 + v, 15));
        await exchange(conn, request(v, 1040 + v, "fc-share", 2), response(v, 1040 + v, 42));
        await exchange(conn, request(v, 1050 + v, "fc-other", 3), response(v, 1050 + v, 42));
        expect(kafka.broker.topic("__transaction_state")).toBeUndefined();
      });
    }
  }

  for (let v = 4; v <= 6; v++) {
    test(`v${v}: a batch of groups ("" among them), each answered with this broker`, async () => {
      await exchange(
        kafka.connect(),
        batchRequest(v, 1060 + v, 0, [`fc-a-v${v}`, "", `fc-b-v${v}`]),
        batchResponse(1060 + v, [[`fc-a-v${v}`, 0], ["", 0], [`fc-b-v${v}`, 0]]),
      );
    });
    test(`v${v}: transactional ids: COORDINATOR_NOT_AVAILABLE each; a share key: INVALID_REQUEST; no keys: no coordinators`, async () => {
      const conn = kafka.connect();
      await exchange(conn, batchRequest(v, 1070 + v, 1, ["fc-tx1", "fc-tx2"]), batchResponse(1070 + v, [["fc-tx1", 15], ["fc-tx2", 15]]));
      await exchange(conn, batchRequest(v, 1080 + v, 2, ["fc-share"]), batchResponse(1080 + v, [["fc-share", 42]]));
      await exchange(conn, batchRequest(v, 1090 + v, 0, []), batchResponse(1090 + v, []));
    });
  }

  test("v7 (not served, Kafka 4.4's range is 0-6): connection closed, no response", async () => {
    await expectClosed(kafka.connect(), batchRequest(7, 1099, 0, ["fc-v7"]));
  });
});
