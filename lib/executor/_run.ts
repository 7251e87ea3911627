/**
 * Machinery every executor shares: the life of one scenario run (regular duration, graceful
 * stop, hard stop, abort), planned-VU acquisition, live progress and the k6-style formatting
 * helpers used by descriptions and progress details.
 *
 * Timing is always computed against absolute target times on `ctx.now()`; sleeps only bridge
 * the gap to the next target, so late wake-ups never accumulate.
 * @module
 */
import type { ScenarioConfig } from "../config/types.ts";
import { formatDuration } from "../config/duration.ts";
import { errorMessage, SpateError } from "../errors.ts";
import type {
  ActiveVU,
  Executor,
  ExecutorContext,
  IterationOutcome,
  ScenarioProgress,
} from "./types.ts";

/**
 * One step of an execution plan (k6's ExecutionStep): from `offset` (ms from the scenario's
 * start) on, the scenario reserves `planned` pre-initialised VUs and may initialise up to
 * `unplanned` more.
 */
export interface ExecutionStep {
  /** ms from the scenario's start (from the test's start in combined plans). */
  readonly offset: number;
  /** VUs initialised before the test and reserved from `offset` on. */
  readonly planned: number;
  /** VUs the scenario may initialise mid-test (arrival-rate growth up to maxVUs). */
  readonly unplanned: number;
}

/**
 * An {@link Executor} plus the planning facts {@link executionPlan} combines across scenarios.
 * @example
 * ```ts
 * constantVUs.executionSteps(cfg); // [{offset: 0, planned: 10, unplanned: 0}, {offset: 60000, ...}]
 * ```
 */
export interface PlannedExecutor<C extends ScenarioConfig> extends Executor<C> {
  /** VU reservation over the scenario's own time line (startTime not included). */
  executionSteps(config: C): ExecutionStep[];
  /** False when the scenario has nothing to do and is skipped (runner.md §4.1). */
  hasWork(config: C): boolean;
}

/** Where a scenario is, as shown by the progress bar's status glyph. */
export type ScenarioStatus = "waiting" | "running" | "stopping" | "done" | "interrupted";

/** {@link ScenarioProgress} as executors fill it in: live getters plus a status. */
export interface LiveScenarioProgress extends ScenarioProgress {
  /** Set by the executor once it runs; absent before. */
  status?: ScenarioStatus;
}

/** Largest planned VUs in `steps`. */
export function maxPlanned(steps: readonly ExecutionStep[]): number {
  let m = 0;
  for (const s of steps) if (s.planned > m) m = s.planned;
  return m;
}

/** Largest planned + unplanned VUs in `steps`. */
export function maxPossible(steps: readonly ExecutionStep[]): number {
  let m = 0;
  for (const s of steps) if (s.planned + s.unplanned > m) m = s.planned + s.unplanned;
  return m;
}

/** Offset of the last step: when the plan ends. */
export function endOffset(steps: readonly ExecutionStep[]): number {
  return steps.length === 0 ? 0 : steps[steps.length - 1].offset;
}

/** Derives maxVUs/initVUs/maxDuration of {@link Executor} from `executionSteps`. */
export function planFacts<C extends ScenarioConfig>(
  steps: (config: C) => ExecutionStep[],
): Pick<Executor<C>, "maxVUs" | "initVUs" | "maxDuration"> {
  return {
    maxVUs: (c) => maxPossible(steps(c)),
    initVUs: (c) => maxPlanned(steps(c)),
    maxDuration: (c) => endOffset(steps(c)),
  };
}

/**
 * The parenthesised facts k6 appends to every description: executor-specific facts, then
 * `exec` (when not the default function), `startTime` (when > 0) and `gracefulStop` (when > 0).
 * k6 prints `exec` whenever it was set explicitly; the consolidated config no longer knows
 * that, so `exec: default` written out by hand is not echoed.
 */
export function baseInfo(config: ScenarioConfig, ...facts: string[]): string {
  if (config.exec !== "default") facts.push(`exec: ${config.exec}`);
  if (config.startTime > 0) facts.push(`startTime: ${formatDuration(config.startTime)}`);
  if (config.gracefulStop > 0) facts.push(`gracefulStop: ${formatDuration(config.gracefulStop)}`);
  return facts.length === 0 ? "" : ` (${facts.join(", ")})`;
}

