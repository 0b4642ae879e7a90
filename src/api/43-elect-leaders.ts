// ElectLeaders (key 43), versions 0-2, answered as Kafka 4.4's controller
// (QuorumController.electLeaders, ReplicationControlManager.electLeaders,
// ControllerApis.handleElectLeaders) does for one KRaft node without an
// authorizer (checked against Kafka 4.4 in the differential test):
// - election_type (v1+) 0 preferred or 1 unclean; v0 has none and is preferred.
//   Any other type fails the whole request: top-level INVALID_REQUEST (42) and
//   every named partition INVALID_REQUEST "Unknown election type N"
//   (ElectLeadersRequest.getErrorResponse), none listed when topic_partitions
//   is null;
// - one node: every partition's only replica is its leader, the preferred one,
//   so each named existing partition is ELECTION_NOT_NEEDED (84) with Kafka's
//   default message "Leader election not needed for topic partition." (both
//   types: unclean is needed only without a leader);
// - an unknown topic UNKNOWN_TOPIC_OR_PARTITION "No such topic as T", an
//   unknown partition UNKNOWN_TOPIC_OR_PARTITION "No such partition as T-P";
// - answers in request order: a topic listed twice is answered twice, a
//   partition listed twice too, a topic with no partitions with an empty list;
// - topic_partitions null (all partitions): every topic (internal ones too),
//   each with an empty partition list, as Kafka leaves out the partitions for
//   which no election was needed; Kafka lists the topics in its hash map's
//   order, ours in the image's (creation) order;
// - topic_partitions empty: an empty answer, error NONE, whatever the type
//   (Kafka answers before looking at it).
// Top-level error_code (v1+) NONE otherwise; v0 has none. timeout_ms never waits.

import { ElectLeadersRequest, ElectLeadersResponse } from "../protocol/messages/elect-leaders.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { Encodable } from "../protocol/schema.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";

type Response = Encodable<typeof ElectLeadersResponse>;
type TopicResult = Response["replicaElectionResults"][number];
type PartitionResult = TopicResult["partitionResult"][number];

const PREFERRED = 0;
const UNCLEAN = 1;

export const electLeaders = defineHandler({
  key: 43,
  name: "ElectLeaders",
  request: ElectLeadersRequest,
  response: ElectLeadersResponse,
  minVersion: 0,
  maxVersion: 2,
  handle(req, { broker, apiVersion }): HandlerResult<Response> {
    const named = req.topicPartitions;
    if (named !== null && named.length === 0) return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: [] };
    const type = apiVersion === 0 ? PREFERRED : req.electionType;
    if (type !== PREFERRED && type !== UNCLEAN) {
      const message = `Unknown election type ${type}`;
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.INVALID_REQUEST,
        replicaElectionResults: (named ?? []).map((t) => ({
          topic: t.topic,
          partitionResult: t.partitions.map((p) => ({ partitionId: p, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: message })),
        })),
      };
    }
    const image = broker.storage.image;
    if (named === null) {
      // every partition has its preferred leader: none is listed
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: [...image.topics.keys()].map((topic) => ({ topic, partitionResult: [] })) };
    }
    const elect = (topic: string, partitionId: number): PartitionResult => {
      const info = image.topics.get(topic);
      if (!info) return { partitionId, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such topic as ${topic}` };
      if (!info.partitions[partitionId]) return { partitionId, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such partition as ${topic}-${partitionId}` };
      return { partitionId, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: "Leader election not needed for topic partition." };
    };
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      replicaElectionResults: named.map((t) => ({ topic: t.topic, partitionResult: t.partitions.map((p) => elect(t.topic, p)) })),
    };
  },
});
