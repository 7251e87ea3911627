/**
 * The real-time sample pipeline between the engine and the outputs
 * (output-extension-api.md §3–§4): starts outputs in `--out` order, batches the samples the
 * engine pushes and, every 50 ms, hands every output the same read-only batches, then stops
 * the outputs in order with the run's final error.
 *
 * Samples from the VU hosts wait as they arrived, encoded ({@link EncodedSamples}), and become
 * Sample objects only at the tick, one host batch (≤ 8192 samples) at a time: each is handed
 * to every output and the engine, and is garbage before the next is decoded. Sample objects
 * held until the tick outlived V8's young-generation collections, and one tick's worth
 * decoded at once filled whole pages that V8 then promoted: both were copied, promoted,
 * marked and compacted (`--trace-gc-nvp`, json output, 50 VUs: up to 0.75 MB promoted per
 * scavenge and 0.9–2.1 µs of main-thread scavenging per request; ~0.1 MB and 1.0–1.2 µs, with
 * a third of the mark-compacts, when batches of one host message are handed on).
 * So an output gets every sample within a tick, in one call per host message or run of
 * main-thread pushes, where k6 makes one call per tick; the calls of a tick are in order.
 *
 * Isolation: outputs only enqueue in `addMetricSamples`; an output that throws there loses
 * that batch (counted in {@link OutputManager.stats}, logged once) and the others are not
 * affected; an output whose own buffer overflows reports its drops through `stats()`. A call
 * that blocks for long is reported once, since a synchronous call cannot be pre-empted.
 *
 * @example
 * ```ts
 * const manager = new OutputManager(outputs, { logger, consumer: (s) => engine.ingest(s) });
 * await manager.start();
 * manager.push(samples); // as samples arrive
 * await manager.stop(null);
 * manager.stats(); // [{ name: "csv", droppedSamples: 0 }]
 * ```
 * @module
 */
import { errorMessage, ExitCode, SpateError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Sample } from "../metrics/sample.ts";
import type { Output, TestRunError } from "./types.ts";

/** An output together with the name it was enabled under (`--out` name or module path). */
export interface NamedOutput {
  readonly name: string;
  readonly output: Output;
}

/** Delivery accounting of one output, as {@link OutputManager.stats} reports it. */
export interface OutputDeliveryStats {
  readonly name: string;
  readonly droppedSamples: number;
  readonly note?: string;
}

/**
 * Samples not yet turned into objects (a VU host's batch as it crossed the thread boundary):
 * `decodeInto` appends exactly `count` samples to `out`, and is called once, in push order.
 */
export interface EncodedSamples {
  readonly count: number;
  decodeInto(out: Sample[]): void;
}

/** Options of an {@link OutputManager}. */
export interface OutputManagerOptions {
  readonly logger: Logger;
  /** Dispatch period in ms (k6: 50). */
  readonly dispatchIntervalMs?: number;
  /**
   * A batch reaching this many samples is dispatched at once instead of waiting for the
   * next tick, which bounds the manager's own memory without dropping anything.
   */
  readonly maxBatchSamples?: number;
  /**
   * The metrics engine's ingest hook: receives every batch after the outputs, like k6's
   * ingester pseudo-output. It is never subject to dropping.
   */
  readonly consumer?: (samples: readonly Sample[]) => void;
  /** Called when an output asks to abort the run (`setTestRunStopCallback`). */
  readonly onStopRequest?: (err: TestRunError) => void;
  /** An `addMetricSamples` call slower than this (ms) is reported once per output. */
  readonly slowCallWarnMs?: number;
}

interface Slot {
  readonly name: string;
  readonly output: Output;
  failedSamples: number;
  failures: number;
  lastError?: string;
  warnedSlow: boolean;
}

/** Fans samples out to every output; see the module documentation. */
export class OutputManager {
  readonly #slots: Slot[];
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #maxBatch: number;
  readonly #consumer?: (samples: readonly Sample[]) => void;
  readonly #onStopRequest?: (err: TestRunError) => void;
  readonly #slowMs: number;
  /** What was pushed since the last dispatch, in order: samples, or samples still encoded. */
  #parts: Array<Sample[] | EncodedSamples> = [];
  #pendingCount = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #started = false;
  #stopping: Promise<void> | undefined;
  #dispatched = 0;

