// The TCP listeners: one Bun.listen per entry of `listeners`, a Connection per
// socket. Each connection knows the listener it came in on (name, security
// protocol), which its session hands to handlers. Near the file-descriptor
// limit the listening sockets are closed and reopened on the same ports
// (fd-limit.ts says why).

import type { TCPSocketListener } from "bun";
import { log, clientLog } from "../log.ts";
import { Connection, OutputBudget } from "./connection.ts";
import { brokerValue } from "../config.ts";
import type { Broker } from "../broker.ts";
import type { Listener } from "../config.ts";
import type { Service } from "../service.ts";
import { FdLimit } from "./fd-limit.ts";

/** Whatever goes wrong on one connection ends that connection, never the broker. */
function guard(conn: Connection, what: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    log.error(`${conn.peer}: ${what} failed: ${(e as Error).stack ?? e}; closing`);
    conn.close();
  }
}

/** How long shutdown waits for in-flight requests and unsent responses. */
const DRAIN_MS = 5000;

export class ListenError extends Error {}

/**
 * max.connections, max.connections.per.ip and max.connections.per.ip.overrides.
 * A connection past a limit is closed as soon as it is accepted (Kafka closes
 * one over the per-address limit the same way; over max.connections Kafka
 * holds off accepting until a slot frees, we close it: Bun's listener cannot
 * hold off one accept).
 */
export class ConnectionLimits {
  readonly max: number;
  private readonly perIp: number;
  private readonly overrides = new Map<string, number>();
  private readonly byIp = new Map<string, number>();
  total = 0;

  constructor(raw: ReadonlyMap<string, string>) {
    this.max = brokerValue<number>(raw, "max.connections");
    this.perIp = brokerValue<number>(raw, "max.connections.per.ip");
    for (const entry of brokerValue<string>(raw, "max.connections.per.ip.overrides").split(",")) {
      const e = entry.trim();
      const i = e.lastIndexOf(":");
      if (i > 0 && /^\d+$/.test(e.slice(i + 1))) this.overrides.set(e.slice(0, i), Number(e.slice(i + 1)));
    }
  }

  /** Takes a slot for `ip`, or says which limit is reached. */
  acquire(ip: string): string | null {
    const n = this.byIp.get(ip) ?? 0;
    const limit = this.overrides.get(ip) ?? this.perIp;
    if (n >= limit) return `max.connections.per.ip ${limit}`;
    if (this.total >= this.max) return `max.connections ${this.max}`;
    this.byIp.set(ip, n + 1);
    this.total++;
    return null;
  }

  release(ip: string): void {
    const n = (this.byIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.byIp.delete(ip);
    else this.byIp.set(ip, n);
    this.total--;
  }
}

/** One listener's socket. */
class Server {
  private listener: TCPSocketListener<Connection> | null = null;
  /** the bound port and host, kept while held off at the fd limit */
  private bound: { port: number; hostname: string } | null = null;
  fds: FdLimit | null = null;

  constructor(
    private readonly broker: Broker,
    readonly config: Listener,
    private readonly connections: Set<Connection>,
    private readonly limits: ConnectionLimits,
  ) {}

  get port(): number | undefined {
    return this.bound?.port;
  }

  get hostname(): string | undefined {
    return this.bound?.hostname;
  }

  /** Throws ListenError (one line) when the port cannot be bound; again after a pause, the port first bound. */
  listen(): void {
    const { broker, connections, config, limits } = this;
    const host = config.host === "" ? "0.0.0.0" : config.host;
    const info = { name: config.name, securityProtocol: config.securityProtocol };
    const server = this;
    try {
      this.listener = Bun.listen<Connection>({
        hostname: host,
        port: this.bound?.port ?? config.port,
        socket: {
          binaryType: "uint8array",
          open(socket) {
            server.fds?.opened();
            const ip = socket.remoteAddress;
            const refused = limits.acquire(ip);
            if (refused !== null) {
              clientLog.write(`${ip} too many connections`, "warn", `${ip}:${socket.remotePort}: connection refused, ${refused} reached`);
              socket.end();
              return;
            }
            socket.setNoDelay(true);
            const conn = new Connection(socket, broker, `${socket.remoteAddress}:${socket.remotePort}`, info);
            socket.data = conn;
            connections.add(conn);
            log.debug(`${conn.peer}: connected to ${info.name}`);
          },
          data(socket, chunk) {
            if (socket.data) guard(socket.data, "read", () => socket.data.onData(chunk));
          },
          drain(socket) {
            if (socket.data) guard(socket.data, "write", () => socket.data.onDrain());
          },
          close(socket) {
            server.fds?.closed();
            const conn = socket.data;
            if (!conn) return;
            socket.data = undefined as unknown as Connection;
            conn.onClose();
            connections.delete(conn);
            limits.release(socket.remoteAddress);
            log.debug(`${conn.peer}: disconnected`);
          },
          error(socket, err) {
            log.warn(`${socket.data?.peer ?? "?"}: socket error ${err.message}`);
          },
        },
      });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new ListenError(`cannot listen on ${config.name}://${host}:${this.bound?.port ?? config.port}: ${err.code === "EADDRINUSE" ? "address already in use" : err.message}`);
    }
    this.bound = { port: this.listener.port, hostname: this.listener.hostname };
  }

