// In-process start-up: how long `await startBroker()` takes in a Bun process
// (fresh temporary log dir each time, formatted), until its port accepts.
// Prints one JSON line: {"ms":[...]}. Run by bench/run.ts.

import { startBroker } from "../src/embed/bun.ts";

const runs = Number(process.argv[2] ?? "5");
const ms: number[] = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const kafka = await startBroker();
  const sock = await Bun.connect({ hostname: "127.0.0.1", port: kafka.port, socket: { data() {} } });
  ms.push(performance.now() - t0);
  sock.end();
  await kafka.stop();
}
process.stdout.write(JSON.stringify({ ms }) + "\n");
