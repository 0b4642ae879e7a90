// The file calls an append makes (write, fsync), behind one object so a test
// can make them fail or stall (a write error, a slow disk) without a real
// broken device. Production code calls through it and never replaces it.

import { fsync, fsyncSync, writeSync } from "node:fs";

export const diskIo = {
  writeSync: writeSync as (fd: number, buf: Uint8Array, offset: number, length: number, position: number) => number,
  fsyncSync: fsyncSync as (fd: number) => void,
  /** fsync on Bun's thread pool (measured with Bun 1.4.5: the event loop keeps running meanwhile) */
  fsync: (fd: number): Promise<void> => new Promise((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve()))),
};

/** Restores the real calls (tests' cleanup). */
export const realDiskIo = { ...diskIo };
export function resetDiskIo(): void {
  Object.assign(diskIo, realDiskIo);
}
