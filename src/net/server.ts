// The TCP listeners: one Bun.listen per entry of `listeners`, a Connection per
// socket. Each connection knows the listener it came in on (name, security
// protocol), which its session hands to handlers.

import type { TCPSocketListener } from "bun";
import { log } from "../log.ts";
import { Connection } from "./connection.ts";
import type { Broker } from "../broker.ts";
import type { Listener } from "../config.ts";
import type { Service } from "../service.ts";

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

/** One listener's socket. */
class Server {
  private listener: TCPSocketListener<Connection> | null = null;

  constructor(
    private readonly broker: Broker,
    readonly config: Listener,
    private readonly connections: Set<Connection>,
  ) {}

  get port(): number | undefined {
    return this.listener?.port;
  }

  get hostname(): string | undefined {
    return this.listener?.hostname;
  }

  /** Throws ListenError (one line) when the port cannot be bound. */
  listen(): void {
    const { broker, connections, config } = this;
    const host = config.host === "" ? "0.0.0.0" : config.host;
    const info = { name: config.name, securityProtocol: config.securityProtocol };
    try {
      this.listener = Bun.listen<Connection>({
        hostname: host,
        port: config.port,
        socket: {
          binaryType: "uint8array",
          open(socket) {
            socket.setNoDelay(true);
            const conn = new Connection(socket, broker, `${socket.remoteAddress}:${socket.remotePort}`, info);
            socket.data = conn;
            connections.add(conn);
            log.debug(`${conn.peer}: connected to ${info.name}`);
          },
          data(socket, chunk) {
            guard(socket.data, "read", () => socket.data.onData(chunk));
          },
          drain(socket) {
            guard(socket.data, "write", () => socket.data.onDrain());
          },
          close(socket) {
            const conn = socket.data;
            if (!conn) return;
            conn.onClose();
            connections.delete(conn);
            log.debug(`${conn.peer}: disconnected`);
          },
          error(socket, err) {
            log.warn(`${socket.data?.peer ?? "?"}: socket error ${err.message}`);
          },
        },
      });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new ListenError(`cannot listen on ${config.name}://${host}:${config.port}: ${err.code === "EADDRINUSE" ? "address already in use" : err.message}`);
    }
  }

  stopAccepting(): void {
    this.listener?.stop(false);
  }

  close(): void {
    this.listener?.stop(true);
    this.listener = null;
  }
}

/** Every configured listener, as one service. */
export class Listeners implements Service {
  readonly name = "listeners";
  readonly connections = new Set<Connection>();
  private readonly servers: Server[];

  constructor(broker: Broker, listeners: readonly Listener[]) {
    this.servers = listeners.map((l) => new Server(broker, l, this.connections));
  }

  start(): void {
    for (const s of this.servers) s.listen();
  }

  /** Stops accepting, lets in-flight requests and unsent responses finish (bounded), then closes every connection. */
  async stop(): Promise<void> {
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
