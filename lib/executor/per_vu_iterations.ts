/**
 * `per-vu-iterations` (runner.md §4.3): each of `vus` VUs runs exactly `iterations`
 * iterations, unless `maxDuration` passes first.
 *
 * @example
 * ```ts
 * perVUIterations.description(cfg); // "3 iterations for each of 5 VUs (maxDuration: 10m0s, gracefulStop: 30s)"
 * ```
 * @module
 */
import type { PerVUIterationsScenario } from "../config/types.ts";
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

function executionSteps(c: PerVUIterationsScenario): ExecutionStep[] {
  return [
    { offset: 0, planned: c.vus, unplanned: 0 },
    { offset: c.maxDuration + c.gracefulStop, planned: 0, unplanned: 0 },
  ];
}

/** The `per-vu-iterations` executor. */
export const perVUIterations: PlannedExecutor<PerVUIterationsScenario> = {
  ...planFacts(executionSteps),
  executionSteps,
  hasWork: (c) => c.vus > 0 && c.iterations > 0,

  description: (c) =>
    `${c.iterations} iterations for each of ${c.vus} VUs` +
    baseInfo(c, `maxDuration: ${formatDuration(c.maxDuration)}`),

  async run(config, ctx, progress) {
    const run = new ScenarioRun(config, ctx, config.maxDuration, config.gracefulStop);
    const perVU = config.iterations;
    const total = config.vus * perVU;
    const duration = config.maxDuration;
    const durationText = formatDuration(duration);
    let done = 0;
    run.bindProgress(progress, () => {
      const spent = run.elapsed();
      const cols = [
        `${padInt(config.vus, config.vus)} VUs`,
        durationText,
        `${padInt(done, total)}/${padInt(total, total)} iters, ${perVU} per VU`,
      ];
      if (spent > duration) return [1, cols];
      cols[1] = `${fixedLengthDuration(spent, duration)}/${durationText}`;
      return [done / total, cols];
    });

    const loop = async (vu: ActiveVU) => {
      for (let i = 0; i < perVU; i++) {
        if (!run.canStart()) {
          // One sample per VU with what it never started; none once the run is aborted.
          if (!run.aborted) ctx.emitDropped(perVU - i, vu.id);
          return;
        }
        await run.iterate(vu);
        done++;
      }
    };
    const loops = await startLoops(run, config, config.vus, loop);
    await run.finish(() => Promise.all(loops));
  },
};
