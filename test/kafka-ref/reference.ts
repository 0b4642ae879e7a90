// Apache Kafka itself as a reference broker for the differential tests.
//
// test/kafka-ref/install.sh resolves Kafka with Maven and writes its classpath
// into a cache outside the repo; this module starts that Kafka in KRaft
// combined mode (broker and controller, node 1) on two free loopback ports
// with a fresh formatted log dir, waits until it answers ApiVersions, and
// stops it by PID. With `dataDir` it starts on an existing log dir instead
// (one ./kafka wrote), unformatted, and leaves it in place. Kafka's command
// line tools run through runKafkaTool(). One Kafka per test process: `sharedReference()` starts it
// on first use and every later call gets the same one; `stopSharedReference()`
// (afterAll) stops it, and a process exit hook kills it if a run dies first.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { ApiVersionsRequest, ApiVersionsResponse } from "../../src/protocol/messages/api-versions.ts";
import { codecFor, encode } from "../../src/protocol/codec.ts";
import { Reader } from "../../src/protocol/reader.ts";
import { removeDir, requestFrame, tempDir, WireClient } from "../helpers.ts";
import { readMetaProperties } from "../../src/metadata/properties.ts";

/** Where install.sh keeps the classpath (same rule as the script). */
export const REFERENCE_CACHE =
  process.env.KAFKA_REF_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "kafka-bun", "kafka-ref");
const CLASSPATH_FILE = join(REFERENCE_CACHE, "classpath.txt");
const LOG4J_FILE = join(REFERENCE_CACHE, "log4j2.properties");
const INSTALL = "test/kafka-ref/install.sh";

/** CI sets KAFKA_REQUIRE_CLIENTS=1: a missing reference broker fails there instead of skipping. */
export const REFERENCE_REQUIRED = process.env.KAFKA_REQUIRE_CLIENTS === "1";

/** Java: $KAFKA_REF_JAVA, else $JAVA_HOME/bin/java, else java on PATH. */
function javaPath(): string | null {
  const explicit = process.env.KAFKA_REF_JAVA;
  if (explicit) return existsSync(explicit) ? explicit : null;
  const home = process.env.JAVA_HOME;
  if (home && existsSync(join(home, "bin", "java"))) return join(home, "bin", "java");
  return Bun.which("java");
}

function classpath(): string[] {
  return readFileSync(CLASSPATH_FILE, "utf8").trim().split(":").filter(Boolean);
}

/** The Java feature version (17, 21, ...) of `java`, or 0 when it cannot tell. */
function javaVersion(java: string): number {
  const p = Bun.spawnSync([java, "-XshowSettings:properties", "-version"], { stdout: "pipe", stderr: "pipe", timeout: 20_000 });
  const m = /java\.specification\.version = (\d+)/.exec(p.stderr.toString() + p.stdout.toString());
  return m ? Number(m[1]) : 0;
}

/** Why the reference broker cannot run here, or null when it can. */
export function referenceUnavailable(): string | null {
  const java = javaPath();
  if (!java) return `no java (Kafka 4.x needs Java 17+; install openjdk-17-jre-headless, then run ${INSTALL})`;
  const v = javaVersion(java);
  if (v < 17) return `${java} is Java ${v || "of an unknown version"}; Kafka 4.x brokers need 17+ (set KAFKA_REF_JAVA or JAVA_HOME)`;
  if (!existsSync(CLASSPATH_FILE) || !existsSync(LOG4J_FILE)) return `Apache Kafka is not installed in ${REFERENCE_CACHE} (run ${INSTALL}; it needs mvn)`;
  const missing = classpath().find((jar) => !existsSync(jar));
  if (missing) return `a jar of the cached classpath is gone: ${missing} (run ${INSTALL} again)`;
  return null;
}

