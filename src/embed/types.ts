// The call shape of an embedded broker, the same under Bun (in the same
// process) and Node (the executable as a child process).

export interface StartBrokerOptions {
  /** log dir to use (kept on stop); default: a fresh temporary dir, removed on stop */
  logDir?: string;
  /** server.properties keys by Kafka's names, e.g. { "num.partitions": "4" } */
  overrides?: Record<string, string>;
  /** host to listen on and advertise (default 127.0.0.1); the port is always a free one */
  host?: string;
}

export interface EmbeddedBroker {
  /** "host:port", for a client's bootstrap servers */
  readonly bootstrap: string;
  readonly host: string;
  readonly port: number;
  readonly logDir: string;
  /** stops the broker (flushing its logs) and removes the log dir if it was a temporary one */
  stop(): Promise<void>;
}

/** The server.properties the embedded broker starts with: ours first, the caller's overrides win, except listeners and log dir. */
export function embeddedProperties(opts: StartBrokerOptions, logDir: string): Map<string, string> {
  const host = opts.host ?? "127.0.0.1";
  return new Map<string, string>([
    // quiet by default: a test suite's output is the tests'
    ["log.level", "warn"],
    ...Object.entries(opts.overrides ?? {}),
    ["listeners", `PLAINTEXT://${host}:0`],
    ["advertised.listeners", `PLAINTEXT://${host}:0`],
    ["log.dirs", logDir],
  ]);
}

/** The handle both flavours return; `stop` runs once however often it is called. */
export function embeddedBroker(host: string, port: number, logDir: string, stop: () => Promise<void>): EmbeddedBroker {
  let stopped: Promise<void> | null = null;
  return {
    bootstrap: `${host}:${port}`,
    host,
    port,
    logDir,
    stop: () => (stopped ??= stop()),
  };
}
