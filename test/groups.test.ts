// Consumer groups end to end: real clients in groups against the compiled
// ./kafka (issue 7). kafkajs members split a topic's partitions and rebalance
// when a third joins (nothing lost, nothing consumed again past a commit);
// commits survive a consumer restart, a broker restart (SIGTERM) and a broker
// crash (kill -9 after the commit was acknowledged); kafkajs, kafka-python,
// confluent-kafka (cooperative-sticky, two members), aiokafka,
// @platformatic/kafka and kcat -G each consume in a group and commit, and the
// committed offsets are read back with kafkajs' admin; a static member
// (group.instance.id) restarted within its session timeout gets its partitions
// back while the other member sees no rebalance; a member killed with SIGKILL
// loses its partitions to the living one when its session times out.
// Without kcat, python3-kafka or the venv of test/python-clients/install.sh
// those tests skip, except with KAFKA_REQUIRE_CLIENTS=1 (CI), where they fail.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { Consumer as PlatformaticConsumer, stringDeserializers } from "@platformatic/kafka";
import { Kafka, logLevel, type Admin, type Consumer, type Producer } from "kafkajs";
import { clientCache, clientJson, CLIENTS_REQUIRED, runClient, stampMatches } from "./client-run.ts";
import { removeDir, startKafka, tempDir, type RunningKafka } from "./helpers.ts";

/** 4 partitions per new topic; the first rebalance of a group is not delayed (the tests are not about the delay). */
const BROKER_ARGS = ["--override", "num.partitions=4", "--override", "group.initial.rebalance.delay.ms=0", "--override", "offsets.topic.num.partitions=4"];

const KCAT = Bun.which("kcat");
// Debian's python3 (not a pyenv one on PATH) is the one that sees python3-kafka
const DEBIAN_PYTHON = "/usr/bin/python3";
const KAFKA_PYTHON = existsSync("/usr/lib/python3/dist-packages/kafka/__init__.py") && existsSync(DEBIAN_PYTHON);
const PY_CLIENTS = join(import.meta.dir, "python-clients");
const VENV = process.env.KAFKA_PY_VENV ?? clientCache("venv");
const VENV_PYTHON = join(VENV, "bin", "python");
const VENV_OK =
  existsSync(VENV_PYTHON) &&
  stampMatches(join(VENV, "kafka-bun.stamp"), [join(PY_CLIENTS, "requirements.txt")]) &&
  Bun.spawnSync([VENV_PYTHON, "-c", "import confluent_kafka, aiokafka"], { stdout: "ignore", stderr: "ignore", timeout: 30_000 }).exitCode === 0;

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

// ---- members in other processes: confluent-kafka (test/python-clients/confluent_member.py) ----

interface PyEvent {
  ev: string;
  partitions?: number[];
  p?: number;
  o?: number;
  v?: string;
  member?: string;
  rebalance_cnt?: number;
  error?: string;
}

/** One confluent_member.py process: its JSON-lines events in a log; stopped by its PID (SIGTERM: clean close, SIGKILL: crash). */
class PyMember {
  readonly log = new EventLog<PyEvent>();
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  stderr = "";

