/**
 * Runs all scenarios of a test (runner.md §3.1 step 8): each starts at its `startTime` after
 * {@link Scheduler.run} begins; they run concurrently; the run ends when every scenario has
 * finished, graceful stops included. Also the live progress block of runner.md §4.9.
 *
 * @example
 * ```ts
 * const scheduler = new Scheduler(config.scenarios, deps);
 * const timer = setInterval(() => print(renderProgress(scheduler.progress(), counters())), 1000);
 * try { await scheduler.run(); } finally { clearInterval(timer); }
 * ```
 * @module
 */
import type { ScenarioConfig } from "../config/types.ts";
import type { ExecutorContext, VUPool } from "./types.ts";
import {
  fixedLengthDuration,
  type LiveScenarioProgress,
  padInt,
  type PlannedExecutor,
  type ScenarioStatus,
} from "./_run.ts";
import { executionPlan, executors, hasWork, sortScenarios } from "./plan.ts";

/** What the scheduler needs from the runner. */
export interface SchedulerDeps {
  /** The shared pool of initialised VUs. */
  pool: VUPool;
  /** The context one scenario's executor runs with (its abortSignal is combined with ours). */
  makeContext(scenario: ScenarioConfig): ExecutorContext;
  /** Aborted when the test must stop now (test.abort, abortOnFail, SIGINT). */
  abortSignal: AbortSignal;
  /** Monotonic ms. */
  now(): number;
  /** Sleeps `ms` or until `signal` is aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** One scenario's line of the progress block. */
export interface ScenarioSnapshot {
  /** The scenario's name. */
  name: string;
  /** 0..1 */
  fraction: number;
  /** Columns separated by two spaces, e.g. "07/10 VUs  0m12.3s/1m00.0s". */
  detail: string;
  /** waiting (before startTime), running, stopping (graceful stop), done or interrupted. */
  status: ScenarioStatus;
}

/** The state of the scenarios phase at one moment. */
export interface ProgressSnapshot {
  /** Since {@link Scheduler.run} began (0 before). */
  elapsedMs: number;
  /** The plan's longest duration (fixes the width of the elapsed time). */
  maxDurationMs: number;
  /** The plan's max VUs (fixes the width of VU counts). */
  maxVUs: number;
  /** Scenarios that have work, in (startTime, name) order. */
  scenarios: ScenarioSnapshot[];
}

interface Entry {
  config: ScenarioConfig;
  progress: LiveScenarioProgress | undefined;
  status: ScenarioStatus;
}

/** Starts scenarios at their startTime and tracks their progress. */
export class Scheduler {
  readonly #deps: SchedulerDeps;
  readonly #entries: Entry[];
  readonly #maxDurationMs: number;
  readonly #maxVUs: number;
  #start: number | undefined;

  /** Plans `scenarios` (any order; run in (startTime, name) order); starts nothing yet. */
  constructor(scenarios: readonly ScenarioConfig[], deps: SchedulerDeps) {
    this.#deps = deps;
    const sorted = sortScenarios(scenarios);
    const plan = executionPlan(sorted);
    this.#maxDurationMs = plan.maxDurationMs;
    this.#maxVUs = plan.maxVUs;
    // k6 neither runs nor shows scenarios without work.
    this.#entries = sorted.filter(hasWork).map((config) => ({
      config,
      progress: undefined,
      status: "waiting",
    }));
  }

  /**
   * Runs every scenario; resolves when all have ended. Rejects with the first executor
   * error (after stopping the other scenarios at once), never for iteration errors.
   */
  async run(): Promise<void> {
    const deps = this.#deps;
    this.#start = deps.now();
    const stopAll = new AbortController();
    const onAbort = () => stopAll.abort(deps.abortSignal.reason);
    if (deps.abortSignal.aborted) onAbort();
    else deps.abortSignal.addEventListener("abort", onAbort, { once: true });
    let firstError: unknown;
    let failed = false;
    try {
      await Promise.all(
        this.#entries.map((e) =>
          this.#runOne(e, this.#start!, stopAll.signal).catch((err) => {
            if (!failed) {
              failed = true;
              firstError = err;
            }
            stopAll.abort(err);
          })
        ),
      );
    } finally {
      deps.abortSignal.removeEventListener("abort", onAbort);
    }
    if (failed) throw firstError;
  }

  async #runOne(entry: Entry, start: number, stop: AbortSignal): Promise<void> {
    const deps = this.#deps;
    const config = entry.config;
    const at = start + config.startTime;
    while (!stop.aborted && deps.now() < at) {
      const ac = new AbortController();
      const wake = () => ac.abort();
      stop.addEventListener("abort", wake, { once: true });
      try {
        await deps.sleep(at - deps.now(), ac.signal);
      } catch {
        // an aborted sleep may reject; `stop` says what happened
      } finally {
        stop.removeEventListener("abort", wake);
      }
    }
    if (stop.aborted) {
      entry.status = "interrupted";
      return;
    }
    const ctx = deps.makeContext(config);
    const progress: LiveScenarioProgress = { fraction: 0, detail: "started", status: "running" };
    entry.progress = progress;
    entry.status = "running";
    const executor = executors[config.executor] as unknown as PlannedExecutor<ScenarioConfig>;
    try {
      await executor.run(config, withSignal(ctx, stop), progress);
    } finally {
      entry.status = progress.status === "running" || progress.status === undefined
        ? (stop.aborted ? "interrupted" : "done")
        : progress.status;
    }
  }

  /** The progress of every scenario right now (cheap enough for a 100 ms redraw). */
  progress(): ProgressSnapshot {
    const now = this.#deps.now();
    const elapsed = this.#start === undefined ? 0 : now - this.#start;
    const scenarios = this.#entries.map((e): ScenarioSnapshot => {
      const p = e.progress;
      if (p === undefined) {
        const left = Math.max(0, e.config.startTime - elapsed);
        return {
          name: e.config.name,
          fraction: 0,
          detail: e.status === "waiting"
            ? `waiting  ${fixedLengthDuration(left, e.config.startTime)}`
            : "",
          status: e.status,
        };
      }
      return {
        name: e.config.name,
        fraction: p.fraction,
        detail: p.detail,
        status: p.status ?? e.status,
      };
    });
    return {
      elapsedMs: elapsed,
      maxDurationMs: this.#maxDurationMs,
      maxVUs: this.#maxVUs,
      scenarios,
    };
  }
}

