/**
 * CPU cost per sample of the statsd, influxdb and timescaledb outputs (encode + send), each
 * against its real local server (netcat UDP sink, influxd, PostgreSQL) started here.
 * Prints one table row per output: samples, wall time, process CPU µs/sample (client side:
 * this process only; the server's own CPU is not counted), encode-only µs/sample, drops.
 *
 * Usage: deno run -A scripts/bench_services_a.ts [samples=200000]
 * @module
 */
import process from "node:process";
import { Logger } from "../lib/log.ts";
import { MetricRegistry } from "../lib/metrics/metric.ts";
import type { Sample } from "../lib/metrics/sample.ts";
import { TagSetPool } from "../lib/metrics/tags.ts";
import type { OutputFactory, OutputParams } from "../lib/output/types.ts";
import statsd, { StatsdEncoder } from "../lib/output/statsd.ts";
import influxdb, { LineEncoder } from "../lib/output/influxdb.ts";
import timescaledb, { CopyEncoder } from "../lib/output/timescaledb.ts";
import { freePort, startInfluxd, startPostgres } from "../tests/output/_servers.ts";

const N = Number(Deno.args[0] ?? 200_000);

function makeSamples(n: number): Sample[] {
  const registry = new MetricRegistry();
  const pool = new TagSetPool();
  const metrics = ["http_req_duration", "http_req_waiting", "http_reqs", "vus", "checks"].map(
    (m) => registry.get(m)!,
  );
  const tagSets = Array.from({ length: 50 }, (_, i) =>
    pool.intern({
      method: i % 2 ? "GET" : "POST",
      status: String(200 + (i % 5)),
      url: `https://test.example/api/items/${i}`,
      name: `https://test.example/api/items/${i}`,
      scenario: "default",
      proto: "HTTP/1.1",
      expected_response: "true",
      group: "",
    }));
  const t0 = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    metric: metrics[i % metrics.length],
    tags: tagSets[i % tagSets.length],
    time: t0 + i * 0.013,
    value: (i % 997) * 0.731,
  }));
}

function params(outputType: string, configArgument: string, env: Record<string, string>) {
  const logs: string[] = [];
  const p: OutputParams = {
    outputType,
    configArgument,
    env,
    scriptEnv: {},
    scriptPath: "/bench.js",
    options: {},
    executionPlan: { maxVUs: 1, maxDurationSec: 1 },
    metrics: new MetricRegistry().all(),
    runId: "bench",
    logger: new Logger({ level: "warning", format: "json", sink: (l) => logs.push(l) }),
    stdout: () => Promise.resolve(),
  };
  return { p, logs };
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function runOutput(
  factory: OutputFactory,
  p: OutputParams,
  samples: Sample[],
): Promise<{ wallMs: number; cpuPerSample: number; dropped: number }> {
  const out = await factory(p);
  await out.start();
  const cpu0 = cpuUs();
  const t0 = performance.now();
  // The engine hands over a batch every 50 ms; feed 5000-sample batches back to back.
  for (let i = 0; i < samples.length; i += 5000) {
    out.addMetricSamples(samples.slice(i, i + 5000));
    await new Promise((r) => setTimeout(r, 1));
  }
  await out.stop(null);
  const wallMs = performance.now() - t0;
  const cpu = cpuUs() - cpu0;
  return { wallMs, cpuPerSample: cpu / samples.length, dropped: out.stats?.().droppedSamples ?? 0 };
}

function encodeCost(encode: (s: Sample) => unknown, samples: Sample[]): number {
  for (let i = 0; i < Math.min(20_000, samples.length); i++) encode(samples[i]); // warm up
  const cpu0 = cpuUs();
  for (const s of samples) encode(s);
  return (cpuUs() - cpu0) / samples.length;
}

const samples = makeSamples(N);
const rows: string[][] = [];
const row = (
  name: string,
  r: { wallMs: number; cpuPerSample: number; dropped: number },
  enc: number,
) =>
  rows.push([
    name,
    String(N),
    r.wallMs.toFixed(0),
    r.cpuPerSample.toFixed(2),
    enc.toFixed(2),
    String(r.dropped),
  ]);

{
  const port = freePort();
  const nc = new Deno.Command("nc", {
    args: ["-u", "-l", "-k", "127.0.0.1", String(port)],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const { p } = params("statsd", "", {
      K6_STATSD_ADDR: `127.0.0.1:${port}`,
      K6_STATSD_ENABLE_TAGS: "true",
      K6_STATSD_PUSH_INTERVAL: "100ms",
    });
    const enc = new StatsdEncoder({ namespace: "k6.", enableTags: true, tagBlocklist: ["url"] });
    row(
      "statsd (tags on)",
      await runOutput(statsd, p, samples),
      encodeCost((s) => enc.line(s), samples),
    );
  } finally {
    nc.kill("SIGTERM");
    await nc.status;
  }
}
{
  const server = await startInfluxd();
  try {
    const { p, logs: influxLogs } = params(
      "influxdb",
      `${server.url}/bench?pushInterval=100ms`,
      {},
    );
    const enc = new LineEncoder(new Map([["url", "string"]]), "");
    row("influxdb", await runOutput(influxdb, p, samples), encodeCost((s) => enc.line(s), samples));
    if (influxLogs.length) console.error(influxLogs.slice(0, 3).join("\n"));
  } finally {
    await server.stop();
  }
}
{
  const server = await startPostgres();
  try {
    const { p } = params("timescaledb", server.url("bench"), {
      K6_TIMESCALEDB_PUSH_INTERVAL: "100ms",
    });
    const enc = new CopyEncoder();
    row(
      "timescaledb",
      await runOutput(timescaledb, p, samples),
      encodeCost((s) => enc.row(s), samples),
    );
  } finally {
    await server.stop();
  }
}

const header = ["output", "samples", "wall ms", "CPU µs/sample", "encode µs/sample", "dropped"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ");
console.log(fmt(header));
for (const r of rows) console.log(fmt(r));
