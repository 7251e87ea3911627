/**
 * A fixed synthetic sample set and OutputParams builder shared by the service-output tests.
 * @module
 */
import { Logger } from "../../lib/log.ts";
import { MetricRegistry } from "../../lib/metrics/metric.ts";
import type { Sample } from "../../lib/metrics/sample.ts";
import { TagSetPool } from "../../lib/metrics/tags.ts";
import type { OutputParams } from "../../lib/output/types.ts";

/** OutputParams for tests, plus the captured log lines. */
export function testParams(
  outputType: string,
  over: Partial<OutputParams> = {},
): { params: OutputParams; logs: string[] } {
  const logs: string[] = [];
  const logger = new Logger({ level: "debug", format: "json", sink: (l) => logs.push(l) });
  const params: OutputParams = {
    outputType,
    configArgument: "",
    env: {},
    scriptEnv: {},
    scriptPath: "/tmp/script.js",
    options: {},
    executionPlan: { maxVUs: 1, maxDurationSec: 1 },
    metrics: new MetricRegistry().all(),
    runId: "test-run",
    logger,
    stdout: () => Promise.resolve(),
    ...over,
  };
  return { params, logs };
}

/** 2026-01-01T10:00:00.123456Z in epoch ms */
export const T0 = 1767261600123.456;

/**
 * The fixed sample set: 4 vus gauges, 3 http_reqs, 3 http_req_duration, 2 checks (with a
 * `check` tag, one pass one fail), 2 http_req_failed, 1 custom counter with a comma/space/equals
 * in a tag value.
 */
export function fixedSamples(): Sample[] {
  const registry = new MetricRegistry();
  const pool = new TagSetPool();
  const m = (name: string) => registry.get(name)!;
  const custom = registry.register("my_counter", "counter");
  const req = pool.intern({
    method: "GET",
    status: "200",
    url: "http://127.0.0.1/a",
    name: "http://127.0.0.1/a",
    scenario: "default",
    expected_response: "true",
  });
  const req404 = pool.intern({
    method: "POST",
    status: "404",
    url: "http://127.0.0.1/b",
    name: "http://127.0.0.1/b",
    scenario: "default",
    expected_response: "false",
    group: "",
  });
  const checkTags = (c: string) => pool.intern({ check: c, scenario: "default" });
  const out: Sample[] = [];
  for (let i = 0; i < 4; i++) {
    out.push({ metric: m("vus"), tags: pool.empty, time: T0 + i * 1000, value: 10 + i });
  }
  out.push({ metric: m("http_reqs"), tags: req, time: T0 + 1, value: 1 });
  out.push({ metric: m("http_reqs"), tags: req, time: T0 + 2, value: 1 });
  out.push({ metric: m("http_reqs"), tags: req404, time: T0 + 3, value: 1 });
  out.push({ metric: m("http_req_duration"), tags: req, time: T0 + 1, value: 105.322 });
  out.push({ metric: m("http_req_duration"), tags: req, time: T0 + 2, value: 0.5 });
  out.push({ metric: m("http_req_duration"), tags: req404, time: T0 + 3, value: 12 });
  out.push({ metric: m("checks"), tags: checkTags("status is 200"), time: T0 + 4, value: 1 });
  out.push({ metric: m("checks"), tags: checkTags("body ok"), time: T0 + 5, value: 0 });
  out.push({ metric: m("http_req_failed"), tags: req, time: T0 + 1, value: 0 });
  out.push({ metric: m("http_req_failed"), tags: req404, time: T0 + 3, value: 1 });
  out.push({
    metric: custom,
    tags: pool.intern({ "my tag": "a,b=c d" }),
    time: T0 + 6,
    value: 2.7,
    metadata: { vu: "1", iter: "0" },
  });
  return out;
}
