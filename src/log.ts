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
