/**
 * CPU cost per request of spate's HTTP client against `fetch`, on loopback against the demo
 * server (run in a child process so its CPU is not counted). Prints µs of CPU (user+system of
 * this process) and wall µs per request, for sequential keep-alive GETs.
 *
 * `deno run -A scripts/bench_http_client.ts [--requests N] [--path /get]`
 * @module
 */
import { defaultHttpConfig, defaultSystemTags } from "../lib/config/defaults.ts";
import process from "node:process";
import { HttpTransport, type PreparedRequest } from "../lib/http/client.ts";
import { closeModule, createHttpModule } from "../lib/js/http.ts";
import { Logger } from "../lib/log.ts";
import { MetricRegistry } from "../lib/metrics/metric.ts";
import type { VUState } from "../lib/vu/state.ts";

function flag(name: string, dflt: string): string {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : dflt;
}
const n = Number(flag("--requests", "20000"));
const path = flag("--path", "/bytes/100");

const child = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", new URL("./demo_server.ts", import.meta.url).pathname, "--port", "0"],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
let line = "";
while (!line.includes("\n")) line += (await reader.read()).value ?? "";
const base = line.match(/(http:\/\/\S+)/)![1];

const rounds = Number(flag("--rounds", "3"));

/** Best of `rounds` runs: the machine is shared, the minimum is the least disturbed figure. */
async function measure(label: string, one: () => Promise<void>): Promise<[string, number, number]> {
  for (let i = 0; i < 2000; i++) await one(); // warm up JIT and connections
  let bestCPU = Infinity;
  let bestWall = Infinity;
  for (let round = 0; round < rounds; round++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await one();
    const wall = (performance.now() - t0) * 1000 / n;
    const c = process.cpuUsage(c0);
    bestCPU = Math.min(bestCPU, (c.user + c.system) / n);
    bestWall = Math.min(bestWall, wall);
  }
  return [label, bestCPU, bestWall];
}

const transport = new HttpTransport({});
const req: PreparedRequest = {
  method: "GET",
  url: base + path,
  headers: ["User-Agent", "spate-bench"],
  body: null,
  timeout: 60_000,
  discardBody: false,
};
const rows = [];
rows.push(
  await measure("spate HttpTransport", async () => {
    const r = await transport.executeRequest(req);
    if (r.status !== 200) throw new Error(r.error);
  }),
);
rows.push(
  await measure("fetch", async () => {
    const r = await fetch(base + path, { headers: { "User-Agent": "spate-bench" } });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(String(r.status));
  }),
);
transport.close();

// End to end: k6/http's http.get with tags, a response callback and emission into a sink
// that keeps only a count (what a VU host does before batching samples is not measured).
let emitted = 0;
const state: VUState = {
  id: 1,
  iteration: 0,
  stage: "iteration",
  scenario: "default",
  group: "",
  tags: { scenario: "default", group: "" },
  systemTags: new Set(defaultSystemTags),
  http: defaultHttpConfig,
  throwErrors: false,
  registry: new MetricRegistry(),
  logger: new Logger(),
  signal: new AbortController().signal,
  emit: () => {
    emitted++;
  },
  addDataSent: () => {},
  addDataReceived: () => {},
  metadata: () => undefined,
};
const http = createHttpModule(state);
rows.push(
  await measure("k6/http http.get (e2e)", async () => {
    const r = await http.get(base + path);
    if (r.status !== 200) throw new Error(r.error);
  }),
);
http[closeModule]();
if (emitted === 0) throw new Error("nothing emitted");
console.log(`${n} sequential keep-alive GET ${path} on loopback, best of ${rounds}`);
console.log("client                  CPU µs/req   wall µs/req");
for (const [label, cpu, wall] of rows) {
  console.log(
    `${label.padEnd(22)}  ${cpu.toFixed(1).padStart(10)}   ${wall.toFixed(1).padStart(11)}`,
  );
}
child.kill();
await child.status;
