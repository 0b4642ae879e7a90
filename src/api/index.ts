// Every API the broker serves, one handler per key. ApiVersions derives its
// answer from this list.

import type { ApiHandler } from "./handler.ts";
import { produce } from "./00-produce.ts";
import { initProducerId } from "./22-init-producer-id.ts";
import { fetch } from "./01-fetch.ts";
import { listOffsets } from "./02-list-offsets.ts";
import { metadata } from "./03-metadata.ts";
import { apiVersionsHandler } from "./18-api-versions.ts";
import { createTopics } from "./19-create-topics.ts";
import { deleteTopics } from "./20-delete-topics.ts";
import { deleteRecords } from "./21-delete-records.ts";
import { offsetForLeaderEpoch } from "./23-offset-for-leader-epoch.ts";
import { describeConfigs } from "./32-describe-configs.ts";
import { legacyAlterConfigs } from "./33-alter-configs.ts";
import { describeLogDirs } from "./35-describe-log-dirs.ts";
import { createPartitions } from "./37-create-partitions.ts";
import { incrementalAlterConfigs } from "./44-incremental-alter-configs.ts";
import { describeCluster } from "./60-describe-cluster.ts";
import { describeTopicPartitions } from "./75-describe-topic-partitions.ts";

const apiVersions = apiVersionsHandler(() => HANDLERS);

export const HANDLERS: ApiHandler[] = [produce, fetch, listOffsets, metadata, apiVersions, createTopics, deleteTopics, deleteRecords, initProducerId, offsetForLeaderEpoch, describeConfigs, legacyAlterConfigs, describeLogDirs, createPartitions, incrementalAlterConfigs, describeCluster, describeTopicPartitions];

/** The handlers by API key, as the network layer looks them up. */
export const HANDLERS_BY_KEY: ReadonlyMap<number, ApiHandler> = new Map(HANDLERS.map((h) => [h.key, h]));