  constructor(outputs: readonly NamedOutput[], options: OutputManagerOptions) {
    this.#slots = outputs.map(({ name, output }) => ({
      name,
      output,
      failedSamples: 0,
      failures: 0,
      warnedSlow: false,
    }));
    this.#logger = options.logger;
    this.#intervalMs = options.dispatchIntervalMs ?? 50;
    this.#maxBatch = options.maxBatchSamples ?? 200_000;
    this.#consumer = options.consumer;
    this.#onStopRequest = options.onStopRequest;
    this.#slowMs = options.slowCallWarnMs ?? 100;
  }

  /**
   * Starts every output in order, handing each its stop callback first. When output *i*
   * fails, outputs 0…i−1 are stopped with that error and this rejects with a
   * {@link SpateError} of kind "output" that names the failing output.
   */
  async start(): Promise<void> {
    for (let i = 0; i < this.#slots.length; i++) {
      const { name, output } = this.#slots[i];
      output.setTestRunStopCallback?.((err) => this.#stopRequested(name, err));
      try {
        await output.start();
      } catch (err) {
        const message = `could not start the '${name}' output: ${errorMessage(err)}`;
        const exitCode = err instanceof SpateError ? err.exitCode : ExitCode.Generic;
        await this.#stopOutputs(this.#slots.slice(0, i), { message, exitCode });
        throw new SpateError("output", message, { exitCode, cause: err });
      }
    }
    this.#started = true;
    this.#timer = setInterval(() => this.#dispatch(), this.#intervalMs);
  }

  /** Dispatches whatever is pending now, to the outputs and the engine (before final checks). */
  flush(): void {
    this.#dispatch();
  }

  /** Banner texts (`output: a, b`), valid after {@link OutputManager.start}. */
  descriptions(): string[] {
    return this.#slots.map(({ output }) => output.description());
  }

  /** Hands samples to the pipeline. Cheap: copies references; never blocks. */
  push(samples: readonly Sample[]): void {
    if (this.#stopping || samples.length === 0) return;
    // Appended to the last part when that is a copy of earlier pushes, else a new copy.
    const last = this.#parts.at(-1);
    const into = Array.isArray(last) ? last : [];
    if (into !== last) this.#parts.push(into);
    for (let i = 0; i < samples.length; i++) into.push(samples[i]);
    this.#added(samples.length);
  }

  /** Hands over samples still encoded; they are decoded when their batch is dispatched. */
  pushEncoded(samples: EncodedSamples): void {
    if (this.#stopping || samples.count === 0) return;
    this.#parts.push(samples);
    this.#added(samples.count);
  }

  #added(count: number): void {
    this.#pendingCount += count;
    if (this.#pendingCount >= this.#maxBatch && this.#started) this.#dispatch();
  }

  /**
   * Dispatches what is pending, then stops every output in start order with the run's final
   * error. Stop errors are logged, never thrown. Idempotent.
   */
  stop(testError: TestRunError | null): Promise<void> {
    this.#stopping ??= this.#stop(testError);
    return this.#stopping;
  }

  /** Samples dispatched so far (each counted once, however many outputs). */
  get dispatchedSamples(): number {
    return this.#dispatched;
  }

  /**
   * Per-output delivery accounting: samples the manager could not hand over (the output
   * threw) plus what the output itself reports through `stats()`.
   */
  stats(): OutputDeliveryStats[] {
    return this.#slots.map((slot) => {
      let own: { droppedSamples: number; note?: string } | undefined;
      try {
        own = slot.output.stats?.();
      } catch (err) {
        own = { droppedSamples: 0, note: `stats() failed: ${errorMessage(err)}` };
      }
      const notes: string[] = [];
      if (slot.failures > 0) {
        notes.push(
          `addMetricSamples failed ${slot.failures} time${slot.failures === 1 ? "" : "s"}: ` +
            slot.lastError,
        );
      }
      if (own?.note) notes.push(own.note);
      const droppedSamples = slot.failedSamples + (own?.droppedSamples ?? 0);
      return notes.length > 0
        ? { name: slot.name, droppedSamples, note: notes.join("; ") }
        : { name: slot.name, droppedSamples };
    });
  }

  #stopRequested(name: string, err: TestRunError): void {
    this.#logger.error("Received error to stop from output", {
      output: name,
      error: err.message,
    });
    this.#onStopRequest?.(err);
  }

  #dispatch(): void {
    if (this.#pendingCount === 0) return;
    const parts = this.#parts;
    this.#parts = [];
    this.#pendingCount = 0;
    for (const part of parts) {
      if (Array.isArray(part)) {
        this.#dispatchBatch(part);
        continue;
      }
      const batch: Sample[] = [];
      part.decodeInto(batch);
      this.#dispatchBatch(batch);
    }
  }

  #dispatchBatch(batch: readonly Sample[]): void {
    this.#dispatched += batch.length;
    for (const slot of this.#slots) this.#deliver(slot, batch);
    if (this.#consumer) {
      try {
        this.#consumer(batch);
      } catch (err) {
        this.#logger.error(`metrics engine failed to ingest samples: ${errorMessage(err)}`);
      }
    }
  }

  #deliver(slot: Slot, batch: readonly Sample[]): void {
    const began = performance.now();
    try {
      slot.output.addMetricSamples(batch);
    } catch (err) {
      slot.failures++;
      slot.failedSamples += batch.length;
      slot.lastError = errorMessage(err);
      if (slot.failures === 1) {
        this.#logger.error(
          `output '${slot.name}' failed to accept samples; they are dropped and counted`,
          { error: slot.lastError },
        );
      }
    }
    const took = performance.now() - began;
    if (took > this.#slowMs && !slot.warnedSlow) {
      slot.warnedSlow = true;
      this.#logger.warn(
        `output '${slot.name}' blocked the sample pipeline for ${Math.round(took)}ms; ` +
          "addMetricSamples should only buffer",
      );
    }
  }

  async #stop(testError: TestRunError | null): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (!this.#started) return;
    this.#dispatch();
    await this.#stopOutputs(this.#slots, testError);
  }

  async #stopOutputs(slots: readonly Slot[], testError: TestRunError | null): Promise<void> {
    for (let i = 0; i < slots.length; i++) {
      try {
        await slots[i].output.stop(testError);
      } catch (err) {
        this.#logger.error(`Stopping output ${i} failed`, {
          output: slots[i].name,
          error: errorMessage(err),
        });
      }
    }
  }
}
