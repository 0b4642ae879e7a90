// The message types derived from the definitions, checked by the compiler
// (`tsc --noEmit` is part of `npm test`): each @ts-expect-error below must be
// an error, or the type check fails. The test bodies only exist to hold them.

import { expect, test } from "bun:test";
import { decode, encode } from "../src/protocol/codec.ts";
import type { Decoded, Encodable } from "../src/protocol/schema.ts";
import { ProduceRequest, ProduceResponse } from "../src/protocol/messages/produce.ts";
import { MetadataRequest } from "../src/protocol/messages/metadata.ts";
import { DescribeTopicPartitionsRequest } from "../src/protocol/messages/describe-topic-partitions.ts";
import { defineHandler, type HandlerResult } from "../src/api/handler.ts";
import { HANDLERS } from "../src/api/index.ts";
import { encodeMetadataRecord } from "../src/metadata/log.ts";
import { PartitionChangeRecord, TopicRecord } from "../src/metadata/records.ts";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(): T => true as T;

test("decoded types: camelCase keys, primitives, arrays, structs, nullability", () => {
  type Req = Decoded<typeof ProduceRequest>;
  assertType<Equal<Req["acks"], number>>();
  assertType<Equal<Req["transactionalId"], string | null>>();
  assertType<Equal<Req["topicData"][number]["partitionData"][number]["records"], Uint8Array | null>>();
  type Dtp = Decoded<typeof DescribeTopicPartitionsRequest>;
  assertType<Equal<Dtp["cursor"], { readonly topicName: string; readonly partitionIndex: number } | null>>();
  type Md = Decoded<typeof MetadataRequest>;
  assertType<Equal<Md["topics"], readonly { readonly topicId: Uint8Array; readonly name: string | null }[] | null>>();

  const req = decode(ProduceRequest, 9, encode(ProduceRequest, 9, { acks: 1, timeoutMs: 5, topicData: [] }));
  // @ts-expect-error misspelt field
  expect(req.ack).toBeUndefined();
  // @ts-expect-error decoded messages are read-only
  req.acks = 2;
});

test("encodable types: defaults and tagged fields optional, the rest required, nothing unknown", () => {
  const partition: Encodable<typeof ProduceResponse>["responses"][number]["partitionResponses"][number] = {
    index: 0,
    errorCode: 0,
    baseOffset: 0,
    recordErrors: [],
    // logAppendTimeMs, logStartOffset, errorMessage (defaults) and currentLeader (tagged) left out
  };
  encode(ProduceResponse, 9, { responses: [{ name: "t", partitionResponses: [partition] }] });
  // @ts-expect-error baseOffset has no default: required
  encode(ProduceResponse, 9, { responses: [{ name: "t", partitionResponses: [{ index: 0, errorCode: 0, recordErrors: [] }] }] });
  // @ts-expect-error unknown field
  encode(ProduceResponse, 9, { responses: [], bogus: 1 });
  // @ts-expect-error wrong type
  encode(ProduceResponse, 9, { responses: [], throttleTimeMs: "0" });
  encodeMetadataRecord(PartitionChangeRecord, 0, { partitionId: 0, topicId: new Uint8Array(16), isr: null });
  // @ts-expect-error TopicRecord needs its topic id
  encodeMetadataRecord(TopicRecord, 0, { name: "x" });
  expect(partition.index).toBe(0);
});

test("handlers: request and response types follow from the definitions", () => {
  const h = defineHandler({
    key: 0,
    name: "Produce",
    request: ProduceRequest,
    response: ProduceResponse,
    minVersion: 0,
    maxVersion: 11,
    handle(req) {
      assertType<Equal<typeof req, Decoded<typeof ProduceRequest>>>();
      return { responses: req.topicData.map((t) => ({ name: t.name, partitionResponses: [] })) };
    },
  });
  defineHandler({
    ...h,
    // with the return type declared (as src/api does), unknown fields are errors
    // @ts-expect-error a response field that ProduceResponse lacks
    handle: (): HandlerResult<Encodable<typeof ProduceResponse>> => ({ responses: [], errorCode: 0 }),
  });
  defineHandler({
    ...h,
    // @ts-expect-error a missing response field (responses) is an error even when the return type is inferred
    handle: () => ({ throttleTimeMs: 0 }),
  });
  defineHandler({
    ...h,
    // @ts-expect-error key must be the request's apiKey
    key: 1,
  });
  expect(HANDLERS.map((x) => x.key)).toContain(h.key);
});
