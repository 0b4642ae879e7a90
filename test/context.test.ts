// The request context: handlers see the connection's session, and its signal
// fires when the connection closes, so a waiting request stops waiting and
// holds nothing.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { requestFrame, startInProcess, type InProcessBroker } from "./helpers.ts";
import { encode, isFlexible } from "../src/protocol/codec.ts";
import { FetchRequest } from "../src/protocol/messages/fetch.ts";

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startInProcess();
  kafka.storage.createTopic("ctx", 1);
});
afterAll(() => kafka.close());

function longPoll(corr: number): Uint8Array {
  const body = encode(FetchRequest, 12, {
    replicaId: -1,
    maxWaitMs: 60000,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic: "ctx", topicId: new Uint8Array(16), partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, lastFetchedEpoch: -1, logStartOffset: -1 }] }],
    forgottenTopicsData: [],
    rackId: "",
  });
  return requestFrame(1, 12, corr, "ctx-test", body, isFlexible(FetchRequest, 12));
}

describe("request context", () => {
  test("a long-poll fetch whose connection closes stops waiting at once and leaves no waiter behind", async () => {
    const before = kafka.broker.waitingFetches;
    const conns = [kafka.connect(), kafka.connect(), kafka.connect()];
    conns.forEach((c, i) => c.send(longPoll(10 + i)));
    expect(kafka.broker.waitingFetches).toBe(before + 3);
    conns[0]!.disconnect();
    conns[1]!.disconnect();
    expect(kafka.broker.waitingFetches).toBe(before + 1);
    // the one still connected is still waiting, and nothing was written to the closed ones
    expect(conns[0]!.take().length).toBe(0);
    conns[2]!.disconnect();
    expect(kafka.broker.waitingFetches).toBe(before);
  });

  test("the session names the client, the listener and the principal", async () => {
    const seen: unknown[] = [];
    const { HANDLERS_BY_KEY } = await import("../src/api/index.ts");
    const apiVersions = HANDLERS_BY_KEY.get(18)!;
    const original = apiVersions.handle;
    apiVersions.handle = (req, ctx) => {
      seen.push({ ...ctx.session, signal: ctx.session.signal.aborted, version: ctx.apiVersion, clientId: ctx.header.clientId });
      return original(req, ctx);
    };
    try {
      const c = kafka.connect();
      c.send(requestFrame(18, 0, 1, "who", new Uint8Array(0), false));
      await c.waitFor(1);
    } finally {
      apiVersions.handle = original;
    }
    expect(seen).toEqual([{ clientAddress: "test", listenerName: "PLAINTEXT", securityProtocol: "PLAINTEXT", principal: "User:ANONYMOUS", signal: false, version: 0, clientId: "who" }]);
  });
});