  /** listeners closed by stopAccepting, whose connections close() still ends */
  private retired: TCPSocketListener<Connection>[] = [];

  /** Closes the listening socket; its connections stay. */
  stopAccepting(): void {
    if (this.listener === null) return;
    this.listener.stop(false);
    this.retired.push(this.listener);
    if (this.retired.length > 64) this.retired.shift(); // bounded; Listeners.stop ends every connection itself too
    this.listener = null;
  }

  /** Listens again after stopAccepting (fd limit); false, with one line, when the port cannot be had now. */
  resume(): boolean {
    if (this.listener !== null) return true;
    try {
      this.listen();
      return true;
    } catch (e) {
      log.warn(`${(e as Error).message}; trying again`);
      return false;
    }
  }

  close(): void {
    this.stopAccepting();
    for (const l of this.retired) l.stop(true);
    this.retired = [];
  }
}

/** Every configured listener, as one service. */
export class Listeners implements Service {
  readonly name = "listeners";
  readonly connections = new Set<Connection>();
  /** socket.output.buffer.max.bytes over every connection of this broker */
  readonly output: OutputBudget;
  private readonly servers: Server[];
  private readonly idleMs: number;
  private idleTimer: ReturnType<typeof setInterval> | null = null;
  private fds: FdLimit | null = null;

  constructor(broker: Broker, listeners: readonly Listener[]) {
    const limits = new ConnectionLimits(broker.config.raw);
    this.output = new OutputBudget(brokerValue<number>(broker.config.raw, "socket.output.buffer.max.bytes"));
    this.idleMs = brokerValue<number>(broker.config.raw, "connections.max.idle.ms");
    this.servers = listeners.map((l) => new Server(broker, l, this.connections, limits));
  }

  start(): void {
    for (const s of this.servers) s.listen();
    this.fds = FdLimit.create({
      pause: () => {
        for (const s of this.servers) s.stopAccepting();
      },
      resume: () => this.servers.every((s) => s.resume()),
      connections: () => this.connections.size,
    });
    for (const s of this.servers) s.fds = this.fds;
    this.fds?.start();
    // connections.max.idle.ms (-1: never): swept a few times per idle period, as Kafka's Selector checks on each poll
    if (this.idleMs > 0) {
      this.idleTimer = setInterval(() => {
        const now = Date.now();
        for (const c of this.connections) c.closeIfIdle(now, this.idleMs);
      }, Math.max(50, Math.min(this.idleMs / 4, 30_000)));
      (this.idleTimer as { unref?: () => void }).unref?.();
    }
  }

  /** Stops accepting, lets in-flight requests and unsent responses finish (bounded), then closes every connection. */
  async stop(): Promise<void> {
    if (this.idleTimer !== null) clearInterval(this.idleTimer);
    this.fds?.stop();
    for (const s of this.servers) s.stopAccepting();
    const deadline = Date.now() + DRAIN_MS;
    // bounded by the deadline; connections become idle as their responses go out
    while (Date.now() < deadline && [...this.connections].some((c) => !c.idle)) await Bun.sleep(5);
    for (const c of this.connections) c.close();
    for (const s of this.servers) s.close();
  }

  /** The port a listener is bound to (the real one when configured as 0). */
  boundPort(name: string): number | undefined {
    return this.servers.find((s) => s.config.name === name)?.port;
  }

  /** "NAME://host:port" of each bound listener. */
  describe(): string[] {
    return this.servers.map((s) => `${s.config.name}://${s.hostname}:${s.port}`);
  }
}
