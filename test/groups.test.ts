// Consumer groups end to end: real clients in groups against the compiled
// ./kafka (issue 7). kafkajs members split a topic's partitions and rebalance
// when a third joins (nothing lost, nothing consumed again past a commit);
// commits survive a consumer restart, a broker restart (SIGTERM) and a broker
// crash (kill -9 after the commit was acknowledged); consumer.run commits are
// read back with kafkajs' admin.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { Kafka, logLevel, type Admin, type Consumer, type Producer } from "kafkajs";
import { removeDir, startKafka, tempDir, type RunningKafka } from "./helpers.ts";

/** 4 partitions per new topic; the first rebalance of a group is not delayed (the tests are not about the delay). */
const BROKER_ARGS = ["--override", "num.partitions=4", "--override", "group.initial.rebalance.delay.ms=0", "--override", "offsets.topic.num.partitions=4"];

// ---- waiting on events ----

/** Things that happened, in order; `until` resolves when a predicate holds (re-checked on each new event of any log), bounded. */
class EventLog<E> {
  readonly items: E[] = [];
  /** shared by every log: a predicate may look at several members' logs, so any new event re-checks every waiter */
  private static readonly waiters = new Set<() => void>();
  private get waiters(): Set<() => void> {
    return EventLog.waiters;
  }
  /** set when the source of events ended (a process exited): waiting fails instead of timing out */
  ended: string | null = null;

  push(e: E): void {
    this.items.push(e);
    for (const w of [...this.waiters]) w();
  }

  end(why: string): void {
    this.ended = why;
    for (const w of [...this.waiters]) w();
  }

