// The `kafka` command: ./kafka [server.properties] [--override key=value ...]
// Reads the config like Kafka's kafka-server-start, formats a fresh log dir,
// serves until SIGTERM/SIGINT, then stops accepting, finishes in-flight
// requests, flushes and exits 0. Any start-up failure: one line, exit 1.

import { readFileSync } from "node:fs";
import pkg from "../package.json" with { type: "json" };
import { buildConfig, ConfigError, parseProperties, unknownKeys } from "./config.ts";
import { helpLines } from "./config/catalog.ts";
import { log, setLogLevel } from "./log.ts";
import { Broker } from "./broker.ts";
import { ListenError } from "./net/server.ts";
import { LogDirError } from "./storage/log-dir.ts";
import { enableNativeCrc32c } from "./records/crc32c.ts";

const USAGE = `Usage: kafka [server.properties] [--override key=value ...]

A Kafka-compatible broker in one executable. With no properties file it runs on
Kafka's defaults. Other Kafka keys are accepted and ignored (listed at debug
level); a key Kafka does not have gets one warning.

Options:
  --override key=value   set a server.properties key (repeatable; wins over the file)
  --help                 show this help
  --version              print the version

${helpLines().join("\n")}
`;

function fail(msg: string): never {
  process.stderr.write(`kafka: ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv: string[]): Map<string, string> {
  let file: string | undefined;
  const overrides: [string, string][] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--help" || a === "-h") {
      process.stdout.write(USAGE);
      process.exit(0);
    } else if (a === "--version" || a === "-v") {
      process.stdout.write(`kafka ${pkg.version}\n`);
      process.exit(0);
    } else if (a === "--override") {
      const kv = argv[++i];
      const eq = kv?.indexOf("=") ?? -1;
      if (!kv || eq <= 0) fail(`--override needs key=value, got '${kv ?? ""}'`);
      overrides.push([kv.slice(0, eq).trim(), kv.slice(eq + 1).trim()]);
    } else if (a.startsWith("--override=")) {
      const kv = a.slice("--override=".length);
      const eq = kv.indexOf("=");
      if (eq <= 0) fail(`--override needs key=value, got '${kv}'`);
      overrides.push([kv.slice(0, eq).trim(), kv.slice(eq + 1).trim()]);
    } else if (a.startsWith("-")) {
      fail(`unknown option '${a}' (see --help)`);
    } else if (file === undefined) {
      file = a;
    } else {
      fail(`unexpected argument '${a}' (see --help)`);
    }
  }
  let raw = new Map<string, string>();
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      fail(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    raw = parseProperties(text);
  }
  for (const [k, v] of overrides) raw.set(k, v);
  return raw;
}

async function main(): Promise<void> {
  const raw = parseArgs(process.argv.slice(2));
  let config;
  try {
    config = buildConfig(raw);
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
  setLogLevel(config.logLevel);
  const unknown = unknownKeys(raw);
  if (unknown.notKafka.length > 0) log.warn(`unknown config keys, ignored: ${unknown.notKafka.join(", ")}`);
  if (unknown.notImplemented.length > 0) log.debug(`Kafka config keys not implemented here, ignored: ${unknown.notImplemented.join(", ")}`);
  const broker = new Broker(config);
  try {
    await broker.start();
  } catch (e) {
    if (e instanceof ListenError || e instanceof LogDirError) fail(e.message);
    fail(`cannot open log dir ${config.logDir}: ${(e as Error).message}`);
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: shutting down`);
    await broker.stop();
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

  // after the handlers: a supervisor may send SIGTERM as soon as it sees this line
  const listening = broker.listeners.describe().map((l, i) => {
    const name = config.listeners[i]!.name;
    const a = broker.advertisedFor(name);
    return `${l} (advertised ${a.host}:${a.port})`;
  });
  log.info(`kafka ${pkg.version} listening on ${listening.join(", ")}, log dir ${config.logDir}, node.id ${config.nodeId}, cluster.id ${broker.clusterId}`);

  // after the listening line, so start-up is not held up by the compile (~10 ms)
  setImmediate(() => log.debug(`CRC-32C: ${enableNativeCrc32c()}`));
}

main().catch((e) => fail((e as Error).stack ?? String(e)));
