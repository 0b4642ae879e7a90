// Holding off accepting near the process's file-descriptor limit.
//
// When accept() fails with EMFILE, Bun's listener leaves the connection in the
// backlog and the listening socket stays readable, so the event loop wakes at
// once, fails again and spins at full CPU with nothing logged (seen with Bun
// 1.4.5 under `ulimit -n 64`). Bun gives no hook on that failure, so the
// broker keeps away from it: it counts its open descriptors (/proc/self/fd)
// against RLIMIT_NOFILE and closes its listening sockets while fewer than a
// reserve remain (the reserve leaves room for segment and checkpoint files),
// logs one line, and listens again on the same ports once enough have closed,
// after a short backoff. Connections already open keep being served
// throughout; connections queued in the backlog when a listener closes are
// refused by the kernel, which clients retry.
//
// The count is exact but costs a readdir, so accepts move an estimate and the
// directory is read only when the estimate nears the limit, plus once a
// second, which also catches descriptors taken by files. Where /proc is
// missing (not Linux), or the limit is unlimited, nothing is held off.

import { readdirSync, readFileSync } from "node:fs";
import { log, RateLimitedLog } from "../log.ts";

/** How often the count is checked while accepting, and while held off. */
const CHECK_MS = 1000;
const PAUSED_CHECK_MS = 250;
/** Held off at least this long, so a client that reconnects at once does not flap the listener. */
const MIN_PAUSE_MS = 1000;

/** The soft RLIMIT_NOFILE of this process (as Bun left it), or null when unknown or unlimited. */
export function openFileLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Descriptors this process has open (the one reading the directory not counted); at EMFILE itself, `atLimit`. */
export function openFileCount(atLimit: number): number | null {
  try {
    return readdirSync("/proc/self/fd").length - 1;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "EMFILE" || code === "ENFILE" ? atLimit : null;
  }
}

export interface Acceptor {
  /** closes the listening sockets, keeping their connections */
  pause(): void;
  /** listens again; false when it could not (tried again at the next check) */
  resume(): boolean;
  /** connections open now, for the log line */
  connections(): number;
}

export class FdLimit {
  /** held off at or above this many open descriptors */
  readonly high: number;
  /** accepting again below this many */
  readonly low: number;
  private estimate = 0;
  private paused = false;
  private pausedAt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private readonly lines = new RateLimitedLog(60_000);

  private constructor(
    readonly limit: number,
    private readonly acceptor: Acceptor,
  ) {
    // a twentieth of the limit, at least 32, kept free for files and the listeners themselves
    const reserve = Math.max(32, Math.ceil(limit / 20));
    this.high = Math.max(8, limit - reserve);
    this.low = Math.max(4, this.high - Math.ceil(reserve / 2));
  }

  /** A guard for this process, or null where the limit or the count cannot be read. */
  static create(acceptor: Acceptor, limit = openFileLimit()): FdLimit | null {
    if (limit === null || openFileCount(limit) === null) return null;
    return new FdLimit(limit, acceptor);
  }

  get accepting(): boolean {
    return !this.paused;
  }

  start(): void {
    this.check();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.lines.flush();
  }

  /** A connection was accepted (one more descriptor). */
  opened(): void {
    if (++this.estimate >= this.high && !this.paused) this.recount();
  }

  /** A connection closed. */
  closed(): void {
    this.estimate--;
  }

  private recount(): number {
    const n = openFileCount(this.limit) ?? this.estimate;
    this.estimate = n;
    if (!this.paused && n >= this.high) {
      this.paused = true;
      this.pausedAt = Date.now();
      this.acceptor.pause();
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = setTimeout(() => this.check(), PAUSED_CHECK_MS); // referenced: see check()
      this.lines.write(
        "file descriptors",
        "warn",
        `${n} of ${this.limit} file descriptors open (RLIMIT_NOFILE): not accepting connections until fewer than ${this.low} are open; serving the ${this.acceptor.connections()} connections there are`,
      );
    }
    return n;
  }

  private check(): void {
    if (this.stopped) return;
    const n = this.recount();
    if (this.paused && n < this.low && Date.now() - this.pausedAt >= MIN_PAUSE_MS && this.acceptor.resume()) {
      this.paused = false;
      log.info(`${n} of ${this.limit} file descriptors open: accepting connections again`);
    }
    this.timer = setTimeout(() => this.check(), this.paused ? PAUSED_CHECK_MS : CHECK_MS);
    // while held off this timer stands in for the listening sockets, which keep the process alive
    if (!this.paused) (this.timer as { unref?: () => void }).unref?.();
  }
}
