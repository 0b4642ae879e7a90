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
import { electLeaders } from "./43-elect-leaders.ts";
import { incrementalAlterConfigs } from "./44-incremental-alter-configs.ts";
import { alterPartitionReassignments } from "./45-alter-partition-reassignments.ts";
import { listPartitionReassignments } from "./46-list-partition-reassignments.ts";
import { describeCluster } from "./60-describe-cluster.ts";
import { describeTopicPartitions } from "./75-describe-topic-partitions.ts";
import { offsetCommit } from "./08-offset-commit.ts";
import { offsetFetch } from "./09-offset-fetch.ts";
import { findCoordinator } from "./10-find-coordinator.ts";
import { joinGroup } from "./11-join-group.ts";
import { heartbeat } from "./12-heartbeat.ts";
import { leaveGroup } from "./13-leave-group.ts";
import { syncGroup } from "./14-sync-group.ts";
import { describeGroups } from "./15-describe-groups.ts";
import { listGroups } from "./16-list-groups.ts";
import { deleteGroups } from "./42-delete-groups.ts";
import { offsetDelete } from "./47-offset-delete.ts";

const apiVersions = apiVersionsHandler(() => HANDLERS);

// in key order, as ApiVersions lists them
export const HANDLERS: ApiHandler[] = [
  produce, fetch, listOffsets, metadata, offsetCommit, offsetFetch, findCoordinator, joinGroup, heartbeat, leaveGroup, syncGroup, describeGroups, listGroups,
  apiVersions, createTopics, deleteTopics, deleteRecords, initProducerId, offsetForLeaderEpoch, describeConfigs, legacyAlterConfigs, describeLogDirs,
  createPartitions, deleteGroups, electLeaders, incrementalAlterConfigs, alterPartitionReassignments, listPartitionReassignments, offsetDelete, describeCluster, describeTopicPartitions,
];

/** The handlers by API key, as the network layer looks them up. */
export const HANDLERS_BY_KEY: ReadonlyMap<number, ApiHandler> = new Map(HANDLERS.map((h) => [h.key, h]));
