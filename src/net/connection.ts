// One client connection: framing (4-byte size prefix), in-order responses,
// write batching and back-pressure.
//
// Frames are handled straight out of the socket's read buffer when they arrive
// whole; only a frame split across reads is gathered into the connection's own
// buffer. Responses are answered in request order: a request whose handler is
// still waiting (a long-polling fetch) holds back the ones behind it. Everything
// answered during one read is encoded into one output buffer and written with
// one socket write. What a response holds until it is encoded (log segment
// records) is let go of right after, or when the response is dropped.

import type { Socket } from "bun";
import { log, hex, clientLog, type Level } from "../log.ts";
import { DecodeError, Reader } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";
import { codecFor, isFlexible } from "../protocol/codec.ts";
import type { Struct } from "../protocol/schema.ts";
import { API_VERSIONS_KEY, readRequestHeader, skipTaggedFields, writeResponseHeader, type RequestHeader } from "../protocol/headers.ts";
import type { ApiHandler } from "../api/handler.ts";
import { ANONYMOUS, type RequestContext, type SecurityProtocol, type Session } from "../api/context.ts";
import type { Broker } from "../broker.ts";
import { apiVersionsFallback, unsupportedVersionResponse } from "../api/18-api-versions.ts";
import { HANDLERS_BY_KEY } from "../api/index.ts";

/** Above this many unsent response bytes the connection stops reading requests. */
const OUTPUT_HIGH_WATER = 32 * 1024 * 1024;
/** How long a connection ending for a bad frame waits for its earlier responses to be read. */
const DRAIN_AFTER_BAD_FRAME_MS = 30_000;

/**
 * socket.output.buffer.max.bytes: unsent response bytes summed over every
 * connection of a broker. Past the cap, connections that have unsent output
 * stop reading new requests (their sockets are paused) until their own output
 * is written or the total is back under half the cap, so many slow consumers
 * cannot make the broker buffer without bound, and a client that reads its
 * responses is not held up by them.
 */
export class OutputBudget {
  total = 0;
  private readonly held = new Set<Connection>();
  private releasing = false;

  constructor(readonly max: number) {}

  get over(): boolean {
    return this.total > this.max;
  }

  hold(c: Connection): void {
    this.held.add(c);
  }

  forget(c: Connection): void {
    this.held.delete(c);
  }

  /** Output went down: past the low mark, the held connections read again. */
  maybeRelease(): void {
    if (this.releasing || this.held.size === 0 || this.total > this.max / 2) return;
    this.releasing = true;
    try {
      const held = [...this.held];
      this.held.clear();
      for (const c of held) c.unhold();
    } finally {
      this.releasing = false;
    }
  }
}

interface Slot {
  header: RequestHeader;
  handler: ApiHandler;
  version: number;
  response: Struct | null | undefined; // undefined: still pending; null: no response
  scope: RequestScope;
}

/** One request's context, holding what its response needs until it is encoded or dropped. */
class RequestScope implements RequestContext {
  readonly apiVersion: number;
  private releases: (() => void)[] | null = null;
  private done = false;

  constructor(
    readonly header: RequestHeader,
    readonly session: Session,
    readonly broker: Broker,
  ) {
    this.apiVersion = header.apiVersion;
  }

  afterResponse(release: () => void): void {
    if (this.done) runRelease(release);
    else (this.releases ??= []).push(release);
  }

  /** The response was encoded or dropped: runs the releases, once. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    const r = this.releases;
    this.releases = null;
    if (r !== null) for (const f of r) runRelease(f);
  }
}

function runRelease(f: () => void): void {
  try {
    f();
  } catch (e) {
    log.error(`releasing what a response held failed: ${(e as Error).message}`);
  }
}

export class Connection {
  private inBuf = new Uint8Array(0);
  private inLen = 0;
  private readonly queue: Slot[] = [];
  private out = new Writer(64 * 1024);
  private readonly reader = new Reader(new Uint8Array(0));
  /** bytes at the start of `out` already handed to the socket */
  private outSent = 0;
  private closed = false;
  private paused = false;
  /** a bad frame arrived: nothing more is read; the connection ends once the responses before it are sent */
  private draining = false;
  private drainTimer: ReturnType<typeof setTimeout> | null = null;
  /** stopped reading because the broker-wide output budget is spent */
  private held = false;
  /** this connection's unsent bytes as counted in the budget */
  private accounted = 0;
  /** a whole request arrived or a response write progressed since the last idle sweep */
  private active = true;
  private idleSince = 0;
  /** requests decoded but not yet answered (for graceful shutdown) */
  pending = 0;
  private readonly closing = new AbortController();
  readonly session: Session;

