// ListPartitionReassignments (key 46), version 0, answered as Kafka 4.4's
// controller (ReplicationControlManager.listPartitionReassignments) does for
// one KRaft node: it lists only partitions being reassigned, and nothing ever
// is here (AlterPartitionReassignments has nowhere to move a replica), so the
// answer is always an empty topic list, error NONE, message null: for topics
// null (all), for an empty list, and for named topics, unknown topics and
// partitions included (Kafka leaves them out without an error; checked
// against Kafka 4.4 in the differential test). timeout_ms never waits.

import { ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse } from "../protocol/messages/list-partition-reassignments.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { Encodable } from "../protocol/schema.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";

type Response = Encodable<typeof ListPartitionReassignmentsResponse>;

export const listPartitionReassignments = defineHandler({
  key: 46,
  name: "ListPartitionReassignments",
  request: ListPartitionReassignmentsRequest,
  response: ListPartitionReassignmentsResponse,
  minVersion: 0,
  maxVersion: 0,
  handle(): HandlerResult<Response> {
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, topics: [] };
  },
});
