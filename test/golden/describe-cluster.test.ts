// Golden bytes: DescribeCluster (key 60), versions 0-1, both flexible
// (request header v2, response header v1). Checked field by field against
// DescribeClusterRequest.json / DescribeClusterResponse.json:
//
//   request:  include_cluster_authorized_operations bool, endpoint_type int8 (v1+, default 1)
//   response: throttle_time_ms int32, error_code int16, error_message
//             nullable COMPACT_STRING, endpoint_type int8 (v1+), cluster_id
//             COMPACT_STRING, controller_id int32, brokers COMPACT_ARRAY[
//             broker_id int32, host, port int32, rack nullable], cluster_authorized_operations int32
//
// As Kafka 4.4 answers on a broker listener: node 1 at 127.0.0.1:9092 is the
// only broker and the controller id; cluster operations 0x1fa0 when asked
// (CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS,
// IDEMPOTENT_WRITE), else INT32_MIN. endpoint_type 2 (controllers):
// MISMATCHED_ENDPOINT_TYPE (114); 0 or 3: UNSUPPORTED_ENDPOINT_TYPE (115);
// then cluster id "", controller -1, no brokers.

import { afterAll, beforeAll, describe, test } from "bun:test";
import { startInProcess, type InProcessBroker } from "../helpers.ts";
import { NULL_CSTR, TAGS, bool, carr, cstr, exchange, i16, i32, i8, requestHeader, responseHeader } from "./hex.ts";

const OPS_NOT_REQUESTED = "80000000";
const CLUSTER_OPS = "00001fa0";

function request(v: number, corr: number, ops: boolean, endpointType = 1): string {
  return `
    ${requestHeader(60, v, corr, true)}
    ${bool(ops)}  # include_cluster_authorized_operations = ${ops}
    ${v >= 1 ? `${i8(endpointType)}  # endpoint_type = ${endpointType}` : ""}
    ${TAGS}  # request tagged fields: none`;
}

function response(v: number, corr: number, o: { error?: number; message?: string | null; clusterId: string; controller: number; brokers: boolean; ops: string }): string {
  return `
    ${responseHeader(corr, true)}
    ${i32(0)}  # throttle_time_ms = 0
    ${i16(o.error ?? 0)}  # error_code = ${o.error ?? 0}
    ${o.message ? `${cstr(o.message)}  # error_message = "${o.message}"` : `${NULL_CSTR}  # error_message = null`}
    ${v >= 1 ? `${i8(1)}  # endpoint_type = 1 (brokers)` : ""}
    ${cstr(o.clusterId)}  # cluster_id = "${o.clusterId}"
    ${i32(o.controller)}  # controller_id = ${o.controller}
    ${carr(o.brokers ? 1 : 0)}  # brokers: ${o.brokers ? 1 : 0}
    ${o.brokers ? `${i32(1)}  # broker_id = 1\n      ${cstr("127.0.0.1")}  # host = "127.0.0.1"\n      ${i32(9092)}  # port = 9092\n      ${NULL_CSTR}  # rack = null\n      ${TAGS}  # broker tagged fields: none` : ""}
    ${o.ops}  # cluster_authorized_operations
    ${TAGS}  # response tagged fields: none`;
}

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startInProcess({ "node.id": "1" });
});
afterAll(() => kafka.close());

describe("DescribeCluster golden bytes", () => {
  for (const v of [0, 1]) {
    test(`v${v}: this node, the only broker and the controller`, async () => {
      const cid = kafka.storage.clusterId;
      await exchange(kafka.connect(), request(v, 600 + v, false), response(v, 600 + v, { clusterId: cid, controller: 1, brokers: true, ops: OPS_NOT_REQUESTED }));
    });
    test(`v${v}: with cluster authorized operations`, async () => {
      const cid = kafka.storage.clusterId;
      await exchange(kafka.connect(), request(v, 610 + v, true), response(v, 610 + v, { clusterId: cid, controller: 1, brokers: true, ops: CLUSTER_OPS }));
    });
  }

  test("v1: endpoint type 2 (controllers) on a broker listener: MISMATCHED_ENDPOINT_TYPE", async () => {
    const message = "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER";
    await exchange(kafka.connect(), request(1, 620, true, 2), response(1, 620, { error: 114, message, clusterId: "", controller: -1, brokers: false, ops: OPS_NOT_REQUESTED }));
  });

  for (const type of [0, 3]) {
    test(`v1: endpoint type ${type}: UNSUPPORTED_ENDPOINT_TYPE`, async () => {
      const message = `Unsupported endpoint type ${type}`;
      await exchange(kafka.connect(), request(1, 630 + type, false, type), response(1, 630 + type, { error: 115, message, clusterId: "", controller: -1, brokers: false, ops: OPS_NOT_REQUESTED }));
    });
  }
});