  constructor(
    private readonly socket: Socket<Connection>,
    private readonly broker: Broker,
    readonly peer: string,
    listener: { name: string; securityProtocol: SecurityProtocol } = { name: "PLAINTEXT", securityProtocol: "PLAINTEXT" },
  ) {
    this.session = { clientAddress: peer, listenerName: listener.name, securityProtocol: listener.securityProtocol, principal: ANONYMOUS, signal: this.closing.signal };
  }

  private context(header: RequestHeader): RequestScope {
    return new RequestScope(header, this.session, this.broker);
  }

  onData(chunk: Uint8Array): void {
    if (this.closed || this.draining) return;
    if (this.inLen > 0 || this.paused || this.held) {
      this.append(chunk);
      this.processBuffered();
    } else {
      const p = this.processFrames(chunk, chunk.length);
      // keep the unfinished tail for the next read
      if (p < chunk.length && !this.closed) this.append(chunk.subarray(p));
    }
    this.flush();
  }

  /** Handles the whole frames gathered in the connection's own buffer. */
  private processBuffered(): void {
    const p = this.processFrames(this.inBuf, this.inLen);
    if (this.closed || this.draining) return;
    this.inBuf.copyWithin(0, p, this.inLen);
    this.inLen -= p;
  }

  /**
   * Handles whole frames from the start of `data`; returns where it stopped:
   * at an unfinished frame, or early when unsent output passed the high-water
   * mark (the rest waits in the buffer until the client reads).
   */
  private processFrames(data: Uint8Array, end: number): number {
    const maxFrame = this.broker.config.socketRequestMaxBytes;
    let p = 0;
    while (end - p >= 4 && !this.paused && !this.draining && !this.held) {
      // over the broker-wide budget, a connection with unsent output of its own waits; one whose output is all
      // written goes on (its next response goes straight to its socket), so slow consumers do not stop readers
      if (this.out.pos > this.outSent && this.budget?.over) {
        this.hold();
        break;
      }
      const size = (data[p]! << 24) | (data[p + 1]! << 16) | (data[p + 2]! << 8) | data[p + 3]!;
      if (size < 0 || size > maxFrame) {
        this.fail(`frame of ${size >>> 0} bytes exceeds socket.request.max.bytes ${maxFrame}`);
        return end;
      }
      if (end - p - 4 < size) break;
      this.handleFrame(data, p + 4, p + 4 + size);
      if (this.closed) return p;
      if (this.draining) return end;
      p += 4 + size;
      if (this.out.pos - this.outSent > OUTPUT_HIGH_WATER) this.flush();
      else this.account();
    }
    return p;
  }

  private append(bytes: Uint8Array): void {
    const need = this.inLen + bytes.length;
    if (need > this.inBuf.length) {
      const next = new Uint8Array(Math.max(need, this.inBuf.length * 2, 64 * 1024));
      next.set(this.inBuf.subarray(0, this.inLen));
      this.inBuf = next;
    }
    this.inBuf.set(bytes, this.inLen);
    this.inLen = need;
  }

