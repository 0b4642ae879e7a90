// startBroker for Node programs, which cannot run the broker's Bun code in
// their process: the same call shape, backed by the `kafka` executable as a
// child process. Built to dist/embed-node.js by `npm run build`.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { embeddedBroker, embeddedProperties, type EmbeddedBroker, type StartBrokerOptions } from "./types.ts";

export type { EmbeddedBroker, StartBrokerOptions } from "./types.ts";

export interface NodeStartBrokerOptions extends StartBrokerOptions {
  /** the executable (default: `kafka` at the package root, built by npm run build) */
  executable?: string;
  /** how long to wait for the listening line (default 10 s) */
  timeoutMs?: number;
}

const STOP_GRACE_MS = 8000;

export async function startBroker(opts: NodeStartBrokerOptions = {}): Promise<EmbeddedBroker> {
  const executable = opts.executable ?? join(dirname(fileURLToPath(import.meta.url)), "..", "kafka");
  const temporary = opts.logDir === undefined;
  const logDir = opts.logDir ?? mkdtempSync(join(tmpdir(), "kafka-embedded-"));
  const removeTemp = () => {
    if (temporary) rmSync(logDir, { recursive: true, force: true });
  };
  const props = embeddedProperties(opts, logDir);
  // the listening line is info level: ask for it, whatever the caller's log.level
  if (props.get("log.level") !== "debug") props.set("log.level", "info");
  const args = [...props].flatMap(([k, v]) => ["--override", `${k}=${v}`]);
  const child = spawn(executable, args, { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  let output = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`kafka did not start in ${opts.timeoutMs ?? 10000} ms: ${output.trim()}`));
    }, opts.timeoutMs ?? 10000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const m = / listening on [A-Z0-9_]+:\/\/[^ ]*:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        // keep draining the pipes so the child never blocks on a full one
        child.stdout.removeListener("data", onData);
        child.stdout.resume();
        resolve(Number(m[1]));
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${executable}: ${e.message}`));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`kafka exited with ${code} before listening: ${output.trim()}`));
    });
  }).catch((e: unknown) => {
    removeTemp();
    throw e;
  });

  return embeddedBroker(opts.host ?? "127.0.0.1", port, logDir, async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(killer);
    }
    removeTemp();
  });
}
