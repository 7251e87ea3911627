/**
 * The per-VU state that the k6 modules (lib/js/) work against. A VU host creates one per VU;
 * modules never reach past it into the scheduler or the engine.
 * @module
 */
import type { HttpConfig } from "../config/types.ts";
import type { Logger } from "../log.ts";
import type { Metric, MetricRegistry } from "../metrics/metric.ts";

/** Where the VU is in its life (runner.md §3.2: what is allowed where). */
export type VUStage = "init" | "setup" | "iteration" | "teardown" | "summary";

/** Thrown into a VU's pending calls when its iteration is hard-stopped. */
export class InterruptedError extends Error {
  constructor() {
    super("iteration interrupted");
    this.name = "InterruptedError";
  }
}

/**
 * Resolves after `ms` (at once when ≤ 0); rejects with {@link InterruptedError} when `signal`
 * aborts first (or already has). The one timer behind `sleep()` and the `rps` limiter.
 */
export function interruptibleDelay(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new InterruptedError());
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new InterruptedError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** True for promises and other thenables (what script functions may return). */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === "object" || typeof v === "function") &&
    typeof (v as { then?: unknown }).then === "function";
}

/** State of one VU, shared by the k6 modules it imports. */
export interface VUState {
  /** `__VU` (0 for the options pass, setup, teardown and summary VUs). */
  readonly id: number;
  /** `__ITER` of the running iteration (0-based; -1 before the first). */
  iteration: number;
  stage: VUStage;
  /** Current scenario name ("" outside a scenario). */
  scenario: string;
  /** Current group path ("" at the root, "::a::b" nested), kept even when the tag is off. */
  group: string;
  /**
   * Tags every sample of this VU carries right now: run tags + scenario tags + `scenario` +
   * `group` + exec.vu.tags (runner.md §5.4). Mutated by group() and exec.vu.tags; never
   * mutate an object you did not create: replace `tags` instead.
   */
  tags: Readonly<Record<string, string>>;
  /** Enabled system tags. */
  readonly systemTags: ReadonlySet<string>;
  readonly http: HttpConfig;
  /** `throw` option: network errors throw instead of returning a failed response. */
  readonly throwErrors: boolean;
  readonly registry: MetricRegistry;
  readonly logger: Logger;
  /** Aborted when the current iteration is hard-stopped; replaced for each iteration. */
  signal: AbortSignal;
  /**
   * Emits samples that share one time, tag set and metadata (e.g. an HTTP trail).
   * `time` is Unix epoch ms (see lib/metrics/sample.ts).
   */
  emit(
    tags: Readonly<Record<string, string>>,
    time: number,
    values: ReadonlyArray<readonly [Metric, number]>,
    metadata?: Readonly<Record<string, string>>,
  ): void;
  /** Counts bytes moved on this VU's connections (emitted as data_sent/data_received). */
  addDataSent(bytes: number): void;
  addDataReceived(bytes: number): void;
  /** Metadata for samples (`vu`, `iter` when those system tags are enabled), or undefined. */
  metadata(): Readonly<Record<string, string>> | undefined;
}
