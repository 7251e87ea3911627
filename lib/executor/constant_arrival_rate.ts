/**
 * `constant-arrival-rate` (runner.md §4.6): iteration i starts at i × timeUnit / rate after
 * the scenario start (the first at 0), regardless of how long iterations take.
 *
 * @example
 * ```ts
 * constantArrivalRate.description(cfg); // "10.00 iterations/s for 1m0s (maxVUs: 5-20, gracefulStop: 30s)"
 * ```
 * @module
 */
import type { ConstantArrivalRateScenario } from "../config/types.ts";
import { formatDuration } from "../config/duration.ts";
import {
  baseInfo,
  type ExecutionStep,
  padFloat2,
  planFacts,
  type PlannedExecutor,
} from "./_run.ts";
import { runArrival } from "./_arrival.ts";

function executionSteps(c: ConstantArrivalRateScenario): ExecutionStep[] {
  return [
    { offset: 0, planned: c.preAllocatedVUs, unplanned: c.maxVUs - c.preAllocatedVUs },
    { offset: c.duration + c.gracefulStop, planned: 0, unplanned: 0 },
  ];
}

/** `maxVUs: N` or `maxVUs: N-M` as k6 prints it. */
export function maxVUsRange(c: { preAllocatedVUs: number; maxVUs: number }): string {
  return `maxVUs: ${c.preAllocatedVUs}` + (c.maxVUs > c.preAllocatedVUs ? `-${c.maxVUs}` : "");
}

/** Iterations per second. */
function perSecond(c: ConstantArrivalRateScenario): number {
  return (c.rate * 1000) / c.timeUnit;
}

/** The `constant-arrival-rate` executor. */
export const constantArrivalRate: PlannedExecutor<ConstantArrivalRateScenario> = {
  ...planFacts(executionSteps),
  executionSteps,
  hasWork: (c) => c.maxVUs > 0,

  description: (c) =>
    `${(c.maxVUs !== 0 ? perSecond(c) : 0).toFixed(2)} iterations/s for ` +
    `${formatDuration(c.duration)}` + baseInfo(c, maxVUsRange(c)),

  run(config, ctx, progress) {
    const period = config.timeUnit / config.rate;
    const rate = perSecond(config);
    const rateText = `${padFloat2(rate, rate)} iters/s`;
    let i = 0;
    return runArrival(config, ctx, progress, {
      regularMs: config.duration,
      // i × period, not a running sum: no accumulated float drift over long runs.
      nextOffset: () => i++ * period,
      rateColumn: () => rateText,
    });
  },
};
