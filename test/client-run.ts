// Shared by the real-client tests whose client is a program of another
// toolchain (clients-jvm, clients-python, clients-go): where each install
// script keeps its cache, whether what it installed matches the sources, and
// running a client program with a bound.

import { afterAll, beforeAll, expect } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** CI sets KAFKA_REQUIRE_CLIENTS=1: a missing client fails there instead of skipping. */
import { removeDir, startKafka, tempDir, type RunningKafka } from "./helpers.ts";

export const CLIENTS_REQUIRED = process.env.KAFKA_REQUIRE_CLIENTS === "1";

/** ${XDG_CACHE_HOME:-~/.cache}/kafka-bun/<name>, as the install scripts compute it. */
export function clientCache(name: string): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "kafka-bun", name);
}

/** sha256 (hex) of the files' bytes one after the other, as `cat FILES | sha256sum` in the install scripts. */
export function sourcesStamp(files: string[]): string {
  const h = new Bun.CryptoHasher("sha256");
  for (const f of files) h.update(readFileSync(f));
  return h.digest("hex");
}

/** True when `stampFile` holds the stamp of `files`: the install is of these sources. */
export function stampMatches(stampFile: string, files: string[]): boolean {
  return existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === sourcesStamp(files);
}

export interface ClientRun {
  code: number | null;
  out: string;
  err: string;
  /** the run was killed at the bound */
  timedOut: boolean;
}

/** Runs a client program to its exit; SIGKILLs it (by its PID) after `timeoutMs`. */
export async function runClient(cmd: string[], timeoutMs: number, env?: Record<string, string>): Promise<ClientRun> {
  const p = Bun.spawn(cmd, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: env ? { ...process.env, ...env } : undefined });
  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    p.kill("SIGKILL");
  }, timeoutMs);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(killer);
  return { code, out, err, timedOut };
}

/** The one JSON object a client program printed on its last stdout line, or a failure naming what it printed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function clientJson(what: string, run: ClientRun): any {
  if (run.timedOut || run.code !== 0) {
    throw new Error(`${what} ${run.timedOut ? "was killed at its time bound" : `exited ${run.code}`}:\n${run.err.slice(-4000)}\n${run.out.slice(-2000)}`);
  }
  const last = run.out.trimEnd().split("\n").pop() ?? "";
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`${what} printed no JSON:\n${run.out.slice(-2000)}\n${run.err.slice(-2000)}`);
  }
}

/**
 * Starts ./kafka (3 partitions per new topic, a temp log dir, `extra` command
 * line arguments after those) for the describe block it is called in, and
 * stops it after; `bootstrap` is set once the block's tests run.
 */
export function brokerForSuite(extra: string[] = []): { readonly bootstrap: string; readonly port: number } {
  const handle = { bootstrap: "", port: 0 };
  let dir = "";
  let kafka: RunningKafka | undefined;
  beforeAll(async () => {
    dir = tempDir();
    kafka = await startKafka(dir, ["--override", "num.partitions=3", ...extra]);
    handle.port = kafka.port;
    handle.bootstrap = `127.0.0.1:${kafka.port}`;
  });
  afterAll(async () => {
    if (kafka) expect(await kafka.stop()).toBe(0);
    if (dir) removeDir(dir);
  });
  return handle;
}
