/**
 * A bounded sample buffer and a non-overlapping periodic flusher for the services outputs
 * (output-extension-api.md §5). Private stand-ins: the integrator will switch these outputs to the
 * shared `lib/output/helpers.ts` (SampleBuffer, PeriodicFlusher) once it lands.
 *
 * @example
 * ```ts
 * const buffer = new BoundedSampleBuffer(100_000);
 * const flusher = new NonOverlappingFlusher(1000, async () => {
 *   const samples = buffer.drain();
 *   // ... write samples ...
 * });
 * flusher.start();
 * buffer.add(batch);
 * await flusher.stop(); // runs the callback one last time
 * ```
 * @module
 */
import { invalidConfig } from "../errors.ts";
import type { Sample } from "../metrics/sample.ts";

/**
 * Holds samples between flushes. When more than `maxSamples` are waiting the newest batch is
 * dropped (and counted) instead of letting memory grow without bound while a server is slow.
 */
export class BoundedSampleBuffer {
  readonly maxSamples: number;
  #chunks: (readonly Sample[])[] = [];
  #size = 0;
  #dropped = 0;

  constructor(maxSamples: number) {
    this.maxSamples = maxSamples;
  }

  /** Enqueues a batch (kept by reference: batches are read-only). Never blocks. */
  add(samples: readonly Sample[]): void {
    if (samples.length === 0) return;
    if (this.#size + samples.length > this.maxSamples) {
      this.#dropped += samples.length;
      return;
    }
    this.#chunks.push(samples);
    this.#size += samples.length;
  }

  /** Takes every buffered batch, oldest first. */
  drain(): (readonly Sample[])[] {
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#size = 0;
    return chunks;
  }

  /** Samples waiting now. */
  get size(): number {
    return this.#size;
  }

  /** Samples refused because the buffer was full. */
  get dropped(): number {
    return this.#dropped;
  }
}

/**
 * Calls `flush` every `periodMs`, never two at once: a tick that finds the previous flush still
 * running is skipped (and reported through `onOverrun`), so a slow server cannot pile up
 * requests. `stop()` waits for a running flush, then runs one final flush.
 */
export class NonOverlappingFlusher {
  readonly periodMs: number;
  readonly #flush: () => Promise<void>;
  readonly #onOverrun?: (tookMs: number) => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(
    periodMs: number,
    flush: () => Promise<void>,
    onOverrun?: (tookMs: number) => void,
  ) {
    if (!(periodMs > 0)) {
      throw invalidConfig(`metric flush period should be positive but was ${periodMs}ms`);
    }
    this.periodMs = periodMs;
    this.#flush = flush;
    this.#onOverrun = onOverrun;
  }

  /** Starts ticking. */
  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setInterval(() => this.#tick(), this.periodMs);
  }

  #tick(): void {
    if (this.#running) return;
    const began = performance.now();
    this.#running = this.#flush().catch(() => {}).finally(() => {
      this.#running = undefined;
      const took = performance.now() - began;
      if (took > this.periodMs) this.#onOverrun?.(took);
    });
  }

  /** Stops ticking, waits for a running flush and runs the last one. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) {
      await this.#running;
      return;
    }
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    while (this.#running) await this.#running;
    const last = this.#flush();
    this.#running = last.catch(() => {});
    try {
      await last;
    } finally {
      this.#running = undefined;
    }
  }
}
