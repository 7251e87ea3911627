/**
 * A fixed synthetic sample set and OutputParams for the services output tests
 * (prometheus_rw_test.ts, opentelemetry_test.ts).
 * @module
 */
import { Logger } from "../../lib/log.ts";
import { MetricRegistry } from "../../lib/metrics/metric.ts";
import type { Sample } from "../../lib/metrics/sample.ts";
import { TagSetPool } from "../../lib/metrics/tags.ts";
import type { OutputParams } from "../../lib/output/types.ts";

/** Builds the fixed sample set; times are `base + i` ms. */
export function syntheticSamples(base = Date.now() - 30_000): {
  registry: MetricRegistry;
  samples: Sample[];
  pool: TagSetPool;
} {
  const registry = new MetricRegistry();
  const pool = new TagSetPool();
  const m = (name: string) => registry.get(name)!;
  const myTrend = registry.register("my_trend", "trend");
  const get = pool.intern({ method: "GET", status: "200", scenario: "default", group: "" });
  const post = pool.intern({ method: "POST", status: "201", scenario: "default", group: "" });
  const check = pool.intern({ check: "status is 200", scenario: "default" });
  const none = pool.empty;
  const samples: Sample[] = [];
  let t = base;
  const add = (metric: string | typeof myTrend, tags: typeof get, value: number) =>
    samples.push({
      metric: typeof metric === "string" ? m(metric) : metric,
      tags,
      time: t++,
      value,
      metadata: { vu: "1", iter: "0" },
    });
  for (let i = 0; i < 3; i++) add("http_reqs", get, 1);
  for (let i = 0; i < 2; i++) add("http_reqs", post, 1);
  for (const v of [100, 200, 300, 400, 500]) add("http_req_duration", get, v);
  for (const v of [1, 5, 3]) add("vus", none, v);
  for (const v of [1, 1, 0, 1]) add("checks", check, v);
  add("data_received", none, 1000);
  add("data_received", none, 234.5);
  for (let v = 1; v <= 10; v++) add(myTrend, none, v);
  return { registry, samples, pool };
}

/** Captures log lines for assertions. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: new Logger({ format: "json", sink: (l) => lines.push(l) }), lines };
}

/** OutputParams for a test run. */
export function outputParams(
  outputType: string,
  env: Record<string, string>,
  logger: Logger,
  extra: Partial<OutputParams> = {},
): OutputParams {
  return {
    outputType,
    configArgument: "",
    env,
    scriptEnv: {},
    scriptPath: "file:///tmp/script.js",
    options: {},
    executionPlan: { maxVUs: 1, maxDurationSec: 10 },
    metrics: new MetricRegistry().all(),
    runId: "test-run",
    logger,
    stdout: () => Promise.resolve(),
    ...extra,
  };
}
