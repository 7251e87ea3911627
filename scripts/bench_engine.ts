/**
 * Measures how many samples per second the metrics engine ingests: ~10 metrics (HTTP trends,
 * counters, a rate, checks, gauges), a few hundred tag sets, two threshold submetrics plus
 * `http_req_duration{expected_response:true}`, batches of 1000 as the output manager sends.
 *
 * Run: `deno run -A scripts/bench_engine.ts [--per-group]`
 * @module
 */
import { MetricsEngine } from "../lib/metrics/engine.ts";
import { MetricRegistry } from "../lib/metrics/metric.ts";
import type { Sample } from "../lib/metrics/sample.ts";
import { TagSetPool } from "../lib/metrics/tags.ts";

const perGroup = Deno.args.includes("--per-group");
const registry = new MetricRegistry();
const pool = new TagSetPool();
const engine = new MetricsEngine({
  registry,
  thresholds: {
    http_req_duration: [{ source: "p(95)<500", abortOnFail: false }],
    "http_req_duration{status:200}": [{ source: "max<1000", abortOnFail: false }],
    "http_reqs{name:http://host/api/7}": [{ source: "count>0", abortOnFail: false }],
    checks: [{ source: "rate>0.9", abortOnFail: false }],
  },
  systemTags: new Set([
    "status",
    "method",
    "name",
    "url",
    "group",
    "check",
    "scenario",
    "expected_response",
  ]),
  noThresholds: false,
  summaryTrendStats: ["avg", "min", "med", "max", "p(90)", "p(95)"],
  perGroupAndScenario: perGroup,
});

const httpTrends = [
  "http_req_duration",
  "http_req_waiting",
  "http_req_blocked",
  "http_req_connecting",
  "http_req_sending",
  "http_req_receiving",
].map((n) => registry.get(n)!);
const httpReqs = registry.get("http_reqs")!;
const httpFailed = registry.get("http_req_failed")!;
const checks = registry.get("checks")!;
const iterDur = registry.get("iteration_duration")!;
const vus = registry.get("vus")!;

// ~300 tag sets: 50 URLs × 3 statuses × 2 groups.
const tagSets = [];
for (let u = 0; u < 50; u++) {
  for (const status of ["200", "404", "500"]) {
    for (const group of ["", "::login"]) {
      tagSets.push(pool.intern({
        name: `http://host/api/${u}`,
        url: `http://host/api/${u}`,
        method: "GET",
        status,
        group,
        scenario: "default",
        expected_response: status === "200" ? "true" : "false",
      }));
    }
  }
}
const checkTags = [pool.intern({ check: "ok", group: "", scenario: "default" })];

// Pre-build samples: one "request" = 6 trends + reqs + failed + a check, plus iteration stuff.
const samples: Sample[] = [];
let seed = 1;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
while (samples.length < 1_000_000) {
  const tags = tagSets[Math.floor(rand() * tagSets.length)];
  const time = 1_700_000_000_000 + samples.length;
  for (const m of httpTrends) samples.push({ metric: m, tags, time, value: rand() * 300 });
  samples.push({ metric: httpReqs, tags, time, value: 1 });
  samples.push({ metric: httpFailed, tags, time, value: tags.tags.status === "200" ? 0 : 1 });
  samples.push({ metric: checks, tags: checkTags[0], time, value: rand() < 0.95 ? 1 : 0 });
  samples.push({ metric: iterDur, tags: pool.empty, time, value: 1000 + rand() * 50 });
  if (samples.length % 1000 < 10) samples.push({ metric: vus, tags: pool.empty, time, value: 10 });
}

const batch = 1000;
function run(): number {
  const start = performance.now();
  for (let i = 0; i < samples.length; i += batch) {
    engine.addMetricSamples(samples.slice(i, i + batch));
  }
  return performance.now() - start;
}
run(); // warm-up (JIT, sketches switch to buckets)
const rounds = 5;
let best = Infinity;
for (let r = 0; r < rounds; r++) best = Math.min(best, run());
const rate = samples.length / (best / 1000);
const evalStart = performance.now();
engine.evaluateThresholds({ final: true, elapsedMs: 60_000 });
const evalMs = performance.now() - evalStart;
const sumStart = performance.now();
engine.summaryData({
  testRunDurationMs: 60_000,
  isStdOutTTY: false,
  isStdErrTTY: false,
  noColor: true,
});
const summaryMs = performance.now() - sumStart;
console.log(
  `samples: ${samples.length}, tag sets: ${pool.size}, per-group: ${perGroup}\n` +
    `ingest: ${(rate / 1e6).toFixed(2)}M samples/s (best of ${rounds}, ${best.toFixed(1)} ms)\n` +
    `threshold evaluation: ${evalMs.toFixed(2)} ms, summaryData: ${summaryMs.toFixed(2)} ms`,
);
