/**
 * What an executor needs from the rest of the runner, and what it gives back. Executors only
 * decide *when* iterations start and stop; VUs run them (lib/vu/), samples are emitted by the
 * VU pool and by {@link ExecutorContext.emitDropped}.
 * @module
 */
import type { ScenarioConfig } from "../config/types.ts";

/** How an iteration ended. */
export type IterationOutcome = "complete" | "interrupted";

/** A VU activated for one scenario. */
export interface ActiveVU {
  /** `__VU`, 1-based. */
  readonly id: number;
  /**
   * Runs one iteration of the scenario's exec function; resolves when it has ended (an
   * exception inside the iteration counts as complete and is logged by the VU pool).
   */
  runIteration(): Promise<IterationOutcome>;
  /**
   * Hard-stops the running iteration: pending `sleep`/HTTP calls end at once and the
   * iteration resolves as "interrupted". No-op when idle.
   */
  interrupt(): void;
  /**
   * Ends the VU where it stands, with the VU host it runs in, when an interrupt went unheard
   * (a script that never yields, like `while (true) {}`): its iteration resolves as
   * "interrupted". The host's other VUs end too.
   */
  kill?(reason: string): void;
  /**
   * Whether the VU's host answers within `ms`: false when its thread is stuck in script code
   * that never yields.
   */
  responsive?(ms: number): Promise<boolean>;
}

/** The shared pool of initialised VUs (runner.md §4.1: VUs move between scenarios). */
export interface VUPool {
  /**
   * Takes an idle initialised VU and activates it for `scenario` (env, tags). Returns
   * undefined when none is idle.
   */
  tryAcquire(scenario: ScenarioConfig): ActiveVU | undefined;
  /** Initialises one more VU (arrival-rate growth up to maxVUs) and activates it. */
  initAndAcquire(scenario: ScenarioConfig): Promise<ActiveVU>;
  /** Deactivates the VU and returns it to the idle pool. */
  release(vu: ActiveVU): void;
  /** VUs initialised so far (vus_max). */
  readonly initialized: number;
}

/** Progress of one scenario for the live progress line. */
export interface ScenarioProgress {
  /** 0..1 */
  fraction: number;
  /** Executor-specific text, e.g. "07/10 VUs  0m12.3s/0m30s". */
  detail: string;
}

/** Everything an executor's `run` receives. */
export interface ExecutorContext {
  readonly pool: VUPool;
  /** Aborted when the whole test must stop now (abort, abortOnFail, SIGINT): interrupt all. */
  readonly abortSignal: AbortSignal;
  /** Emits a `dropped_iterations` sample for this scenario (vuId for per-vu-iterations). */
  emitDropped(count: number, vuId?: number): void;
  /** Reports a change in the number of VUs this scenario has running (for `vus`). */
  activeVUsChanged(delta: number): void;
  /** Called for each finished iteration (complete or interrupted), for the progress line. */
  iterationEnded(outcome: IterationOutcome): void;
  /** Logs a warning once per distinct message. */
  warn(message: string): void;
  /** Monotonic milliseconds (performance.now() scale); injectable for tests. */
  now(): number;
  /** Sleeps `ms` or until aborted; injectable for tests. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** One executor type: planning facts and the run loop. */
export interface Executor<C extends ScenarioConfig = ScenarioConfig> {
  /** Peak VUs this scenario needs at any moment (initialised before the test). */
  maxVUs(config: C): number;
  /** VUs to initialise up front (preAllocatedVUs for arrival-rate, else maxVUs). */
  initVUs(config: C): number;
  /** Longest the scenario can take from its own start, graceful periods included (ms). */
  maxDuration(config: C): number;
  /** k6's description line, e.g. "10 looping VUs for 30s (gracefulStop: 30s)". */
  description(config: C): string;
  /** Runs the scenario to its end. Never rejects for iteration errors. */
  run(config: C, ctx: ExecutorContext, progress: ScenarioProgress): Promise<void>;
}
