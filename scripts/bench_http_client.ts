/**
 * CPU cost per request of spate's HTTP client against `fetch`, on loopback against the demo
 * server (run in a child process so its CPU is not counted). Prints µs of CPU (user+system of
 * this process) and wall µs per request, for sequential keep-alive GETs.
 *
 * `deno run -A scripts/bench_http_client.ts [--requests N] [--path /get]`
 * @module
 */
import process from "node:process";
import { HttpTransport, type PreparedRequest } from "../lib/http/client.ts";

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

async function measure(label: string, one: () => Promise<void>): Promise<[string, number, number]> {
  for (let i = 0; i < 2000; i++) await one(); // warm up JIT and connections
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await one();
  const wall = (performance.now() - t0) * 1000 / n;
  const c = process.cpuUsage(c0);
  return [label, (c.user + c.system) / n, wall];
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
console.log(`${n} sequential keep-alive GET ${path} on loopback`);
console.log("client                  CPU µs/req   wall µs/req");
for (const [label, cpu, wall] of rows) {
  console.log(
    `${label.padEnd(22)}  ${cpu.toFixed(1).padStart(10)}   ${wall.toFixed(1).padStart(11)}`,
  );
}
child.kill();
await child.status;
