// Golden bytes: InitProducerId (key 22), versions 0-5; flexible from v2
// (request header v2, response header v1). Checked field by field against
// InitProducerIdRequest.json / InitProducerIdResponse.json:
//
//   request:  transactional_id nullable STRING (COMPACT from v2),
//             transaction_timeout_ms int32, producer_id int64 (v3+),
//             producer_epoch int16 (v3+)
//   response: throttle_time_ms int32, error_code int16, producer_id int64,
//             producer_epoch int16
//
// As Kafka 4.4 answers (test/differential.test.ts): without a transactional
// id a fresh producer id at epoch 0 (ids count up from 0 on a new cluster,
// also when v3+ carry a current id and epoch); an id without an epoch is
// INVALID_REQUEST (42); a transactional id NOT_COORDINATOR (16), as Kafka
// before __transaction_state exists; errors carry producer id -1, epoch -1.

import { afterAll, beforeAll, describe, test } from "bun:test";
import { startInProcess, type InProcessBroker } from "../helpers.ts";
import { NULL_CSTR, NULL_STR, TAGS, cstr, exchange, i16, i32, i64, requestHeader, responseHeader, str } from "./hex.ts";

const flexible = (v: number) => v >= 2;

function request(v: number, corr: number, txn: string | null, pid = -1, epoch = -1): string {
  const f = flexible(v);
  const t = txn === null ? `${f ? NULL_CSTR : NULL_STR}  # transactional_id = null` : `${f ? cstr(txn) : str(txn)}  # transactional_id = "${txn}"`;
  return `
    ${requestHeader(22, v, corr, f)}
    ${t}
    ${i32(60000)}  # transaction_timeout_ms = 60000
    ${v >= 3 ? `${i64(pid)}  # producer_id = ${pid}` : ""}
    ${v >= 3 ? `${i16(epoch)}  # producer_epoch = ${epoch}` : ""}
    ${f ? `${TAGS}  # request tagged fields: none` : ""}`;
}

function response(v: number, corr: number, error: number, pid: number, epoch: number): string {
  return `
    ${responseHeader(corr, flexible(v))}
    ${i32(0)}  # throttle_time_ms = 0
    ${i16(error)}  # error_code = ${error}
    ${i64(pid)}  # producer_id = ${pid}
    ${i16(epoch)}  # producer_epoch = ${epoch}
    ${flexible(v) ? `${TAGS}  # response tagged fields: none` : ""}`;
}

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startInProcess();
});
afterAll(() => kafka.close());

describe("InitProducerId golden bytes", () => {
  // one broker for the whole file: ids count up across the cases, in order
  let next = 0;
  for (let v = 0; v <= 5; v++) {
    test(`v${v}: idempotent producer: a fresh id, epoch 0`, async () => {
      const id = next++;
      await exchange(kafka.connect(), request(v, 2200 + v, null), response(v, 2200 + v, 0, id, 0));
    });
    if (v >= 3) {
      test(`v${v}: with a current id and epoch (KIP-360): a new id, epoch 0`, async () => {
        const id = next++;
        await exchange(kafka.connect(), request(v, 2210 + v, null, id - 1, 0), response(v, 2210 + v, 0, id, 0));
      });
      test(`v${v}: an id without an epoch: INVALID_REQUEST`, async () => {
        await exchange(kafka.connect(), request(v, 2220 + v, null, 7, -1), response(v, 2220 + v, 42, -1, -1));
      });
    }
    test(`v${v}: a transactional id: NOT_COORDINATOR; "" INVALID_REQUEST`, async () => {
      await exchange(kafka.connect(), request(v, 2230 + v, "golden-txn"), response(v, 2230 + v, 16, -1, -1));
      await exchange(kafka.connect(), request(v, 2240 + v, ""), response(v, 2240 + v, 42, -1, -1));
    });
  }
});
