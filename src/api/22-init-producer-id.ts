// InitProducerId (key 22), v0-5 as Kafka 4.4 serves them.
// Without a transactional id (idempotent producers) Kafka's TransactionCoordinator
// blindly hands out a fresh producer id at epoch 0, also when the request
// carries a current id and epoch (KIP-360: for a non-transactional producer a
// bump is a new id). A producer id given without an epoch, or the reverse, is
// INVALID_REQUEST (KafkaApis). Ids come from blocks of 1000 logged as
// ProducerIdsRecords in the metadata log, so none is reused after a restart.
// Transactions are not served yet: a transactional id gets NOT_COORDINATOR,
// what Kafka 4.4 answers while no broker is the coordinator for it (before
// __transaction_state exists); "" is INVALID_REQUEST, as Kafka answers.

import { InitProducerIdRequest, InitProducerIdResponse } from "../protocol/messages/init-producer-id.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import type { Encodable } from "../protocol/schema.ts";
import { log } from "../log.ts";

type Response = Encodable<typeof InitProducerIdResponse>;

function error(code: number): Response {
  return { throttleTimeMs: 0, errorCode: code, producerId: -1, producerEpoch: -1 };
}

export const initProducerId = defineHandler({
  key: 22,
  name: "InitProducerId",
  request: InitProducerIdRequest,
  response: InitProducerIdResponse,
  minVersion: 0,
  maxVersion: 5,
  handle(req, { broker }): HandlerResult<Response> {
    const pid = req.producerId;
    const epoch = req.producerEpoch;
    if ((pid === -1) !== (epoch === -1)) return error(ErrorCode.INVALID_REQUEST);
    if (req.transactionalId !== null) {
      if (req.transactionalId === "") return error(ErrorCode.INVALID_REQUEST);
      return error(ErrorCode.NOT_COORDINATOR);
    }
    let producerId: number;
    try {
      producerId = broker.metadata.newProducerId();
    } catch (e) {
      log.error(`InitProducerId: ${(e as Error).message}`);
      return error(ErrorCode.UNKNOWN_SERVER_ERROR);
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId, producerEpoch: 0 };
  },
});
