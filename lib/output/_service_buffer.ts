/**
 * A minimal sample buffer and non-overlapping periodic flusher for the service outputs
 * (statsd, influxdb, timescaledb). Private stand-in for the shared `SampleBuffer` /
 * `PeriodicFlusher` helpers (output-extension-api.md §5); the integrator swaps it for those.
 *
 * @example
 * ```ts
 * const buffer = new ServiceBuffer(100_000);
 * const flusher = new ServiceFlusher(1000, async () => {
 *   const batch = buffer.drain();
 *   // encode and send batch
 * });
 * flusher.start();
 * buffer.add(samples);
 * await flusher.stop(); // waits for a running flush, then flushes one last time
 * ```
 * @module
 */
import type { Sample } from "../metrics/sample.ts";

/** Bounded FIFO of samples; samples over the bound are dropped and counted. */
export class ServiceBuffer {
  #items: Sample[] = [];
  #dropped = 0;
  readonly maxSamples: number;

  /** `maxSamples` bounds memory when the sink is slower than the test (default 1M samples). */
  constructor(maxSamples = 1_000_000) {
    this.maxSamples = maxSamples;
  }

  /** Appends as many samples as fit; the rest are counted in {@link dropped}. */
  add(samples: readonly Sample[]): void {
    const room = this.maxSamples - this.#items.length;
    if (samples.length <= room) {
      for (let i = 0; i < samples.length; i++) this.#items.push(samples[i]);
      return;
    }
    for (let i = 0; i < room; i++) this.#items.push(samples[i]);
    this.#dropped += samples.length - Math.max(room, 0);
  }

  /** Takes everything buffered so far (possibly an empty array). */
  drain(): Sample[] {
    const out = this.#items;
    this.#items = [];
    return out;
  }

  /** Samples refused because the buffer was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Samples currently waiting. */
  get length(): number {
    return this.#items.length;
  }
}

/**
 * Calls `flush` every `periodMs`, never twice at once: the next tick is scheduled only after
 * the previous flush settled, so a slow sink delays flushes instead of piling them up.
 * `stop()` is idempotent, waits for a running flush and then flushes one last time.
 */
export class ServiceFlusher {
  readonly #periodMs: number;
  readonly #flush: () => Promise<void>;
  readonly #onError: (err: unknown) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  constructor(
    periodMs: number,
    flush: () => Promise<void>,
    onError: (err: unknown) => void = () => {},
  ) {
    if (!(periodMs > 0)) {
      throw new RangeError(`metric flush period should be positive but was ${periodMs}ms`);
    }
    this.#periodMs = periodMs;
    this.#flush = flush;
    this.#onError = onError;
  }

  /** Starts the periodic loop. */
  start(): void {
    if (this.#stopping || this.#timer !== undefined) return;
    this.#schedule();
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#runOnce().finally(() => {
        this.#running = undefined;
        if (!this.#stopping) this.#schedule();
      });
    }, this.#periodMs);
  }

  async #runOnce(): Promise<void> {
    try {
      await this.#flush();
    } catch (err) {
      this.#onError(err);
    }
  }

  /** Stops the loop and performs the final flush; resolves when it is done. */
  stop(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = (async () => {
        if (this.#timer !== undefined) clearTimeout(this.#timer);
        this.#timer = undefined;
        if (this.#running) await this.#running;
        await this.#runOnce();
      })();
    }
    return this.#stopping;
  }
}
