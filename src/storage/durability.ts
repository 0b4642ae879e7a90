// When appended bytes reach the disk: Kafka's flush policies plus our durable
// mode, both through one group commit.
//
// - Kafka's policies (UnifiedLog.append, LogManager.flushDirtyLogs):
//   flush.messages (log.flush.interval.messages): a partition with that many
//   messages appended since its last flush is flushed, and, as in Kafka where
//   that flush runs inside the append, the produce is answered after it;
//   flush.ms (log.flush.interval.ms, falling back to
//   log.flush.scheduler.interval.ms): every log.flush.scheduler.interval.ms the
//   partitions whose last flush is that old are flushed in the background.
//   Defaults as Kafka: never (the page cache, the OS writes back).
// - Durable mode, `log.flush.before.ack` (ours, default false): an acks=all
//   (-1) produce is answered only once its bytes are fsynced. acks=0/1 are not
//   held back.
//
// Group commit: a flush asked for joins the next round. A round starts on the
// next turn of the event loop (so every request read in this turn joins it)
// unless one is running, in which case it starts when that one ends: requests
// arriving while an fsync runs wait for the next round. A round fsyncs each
// segment file written since the last round once, all in parallel, with the
// async fsync of node:fs, which Bun runs on its thread pool (measured, Bun
// 1.4.5: 300 MB of dirty pages took 143 ms to fsync while a 1 ms timer kept
// firing, max gap 2.6 ms; fsyncSync stalled it 148 ms): the event loop goes
// on serving other connections meanwhile. A partition whose active segment is
// new since its last round also gets its dir fsynced (the new file's name),
// and the first time, the log dir too (the partition dir's name).
// An fsync that fails fails the waiting produces of that partition
// (KAFKA_STORAGE_ERROR, one log line per partition and round).

import { open } from "node:fs/promises";
import { dirname } from "node:path";
import { BROKER_CONFIGS } from "../config/catalog.ts";
import type { MetadataStore } from "../metadata/store.ts";
import { log } from "../log.ts";
import { diskIo } from "./disk-io.ts";
import type { Partition } from "./partition.ts";
import type { SegmentFile } from "./segment.ts";

/** setInterval cannot wait longer; a larger interval means never */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

/** What is known of one partition's flushing: Kafka's recovery point and last flush time, as this process saw them. */
interface FlushState {
  /** the log end offset at the last completed flush */
  flushedOffset: number;
  lastFlushMs: number;
  /** the active segment's base offset at the last round (-1: never flushed by a round) */
  activeBase: number;
}

interface TopicFlushConfig {
  flushMessages: number;
  flushMs: number;
}

