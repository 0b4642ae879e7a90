// IncrementalAlterConfigs (key 44), versions 0-1: SET, DELETE, APPEND and
// SUBTRACT config keys of topics and brokers, as Kafka 4.4 answers them (see
// alter-configs.ts for the rules shared with AlterConfigs).

import { IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse } from "../protocol/messages/incremental-alter-configs.ts";
import type { Encodable } from "../protocol/schema.ts";
import { alterConfigs } from "./alter-configs.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";

type Response = Encodable<typeof IncrementalAlterConfigsResponse>;

export const incrementalAlterConfigs = defineHandler({
  key: 44,
  name: "IncrementalAlterConfigs",
  request: IncrementalAlterConfigsRequest,
  response: IncrementalAlterConfigsResponse,
  minVersion: 0,
  maxVersion: 1,
  handle(req, { broker }): HandlerResult<Response> {
    const resources = req.resources.map((r) => ({ ...r, configs: r.configs.map((c) => ({ name: c.name, op: c.configOperation, value: c.value })) }));
    return { throttleTimeMs: 0, responses: alterConfigs(broker.metadata, resources, req.validateOnly, true) };
  },
});
