/**
 * `constant-vus` (runner.md §4.4): `vus` VUs loop iterations back to back for `duration`.
 *
 * @example
 * ```ts
 * constantVUs.description(cfg); // "10 looping VUs for 30s (gracefulStop: 30s)"
 * ```
 * @module
 */
import type { ConstantVUsScenario } from "../config/types.ts";
import { formatDuration } from "../config/duration.ts";
import type { ActiveVU } from "./types.ts";
import {
  baseInfo,
  type ExecutionStep,
  fixedLengthDuration,
  planFacts,
  type PlannedExecutor,
  ScenarioRun,
  startLoops,
} from "./_run.ts";

function executionSteps(c: ConstantVUsScenario): ExecutionStep[] {
  return [
    { offset: 0, planned: c.vus, unplanned: 0 },
    { offset: c.duration + c.gracefulStop, planned: 0, unplanned: 0 },
  ];
}

/** The `constant-vus` executor. */
export const constantVUs: PlannedExecutor<ConstantVUsScenario> = {
  ...planFacts(executionSteps),
  executionSteps,
  hasWork: (c) => c.vus > 0,

  description: (c) => `${c.vus} looping VUs for ${formatDuration(c.duration)}` + baseInfo(c),

  async run(config, ctx, progress) {
    const run = new ScenarioRun(config, ctx, config.duration, config.gracefulStop);
    const duration = config.duration;
    const durationText = formatDuration(duration);
    run.bindProgress(progress, () => {
      const spent = run.elapsed();
      const vus = `${config.vus} VUs`;
      if (spent > duration) return [1, [vus, durationText]];
      return [spent / duration, [vus, `${fixedLengthDuration(spent, duration)}/${durationText}`]];
    });

    const loop = async (vu: ActiveVU) => {
      while (run.canStart()) await run.iterate(vu);
    };
    const loops = await startLoops(run, config, config.vus, loop);
    await run.finish(() => Promise.all(loops));
  },
};