  private handleFrame(buf: Uint8Array, start: number, end: number): void {
    const r = this.reader.reset(buf, start, end);
    this.active = true;
    let header: RequestHeader;
    try {
      header = readRequestHeader(r);
    } catch (e) {
      return this.fail(`unreadable request header (${(e as Error).message})`);
    }
    if (log.enabled("debug")) log.debug(`${this.peer}: request key=${header.apiKey} v=${header.apiVersion} corr=${header.correlationId} ${hex(buf.subarray(start, end), 128)}`);
    const handler = HANDLERS_BY_KEY.get(header.apiKey);
    const version = header.apiVersion;
    if (!handler || version < (handler.servedFrom ?? handler.minVersion) || version > handler.maxVersion) {
      if (header.apiKey === API_VERSIONS_KEY) {
        // Kafka answers an unknown ApiVersions version with a v0 body listing what it supports.
        const scope = this.context(header);
        return this.enqueue({ header, handler: apiVersionsFallback, version: 0, response: unsupportedVersionResponse(), scope });
      }
      return this.fail(`unsupported ${handler ? handler.name : `api key ${header.apiKey}`} v${version} from client ${header.clientId}`);
    }
    let request: Struct;
    try {
      if (isFlexible(handler.request, version)) skipTaggedFields(r);
      request = codecFor(handler.request, version).read(r);
    } catch (e) {
      if (!(e instanceof DecodeError) && !(e instanceof RangeError)) throw e;
      return this.fail(`${handler.name} v${version} does not decode (${e.message})`);
    }
    const scope = this.context(header);
    let result;
    try {
      result = handler.handle(request, scope);
    } catch (e) {
      scope.finish();
      this.warn("error", "handler failed", `${handler.name} v${version} failed: ${(e as Error).stack ?? e}; closing`);
      return this.close();
    }
    if (!(result instanceof Promise) && this.queue.length === 0) {
      // the common case: answered at once, nothing waiting ahead of it
      if (result !== null) this.encodeResponse(header, handler, version, result);
      scope.finish();
      return;
    }
    const slot: Slot = { header, handler, version, response: undefined, scope };
    if (result instanceof Promise) {
      this.pending++;
      slot.response = undefined;
      result.then(
        (res) => {
          this.pending--;
          slot.response = res;
          // closed meanwhile: the slot was dropped with the queue
          if (this.closed) return scope.finish();
          this.drainQueue();
          this.flush();
        },
        (e) => {
          this.pending--;
          scope.finish();
          this.warn("error", "handler failed", `${handler.name} v${version} failed: ${(e as Error).stack ?? e}; closing`);
          this.close();
        },
      );
      this.queue.push(slot);
    } else {
      slot.response = result;
      this.enqueue(slot);
    }
  }

  private enqueue(slot: Slot): void {
    this.queue.push(slot);
    this.drainQueue();
  }

  /** Encodes every answered response at the head of the queue into the output buffer. */
  private drainQueue(): void {
    while (this.queue.length > 0) {
      const slot = this.queue[0]!;
      const response = slot.response;
      if (response === undefined) break;
      this.queue.shift();
      if (response !== null && !this.closed) this.encodeResponse(slot.header, slot.handler, slot.version, response);
      slot.scope.finish();
    }
    if (this.draining) this.endIfDrained();
  }

  private encodeResponse(header: RequestHeader, handler: ApiHandler, version: number, response: Struct): void {
    const w = this.out;
    // reclaim the sent head before it costs more than a move of the unsent tail
    if (this.outSent > 0 && this.outSent >= w.pos - this.outSent) {
      w.buf.copyWithin(0, this.outSent, w.pos);
      w.pos -= this.outSent;
      this.outSent = 0;
    }
    const sizeAt = w.reserveInt32();
    try {
      const flexibleHeader = header.apiKey !== API_VERSIONS_KEY && isFlexible(handler.response, version);
      writeResponseHeader(w, header.correlationId, flexibleHeader);
      codecFor(handler.response, version).write(w, response);
    } catch (e) {
      // e.g. a segment closed under a waiting fetch: drop this response, not the broker
      w.pos = sizeAt;
      log.error(`${this.peer}: ${handler.name} v${version} response failed: ${(e as Error).message}; closing`);
      this.close();
      return;
    }
    w.patchInt32(sizeAt, w.pos - sizeAt - 4);
  }

  /** Writes what is buffered; keeps the unsent tail for the drain event. */
  flush(): void {
    if (this.closed || this.out.pos === this.outSent) return this.account();
    const n = this.socket.write(this.out.buf, this.outSent, this.out.pos - this.outSent);
    if (n > 0) this.active = true;
    this.outSent += Math.max(n, 0);
    if (this.outSent >= this.out.pos) {
      // a buffer grown for a burst (a slow consumer's megabytes) is not kept for the connection's life
      if (this.out.buf.length > 1024 * 1024) this.out = new Writer(64 * 1024);
      else this.out.reset();
      this.outSent = 0;
    }
    this.account();
    if (this.draining) return this.endIfDrained();
    this.applyBackPressure();
  }

  private get budget(): OutputBudget | undefined {
    return this.broker.listeners?.output;
  }

