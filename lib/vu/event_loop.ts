/**
 * A VU's event loop, as k6 runs one per VU: the script's timers (`setTimeout`, `setInterval`,
 * also from `k6/timers`) and other pending work (an open `k6/websockets` socket) keep the
 * iteration going after the exported function returns; the iteration ends once nothing is
 * pending. Many VUs share one isolate here, so each VU gets its own timer functions, bound
 * to its loop (the script transform declares them for the script, lib/script/transform.ts).
 *
 * A callback that throws (or whose promise rejects) ends the iteration with that error, and
 * an interrupted iteration cancels whatever is pending.
 *
 * @example
 * ```ts
 * const loop = new VUEventLoop();
 * loop.setTimeout(() => console.log("later"), 100);
 * await loop.idle(); // after the callback ran
 * ```
 * @module
 */
import { isThenable } from "./state.ts";

type Callback = (...args: unknown[]) => unknown;

interface Timer {
  handle: ReturnType<typeof setTimeout>;
  interval: boolean;
}

/** The timer functions a script sees. */
export interface VUTimers {
  setTimeout(fn: unknown, ms?: unknown, ...args: unknown[]): number;
  clearTimeout(id: unknown): void;
  setInterval(fn: unknown, ms?: unknown, ...args: unknown[]): number;
  clearInterval(id: unknown): void;
}

/** See the module documentation. */
export class VUEventLoop {
  readonly #timers = new Map<number, Timer>();
  /** Work other than timers (sockets) and timer callbacks whose promise hasn't settled. */
  #holds = 0;
  #nextId = 1;
  #error: { err: unknown } | undefined;
  #wake: (() => void) | undefined;
  /** Bumped by clear(): callbacks from before it no longer count. */
  #epoch = 0;
  /** The functions scripts call, bound to this loop. */
  readonly timers: VUTimers;

  constructor() {
    this.timers = {
      setTimeout: (fn, ms, ...args) => this.#add(fn, ms, args, false),
      setInterval: (fn, ms, ...args) => this.#add(fn, ms, args, true),
      clearTimeout: (id) => this.#cancel(id),
      clearInterval: (id) => this.#cancel(id),
    };
  }

  /** Whether timers or other work are pending. */
  get pending(): boolean {
    return this.#timers.size > 0 || this.#holds > 0;
  }

  /**
   * Keeps the loop (and so the iteration) going until the returned function is called, once.
   * `fail(err)` ends the iteration with an error instead.
   */
  hold(): { release(): void; fail(err: unknown): void } {
    const epoch = this.#epoch;
    this.#holds++;
    let done = false;
    const end = () => {
      if (done || epoch !== this.#epoch) return false;
      done = true;
      this.#holds--;
      return true;
    };
    return {
      release: () => {
        if (end()) this.#check();
      },
      fail: (err) => {
        if (end()) this.#fail(err);
      },
    };
  }

  /**
   * Resolves once nothing is pending; rejects with the first error a callback threw. The
   * caller races it with the iteration's abort signal and calls {@link clear} after.
   */
  idle(): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.#error) {
          const { err } = this.#error;
          this.#error = undefined;
          this.#wake = undefined;
          reject(err);
        } else if (!this.pending) {
          this.#wake = undefined;
          resolve();
        }
      };
      this.#wake = check;
      check();
    });
  }

  /** Cancels every timer and forgets every hold (the iteration is over). */
  clear(): void {
    // The common case, after every iteration: nothing was left, nothing to cancel.
    if (this.#timers.size === 0 && this.#holds === 0 && !this.#error && !this.#wake) return;
    for (const t of this.#timers.values()) clearTimeout(t.handle);
    this.#timers.clear();
    this.#holds = 0;
    this.#error = undefined;
    this.#wake = undefined;
    this.#epoch++;
  }

  #add(fn: unknown, ms: unknown, args: unknown[], interval: boolean): number {
    if (typeof fn !== "function") {
      throw new TypeError(`${interval ? "setInterval" : "setTimeout"}'s callback isn't a function`);
    }
    const delay = Math.max(0, Number(ms) || 0);
    const id = this.#nextId++;
    const epoch = this.#epoch;
    const run = () => {
      if (epoch !== this.#epoch) return;
      if (!interval) this.#timers.delete(id);
      let result: unknown;
      try {
        result = (fn as Callback)(...args);
      } catch (err) {
        this.#fail(err);
        return;
      }
      if (isThenable(result)) {
        const hold = this.hold();
        result.then(() => hold.release(), (err) => hold.fail(err));
      }
      this.#check();
    };
    const handle = interval ? setInterval(run, delay) : setTimeout(run, delay);
    this.#timers.set(id, { handle, interval });
    return id;
  }

  #cancel(id: unknown): void {
    const t = this.#timers.get(Number(id));
    if (!t) return;
    if (t.interval) clearInterval(t.handle);
    else clearTimeout(t.handle);
    this.#timers.delete(Number(id));
    this.#check();
  }

  #fail(err: unknown): void {
    if (!this.#error) this.#error = { err };
    for (const t of this.#timers.values()) clearTimeout(t.handle);
    this.#timers.clear();
    this.#check();
  }

  #check(): void {
    this.#wake?.();
  }
}