/** Zero-pads `n` to the number of digits of `max` (k6's GetFixedLengthIntFormat). */
export function padInt(n: number, max: number): string {
  const width = String(Math.trunc(Math.abs(max))).length + (max < 0 ? 1 : 0);
  return String(n).padStart(width, "0");
}

/** Formats `v` with 2 decimals, zero-padded to the width `max` needs (GetFixedLengthFloatFormat). */
export function padFloat2(v: number, max: number): string {
  let width = 1;
  let m = max;
  if (m < 0) {
    m = -m;
    width++;
  }
  if (m >= 10) width += Math.floor(Math.log10(m));
  width += 3;
  return v.toFixed(2).padStart(width, "0");
}

/**
 * A duration with a width fixed by `maxMs`, rounded to 100 ms (k6's GetFixedLengthDuration):
 * `5.2s`, `05.2s`, `0m05.2s`, `00m05.2s`, `0h00m05.2s`, ...
 */
export function fixedLengthDuration(ms: number, maxMs: number): string {
  const d = Math.abs(ms);
  let max = Math.abs(maxMs);
  if (max < d) max = d;
  max = Math.round(max / 100) * 100;
  let u = Math.round(d / 100);
  const tenths = u % 10;
  u = Math.floor(u / 10);
  const s1 = u % 10;
  u = Math.floor(u / 10);
  let out = `${s1}.${tenths}s`;
  if (max < 10_000) return out;
  out = `${u % 6}${out}`;
  u = Math.floor(u / 6);
  if (max < 60_000) return out;
  out = `${u % 10}m${out}`;
  u = Math.floor(u / 10);
  if (max < 600_000) return out;
  out = `${u % 6}${out}`;
  u = Math.floor(u / 6);
  if (max < 3_600_000) return out;
  const h = u % 24;
  u = Math.floor(u / 24);
  if (max < 36_000_000) return `${h % 10}h${out}`;
  out = `${String(h).padStart(2, "0")}h${out}`;
  if (max < 86_400_000) return out;
  let days = String(u);
  const dayDigits = String(Math.floor(max / 86_400_000)).length;
  days = days.padStart(dayDigits, "0");
  return `${days}d${out}`;
}

/** Per-executor progress: fraction 0..1 and the detail columns. */
export type ProgressFn = () => [fraction: number, columns: string[]];

/**
 * Takes `scenario`'s share of planned VUs from the pool. VUs are normally idle (the plan
 * reserved them), but a scenario ending at this instant may still be handing them back, so
 * wait for up to 5 × 400 ms like k6 does, warning at each step. Returns undefined when aborted.
 */
export async function acquirePlanned(
  config: ScenarioConfig,
  ctx: ExecutorContext,
  cancelled: () => boolean,
): Promise<ActiveVU | undefined> {
  const first = ctx.pool.tryAcquire(config);
  if (first) return first;
  const step = 400;
  const poll = 5;
  for (let i = 1; i <= 5; i++) {
    const until = ctx.now() + step;
    while (ctx.now() < until) {
      if (cancelled() || ctx.abortSignal.aborted) return undefined;
      await ctx.sleep(Math.min(poll, until - ctx.now()), ctx.abortSignal);
      const vu = ctx.pool.tryAcquire(config);
      if (vu) return vu;
    }
    ctx.warn(`Could not get a VU from the buffer for ${formatDuration(i * step)}`);
  }
  throw new SpateError(
    "internal",
    `scenario ${config.name}: could not get a VU from the buffer in ${formatDuration(5 * step)}`,
  );
}

/** Counts things in flight and resolves waiters when the count drops to zero. */
export class InFlight {
  #count = 0;
  #waiters: Array<() => void> = [];
  get count(): number {
    return this.#count;
  }
  inc(): void {
    this.#count++;
  }
  dec(): void {
    if (--this.#count === 0 && this.#waiters.length > 0) {
      const ws = this.#waiters;
      this.#waiters = [];
      for (const w of ws) w();
    }
  }
  /** Resolves once nothing is in flight (at once when already so). */
  idle(): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/**
 * The life of one scenario run. Executors start work, then call {@link finish} with a promise
 * of their workers' completion; ScenarioRun ends the regular period at `regularMs`, gives
 * in-flight iterations `gracefulStopMs`, then interrupts them. An aborted `ctx.abortSignal`
 * interrupts everything at once.
 */
export class ScenarioRun {
  readonly ctx: ExecutorContext;
  readonly name: string;
  /** Absolute start on the ctx clock. */
  readonly start: number;
  readonly regularMs: number;
  readonly gracefulStopMs: number;
  /** No new iterations may start (regular end, hard stop or abort). */
  regularOver = false;
  aborted = false;
  status: ScenarioStatus = "running";
  /** First unexpected failure from the VU pool; rethrown by {@link finish}. */
  error: unknown = undefined;

