// A TCP proxy on 127.0.0.1 between Kafka clients and a broker, for tests that
// need the network to fail at a chosen moment: while holding, the broker's
// responses are kept from the clients (counted as whole frames, so a test can
// wait until the broker has answered requests the clients will never hear
// of), then dropAll() cuts every connection, and the held bytes are lost.
// Clients must be told the proxy's address (advertised.listeners), so every
// connection they make goes through it.

import type { Socket, TCPSocketListener } from "bun";

interface Side {
  socket: Socket<Conn> | null;
  /** bytes not yet accepted by the socket */
  pending: Uint8Array[];
}

interface Conn {
  client: Side;
  upstream: Side;
  /** partial response frame bookkeeping: header bytes seen, then bytes left of the frame */
  header: number[];
  left: number;
  closed: boolean;
}

function write(side: Side, bytes: Uint8Array): void {
  if (side.socket === null || side.pending.length > 0) {
    side.pending.push(bytes);
    return;
  }
  const n = side.socket.write(bytes);
  if (n < bytes.length) side.pending.push(bytes.subarray(n));
}

function drain(side: Side): void {
  while (side.socket !== null && side.pending.length > 0) {
    const b = side.pending[0]!;
    const n = side.socket.write(b);
    if (n < b.length) {
      side.pending[0] = b.subarray(n);
      return;
    }
    side.pending.shift();
  }
}

export class HoldingProxy {
  private holding = false;
  private held = 0;
  private waiters: (() => void)[] = [];
  private readonly conns = new Set<Conn>();
  private server!: TCPSocketListener<Conn>;

  private constructor(private readonly upstreamPort: number) {}

  /** Listens on a free loopback port; each connection is piped to 127.0.0.1:upstreamPort. */
  static start(upstreamPort: number): HoldingProxy {
    const p = new HoldingProxy(upstreamPort);
    p.server = Bun.listen<Conn>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: (s) => p.accept(s),
        data: (s, chunk) => write(s.data.upstream, chunk.slice()),
        drain: (s) => drain(s.data.client),
        close: (s) => p.closeConn(s.data),
        error: (s) => p.closeConn(s.data),
      },
    });
    return p;
  }

  get port(): number {
    return this.server.port;
  }

  /** Response frames held back since hold(). */
  get heldResponses(): number {
    return this.held;
  }

  /** From now on the broker's bytes stop here. */
  hold(): void {
    this.holding = true;
    this.held = 0;
  }

  /** Bytes flow again (for connections made from now on; held bytes are never sent). */
  release(): void {
    this.holding = false;
  }

  /** Resolves once `n` whole responses were held back; rejects after `timeoutMs`. */
  waitHeld(n: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.held} of ${n} responses held in ${timeoutMs} ms`)), timeoutMs);
      const check = () => {
        if (this.held >= n) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }

  /** Closes every connection, both ends; what was held is dropped. */
  dropAll(): void {
    for (const c of [...this.conns]) this.closeConn(c);
  }

  stop(): void {
    this.dropAll();
    this.server.stop(true);
  }

  private accept(client: Socket<Conn>): void {
    const c: Conn = { client: { socket: client, pending: [] }, upstream: { socket: null, pending: [] }, header: [], left: 0, closed: false };
    client.data = c;
    this.conns.add(c);
    Bun.connect<Conn>({
      hostname: "127.0.0.1",
      port: this.upstreamPort,
      data: c,
      socket: {
        open: (s) => {
          if (c.closed) return void s.end();
          c.upstream.socket = s;
          drain(c.upstream);
        },
        data: (_s, chunk) => this.fromBroker(c, chunk),
        drain: () => drain(c.upstream),
        close: () => this.closeConn(c),
        error: () => this.closeConn(c),
        connectError: () => this.closeConn(c),
      },
    }).catch(() => this.closeConn(c));
  }

  private fromBroker(c: Conn, chunk: Uint8Array): void {
    const holding = this.holding;
    if (!holding) write(c.client, chunk.slice());
    // follow the response frames (int32 size, then size bytes); count those completed while holding
    let p = 0;
    while (p < chunk.length) {
      if (c.left > 0) {
        const take = Math.min(c.left, chunk.length - p);
        c.left -= take;
        p += take;
        if (c.left === 0 && holding) this.heldOne();
        continue;
      }
      c.header.push(chunk[p++]!);
      if (c.header.length === 4) {
        c.left = ((c.header[0]! << 24) | (c.header[1]! << 16) | (c.header[2]! << 8) | c.header[3]!) >>> 0;
        c.header = [];
        if (c.left === 0 && holding) this.heldOne();
      }
    }
  }

  private heldOne(): void {
    this.held++;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private closeConn(c: Conn | undefined): void {
    if (!c || c.closed) return;
    c.closed = true;
    this.conns.delete(c);
    c.client.socket?.end();
    c.upstream.socket?.end();
  }
}
