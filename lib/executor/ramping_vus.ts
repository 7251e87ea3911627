/**
 * `ramping-vus` (runner.md §4.5): a VU count that follows straight lines between stage
 * targets — ⌊line⌋ VUs while ramping up, ⌈line⌉ while ramping down. VUs ramped down finish
 * their iteration and are interrupted after `gracefulRampDown`; the VUs that may still be
 * finishing stay reserved in the plan for that long.
 *
 * @example
 * ```ts
 * rampingVUs.description(cfg); // "Up to 20 looping VUs for 1m0s over 3 stages (gracefulRampDown: 30s, gracefulStop: 30s)"
 * ```
 * @module
 */
import type { RampingVUsScenario } from "../config/types.ts";
import { formatDuration } from "../config/duration.ts";
import type { ActiveVU } from "./types.ts";
import {
  acquirePlanned,
  baseInfo,
  endOffset,
  type ExecutionStep,
  fixedLengthDuration,
  InFlight,
  maxPlanned,
  padInt,
  planFacts,
  type PlannedExecutor,
  ScenarioRun,
} from "./_run.ts";

function step(offset: number, planned: number): ExecutionStep {
  return { offset, planned, unplanned: 0 };
}

/**
 * The VU count the stages ask for, as steps: the k-th VU of a ramp-up starts when the line
 * reaches k; a ramp-down releases a VU when the line reaches the next lower integer. With
 * `zeroEnd`, a final step to 0 VUs at the end of the last stage.
 */
export function rawSteps(c: RampingVUsScenario, zeroEnd: boolean): ExecutionStep[] {
  const steps: ExecutionStep[] = [step(0, c.startVUs)];
  const add = (offset: number, planned: number) => {
    if (steps[steps.length - 1].planned !== planned) steps.push(step(offset, planned));
  };
  let end = 0;
  let from = c.startVUs;
  // `vu` walks the integers the line crosses; after a ramp-up it rests one above the target,
  // which the next stage's first (deduplicated) step absorbs.
  let vu = from;
  for (const stage of c.stages) {
    const target = stage.target;
    const dur = stage.duration;
    end += dur;
    const diff = target - from;
    if (diff === 0) continue;
    if (dur === 0) {
      add(end, target);
      vu = target;
      from = target;
      continue;
    }
    if (vu > target) {
      for (; vu > target; vu--) add(end - (dur * (target - vu + 1)) / diff, vu - 1);
    } else {
      for (; vu <= target; vu++) add(end - (dur * (target - vu)) / diff, vu);
    }
    from = target;
  }
  if (zeroEnd && steps[steps.length - 1].planned !== 0) steps.push(step(end, 0));
  return steps;
}

/**
 * Keeps ramped-down VUs reserved for `gracefulRampDown` so other scenarios cannot take VUs
 * that may still be finishing an iteration, without ever reserving more than the peak.
 * Steps at or after `end` are left to the caller.
 */
function reserveForRampDowns(
  raw: readonly ExecutionStep[],
  end: number,
  gracefulRampDown: number,
): ExecutionStep[] {
  const out: ExecutionStep[] = [];
  let last = 0;
  let lastDownhill = 0;
  for (let i = 0; i < raw.length; i++) {
    const s = raw[i];
    if (i === 0 || s.planned > last) {
      out.push(s);
      last = s.planned;
      continue;
    }
    if (s.planned === last) continue;
    // Going down: look ahead one gracefulRampDown. A step back up to `last` within it makes
    // this dip irrelevant; otherwise release down to s.planned once the window has passed.
    const until = s.offset + gracefulRampDown;
    let jumped = false;
    let stillDown = true;
    for (let j = Math.max(lastDownhill, i + 1); j < raw.length; j++) {
      const ahead = raw[j];
      if (ahead.offset > until) break;
      if (ahead.planned >= last) {
        i = j - 1;
        jumped = true;
        break;
      }
      if (stillDown) {
        if (raw[j - 1].planned > ahead.planned) lastDownhill = j;
        else stillDown = false;
      }
    }
    if (jumped) continue;
    if (until >= end) break;
    out.push(step(until, s.planned));
    last = s.planned;
  }
  return out;
}

function executionSteps(c: RampingVUsScenario): ExecutionStep[] {
  let steps = rawSteps(c, false);
  const end = sumDurations(c) + c.gracefulStop;
  if (c.gracefulRampDown > 0) steps = reserveForRampDowns(steps, end, c.gracefulRampDown);
  if (steps[steps.length - 1].planned !== 0) steps.push(step(end, 0));
  return steps;
}

function sumDurations(c: RampingVUsScenario): number {
  let sum = 0;
  for (const s of c.stages) sum += s.duration;
  return sum;
}

function peakTarget(c: RampingVUsScenario): number {
  let peak = c.startVUs;
  for (const s of c.stages) if (s.target > peak) peak = s.target;
  return peak;
}

