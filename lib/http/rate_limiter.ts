/**
 * The `rps` option (runner.md §2.5): a request-per-second cap shared by the VUs that hold the
 * same limiter, as a token bucket with burst 1 (one request every 1000/rps ms at most).
 * Across Workers the integrator supplies an implementation over shared memory with the same
 * interface.
 *
 * @example
 * ```ts
 * const limiter = new RpsLimiter(100);
 * await limiter.wait(new AbortController().signal); // resolves at most 100 times per second
 * ```
 * @module
 */
import { InterruptedError } from "../vu/state.ts";

/** Waits for permission to send one request. */
export interface RateLimiter {
  /** Resolves when a request may start; rejects with InterruptedError when `signal` aborts. */
  wait(signal: AbortSignal): Promise<void>;
}

/** In-process token bucket with burst 1. */
export class RpsLimiter implements RateLimiter {
  readonly #interval: number;
  #next = 0;

  constructor(rps: number) {
    this.#interval = 1000 / rps;
  }

  wait(signal: AbortSignal): Promise<void> {
    const now = performance.now();
    const at = Math.max(now, this.#next);
    this.#next = at + this.#interval;
    const delay = at - now;
    if (delay <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(new InterruptedError());
      };
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, delay);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
