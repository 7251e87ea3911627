/**
 * The executors and the facts the runner needs before a test starts: how many VUs to
 * initialise, the longest the scenarios can take, and k6's execution description lines.
 *
 * @example
 * ```ts
 * const plan = executionPlan(config.scenarios); // { maxVUs: 10, initVUs: 10, maxDurationMs: 60000 }
 * for (const line of describeExecution(config.scenarios)) console.log(line);
 * // scenarios: (100.00%) 1 scenario, 10 max VUs, 1m0s max duration (incl. graceful stop):
 * // * default: 10 looping VUs for 30s (gracefulStop: 30s)
 * ```
 * @module
 */
export {
  constantArrivalRate,
  constantVUs,
  describeExecution,
  executionPlan,
  executionSteps,
  executors,
  hasWork,
  perVUIterations,
  rampingArrivalRate,
  rampingVUs,
  sharedIterations,
  sortScenarios,
} from "./plan.ts";
export type { ExecutionPlanSummary } from "./plan.ts";
export type { ExecutionStep, LiveScenarioProgress, ScenarioStatus } from "./_run.ts";
export { renderProgress, runScenarios, Scheduler } from "./scheduler.ts";
export type {
  ProgressSnapshot,
  RenderProgressOptions,
  ScenarioSnapshot,
  SchedulerDeps,
} from "./scheduler.ts";
export { arrivalOffsets } from "./ramping_arrival_rate.ts";
export { rawSteps as rampingVUsSteps } from "./ramping_vus.ts";