  readonly #running = new Set<ActiveVU>();
  readonly #sleepers = new Set<AbortController>();
  readonly #onAbort = () => this.#abort();
  #progressFn: ProgressFn = () => [0, ["started"]];
  #frozen: [number, string] | undefined;

  constructor(
    config: ScenarioConfig,
    ctx: ExecutorContext,
    regularMs: number,
    gracefulStopMs: number,
  ) {
    this.name = config.name;
    this.ctx = ctx;
    this.start = ctx.now();
    this.regularMs = regularMs;
    this.gracefulStopMs = gracefulStopMs;
    if (ctx.abortSignal.aborted) this.#abort();
    else ctx.abortSignal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Milliseconds since the scenario started. */
  elapsed(): number {
    return this.ctx.now() - this.start;
  }

  /** Absolute time of the regular end. */
  get regularEnd(): number {
    return this.start + this.regularMs;
  }

  /**
   * Installs live getters on `progress` (computed only when someone reads them, so the
   * iteration hot path never formats strings).
   */
  bindProgress(progress: ScenarioProgress, fn: ProgressFn): void {
    this.#progressFn = fn;
    const read = (): [number, string] => {
      if (this.#frozen) return this.#frozen;
      const [f, cols] = this.#progressFn();
      return [Math.min(1, Math.max(0, f)), cols.join("  ")];
    };
    Object.defineProperties(progress, {
      fraction: { get: () => read()[0], configurable: true, enumerable: true },
      detail: { get: () => read()[1], configurable: true, enumerable: true },
      status: { get: () => this.status, configurable: true, enumerable: true },
    });
  }

  #freeze(): void {
    const [f, cols] = this.#progressFn();
    this.#frozen = [Math.min(1, Math.max(0, f)), cols.join("  ")];
  }

  /** Runs one iteration on `vu`, tracking it so a hard stop can interrupt it. */
  async iterate(vu: ActiveVU): Promise<IterationOutcome> {
    this.#running.add(vu);
    let outcome: IterationOutcome;
    try {
      outcome = await vu.runIteration();
    } catch (err) {
      // The pool promised not to reject; if it does, end the scenario and report it.
      this.error ??= err;
      outcome = "interrupted";
      if (!this.regularOver) {
        this.regularOver = true;
        queueMicrotask(() => this.hardStop());
      }
    } finally {
      this.#running.delete(vu);
    }
    this.ctx.iterationEnded(outcome);
    return outcome;
  }

  /** Sleeps until absolute time `t`; false when the run was aborted meanwhile. */
  async sleepUntil(t: number, waker?: AbortController): Promise<boolean> {
    if (this.aborted) return false;
    if (waker?.signal.aborted) return true;
    const d = t - this.ctx.now();
    if (d <= 0) return true;
    const ac = waker ?? new AbortController();
    this.#sleepers.add(ac);
    try {
      await this.ctx.sleep(d, ac.signal);
    } catch {
      // an aborted sleep may reject; the flags say what happened
    } finally {
      this.#sleepers.delete(ac);
    }
    return !this.aborted;
  }

  /** Waits for `done` or absolute time `t`, whichever first; true when `done` settled. */
  async waitFor(done: Promise<unknown>, t: number): Promise<boolean> {
    let settled = false;
    const ac = new AbortController();
    const mark = () => {
      settled = true;
      ac.abort();
    };
    done.then(mark, mark);
    await this.sleepUntil(t, ac);
    if (!settled) await Promise.resolve(); // let an already-settled `done` report in
    return settled;
  }

  /**
   * May a looping VU start another iteration? Also checks the clock, so a VU pool whose
   * iterations resolve without yielding to timers cannot keep a scenario past its end.
   */
  canStart(): boolean {
    return !this.regularOver && this.ctx.now() < this.start + this.regularMs;
  }

  /** Ends the regular period: no new iterations; in-flight ones continue. */
  endRegular(): void {
    if (this.regularOver && this.status !== "running") return;
    this.regularOver = true;
    if (!this.aborted && this.gracefulStopMs > 0 && this.status === "running") {
      this.#freeze(); // k6 freezes the bar while stopping
      this.status = "stopping";
    }
  }

  /** Interrupts every running iteration. */
  hardStop(): void {
    this.regularOver = true;
    for (const vu of this.#running) vu.interrupt();
  }

  /**
   * Drives the end of the scenario: waits for `workersDone` until the regular end, then for
   * the graceful stop, then interrupts what is left and waits for it to unwind.
   */
  async finish(workersDone: () => Promise<unknown>): Promise<void> {
    try {
      if (!(await this.waitFor(workersDone(), this.regularEnd))) {
        this.endRegular();
        const hardEnd = this.regularEnd + this.gracefulStopMs;
        if (!(await this.waitFor(workersDone(), hardEnd))) {
          this.hardStop();
          await this.#unwind(workersDone);
        }
      }
    } finally {
      this.close();
    }
    if (this.error !== undefined) {
      throw this.error instanceof SpateError ? this.error : new SpateError(
        "internal",
        `scenario ${this.name}: ${errorMessage(this.error)}`,
        { cause: this.error },
      );
    }
  }

  /**
   * Waits for interrupted iterations to end. A VU only hears an interrupt when it waits (k6
   * would stop it mid-statement), so every {@link unwindMs} the hosts of the VUs still running
   * are asked to answer; a host that doesn't is stuck in script code that never yields (an
   * endless loop) and is ended. Hosts that answer are only slow, and are waited for.
   */
  async #unwind(workersDone: () => Promise<unknown>): Promise<void> {
    const done = workersDone();
    let warned = false;
    while (!(await this.waitFor(done, this.ctx.now() + unwindMs))) {
      const vus = [...this.#running];
      const answers = await Promise.all(vus.map((vu) => vu.responsive?.(unwindMs) ?? true));
      const stuck = vus.filter((_, i) => !answers[i]);
      if (stuck.length === 0) continue;
      const reason = `scenario ${this.name}: an iteration did not stop within ` +
        `${formatDuration(unwindMs)} of being interrupted and its VU host did not answer (a ` +
        "script that never yields, like an endless loop), so the host was ended";
      if (!warned) this.ctx.warn(reason);
      warned = true;
      for (const vu of stuck) vu.kill?.(reason);
    }
  }

  /** Final bookkeeping: freezes progress, sets the status, detaches from the abort signal. */
  close(): void {
    if (this.status === "done" || this.status === "interrupted") return;
    this.#frozen = undefined;
    this.#freeze();
    this.status = this.aborted || this.#frozen![0] < 1 ? "interrupted" : "done";
    this.ctx.abortSignal.removeEventListener("abort", this.#onAbort);
  }

  #abort(): void {
    this.aborted = true;
    this.hardStop();
    for (const ac of this.#sleepers) ac.abort();
  }
}

/** How long interrupted iterations get to end before their VU host is ended. */
const unwindMs = 3000;

/**
 * Acquires `n` planned VUs one after another and starts `loop` on each; VUs are counted as
 * active (`vus`) from acquisition until `loop` ends and they are released. Returns the loops'
 * promises. An acquisition failure is recorded on `run` and stops the scenario.
 */
export async function startLoops(
  run: ScenarioRun,
  config: ScenarioConfig,
  n: number,
  loop: (vu: ActiveVU) => Promise<void>,
): Promise<Promise<void>[]> {
  const { ctx } = run;
  const loops: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    let vu: ActiveVU | undefined;
    try {
      vu = await acquirePlanned(config, ctx, () => run.regularOver);
    } catch (err) {
      run.error ??= err;
      run.hardStop();
      break;
    }
    if (!vu) break;
    ctx.activeVUsChanged(1);
    const active = vu;
    loops.push(
      loop(active).finally(() => {
        ctx.pool.release(active);
        ctx.activeVUsChanged(-1);
      }),
    );
  }
  return loops;
}
