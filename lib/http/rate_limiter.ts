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
import { interruptibleDelay } from "../vu/state.ts";

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
    return interruptibleDelay(at - now, signal);
  }
}

/**
 * The same bucket shared by every VU host Worker: the next free slot (epoch microseconds) lives
 * in a SharedArrayBuffer and is reserved with compare-and-swap, so the cap holds for the whole
 * run however the VUs are spread.
 */
export class SharedRpsLimiter implements RateLimiter {
  readonly #next: BigInt64Array;
  readonly #intervalUs: bigint;

  /** `buffer` is 8 bytes from {@link SharedRpsLimiter.buffer}, shared by all hosts. */
  constructor(buffer: SharedArrayBuffer, rps: number) {
    this.#next = new BigInt64Array(buffer);
    this.#intervalUs = BigInt(Math.max(1, Math.round(1e6 / rps)));
  }

  /** A buffer for the shared slot. */
  static buffer(): SharedArrayBuffer {
    return new SharedArrayBuffer(8);
  }

  wait(signal: AbortSignal): Promise<void> {
    // Epoch-based, so that every Worker's clock agrees.
    const now = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
    for (;;) {
      const cur = Atomics.load(this.#next, 0);
      const at = cur > now ? cur : now;
      if (Atomics.compareExchange(this.#next, 0, cur, at + this.#intervalUs) === cur) {
        return interruptibleDelay(Number(at - now) / 1000, signal);
      }
    }
  }
}
