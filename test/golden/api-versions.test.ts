// Golden bytes: ApiVersions (key 18), versions 0-4, plus unsupported versions.
// Checked field by field against ApiVersionsRequest.json / ApiVersionsResponse.json:
//
//   version | request body                      | response body
//   --------+-----------------------------------+-------------------------------------------------
//   0       | (empty)                           | error_code, api_keys ARRAY[key, min, max]
//   1, 2    | (empty)                           | + throttle_time_ms
//   3, 4    | client_software_name/version      | flexible: COMPACT_ARRAY, tagged fields per entry,
//           | (COMPACT_STRING) + tagged fields  | top-level tagged fields 0 SupportedFeatures,
//           |                                   | 1 FinalizedFeaturesEpoch, 2 FinalizedFeatures
//
// Request header v1 for v0-2, v2 (tagged fields) for v3+. The RESPONSE header
// is always v0 (no tagged fields), even at v3+, so a client can read it before
// it knows the broker's versions. An unknown version is answered with error
// 35 (UNSUPPORTED_VERSION) in a v0 body.
//
// The api_keys table is what this broker registers (src/api/index.ts), written
// down by hand: a new handler or version range must be added here too.

import { afterAll, beforeAll, describe, test } from "bun:test";
import { startInProcess, type InProcessBroker } from "../helpers.ts";
import { TAGS, arr, carr, cstr, exchange, expectClosed, i16, i32, i64, requestHeader, responseHeader } from "./hex.ts";

const API_KEYS: [key: number, min: number, max: number, name: string][] = [
  [0, 0, 11, "Produce"],
  [1, 4, 17, "Fetch"],
  [2, 1, 8, "ListOffsets"],
  [3, 0, 12, "Metadata"],
  [8, 2, 9, "OffsetCommit"],
  [9, 1, 9, "OffsetFetch"],
  [10, 0, 6, "FindCoordinator"],
  [11, 0, 9, "JoinGroup"],
  [12, 0, 4, "Heartbeat"],
  [13, 0, 5, "LeaveGroup"],
  [14, 0, 5, "SyncGroup"],
  [15, 0, 5, "DescribeGroups"],
  [16, 0, 5, "ListGroups"],
  [18, 0, 4, "ApiVersions"],
  [19, 2, 7, "CreateTopics"],
  [20, 1, 6, "DeleteTopics"],
  [21, 0, 2, "DeleteRecords"],
  [22, 0, 5, "InitProducerId"],
  [23, 2, 4, "OffsetForLeaderEpoch"],
  [32, 1, 4, "DescribeConfigs"],
  [33, 0, 2, "AlterConfigs"],
  [35, 1, 4, "DescribeLogDirs"],
  [37, 0, 3, "CreatePartitions"],
  [42, 0, 2, "DeleteGroups"],
  [43, 0, 2, "ElectLeaders"],
  [44, 0, 1, "IncrementalAlterConfigs"],
  [45, 0, 0, "AlterPartitionReassignments"],
  [46, 0, 0, "ListPartitionReassignments"],
  [47, 0, 0, "OffsetDelete"],
  [60, 0, 1, "DescribeCluster"],
  [75, 0, 0, "DescribeTopicPartitions"],
];

/** metadata.version: supported 1 (3.0-IV1) .. 25 (4.0-IV3); finalized at 20 (3.8-IV0) on a freshly formatted log dir */
const MV_MIN = 1;
const MV_MAX = 25;
const MV_FINALIZED = 20;

function apiKeysV0(keys = API_KEYS): string {
  return [
    `${arr(keys.length)}        # api_keys: ARRAY of ${keys.length}`,
    ...keys.map(([k, min, max, name]) => `  ${i16(k)} ${i16(min)} ${i16(max)}  # api_key ${k} (${name}), min_version ${min}, max_version ${max}`),
  ].join("\n");
}

function apiKeysFlexible(): string {
  return [
    `${carr(API_KEYS.length)}              # api_keys: COMPACT_ARRAY of ${API_KEYS.length}`,
    ...API_KEYS.map(([k, min, max, name]) => `  ${i16(k)} ${i16(min)} ${i16(max)} ${TAGS}  # api_key ${k} (${name}), min ${min}, max ${max}, tagged fields: none`),
  ].join("\n");
}

function body(version: number): string {
  if (version <= 2) {
    return `
      0000              # error_code = 0
      ${apiKeysV0()}
      ${version >= 1 ? `${i32(0)}  # throttle_time_ms = 0 (v1+)` : "# (no throttle_time_ms before v1)"}`;
  }
  return `
      0000              # error_code = 0
      ${apiKeysFlexible()}
      ${i32(0)}          # throttle_time_ms = 0
      03                # tagged fields: 3
      00                #   tag 0: SupportedFeatures
      17                #   size = 23
      ${carr(1)}                #     COMPACT_ARRAY of 1
      ${cstr("metadata.version")}  #     name = "metadata.version"
      ${i16(MV_MIN)}              #     min_version = ${MV_MIN}
      ${i16(MV_MAX)}              #     max_version = ${MV_MAX}
      ${TAGS}                #     tagged fields: none
      01                #   tag 1: FinalizedFeaturesEpoch
      08                #   size = 8
      ${i64(0)}  #     finalized_features_epoch = 0
      02                #   tag 2: FinalizedFeatures
      17                #   size = 23
      ${carr(1)}                #     COMPACT_ARRAY of 1
      ${cstr("metadata.version")}  #     name = "metadata.version"
      ${i16(MV_FINALIZED)}              #     max_version_level = ${MV_FINALIZED}
      ${i16(MV_FINALIZED)}              #     min_version_level = ${MV_FINALIZED}
      ${TAGS}                #     tagged fields: none
      # (tag 3 ZkMigrationReady = false is the default: not written)`;
}

