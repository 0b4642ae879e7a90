// Golden bytes: OffsetForLeaderEpoch (key 23), versions 2-4 (Kafka 4 dropped
// v0-v1, KIP-896: the connection closes on them, as on v5).
// Checked field by field against OffsetForLeaderEpochRequest.json / ...Response.json:
//
//   v  | request                                        | response
//   ---+------------------------------------------------+-------------------------------------
//   2  | topics[topic, partitions[partition,            | throttle_time_ms, topics[topic,
//      |   current_leader_epoch, leader_epoch]]         |   partitions[error, partition,
//      |                                                |   leader_epoch, end_offset]]
//   3  | + replica_id (first)                           |
//   4  | flexible (compact, tagged fields)              | flexible; response header v1
//
// Data: "golden-ofle" holds the hand-written batch twice: offsets 0..3 at
// leader epoch 0, the partition's only epoch.

import { afterAll, beforeAll, describe, test } from "bun:test";
import { startInProcess, type InProcessBroker } from "../helpers.ts";
import { BATCH_RECORDS, batch, produceV3Request, produceV3Response } from "./batch.ts";
import { TAGS, arr, carr, cstr, exchange, expectClosed, i16, i32, i64, requestHeader, responseHeader, str } from "./hex.ts";

const flexible = (v: number) => v >= 4;
const s = (v: number, x: string) => (flexible(v) ? cstr(x) : str(x));
const a = (v: number, n: number) => (flexible(v) ? carr(n) : arr(n));
const tags = (v: number, what: string) => (flexible(v) ? `${TAGS}  # ${what} tagged fields: none` : "");

interface Ask {
  partition: number;
  current?: number;
  epoch: number;
}
interface Answer {
  partition: number;
  error?: number;
  epoch: number;
  endOffset: number;
}

function request(v: number, corr: number, topic: string, asks: Ask[]): string {
  return `
    ${requestHeader(23, v, corr, flexible(v))}
    ${v >= 3 ? `${i32(-1)}  # replica_id = -1 (consumer) (v3+)` : ""}
    ${a(v, 1)}  # topics: 1
      ${s(v, topic)}  # topic = "${topic}"
      ${a(v, asks.length)}  # partitions: ${asks.length}
      ${asks
        .map(
          (q) => `
        ${i32(q.partition)}  # partition = ${q.partition}
        ${i32(q.current ?? -1)}  # current_leader_epoch = ${q.current ?? -1}
        ${i32(q.epoch)}  # leader_epoch = ${q.epoch}
        ${tags(v, "partition")}`,
        )
        .join("\n")}
      ${tags(v, "topic")}
    ${tags(v, "request")}`;
}

function response(v: number, corr: number, topic: string, answers: Answer[]): string {
  return `
    ${responseHeader(corr, flexible(v))}
    ${i32(0)}  # throttle_time_ms = 0
    ${a(v, 1)}  # topics: 1
      ${s(v, topic)}  # topic = "${topic}"
      ${a(v, answers.length)}  # partitions: ${answers.length}
      ${answers
        .map(
          (r) => `
        ${i16(r.error ?? 0)}  # error_code = ${r.error ?? 0}
        ${i32(r.partition)}  # partition = ${r.partition}
        ${i32(r.epoch)}  # leader_epoch = ${r.epoch}
        ${i64(r.endOffset)}  # end_offset = ${r.endOffset}
        ${tags(v, "partition")}`,
        )
        .join("\n")}
      ${tags(v, "topic")}
    ${tags(v, "response")}`;
}

const TOPIC = "golden-ofle";

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startInProcess({ "node.id": "1" });
  kafka.storage.createTopic(TOPIC, 2);
  const conn = kafka.connect();
  await exchange(conn, produceV3Request(1, TOPIC, 0, batch(0, 0)), produceV3Response(1, TOPIC, 0, 0));
  await exchange(conn, produceV3Request(2, TOPIC, 0, batch(0, 0)), produceV3Response(2, TOPIC, 0, BATCH_RECORDS));
});
afterAll(() => kafka.close());

describe("OffsetForLeaderEpoch golden bytes", () => {
  for (const v of [0, 1, 5]) {
    test(`v${v} (not served): connection closed, no response`, async () => {
      await expectClosed(kafka.connect(), request(v, 700 + v, TOPIC, [{ partition: 0, epoch: 0 }]));
    });
  }

  for (let v = 2; v <= 4; v++) {
    test(`v${v}: epoch 0 (current): the log end offset 4; empty partition 1: 0`, async () => {
      await exchange(
        kafka.connect(),
        request(v, 710 + v, TOPIC, [{ partition: 0, epoch: 0 }, { partition: 1, current: 0, epoch: 0 }]),
        response(v, 710 + v, TOPIC, [{ partition: 0, epoch: 0, endOffset: 4 }, { partition: 1, epoch: 0, endOffset: 0 }]),
      );
    });

    test(`v${v}: larger epoch and -1: -1/-1; fenced (74), unknown epoch (75), unknown partition (3)`, async () => {
      await exchange(
        kafka.connect(),
        request(v, 720 + v, TOPIC, [
          { partition: 0, epoch: 3 },
          { partition: 0, epoch: -1 },
          { partition: 0, current: -5, epoch: 0 },
          { partition: 0, current: 2, epoch: 0 },
          { partition: 9, epoch: 0 },
        ]),
        response(v, 720 + v, TOPIC, [
          { partition: 0, epoch: -1, endOffset: -1 },
          { partition: 0, epoch: -1, endOffset: -1 },
          { partition: 0, error: 74, epoch: -1, endOffset: -1 },
          { partition: 0, error: 75, epoch: -1, endOffset: -1 },
          { partition: 9, error: 3, epoch: -1, endOffset: -1 },
        ]),
      );
    });
  }

  test("v4: unknown topic: error 3", async () => {
    await exchange(
      kafka.connect(),
      request(4, 730, "golden-ofle-nope", [{ partition: 0, epoch: 0 }]),
      response(4, 730, "golden-ofle-nope", [{ partition: 0, error: 3, epoch: -1, endOffset: -1 }]),
    );
  });
});
