// Golden bytes: DescribeLogDirs (key 35), versions 1-4 (Kafka 4 dropped v0,
// KIP-896: the connection closes on it, as on v5).
// Checked field by field against DescribeLogDirsRequest.json / ...Response.json:
//
//   v  | request                                        | response
//   ---+------------------------------------------------+-------------------------------------
//   1  | topics (nullable: all) [topic, partitions      | throttle_time_ms, results[error_code,
//      |   [int32]]                                     |   log_dir, topics[name, partitions[
//      |                                                |   partition_index, partition_size,
//      |                                                |   offset_lag, is_future_key]]]
//   2  | flexible (compact, tagged fields)              | flexible; response header v1
//   3  |                                                | + error_code (top level, after throttle)
//   4  |                                                | + result total_bytes, usable_bytes
//
// Data: "golden-dld" has 2 partitions, partition 0 holding the hand-written
// batch twice (2 x 86 bytes), partition 1 empty; "golden-dld-other" one empty
// partition. total_bytes is the file system's (statfs); usable_bytes moves
// with whatever else writes to the disk, so the test takes it from the
// response and checks it against statfs within 1 GiB.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statfsSync } from "node:fs";
import { resolve } from "node:path";
import { startInProcess, type InProcessBroker } from "../helpers.ts";
import { BATCH_RECORDS, BATCH_SIZE, batch, produceV3Request, produceV3Response } from "./batch.ts";
import { NULL_ARR, NULL_CARR, TAGS, arr, bool, carr, cstr, exchange, expectBytes, expectClosed, frame, i16, i32, i64, requestHeader, responseHeader, roundTrip, str } from "./hex.ts";

const flexible = (v: number) => v >= 2;
const s = (v: number, x: string) => (flexible(v) ? cstr(x) : str(x));
const a = (v: number, n: number) => (flexible(v) ? carr(n) : arr(n));
const tags = (v: number, what: string) => (flexible(v) ? `${TAGS}  # ${what} tagged fields: none` : "");

type Topics = [topic: string, partitions: number[]][];

function request(v: number, corr: number, topics: Topics | null): string {
  return `
    ${requestHeader(35, v, corr, flexible(v))}
    ${
      topics === null
        ? `${flexible(v) ? NULL_CARR : NULL_ARR}  # topics = null (all)`
        : `${a(v, topics.length)}  # topics: ${topics.length}
      ${topics.map(([t, ps]) => `
        ${s(v, t)}  # topic = "${t}"
        ${a(v, ps.length)} ${ps.map((p) => i32(p)).join(" ")}  # partitions = [${ps.join(", ")}]
        ${tags(v, "topic")}`).join("\n")}`
    }
    ${tags(v, "request")}`;
}

type Parts = [partition: number, size: number][];

function response(v: number, corr: number, logDir: string, topics: [string, Parts][], total: number, usable: number): string {
  return `
    ${responseHeader(corr, flexible(v))}
    ${i32(0)}  # throttle_time_ms = 0
    ${v >= 3 ? `${i16(0)}  # error_code = 0 (v3+)` : ""}
    ${a(v, 1)}  # results: 1
      ${i16(0)}  # error_code = 0
      ${s(v, logDir)}  # log_dir = "${logDir}"
      ${a(v, topics.length)}  # topics: ${topics.length}
      ${topics.map(([t, ps]) => `
        ${s(v, t)}  # name = "${t}"
        ${a(v, ps.length)}  # partitions: ${ps.length}
        ${ps.map(([p, size]) => `
          ${i32(p)}  # partition_index = ${p}
          ${i64(size)}  # partition_size = ${size}
          ${i64(0)}  # offset_lag = 0
          ${bool(false)}  # is_future_key = false
          ${tags(v, "partition")}`).join("\n")}
        ${tags(v, "topic")}`).join("\n")}
      ${v >= 4 ? `${i64(total)}  # total_bytes = ${total} (v4+)` : ""}
      ${v >= 4 ? `${i64(usable)}  # usable_bytes = ${usable} (v4+)` : ""}
      ${tags(v, "result")}
    ${tags(v, "response")}`;
}

const TOPIC = "golden-dld";
const OTHER = "golden-dld-other";

let kafka: InProcessBroker;
let logDir: string;
beforeAll(async () => {
  kafka = await startInProcess({ "node.id": "1" });
  logDir = resolve(kafka.dir);
  kafka.storage.createTopic(TOPIC, 2);
  kafka.storage.createTopic(OTHER, 1);
  const conn = kafka.connect();
  await exchange(conn, produceV3Request(1, TOPIC, 0, batch(0, 0)), produceV3Response(1, TOPIC, 0, 0));
  await exchange(conn, produceV3Request(2, TOPIC, 0, batch(0, 0)), produceV3Response(2, TOPIC, 0, BATCH_RECORDS));
});
afterAll(() => kafka.close());

/** Sends the request and checks the whole response; v4's usable_bytes is read back from it and checked against statfs. */
async function check(v: number, corr: number, topics: Topics | null, answer: [string, Parts][]): Promise<void> {
  const fs = statfsSync(logDir);
  const total = fs.blocks * fs.bsize;
  const got = await roundTrip(kafka.connect(), request(v, corr, topics));
  let usable = -1;
  if (v >= 4) {
    // the last fields: usable_bytes, then the result's and the response's tagged fields (one byte each)
    usable = Number(Buffer.from(got).readBigInt64BE(got.length - 2 - 8));
    expect(Math.abs(usable - fs.bavail * fs.bsize)).toBeLessThan(2 ** 30);
  }
  expectBytes(got, frame(response(v, corr, logDir, answer, total, usable)));
}

describe("DescribeLogDirs golden bytes", () => {
  for (const v of [0, 5]) {
    test(`v${v} (not served): connection closed, no response`, async () => {
      await expectClosed(kafka.connect(), request(v, 900 + v, null));
    });
  }

  for (let v = 1; v <= 4; v++) {
    test(`v${v}: all topics (null): sizes 172 and 0; ${TOPIC} 0 and an unknown topic: ${TOPIC} 0 only`, async () => {
      await check(v, 910 + v, null, [
        [TOPIC, [[0, 2 * BATCH_SIZE], [1, 0]]],
        [OTHER, [[0, 0]]],
      ]);
      await check(v, 920 + v, [[TOPIC, [0]], ["golden-dld-nope", [0]]], [
        [TOPIC, [[0, 2 * BATCH_SIZE]]],
      ]);
    });
  }

  test("v4: no topics (an empty array): none; an unknown partition: none", async () => {
    await check(4, 930, [], []);
    await check(4, 931, [[TOPIC, [7]]], []);
  });
});
