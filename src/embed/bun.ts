// startBroker for Bun programs and test suites: the broker runs in the calling
// process, on a free port, with a temporary log dir unless one is given.
//
//   import { startBroker } from "kafka-bun";
//   const kafka = await startBroker({ overrides: { "num.partitions": "3" } });
//   ... new Kafka({ brokers: [kafka.bootstrap] }) ...
//   await kafka.stop();

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Broker } from "../broker.ts";
import { buildConfig } from "../config.ts";
import { setLogLevel } from "../log.ts";
import { enableNativeCrc32c } from "../records/crc32c.ts";
import { embeddedBroker, embeddedProperties, type EmbeddedBroker, type StartBrokerOptions } from "./types.ts";

export type { EmbeddedBroker, StartBrokerOptions } from "./types.ts";

export async function startBroker(opts: StartBrokerOptions = {}): Promise<EmbeddedBroker> {
  const temporary = opts.logDir === undefined;
  const logDir = opts.logDir ?? mkdtempSync(join(tmpdir(), "kafka-embedded-"));
  let broker: Broker;
  try {
    const config = buildConfig(embeddedProperties(opts, logDir));
    // the log level is the process's: the last broker started sets it
    setLogLevel(config.logLevel);
    broker = await new Broker(config).start();
  } catch (e) {
    if (temporary) rmSync(logDir, { recursive: true, force: true });
    throw e;
  }
  // off the start-up path, as the executable does
  setImmediate(enableNativeCrc32c);
  const { host, boundPort: port } = broker.firstListener;
  return embeddedBroker(host, port, logDir, async () => {
    await broker.stop();
    if (temporary) rmSync(logDir, { recursive: true, force: true });
  });
}
