/**
 * Benchmark of the cloud output's hot paths: per-sample aggregation (`Aggregator.add`), and
 * per-push encoding (MetricSet protobuf + snappy), with the hand-written encoder compared to
 * protobufjs on the same payload. Prints CPU per sample, bytes per sample and encode rates.
 *
 * Run: `deno run -A scripts/bench_cloud.ts [samples=1000000] [series=500]`
 * @module
 */
import process from "node:process";
import protobuf from "protobufjs";
import { MetricRegistry } from "../lib/metrics/metric.ts";
import type { Sample } from "../lib/metrics/sample.ts";
import { TagSetPool } from "../lib/metrics/tags.ts";
import { snappyCompress } from "../lib/output/_snappy.ts";
import { Aggregator } from "../lib/output/cloud/aggregation.ts";
import {
  encodeMetricSet,
  METRICS_PROTO,
  type WireMetricSet,
  type WireValue,
} from "../lib/output/cloud/proto.ts";

const total = Number(Deno.args[0] ?? 1_000_000);
const seriesCount = Number(Deno.args[1] ?? 500);

const reg = new MetricRegistry();
const pool = new TagSetPool();
const metrics = ["http_reqs", "http_req_duration", "http_req_waiting", "vus", "checks"].map((n) =>
  reg.get(n)!
);
const tagSets = Array.from(
  { length: Math.ceil(seriesCount / metrics.length) },
  (_, i) =>
    pool.intern({
      method: i % 2 ? "GET" : "POST",
      name: `https://example.com/api/item/${i}`,
      status: "200",
      group: "",
      scenario: "default",
      url: `https://example.com/api/item/${i}`,
      proto: "HTTP/1.1",
    }),
);

const T0 = 1714557600000;
const durationMs = 60_000;
const samples: Sample[] = new Array(total);
for (let i = 0; i < total; i++) {
  const metric = metrics[i % metrics.length];
  const tags = tagSets[Math.floor(i / metrics.length) % tagSets.length];
  const value = metric.type === "rate" ? i % 3 === 0 ? 0 : 1 : 5 + (i % 997) * 0.731;
  samples[i] = { metric, tags, time: T0 + (i / total) * durationMs, value };
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

// ---- aggregation (per-sample path), fed in 50 ms batches like the engine does ----
const agg = new Aggregator({ periodMs: 3000, waitMs: 8000, testRunId: "123" });
const batchSize = Math.max(1, Math.floor(total / (durationMs / 50)));
// warm-up on a separate aggregator
new Aggregator({ periodMs: 3000, waitMs: 0 }).add(samples.slice(0, 100_000));
let c0 = cpuMs();
const w0 = performance.now();
for (let i = 0; i < total; i += batchSize) agg.add(samples.slice(i, i + batchSize));
const addCpu = cpuMs() - c0;
const addWall = performance.now() - w0;

// ---- encoding ----
agg.closeAll();
c0 = cpuMs();
const batches = agg.takeBatches(1000);
const wireCpu = cpuMs() - c0;
/** Best of 3 runs (the first includes JIT warm-up). */
function best<T>(fn: () => T): [T, number] {
  let result!: T;
  let min = Infinity;
  for (let i = 0; i < 3; i++) {
    const c = cpuMs();
    result = fn();
    min = Math.min(min, cpuMs() - c);
  }
  return [result, min];
}
const [raws, encCpu] = best(() => batches.map((b) => encodeMetricSet(b.set)));
const rawBytes = raws.reduce((n, r) => n + r.length, 0);
const [packed, snappyCpu] = best(() => raws.map((r) => snappyCompress(r)));
const packedBytes = packed.reduce((n, r) => n + r.length, 0);

// ---- protobufjs on the same payload ----
const MetricSet = protobuf.parse(METRICS_PROTO).root.lookupType("metrics.MetricSet");
const Label = protobuf.parse(METRICS_PROTO).root.lookupType("metrics.Label");
function toPbjs(set: WireMetricSet): Record<string, unknown> {
  const kindField: Record<string, string> = {
    counter: "counterSamples",
    gauge: "gaugeSamples",
    rate: "rateSamples",
    trend: "trendHdrSamples",
  };
  const typeEnum: Record<string, number> = { counter: 1, gauge: 2, rate: 3, trend: 4 };
  return {
    testRunId: set.testRunId,
    aggregationPeriod: set.aggregationPeriod,
    metrics: set.metrics.map((m) => ({
      name: m.name,
      type: typeEnum[m.type],
      timeSeries: m.series.map((s) => ({
        labels: decodeLabels(s.labels),
        [kindField[m.type]]: {
          values: s.values.map(({ time, value }) => ({ time: { seconds: time }, ...flat(value) })),
        },
      })),
    })),
  };
}
function flat(v: WireValue): Record<string, unknown> {
  switch (v.kind) {
    case "counter":
      return { value: v.value };
    case "gauge":
      return { last: v.last, count: v.count, min: v.min, max: v.max, avg: v.avg };
    case "rate":
      return { nonzeroCount: v.nonzeroCount, totalCount: v.totalCount };
    case "trend":
      return { ...v.hdr };
  }
}
function decodeLabels(bytes: Uint8Array): unknown[] {
  // labels are repeated field 1 of TimeSeries; decode them once for the comparison
  const out: unknown[] = [];
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    r.uint32();
    out.push(Label.toObject(Label.decode(r, r.uint32())));
  }
  return out;
}
const objects = batches.map((b) => toPbjs(b.set));
const [pbjs, pbjsCpu] = best(() =>
  objects.map((o) => MetricSet.encode(MetricSet.fromObject(o)).finish())
);
const identical = pbjs.every((b, i) =>
  b.length === raws[i].length && b.every((x, j) => x === raws[i][j])
);
const pbjsBytes = pbjs.reduce((n, r) => n + r.length, 0);

