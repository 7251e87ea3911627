/**
 * Test kit for executors: a virtual clock (tests run in milliseconds of real time no matter
 * how long the scenario), the real clock for timing contracts, a fake VU pool whose
 * iterations take a configurable time, and a recording ExecutorContext.
 * @module
 */
import { setImmediate } from "node:timers";
import type { ScenarioConfig } from "../../lib/config/types.ts";
import type {
  ActiveVU,
  ExecutorContext,
  IterationOutcome,
  VUPool,
} from "../../lib/executor/types.ts";

/** What executors use of time. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** performance.now() and setTimeout, with abortable sleeps. */
export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const onAbort = () => {
        clearTimeout(id);
        resolve();
      };
      const id = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

interface Timer {
  at: number;
  seq: number;
  fire(): void;
}

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Virtual time: `now()` only moves when {@link VirtualClock.run} finds nothing left to do but
 * wait, then it jumps to the earliest pending sleep. Sleeps with equal deadlines wake in the
 * order they were made.
 */
export class VirtualClock implements Clock {
  #t = 0;
  #seq = 0;
  #timers: Timer[] = [];
  /** Number of timers fired so far (a cheap measure of scheduler wake-ups). */
  wakeups = 0;

  now = (): number => this.#t;

  sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const onAbort = () => {
        const i = this.#timers.indexOf(timer);
        if (i >= 0) this.#timers.splice(i, 1);
        resolve();
      };
      const timer: Timer = {
        at: this.#t + Math.max(0, ms),
        seq: this.#seq++,
        fire: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      this.#insert(timer);
      signal?.addEventListener("abort", onAbort, { once: true });
    });

  #insert(timer: Timer): void {
    const ts = this.#timers;
    let lo = 0;
    let hi = ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = ts[mid];
      if (m.at < timer.at || (m.at === timer.at && m.seq < timer.seq)) lo = mid + 1;
      else hi = mid;
    }
    ts.splice(lo, 0, timer);
  }

  /** Pending sleeps. */
  get pending(): number {
    return this.#timers.length;
  }

  /**
   * Runs `work` to completion on virtual time. `at` callbacks run when virtual time reaches
   * them (for aborting or sampling mid-run).
   */
  async run<T>(work: () => Promise<T>, at: Array<[number, () => void]> = []): Promise<T> {
    for (const [t, fn] of at) this.#insert({ at: t, seq: this.#seq++, fire: fn });
    let settled = false;
    let failed = false;
    let value: T | undefined;
    let error: unknown;
    work().then(
      (v) => {
        settled = true;
        value = v;
      },
      (e) => {
        settled = true;
        failed = true;
        error = e;
      },
    );
    for (;;) {
      // One macrotask hop drains every microtask: afterwards only sleeps can make progress.
      await immediate();
      if (settled) break;
      const next = this.#timers.shift();
      if (!next) throw new Error(`virtual clock deadlock at t=${this.#t}: nothing scheduled`);
      if (next.at > this.#t) this.#t = next.at;
      this.wakeups++;
      next.fire();
    }
    // Fire leftover callbacks scheduled with `at` so nothing dangles; drop stray sleeps.
    this.#timers = [];
    if (failed) throw error;
    return value as T;
  }
}

/** One iteration as the fake pool saw it. */
export interface IterationRecord {
  vu: number;
  scenario: string;
  start: number;
  end: number;
  outcome: IterationOutcome;
}

/** How long iteration `n` (0-based, per VU) of VU `vu` takes, in ms. */
export type IterationTime = number | ((vu: number, n: number, scenario: string) => number);

export interface FakePoolOptions {
  clock: Clock;
  /** VUs initialised before the test. */
  vus: number;
  /** Default 100 ms. */
  iterationMs?: IterationTime;
  /** Time initAndAcquire takes; default 50 ms. */
  initMs?: number;
}

/** A VU of the fake pool. */
export class FakeVU implements ActiveVU {
  readonly id: number;
  scenario: string | undefined;
  iterations = 0;
  #ac: AbortController | undefined;
  readonly #pool: FakePool;

  constructor(id: number, pool: FakePool) {
    this.id = id;
    this.#pool = pool;
  }

  async runIteration(): Promise<IterationOutcome> {
    const pool = this.#pool;
    if (this.scenario === undefined) throw new Error(`VU ${this.id} runs an iteration while idle`);
    if (this.#ac) throw new Error(`VU ${this.id} runs two iterations at once`);
    const clock = pool.clock;
    const scenario = this.scenario;
    const n = this.iterations++;
    const ms = typeof pool.iterationMs === "number"
      ? pool.iterationMs
      : pool.iterationMs(this.id, n, scenario);
    const ac = new AbortController();
    this.#ac = ac;
    const start = clock.now();
    pool.running++;
    pool.peakRunning = Math.max(pool.peakRunning, pool.running);
    await clock.sleep(ms, ac.signal);
    pool.running--;
    this.#ac = undefined;
    const outcome: IterationOutcome = ac.signal.aborted ? "interrupted" : "complete";
    pool.iterations.push({ vu: this.id, scenario, start, end: clock.now(), outcome });
    return outcome;
  }

  interrupt(): void {
    this.#ac?.abort();
  }
}

/** A VU pool whose iterations sleep on `clock`; checks that executors use it correctly. */
export class FakePool implements VUPool {
  readonly clock: Clock;
  readonly iterationMs: IterationTime;
  readonly initMs: number;
  readonly iterations: IterationRecord[] = [];
  /** VUs created by initAndAcquire, in order. */
  readonly grown: number[] = [];
  running = 0;
  peakRunning = 0;
  #idle: FakeVU[] = [];
  #active = new Set<FakeVU>();
  #count = 0;

