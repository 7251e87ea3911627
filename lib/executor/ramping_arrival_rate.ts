/**
 * `ramping-arrival-rate` (runner.md §4.7): the rate moves linearly between stage targets and
 * the n-th iteration (n = 1, 2, …) starts when the integral of the rate reaches n.
 *
 * @example
 * ```ts
 * rampingArrivalRate.description(cfg); // "Up to 50.00 iterations/s for 3m0s over 3 stages (maxVUs: 10-100, gracefulStop: 30s)"
 * ```
 * @module
 */
import type { RampingArrivalRateScenario } from "../config/types.ts";
import { formatDuration } from "../config/duration.ts";
import {
  baseInfo,
  type ExecutionStep,
  padFloat2,
  planFacts,
  type PlannedExecutor,
} from "./_run.ts";
import { runArrival } from "./_arrival.ts";
import { maxVUsRange } from "./constant_arrival_rate.ts";

function sumDurations(c: RampingArrivalRateScenario): number {
  let sum = 0;
  for (const s of c.stages) sum += s.duration;
  return sum;
}

function executionSteps(c: RampingArrivalRateScenario): ExecutionStep[] {
  return [
    { offset: 0, planned: c.preAllocatedVUs, unplanned: c.maxVUs - c.preAllocatedVUs },
    { offset: sumDurations(c) + c.gracefulStop, planned: 0, unplanned: 0 },
  ];
}

function peakPerSecond(c: RampingArrivalRateScenario): number {
  let peak = c.startRate;
  for (const s of c.stages) if (s.target > peak) peak = s.target;
  return (peak * 1000) / c.timeUnit;
}

/**
 * Start offsets (ms) of the scenario's iterations, one per call, undefined after the last.
 * Within a stage of length D going from rate a to b (per ms) with m iterations owed inside
 * it, the offset is (a·D − √(D·(a²·D + 2·m·(b − a)))) / (a − b), or m / a when a = b.
 *
 * @example
 * ```ts
 * const next = arrivalOffsets({ startRate: 0, timeUnit: 1000, stages: [{ duration: 5000, target: 1 }] });
 * next(); // 3162.27... (√10 s: the area under the ramp reaches 1)
 * ```
 */
export function arrivalOffsets(
  c: Pick<RampingArrivalRateScenario, "startRate" | "timeUnit" | "stages">,
): () => number | undefined {
  const stages = c.stages;
  let stage = -1;
  let stageStart = 0;
  let doneSoFar = 0;
  let endCount = 0;
  let from = c.startRate / c.timeUnit;
  let to = from;
  let dur = 0;
  let n = 1;
  const enterNext = (): boolean => {
    if (stage >= 0) {
      doneSoFar = endCount;
      from = to;
      stageStart += dur;
    }
    stage++;
    if (stage >= stages.length) return false;
    to = stages[stage].target / c.timeUnit;
    dur = stages[stage].duration;
    endCount += dur * (from === to ? to : (to - from) / 2 + from);
    return true;
  };
  return () => {
    // The tiny slack keeps an iteration that lands exactly on a stage end from being lost
    // to float rounding of the area.
    while (stage < 0 || n > endCount + 1e-9 * Math.max(1, endCount)) {
      if (stage >= stages.length || !enterNext()) return undefined;
    }
    const m = n - doneSoFar;
    n++;
    if (from === to) return stageStart + m / to;
    const disc = dur * (from * from * dur + 2 * m * (to - from));
    return stageStart + (from * dur - (disc > 0 ? Math.sqrt(disc) : 0)) / (from - to);
  };
}

/** The `ramping-arrival-rate` executor. */
export const rampingArrivalRate: PlannedExecutor<RampingArrivalRateScenario> = {
  ...planFacts(executionSteps),
  executionSteps,
  hasWork: (c) => c.maxVUs > 0,

  description: (c) =>
    `Up to ${peakPerSecond(c).toFixed(2)} iterations/s for ${formatDuration(sumDurations(c))} ` +
    `over ${c.stages.length} stages` + baseInfo(c, maxVUsRange(c)),

  run(config, ctx, progress) {
    const peak = peakPerSecond(config);
    const startPeriod = config.startRate > 0 ? config.timeUnit / config.startRate : 0;
    return runArrival(config, ctx, progress, {
      regularMs: sumDurations(config),
      nextOffset: arrivalOffsets(config),
      rateColumn: (prev, last) => {
        // The current rate is read off the gap between the last two starts, as k6 does.
        const period = last > prev ? last - prev : last > 0 ? last : startPeriod;
        return `${padFloat2(period > 0 ? 1000 / period : 0, peak)} iters/s`;
      },
    });
  },
};