  constructor(
    readonly name: string,
    groupId: string,
    topic: string,
    extra: Record<string, string | number> = {},
  ) {
    this.proc = Bun.spawn([VENV_PYTHON, join(PY_CLIENTS, "confluent_member.py"), bootstrap, groupId, topic, JSON.stringify(extra)], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
    });
    procs.add(this.proc);
    const stderr = new Response(this.proc.stderr).text().then((t) => (this.stderr = t));
    void this.pump(stderr);
  }

  private async pump(stderr: Promise<string>): Promise<void> {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of this.proc.stdout) {
      buf += dec.decode(chunk, { stream: true });
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.trim() !== "") this.log.push(JSON.parse(line) as PyEvent);
      }
    }
    const code = await this.proc.exited;
    this.log.end(`${this.name} exited ${code}: ${(await stderr).slice(-2000)}`);
  }

  /** The partitions it holds after the events so far: assigns add (incrementally under cooperative-sticky; eagerly after a revoke of all), revokes and losses remove. */
  owned(upTo = this.log.items.length): number[] {
    const held = new Set<number>();
    for (const e of this.log.items.slice(0, upTo)) {
      if (e.ev === "assign") for (const p of e.partitions!) held.add(p);
      else if (e.ev === "revoke" || e.ev === "lost") for (const p of e.partitions!) held.delete(p);
    }
    return sorted(held);
  }

  messages(from = 0): { p: number; o: number; v: string }[] {
    return this.log.items.slice(from).flatMap((e) => (e.ev === "msg" ? [{ p: e.p!, o: e.o!, v: e.v! }] : []));
  }

  /** The partitions whose commits of `offset` it saw acknowledged. */
  committedAt(offset: number): number[] {
    return sorted(new Set(this.log.items.filter((e) => e.ev === "committed" && e.o === offset).map((e) => e.p!)));
  }

  events(kind: string, from = 0): PyEvent[] {
    return this.log.items.slice(from).filter((e) => e.ev === kind);
  }

  /** SIGTERM: the consumer closes (commits nothing more, leaves unless static) and the process exits 0. */
  async stop(): Promise<void> {
    this.proc.kill("SIGTERM");
    const killer = setTimeout(() => this.proc.kill("SIGKILL"), 15_000);
    const code = await this.proc.exited;
    clearTimeout(killer);
    procs.delete(this.proc);
    expect({ member: this.name, code, closed: this.events("closed").length }).toEqual({ member: this.name, code: 0, closed: 1 });
  }

  /** SIGKILL: the process is gone at once, without a word to the broker. */
  async kill(): Promise<void> {
    this.proc.kill("SIGKILL");
    await this.proc.exited;
    procs.delete(this.proc);
  }

  /** Nothing went wrong in the client: no error events, no librdkafka warnings on stderr. */
  expectClean(): void {
    expect({ member: this.name, errors: this.events("error").map((e) => e.error), stderr: this.stderr.trim() }).toEqual({ member: this.name, errors: [], stderr: "" });
  }
}

/** Every message of partitions 0..n-1 with offsets [0, upTo) delivered exactly once among the members, and each by the member that held its partition. */
function expectEachOnce(members: PyMember[], n: number, upTo: number): void {
  const all = members.flatMap((m) => m.messages().map((x) => `${x.p}:${x.o}`));
  expect(all.sort()).toEqual(range(n).flatMap((p) => range(upTo).map((o) => `${p}:${o}`)).sort());
}