  constructor(opts: FakePoolOptions) {
    this.clock = opts.clock;
    this.iterationMs = opts.iterationMs ?? 100;
    this.initMs = opts.initMs ?? 50;
    for (let i = 0; i < opts.vus; i++) this.#idle.push(new FakeVU(++this.#count, this));
  }

  get initialized(): number {
    return this.#count;
  }

  /** VUs currently activated for some scenario. */
  get activeCount(): number {
    return this.#active.size;
  }

  tryAcquire(scenario: ScenarioConfig): ActiveVU | undefined {
    const vu = this.#idle.shift();
    if (!vu) return undefined;
    return this.#activate(vu, scenario);
  }

  async initAndAcquire(scenario: ScenarioConfig): Promise<ActiveVU> {
    await this.clock.sleep(this.initMs);
    const vu = new FakeVU(++this.#count, this);
    this.grown.push(vu.id);
    return this.#activate(vu, scenario);
  }

  #activate(vu: FakeVU, scenario: ScenarioConfig): FakeVU {
    vu.scenario = scenario.name;
    this.#active.add(vu);
    return vu;
  }

  release(vu: ActiveVU): void {
    const fake = vu as FakeVU;
    if (!this.#active.delete(fake)) throw new Error(`VU ${vu.id} released twice or never acquired`);
    fake.scenario = undefined;
    // Keep idle VUs ordered by id so acquisition is deterministic.
    let i = 0;
    while (i < this.#idle.length && this.#idle[i].id < fake.id) i++;
    this.#idle.splice(i, 0, fake);
  }

  /** Iterations of `scenario` (all when omitted) with `outcome` (any when omitted). */
  count(scenario?: string, outcome?: IterationOutcome): number {
    let n = 0;
    for (const r of this.iterations) {
      if (
        (scenario === undefined || r.scenario === scenario) && (!outcome || r.outcome === outcome)
      ) {
        n++;
      }
    }
    return n;
  }
}

/** One dropped_iterations sample. */
export interface DroppedRecord {
  count: number;
  vuId?: number;
  at: number;
}

/** An ExecutorContext that records everything the executor reports. */
export class FakeContext implements ExecutorContext {
  readonly pool: FakePool;
  readonly abortSignal: AbortSignal;
  readonly clock: Clock;
  readonly dropped: DroppedRecord[] = [];
  readonly warnings: string[] = [];
  /** [time, active VUs after the change] */
  readonly activeSeries: Array<[number, number]> = [];
  active = 0;
  complete = 0;
  interrupted = 0;

  constructor(pool: FakePool, abortSignal: AbortSignal = new AbortController().signal) {
    this.pool = pool;
    this.clock = pool.clock;
    this.abortSignal = abortSignal;
  }

  emitDropped(count: number, vuId?: number): void {
    this.dropped.push(
      vuId === undefined ? { count, at: this.now() } : { count, vuId, at: this.now() },
    );
  }

  activeVUsChanged(delta: number): void {
    this.active += delta;
    if (this.active < 0) throw new Error("active VUs went negative");
    this.activeSeries.push([this.now(), this.active]);
  }

  iterationEnded(outcome: IterationOutcome): void {
    if (outcome === "complete") this.complete++;
    else this.interrupted++;
  }

  warn(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message);
  }

  now(): number {
    return this.clock.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.clock.sleep(ms, signal);
  }

  /** Active VUs at time `t` (after all changes at exactly `t`). */
  activeAt(t: number): number {
    let v = 0;
    for (const [at, n] of this.activeSeries) {
      if (at > t) break;
      v = n;
    }
    return v;
  }

  /** Sum of dropped_iterations values. */
  get droppedTotal(): number {
    return this.dropped.reduce((s, d) => s + d.count, 0);
  }
}

const base = { startTime: 0, gracefulStop: 30_000, exec: "default", env: {}, tags: {} };

/** A scenario config with k6's defaults for the fields not given. */
export function scenario<K extends ScenarioConfig["executor"]>(
  executor: K,
  fields: Partial<Omit<Extract<ScenarioConfig, { executor: K }>, "executor">>,
): Extract<ScenarioConfig, { executor: K }> {
  const defaults: Record<string, Record<string, unknown>> = {
    "shared-iterations": { vus: 1, iterations: 1, maxDuration: 600_000 },
    "per-vu-iterations": { vus: 1, iterations: 1, maxDuration: 600_000 },
    "constant-vus": { vus: 1, duration: 0 },
    "ramping-vus": { startVUs: 1, stages: [], gracefulRampDown: 30_000 },
    "constant-arrival-rate": { rate: 1, timeUnit: 1000, duration: 0, preAllocatedVUs: 0 },
    "ramping-arrival-rate": { startRate: 0, timeUnit: 1000, stages: [], preAllocatedVUs: 0 },
  };
  const cfg: Record<string, unknown> = {
    name: "default",
    ...base,
    executor,
    ...defaults[executor],
    ...fields,
  };
  if (
    (executor === "constant-arrival-rate" || executor === "ramping-arrival-rate") &&
    fields["maxVUs" as keyof typeof fields] === undefined
  ) {
    cfg.maxVUs = cfg.preAllocatedVUs;
  }
  return cfg as unknown as Extract<ScenarioConfig, { executor: K }>;
}

/** A fresh, non-aborted progress object. */
export function newProgress(): { fraction: number; detail: string } {
  return { fraction: 0, detail: "" };
}
