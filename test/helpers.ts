// Test helpers: temp dirs, request frames, an in-process broker driven through
// the real Connection (framing, headers, codec, handlers, storage), and the
// compiled ./kafka started as a child process.

import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { buildConfig } from "../src/config.ts";
import type { Storage } from "../src/storage/log-manager.ts";
import { Broker } from "../src/broker.ts";
import { Connection } from "../src/net/connection.ts";
import { Writer } from "../src/protocol/writer.ts";

export const ROOT = resolve(import.meta.dir, "..");
export const KAFKA_BIN = join(ROOT, "kafka");
/** ../shared beside the checkout (Kafka's schemas and a Kafka-written log dir): cross-checks skip without it. */
export const SHARED = join(ROOT, "..", "shared");
export const SHARED_FIXTURE = join(SHARED, "fixtures", "kraft-combined-logs");

/** A message that a test builds or reads loosely (src uses the typed Decoded / Encodable). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Msg = Record<string, any>;

/** mulberry32: a small seeded generator, so a printed seed replays a randomised test */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `p`, or a rejection saying `what` got no answer in `ms`. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

export function tempDir(prefix = "kafka-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+|#[^\n]*/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/** A request frame: size, header v1 or v2 (flexible), body bytes. */
export function requestFrame(apiKey: number, version: number, correlationId: number, clientId: string | null, body: Uint8Array, flexibleHeader: boolean): Uint8Array {
  const w = new Writer(256);
  const at = w.reserveInt32();
  w.int16(apiKey);
  w.int16(version);
  w.int32(correlationId);
  w.string(clientId);
  if (flexibleHeader) w.uvarint(0);
  w.raw(body);
  w.patchInt32(at, w.pos - 4);
  return w.finish().slice();
}

/** A fake Bun socket that records what the connection writes. */
class FakeSocket {
  written: Uint8Array[] = [];
  ended = false;
  data: unknown;
  write(b: Uint8Array, offset = 0, length = b.length - offset): number {
    this.written.push(b.slice(offset, offset + length));
    return length;
  }
  end(): void {
    this.ended = true;
  }
  pause(): void {}
  resume(): void {}
  takeAll(): Uint8Array {
    const total = this.written.reduce((n, b) => n + b.length, 0);
    const out = new Uint8Array(total);
    let p = 0;
    for (const b of this.written) {
      out.set(b, p);
      p += b.length;
    }
    this.written = [];
    return out;
  }
}

export interface InProcessBroker {
  broker: Broker;
  storage: Storage;
  dir: string;
  /**
   * A fresh connection. `peer` is the client's "ip:port" as the TCP server
   * would give it (default "test"): it is what the broker records as a group
   * member's client host ("/ip").
   */
  connect(peer?: string): InProcessConnection;
  close(): Promise<void>;
}

export interface InProcessConnection {
  send(bytes: Uint8Array): void;
  /** all bytes written so far */
  take(): Uint8Array;
  /** resolves when at least n bytes were written (bounded by the test's timeout) */
  waitFor(n: number): Promise<Uint8Array>;
  readonly closed: boolean;
  /** the client goes away (the socket's close event) */
  disconnect(): void;
}

export async function startInProcess(overrides: Record<string, string> = {}, dir = tempDir()): Promise<InProcessBroker> {
  const raw = new Map<string, string>(Object.entries({ "log.dirs": dir, listeners: "PLAINTEXT://127.0.0.1:9092", ...overrides }));
  const config = buildConfig(raw);
  const broker = await new Broker(config, { listen: false }).start();
  const storage = broker.storage;
  return {
    broker,
    storage,
    dir,
    connect(peer = "test") {
      const sock = new FakeSocket();
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const conn = new Connection(sock as any, broker, peer);
      let buffered = new Uint8Array(0);
      const collect = () => {
        const more = sock.takeAll();
        if (more.length === 0) return;
        const next = new Uint8Array(buffered.length + more.length);
        next.set(buffered);
        next.set(more, buffered.length);
        buffered = next;
      };
      return {
        send: (bytes) => conn.onData(bytes),
        take: () => {
          collect();
          const out = buffered;
          buffered = new Uint8Array(0);
          return out;
        },
        waitFor: async (n) => {
          for (;;) {
            collect();
            if (buffered.length >= n) {
              const out = buffered;
              buffered = new Uint8Array(0);
              return out;
            }
            await new Promise((r) => setImmediate(r));
          }
        },
        get closed() {
          return sock.ended;
        },
        disconnect: () => conn.onClose(),
      };
    },
    async close() {
      // answer waiting fetches before their segments close, as the broker's shutdown does
      broker.stopping = true;
      broker.wakeAll();
      await new Promise((r) => setImmediate(r));
      await broker.stop();
      removeDir(dir);
    },
  };
}

export interface RunningKafka {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  port: number;
  dir: string;
  /** stdout+stderr so far */
  output(): string;
  stop(): Promise<number>;
}

/** Runs ./kafka with `args` to its end (killed after 10 s): exit code and output, for command-line tests. */
export async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([KAFKA_BIN, ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const killer = setTimeout(() => p.kill("SIGKILL"), 10000);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(killer);
  return { code, stdout, stderr };
}

/**
 * Starts ./kafka on 127.0.0.1 with a free port; resolves once it printed its listening line.
 * `fileLimit` starts it under `ulimit -n` (through sh, which execs it: proc.pid is the broker's).
 */
export async function startKafka(dir: string, extra: string[] = [], timeoutMs = 10000, opts: { fileLimit?: number } = {}): Promise<RunningKafka> {
  if (!existsSync(KAFKA_BIN)) throw new Error(`${KAFKA_BIN} missing: run npm run build`);
  const args = [KAFKA_BIN, "--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", `log.dirs=${dir}`, ...extra];
  const cmd = opts.fileLimit === undefined ? args : ["sh", "-c", `ulimit -n ${opts.fileLimit} && exec "$0" "$@"`, ...args];
  const proc = Bun.spawn(cmd, {
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  let out = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>, onText: () => void) => {
    for await (const chunk of stream) {
      out += decoder.decode(chunk);
      onText();
    }
  };
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`kafka did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = () => {
      const m = /listening on PLAINTEXT:\/\/[^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    };
    pump(proc.stdout, check);
    pump(proc.stderr, check);
    proc.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`kafka exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    proc,
    port,
    dir,
    output: () => out,
    async stop() {
      proc.kill("SIGTERM");
      const killer = setTimeout(() => proc.kill("SIGKILL"), 8000);
      const code = await proc.exited;
      clearTimeout(killer);
      return code;
    },
  };
}

/** A minimal Kafka wire client for end-to-end tests: send frames, read whole responses. */
export class WireClient {
  private buf = new Uint8Array(0);
  private waiters: (() => void)[] = [];
  closed = false;
  private constructor(private socket: import("bun").Socket<undefined>) {}

  static async connect(port: number): Promise<WireClient> {
    let client!: WireClient;
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_s, chunk) {
          const next = new Uint8Array(client.buf.length + chunk.length);
          next.set(client.buf);
          next.set(chunk, client.buf.length);
          client.buf = next;
          client.wake();
        },
        close() {
          client.closed = true;
          client.wake();
        },
        error() {},
      },
    });
    client = new WireClient(socket);
    return client;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Next whole response frame (without its size prefix), or null when the connection closed. */
  async readFrame(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.buf.length >= 4) {
        const size = new DataView(this.buf.buffer, this.buf.byteOffset).getInt32(0);
        if (this.buf.length >= 4 + size) {
          const frame = this.buf.slice(4, 4 + size);
          this.buf = this.buf.slice(4 + size);
          return frame;
        }
      }
      if (this.closed) return null;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  close(): void {
    this.socket.end();
  }
}
