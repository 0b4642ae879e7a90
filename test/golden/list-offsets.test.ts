// Golden bytes: ListOffsets (key 2), versions 0-8.
// Checked field by field against ListOffsetsRequest.json / ListOffsetsResponse.json:
//
//   v  | request                                       | response (per partition unless said)
//   ---+-----------------------------------------------+-----------------------------------------
//   0  | replica_id, topics[name, partitions[index,    | topics[name, partitions[index, error,
//      |   timestamp, max_num_offsets]]                |   old_style_offsets ARRAY[int64]]]
//   1  | - max_num_offsets                             | timestamp, offset (instead of the array)
//   2  | + isolation_level (after replica_id)          | + throttle_time_ms (top level, first)
//   4  | + partition current_leader_epoch              | + leader_epoch
//   6  | flexible (compact, tagged fields)             | flexible; response header v1
//   7  | timestamp -3 (MAX_TIMESTAMP) allowed          |
//   8  | timestamp -4 (EARLIEST_LOCAL_TIMESTAMP)       |
//
// Special timestamps: -2 earliest (log start), -1 latest (log end), -3 the
// record with the largest timestamp. Earliest/latest answer timestamp -1.
//
// Data: "golden-lo" holds the hand-written batch twice: offsets 0..3 with
// record timestamps T, T+5, T, T+5 (leader epoch 0). "golden-lo-empty" is empty.

import { afterAll, beforeAll, describe, test } from "bun:test";
import { startInProcess, type InProcessBroker } from "../helpers.ts";
import { BATCH_RECORDS, T, batch, produceV3Request, produceV3Response } from "./batch.ts";
import { TAGS, arr, carr, cstr, exchange, expectClosed, i16, i32, i64, i8, requestHeader, responseHeader, str } from "./hex.ts";

const flexible = (v: number) => v >= 6;
const s = (v: number, x: string) => (flexible(v) ? cstr(x) : str(x));
const a = (v: number, n: number) => (flexible(v) ? carr(n) : arr(n));
const tags = (v: number, what: string) => (flexible(v) ? `${TAGS}  # ${what} tagged fields: none` : "");

const EARLIEST = -2;
const LATEST = -1;
const MAX_TIMESTAMP = -3;
const EARLIEST_LOCAL = -4;
const tsName = (ts: number) =>
  ({ [-1]: "LATEST", [-2]: "EARLIEST", [-3]: "MAX_TIMESTAMP", [-4]: "EARLIEST_LOCAL" })[ts] ?? (ts >= T ? `T+${ts - T}` : String(ts));

interface Ask {
  partition: number;
  timestamp: number;
  maxNumOffsets?: number; // v0
}

