/**
 * The two helpers every output is built from (output-extension-api.md §5): a bounded
 * {@link SampleBuffer} that `addMetricSamples` appends to, and a {@link PeriodicFlusher} that
 * drains it on a timer. A typical output is:
 *
 * @example
 * ```ts
 * const buffer = new SampleBuffer({ maxSamples: 1_000_000, name: "mine", logger });
 * let flusher: PeriodicFlusher | undefined;
 * const output: Output = {
 *   description: () => "mine",
 *   start: () => {
 *     flusher = new PeriodicFlusher(1000, async () => {
 *       const samples = buffer.drain();
 *       if (samples.length > 0) await send(samples);
 *     });
 *     return Promise.resolve();
 *   },
 *   addMetricSamples: (samples) => buffer.add(samples),
 *   stop: async () => await flusher?.stop(), // the final flush happens inside stop()
 *   stats: () => ({ droppedSamples: buffer.dropped }),
 * };
 * ```
 * @module
 */
import { formatDuration } from "../config/duration.ts";
import { errorMessage, invalidConfig } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Sample } from "../metrics/sample.ts";

/** Options of a {@link SampleBuffer}. */
export interface SampleBufferOptions {
  /**
   * Most samples held between two drains (default 1,000,000, about 8 MB of references per
   * output). Samples that arrive while the buffer is full are dropped and counted.
   */
  readonly maxSamples?: number;
  /** Used to warn once, when the first sample is dropped. */
  readonly logger?: Logger;
  /** The output's name, for that warning. */
  readonly name?: string;
}

/**
 * Holds samples between flushes. Bounded: when full, newly added samples are dropped and
 * counted in {@link SampleBuffer.dropped} (and one warning is logged), so a slow output costs
 * a known number of samples instead of unbounded memory.
 *
 * @example
 * ```ts
 * const buffer = new SampleBuffer({ maxSamples: 2 });
 * buffer.add([a, b, c]);
 * buffer.drain(); // [a, b]
 * buffer.dropped; // 1
 * ```
 */
export class SampleBuffer {
  readonly maxSamples: number;
  #samples: Sample[] = [];
  #dropped = 0;
  #warned = false;
  readonly #logger?: Logger;
  readonly #name: string;

  constructor(options: SampleBufferOptions = {}) {
    const max = options.maxSamples ?? 1_000_000;
    if (!(max > 0)) throw invalidConfig(`sample buffer size should be positive but was ${max}`);
    this.maxSamples = max;
    this.#logger = options.logger;
    this.#name = options.name ?? "output";
  }

  /** Appends samples (references only; samples are immutable). Never blocks. */
  add(samples: readonly Sample[]): void {
    const buffered = this.#samples;
    const room = this.maxSamples - buffered.length;
    const n = samples.length;
    const take = n <= room ? n : room;
    // A plain loop: push(...samples) overflows the stack for large batches.
    for (let i = 0; i < take; i++) buffered.push(samples[i]);
    if (take < n) this.#drop(n - take);
  }

  /** Takes every buffered sample, oldest first, leaving the buffer empty. */
  drain(): Sample[] {
    const out = this.#samples;
    if (out.length > 0) this.#samples = [];
    else return [];
    return out;
  }

  /** How many samples are waiting. */
  get length(): number {
    return this.#samples.length;
  }

  /** Samples dropped because the buffer was full, since the start. */
  get dropped(): number {
    return this.#dropped;
  }

  #drop(n: number): void {
    this.#dropped += n;
    if (!this.#warned) {
      this.#warned = true;
      this.#logger?.warn(
        `${this.#name}: sample buffer is full (${this.maxSamples} samples); ` +
          "dropping samples until the output catches up",
      );
    }
  }
}

/** Options of a {@link PeriodicFlusher}. */
export interface PeriodicFlusherOptions {
  /**
   * Called with an error thrown by a periodic (not the final) callback run. Default: log it
   * through `logger` when given, else write one line to stderr. The flusher keeps running.
   */
  readonly onError?: (err: unknown) => void;
  readonly logger?: Logger;
}

/**
 * Calls `flush` every `periodMs` milliseconds, starting now, and one last time on
 * {@link PeriodicFlusher.stop}. Runs never overlap: a tick that comes while `flush` is still
 * running (an async flush that takes longer than the period) is skipped, and the next run
 * starts one period after the slow one finished.
 *
 * @example
 * ```ts
 * const flusher = new PeriodicFlusher(200, async () => await writeOut(buffer.drain()));
 * // ... later, in Output.stop():
 * await flusher.stop(); // waits for a running flush, then flushes once more
 * ```
 */
export class PeriodicFlusher {
  readonly periodMs: number;
  readonly #flush: () => void | Promise<void>;
  readonly #onError: (err: unknown) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #again = false;

  /** Throws when `periodMs` is not positive (k6: "metric flush period should be positive"). */
  constructor(
    periodMs: number,
    flush: () => void | Promise<void>,
    options: PeriodicFlusherOptions = {},
  ) {
    if (!(periodMs > 0)) {
      throw invalidConfig(
        `metric flush period should be positive but was ${
          Number.isFinite(periodMs) ? formatDuration(periodMs) : String(periodMs)
        }`,
      );
    }
    this.periodMs = periodMs;
    this.#flush = flush;
    const logger = options.logger;
    this.#onError = options.onError ??
      ((err) => {
        const msg = `periodic flush failed: ${errorMessage(err)}`;
        if (logger) logger.error(msg);
        else console.error(msg);
      });
    this.#schedule();
  }

  /** True once {@link PeriodicFlusher.stop} was called. */
  get stopped(): boolean {
    return this.#stopping !== undefined;
  }

  /**
   * Stops the timer, waits for a running flush, then runs `flush` one last time. Idempotent:
   * every call returns the same promise. Rejects when that final flush throws. Must not be
   * awaited from inside `flush` (it would wait for itself).
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#finish();
    return this.#stopping;
  }

  async #finish(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#running) await this.#running;
    await this.#flush();
  }

  /**
   * Asks for a flush as soon as possible: now, or right after the running one. The period
   * restarts after it. For outputs whose buffer passed a high-water mark: writing early keeps
   * memory low and the buffer from overflowing. No effect once stopped.
   */
  requestFlush(): void {
    if (this.#stopping) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#schedule(0);
  }

  #schedule(ms = this.periodMs): void {
    this.#timer = setTimeout(() => this.#tick(), ms);
  }

  #tick(): void {
    this.#timer = undefined;
    if (this.#stopping) return;
    this.#running = this.#runOnce().finally(() => {
      this.#running = undefined;
      if (this.#stopping) return;
      const again = this.#again;
      this.#again = false;
      this.#schedule(again ? 0 : this.periodMs);
    });
  }

  async #runOnce(): Promise<void> {
    try {
      await this.#flush();
    } catch (err) {
      this.#onError(err);
    }
  }
}
