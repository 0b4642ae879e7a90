// DescribeLogDirs (key 35), versions 1-4 (as Kafka 4, which dropped v0:
// KIP-896), as Kafka 4.4's ReplicaManager.describeLogDirs answers it:
// - one result: our log dir (its absolute path), error NONE;
// - topics: every topic with a log in the dir (the metadata log is not one:
//   Kafka's raft manager keeps it, not the LogManager), each listing the
//   partitions asked for (topics null: all; an empty array: none); a topic
//   none of whose partitions was asked for is left out, and so are unknown
//   topics and partitions (no error), as Kafka 4.4 answers (the differential test);
// - partition_size: the bytes of its segments' .log files (UnifiedLog.size);
//   offset_lag: max(high watermark - log end offset, 0) = 0; is_future false
//   (no AlterReplicaLogDirs);
// - v4 total_bytes and usable_bytes: the file system's (statfs: blocks and
//   blocks available to unprivileged users, times the block size, as Java's
//   FileStore.getTotalSpace/getUsableSpace); statfs failing answers the dir
//   with KAFKA_STORAGE_ERROR and no topics (Kafka: an offline dir).
// Top-level error_code (v3+) is NONE: no authorizer, so never
// CLUSTER_AUTHORIZATION_FAILED. Kafka orders topics and partitions by hash
// maps; ours by topic creation and partition index.

import { statfsSync } from "node:fs";
import { resolve } from "node:path";
import { DescribeLogDirsRequest, DescribeLogDirsResponse } from "../protocol/messages/describe-log-dirs.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { Encodable } from "../protocol/schema.ts";
import { defineHandler, type HandlerResult } from "./handler.ts";

type Response = Encodable<typeof DescribeLogDirsResponse>;
type Result = Response["results"][number];
type TopicResult = Result["topics"][number];
type PartitionResult = TopicResult["partitions"][number];

export const describeLogDirs = defineHandler({
  key: 35,
  name: "DescribeLogDirs",
  request: DescribeLogDirsRequest,
  response: DescribeLogDirsResponse,
  minVersion: 1,
  maxVersion: 4,
  handle(req, { broker }): HandlerResult<Response> {
    const logDir = resolve(broker.storage.cfg.logDir);
    let wanted: Map<string, Set<number>> | null = null;
    if (req.topics !== null) {
      wanted = new Map();
      for (const t of req.topics) {
        let set = wanted.get(t.topic);
        if (!set) wanted.set(t.topic, (set = new Set()));
        for (const p of t.partitions) set.add(p);
      }
    }
    let total: number;
    let usable: number;
    try {
      const fs = statfsSync(logDir);
      total = fs.blocks * fs.bsize;
      usable = fs.bavail * fs.bsize;
    } catch {
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, results: [{ errorCode: ErrorCode.KAFKA_STORAGE_ERROR, logDir, topics: [], totalBytes: -1, usableBytes: -1 }] };
    }
    const topics = new Map<string, PartitionResult[]>();
    for (const p of broker.storage.allPartitions()) {
      if (wanted && !wanted.get(p.topic)?.has(p.index)) continue;
      let t = topics.get(p.topic);
      if (!t) topics.set(p.topic, (t = []));
      t.push({ partitionIndex: p.index, partitionSize: p.sizeInBytes, offsetLag: Math.max(p.highWatermark - p.logEndOffset, 0), isFutureKey: false });
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [{ errorCode: ErrorCode.NONE, logDir, topics: [...topics].map(([name, partitions]): TopicResult => ({ name, partitions })), totalBytes: total, usableBytes: usable }],
    };
  },
});
