// What the container image needs, proven without a Docker engine or registry.
// container/rootfs.sh lays out the image's whole root filesystem (the
// Dockerfile's runtime stage is FROM scratch plus that tree); here ./kafka runs
// chrooted into it as uid 65532, with an empty environment and no /etc or /dev,
// as PID 1 of its own PID namespace (unshare), and must serve kcat, write its
// log dir as that user, use the SSE4.2 CRC-32C, and exit 0 on SIGTERM. Trees
// with one piece taken out show what each piece is for. Then, where podman and
// buildah are installed, the Dockerfile's runtime stage itself is built
// (buildah, with the build stage's output supplied as a local build context)
// and run with a published port and a named volume, and `podman stop` must end
// it with exit 0.
// Needs root (chroot, mount namespaces) and kcat; skips with the reason
// otherwise, except that KAFKA_REQUIRE_CLIENTS=1 requires kcat and
// KAFKA_REQUIRE_CONTAINER=1 requires the rest (CI sets both).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { KAFKA_BIN, ROOT, removeDir, tempDir } from "./helpers.ts";

const KCAT = Bun.which("kcat");
const CHROOT = Bun.which("chroot");
const UNSHARE = Bun.which("unshare");
const PODMAN = Bun.which("podman");
const BUILDAH = Bun.which("buildah");
const RUNC = Bun.which("runc");
const REQUIRE_CLIENTS = process.env.KAFKA_REQUIRE_CLIENTS === "1";
const REQUIRE_CONTAINER = process.env.KAFKA_REQUIRE_CONTAINER === "1";
const UID = 65532;
const ROOTFS_SH = join(ROOT, "container", "rootfs.sh");

const SSE42 = process.arch === "x64" && /^flags\s*:.*\bsse4_2\b/m.test(readFileSync("/proc/cpuinfo", "utf8"));

/** Why the chroot tests cannot run here, or null. */
function chrootBlocker(): string | null {
  if (process.platform !== "linux") return "not Linux";
  if (process.getuid?.() !== 0) return "needs root (chroot, mount namespace)";
  if (!CHROOT) return "no chroot binary";
  if (!UNSHARE) return "no unshare binary (util-linux)";
  if (!Bun.which("ldd")) return "no ldd";
  // a sandbox may forbid new PID or mount namespaces: try once
  const dir = tempDir("kafka-unshare-probe-");
  try {
    mkdirSync(join(dir, "proc"));
    const p = Bun.spawnSync([UNSHARE, "--pid", "--fork", "--kill-child", `--mount-proc=${join(dir, "proc")}`, "true"], { stderr: "pipe", timeout: 10000 });
    if (p.exitCode !== 0) return `unshare --pid --mount-proc fails here: ${p.stderr.toString().trim()}`;
  } finally {
    removeTree(dir);
  }
  return null;
}

function podmanBlocker(): string | null {
  if (process.getuid?.() !== 0) return "needs root";
  const missing = [["podman", PODMAN], ["buildah", BUILDAH], ["runc", RUNC]].filter(([, p]) => !p).map(([n]) => n);
  return missing.length ? `not installed: ${missing.join(", ")} (Debian packages)` : null;
}

const CHROOT_BLOCKER = chrootBlocker();
const PODMAN_BLOCKER = CHROOT_BLOCKER ?? podmanBlocker();
const KCAT_BLOCKER = KCAT ? null : "no kcat (Debian package kcat)";
for (const [what, why] of [["chroot", CHROOT_BLOCKER ?? KCAT_BLOCKER], ["podman", PODMAN_BLOCKER ?? KCAT_BLOCKER]] as const) {
  if (why) console.warn(`container.test.ts: ${what} tests skip: ${why}`);
}
const skipChroot = (CHROOT_BLOCKER !== null && !REQUIRE_CONTAINER) || (KCAT_BLOCKER !== null && !REQUIRE_CLIENTS);
const skipPodman = (PODMAN_BLOCKER !== null && !REQUIRE_CONTAINER) || (KCAT_BLOCKER !== null && !REQUIRE_CLIENTS);