export interface ReferenceKafka {
  /** PLAINTEXT listener on 127.0.0.1 */
  port: number;
  controllerPort: number;
  pid: number;
  clusterId: string;
  dir: string;
  /** the tail of Kafka's log file and stdout (for failure messages) */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export interface ReferenceOptions {
  /** extra server.properties entries (override the defaults below) */
  properties?: Record<string, string>;
  /** overall start-up bound: format + JVM start + first ApiVersions answer */
  timeoutMs?: number;
  /**
   * Adopt this existing log dir (log.dirs and metadata.log.dir) instead of a
   * fresh formatted one: no storage formatter runs, node.id comes from its
   * meta.properties, and stop() leaves it in place.
   */
  dataDir?: string;
}

/** Two ports the OS just handed out on 127.0.0.1 (released before Kafka binds them). */
function freePorts(n: number): number[] {
  const servers = Array.from({ length: n }, () => Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }));
  const ports = servers.map((s) => s.port);
  for (const s of servers) s.stop(true);
  return ports;
}

/** A Kafka cluster id: 16 random bytes, URL-safe base64 without padding, not starting with '-' (as Uuid.randomUuid). */
function randomClusterId(): string {
  for (;;) {
    const id = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

function javaArgs(dir: string): string[] {
  return [
    "-Xms128m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1", // C1 only: faster start, less CPU on a 2-core machine
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${LOG4J_FILE}`,
    `-Dkafka.logs.dir=${join(dir, "logs")}`,
    "-cp",
    classpath().join(":"),
  ];
}

/** One ApiVersions v0 round trip; true when Kafka answered with error 0. */
async function answersApiVersions(port: number): Promise<boolean> {
  let client: WireClient | null = null;
  try {
    client = await WireClient.connect(port);
    client.send(requestFrame(18, 0, 1, "kafka-ref-probe", encode(ApiVersionsRequest, 0, { clientSoftwareName: "", clientSoftwareVersion: "" }), false));
    const frame = await client.readFrame();
    if (!frame) return false;
    const resp = codecFor(ApiVersionsResponse, 0).read(new Reader(frame, 4));
    return resp.errorCode === 0 && resp.apiKeys.length > 0;
  } catch {
    return false;
  } finally {
    client?.close();
  }
}

/** Runs Kafka's storage formatter on the log dir of `propsFile`; calls `fail` when it does not exit 0. */
async function formatLogDir(java: string, dir: string, clusterId: string, propsFile: string, deadline: number, fail: (why: string) => never): Promise<void> {
  const format = Bun.spawn([java, ...javaArgs(dir), "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", propsFile], {
    stdin: "ignore",
    stdout: Bun.file(join(dir, "logs", "format.log")),
    stderr: "pipe",
  });
  const formatKiller = setTimeout(() => format.kill("SIGKILL"), Math.max(1000, deadline - Date.now()));
  const formatErr = await new Response(format.stderr).text();
  const formatCode = await format.exited;
  clearTimeout(formatKiller);
  if (formatCode !== 0) fail(`the storage tool exited ${formatCode}: ${formatErr.trim() || tail(join(dir, "logs", "format.log"), 5)}`);
}

/** A class Kafka's command line tools need (kafka-tools in pom.xml), to tell an older cached classpath apart. */
const TOOLS_JAR = /\/kafka-tools-[^/]*\.jar$/;

/** Why Kafka's tools (DumpLogSegments, TopicCommand) cannot run here, or null when they can. */
export function referenceToolsUnavailable(): string | null {
  const reason = referenceUnavailable();
  if (reason) return reason;
  if (!classpath().some((jar) => TOOLS_JAR.test(jar))) return `the cached classpath in ${REFERENCE_CACHE} has no kafka-tools jar (run ${INSTALL} again)`;
  return null;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of Kafka's command line tools (`mainClass` with `args`) on the
 * reference classpath and collects its output; killed after `timeoutMs`.
 */
export async function runKafkaTool(mainClass: string, args: string[], timeoutMs = 60_000): Promise<ToolResult> {
  const reason = referenceToolsUnavailable();
  if (reason) throw new Error(`Kafka's tools unavailable: ${reason}`);
  const dir = tempDir("kafka-tool-");
  try {
    const p = Bun.spawn([javaPath()!, ...javaArgs(dir), mainClass, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const killer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    clearTimeout(killer);
    return { code: p.signalCode ? -1 : code, stdout, stderr: stderr + (p.signalCode ? `\n(killed: ${p.signalCode} after ${timeoutMs} ms)` : "") };
  } finally {
    removeDir(dir);
  }
}

/** Starts Apache Kafka 4.x in KRaft combined mode; resolves once it answers ApiVersions. */
export async function startReference(opts: ReferenceOptions = {}): Promise<ReferenceKafka> {
  const reason = referenceUnavailable();
  if (reason) throw new Error(`reference Kafka unavailable: ${reason}`);
  const java = javaPath()!;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  const dir = tempDir("kafka-ref-");
  const [port, controllerPort] = freePorts(2) as [number, number];
  const adopted = opts.dataDir ? readMetaProperties(opts.dataDir) : null;
  if (opts.dataDir && !adopted) throw new Error(`reference Kafka: ${opts.dataDir} has no meta.properties to adopt`);
  const clusterId = adopted?.clusterId ?? randomClusterId();
  const nodeId = String(adopted?.nodeId ?? 1);
  const dataDir = opts.dataDir ?? join(dir, "data");
  const props: Record<string, string> = {
    "process.roles": "broker,controller",
    "node.id": nodeId,
    // a static quorum of this one node (kraft.version 0): nothing in the log names the voters
    "controller.quorum.voters": `${nodeId}@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    "advertised.listeners": `PLAINTEXT://127.0.0.1:${port}`,
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "log.dirs": dataDir,
    "metadata.log.dir": dataDir,
    "num.partitions": "1",
    "auto.create.topics.enable": "true",
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
    "num.network.threads": "2",
    "num.io.threads": "2",
    "num.recovery.threads.per.data.dir": "1",
    ...opts.properties,
  };
  mkdirSync(join(dir, "logs"));
  const propsFile = join(dir, "server.properties");
  writeFileSync(propsFile, Object.entries(props).map(([k, v]) => `${k}=${v}`).join("\n") + "\n");
  const stdoutFile = join(dir, "logs", "stdout.log");
  const logFile = join(dir, "logs", "server.log");
  const logTail = (lines = 30) => [tail(logFile, lines), tail(stdoutFile, lines)].filter(Boolean).join("\n");

  let proc: Subprocess | null = null;
  const kill = () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  };
  const onExit = () => {
    kill();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", onExit);
  const fail = (why: string): never => {
    kill();
    process.off("exit", onExit);
    const detail = logTail();
    removeDir(dir);
    throw new Error(`reference Kafka: ${why}${detail ? `\n${detail}` : ""}`);
  };

  // format the log dir (static quorum: controller.quorum.voters, so no --standalone); an adopted one is not
  if (!adopted) await formatLogDir(java, dir, clusterId, propsFile, deadline, fail);

  proc = Bun.spawn([java, ...javaArgs(dir), "kafka.Kafka", propsFile], {
    stdin: "ignore",
    stdout: Bun.file(stdoutFile),
    stderr: Bun.file(join(dir, "logs", "stderr.log")),
  });
  const exited = proc.exited.then((code) => code);
  let exitCode: number | null = null;
  void exited.then((c) => (exitCode = c));

  // wait on the event: the listener accepts and answers ApiVersions (retry with a short backoff, bounded overall)
  let backoff = 50;
  for (;;) {
    if (exitCode !== null) fail(`kafka.Kafka exited ${exitCode} before answering (stderr: ${tail(join(dir, "logs", "stderr.log"), 5)})`);
    if (await answersApiVersions(port)) break;
    if (Date.now() > deadline) fail(`no ApiVersions answer on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await Promise.race([exited, Bun.sleep(backoff)]);
    backoff = Math.min(backoff * 2, 500);
  }

  const running = proc;
  return {
    port,
    controllerPort,
    pid: running.pid,
    clusterId,
    dir,
    logTail,
    async stop() {
      if (exitCode === null) {
        running.kill("SIGTERM");
        const killer = setTimeout(() => running.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(killer);
      }
      process.off("exit", onExit);
      removeDir(dir);
    },
  };
}

let shared: Promise<ReferenceKafka> | null = null;

/** The one reference Kafka of this test process, started on first call. */
export function sharedReference(): Promise<ReferenceKafka> {
  shared ??= startReference();
  return shared;
}

/** Stops the shared reference Kafka if it was started (afterAll). */
export async function stopSharedReference(): Promise<void> {
  const p = shared;
  shared = null;
  if (!p) return;
  const ref = await p.catch(() => null);
  await ref?.stop();
}
