// DescribeGroups (key 15), v0-5 as Kafka 4.4 serves them (its v6 adds
// GROUP_ID_NOT_FOUND and a message; we define v0-5). A group this broker does
// not know is described as Dead with no error, as Kafka does below v6; an
// empty group id is a group like any other (Kafka keeps it for backwards
// compatibility: OffsetCommit may make a group ""). Member metadata is given only while
// the group is Stable (Kafka's describeNoMetadata otherwise). From v3 the
// authorized operations are given when asked: with no authorizer every group
// operation (READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS).

import { DescribeGroupsRequest, DescribeGroupsResponse } from "../protocol/messages/describe-groups.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import type { Encodable } from "../protocol/schema.ts";
import { OPERATIONS_NOT_REQUESTED } from "./topics.ts";

type Response = Encodable<typeof DescribeGroupsResponse>;

/** AclEntry.supportedOperations(GROUP): READ(3), DELETE(6), DESCRIBE(8), DESCRIBE_CONFIGS(10), ALTER_CONFIGS(11) */
export const ALL_GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11);

export const describeGroups = defineHandler({
  key: 15,
  name: "DescribeGroups",
  request: DescribeGroupsRequest,
  response: DescribeGroupsResponse,
  minVersion: 0,
  maxVersion: 5,
  handle(req, { broker }): HandlerResult<Response> {
    const ops = req.includeAuthorizedOperations ? ALL_GROUP_OPERATIONS : OPERATIONS_NOT_REQUESTED;
    return {
      throttleTimeMs: 0,
      groups: req.groups.map((groupId) => {
        const g = broker.groups.describeGroup(groupId);
        return { ...g, authorizedOperations: g.errorCode === ErrorCode.NONE ? ops : OPERATIONS_NOT_REQUESTED };
      }),
    };
  },
});