  /** Brings this connection's share of the output budget up to date. */
  private account(): void {
    const b = this.budget;
    if (b === undefined) return;
    const unsent = this.closed ? 0 : this.out.pos - this.outSent;
    const was = this.accounted;
    if (unsent === was) return;
    b.total += unsent - was;
    this.accounted = unsent;
    if (unsent < was) b.maybeRelease();
  }

  private hold(): void {
    this.held = true;
    this.socket.pause();
    this.budget?.hold(this);
  }

  /** The budget has room again: reads and handles what waited. */
  unhold(): void {
    if (!this.held || this.closed) return;
    this.held = false;
    if (!this.paused) this.socket.resume();
    if (this.inLen > 0) {
      this.processBuffered();
      this.flush();
    }
  }

  /** connections.max.idle.ms: called by the listeners' sweep. A partial frame is not activity (a trickled frame times out). */
  closeIfIdle(now: number, idleMs: number): void {
    if (this.active || this.pending > 0) {
      this.active = false;
      this.idleSince = now;
      return;
    }
    if (now - this.idleSince >= idleMs) {
      log.debug(`${this.peer}: idle for ${idleMs} ms (connections.max.idle.ms); closing`);
      this.close();
    }
  }

  /** A warning caused by this client, rate-limited per client address and kind. */
  private warn(level: Level, kind: string, msg: string): void {
    const colon = this.peer.lastIndexOf(":");
    const host = colon > 0 ? this.peer.slice(0, colon) : this.peer;
    clientLog.write(`${host} ${kind}`, level, `${this.peer}: ${msg}`);
  }

  /**
   * A frame that cannot be served (too large, unreadable, unsupported, does
   * not decode) ends the connection, as in Kafka, but the requests before it
   * are answered first: nothing more is read, the queued responses (also
   * those of requests still waiting, e.g. a long-poll, within their own
   * max wait) are encoded and written, then the socket is ended. A client
   * that does not read them is cut off after DRAIN_AFTER_BAD_FRAME_MS.
   */
  private fail(reason: string): void {
    this.warn("warn", "bad frame", `${reason}; closing`);
    if (this.closed || this.draining) return;
    this.draining = true;
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    this.inLen = 0;
    this.inBuf = new Uint8Array(0);
    this.drainTimer = setTimeout(() => this.close(), DRAIN_AFTER_BAD_FRAME_MS);
    (this.drainTimer as { unref?: () => void }).unref?.();
    this.endIfDrained();
  }

  private endIfDrained(): void {
    if (this.closed || this.queue.length > 0 || this.out.pos !== this.outSent) return;
    this.close();
  }

  /**
   * A client that does not read its responses must not make the broker
   * buffer without bound: past the high-water mark the connection stops
   * reading and handling requests until most of the output is gone.
   */
  private applyBackPressure(): void {
    const unsent = this.out.pos - this.outSent;
    if (!this.paused && unsent > OUTPUT_HIGH_WATER) {
      this.paused = true;
      this.socket.pause();
    } else if (this.paused && unsent < OUTPUT_HIGH_WATER / 4) {
      this.paused = false;
      if (!this.held) this.socket.resume();
    }
  }

  onDrain(): void {
    this.flush();
    if (this.held && this.out.pos === this.outSent) {
      this.budget?.forget(this);
      return this.unhold();
    }
    // requests that arrived while paused
    if (!this.paused && !this.held && this.inLen > 0 && !this.closed) {
      this.processBuffered();
      this.flush();
    }
  }

  get idle(): boolean {
    return this.pending === 0 && this.out.pos === this.outSent;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.releaseBuffers();
    this.dropQueue();
    this.socket.end();
    this.closing.abort();
  }

  onClose(): void {
    this.closed = true;
    this.releaseBuffers();
    this.dropQueue();
    this.closing.abort();
  }

  private releaseBuffers(): void {
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    this.inBuf = new Uint8Array(0);
    this.inLen = 0;
    // what was never sent goes with the connection (a slow consumer's megabytes)
    this.out = new Writer(16);
    this.outSent = 0;
    this.held = false;
    this.budget?.forget(this);
    this.account();
  }

  /** Responses never to be encoded let go of what they hold. */
  private dropQueue(): void {
    const q = this.queue.splice(0);
    for (const slot of q) slot.scope.finish();
  }
}