describe.skipIf(!VENV_OK && !CLIENTS_REQUIRED)("confluent-kafka and aiokafka groups (test/python-clients venv)", () => {
  test("the venv of test/python-clients/install.sh is there, with confluent-kafka and aiokafka", () => {
    expect(VENV_OK).toBe(true);
  });

  test(
    "confluent-kafka with cooperative-sticky, two members: the second join revokes only what moves; the first keeps its other partitions across generations; each commits, read back",
    async () => {
      const topic = "g-coop";
      const groupId = "g-coop";
      await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
      const opts = { "partition.assignment.strategy": "cooperative-sticky" };
      const m1 = new PyMember("m1", groupId, topic, opts);
      await m1.log.until(() => m1.owned().length === 4, 20_000, "m1 holds the 4 partitions");
      const m2 = new PyMember("m2", groupId, topic, opts);
      await m2.log.until(() => m2.owned().length > 0 && isSplit([m1.owned(), m2.owned()], 4), 20_000, "m1 and m2 split the partitions");
      const kept = m1.owned();
      const moved = m2.owned();
      expect([kept.length, moved.length]).toEqual([2, 2]);

      await produceEach(topic, 4, 5);
      await m1.log.until(() => m1.committedAt(5).length === 2 && m2.committedAt(5).length === 2, 20_000, "each member committed offset 5 of its two partitions");
      // incremental: m1 gave up only the moved partitions, once, and was never given anything again; m2 lost nothing
      expect(m1.events("revoke").map((e) => e.partitions)).toEqual([moved]);
      expect(m1.events("assign").map((e) => e.partitions)).toEqual([[0, 1, 2, 3], ...m1.events("assign").slice(1).map(() => [])]);
      expect(m2.events("revoke")).toEqual([]);
      expect(m2.events("assign").flatMap((e) => e.partitions!)).toEqual(moved);
      expect(m1.committedAt(5)).toEqual(kept);
      expect(m2.committedAt(5)).toEqual(moved);
      expectEachOnce([m1, m2], 4, 5);
      for (const x of m1.messages()) expect(kept).toContain(x.p);
      await Promise.all([m1.stop(), m2.stop()]);
      m1.expectClean();
      m2.expectClean();
      expect(await committed(groupId, topic)).toEqual([5, 5, 5, 5]);
    },
    60_000,
  );

  test(
    "confluent-kafka static membership: a member with group.instance.id restarted within its session timeout gets its partitions back, resumes after its commits, and the other member sees no rebalance",
    async () => {
      const topic = "g-static";
      const groupId = "g-static";
      await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
      const opts = (id: string) => ({ "group.instance.id": id, "session.timeout.ms": 30_000 });
      const s1 = new PyMember("s1", groupId, topic, opts("s1"));
      const s2 = new PyMember("s2", groupId, topic, opts("s2"));
      await s1.log.until(() => s1.owned().length > 0 && s2.owned().length > 0 && isSplit([s1.owned(), s2.owned()], 4), 20_000, "s1 and s2 split the partitions");
      const s1Parts = s1.owned();
      await produceEach(topic, 4, 2);
      await s1.log.until(() => s1.committedAt(2).length + s2.committedAt(2).length === 4, 20_000, "offsets 2 committed on the 4 partitions");
      // librdkafka's count of s2's rebalances, from statistics taken after the split settled
      const s2Mark = s2.log.items.length;
      await s2.log.until(() => s2.events("stats", s2Mark).length > 0, 5_000, "s2 reports its statistics");
      const s2Rebalances = s2.events("stats", s2Mark)[0]!.rebalance_cnt;
      expect(s2Rebalances).toBeGreaterThan(0);

      // s1 closes (a static member does not leave the group) and a new process with its instance id starts
      await s1.stop();
      const s1b = new PyMember("s1b", groupId, topic, opts("s1"));
      await s1b.log.until(() => s1b.owned().length > 0, 20_000, "the restarted s1 is given partitions");
      expect(s1b.owned()).toEqual(s1Parts);
      expect(s1b.events("assign").map((e) => e.partitions)).toEqual([s1Parts]);
      // a new member id for the same instance
      expect(s1b.events("assign")[0]!.member).not.toBe(s1.events("assign")[0]!.member);
      expect(s1b.events("assign")[0]!.member).toStartWith("s1-");

      await produceEach(topic, 4, 3);
      await s1b.log.until(() => s1b.committedAt(5).length === 2 && s2.committedAt(5).length === 2, 20_000, "offsets 5 committed on the 4 partitions");
      // s1b resumed after s1's commits: offsets 2..4 of its partitions, nothing before
      expect(sorted(s1b.messages().map((x) => x.p * 100 + x.o))).toEqual(s1Parts.flatMap((p) => [2, 3, 4].map((o) => p * 100 + o)));
      const s2Later = s2.log.items.length;
      await s2.log.until(() => s2.events("stats", s2Later).length > 0, 5_000, "s2 reports its statistics again");
      // s2 saw nothing of it: no revoke, no assign, its rebalance count the same
      expect(s2.events("revoke", s2Mark)).toEqual([]);
      expect(s2.events("assign", s2Mark)).toEqual([]);
      expect(s2.events("lost", s2Mark)).toEqual([]);
      expect(s2.events("stats", s2Mark).map((e) => e.rebalance_cnt).filter((n) => n !== s2Rebalances)).toEqual([]);
      expectEachOnce([s1, s1b, s2], 4, 5);
      await Promise.all([s1b.stop(), s2.stop()]);
      for (const m of [s1, s1b, s2]) m.expectClean();
      expect(await committed(groupId, topic)).toEqual([5, 5, 5, 5]);
    },
    60_000,
  );

  test(
    "confluent-kafka: a member killed with SIGKILL is removed when its session times out (6000 ms); the living member is given its partitions and resumes them after the dead one's commits",
    async () => {
      const topic = "g-expire";
      const groupId = "g-expire";
      await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
      const opts = { "session.timeout.ms": 6000 };
      const d1 = new PyMember("d1", groupId, topic, opts);
      const d2 = new PyMember("d2", groupId, topic, opts);
      await d1.log.until(() => d1.owned().length > 0 && d2.owned().length > 0 && isSplit([d1.owned(), d2.owned()], 4), 20_000, "d1 and d2 split the partitions");
      const d1Parts = d1.owned();
      await produceEach(topic, 4, 5);
      await d1.log.until(() => d1.committedAt(5).length + d2.committedAt(5).length === 4, 20_000, "offsets 5 committed on the 4 partitions");
      const mark = d2.log.items.length;

      await d1.kill();
      const killedAt = performance.now();
      await d2.log.until(() => d2.owned().length === 4, 20_000, "d2 holds the 4 partitions");
      const after = performance.now() - killedAt;
      // not at the connection's close but at the session timeout: 6000 ms after its last heartbeat or commit
      // (every 300 ms; the bound leaves room for a machine too busy to send them on time)
      expect(after).toBeGreaterThan(3000);
      expect(d2.events("assign", mark).at(-1)!.partitions).toEqual([0, 1, 2, 3]);

      await produceEach(topic, 4, 5);
      await d2.log.until(() => d2.committedAt(10).length === 4, 20_000, "d2 committed offset 10 of the 4 partitions");
      // d2 took d1's partitions up at d1's commits: offsets 5..9, none of 0..4 again
      expect(sorted(d2.messages(mark).filter((x) => d1Parts.includes(x.p)).map((x) => x.p * 100 + x.o))).toEqual(d1Parts.flatMap((p) => range(5).map((o) => p * 100 + 5 + o)));
      expectEachOnce([d1, d2], 4, 10);
      await d2.stop();
      d2.expectClean();
      expect(await committed(groupId, topic)).toEqual([10, 10, 10, 10]);
    },
    60_000,
  );

  test(
    "aiokafka AIOKafkaConsumer with group_id: consumes every partition, commits; the admin reads the commits back",
    async () => {
      const topic = "g-aio";
      const groupId = "g-aio";
      await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
      await produceEach(topic, 4, 5);
      const run = await runClient([VENV_PYTHON, join(PY_CLIENTS, "aiokafka_group.py"), bootstrap, groupId, topic, "20"], 60_000, { PYTHONDONTWRITEBYTECODE: "1" });
      const r = clientJson("aiokafka_group.py", run);
      expect(run.err.trim()).toBe("");
      expect(r.assignment).toEqual([0, 1, 2, 3]);
      expect(r.messages).toEqual(range(4).flatMap((p) => range(5).map((o) => [p, o, `p${p}-${o}`])));
      expect(r.committed).toEqual({ 0: 5, 1: 5, 2: 5, 3: 5 });
      expect(await committed(groupId, topic)).toEqual([5, 5, 5, 5]);
    },
    60_000,
  );
});

