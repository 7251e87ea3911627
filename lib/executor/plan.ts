/**
 * The executor registry and the facts the runner needs before a test starts: how many VUs to
 * initialise, the longest the scenarios can take, and k6's execution description lines.
 *
 * @example
 * ```ts
 * const plan = executionPlan(config.scenarios); // { maxVUs: 10, initVUs: 10, maxDurationMs: 60000 }
 * ```
 * @module
 */
import type { ExecutorType, ScenarioConfig } from "../config/types.ts";
import { formatDuration } from "../config/duration.ts";
import type { Executor } from "./types.ts";
import type { ProgressBasis } from "./progress.ts";
import type { ExecutionStep, PlannedExecutor } from "./_run.ts";
import { sharedIterations } from "./shared_iterations.ts";
import { perVUIterations } from "./per_vu_iterations.ts";
import { constantVUs } from "./constant_vus.ts";
import { rampingVUs } from "./ramping_vus.ts";
import { constantArrivalRate } from "./constant_arrival_rate.ts";
import { rampingArrivalRate } from "./ramping_arrival_rate.ts";

export {
  constantArrivalRate,
  constantVUs,
  perVUIterations,
  rampingArrivalRate,
  rampingVUs,
  sharedIterations,
};

type PlannedExecutors = {
  [K in ExecutorType]: PlannedExecutor<Extract<ScenarioConfig, { executor: K }>>;
};

const planned: PlannedExecutors = {
  "shared-iterations": sharedIterations,
  "per-vu-iterations": perVUIterations,
  "constant-vus": constantVUs,
  "ramping-vus": rampingVUs,
  "constant-arrival-rate": constantArrivalRate,
  "ramping-arrival-rate": rampingArrivalRate,
};

/** Every executor by its `executor` name. */
export const executors: Record<ExecutorType, Executor> = planned as unknown as Record<
  ExecutorType,
  Executor
>;

/** The executor for `scenario`, typed for planning. */
function plannedFor(scenario: ScenarioConfig): PlannedExecutor<ScenarioConfig> {
  return planned[scenario.executor] as unknown as PlannedExecutor<ScenarioConfig>;
}

/** The {@link ProgressBasis} of `scenario`. */
export function progressBasis(scenario: ScenarioConfig): ProgressBasis {
  switch (scenario.executor) {
    case "shared-iterations":
      return { iterations: scenario.iterations };
    case "per-vu-iterations":
      return { iterations: scenario.vus * scenario.iterations };
    case "constant-vus":
    case "constant-arrival-rate":
      return { durationMs: scenario.duration };
    case "ramping-vus":
    case "ramping-arrival-rate":
      return { durationMs: scenario.stages.reduce((sum, stage) => sum + stage.duration, 0) };
  }
}

/** False when the scenario has no work and is skipped at run time (runner.md §4.1). */
export function hasWork(scenario: ScenarioConfig): boolean {
  return plannedFor(scenario).hasWork(scenario);
}

/** Scenarios in k6's planning and display order: by (startTime, name). */
export function sortScenarios(scenarios: readonly ScenarioConfig[]): ScenarioConfig[] {
  return [...scenarios].sort((a, b) =>
    a.startTime - b.startTime || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
}

/**
 * The combined execution plan of all scenarios: each scenario's VU reservation steps shifted
 * by its startTime, merged in time order, summed at every instant (k6's
 * GetFullExecutionRequirements). Ramping-vus reservations follow the stages and keep
 * ramped-down VUs reserved for gracefulRampDown; the others reserve a constant number from
 * their start to their maxDuration (graceful stop included).
 */
export function executionSteps(scenarios: readonly ScenarioConfig[]): ExecutionStep[] {
  const sorted = sortScenarios(scenarios);
  const tracked: Array<{ step: ExecutionStep; id: number; seq: number }> = [];
  sorted.forEach((sc, id) => {
    for (const s of plannedFor(sc).executionSteps(sc)) {
      tracked.push({ step: { ...s, offset: s.offset + sc.startTime }, id, seq: tracked.length });
    }
  });
  // Stable order by (offset, scenario); a scenario's own steps keep their order.
  tracked.sort((a, b) => a.step.offset - b.step.offset || a.id - b.id || a.seq - b.seq);
  const planned = new Array<number>(sorted.length).fill(0);
  const unplanned = new Array<number>(sorted.length).fill(0);
  const out: ExecutionStep[] = [];
  for (const { step, id } of tracked) {
    planned[id] = step.planned;
    unplanned[id] = step.unplanned;
    let p = 0;
    let u = 0;
    for (let k = 0; k < planned.length; k++) {
      p += planned[k];
      u += unplanned[k];
    }
    const last = out[out.length - 1];
    if (!last || last.planned !== p || last.unplanned !== u) {
      out.push({ offset: step.offset, planned: p, unplanned: u });
    }
  }
  return out;
}

/** What the runner needs to know before the test starts. */
export interface ExecutionPlanSummary {
  /** Peak planned + growable VUs at any instant: the "max VUs" k6 prints. */
  maxVUs: number;
  /** Peak planned VUs: how many VUs to initialise before setup(). */
  initVUs: number;
  /** When the last scenario ends at the latest, graceful periods included (ms). */
  maxDurationMs: number;
}

/**
 * Peak VUs and the longest duration of the combined plan (see {@link executionSteps}).
 * @example
 * ```ts
 * executionPlan([constantVUs10For30s]); // { maxVUs: 10, initVUs: 10, maxDurationMs: 60000 }
 * ```
 */
export function executionPlan(scenarios: readonly ScenarioConfig[]): ExecutionPlanSummary {
  const steps = executionSteps(scenarios);
  let maxVUs = 0;
  let initVUs = 0;
  for (const s of steps) {
    if (s.planned > initVUs) initVUs = s.planned;
    if (s.planned + s.unplanned > maxVUs) maxVUs = s.planned + s.unplanned;
  }
  return {
    maxVUs,
    initVUs,
    maxDurationMs: steps.length ? steps[steps.length - 1].offset : 0,
  };
}

/**
 * k6's execution description (runner.md §8.1): the `scenarios:` summary line, then one
 * `* name: description` line per scenario in (startTime, name) order. Lines carry no
 * indentation; k6 prints the first after 5 spaces and the others after 14, and colours
 * everything after `scenarios: `.
 * @example
 * ```ts
 * describeExecution(scenarios);
 * // ["scenarios: (100.00%) 1 scenario, 10 max VUs, 1m0s max duration (incl. graceful stop):",
 * //  "* default: 10 looping VUs for 30s (gracefulStop: 30s)"]
 * ```
 */
export function describeExecution(scenarios: readonly ScenarioConfig[]): string[] {
  const sorted = sortScenarios(scenarios);
  const plan = executionPlan(sorted);
  const count = sorted.length === 1 ? "1 scenario" : `${sorted.length} scenarios`;
  // Go's Duration.Round(100ms): halves away from zero.
  const rounded = Math.round(plan.maxDurationMs / 100) * 100;
  const lines = [
    `scenarios: (100.00%) ${count}, ${plan.maxVUs} max VUs, ${formatDuration(rounded)} ` +
    `max duration (incl. graceful stop):`,
  ];
  for (const sc of sorted) lines.push(`* ${sc.name}: ${plannedFor(sc).description(sc)}`);
  return lines;
}
