/**
 * The metrics pipelines of the cloud output: what turns samples into request bodies. The v2
 * pipeline aggregates per (bucket, series) and encodes protobuf + snappy (§5); the v1 pipeline
 * (v1.ts) builds gzipped JSON sample arrays (§12). The output (mod.ts) only schedules them and
 * sends their {@link Payload}s.
 *
 * @example
 * ```ts
 * const p = new V2Pipeline({ periodMs: 3000, waitMs: 8000, maxSeries: 1000, testRunId: "1" });
 * p.add(samples);
 * p.collect(Date.now(), false);
 * for (const payload of p.takePayloads()) console.log(payload.body.length);
 * ```
 * @module
 */
import type { Sample } from "../../metrics/sample.ts";
import { snappyCompress } from "../_snappy.ts";
import { Aggregator } from "./aggregation.ts";
import { idempotencyKey } from "./client.ts";
import { encodeMetricSet } from "./proto.ts";

/** One request body, ready to push (and to re-push with the same key after a failure). */
export interface Payload {
  readonly protocol: 1 | 2;
  readonly body: Uint8Array;
  /** Idempotency key: generated once, reused for every retry of this body. */
  readonly key: string;
  /** Samples aggregated into the body (what is lost if it is never delivered). */
  readonly samples: number;
  /** Distinct series (v2) or sample objects (v1) in the body. */
  readonly series: number;
  /** v1 only: JSON sample objects, uncompressed length, whether gzipped. */
  readonly v1?: { sampleCount: number; rawLength: number; gzipped: boolean };
}

/** What the output needs from a protocol implementation. */
export interface MetricsPipeline {
  /** Per-sample path: must be O(1) per sample. */
  add(samples: readonly Sample[]): void;
  /** Periodic collection; `final` closes everything (stop). */
  collect(nowMs: number, final: boolean): void;
  /** Pops everything ready to send, encoded. */
  takePayloads(): Payload[];
  /** Samples accepted but not yet turned into payloads. */
  pendingSamples(): number;
  /** Period of `collect` calls, ms. */
  readonly collectIntervalMs: number;
}

/** Options of {@link V2Pipeline}. */
export interface V2PipelineOptions {
  periodMs: number;
  waitMs: number;
  maxSeries: number;
  testRunId: string;
  onReservedTag?: (name: string) => void;
}

/** The v2 protocol: aggregation + protobuf + snappy block. */
export class V2Pipeline implements MetricsPipeline {
  readonly aggregator: Aggregator;
  readonly #maxSeries: number;
  readonly collectIntervalMs: number;

  constructor(opts: V2PipelineOptions) {
    this.aggregator = new Aggregator({
      periodMs: opts.periodMs,
      waitMs: opts.waitMs,
      testRunId: opts.testRunId,
      onReservedTag: opts.onReservedTag,
    });
    this.#maxSeries = opts.maxSeries;
    this.collectIntervalMs = opts.periodMs;
  }

  add(samples: readonly Sample[]): void {
    this.aggregator.add(samples);
  }

  collect(nowMs: number, final: boolean): void {
    if (final) this.aggregator.closeAll();
    else this.aggregator.collect(nowMs);
  }

  takePayloads(): Payload[] {
    return this.aggregator.takeBatches(this.#maxSeries).map((batch) => ({
      protocol: 2,
      body: snappyCompress(encodeMetricSet(batch.set)),
      key: idempotencyKey(),
      samples: batch.sampleCount,
      series: batch.seriesCount,
    }));
  }

  pendingSamples(): number {
    return this.aggregator.pendingSamples();
  }
}