const seriesValues = batches.reduce(
  (n, b) =>
    n + b.set.metrics.reduce((m, x) => m + x.series.reduce((k, s) => k + s.values.length, 0), 0),
  0,
);
const fmt = (n: number, d = 1) => n.toFixed(d);
console.log(`samples: ${total}, distinct series: ${agg.seriesCount}, 3 s buckets over 60 s`);
console.log(`messages: ${batches.length}, (series, bucket) values: ${seriesValues}`);
console.log(`hand-written and protobufjs bytes identical: ${identical}`);
console.log("");
console.log("| stage | CPU total | per sample |");
console.log("|---|---|---|");
console.log(
  `| Aggregator.add | ${fmt(addCpu)} ms (wall ${fmt(addWall)} ms) | ${
    fmt((addCpu * 1e6) / total)
  } ns |`,
);
console.log(
  `| takeBatches (wire values) | ${fmt(wireCpu)} ms | ${fmt((wireCpu * 1e6) / total, 2)} ns |`,
);
console.log(
  `| encodeMetricSet (hand-written) | ${fmt(encCpu)} ms | ${fmt((encCpu * 1e6) / total, 2)} ns |`,
);
console.log(
  `| protobufjs fromObject+encode | ${fmt(pbjsCpu)} ms | ${fmt((pbjsCpu * 1e6) / total, 2)} ns |`,
);
console.log(`| snappy | ${fmt(snappyCpu)} ms | ${fmt((snappyCpu * 1e6) / total, 2)} ns |`);
console.log("");
console.log(
  `protobuf bytes: ${rawBytes} (protobufjs: ${pbjsBytes}), snappy: ${packedBytes} → ${
    fmt(packedBytes / total, 4)
  } bytes/sample on the wire, ${fmt(packedBytes / seriesValues, 1)} bytes/series value`,
);
console.log(
  `encode rate: hand-written ${fmt(rawBytes / 1e6 / (encCpu / 1000))} MB/s, protobufjs ${
    fmt(pbjsBytes / 1e6 / (pbjsCpu / 1000))
  } MB/s; snappy ${fmt(rawBytes / 1e6 / (snappyCpu / 1000))} MB/s`,
);
