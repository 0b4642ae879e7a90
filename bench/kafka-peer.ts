// Apache Kafka as the second peer of bench/run.ts: where its Java and jars
// are, the JVM and server settings it runs with, and the ApiVersions probe
// that times its start-up. The jars are the ones test/kafka-ref/install.sh
// resolves for the differential tests; the rules for finding them repeat
// test/kafka-ref/reference.ts here so that the bench does not load the test
// helpers (and the whole broker) into its own process.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const KAFKA_REF_CACHE =
  process.env.KAFKA_REF_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "kafka-bun", "kafka-ref");
const CLASSPATH_FILE = join(KAFKA_REF_CACHE, "classpath.txt");
const LOG4J_FILE = join(KAFKA_REF_CACHE, "log4j2.properties");

export interface KafkaSetup {
  java: string;
  classpath: string;
  version: string; // Kafka's, from the jar name
  javaVersion: string;
}

/** Java: $KAFKA_REF_JAVA, else $JAVA_HOME/bin/java, else java on PATH. */
function javaPath(): string | null {
  const explicit = process.env.KAFKA_REF_JAVA;
  if (explicit) return existsSync(explicit) ? explicit : null;
  const home = process.env.JAVA_HOME;
  if (home && existsSync(join(home, "bin", "java"))) return join(home, "bin", "java");
  return Bun.which("java");
}

/** The Java and classpath to run Kafka with, or why it cannot run here. */
export function kafkaSetup(): KafkaSetup | { skip: string } {
  const java = javaPath();
  if (!java) return { skip: "no java on PATH (Kafka 4.x needs Java 17+)" };
  const p = Bun.spawnSync([java, "-XshowSettings:properties", "-version"], { stdout: "pipe", stderr: "pipe", timeout: 20_000 });
  const settings = p.stderr.toString();
  const v = Number(/java\.specification\.version = (\d+)/.exec(settings)?.[1] ?? 0);
  if (v < 17) return { skip: `${java} is Java ${v || "of an unknown version"}; Kafka 4.x brokers need 17+` };
  if (!existsSync(CLASSPATH_FILE) || !existsSync(LOG4J_FILE)) {
    return { skip: `Apache Kafka is not installed in ${KAFKA_REF_CACHE} (bash test/kafka-ref/install.sh; it needs mvn)` };
  }
  const jars = readFileSync(CLASSPATH_FILE, "utf8").trim().split(":").filter(Boolean);
  const missing = jars.find((jar) => !existsSync(jar));
  if (missing) return { skip: `a jar of the cached classpath is gone: ${missing} (rerun test/kafka-ref/install.sh)` };
  const version = /kafka_[\d.]+-([^/]+)\.jar$/.exec(jars.find((j) => /\/kafka_[\d.]+-[^/]+\.jar$/.test(j)) ?? "")?.[1] ?? "unknown";
  const javaVersion = /java\.runtime\.version = (\S+)/.exec(settings)?.[1] ?? String(v);
  return { java, classpath: jars.join(":"), version, javaVersion };
}

/**
 * What `bin/kafka-server-start.sh` runs by default (kafka-run-class.sh of
 * apache/kafka 4.x): KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS, the GC log
 * of `-loggc` and KAFKA_JMX_OPTS (local JMX, no port). Logging goes through
 * the reference cache's log4j2 file (warnings to a file, as the tests use it)
 * instead of the release's config dir, which the Maven jars do not have.
 */
export function kafkaJvmArgs(setup: KafkaSetup, logsDir: string, server: boolean): string[] {
  return [
    ...(server ? ["-Xmx1G", "-Xms1G"] : ["-Xmx256M"]), // the tools' default heap for the storage formatter
    "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent", "-XX:MaxInlineLevel=15", "-Djava.awt.headless=true",
    ...(server ? [`-Xlog:gc*:file=${join(logsDir, "kafkaServer-gc.log")}:time,tags:filecount=10,filesize=100M`] : []),
    "-Dcom.sun.management.jmxremote=true", "-Dcom.sun.management.jmxremote.authenticate=false",
    "-Dcom.sun.management.jmxremote.ssl=false",
    `-Dkafka.logs.dir=${logsDir}`, `-Dlog4j2.configurationFile=${LOG4J_FILE}`,
    "-cp", setup.classpath,
  ];
}

/**
 * config/server.properties of Kafka 4.x (KRaft combined mode, node 1) on
 * loopback ports, with auto-created topics of `numPartitions` partitions.
 * Flushing is left at Kafka's default: no fsync per message or interval, the
 * OS writes the page cache back (as ours).
 */
export function kafkaProperties(dataDir: string, port: number, controllerPort: number, numPartitions: number): string {
  const props: Record<string, string> = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.quorum.voters": `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    "advertised.listeners": `PLAINTEXT://127.0.0.1:${port}`,
    "inter.broker.listener.name": "PLAINTEXT",
    "controller.listener.names": "CONTROLLER",
    "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "num.network.threads": "3",
    "num.io.threads": "8",
    "socket.send.buffer.bytes": "102400",
    "socket.receive.buffer.bytes": "102400",
    "socket.request.max.bytes": "104857600",
    "log.dirs": dataDir,
    "num.partitions": String(numPartitions),
    "auto.create.topics.enable": "true",
    "num.recovery.threads.per.data.dir": "1",
    "offsets.topic.replication.factor": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
    "log.retention.hours": "168",
    "log.segment.bytes": "1073741824",
    "log.retention.check.interval.ms": "300000",
  };
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
}

/** A cluster id as Uuid.randomUuid makes them: 16 random bytes, base64url, not starting with '-'. */
export function randomClusterId(): string {
  for (;;) {
    const id = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

/**
 * One ApiVersions v0 round trip on 127.0.0.1:port: true when an answer with
 * error 0 arrives within waitMs. A listener that accepts before the broker
 * processes requests keeps the request queued, so the answer marks the moment
 * the broker serves clients.
 */
export async function answersApiVersions(port: number, waitMs: number): Promise<boolean> {
  const clientId = Buffer.from("kbench");
  const req = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
  req.writeInt32BE(req.length - 4, 0);
  req.writeInt16BE(18, 4); // ApiVersions
  req.writeInt16BE(0, 6); // v0: no body, no tagged fields
  req.writeInt32BE(7, 8); // correlation id
  req.writeInt16BE(clientId.length, 12);
  clientId.copy(req, 14);
  const { promise, resolve } = Promise.withResolvers<boolean>();
  let got = Buffer.alloc(0);
  const timer = setTimeout(() => resolve(false), waitMs);
  try {
    const sock = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_s, chunk) {
          got = Buffer.concat([got, chunk]);
          // size(4) correlation id(4) error code(2)
          if (got.length >= 10) resolve(got.readInt32BE(4) === 7 && got.readInt16BE(8) === 0);
        },
        close() {
          resolve(false);
        },
        error() {
          resolve(false);
        },
      },
    });
    sock.write(req);
    const ok = await promise;
    sock.end();
    return ok;
  } catch {
    return false; // refused: not listening yet
  } finally {
    clearTimeout(timer);
  }
}
