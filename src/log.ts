// One line per event, with a level. Hex dumps belong at debug level only.

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type Level = keyof typeof LEVELS;

let threshold: number = LEVELS.info;

export function setLogLevel(level: string): void {
  threshold = LEVELS[level as Level] ?? LEVELS.info;
}

function emit(level: Level, msg: string): void {
  if (LEVELS[level] < threshold) return;
  const line = `${new Date().toISOString()} ${level.toUpperCase()} ${msg}\n`;
  if (LEVELS[level] >= LEVELS.warn) process.stderr.write(line);
  else process.stdout.write(line);
}

export const log = {
  debug: (msg: string) => emit("debug", msg),
  info: (msg: string) => emit("info", msg),
  warn: (msg: string) => emit("warn", msg),
  error: (msg: string) => emit("error", msg),
  enabled: (level: Level) => LEVELS[level] >= threshold,
};

export function hex(buf: Uint8Array, max = 256): string {
  const n = Math.min(buf.length, max);
  let s = "";
  for (let i = 0; i < n; i++) s += buf[i]!.toString(16).padStart(2, "0");
  return n < buf.length ? `${s}... (${buf.length} bytes)` : s;
}

/**
 * Rate-limited lines: the first line for a key is written, the next ones
 * within `windowMs` are only counted, and when the window ends one line says
 * how many there were ("... N more like this in the last Xs"). Keys name the
 * source and the kind (e.g. "127.0.0.1 bad frame"), so one misbehaving client,
 * however many connections it opens, writes a bounded number of lines.
 * At most `maxKeys` keys are tracked; past that the oldest window is closed early.
 */
export class RateLimitedLog {
  private readonly windows = new Map<string, { level: Level; start: number; suppressed: number; timer: ReturnType<typeof setTimeout> }>();

  constructor(
    private readonly windowMs = 10_000,
    private readonly maxKeys = 1024,
  ) {}

  write(key: string, level: Level, msg: string): void {
    const w = this.windows.get(key);
    if (w !== undefined) {
      w.suppressed++;
      return;
    }
    emit(level, msg);
    if (this.windows.size >= this.maxKeys) this.end(this.windows.keys().next().value!);
    const timer = setTimeout(() => this.end(key), this.windowMs);
    (timer as { unref?: () => void }).unref?.();
    this.windows.set(key, { level, start: Date.now(), suppressed: 0, timer });
  }

  private end(key: string): void {
    const w = this.windows.get(key);
    if (w === undefined) return;
    clearTimeout(w.timer);
    this.windows.delete(key);
    if (w.suppressed > 0) emit(w.level, `${key}: ... ${w.suppressed} more like this in the last ${Math.max(1, Math.round((Date.now() - w.start) / 1000))}s`);
  }

  /** Writes the pending counts now (shutdown). */
  flush(): void {
    for (const k of [...this.windows.keys()]) this.end(k);
  }
}

/** The broker's limiter for warnings caused by clients (bad frames, decode failures, handler errors). */
export const clientLog = new RateLimitedLog();
