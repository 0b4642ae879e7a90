// AlterConfigs (key 33), versions 0-2: replaces a resource's whole set of
// dynamic config keys (keys not given are removed), as Kafka 4.4 answers it
// (see alter-configs.ts for the rules shared with IncrementalAlterConfigs).

import { AlterConfigsRequest, AlterConfigsResponse } from "../protocol/messages/alter-configs.ts";
import type { Encodable } from "../protocol/schema.ts";
import { alterConfigs } from "./alter-configs.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";

type Response = Encodable<typeof AlterConfigsResponse>;

export const legacyAlterConfigs = defineHandler({
  key: 33,
  name: "AlterConfigs",
  request: AlterConfigsRequest,
  response: AlterConfigsResponse,
  minVersion: 0,
  maxVersion: 2,
  handle(req, { broker }): HandlerResult<Response> {
    const resources = req.resources.map((r) => ({ ...r, configs: r.configs.map((c) => ({ name: c.name, op: -1, value: c.value })) }));
    return { throttleTimeMs: 0, responses: alterConfigs(broker.metadata, resources, req.validateOnly, false) };
  },
});
