// Golden bytes: DeleteRecords (key 21), versions 0-2.
// Checked field by field against DeleteRecordsRequest.json / DeleteRecordsResponse.json:
//
//   v  | request                                        | response
//   ---+------------------------------------------------+-------------------------------------
//   0  | topics[name, partitions[partition_index,       | throttle_time_ms, topics[name,
//      |   offset]], timeout_ms                         |   partitions[partition_index,
//      |                                                |   low_watermark, error_code]]
//   1  | (same)                                         | (same)
//   2  | flexible (compact, tagged fields)              | flexible; response header v1
//
// Data: each version deletes in its own topic "golden-dr-v<v>", which holds
// the hand-written batch twice: offsets 0..3, high watermark 4.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startInProcess, type InProcessBroker } from "../helpers.ts";
import { BATCH_RECORDS, batch, produceV3Request, produceV3Response } from "./batch.ts";
import { TAGS, arr, carr, cstr, exchange, expectClosed, i16, i32, i64, requestHeader, responseHeader, str } from "./hex.ts";

const flexible = (v: number) => v >= 2;
const s = (v: number, x: string) => (flexible(v) ? cstr(x) : str(x));
const a = (v: number, n: number) => (flexible(v) ? carr(n) : arr(n));
const tags = (v: number, what: string) => (flexible(v) ? `${TAGS}  # ${what} tagged fields: none` : "");

function request(v: number, corr: number, topic: string, asks: [partition: number, offset: number][]): string {
  return `
    ${requestHeader(21, v, corr, flexible(v))}
    ${a(v, 1)}  # topics: 1
      ${s(v, topic)}  # name = "${topic}"
      ${a(v, asks.length)}  # partitions: ${asks.length}
      ${asks.map(([p, o]) => `
        ${i32(p)}  # partition_index = ${p}
        ${i64(o)}  # offset = ${o}
        ${tags(v, "partition")}`).join("\n")}
      ${tags(v, "topic")}
    ${i32(5000)}  # timeout_ms = 5000
    ${tags(v, "request")}`;
}

function response(v: number, corr: number, topic: string, answers: [partition: number, lowWatermark: number, error: number][]): string {
  return `
    ${responseHeader(corr, flexible(v))}
    ${i32(0)}  # throttle_time_ms = 0
    ${a(v, 1)}  # topics: 1
      ${s(v, topic)}  # name = "${topic}"
      ${a(v, answers.length)}  # partitions: ${answers.length}
      ${answers.map(([p, lw, e]) => `
        ${i32(p)}  # partition_index = ${p}
        ${i64(lw)}  # low_watermark = ${lw}
        ${i16(e)}  # error_code = ${e}
        ${tags(v, "partition")}`).join("\n")}
      ${tags(v, "topic")}
    ${tags(v, "response")}`;
}

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startInProcess({ "node.id": "1" });
  const conn = kafka.connect();
  for (let v = 0; v <= 2; v++) {
    const topic = `golden-dr-v${v}`;
    kafka.storage.createTopic(topic, 1);
    await exchange(conn, produceV3Request(10 * v + 1, topic, 0, batch(0, 0)), produceV3Response(10 * v + 1, topic, 0, 0));
    await exchange(conn, produceV3Request(10 * v + 2, topic, 0, batch(0, 0)), produceV3Response(10 * v + 2, topic, 0, BATCH_RECORDS));
  }
});
afterAll(() => kafka.close());

describe("DeleteRecords golden bytes", () => {
  for (let v = 0; v <= 2; v++) {
    const topic = `golden-dr-v${v}`;
    test(`v${v}: to 1, back to 0 (kept at 1), above the high watermark (1), to -1 (the high watermark), unknown partition (3)`, async () => {
      const conn = kafka.connect();
      await exchange(conn, request(v, 800 + v, topic, [[0, 1]]), response(v, 800 + v, topic, [[0, 1, 0]]));
      expect(kafka.storage.getPartition(topic, 0)!.logStartOffset).toBe(1);
      await exchange(conn, request(v, 810 + v, topic, [[0, 0]]), response(v, 810 + v, topic, [[0, 1, 0]]));
      await exchange(conn, request(v, 820 + v, topic, [[0, 5]]), response(v, 820 + v, topic, [[0, -1, 1]]));
      await exchange(conn, request(v, 830 + v, topic, [[0, -2]]), response(v, 830 + v, topic, [[0, -1, 1]]));
      await exchange(conn, request(v, 840 + v, topic, [[0, -1]]), response(v, 840 + v, topic, [[0, 4, 0]]));
      await exchange(conn, request(v, 850 + v, topic, [[3, 0], [0, 4]]), response(v, 850 + v, topic, [[3, -1, 3], [0, 4, 0]]));
      await exchange(conn, request(v, 860 + v, `${topic}-nope`, [[0, 0]]), response(v, 860 + v, `${topic}-nope`, [[0, -1, 3]]));
    });
  }

  test("v3 (not served): connection closed, no response", async () => {
    await expectClosed(kafka.connect(), request(3, 870, "golden-dr-v0", [[0, 0]]));
  });
});
