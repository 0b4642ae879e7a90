// DescribeCluster (key 60), versions 0-1.
// As a Kafka broker answers it (KafkaApis.handleDescribeCluster): this node
// is the only broker, at the address advertised for the listener the request
// came in on; the controller id is this node's id (Kafka names a random alive
// broker, so admin clients send controller requests to a broker); cluster
// authorized operations when asked (every cluster operation: no authorizer),
// else the schema's default. EndpointType (v1) 1 = brokers is answered; 2 =
// controllers is MISMATCHED_ENDPOINT_TYPE on a broker listener, any other
// value UNSUPPORTED_ENDPOINT_TYPE (both INVALID_REQUEST at v0, where the
// field is not sent and so is 1), with Kafka's messages and otherwise the
// schema's defaults (cluster id "", controller -1, no brokers).

import { DescribeClusterRequest, DescribeClusterResponse } from "../protocol/messages/describe-cluster.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { Encodable } from "../protocol/schema.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";
import { ALL_CLUSTER_OPERATIONS, OPERATIONS_NOT_REQUESTED } from "./topics.ts";

type Response = Encodable<typeof DescribeClusterResponse>;

const BROKER_ENDPOINT = 1;
const ENDPOINT_NAMES: Record<number, string> = { 1: "BROKER", 2: "CONTROLLER" };

export const describeCluster = defineHandler({
  key: 60,
  name: "DescribeCluster",
  request: DescribeClusterRequest,
  response: DescribeClusterResponse,
  minVersion: 0,
  maxVersion: 1,
  handle(req, { broker, header, session }): HandlerResult<Response> {
    const v0 = header.apiVersion === 0;
    const type = req.endpointType;
    const failed = (code: number, message: string): Response => ({
      throttleTimeMs: 0,
      errorCode: v0 ? ErrorCode.INVALID_REQUEST : code,
      errorMessage: message,
      endpointType: BROKER_ENDPOINT,
      clusterId: "",
      controllerId: -1,
      brokers: [],
      clusterAuthorizedOperations: OPERATIONS_NOT_REQUESTED,
    });
    if (!(type in ENDPOINT_NAMES)) return failed(ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, `Unsupported endpoint type ${type}`);
    if (type !== BROKER_ENDPOINT) {
      return failed(ErrorCode.MISMATCHED_ENDPOINT_TYPE, `The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type ${ENDPOINT_NAMES[type]}`);
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: BROKER_ENDPOINT,
      clusterId: broker.clusterId,
      controllerId: broker.nodeId,
      brokers: [{ brokerId: broker.nodeId, ...broker.advertisedFor(session.listenerName), rack: null }],
      clusterAuthorizedOperations: req.includeClusterAuthorizedOperations ? ALL_CLUSTER_OPERATIONS : OPERATIONS_NOT_REQUESTED,
    };
  },
});
