import { assertEquals } from "../_assert.ts";
import { MetricRegistry } from "../../lib/metrics/metric.ts";
import type { Sample } from "../../lib/metrics/sample.ts";
import { TagSetPool } from "../../lib/metrics/tags.ts";
import { DEFAULT_BOUNDARIES, OtelAggregator } from "../../lib/output/_otel_aggregate.ts";
import { DataPointType } from "@opentelemetry/sdk-metrics";

const registry = new MetricRegistry();
const pool = new TagSetPool();
const t0 = 1767261600000;

Deno.test("otel aggregation: SDK semantics for buckets, negatives, NaN, start time, overflow", () => {
  const agg = new OtelAggregator("k6_");
  const get = pool.intern({ method: "GET", group: "" });
  const dur = registry.get("http_req_duration")!;
  const reqs = registry.get("http_reqs")!;
  const failed = registry.get("http_req_failed")!;
  const s = (metric = dur, value = 0, time = t0, tags = get): Sample => ({
    metric,
    tags,
    time,
    value,
  });
  agg.add([
    s(dur, 5, t0 + 1.5), // a boundary value: upper-inclusive bucket [0, 5]
    s(dur, 0),
    s(dur, 10001),
    s(dur, -1), // dropped, as the SDK histogram drops negatives
    s(dur, NaN), // dropped
    s(reqs, 1),
    s(reqs, -3), // dropped: counters are monotonic
    s(reqs, 2),
    s(failed, 0),
    s(failed, 1),
    s(failed, 0),
  ]);
  const [h, c, r] = agg.collect(t0 + 2000);
  assertEquals(h.descriptor, {
    name: "k6_http_req_duration",
    description: "",
    unit: "ms",
    valueType: 1,
  });
  assertEquals(h.dataPointType, DataPointType.HISTOGRAM);
  const p = h.dataPoints[0];
  assertEquals(p.attributes, { method: "GET" }); // empty tag values are left out
  assertEquals(p.startTime, [1767261600, 1_500_000]); // the series' first sample
  assertEquals(p.endTime, [1767261602, 0]);
  const counts = new Array(DEFAULT_BOUNDARIES.length + 1).fill(0);
  counts[0] = 1; // 0
  counts[1] = 1; // 5
  counts[DEFAULT_BOUNDARIES.length] = 1; // 10001
  assertEquals(p.value, {
    buckets: { boundaries: [...DEFAULT_BOUNDARIES], counts },
    sum: 10006,
    count: 3,
    min: 0,
    max: 10001,
  });
  assertEquals(c.descriptor.name, "k6_http_reqs");
  assertEquals(c.dataPoints.map((d) => d.value), [3]);
  assertEquals(r.descriptor, {
    name: "k6_http_req_failed.total",
    description: "",
    unit: "",
    valueType: 0,
  });
  assertEquals(r.dataPoints.map((d) => [d.attributes.condition, d.value]), [["zero", 2], [
    "nonzero",
    1,
  ]]);

  // 2000 series per instrument at most: the 2000th and later share the overflow series.
  const many = Array.from(
    { length: 2005 },
    (_, i) => s(reqs, 1, t0, pool.intern({ i: String(i) })),
  );
  const agg2 = new OtelAggregator("");
  agg2.add(many);
  const points = agg2.collect(t0)[0].dataPoints;
  assertEquals(points.length, 2000);
  assertEquals(points[1999].attributes, { "otel.metric.overflow": true });
  assertEquals(points[1999].value, 6);
});