  until(pred: (items: readonly E[]) => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        let ok = false;
        try {
          ok = pred(this.items);
        } catch (e) {
          finish();
          return reject(e);
        }
        if (ok) {
          finish();
          resolve();
        } else if (this.ended !== null) {
          finish();
          reject(new Error(`${what}: ended before it happened (${this.ended}); events:\n${this.tail()}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${what}: not within ${timeoutMs} ms; events:\n${this.tail()}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  private tail(): string {
    return this.items
      .slice(-40)
      .map((e) => JSON.stringify(e))
      .join("\n");
  }
}

const sorted = (xs: Iterable<number>) => [...xs].sort((a, b) => a - b);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The assignments are disjoint and together are partitions 0..n-1. */
function isSplit(assignments: (readonly number[] | undefined)[], n: number): boolean {
  if (assignments.some((a) => a === undefined)) return false;
  const all = assignments.flatMap((a) => a!);
  return all.length === n && new Set(all).size === n && all.every((p) => p >= 0 && p < n);
}

// ---- the broker shared by the tests that do not restart it ----

let dir = "";
let kafka: RunningKafka;
let bootstrap = "";
let admin: Admin;
let producer: Producer;
const kafkajsConsumers = new Set<Consumer>();
const procs = new Set<Subprocess>();

function kafkajs(clientId: string, brokers = bootstrap): Kafka {
  return new Kafka({ clientId, brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 } });
}

beforeAll(async () => {
  dir = tempDir();
  kafka = await startKafka(dir, BROKER_ARGS);
  bootstrap = `127.0.0.1:${kafka.port}`;
  const client = kafkajs("groups-test");
  admin = client.admin();
  producer = client.producer();
  await Promise.all([admin.connect(), producer.connect()]);
});

afterEach(async () => {
  // a test that failed half-way leaves nothing running: its consumers disconnect, its processes are killed by PID
  await Promise.all([...kafkajsConsumers].map((c) => c.disconnect().catch(() => {})));
  kafkajsConsumers.clear();
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all([...procs].map((p) => p.exited));
  procs.clear();
});

afterAll(async () => {
  await Promise.all([admin?.disconnect(), producer?.disconnect()]);
  if (kafka) expect(await kafka.stop()).toBe(0);
  if (dir) removeDir(dir);
});

const admins: Admin[] = [];
/** A kafkajs admin on another broker (a test's own), disconnected after the test. */
async function connectedAdmin(brokers: string): Promise<Admin> {
  const a = kafkajs("groups-admin", brokers).admin();
  await a.connect();
  admins.push(a);
  return a;
}
afterEach(async () => {
  await Promise.all(admins.splice(0).map((a) => a.disconnect().catch(() => {})));
});

/** Produces `perPartition` messages to each of partitions 0..`partitions`-1 of the topic, values "p<partition>-<from + i>" (acks=all). */
async function produceEach(topic: string, partitions: number, perPartition: number, from = 0, to: Producer = producer): Promise<void> {
  const messages = range(partitions).flatMap((p) => range(perPartition).map((i) => ({ partition: p, value: `p${p}-${from + i}` })));
  await to.send({ topic, acks: -1, messages });
}

/** The group's committed offset of each partition of the topic (-1 where none), as kafkajs' admin reads them (OffsetFetch). */
async function committed(groupId: string, topic: string, via: Admin = admin): Promise<number[]> {
  const [t] = await via.fetchOffsets({ groupId, topics: [topic] });
  return sorted(t!.partitions.map((p) => p.partition)).map((p) => Number(t!.partitions.find((x) => x.partition === p)!.offset));
}

// ---- kafkajs members, in this process ----

type JsEvent =
  | { k: "join"; who: string; partitions: number[] }
  | { k: "msg"; who: string; p: number; o: number }
  | { k: "commit"; who: string; p: number; o: number };

interface JsMemberOptions {
  autoCommit?: boolean;
}

/** A kafkajs consumer of `topic` in `groupId` (consumer.run with eachMessage) reporting joins, messages and acknowledged commits into `log`. */
async function jsMember(client: Kafka, log: EventLog<JsEvent>, who: string, groupId: string, topic: string, opts: JsMemberOptions = {}): Promise<Consumer> {
  const c = client.consumer({ groupId, sessionTimeout: 6000, rebalanceTimeout: 10_000, heartbeatInterval: 300, maxWaitTimeInMs: 100, retry: { retries: 3, initialRetryTime: 100 } });
  kafkajsConsumers.add(c);
  c.on(c.events.GROUP_JOIN, (e) => log.push({ k: "join", who, partitions: sorted(e.payload.memberAssignment[topic] ?? []) }));
  // emitted once the broker acknowledged the commit
  c.on(c.events.COMMIT_OFFSETS, (e) => {
    for (const t of e.payload.topics) for (const p of t.partitions) log.push({ k: "commit", who, p: Number(p.partition), o: Number(p.offset) });
  });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  await c.run({
    autoCommit: opts.autoCommit ?? true,
    eachMessage: async ({ partition, message }) => log.push({ k: "msg", who, p: partition, o: Number(message.offset) }),
  });
  return c;
}

async function stopMember(c: Consumer): Promise<void> {
  await c.disconnect();
  kafkajsConsumers.delete(c);
}

/** The partitions `who` was given when it last joined. */
function lastJoin(items: readonly JsEvent[], who: string): number[] | undefined {
  for (let i = items.length - 1; i >= 0; i--) {
    const e = items[i]!;
    if (e.k === "join" && e.who === who) return e.partitions;
  }
  return undefined;
}

const delivered = (items: readonly JsEvent[]) => items.filter((e): e is Extract<JsEvent, { k: "msg" }> => e.k === "msg");
const distinct = (items: readonly JsEvent[]) => new Set(delivered(items).map((e) => `${e.p}:${e.o}`)).size;

describe("kafkajs groups", () => {
  test(
    "two members split a 4-partition topic and consume each message once; a third joining rebalances, losing nothing and consuming nothing again past a commit",
    async () => {
      const topic = "g-split";
      const groupId = "g-split";
      await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
      const log = new EventLog<JsEvent>();
      const client = kafkajs("g-split");
      await Promise.all([jsMember(client, log, "A", groupId, topic), jsMember(client, log, "B", groupId, topic)]);
      await log.until((ev) => isSplit([lastJoin(ev, "A"), lastJoin(ev, "B")], 4) && lastJoin(ev, "A")!.length === 2, 20_000, "A and B split the partitions 2 and 2");
      const split = { A: lastJoin(log.items, "A")!, B: lastJoin(log.items, "B")! };

      // each message once, by the member its partition belongs to
      await produceEach(topic, 4, 25);
      await log.until((ev) => distinct(ev) === 100, 20_000, "A and B consume the 100 messages");
      const first = delivered(log.items);
      expect(first).toHaveLength(100);
      for (const e of first) expect(split[e.who as "A" | "B"]).toContain(e.p);
      expect(sorted(new Set(first.map((e) => e.p * 1000 + e.o)))).toEqual(range(4).flatMap((p) => range(25).map((o) => p * 1000 + o)));
      // the joins of the split were the last: nothing rebalanced while they consumed
      expect({ A: lastJoin(log.items, "A"), B: lastJoin(log.items, "B") }).toEqual(split);

      // a third member joins while messages keep coming
      const before = log.items.length;
      const joined = jsMember(client, log, "C", groupId, topic);
      let rounds = 0;
      let afterSplit = 0;
      const threeWay = (ev: readonly JsEvent[]) => {
        const a = [lastJoin(ev, "A"), lastJoin(ev, "B"), lastJoin(ev, "C")];
        return isSplit(a, 4) && ev.slice(before).some((e) => e.k === "join" && e.who === "C") && a.every((x) => x!.length > 0);
      };
      // one message per partition per round; 20 rounds more once the three hold the partitions
      while (afterSplit < 20) {
        if (++rounds > 2000) throw new Error(`no three-way split after ${rounds} rounds:\n${JSON.stringify(log.items.filter((e) => e.k === "join"))}`);
        await produceEach(topic, 4, 1, 25 + rounds);
        if (threeWay(log.items)) afterSplit++;
      }
      await joined;
      const total = 25 + rounds;
      await log.until((ev) => distinct(ev) === 4 * total, 20_000, `the ${4 * total} messages consumed`);
      // the last batch of each partition committed: the group's offsets are the ends
      await log.until((ev) => range(4).every((p) => ev.some((e) => e.k === "commit" && e.p === p && e.o === total)), 20_000, "commits reach the ends");
      expect(await committed(groupId, topic)).toEqual([total, total, total, total]);

      const sizes = sorted(["A", "B", "C"].map((w) => lastJoin(log.items, w)!.length));
      expect(sizes).toEqual([1, 1, 2]);
      expect(delivered(log.items).filter((e) => e.who === "C").length).toBeGreaterThan(0);
      // nothing lost: every offset of every partition delivered
      const seen = new Map<string, number>();
      for (const e of delivered(log.items)) seen.set(`${e.p}:${e.o}`, (seen.get(`${e.p}:${e.o}`) ?? 0) + 1);
      expect(range(4).flatMap((p) => range(total).filter((o) => !seen.has(`${p}:${o}`)).map((o) => `${p}:${o}`))).toEqual([]);
      // delivered again only from the uncommitted tail: never once a commit past it was acknowledged
      const maxCommitted = new Map<number, number>();
      const once = new Set<string>();
      const pastCommit: string[] = [];
      for (const e of log.items) {
        if (e.k === "commit") maxCommitted.set(e.p, Math.max(maxCommitted.get(e.p) ?? 0, e.o));
        if (e.k !== "msg") continue;
        const key = `${e.p}:${e.o}`;
        if (once.has(key)) {
          if (e.o < (maxCommitted.get(e.p) ?? 0)) pastCommit.push(`${key} again to ${e.who} after offset ${maxCommitted.get(e.p)} was committed`);
        }
        once.add(key);
      }
      expect(pastCommit).toEqual([]);
    },
    90_000,
  );

  test(
    "a member commits, stops, starts again and resumes after its commit; the same across a broker restart (SIGTERM) and a broker kill -9 after the commit was acknowledged",
    async () => {
      const rdir = tempDir();
      let k: RunningKafka | undefined = await startKafka(rdir, BROKER_ARGS);
      const topic = "g-resume";
      const groupId = "g-resume";
      try {
        const boot = () => `127.0.0.1:${k!.port}`;
        {
          const p = kafkajs("g-resume-producer", boot()).producer();
          await p.connect();
          await p.send({ topic, acks: -1, messages: range(10).map((i) => ({ partition: 0, value: `m${i}` })) });
          await p.disconnect();
        }
        /** A member starts (autoCommit off), consumes up to `upTo` (exclusive), commits `commitAt`; its first offset and the member. */
        const phase = async (upTo: number, commitAt: number) => {
          const log = new EventLog<JsEvent>();
          const client = kafkajs("g-resume", boot());
          const c = await jsMember(client, log, "R", groupId, topic, { autoCommit: false });
          await log.until((ev) => ev.some((e) => e.k === "msg" && e.p === 0 && e.o === upTo - 1), 30_000, `consumed up to offset ${upTo - 1}`);
          await c.commitOffsets([{ topic, partition: 0, offset: String(commitAt) }]);
          await log.until((ev) => ev.some((e) => e.k === "commit" && e.o === commitAt), 5_000, `commit of ${commitAt} acknowledged`);
          const offsets = delivered(log.items).map((e) => e.o);
          return { first: offsets[0], offsets, c };
        };

        // first run: from the beginning (nothing committed); commits 6 of 10
        const r1 = await phase(10, 6);
        expect(r1.offsets).toEqual(range(10));
        await stopMember(r1.c);

        // restarted: resumes at 6
        const r2 = await phase(10, 8);
        expect(r2.offsets).toEqual([6, 7, 8, 9]);
        await stopMember(r2.c);
        expect(await committed(groupId, topic, await connectedAdmin(boot()))).toEqual([8, -1, -1, -1]);

        // the broker stops (SIGTERM) and starts again on the same log dir
        expect(await k.stop()).toBe(0);
        k = await startKafka(rdir, BROKER_ARGS);
        {
          const p = kafkajs("g-resume-producer", boot()).producer();
          await p.connect();
          await p.send({ topic, acks: -1, messages: range(10).map((i) => ({ partition: 0, value: `m${10 + i}` })) });
          await p.disconnect();
        }
        const r3 = await phase(20, 15);
        expect(r3.offsets).toEqual(range(12).map((i) => 8 + i));

        // the commit of 15 was acknowledged: the broker is killed at once, its member still in the group
        k.proc.kill("SIGKILL");
        expect(await k.proc.exited).not.toBe(0);
        k = undefined;
        // its member stops against a broker that is gone (its LeaveGroup cannot arrive)
        await stopMember(r3.c).catch(() => {});
        kafkajsConsumers.delete(r3.c);
        k = await startKafka(rdir, BROKER_ARGS);
        // the dead member is in the group again as loaded; it goes with its session timeout, then the new one resumes at 15
        const r4 = await phase(20, 20);
        expect(r4.offsets).toEqual([15, 16, 17, 18, 19]);
        await stopMember(r4.c);
      } finally {
        if (k) await k.stop();
        removeDir(rdir);
      }
    },
    90_000,
  );

  test(
    "consumer.run with eachMessage consumes in a group, commits after each batch; the admin reads the commits back",
    async () => {
      const topic = "g-kafkajs";
      const groupId = "g-kafkajs";
      await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
      await produceEach(topic, 4, 5);
      const log = new EventLog<JsEvent>();
      const c = await jsMember(kafkajs("g-kafkajs"), log, "J", groupId, topic);
      await log.until((ev) => distinct(ev) === 20, 20_000, "the 20 messages consumed");
      await log.until((ev) => range(4).every((p) => ev.some((e) => e.k === "commit" && e.p === p && e.o === 5)), 20_000, "each partition committed at 5");
      await stopMember(c);
      expect(lastJoin(log.items, "J")).toEqual([0, 1, 2, 3]);
      expect(sorted(delivered(log.items).map((e) => e.p * 100 + e.o))).toEqual(range(4).flatMap((p) => range(5).map((o) => p * 100 + o)));
      expect(await committed(groupId, topic)).toEqual([5, 5, 5, 5]);
    },
    30_000,
  );
});