export class Durability {
  /** partitions to flush in the next round, with the produces waiting for it (none for a background flush) */
  private next = new Map<Partition, Waiter[]>();
  private running = false;
  private scheduled = false;
  private readonly states = new WeakMap<Partition, FlushState>();
  private readonly topicConfigs = new Map<string, TopicFlushConfig>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly unsubscribe: () => void;
  /** rounds and fsyncs run so far (tests, the bench) */
  rounds = 0;
  fsyncs = 0;
  /** log.flush.before.ack */
  readonly flushBeforeAck: boolean;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly partitions: () => Iterable<Partition>,
  ) {
    this.flushBeforeAck = this.brokerValue("log.flush.before.ack") as boolean;
    this.unsubscribe = metadata.events.subscribe((e) => {
      if (e.type === "configChanged") this.topicConfigs.clear();
    });
    const interval = this.brokerValue("log.flush.scheduler.interval.ms") as number;
    if (interval <= MAX_TIMER_MS) {
      this.timer = setInterval(() => this.flushDirty(Date.now()), interval);
      this.timer.unref?.();
    }
  }

  private brokerValue(name: string): unknown {
    return this.metadata.configs.broker(BROKER_CONFIGS.get(name)!).value;
  }

  private topicConfig(topic: string): TopicFlushConfig {
    let c = this.topicConfigs.get(topic);
    if (c === undefined) {
      c = {
        flushMessages: this.metadata.configs.topic(topic, "flush.messages").value as number,
        flushMs: this.metadata.configs.topic(topic, "flush.ms").value as number,
      };
      this.topicConfigs.set(topic, c);
    }
    return c;
  }

  /** `from`: where the log ended before the append that brings the partition here first */
  private state(part: Partition, from = part.logEndOffset): FlushState {
    let s = this.states.get(part);
    if (s === undefined) {
      // what was there before counts as flushed (as Kafka starts from its recovery point)
      s = { flushedOffset: from, lastFlushMs: Date.now(), activeBase: -1 };
      this.states.set(part, s);
    }
    return s;
  }

  /**
   * Called after a successful append at `baseOffset` (the log end, for a duplicate not written again): the promise the response must wait for
   * (durable mode with acks=all, or flush.messages reached), else null.
   */
  appended(part: Partition, baseOffset: number, acks: number): Promise<void> | null {
    const s = this.state(part, baseOffset);
    const due = part.logEndOffset - s.flushedOffset >= this.topicConfig(part.topic).flushMessages;
    if (due || (acks === -1 && this.flushBeforeAck)) return this.flush(part);
    return null;
  }

  /** Resolves once everything appended to `part` before the call is fsynced (the next round). */
  flush(part: Partition): Promise<void> {
    return new Promise((resolve, reject) => {
      this.enqueue(part).push({ resolve, reject });
    });
  }

  private enqueue(part: Partition): Waiter[] {
    let w = this.next.get(part);
    if (w === undefined) {
      w = [];
      this.next.set(part, w);
    }
    this.kick();
    return w;
  }

  /** The flush.ms check (Kafka's flushDirtyLogs): partitions whose last flush is flush.ms old or more, with something unflushed. */
  flushDirty(nowMs: number): number {
    let n = 0;
    for (const part of this.partitions()) {
      if (part.isClosed) continue;
      const s = this.state(part);
      if (part.logEndOffset > s.flushedOffset && nowMs - s.lastFlushMs >= this.topicConfig(part.topic).flushMs) {
        this.enqueue(part);
        n++;
      }
    }
    return n;
  }

  private kick(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.round();
    });
  }

  private async round(): Promise<void> {
    if (this.running || this.next.size === 0) return;
    this.running = true;
    const batch = this.next;
    this.next = new Map();
    this.rounds++;
    type Job = { part: Partition; end: number; files: SegmentFile[]; dirs: string[] };
    const jobs: Job[] = [];
    for (const part of batch.keys()) {
      if (part.isClosed) {
        jobs.push({ part, end: part.logEndOffset, files: [], dirs: [] });
        continue;
      }
      const s = this.state(part);
      const dirs: string[] = [];
      const bases = part.log.segmentBaseOffsets;
      const active = bases[bases.length - 1]!;
      if (active !== s.activeBase) {
        dirs.push(part.log.dir);
        if (s.activeBase === -1) dirs.push(dirname(part.log.dir));
      }
      jobs.push({ part, end: part.logEndOffset, files: part.log.takeUnflushed(), dirs });
      s.activeBase = active;
    }
    const results = await Promise.all(
      jobs.map(async (j) => {
        try {
          await Promise.all([...j.files.map((f) => this.fsyncFile(f)), ...j.dirs.map((d) => this.fsyncDir(d))]);
          return null;
        } catch (e) {
          return e as Error;
        } finally {
          for (const f of j.files) f.release();
        }
      }),
    );
    const now = Date.now();
    jobs.forEach((j, i) => {
      const waiters = batch.get(j.part)!;
      const error = results[i];
      if (error) {
        log.error(`${j.part.name}: fsync failed: ${error.message}`);
        for (const w of waiters) w.reject(error);
        return;
      }
      const s = this.state(j.part);
      s.flushedOffset = Math.max(s.flushedOffset, j.end);
      if (!j.part.isClosed) j.part.log.markFlushed(j.end);
      s.lastFlushMs = now;
      for (const w of waiters) w.resolve();
    });
    this.running = false;
    if (this.next.size > 0) this.kick();
  }

  private async fsyncFile(f: SegmentFile): Promise<void> {
    this.fsyncs++;
    await diskIo.fsync(f.fd);
  }

  private async fsyncDir(dir: string): Promise<void> {
    this.fsyncs++;
    const h = await open(dir, "r");
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe();
  }
}
