// Round trips of the group messages and the __consumer_offsets records: each
// row is a value with the fields of every version; at each version the row
// covers, the fields that version carries are encoded, decoded back to the
// same value and re-encoded to the same bytes. None of these messages has a
// tagged field; their flexible versions still carry the (empty) tag buffers.

import { describe, expect, test } from "bun:test";
import { decode, encode } from "../src/protocol/codec.ts";
import { camel, inRange, parseVersions, type Encodable, type FieldDef, type MessageDef } from "../src/protocol/schema.ts";
import { FindCoordinatorRequest, FindCoordinatorResponse } from "../src/protocol/messages/find-coordinator.ts";
import { JoinGroupRequest, JoinGroupResponse } from "../src/protocol/messages/join-group.ts";
import { HeartbeatRequest, HeartbeatResponse } from "../src/protocol/messages/heartbeat.ts";
import { LeaveGroupRequest, LeaveGroupResponse } from "../src/protocol/messages/leave-group.ts";
import { SyncGroupRequest, SyncGroupResponse } from "../src/protocol/messages/sync-group.ts";
import { DescribeGroupsRequest, DescribeGroupsResponse } from "../src/protocol/messages/describe-groups.ts";
import { ListGroupsRequest, ListGroupsResponse } from "../src/protocol/messages/list-groups.ts";
import { OffsetCommitRequest, OffsetCommitResponse } from "../src/protocol/messages/offset-commit.ts";
import { OffsetFetchRequest, OffsetFetchResponse } from "../src/protocol/messages/offset-fetch.ts";
import { DeleteGroupsRequest, DeleteGroupsResponse } from "../src/protocol/messages/delete-groups.ts";
import { OffsetDeleteRequest, OffsetDeleteResponse } from "../src/protocol/messages/offset-delete.ts";
import { GroupMetadataKey, GroupMetadataValue, OffsetCommitKey, OffsetCommitValue } from "../src/coordinator/group/records.ts";
import type { Msg } from "./helpers.ts";

interface Row {
  def: MessageDef;
  /** the versions the value is valid at (a null where only some versions allow one); all of def's by default */
  versions: string;
  value: Msg;
}

function row<D extends MessageDef>(def: D, value: Encodable<D>, versions = def.validVersions): Row {
  return { def, versions, value: value as Msg };
}

/** The fields of `value` that go on the wire at `version`, recursively. */
function onWire(fields: readonly FieldDef[], version: number, value: Msg): Msg {
  const out: Msg = {};
  for (const f of fields) {
    if (!inRange(parseVersions(f.versions), version)) continue;
    const key = camel(f.name);
    const v = value[key];
    if (f.fields && v !== null && v !== undefined) out[key] = f.type.startsWith("[]") ? (v as Msg[]).map((e) => onWire(f.fields!, version, e)) : onWire(f.fields, version, v);
    else out[key] = v;
  }
  return out;
}

const meta = new Uint8Array([0, 3, 0, 0, 0, 1, 0, 1, 116, 255, 255, 255, 255]);
const assignment = new Uint8Array([0, 3, 0, 0, 0, 1, 0, 1, 116, 0, 0, 0, 1, 0, 0, 0, 0]);
const none = new Uint8Array(0);