function request(version: number, corr: number): string {
  const flexible = version >= 3;
  return `
    ${requestHeader(18, version, corr, flexible)}
    ${
      flexible
        ? `${cstr("golden-client")}  # client_software_name = "golden-client"
           ${cstr("1.0.0")}  # client_software_version = "1.0.0"
           ${TAGS}  # tagged fields: none`
        : "# (empty body before v3)"
    }`;
}

let kafka: InProcessBroker;
beforeAll(async () => {
  kafka = await startInProcess({ "node.id": "1" });
});
afterAll(() => kafka.close());

describe("ApiVersions golden bytes", () => {
  for (let v = 0; v <= 4; v++) {
    test(`v${v}`, async () => {
      const corr = 100 + v;
      await exchange(
        kafka.connect(),
        request(v, corr),
        `
        ${responseHeader(corr, false)}
        ${body(v)}`,
      );
    });
  }

  test("v0 with a null client id (request header v1, client_id ffff)", async () => {
    await exchange(
      kafka.connect(),
      requestHeader(18, 0, 7, false, null),
      `
      ${responseHeader(7, false)}
      ${body(0)}`,
    );
  });

  test("v3 with an unknown tagged field in the request header and the body: both skipped", async () => {
    await exchange(
      kafka.connect(),
      `
      0012              # request_api_key = 18
      0003              # request_api_version = 3
      00000009          # correlation_id = 9
      0006 676f6c64656e # client_id = "golden"
      01                # header tagged fields: 1
      05 02 abcd        #   tag 5, size 2, bytes abcd (unknown: ignored)
      ${cstr("golden-client")}  # client_software_name
      ${cstr("1.0.0")}  # client_software_version
      01                # tagged fields: 1
      07 01 ee          #   tag 7, size 1, byte ee (unknown: ignored)`,
      `
      ${responseHeader(9, false)}
      ${body(3)}`,
    );
  });

  // Kafka answers a version above its range as if it were v0 (ApiVersionsRequest's
  // unsupportedRequestVersion): error 35 and a v0 body. The request header of such
  // a version is parsed as v2 (ApiVersions is flexible from v3).
  for (const v of [5, 127]) {
    test(`v${v} (unsupported): error 35, v0 body listing ApiVersions' own range only`, async () => {
      await exchange(
        kafka.connect(),
        `
        ${requestHeader(18, v, 200 + v, true)}
        ${cstr("golden-client")}  # client_software_name (body not parsed)
        ${cstr("1.0.0")}  # client_software_version
        ${TAGS}  # tagged fields: none`,
        `
        ${responseHeader(200 + v, false)}
        0023              # error_code = 35 (UNSUPPORTED_VERSION)
        00000001          # api_keys: ARRAY of 1 (ApiVersionsRequest.getErrorResponse, KIP-511)
        0012 0000 0004    #   ApiVersions (18): versions 0-4
        # (v0 body: no throttle_time_ms, no tagged fields)`,
      );
    });
  }

  test("v4 then v0 on one connection: responses in order, each in its own format", async () => {
    const conn = kafka.connect();
    await exchange(conn, request(4, 1), `${responseHeader(1, false)}\n${body(4)}`);
    await exchange(conn, request(0, 2), `${responseHeader(2, false)}\n${body(0)}`);
  });

  test("unknown api key 1000: connection closed, no response (Kafka cannot parse the header either)", async () => {
    await expectClosed(kafka.connect(), `${requestHeader(1000, 0, 12, false)}\n00000000  # some body`);
  });

  // Apache Kafka checks ClientSoftwareName/Version at v3+ against
  // [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])? and answers INVALID_REQUEST (42)
  // (ApiVersionsRequest.isValid; KafkaApis.handleApiVersionsRequest), with an
  // empty api_keys list.
  test("v3 with an invalid client_software_name: error 42 (INVALID_REQUEST), no keys", async () => {
    await exchange(
      kafka.connect(),
      `
      ${requestHeader(18, 3, 11, true)}
      ${cstr("bad name!")}  # client_software_name = "bad name!" (space and '!' are not allowed)
      ${cstr("1.0.0")}  # client_software_version
      ${TAGS}  # tagged fields: none`,
      `
      ${responseHeader(11, false)}
      002a              # error_code = 42 (INVALID_REQUEST)
      01                # api_keys: COMPACT_ARRAY of 0
      00000000          # throttle_time_ms = 0
      00                # tagged fields: none`,
    );
  });
});