/** rm -rf, but never through a mount (a leaked /proc mount would be walked into). */
function removeTree(dir: string): void {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8");
  if (mounts.split("\n").some((l) => l.split(" ")[4]?.startsWith(dir + "/"))) throw new Error(`${dir} still has a mount inside; not removing it`);
  rmSync(dir, { recursive: true, force: true });
}

function buildRootfs(dir: string): void {
  const p = Bun.spawnSync(["sh", ROOTFS_SH, KAFKA_BIN, dir], { stderr: "pipe", timeout: 30000 });
  if (p.exitCode !== 0) throw new Error(`rootfs.sh failed: ${p.stderr.toString()}`);
}

interface Started {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  output(): string;
  /** resolves with the first match of re in the output so far or to come */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

/** Spawns cmd and collects its stdout+stderr, so tests can wait for lines (never sleep). */
function start(cmd: string[], env: Record<string, string | undefined>): Started {
  const proc = Bun.spawn(cmd, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env });
  let out = "";
  const listeners = new Set<() => void>();
  const decoder = new TextDecoder();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) {
      out += decoder.decode(chunk, { stream: true });
      for (const l of listeners) l();
    }
  };
  void pump(proc.stdout);
  void pump(proc.stderr);
  return {
    proc,
    output: () => out,
    waitFor(re, timeoutMs = 15000) {
      return new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        const check = () => {
          const m = re.exec(out);
          if (m) {
            done();
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${re} within ${timeoutMs} ms:\n${out}`));
        }, timeoutMs);
        listeners.add(check);
        void proc.exited.then((code) => {
          check();
          if (listeners.has(check)) {
            done();
            reject(new Error(`${cmd[0]} exited ${code ?? proc.signalCode} before ${re}:\n${out}`));
          }
        });
        check();
      });
    },
  };
}

/** Resolves with the exit code, SIGKILLing it (and so its namespace) after timeoutMs. */
async function exitWithin(proc: Subprocess, timeoutMs = 10000): Promise<number | null> {
  const killer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const code = await proc.exited;
  clearTimeout(killer);
  return code;
}

async function run(cmd: string[], input?: string, timeoutMs = 20000): Promise<string> {
  const p = Bun.spawn(cmd, { stdin: input === undefined ? "ignore" : "pipe", stdout: "pipe", stderr: "pipe" });
  if (input !== undefined && p.stdin) {
    p.stdin.write(input);
    await p.stdin.end();
  }
  const killer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(killer);
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}: ${err}`);
  return out;
}

/** kcat -L, then a produce and a consume of a few keyed messages. */
async function kcatRoundTrip(broker: string, topic: string): Promise<void> {
  const meta = await run([KCAT!, "-b", broker, "-L"]);
  expect(meta).toContain(`broker 1 at ${broker}`);
  const input = Array.from({ length: 5 }, (_, i) => `k${i}\tvalue ${i}`).join("\n") + "\n";
  await run([KCAT!, "-b", broker, "-P", "-t", topic, "-K", "\t"], input);
  const out = await run([KCAT!, "-b", broker, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%o|%k|%s\\n"]);
  expect(out.trimEnd().split("\n")).toEqual(Array.from({ length: 5 }, (_, i) => `${i}|k${i}|value ${i}`));
}

/** Uid/Gid/NSpid of a host pid, from /proc/<pid>/status. */
function status(pid: number): { uid: string; gid: string; nspid: string } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "m").exec(s)![1]!.trim().split(/\s+/);
  return { uid: field("Uid").join(" "), gid: field("Gid").join(" "), nspid: field("NSpid").at(-1)! };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** /kafka chrooted into root as uid 65532 and PID 1 of a new PID namespace, with /proc mounted there (as a container runtime would). */
function startChrooted(root: string, mountProc = true): Started {
  const kafka = [CHROOT!, `--userspec=${UID}:${UID}`, root, "/kafka", "--override", "log.dirs=/data", "--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", "log.level=debug"];
  const cmd = mountProc ? [UNSHARE!, "--pid", "--fork", "--kill-child", `--mount-proc=${join(root, "proc")}`, ...kafka] : kafka;
  // an empty environment: no HOME, TMPDIR or PATH, less than any runtime gives
  return start(cmd, {});
}

/** The broker's host pid: unshare's only child (chroot exec'd /kafka in its place). */
function childPid(pid: number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/);
  expect(children).toHaveLength(1);
  return Number(children[0]);
}

describe.skipIf(skipChroot)("the image's root filesystem (chroot, uid 65532, PID 1)", () => {
  const dirs: string[] = [];
  const procs: Subprocess[] = [];

  const rootfs = (): string => {
    const dir = tempDir("kafka-rootfs-");
    dirs.push(dir);
    const root = join(dir, "root");
    buildRootfs(root);
    return root;
  };

  afterAll(async () => {
    for (const p of procs) {
      if (p.exitCode === null && p.signalCode === null) {
        p.kill("SIGKILL");
        await p.exited;
      }
    }
    for (const d of dirs) removeTree(d);
  });

  test("can run here (root, chroot, unshare, kcat)", () => {
    expect(CHROOT_BLOCKER).toBeNull();
    expect(KCAT_BLOCKER).toBeNull();
  });

  test("serves kcat as uid 65532, PID 1, SSE4.2 CRC-32C; SIGTERM stops it with exit 0", async () => {
    const root = rootfs();
    const k = startChrooted(root);
    procs.push(k.proc);
    const port = Number((await k.waitFor(/listening on PLAINTEXT:\/\/127\.0\.0\.1:(\d+)/))[1]);
    const crc = (await k.waitFor(/CRC-32C: (\S+)/))[1];
    expect(crc).toBe(SSE42 ? "sse4.2" : "table");

    const pid = childPid(k.proc.pid);
    const st = status(pid);
    expect(st.uid).toBe(`${UID} ${UID} ${UID} ${UID}`);
    expect(st.gid).toBe(`${UID} ${UID} ${UID} ${UID}`);
    expect(st.nspid).toBe("1");
    expect(readlinkSync(`/proc/${pid}/root`)).toBe(root);

    await kcatRoundTrip(`127.0.0.1:${port}`, "in-rootfs");
    expect(statSync(join(root, "data", "meta.properties")).uid).toBe(UID);
    expect(statSync(join(root, "data", "in-rootfs-0")).uid).toBe(UID);

    // as `docker stop` does: SIGTERM to the namespace's PID 1 from outside it
    process.kill(pid, "SIGTERM");
    expect(await exitWithin(k.proc)).toBe(0);
    expect(k.output()).toContain("SIGTERM: shutting down");
    expect(k.output()).toContain("stopped");
    expect(alive(pid)).toBe(false);
    // the /proc mount went with its mount namespace
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(root);
  });

  for (const [piece, path] of [
    ["/usr/lib/libc.so (TinyCC links -lc)", "usr/lib/libc.so"],
    ["/tmp (TinyCC's scratch dir)", "tmp"],
  ] as const) {
    test(`without ${piece}: CRC-32C falls back to the table, and it still serves`, async () => {
      const root = rootfs();
      rmSync(join(root, path), { recursive: true });
      const k = startChrooted(root);
      procs.push(k.proc);
      const port = Number((await k.waitFor(/listening on PLAINTEXT:\/\/127\.0\.0\.1:(\d+)/))[1]);
      expect((await k.waitFor(/CRC-32C: (\S+)/))[1]).toBe("table");
      expect(await run([KCAT!, "-b", `127.0.0.1:${port}`, "-L"])).toContain("broker 1 at");
      process.kill(childPid(k.proc.pid), "SIGTERM");
      expect(await exitWithin(k.proc)).toBe(0);
    });
  }

  test("without /proc it cannot start (Bun aborts): the runtime must mount it, as every container runtime does", async () => {
    const root = rootfs();
    const k = startChrooted(root, false);
    procs.push(k.proc);
    const code = await exitWithin(k.proc);
    expect(code === 0).toBe(false);
    expect(k.output()).not.toContain("listening on");
  });
});

describe.skipIf(skipPodman)("the Dockerfile's runtime stage (buildah build, podman run)", () => {
  const tag = `localhost/kafka-container-test:${process.pid}`;
  const name = `kafka-container-test-${process.pid}`;
  const volume = `kafka-container-test-${process.pid}`;
  // runc: Debian's crun 1.8 refuses this machine's cgroup v1/v2 hybrid layout.
  // --ulimit: podman raises RLIMIT_NOFILE/NPROC by default, which needs
  // CAP_SYS_RESOURCE (a sandbox may lack it); lowering them always works.
  const PODMAN_RUN = [PODMAN!, "--runtime", RUNC!, "run", "--rm", "--ulimit", "nofile=10000:10000", "--ulimit", "nproc=4096:4096"];
  let context: string;
  let built = false;

  beforeAll(async () => {
    if (PODMAN_BLOCKER) return;
    context = tempDir("kafka-image-");
    // what the Dockerfile's build stage leaves in /rootfs, supplied in its place
    buildRootfs(join(context, "rootfs"));
    await run([BUILDAH!, "build", "--network", "none", "--target", "runtime", "--build-context", `build=${context}`, "-t", tag, "-f", join(ROOT, "Dockerfile"), ROOT], undefined, 120000);
    built = true;
  });

  afterAll(async () => {
    if (PODMAN_BLOCKER) return;
    const quiet = async (cmd: string[]) => {
      const p = Bun.spawn(cmd, { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
      await exitWithin(p, 30000);
    };
    await quiet([PODMAN!, "rm", "-f", "-t", "0", name]);
    await quiet([PODMAN!, "volume", "rm", "-f", volume]);
    if (built) await quiet([PODMAN!, "rmi", "-f", tag]);
    if (context) removeTree(context);
  });

  test("podman, buildah and runc are installed", () => {
    expect(PODMAN_BLOCKER).toBeNull();
    expect(KCAT_BLOCKER).toBeNull();
  });

  test("the image's config: non-root user, /data volume, port 9092, exec-form entrypoint", async () => {
    const config = JSON.parse(await run([PODMAN!, "image", "inspect", tag, "--format", "{{json .Config}}"]));
    expect(config.User).toBe(`${UID}:${UID}`);
    expect(Object.keys(config.Volumes)).toEqual(["/data"]);
    expect(Object.keys(config.ExposedPorts)).toEqual(["9092/tcp"]);
    expect(config.Entrypoint).toEqual(["/kafka", "--override", "log.dirs=/data"]);
  });

  test("runs with a published port and a named volume, serves kcat as uid 65532; podman stop exits 0", async () => {
    // a free host port: bind 0, read it, let go
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = probe.port;
    probe.stop(true);
    const broker = `127.0.0.1:${port}`;
    await run([PODMAN!, "volume", "create", volume]);
    const k = start([...PODMAN_RUN, "--name", name, "-p", `${broker}:9092`, "-v", `${volume}:/data`, tag, "--override", `advertised.listeners=PLAINTEXT://${broker}`, "--override", "log.level=debug"], process.env);
    try {
      // the default listener binds every interface inside the container
      await k.waitFor(/listening on PLAINTEXT:\/\/0\.0\.0\.0:9092 \(advertised 127\.0\.0\.1:\d+\), log dir \/data/, 60000);
      expect((await k.waitFor(/CRC-32C: (\S+)/))[1]).toBe(SSE42 ? "sse4.2" : "table");
      const pid = Number((await run([PODMAN!, "inspect", name, "--format", "{{.State.Pid}}"])).trim());
      const st = status(pid);
      expect(st.uid).toBe(`${UID} ${UID} ${UID} ${UID}`);
      expect(st.nspid).toBe("1");
      await kcatRoundTrip(broker, "in-image");
      await run([PODMAN!, "stop", "-t", "10", name], undefined, 30000);
      expect(await exitWithin(k.proc, 30000)).toBe(0);
      expect(k.output()).toContain("SIGTERM: shutting down");
    } finally {
      if (k.proc.exitCode === null && k.proc.signalCode === null) {
        k.proc.kill("SIGKILL");
        await k.proc.exited;
      }
    }
  });
});
