// The start-up check of the log dir, before anything is read or written in it:
// it must be a directory (created when missing) in which a file can be
// created, written, fsynced and removed. Otherwise the broker does not start
// and says why in one line (Kafka's LogManager refuses a dir it cannot create
// or write the same way, with a stack trace).

import { closeSync, fsyncSync, mkdirSync, openSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";

export class LogDirError extends Error {}

const PROBE = ".kafka-write-check";

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const code = err.code ?? "";
  const why: Record<string, string> = {
    EROFS: "read-only file system",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    ENOSPC: "no space left on device",
    ENOTDIR: "a path component is not a directory",
    EIO: "I/O error",
    EDQUOT: "disk quota exceeded",
  };
  return code ? `${code} (${why[code] ?? err.message})` : err.message;
}

/** Throws LogDirError when `dir` is not, or cannot become, a writable directory. */
export function checkLogDir(dir: string): void {
  let isDir: boolean | null = null;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new LogDirError(`log dir ${dir} cannot be read: ${reason(e)}`);
  }
  if (isDir === false) throw new LogDirError(`log dir ${dir} is not a directory`);
  if (isDir === null) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new LogDirError(`log dir ${dir} cannot be created: ${reason(e)}`);
    }
  }
  const probe = join(dir, PROBE);
  try {
    const fd = openSync(probe, "w");
    try {
      writeSync(fd, new Uint8Array(1));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    unlinkSync(probe);
  } catch (e) {
    throw new LogDirError(`log dir ${dir} is not writable: ${reason(e)}`);
  }
}
