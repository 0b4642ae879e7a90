// InitProducerId (key 22): a producer id and epoch for an idempotent (or, with
// a transactional id, transactional) producer. v3+ carry the producer's
// current id and epoch (KIP-360 epoch bump).
import { defineMessage } from "../schema.ts";

export const InitProducerIdRequest = defineMessage({
  name: "InitProducerIdRequest",
  apiKey: 22,
  type: "request",
  validVersions: "0-5",
  flexibleVersions: "2+",
  fields: [
    { name: "TransactionalId", type: "string", versions: "0+", nullableVersions: "0+" },
    { name: "TransactionTimeoutMs", type: "int32", versions: "0+" },
    { name: "ProducerId", type: "int64", versions: "3+", default: "-1" },
    { name: "ProducerEpoch", type: "int16", versions: "3+", default: "-1" },
  ],
});

export const InitProducerIdResponse = defineMessage({
  name: "InitProducerIdResponse",
  apiKey: 22,
  type: "response",
  validVersions: "0-5",
  flexibleVersions: "2+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "0+" },
    { name: "ErrorCode", type: "int16", versions: "0+" },
    { name: "ProducerId", type: "int64", versions: "0+", default: "-1" },
    { name: "ProducerEpoch", type: "int16", versions: "0+" },
  ],
});