/** The context `ctx` with `signal` as its abort signal (and ctx's own signal still honoured). */
function withSignal(ctx: ExecutorContext, signal: AbortSignal): ExecutorContext {
  let abortSignal = signal;
  if (ctx.abortSignal !== signal) abortSignal = AbortSignal.any([signal, ctx.abortSignal]);
  return {
    pool: ctx.pool,
    abortSignal,
    emitDropped: ctx.emitDropped.bind(ctx),
    activeVUsChanged: ctx.activeVUsChanged.bind(ctx),
    iterationEnded: ctx.iterationEnded.bind(ctx),
    warn: ctx.warn.bind(ctx),
    now: ctx.now.bind(ctx),
    sleep: ctx.sleep.bind(ctx),
  };
}

/**
 * Runs `scenarios` to their end (see {@link Scheduler}); use the class when the progress
 * line is wanted.
 * @example
 * ```ts
 * await runScenarios(config.scenarios, deps);
 * ```
 */
export function runScenarios(
  scenarios: readonly ScenarioConfig[],
  deps: SchedulerDeps,
): Promise<void> {
  return new Scheduler(scenarios, deps).run();
}

/** Run-wide counters for the first progress line. */
export interface RenderProgressOptions {
  /** VUs active now (`vus`). */
  vus: number;
  /** VUs initialised (`vus_max`). */
  vusMax: number;
  /** Complete iterations so far, all scenarios. */
  complete: number;
  /** Interrupted iterations so far, all scenarios. */
  interrupted: number;
  /** Overrides the snapshot's elapsed time (k6 counts from before setup()). */
  elapsedMs?: number;
  /** Draw k6's terminal bar (`[=====>-----]`, 40 wide) instead of the `[ 45% ]` text form. */
  bar?: boolean;
}

/** Width of the terminal bar, brackets included (k6's default). */
const barWidth = 40;

/**
 * k6's terminal bar for `fraction` (0..1): `=` for the part done, `>` at its head while
 * unfinished, `-` for the rest.
 *
 * @example
 * ```ts
 * progressBar(0.5); // "[==================>-------------------]"
 * ```
 */
export function progressBar(fraction: number): string {
  const space = barWidth - 2;
  const filled = Math.floor(space * Math.min(1, Math.max(0, fraction)));
  const done = filled === 0
    ? ""
    : filled < space
    ? "=".repeat(filled - 1) + ">"
    : "=".repeat(space);
  return `[${done}${"-".repeat(space - filled)}]`;
}

const statusGlyph: Record<ScenarioStatus, string> = {
  waiting: "•",
  running: " ",
  stopping: "↓",
  done: "✓",
  interrupted: "✗",
};

/** k6 caps the scenario-name column at this width. */
const maxLeft = 30;

/**
 * The progress block as k6 prints it on a non-TTY (percentages instead of bars): a run line
 * and one line per scenario, right-hand columns aligned across scenarios.
 * @example
 * ```ts
 * renderProgress(scheduler.progress(), { vus: 7, vusMax: 10, complete: 150, interrupted: 0 });
 * // ["running (0m12.3s), 07/10 VUs, 150 complete and 0 interrupted iterations",
 * //  "default   [  45% ] 10 VUs  0m13.5s/30s"]
 * ```
 */
export function renderProgress(
  snapshot: ProgressSnapshot,
  opts: RenderProgressOptions,
): string[] {
  const elapsed = opts.elapsedMs ?? snapshot.elapsedMs;
  const width = Math.max(snapshot.maxVUs, opts.vusMax);
  const lines = [
    `running (${fixedLengthDuration(elapsed, snapshot.maxDurationMs)}), ` +
    `${padInt(opts.vus, width)}/${padInt(opts.vusMax, width)} VUs, ` +
    `${opts.complete} complete and ${opts.interrupted} interrupted iterations`,
  ];
  let left = 0;
  for (const s of snapshot.scenarios) left = Math.max(left, s.name.length);
  left = Math.min(left, maxLeft);
  const cols = snapshot.scenarios.map((s) => (s.detail === "" ? [] : s.detail.split("  ")));
  // Every column but a bar's last is padded to the widest of its kind (k6 aligns two).
  const colWidth = [0, 0];
  for (const c of cols) {
    for (let i = 0; i < c.length - 1 && i < colWidth.length; i++) {
      colWidth[i] = Math.max(colWidth[i], c[i].length);
    }
  }
  snapshot.scenarios.forEach((s, k) => {
    const name = s.name.length > left ? s.name.slice(0, left - 1) + "…" : s.name.padEnd(left);
    const fraction = Math.min(1, Math.max(0, s.fraction));
    const bar = opts.bar
      ? progressBar(fraction)
      : `[ ${String(Math.round(fraction * 100)).padStart(3)}% ]`;
    let right = "";
    cols[k].forEach((c, i) => {
      right += " " + c.padEnd((colWidth[i] ?? 0) + 1);
    });
    lines.push(`${name} ${statusGlyph[s.status]} ${bar}${right}`.trimEnd());
  });
  return lines;
}
