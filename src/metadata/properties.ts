// The small text files Kafka keeps beside its logs, byte for byte as Kafka
// writes them:
//   <logdir>/meta.properties       java.util.Properties.store output:
//                                  "#\n#<date>\ncluster.id=..\ndirectory.id=..\nnode.id=..\nversion=1\n"
//   <partition dir>/partition.metadata  "version: 0\ntopic_id: <base64 uuid>" (no trailing newline)
//   __cluster_metadata-0/quorum-state   the KRaft election state, one JSON line (FileQuorumStateStore,
//                                  data_version 0: a static quorum, controller.quorum.voters)

import { parseProperties } from "../config.ts";
import { existsSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from "node:fs";
import { join } from "node:path";
import { uuidFromBase64, uuidToBase64 } from "./uuid.ts";

export interface MetaProperties {
  version: number;
  clusterId: string;
  nodeId: number;
  /** base64 uuid; absent in dirs formatted before Kafka 3.7 */
  directoryId: string | null;
}

/** Reads <dir>/meta.properties; null when missing. Throws a clear error when it is unusable. */
export function readMetaProperties(dir: string): MetaProperties | null {
  const path = join(dir, "meta.properties");
  if (!existsSync(path)) return null;
  const p = parseProperties(readFileSync(path, "utf8"));
  const version = Number(p.get("version") ?? "0");
  if (version !== 1) throw new Error(`${path}: version ${p.get("version")} is not supported (only KRaft meta.properties version=1)`);
  const clusterId = p.get("cluster.id");
  if (!clusterId) throw new Error(`${path}: no cluster.id`);
  const nodeId = Number(p.get("node.id"));
  if (!Number.isInteger(nodeId)) throw new Error(`${path}: node.id ${p.get("node.id")} is not an integer`);
  return { version, clusterId, nodeId, directoryId: p.get("directory.id") ?? null };
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** java.util.Date.toString() in UTC: "Mon Sep 02 15:43:32 UTC 2024". */
function javaDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

export function formatMetaProperties(m: MetaProperties, now = new Date()): string {
  let s = `#\n#${javaDate(now)}\ncluster.id=${m.clusterId}\n`;
  if (m.directoryId !== null) s += `directory.id=${m.directoryId}\n`;
  return s + `node.id=${m.nodeId}\nversion=${m.version}\n`;
}

/** Written to a temporary file, synced and renamed, as Kafka does, so a crash never leaves half a file. */
export function writeMetaProperties(dir: string, m: MetaProperties): void {
  writeFileAtomic(join(dir, "meta.properties"), formatMetaProperties(m));
}

export function writeFileAtomic(path: string, text: string): void {
  const tmp = path + ".tmp";
  writeFileSync(tmp, text);
  const fd = openSync(tmp, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function formatPartitionMetadata(topicId: Uint8Array): string {
  return `version: 0\ntopic_id: ${uuidToBase64(topicId)}`;
}

/** The topic id in <partitionDir>/partition.metadata; null when the file is missing or unreadable. */
export function readPartitionMetadata(partitionDir: string): Uint8Array | null {
  let text: string;
  try {
    text = readFileSync(join(partitionDir, "partition.metadata"), "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw e;
  }
  const m = /topic_id:\s*(\S+)/.exec(text);
  return m ? uuidFromBase64(m[1]!) : null;
}

export function writePartitionMetadata(partitionDir: string, topicId: Uint8Array): void {
  writeFileAtomic(join(partitionDir, "partition.metadata"), formatPartitionMetadata(topicId));
}

/**
 * Kafka's quorum-state for a single-node static quorum whose leader is
 * `nodeId` at `leaderEpoch`, as FileQuorumStateStore writes it (no newline).
 */
export function formatQuorumState(nodeId: number, leaderEpoch: number): string {
  return JSON.stringify({ clusterId: "", leaderId: nodeId, leaderEpoch, votedId: -1, appliedOffset: 0, currentVoters: [{ voterId: nodeId }], data_version: 0 });
}

/**
 * Writes <metadataDir>/quorum-state when missing. Kafka reads it on start;
 * without it Kafka assumes epoch 0 and warns that the log's epoch is larger.
 * An existing file (Kafka's own, after a start there) is left alone.
 */
export function ensureQuorumState(metadataDir: string, nodeId: number, leaderEpoch: number): void {
  const path = join(metadataDir, "quorum-state");
  if (!existsSync(path)) writeFileAtomic(path, formatQuorumState(nodeId, leaderEpoch));
}
