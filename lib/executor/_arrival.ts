/**
 * The open-model loop both arrival-rate executors share (runner.md §4.6, §4.7): start each
 * iteration at its scheduled offset on an idle VU of the scenario, or drop it and grow the
 * scenario's VUs by one in the background (one initialisation at a time, up to `maxVUs`).
 * @module
 */
import type { ConstantArrivalRateScenario, RampingArrivalRateScenario } from "../config/types.ts";
import { formatDuration } from "../config/duration.ts";
import { errorMessage } from "../errors.ts";
import type { ActiveVU, ExecutorContext, ScenarioProgress } from "./types.ts";
import { acquirePlanned, fixedLengthDuration, InFlight, padInt, ScenarioRun } from "./_run.ts";

/**
 * Offsets within this much of the regular end count as at the end and do not start (float
 * noise must not decide whether the boundary iteration runs).
 */
const endEpsilon = 1e-6;

/** What the two arrival-rate executors differ in. */
export interface ArrivalPlan {
  /** Sum of stages or `duration`, ms. */
  regularMs: number;
  /** Next start offset in ms from the scenario start (ascending), undefined when none. */
  nextOffset(): number | undefined;
  /** The rate column of the progress line, given the last two start offsets. */
  rateColumn(prevOffset: number, lastOffset: number): string;
}

/** Runs an arrival-rate scenario to its end. */
export async function runArrival(
  config: ConstantArrivalRateScenario | RampingArrivalRateScenario,
  ctx: ExecutorContext,
  progress: ScenarioProgress,
  plan: ArrivalPlan,
): Promise<void> {
  const regular = plan.regularMs;
  const run = new ScenarioRun(config, ctx, regular, config.gracefulStop);
  const maxVUs = config.maxVUs;
  // Idle VUs as a stack: the most recently used VU runs next (cheap, and keeps few VUs busy).
  const idle: ActiveVU[] = [];
  const owned: ActiveVU[] = [];
  const inFlight = new InFlight();
  let ended = false;
  let prevOffset = 0;
  let lastOffset = 0;

  const regularText = formatDuration(regular);
  run.bindProgress(progress, () => {
    const spent = run.elapsed();
    const cols = [
      `${padInt(inFlight.count, maxVUs)}/${padInt(owned.length, maxVUs)} VUs`,
      regularText,
      plan.rateColumn(prevOffset, lastOffset),
    ];
    if (spent > regular) return [1, cols];
    cols[1] = `${fixedLengthDuration(spent, regular)}/${regularText}`;
    return [spent / regular, cols];
  });

  for (let i = 0; i < config.preAllocatedVUs; i++) {
    let vu: ActiveVU | undefined;
    try {
      vu = await acquirePlanned(config, ctx, () => run.regularOver);
    } catch (err) {
      run.error ??= err;
      run.hardStop();
      break;
    }
    if (!vu) break;
    owned.push(vu);
    idle.push(vu);
  }

  const afterIteration = (vu: ActiveVU) => {
    ctx.activeVUsChanged(-1);
    idle.push(vu);
    inFlight.dec();
  };
  let unplannedLeft = maxVUs - config.preAllocatedVUs;
  let initializing = false;
  let pendingInit: Promise<void> | undefined;
  let warned = false;

  const dropAndGrow = () => {
    ctx.emitDropped(1);
    if (unplannedLeft <= 0) {
      if (!warned) {
        warned = true;
        ctx.warn(`Insufficient VUs, reached ${maxVUs} active VUs and cannot initialize more`);
      }
      return;
    }
    if (initializing) return; // one initialisation at a time, like k6
    initializing = true;
    unplannedLeft--;
    pendingInit = ctx.pool.initAndAcquire(config).then(
      (vu) => {
        initializing = false;
        pendingInit = undefined;
        owned.push(vu);
        if (ended) ctx.pool.release(vu);
        else idle.push(vu);
      },
      (err) => {
        initializing = false;
        pendingInit = undefined;
        ctx.warn(`Error while allocating unplanned VU: ${errorMessage(err)}`);
      },
    );
  };

  const limit = regular - endEpsilon;
  for (let next = plan.nextOffset(); next !== undefined && next < limit; next = plan.nextOffset()) {
    if (run.regularOver) break;
    // Only sleep when the start is in the future: a catch-up batch runs without a single await.
    const at = run.start + next;
    if (at > ctx.now() && !(await run.sleepUntil(at))) break;
    prevOffset = lastOffset;
    lastOffset = next;
    const vu = idle.pop();
    if (vu === undefined) {
      dropAndGrow();
      continue;
    }
    inFlight.inc();
    ctx.activeVUsChanged(1);
    run.iterate(vu).then(() => afterIteration(vu));
  }
  if (!run.regularOver) await run.sleepUntil(run.regularEnd);

  try {
    await run.finish(() => inFlight.idle());
    // An extra VU still initialising is waited for (and handed back) unless aborting.
    if (pendingInit && !run.aborted) await pendingInit;
  } finally {
    ended = true;
    // Nothing is in flight any more, so every VU the scenario owns is idle.
    for (const vu of idle) ctx.pool.release(vu);
    idle.length = 0;
  }
}
