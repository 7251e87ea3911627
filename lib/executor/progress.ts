/**
 * `exec.scenario.progress` for VU code. Kept apart from the executors so that VU hosts load
 * only this.
 *
 * @example
 * ```ts
 * scenarioProgress({ iterations: 4 }, 0, 2, 0); // 0.5
 * ```
 * @module
 */

/**
 * What `exec.scenario.progress` measures, as k6's progress bar does: elapsed time over the
 * regular duration (constant and ramping VUs and arrival rates), or iterations over the total
 * (shared and per-VU iterations).
 */
export type ProgressBasis = { readonly durationMs: number } | { readonly iterations: number };

/**
 * `exec.scenario.progress` (0..1) at `now` (Unix ms). For iteration-based executors k6 divides
 * the iterations done by the total; a VU only knows the scenario-wide number of the iteration
 * it runs, which counts those started before it (done, or still running on other VUs).
 *
 * @example
 * ```ts
 * scenarioProgress({ iterations: 4 }, 0, 2, 0); // 0.5
 * scenarioProgress({ durationMs: 10_000 }, 1_000, 0, 3_500); // 0.25
 * ```
 */
export function scenarioProgress(
  basis: ProgressBasis,
  startTime: number,
  iterationInTest: number,
  now: number,
): number {
  const fraction = "durationMs" in basis
    ? (basis.durationMs > 0 ? (now - startTime) / basis.durationMs : 1)
    : (basis.iterations > 0 ? iterationInTest / basis.iterations : 1);
  return Math.min(1, Math.max(0, fraction));
}
