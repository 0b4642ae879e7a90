// Heartbeat (key 12): a classic group member says it is alive; the answer says whether a rebalance is under way.
import { defineMessage } from "../schema.ts";

export const HeartbeatRequest = defineMessage({
  name: "HeartbeatRequest",
  apiKey: 12,
  type: "request",
  validVersions: "0-4",
  flexibleVersions: "4+",
  fields: [
    { name: "GroupId", type: "string", versions: "0+" },
    { name: "GenerationId", type: "int32", versions: "0+" },
    { name: "MemberId", type: "string", versions: "0+" },
    { name: "GroupInstanceId", type: "string", versions: "3+", nullableVersions: "3+", default: "null" },
  ],
});

export const HeartbeatResponse = defineMessage({
  name: "HeartbeatResponse",
  apiKey: 12,
  type: "response",
  validVersions: "0-4",
  flexibleVersions: "4+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "1+" },
    { name: "ErrorCode", type: "int16", versions: "0+" },
  ],
});
