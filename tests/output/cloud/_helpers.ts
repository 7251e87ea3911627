/** Test helpers for the cloud output: params, samples, a captured logger. */
import { Logger } from "../../../lib/log.ts";
import { MetricRegistry } from "../../../lib/metrics/metric.ts";
import type { Sample } from "../../../lib/metrics/sample.ts";
import { TagSetPool } from "../../../lib/metrics/tags.ts";
import type { OutputParams } from "../../../lib/output/types.ts";

export const registry = new MetricRegistry();
export const pool = new TagSetPool();

/** A sample of a registered metric. */
export function sample(
  name: string,
  value: number,
  time: number,
  tags: Record<string, string> = {},
): Sample {
  const metric = registry.get(name) ?? registry.register(name, "counter");
  return { metric, tags: pool.intern(tags), time, value };
}

/** A logger that keeps its lines. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: new Logger({ format: "json", sink: (l) => lines.push(l) }), lines };
}

/** OutputParams for the cloud output against a fake ingest. */
export function cloudParams(
  over: Partial<OutputParams> & { env?: Record<string, string> } = {},
): OutputParams & { lines: string[] } {
  const { logger, lines } = captureLogger();
  return {
    outputType: "cloud",
    configArgument: "",
    env: {},
    scriptEnv: {},
    scriptPath: "/home/user/tests/script.js",
    options: {},
    executionPlan: { maxVUs: 10, maxDurationSec: 60.9 },
    metrics: registry.all(),
    runId: "run-1",
    logger,
    stdout: () => Promise.resolve(),
    lines,
    ...over,
  };
}
