/**
 * A fixed synthetic sample set and output parameters shared by the output tests.
 * @module
 */
import { Logger } from "../../lib/log.ts";
import { MetricRegistry } from "../../lib/metrics/metric.ts";
import type { Sample } from "../../lib/metrics/sample.ts";
import { TagSetPool } from "../../lib/metrics/tags.ts";
import type { OutputParams } from "../../lib/output/types.ts";

export const registry = new MetricRegistry();
export const pool = new TagSetPool();
export const customTrend = registry.register("my_trend", "trend", "time");

/** 2024-05-01T10:00:00Z in ms. */
export const t0 = Date.UTC(2024, 4, 1, 10, 0, 0);

const httpTags = pool.intern({
  expected_response: "true",
  group: "",
  method: "GET",
  name: "http://127.0.0.1/x?a=1&b=2",
  proto: "HTTP/1.1",
  scenario: "default",
  status: "200",
  url: "http://127.0.0.1/x?a=1&b=2",
  testid: "abc",
});
const checkTags = pool.intern({
  check: 'status is "200", really',
  group: "::setup",
  scenario: "default",
});
const metadata = Object.freeze({ vu: "3", iter: "12" });

/** The fixed sample set: tags, extra tags, metadata, odd values, sub-second times. */
export function fixedSamples(): Sample[] {
  const m = (name: string) => registry.get(name)!;
  return [
    { metric: m("http_reqs"), tags: httpTags, time: t0 + 123.456, value: 1 },
    {
      metric: m("http_req_duration"),
      tags: httpTags,
      time: t0 + 123.456,
      value: 221.899,
      metadata,
    },
    { metric: m("checks"), tags: checkTags, time: t0 + 500, value: 0 },
    { metric: m("vus"), tags: pool.empty, time: t0 + 1000, value: 10 },
    { metric: customTrend, tags: pool.intern({ " lead": "x" }), time: t0 + 1000.001, value: 1e-7 },
    { metric: m("data_sent"), tags: pool.empty, time: t0 + 2000, value: 1048576 },
  ];
}

/** A logger whose lines are collected in `lines`. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = new Logger({ format: "raw", sink: (l) => lines.push(l), tty: false });
  return { logger, lines };
}

/** Output parameters with sensible test defaults. */
export function testParams(overrides: Partial<OutputParams> = {}): OutputParams {
  return {
    outputType: "test",
    configArgument: "",
    env: {},
    scriptEnv: {},
    scriptPath: "file:///tmp/script.js",
    options: {},
    executionPlan: { maxVUs: 1, maxDurationSec: 1 },
    metrics: registry.all(),
    runId: "run-1",
    logger: captureLogger().logger,
    stdout: () => Promise.resolve(),
    ...overrides,
  };
}

/** Runs `fn` with the TZ environment variable set, restoring it afterwards. */
export async function withTZ<T>(tz: string, fn: () => Promise<T> | T): Promise<T> {
  const before = Deno.env.get("TZ");
  Deno.env.set("TZ", tz);
  try {
    return await fn();
  } finally {
    if (before === undefined) Deno.env.delete("TZ");
    else Deno.env.set("TZ", before);
  }
}

export const decoder = new TextDecoder();