type Mode = "running" | "stopping" | "stopped";

/**
 * One VU slot of the scenario. start/gracefulStop/hardStop may come in any order; a slot
 * ramped down and started again before its VU finished simply keeps looping with that VU.
 */
class VUHandle {
  #mode: Mode = "stopped";
  #alive = false;
  #vu: ActiveVU | undefined;
  readonly #run: ScenarioRun;
  readonly #config: RampingVUsScenario;
  readonly #live: InFlight;
  readonly #active: { count: number };

  constructor(run: ScenarioRun, config: RampingVUsScenario, live: InFlight, active: {
    count: number;
  }) {
    this.#run = run;
    this.#config = config;
    this.#live = live;
    this.#active = active;
  }

  start(): void {
    this.#mode = "running";
    if (!this.#alive) void this.#loop();
  }

  gracefulStop(): void {
    if (this.#mode === "running") this.#mode = "stopping";
  }

  hardStop(): void {
    if (this.#mode === "stopped") return;
    this.#mode = "stopped";
    this.#vu?.interrupt();
  }

  async #loop(): Promise<void> {
    const run = this.#run;
    const ctx = run.ctx;
    this.#alive = true;
    this.#live.inc();
    try {
      const vu = await acquirePlanned(
        this.#config,
        ctx,
        () => this.#mode !== "running" || run.regularOver,
      );
      if (!vu) return;
      this.#vu = vu;
      this.#active.count++;
      ctx.activeVUsChanged(1);
      try {
        while (this.#mode === "running" && !run.regularOver) await run.iterate(vu);
      } finally {
        this.#vu = undefined;
        this.#active.count--;
        ctx.pool.release(vu);
        ctx.activeVUsChanged(-1);
      }
    } catch (err) {
      run.error ??= err;
      run.hardStop();
    } finally {
      this.#alive = false;
      this.#mode = "stopped";
      this.#live.dec();
    }
  }
}

/** The `ramping-vus` executor. */
export const rampingVUs: PlannedExecutor<RampingVUsScenario> = {
  ...planFacts(executionSteps),
  executionSteps,
  hasWork: (c) => maxPlanned(executionSteps(c)) > 0,

  description: (c) =>
    `Up to ${peakTarget(c)} looping VUs for ${formatDuration(sumDurations(c))} over ` +
    `${c.stages.length} stages` +
    baseInfo(c, `gracefulRampDown: ${formatDuration(c.gracefulRampDown)}`),

  async run(config, ctx, progress) {
    const raw = rawSteps(config, true);
    const graceful = executionSteps(config);
    const regular = endOffset(raw);
    const max = endOffset(graceful);
    const run = new ScenarioRun(config, ctx, regular, max - regular);
    const maxVUs = maxPlanned(graceful);
    const live = new InFlight();
    const active = { count: 0 };
    const handles = Array.from(
      { length: maxVUs },
      () => new VUHandle(run, config, live, active),
    );

    const regularText = fixedLengthDuration(regular, regular);
    run.bindProgress(progress, () => {
      const spent = run.elapsed();
      const vus = `${padInt(active.count, maxVUs)}/${padInt(maxVUs, maxVUs)} VUs`;
      if (spent > regular) return [1, [vus, formatDuration(regular)]];
      return [spent / regular, [vus, `${fixedLengthDuration(spent, regular)}/${regularText}`]];
    });

    let scheduled = 0;
    const applyRaw = (planned: number) => {
      for (; scheduled < planned; scheduled++) handles[scheduled].start();
      for (; planned < scheduled; scheduled--) handles[scheduled - 1].gracefulStop();
    };
    let allowed = 0;
    const applyGraceful = (planned: number) => {
      for (; planned < allowed; allowed--) handles[allowed - 1].hardStop();
      allowed = planned;
    };

    // Walk both step lists in time order; on equal offsets the raw (scheduling) step first.
    let i = 0;
    let j = 0;
    while (i < raw.length && !run.aborted) {
      const r = raw[i];
      const g = graceful[j];
      if (g !== undefined && g.offset < r.offset) {
        if (!(await run.sleepUntil(run.start + g.offset))) break;
        applyGraceful(g.planned);
        j++;
      } else {
        if (!(await run.sleepUntil(run.start + r.offset))) break;
        applyRaw(r.planned);
        i++;
      }
    }

    // Regular end: keep applying the reservation's hard stops while VUs wind down.
    const waker = new AbortController();
    const remaining = (async () => {
      for (; j < graceful.length; j++) {
        if (!(await run.sleepUntil(run.start + graceful[j].offset, waker))) return;
        if (waker.signal.aborted) return;
        applyGraceful(graceful[j].planned);
      }
    })();
    try {
      await run.finish(() => live.idle());
    } finally {
      waker.abort();
      await remaining;
    }
  },
};