const ROWS: Row[] = [
  row(FindCoordinatorRequest, { key: "my-group", keyType: 0, coordinatorKeys: ["g1", "g2"] }),
  row(FindCoordinatorRequest, { key: "txn-1", keyType: 1, coordinatorKeys: [] }),
  row(FindCoordinatorResponse, {
    throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: 1, host: "localhost", port: 9092,
    coordinators: [
      { key: "g1", nodeId: 1, host: "localhost", port: 9092, errorCode: 0, errorMessage: null },
      { key: "g2", nodeId: -1, host: "", port: -1, errorCode: 15, errorMessage: "The coordinator is not available." },
    ],
  }),
  row(FindCoordinatorResponse, { throttleTimeMs: 7, errorCode: 15, errorMessage: "not available", nodeId: -1, host: "", port: -1, coordinators: [] }),

  row(JoinGroupRequest, {
    groupId: "g", sessionTimeoutMs: 45000, rebalanceTimeoutMs: 300000, memberId: "", groupInstanceId: null, protocolType: "consumer",
    protocols: [{ name: "range", metadata: meta }, { name: "cooperative-sticky", metadata: none }],
    reason: null,
  }),
  row(JoinGroupRequest, { groupId: "g", sessionTimeoutMs: 10000, rebalanceTimeoutMs: -1, memberId: "m-1", groupInstanceId: "instance-1", protocolType: "consumer", protocols: [], reason: "rejoin" }),
  row(JoinGroupResponse, {
    throttleTimeMs: 0, errorCode: 0, generationId: 3, protocolType: "consumer", protocolName: "range", leader: "m-1", skipAssignment: false, memberId: "m-1",
    members: [{ memberId: "m-1", groupInstanceId: null, metadata: meta }, { memberId: "m-2", groupInstanceId: "instance-2", metadata: none }],
  }),
  // ProtocolName is nullable from v7 only
  row(JoinGroupResponse, { throttleTimeMs: 5, errorCode: 27, generationId: -1, protocolType: null, protocolName: null, leader: "", skipAssignment: true, memberId: "", members: [] }, "7+"),

  row(HeartbeatRequest, { groupId: "g", generationId: 3, memberId: "m-1", groupInstanceId: null }),
  row(HeartbeatRequest, { groupId: "g", generationId: -1, memberId: "", groupInstanceId: "instance-1" }),
  row(HeartbeatResponse, { throttleTimeMs: 0, errorCode: 0 }),
  row(HeartbeatResponse, { throttleTimeMs: 100, errorCode: 27 }),

  row(LeaveGroupRequest, {
    groupId: "g", memberId: "m-1",
    members: [{ memberId: "m-1", groupInstanceId: null, reason: null }, { memberId: "", groupInstanceId: "instance-2", reason: "the consumer is being closed" }],
  }),
  row(LeaveGroupRequest, { groupId: "g", memberId: "", members: [] }),
  row(LeaveGroupResponse, { throttleTimeMs: 0, errorCode: 0, members: [{ memberId: "m-1", groupInstanceId: null, errorCode: 0 }, { memberId: "m-2", groupInstanceId: "instance-2", errorCode: 25 }] }),
  row(LeaveGroupResponse, { throttleTimeMs: 3, errorCode: 16, members: [] }),

  row(SyncGroupRequest, {
    groupId: "g", generationId: 3, memberId: "m-1", groupInstanceId: null, protocolType: "consumer", protocolName: "range",
    assignments: [{ memberId: "m-1", assignment }, { memberId: "m-2", assignment: none }],
  }),
  row(SyncGroupRequest, { groupId: "g", generationId: 3, memberId: "m-2", groupInstanceId: "instance-2", protocolType: null, protocolName: null, assignments: [] }),
  row(SyncGroupResponse, { throttleTimeMs: 0, errorCode: 0, protocolType: "consumer", protocolName: "range", assignment }),
  row(SyncGroupResponse, { throttleTimeMs: 0, errorCode: 27, protocolType: null, protocolName: null, assignment: none }),

  row(DescribeGroupsRequest, { groups: ["g1", "g2"], includeAuthorizedOperations: true }),
  row(DescribeGroupsRequest, { groups: [], includeAuthorizedOperations: false }),
  row(DescribeGroupsResponse, {
    throttleTimeMs: 0,
    groups: [
      {
        errorCode: 0, groupId: "g1", groupState: "Stable", protocolType: "consumer", protocolData: "range",
        members: [{ memberId: "m-1", groupInstanceId: null, clientId: "client-1", clientHost: "/127.0.0.1", memberMetadata: meta, memberAssignment: assignment }],
        authorizedOperations: -2147483648,
      },
      { errorCode: 0, groupId: "g2", groupState: "Dead", protocolType: "", protocolData: "", members: [], authorizedOperations: 0b11010 },
    ],
  }),
  row(DescribeGroupsResponse, {
    throttleTimeMs: 9,
    groups: [
      {
        errorCode: 0, groupId: "g", groupState: "CompletingRebalance", protocolType: "consumer", protocolData: "",
        members: [{ memberId: "m-2", groupInstanceId: "instance-2", clientId: "", clientHost: "", memberMetadata: none, memberAssignment: none }],
        authorizedOperations: 0,
      },
    ],
  }),

  row(ListGroupsRequest, { statesFilter: ["Stable", "Empty"], typesFilter: ["classic"] }),
  row(ListGroupsRequest, { statesFilter: [], typesFilter: [] }),
  row(ListGroupsResponse, {
    throttleTimeMs: 0, errorCode: 0,
    groups: [
      { groupId: "g1", protocolType: "consumer", groupState: "Stable", groupType: "classic" },
      { groupId: "connect-x", protocolType: "connect", groupState: "Empty", groupType: "classic" },
    ],
  }),
  row(ListGroupsResponse, { throttleTimeMs: 0, errorCode: 15, groups: [] }),

  row(OffsetCommitRequest, {
    groupId: "g", generationIdOrMemberEpoch: 3, memberId: "m-1", groupInstanceId: null, retentionTimeMs: -1,
    topics: [
      {
        name: "t",
        partitions: [
          { partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: 5, commitTimestamp: 1700000000000, committedMetadata: null },
          { partitionIndex: 1, committedOffset: 2 ** 40, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: "meta" },
        ],
      },
    ],
  }),
  row(OffsetCommitRequest, { groupId: "g", generationIdOrMemberEpoch: -1, memberId: "", groupInstanceId: "instance-1", retentionTimeMs: 86400000, topics: [] }),
  row(OffsetCommitResponse, { throttleTimeMs: 0, topics: [{ name: "t", partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 1, errorCode: 22 }] }] }),
  row(OffsetCommitResponse, { throttleTimeMs: 12, topics: [] }),

  row(OffsetFetchRequest, {
    groupId: "g", topics: [{ name: "t", partitionIndexes: [0, 1, 2] }],
    groups: [
      { groupId: "g1", memberId: null, memberEpoch: -1, topics: [{ name: "t", partitionIndexes: [0] }] },
      { groupId: "g2", memberId: "m-1", memberEpoch: 7, topics: null },
    ],
    requireStable: true,
  }),
  // the top-level Topics is nullable at v2-7 only (all topics)
  row(OffsetFetchRequest, { groupId: "g", topics: null, groups: [], requireStable: false }, "2-7"),
  row(OffsetFetchResponse, {
    throttleTimeMs: 0,
    topics: [
      {
        name: "t",
        partitions: [
          { partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: 5, metadata: null, errorCode: 0 },
          { partitionIndex: 1, committedOffset: -1, committedLeaderEpoch: -1, metadata: "", errorCode: 0 },
        ],
      },
    ],
    errorCode: 0,
    groups: [
      { groupId: "g1", topics: [{ name: "t", partitions: [{ partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: 5, metadata: null, errorCode: 0 }] }], errorCode: 0 },
      { groupId: "g2", topics: [], errorCode: 16 },
    ],
  }),
  row(OffsetFetchResponse, { throttleTimeMs: 10, topics: [], errorCode: 16, groups: [] }),

  row(DeleteGroupsRequest, { groupsNames: ["g1", "g2"] }),
  row(DeleteGroupsRequest, { groupsNames: [] }),
  row(DeleteGroupsResponse, { throttleTimeMs: 0, results: [{ groupId: "g1", errorCode: 0 }, { groupId: "g2", errorCode: 68 }] }),
  row(DeleteGroupsResponse, { throttleTimeMs: 4, results: [] }),

  row(OffsetDeleteRequest, { groupId: "g", topics: [{ name: "t", partitions: [{ partitionIndex: 0 }, { partitionIndex: 3 }] }] }),
  row(OffsetDeleteRequest, { groupId: "g", topics: [] }),
  row(OffsetDeleteResponse, { errorCode: 0, throttleTimeMs: 0, topics: [{ name: "t", partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 3, errorCode: 86 }] }] }),
  row(OffsetDeleteResponse, { errorCode: 69, throttleTimeMs: 0, topics: [] }),

  row(OffsetCommitKey, { group: "g", topic: "t", partition: 0 }),
  row(OffsetCommitKey, { group: "", topic: "a.topic-with_chars", partition: 2 ** 31 - 1 }),
  row(OffsetCommitValue, { offset: 42, leaderEpoch: 5, metadata: "", commitTimestamp: 1700000000000, expireTimestamp: 1700086400000 }),
  row(OffsetCommitValue, { offset: 2 ** 40, leaderEpoch: -1, metadata: "meta", commitTimestamp: -1, expireTimestamp: -1 }),
  row(GroupMetadataKey, { group: "g" }),
  row(GroupMetadataKey, { group: "connect-cluster" }),
  row(GroupMetadataValue, {
    protocolType: "consumer", generation: 3, protocol: "range", leader: "m-1", currentStateTimestamp: 1700000000000,
    members: [
      { memberId: "m-1", groupInstanceId: null, clientId: "client-1", clientHost: "/127.0.0.1", rebalanceTimeout: 300000, sessionTimeout: 45000, subscription: meta, assignment },
      { memberId: "m-2", groupInstanceId: "instance-2", clientId: "", clientHost: "", rebalanceTimeout: -1, sessionTimeout: 10000, subscription: none, assignment: none },
    ],
  }),
  row(GroupMetadataValue, { protocolType: "", generation: 0, protocol: null, leader: null, currentStateTimestamp: -1, members: [] }),
];

describe("group messages round trip at every version", () => {
  for (const [i, { def, versions, value }] of ROWS.entries()) {
    const valid = parseVersions(def.validVersions);
    const covered = parseVersions(versions);
    for (let v = Math.max(valid.min, covered.min); v <= Math.min(valid.max, covered.max); v++) {
      test(`${def.name} v${v} #${i}`, () => {
        const input = onWire(def.fields, v, value);
        const bytes = encode(def, v, input);
        const back = decode(def, v, bytes);
        expect(onWire(def.fields, v, back)).toEqual(input);
        expect(encode(def, v, back)).toEqual(bytes);
      });
    }
  }
});
