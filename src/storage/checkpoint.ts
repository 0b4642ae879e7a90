// Kafka's offset checkpoint files (CheckpointFile/OffsetCheckpointFile), as
// log-start-offset-checkpoint, recovery-point-offset-checkpoint and
// replication-offset-checkpoint in the log dir use them:
//   0                      (version)
//   <count>
//   <topic> <partition> <offset>   (count lines)
// Written to `<file>.tmp`, fsynced, then renamed over the file.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";

export const LOG_START_OFFSET_CHECKPOINT = "log-start-offset-checkpoint";
export const RECOVERY_POINT_CHECKPOINT = "recovery-point-offset-checkpoint";
export const REPLICATION_OFFSET_CHECKPOINT = "replication-offset-checkpoint";
/** Kafka's CleanShutdownFileHandler.CLEAN_SHUTDOWN_FILE_NAME */
export const CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown";

export type OffsetCheckpoint = Map<string, Map<number, number>>;

/** The checkpoint's entries (topic -> partition -> offset); empty when there is no file. Throws for a malformed one. */
export function readOffsetCheckpoint(path: string): OffsetCheckpoint {
  const out: OffsetCheckpoint = new Map();
  if (!existsSync(path)) return out;
  const lines = readFileSync(path, "utf8").split("\n");
  if (lines[0]?.trim() !== "0") throw new Error(`${path}: unrecognised version ${JSON.stringify(lines[0])}`);
  const count = Number(lines[1]);
  if (!Number.isInteger(count) || count < 0) throw new Error(`${path}: malformed entry count ${JSON.stringify(lines[1])}`);
  for (let i = 0; i < count; i++) {
    const parts = (lines[2 + i] ?? "").trim().split(" ");
    const partition = Number(parts[1]);
    const offset = Number(parts[2]);
    if (parts.length !== 3 || !Number.isInteger(partition) || !Number.isInteger(offset)) throw new Error(`${path}: malformed line ${JSON.stringify(lines[2 + i])}`);
    let m = out.get(parts[0]!);
    if (!m) out.set(parts[0]!, (m = new Map()));
    m.set(partition, offset);
  }
  return out;
}

export function writeOffsetCheckpoint(path: string, entries: [topic: string, partition: number, offset: number][]): void {
  const text = `0\n${entries.length}\n${entries.map(([t, p, o]) => `${t} ${p} ${o}\n`).join("")}`;
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