function request(v: number, corr: number, topic: string, asks: Ask[]): string {
  return `
    ${requestHeader(2, v, corr, flexible(v))}
    ${i32(-1)}  # replica_id = -1 (consumer)
    ${v >= 2 ? `${i8(0)}  # isolation_level = 0 (READ_UNCOMMITTED) (v2+)` : ""}
    ${a(v, 1)}  # topics: 1
      ${s(v, topic)}  # name = "${topic}"
      ${a(v, asks.length)}  # partitions: ${asks.length}
      ${asks
        .map(
          (q) => `
        ${i32(q.partition)}  # partition_index = ${q.partition}
        ${v >= 4 ? `${i32(-1)}  # current_leader_epoch = -1 (v4+)` : ""}
        ${i64(q.timestamp)}  # timestamp = ${q.timestamp} (${tsName(q.timestamp)})
        ${v === 0 ? `${i32(q.maxNumOffsets ?? 1)}  # max_num_offsets = ${q.maxNumOffsets ?? 1} (v0 only)` : ""}
        ${tags(v, "partition")}`,
        )
        .join("\n")}
      ${tags(v, "topic")}
    ${tags(v, "request")}`;
}

interface Answer {
  partition: number;
  error?: number;
  offsets?: number[]; // v0
  timestamp?: number; // v1+
  offset?: number; // v1+
  leaderEpoch?: number; // v4+
}

function response(v: number, corr: number, topic: string, answers: Answer[]): string {
  return `
    ${responseHeader(corr, flexible(v))}
    ${v >= 2 ? `${i32(0)}  # throttle_time_ms = 0 (v2+)` : ""}
    ${a(v, 1)}  # topics: 1
      ${s(v, topic)}  # name = "${topic}"
      ${a(v, answers.length)}  # partitions: ${answers.length}
      ${answers
        .map((r) => {
          const ts = r.timestamp ?? -1;
          const off = r.offset ?? -1;
          const ep = r.leaderEpoch ?? -1;
          return `
        ${i32(r.partition)}  # partition_index = ${r.partition}
        ${i16(r.error ?? 0)}  # error_code = ${r.error ?? 0}
        ${v === 0 ? `${arr((r.offsets ?? []).length)} ${(r.offsets ?? []).map((o) => i64(o)).join(" ")}  # old_style_offsets = [${(r.offsets ?? []).join(", ")}] (v0 only)` : ""}
        ${v >= 1 ? `${i64(ts)}  # timestamp = ${ts}${ts >= T ? ` (T+${ts - T})` : ""} (v1+)` : ""}
        ${v >= 1 ? `${i64(off)}  # offset = ${off} (v1+)` : ""}
        ${v >= 4 ? `${i32(ep)}  # leader_epoch = ${ep} (v4+)` : ""}
        ${tags(v, "partition")}`;
        })
        .join("\n")}
      ${tags(v, "topic")}
    ${tags(v, "response")}`;
}

const LO = "golden-lo";
const EMPTY = "golden-lo-empty";

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startInProcess({ "node.id": "1" });
  kafka.storage.createTopic(LO, 1);
  kafka.storage.createTopic(EMPTY, 1);
  const conn = kafka.connect();
  await exchange(conn, produceV3Request(1, LO, 0, batch(0, 0)), produceV3Response(1, LO, 0, 0));
  await exchange(conn, produceV3Request(2, LO, 0, batch(0, 0)), produceV3Response(2, LO, 0, BATCH_RECORDS));
});
afterAll(() => kafka.close());

describe("ListOffsets golden bytes", () => {
  // Apache Kafka 4 dropped ListOffsets v0 (KIP-896): it advertises 1+ and closes
  // the connection on v0 (checked against the reference broker in
  // test/differential.test.ts).
  test("v0 (not served since Kafka 4): connection closed, no response", async () => {
    await expectClosed(kafka.connect(), request(0, 600, LO, [{ partition: 0, timestamp: LATEST }]));
  });

  for (let v = 1; v <= 8; v++) {
    test(`v${v}: latest: offset 4, timestamp -1`, async () => {
      await exchange(
        kafka.connect(),
        request(v, 610 + v, LO, [{ partition: 0, timestamp: LATEST }]),
        response(v, 610 + v, LO, [{ partition: 0, timestamp: -1, offset: 4, leaderEpoch: 0 }]),
      );
    });
  }

  // one partition per request: Kafka refuses a partition listed twice (see below)
  for (const v of [1, 6]) {
    test(`v${v}: earliest, then by timestamp T, T+1 and T+6`, async () => {
      const cases: [Ask, Answer][] = [
        [{ partition: 0, timestamp: EARLIEST }, { partition: 0, timestamp: -1, offset: 0, leaderEpoch: 0 }], // the log start offset
        [{ partition: 0, timestamp: T }, { partition: 0, timestamp: T, offset: 0, leaderEpoch: 0 }], // the first record at or after T
        [{ partition: 0, timestamp: T + 1 }, { partition: 0, timestamp: T + 5, offset: 1, leaderEpoch: 0 }], // at or after T+1 is T+5
        [{ partition: 0, timestamp: T + 6 }, { partition: 0, timestamp: -1, offset: -1, leaderEpoch: -1 }], // none at or after T+6
      ];
      for (const [i, [ask, answer]] of cases.entries()) {
        await exchange(kafka.connect(), request(v, 620 + 10 * i + v, LO, [ask]), response(v, 620 + 10 * i + v, LO, [answer]));
      }
    });
  }

  for (const v of [7, 8]) {
    test(`v${v}: MAX_TIMESTAMP (-3): the first record with the largest timestamp (offset 1, T+5)`, async () => {
      await exchange(
        kafka.connect(),
        request(v, 630 + v, LO, [{ partition: 0, timestamp: MAX_TIMESTAMP }]),
        response(v, 630 + v, LO, [{ partition: 0, timestamp: T + 5, offset: 1, leaderEpoch: 0 }]),
      );
    });
  }

  test("v7: empty log: earliest 0, latest 0, MAX_TIMESTAMP none", async () => {
    const cases: [Ask, Answer][] = [
      [{ partition: 0, timestamp: EARLIEST }, { partition: 0, timestamp: -1, offset: 0, leaderEpoch: 0 }],
      [{ partition: 0, timestamp: LATEST }, { partition: 0, timestamp: -1, offset: 0, leaderEpoch: 0 }],
      [{ partition: 0, timestamp: MAX_TIMESTAMP }, { partition: 0, timestamp: -1, offset: -1, leaderEpoch: -1 }],
    ];
    for (const [i, [ask, answer]] of cases.entries()) {
      await exchange(kafka.connect(), request(7, 640 + i, EMPTY, [ask]), response(7, 640 + i, EMPTY, [answer]));
    }
  });

  for (const v of [1, 6]) {
    test(`v${v}: unknown partition and unknown topic: error 3, timestamp/offset -1`, async () => {
      await exchange(
        kafka.connect(),
        request(v, 650 + v, LO, [{ partition: 5, timestamp: LATEST }]),
        response(v, 650 + v, LO, [{ partition: 5, error: 3, timestamp: -1, offset: -1, leaderEpoch: -1 }]),
      );
      await exchange(
        kafka.connect(),
        request(v, 660 + v, "golden-lo-nope", [{ partition: 0, timestamp: LATEST }]),
        response(v, 660 + v, "golden-lo-nope", [{ partition: 0, error: 3, timestamp: -1, offset: -1, leaderEpoch: -1 }]),
      );
    });
  }

  test("v9 (not served): connection closed, no response", async () => {
    await expectClosed(kafka.connect(), request(9, 672, LO, [{ partition: 0, timestamp: LATEST }]));
  });

  // v8 exists for EARLIEST_LOCAL_TIMESTAMP (-4, KIP-405). Without tiered storage
  // Apache Kafka answers it like EARLIEST (UnifiedLog.fetchOffsetByTimestamp:
  // `!remoteLogEnabled() && targetTimestamp == EARLIEST_LOCAL_TIMESTAMP`). The
  // broker answers INVALID_REQUEST (42) for every negative timestamp it does not know.
  test("v8: EARLIEST_LOCAL_TIMESTAMP (-4): the log start offset, like EARLIEST", async () => {
    await exchange(
      kafka.connect(),
      request(8, 670, LO, [{ partition: 0, timestamp: EARLIEST_LOCAL }]),
      response(8, 670, LO, [{ partition: 0, timestamp: -1, offset: 0, leaderEpoch: 0 }]),
    );
  });

  // Apache Kafka (KafkaApis.handleListOffsetRequestV1AndAbove) answers every
  // occurrence of a partition listed twice with INVALID_REQUEST (42).
  // answers both normally.
  test("v6: the same partition twice: INVALID_REQUEST (42) for both", async () => {
    await exchange(
      kafka.connect(),
      request(6, 671, LO, [
        { partition: 0, timestamp: LATEST },
        { partition: 0, timestamp: EARLIEST },
      ]),
      response(6, 671, LO, [
        { partition: 0, error: 42, timestamp: -1, offset: -1, leaderEpoch: -1 },
        { partition: 0, error: 42, timestamp: -1, offset: -1, leaderEpoch: -1 },
      ]),
    );
  });
});
