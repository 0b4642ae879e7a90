// ApiVersions (key 18), versions 0-4.
// Lists every registered handler with the versions it serves; nothing is
// listed twice. A request at a version we do not know gets error 35
// (UNSUPPORTED_VERSION) with a v0 body listing ApiVersions' own range, as
// Kafka answers, so the client retries at a version we speak. Responses always use response header v0.
// v3+ also reports the metadata.version feature (supported and finalized), and
// checks ClientSoftwareName/Version as Kafka does: INVALID_REQUEST otherwise.

import { ApiVersionsRequest, ApiVersionsResponse } from "../protocol/messages/api-versions.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { Encodable } from "../protocol/schema.ts";
import { defineHandler, type ApiHandler, type Handler, type HandlerResult } from "./handler.ts";

// Annotations with this type make unknown fields in the literals errors (inferred returns are not checked for them).
type Response = Encodable<typeof ApiVersionsResponse>;

/** metadata.version levels this broker can serve (3.0-IV1 .. 4.0-IV3). */
export const METADATA_VERSION_RANGE = { min: 1, max: 25 };

const SOFTWARE_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

/**
 * The ApiVersions handler over the registry's handlers (given as a function:
 * the registry lists this handler too, so it cannot be imported here).
 */
export function apiVersionsHandler(handlers: () => Iterable<ApiHandler>): Handler<typeof ApiVersionsRequest, typeof ApiVersionsResponse> {
  const apiKeys = (): Response["apiKeys"] =>
    [...handlers()].sort((a, b) => a.key - b.key).map((h): Response["apiKeys"][number] => ({ apiKey: h.key, minVersion: h.minVersion, maxVersion: h.maxVersion }));
  return defineHandler({
    key: API_VERSIONS_RANGE.apiKey,
    name: "ApiVersions",
    request: ApiVersionsRequest,
    response: ApiVersionsResponse,
    minVersion: API_VERSIONS_RANGE.minVersion,
    maxVersion: API_VERSIONS_RANGE.maxVersion,
    handle(req, { broker, header }): HandlerResult<Response> {
      if (header.apiVersion >= 3 && !(SOFTWARE_NAME.test(req.clientSoftwareName) && SOFTWARE_NAME.test(req.clientSoftwareVersion))) {
        return { errorCode: ErrorCode.INVALID_REQUEST, apiKeys: [], throttleTimeMs: 0 };
      }
      const level = broker.storage.image.metadataVersion;
      return {
        errorCode: ErrorCode.NONE,
        apiKeys: apiKeys(),
        throttleTimeMs: 0,
        supportedFeatures: [{ name: "metadata.version", minVersion: METADATA_VERSION_RANGE.min, maxVersion: METADATA_VERSION_RANGE.max }],
        finalizedFeaturesEpoch: level > 0 ? 0 : -1,
        finalizedFeatures: level > 0 ? [{ name: "metadata.version", maxVersionLevel: level, minVersionLevel: level }] : [],
      };
    },
  });
}

const API_VERSIONS_RANGE = { apiKey: 18, minVersion: 0, maxVersion: 4 } as const;

/**
 * The answer to an ApiVersions request at an unsupported version, encoded as
 * v0: as Kafka (KIP-511), only ApiVersions' own range, so the client retries
 * at a version both speak and then learns the rest.
 */
export const apiVersionsFallback = defineHandler({
  key: API_VERSIONS_RANGE.apiKey,
  name: "ApiVersions",
  request: ApiVersionsRequest,
  response: ApiVersionsResponse,
  minVersion: 0,
  maxVersion: 0,
  handle: unsupportedVersionResponse,
});

/** apiVersionsFallback's answer; the network layer calls it directly, as there is no request to decode. */
export function unsupportedVersionResponse(): Response {
  // throttleTimeMs is not in v0, the version this is encoded at
  return { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: [API_VERSIONS_RANGE], throttleTimeMs: 0 };
}
