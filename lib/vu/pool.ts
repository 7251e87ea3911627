/**
 * The shared VU pool (runner.md §4.1) over one or more VU host Workers: VUs are initialised
 * up front (or on demand for arrival-rate growth), spread over the hosts, and handed to
 * executors one activation at a time.
 *
 * @example
 * ```ts
 * const pool = new HostPool(hosts);
 * await pool.initVUs(10);
 * const vu = pool.tryAcquire(scenario);
 * ```
 * @module
 */
import type { ScenarioConfig } from "../config/types.ts";
import type { ActiveVU, IterationOutcome, VUPool } from "../executor/types.ts";
import type { VUHost } from "./host.ts";
import { progressBasis } from "../executor/plan.ts";

/** A VUPool whose VUs live in VU host Workers. */
export class HostPool implements VUPool {
  readonly hosts: VUHost[];
  /** Worker-per-VU mode: makes the host of each new VU. */
  readonly #hostPerVU?: () => Promise<VUHost>;
  readonly #hostOf = new Map<number, VUHost>();
  readonly #idle: number[] = [];
  readonly #iterations = new Map<string, number>();
  readonly #scenarioStart = new Map<string, number>();
  #nextId = 1;
  #initialized = 0;
  /** VUs currently running an iteration (for the `vus` metric). */
  running = 0;
  /** Set by {@link HostPool.stopStarting}: new iterations wait for it, then don't run. */
  #held?: Promise<void>;

  /**
   * Graceful stop (first SIGINT): iterations already running go on; new ones are held until
   * `release` settles (the run's abort) and then end as interrupted without running.
   */
  stopStarting(release: Promise<void>): void {
    this.#held = release;
  }

  constructor(hosts: VUHost[], hostPerVU?: () => Promise<VUHost>) {
    this.hosts = hosts;
    this.#hostPerVU = hostPerVU;
  }

  get initialized(): number {
    return this.#initialized;
  }

  /** Initialises `count` VUs, spread evenly over the hosts. Rejects on the first init error. */
  async initVUs(count: number): Promise<void> {
    const inits: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      inits.push(
        this.#initOne().then((id) => {
          this.#idle.push(id);
        }),
      );
    }
    await Promise.all(inits);
    // Hand out VUs in id order, as k6 does.
    this.#idle.sort((a, b) => b - a);
  }

  tryAcquire(scenario: ScenarioConfig): ActiveVU | undefined {
    const id = this.#idle.pop();
    if (id === undefined) return undefined;
    return this.#activate(id, scenario);
  }

  async initAndAcquire(scenario: ScenarioConfig): Promise<ActiveVU> {
    const id = await this.#initOne();
    return this.#activate(id, scenario);
  }

  release(vu: ActiveVU): void {
    this.#idle.push(vu.id);
  }

  async #initOne(): Promise<number> {
    const id = this.#nextId++;
    let host = this.hosts[0];
    if (this.#hostPerVU) {
      host = await this.#hostPerVU();
      this.hosts.push(host);
    } else {
      for (const h of this.hosts) if (h.vuCount < host.vuCount) host = h;
    }
    this.#hostOf.set(id, host);
    await host.initVU(id);
    this.#initialized++;
    return id;
  }

  #activate(id: number, scenario: ScenarioConfig): ActiveVU {
    const host = this.#hostOf.get(id)!;
    let start = this.#scenarioStart.get(scenario.name);
    if (start === undefined) this.#scenarioStart.set(scenario.name, start = Date.now());
    host.activate(id, {
      name: scenario.name,
      executor: scenario.executor,
      exec: scenario.exec,
      env: scenario.env,
      tags: scenario.tags,
      startTime: start,
      progress: progressBasis(scenario),
    });
    const runIteration = async (): Promise<IterationOutcome> => {
      if (this.#held) {
        await this.#held;
        return "interrupted";
      }
      const n = this.#iterations.get(scenario.name) ?? 0;
      this.#iterations.set(scenario.name, n + 1);
      this.running++;
      try {
        return await host.run(id, n);
      } finally {
        this.running--;
      }
    };
    return {
      id,
      runIteration,
      interrupt: () => host.interrupt(id),
      kill: (reason) => host.kill(reason),
      responsive: (ms) => host.responsive(ms),
    };
  }
}
