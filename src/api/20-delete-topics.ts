// DeleteTopics (key 20), versions 1-6; v0 was removed in Kafka 4 (KIP-896):
// not advertised, and a v0 request closes the connection.
// As Kafka's controller (ControllerApis.deleteTopics) answers it:
// - delete.topic.enable=false: every requested topic gets
//   TOPIC_DELETION_DISABLED (INVALID_REQUEST below v3), no message.
// - timeout_ms 0 or less: every requested topic gets REQUEST_TIMED_OUT, no
//   message, the ids as asked, and nothing is deleted (Kafka's controller
//   deadline has passed before the deletion runs).
// - by name (topic_names to v5, topics[].name from v6) or by id (v6, name
//   null). A name and an id together: INVALID_REQUEST "You may not specify
//   both topic name and topic id."; neither: INVALID_REQUEST "Neither topic
//   name nor id were specified." (null name, zero id).
// - a name listed twice: one INVALID_REQUEST "Duplicate topic name." (zero
//   id), an id twice: "Duplicate topic id." (null name); a name that maps to
//   an id also given: INVALID_REQUEST "The provided topic name maps to an ID
//   that was already supplied." and neither is deleted.
// - an unknown name: UNKNOWN_TOPIC_OR_PARTITION, an unknown id:
//   UNKNOWN_TOPIC_ID (null name), each with Kafka's default message. The
//   metadata log's own topic (__cluster_metadata) is not a topic of the
//   metadata image, so it is unknown here as in Kafka.
// - deleted: name, id, NONE, null message. One RemoveTopicRecord per topic;
//   storage renames the partition dirs `-delete` and removes them once unread.
// Kafka shuffles the responses (so positions say nothing); ours are in the
// order the errors and deletions were found, which is Kafka's before its shuffle.
// A positive TimeoutMs is not waited on: the deletion is in the log before the answer.

import { DeleteTopicsRequest, DeleteTopicsResponse } from "../protocol/messages/delete-topics.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/codec.ts";
import { isZeroUuid } from "../metadata/uuid.ts";
import { MetadataError } from "../metadata/store.ts";
import type { Encodable } from "../protocol/schema.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import { topicById, uuidKey } from "./topics.ts";

// Annotations with these types make unknown fields in the literals errors (inferred returns are not checked for them).
type Response = Encodable<typeof DeleteTopicsResponse>;
type TopicResult = Response["responses"][number];

/** Kafka's Errors default messages, which ApiError carries when none is given. */
const UNKNOWN_TOPIC_MESSAGE = "This server does not host this topic-partition.";
const UNKNOWN_TOPIC_ID_MESSAGE = "This server does not host this topic ID.";

export const deleteTopics = defineHandler({
  key: 20,
  name: "DeleteTopics",
  request: DeleteTopicsRequest,
  response: DeleteTopicsResponse,
  minVersion: 1,
  maxVersion: 6,
  handle(req, { broker, header }): HandlerResult<Response> {
    const version = header.apiVersion;
    const requested = version >= 6 ? req.topics : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    // DeleteTopicsRequest.getErrorResponse: every topic as asked, the code only
    const failAll = (code: number): Response => ({ throttleTimeMs: 0, responses: requested.map((t): TopicResult => ({ name: t.name, topicId: t.topicId, errorCode: code, errorMessage: null })) });
    if (!broker.config.deleteTopicEnable) return failAll(version < 3 ? ErrorCode.INVALID_REQUEST : ErrorCode.TOPIC_DELETION_DISABLED);
    // Kafka's controller runs the deletion under a deadline of now + timeout_ms: at 0 or less it has passed
    // before the deletion runs, and the whole request fails; nothing is deleted
    if (req.timeoutMs <= 0) return failAll(ErrorCode.REQUEST_TIMED_OUT);
    const responses: TopicResult[] = [];
    const answer = (name: string | null, topicId: Uint8Array, errorCode: number, errorMessage: string | null) => responses.push({ name, topicId, errorCode, errorMessage });

    const names = new Set<string>();
    const dupNames = new Set<string>();
    const ids = new Map<string, Uint8Array>();
    const dupIds = new Map<string, Uint8Array>();
    const addName = (name: string) => {
      if (dupNames.has(name) || names.has(name)) {
        dupNames.add(name);
        names.delete(name);
      } else names.add(name);
    };
    for (const t of requested) {
      const zero = isZeroUuid(t.topicId);
      if (t.name === null) {
        if (zero) answer(null, ZERO_UUID, ErrorCode.INVALID_REQUEST, "Neither topic name nor id were specified.");
        else {
          const k = uuidKey(t.topicId);
          if (dupIds.has(k) || ids.has(k)) {
            dupIds.set(k, t.topicId);
            ids.delete(k);
          } else ids.set(k, t.topicId);
        }
      } else if (zero) addName(t.name);
      else answer(t.name, t.topicId, ErrorCode.INVALID_REQUEST, "You may not specify both topic name and topic id.");
    }
    for (const name of dupNames) answer(name, ZERO_UUID, ErrorCode.INVALID_REQUEST, "Duplicate topic name.");
    for (const id of dupIds.values()) answer(null, id, ErrorCode.INVALID_REQUEST, "Duplicate topic id.");

    // ids to names; then names to ids
    const toDelete = new Map<string, string>(); // id key -> name
    for (const [k, id] of ids) {
      const t = topicById(broker, id);
      if (!t) answer(null, id, ErrorCode.UNKNOWN_TOPIC_ID, UNKNOWN_TOPIC_ID_MESSAGE);
      else toDelete.set(k, t.name);
    }
    for (const name of names) {
      const t = broker.topic(name);
      if (!t) {
        answer(name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_MESSAGE);
        continue;
      }
      const k = uuidKey(t.id);
      if (dupIds.has(k) || toDelete.has(k)) {
        dupIds.set(k, t.id);
        toDelete.delete(k);
        answer(name, t.id, ErrorCode.INVALID_REQUEST, "The provided topic name maps to an ID that was already supplied.");
      } else toDelete.set(k, name);
    }

    for (const name of toDelete.values()) {
      const t = broker.topic(name)!;
      try {
        broker.metadata.deleteTopic(name);
        answer(name, t.id, ErrorCode.NONE, null);
      } catch (e) {
        if (!(e instanceof MetadataError)) throw e;
        answer(name, t.id, e.code, e.message);
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});
