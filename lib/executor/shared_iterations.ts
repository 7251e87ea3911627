/**
 * `shared-iterations` (runner.md §4.2): `vus` VUs take iterations from one shared pool of
 * `iterations` until it is empty or `maxDuration` passes.
 *
 * @example
 * ```ts
 * sharedIterations.description(cfg); // "100 iterations shared among 10 VUs (maxDuration: 10m0s, gracefulStop: 30s)"
 * ```
 * @module
 */
import type { SharedIterationsScenario } from "../config/types.ts";
import { formatDuration } from "../config/duration.ts";
import type { ActiveVU } from "./types.ts";
import {
  baseInfo,
  type ExecutionStep,
  fixedLengthDuration,
  padInt,
  planFacts,
  type PlannedExecutor,
  ScenarioRun,
  startLoops,
} from "./_run.ts";

function executionSteps(c: SharedIterationsScenario): ExecutionStep[] {
  if (c.vus === 0) return [{ offset: 0, planned: 0, unplanned: 0 }];
  return [
    { offset: 0, planned: c.vus, unplanned: 0 },
    { offset: c.maxDuration + c.gracefulStop, planned: 0, unplanned: 0 },
  ];
}

/** The `shared-iterations` executor. */
export const sharedIterations: PlannedExecutor<SharedIterationsScenario> = {
  ...planFacts(executionSteps),
  executionSteps,
  hasWork: (c) => c.vus > 0 && c.iterations > 0,

  description: (c) =>
    `${c.iterations} iterations shared among ${c.vus} VUs` +
    baseInfo(c, `maxDuration: ${formatDuration(c.maxDuration)}`),

  async run(config, ctx, progress) {
    const run = new ScenarioRun(config, ctx, config.maxDuration, config.gracefulStop);
    const total = config.iterations;
    const duration = config.maxDuration;
    const durationText = formatDuration(duration);
    let attempted = 0;
    let done = 0;
    run.bindProgress(progress, () => [done / total, [
      `${padInt(config.vus, config.vus)} VUs`,
      `${fixedLengthDuration(run.elapsed(), duration)}/${durationText}`,
      `${padInt(done, total)}/${padInt(total, total)} shared iters`,
    ]]);

    const loop = async (vu: ActiveVU) => {
      while (attempted < total && run.canStart()) {
        attempted++;
        await run.iterate(vu);
        done++;
      }
    };
    const loops = await startLoops(run, config, config.vus, loop);
    await run.finish(() => Promise.all(loops));
    // k6 pushes the sample only while the run context is alive: none after an abort.
    if (attempted < total && !run.aborted) ctx.emitDropped(total - attempted);
  },
};