describe.skipIf(!KAFKA_PYTHON && !CLIENTS_REQUIRED)("kafka-python groups (python3-kafka)", () => {
  test("python3-kafka is installed", () => {
    expect(KAFKA_PYTHON).toBe(true);
  });

  test(
    "KafkaConsumer(group_id): consumes every partition, commits; the admin reads the commits back",
    async () => {
      const topic = "g-kafka-python";
      const groupId = "g-kafka-python";
      // a broker of its own that logs each request's key and version
      const kdir = tempDir();
      const k = await startKafka(kdir, [...BROKER_ARGS, "--override", "log.level=debug"]);
      try {
        const boot = `127.0.0.1:${k.port}`;
        const a = await connectedAdmin(boot);
        await a.createTopics({ topics: [{ topic, numPartitions: 4 }] });
        const p = kafkajs("g-kafka-python", boot).producer();
        await p.connect();
        await produceEach(topic, 4, 5, 0, p);
        await p.disconnect();
        const run = await runClient([DEBIAN_PYTHON, join(import.meta.dir, "clients", "kafka_python_group.py"), boot, groupId, topic, "20"], 60_000, { PYTHONDONTWRITEBYTECODE: "1" });
        const r = clientJson("kafka_python_group.py", run);
        expect(run.err.trim()).toBe("");
        expect(r.assignment).toEqual([0, 1, 2, 3]);
        expect(r.messages).toEqual(range(4).flatMap((p) => range(5).map((o) => [p, o, `p${p}-${o}`])));
        expect(r.committed).toEqual({ 0: 5, 1: 5, 2: 5, 3: 5 });
        expect(await committed(groupId, topic, a)).toEqual([5, 5, 5, 5]);
        // the old versions it speaks: FindCoordinator v0, JoinGroup v2, SyncGroup v1, OffsetCommit v2, OffsetFetch v1, LeaveGroup v1
        const used = new Set([...k.output().matchAll(/request key=(\d+) v=(\d+)/g)].map((m) => `${m[1]}v${m[2]}`));
        expect(["10v0", "11v2", "14v1", "8v2", "9v1", "13v1"].filter((kv) => !used.has(kv))).toEqual([]);
      } finally {
        expect(await k.stop()).toBe(0);
        removeDir(kdir);
      }
    },
    60_000,
  );
});

