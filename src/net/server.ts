// The TCP listener: Bun.listen with a Connection per socket.

import type { TCPSocketListener } from "bun";
import { log } from "../log.ts";
import { Connection } from "./connection.ts";
import type { Broker } from "../broker.ts";

/** Whatever goes wrong on one connection ends that connection, never the broker. */
function guard(conn: Connection, what: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    log.error(`${conn.peer}: ${what} failed: ${(e as Error).stack ?? e}; closing`);
    conn.close();
  }
}

export class Server {
  private listener: TCPSocketListener<Connection> | null = null;
  readonly connections = new Set<Connection>();

  constructor(private readonly broker: Broker) {}

  /** Throws (with the OS error) when the port cannot be bound. */
  listen(host: string, port: number): { host: string; port: number } {
    const broker = this.broker;
    const connections = this.connections;
    this.listener = Bun.listen<Connection>({
      hostname: host === "" ? "0.0.0.0" : host,
      port,
      socket: {
        binaryType: "uint8array",
        open(socket) {
          socket.setNoDelay(true);
          const conn = new Connection(socket, broker, `${socket.remoteAddress}:${socket.remotePort}`);
          socket.data = conn;
          connections.add(conn);
          log.debug(`${conn.peer}: connected`);
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
    return { host: this.listener.hostname, port: this.listener.port };
  }

  /** Stops accepting; existing connections stay open until closeAll. */
  stopAccepting(): void {
    this.listener?.stop(false);
  }

  closeAll(): void {
    for (const c of this.connections) c.close();
    this.listener?.stop(true);
    this.listener = null;
  }
}