describe("@platformatic/kafka groups", () => {
  test(
    "Consumer.consume in a group (mode committed, falling back to earliest): consumes every partition, commits each message; the admin reads the commits back",
    async () => {
      const topic = "g-platformatic";
      const groupId = "g-platformatic";
      await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
      await produceEach(topic, 4, 5);
      const consumer = new PlatformaticConsumer({
        groupId,
        clientId: "g-platformatic",
        bootstrapBrokers: [bootstrap],
        deserializers: stringDeserializers,
        sessionTimeout: 6000,
        rebalanceTimeout: 10_000,
        heartbeatInterval: 300,
        maxWaitTime: 100,
      });
      try {
        const stream = await consumer.consume({ topics: [topic], mode: "committed", fallbackMode: "earliest", autocommit: false });
        const got: [number, number, string][] = [];
        const timer = setTimeout(() => stream.destroy(new Error(`20 messages not consumed in 20 s (got ${got.length})`)), 20_000);
        try {
          for await (const m of stream) {
            got.push([m.partition, Number(m.offset), m.value]);
            await m.commit();
            if (got.length === 20) break;
          }
        } finally {
          clearTimeout(timer);
        }
        expect(got.sort((a, b) => a[0] - b[0] || a[1] - b[1])).toEqual(range(4).flatMap((p) => range(5).map((o) => [p, o, `p${p}-${o}`] as [number, number, string])));
        const back = await consumer.listCommittedOffsets({ topics: [{ topic, partitions: [0, 1, 2, 3] }] });
        expect(back.get(topic)!.map(Number)).toEqual([5, 5, 5, 5]);
        await stream.close();
      } finally {
        await consumer.close(true);
      }
      expect(await committed(groupId, topic)).toEqual([5, 5, 5, 5]);
    },
    40_000,
  );
});

describe.skipIf(!KCAT && !CLIENTS_REQUIRED)("kcat -G (balanced consumer)", () => {
  test("kcat is installed", () => {
    expect(KCAT).toBeTruthy();
  });

  test(
    "consumes every partition in a group to the end, commits on exit; the admin reads the commits back, and a second run has nothing left",
    async () => {
      const topic = "g-kcat";
      const groupId = "g-kcat";
      await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
      await produceEach(topic, 4, 5);
      const kcatG = () => runClient([KCAT!, "-b", bootstrap, "-G", groupId, "-X", "auto.offset.reset=earliest", "-e", "-q", "-f", "%p|%o|%s\\n", topic], 30_000);
      const run = await kcatG();
      expect({ code: run.code, timedOut: run.timedOut, err: run.err.trim() }).toEqual({ code: 0, timedOut: false, err: "" });
      const lines = run.out.trimEnd().split("\n");
      expect(lines.sort()).toEqual(range(4).flatMap((p) => range(5).map((o) => `${p}|${o}|p${p}-${o}`)).sort());
      expect(await committed(groupId, topic)).toEqual([5, 5, 5, 5]);
      const again = await kcatG();
      expect({ code: again.code, timedOut: again.timedOut, out: again.out }).toEqual({ code: 0, timedOut: false, out: "" });
    },
    60_000,
  );
});
