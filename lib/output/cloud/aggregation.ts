/**
 * v2 aggregation of the cloud output (outputs-cloud.md §5.3–§5.6): samples are aggregated per
 * (time bucket of `aggregationPeriod`, series = (metric, TagSet)); buckets older than the wait
 * period are closed and queued; the queue is cut into `MetricSet` messages of at most
 * `maxTimeSeriesInBatch` distinct series.
 *
 * Samples are aggregated as they arrive rather than buffered until the next collection tick
 * (k6 buffers, then aggregates every period). The result is the same — a bucket is only
 * closed at a collection tick, with the same cutoff — but memory is bounded by the number of
 * open (bucket, series) pairs instead of by the sample rate, and `add` is O(1) per sample:
 * one Map lookup by TagSet identity (tag sets are interned) plus a per-series cache of the
 * current bucket's aggregate.
 *
 * @example
 * ```ts
 * const agg = new Aggregator({ periodMs: 3000, waitMs: 8000 });
 * agg.add(samples);
 * agg.collect(Date.now());            // close old buckets
 * const batches = agg.takeBatches(1000); // MetricSet bodies, ready to encode
 * ```
 * @module
 */
import type { Metric, MetricType } from "../../metrics/metric.ts";
import type { Sample } from "../../metrics/sample.ts";
import type { TagSet } from "../../metrics/tags.ts";
import { TrendHistogram } from "./histogram.ts";
import { encodeLabels, type WireMetric, type WireMetricSet, type WireValue } from "./proto.ts";

/** Sum of the bucket. */
export class CounterAggregate {
  samples = 0;
  sum = 0;
  add(v: number): void {
    this.samples++;
    this.sum += v;
  }
  wire(): WireValue {
    return { kind: "counter", value: this.sum };
  }
}

/** Last, count, min, max, avg. `max` starts at 0 (k6 quirk, §5.4): all-negative → max 0. */
export class GaugeAggregate {
  samples = 0;
  last = 0;
  min = Number.MAX_VALUE;
  max = 0;
  sum = 0;
  add(v: number): void {
    this.samples++;
    this.last = v;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }
  wire(): WireValue {
    return {
      kind: "gauge",
      last: this.last,
      count: this.samples,
      min: this.min,
      max: this.max,
      avg: this.sum / this.samples,
    };
  }
}

/** Total and non-zero counts. */
export class RateAggregate {
  samples = 0;
  nonzero = 0;
  add(v: number): void {
    this.samples++;
    if (v !== 0) this.nonzero++;
  }
  wire(): WireValue {
    return { kind: "rate", nonzeroCount: this.nonzero, totalCount: this.samples };
  }
}

/** The trend histogram, counting samples for delivery accounting. */
export class TrendAggregate {
  readonly hist = new TrendHistogram();
  get samples(): number {
    return this.hist.count;
  }
  add(v: number): void {
    this.hist.add(v);
  }
  wire(): WireValue {
    return { kind: "trend", hdr: this.hist.toWire() };
  }
}

/** Any per-(bucket, series) aggregate. */
export type Aggregate = CounterAggregate | GaugeAggregate | RateAggregate | TrendAggregate;

function newAggregate(type: MetricType): Aggregate {
  switch (type) {
    case "counter":
      return new CounterAggregate();
    case "gauge":
      return new GaugeAggregate();
    case "rate":
      return new RateAggregate();
    case "trend":
      return new TrendAggregate();
  }
}

/** A time series: one metric with one exact tag set, and its labels encoded once. */
export class Series {
  readonly metric: Metric;
  readonly tags: TagSet;
  readonly labels: ReadonlyArray<readonly [string, string]>;
  #encoded?: Uint8Array;
  // Cache of the open bucket this series last wrote to (saves a Map lookup per sample).
  lastBucket: Bucket | undefined;
  lastAggregate: Aggregate | undefined;

  constructor(metric: Metric, tags: TagSet, labels: ReadonlyArray<readonly [string, string]>) {
    this.metric = metric;
    this.tags = tags;
    this.labels = labels;
  }

  get encodedLabels(): Uint8Array {
    return this.#encoded ??= encodeLabels(this.labels);
  }
}

/** One time bucket: its start (seconds) and an aggregate per series. */
export class Bucket {
  readonly id: number;
  /** Bucket start, Unix seconds. */
  readonly time: number;
  readonly aggregates = new Map<Series, Aggregate>();
  closed = false;
  constructor(id: number, time: number) {
    this.id = id;
    this.time = time;
  }
  /** How many samples the bucket holds (for delivery accounting). */
  sampleCount(): number {
    let n = 0;
    for (const agg of this.aggregates.values()) n += agg.samples;
    return n;
  }
}

/** One MetricSet message before encoding, with what it carries (for accounting). */
export interface Batch {
  readonly set: WireMetricSet;
  /** Distinct series in the message. */
  readonly seriesCount: number;
  /** Samples aggregated into it. */
  readonly sampleCount: number;
}

/** Tag names never sent as labels (§5.3). */
export function isReservedTag(name: string): boolean {
  return name.startsWith("__") || name === "test_run_id";
}

/** Options of {@link Aggregator}. */
export interface AggregatorOptions {
  periodMs: number;
  waitMs: number;
  /** Test run id written into every message. */
  testRunId?: string;
  /** Called once per reserved tag name that was dropped. */
  onReservedTag?: (name: string) => void;
}

/** The v2 collector: open buckets, closed-bucket queue, batching. */
export class Aggregator {
  readonly periodMs: number;
  waitMs: number;
  testRunId: string;
  readonly #seriesByMetric = new Map<Metric, Map<TagSet, Series>>();
  readonly #open = new Map<number, Bucket>();
  #closed: Bucket[] = [];
  readonly #warned = new Set<string>();
  readonly #onReservedTag?: (name: string) => void;
  /** Distinct series seen so far. */
  seriesCount = 0;

  constructor(opts: AggregatorOptions) {
    this.periodMs = opts.periodMs;
    this.waitMs = opts.waitMs;
    this.testRunId = opts.testRunId ?? "";
    this.#onReservedTag = opts.onReservedTag;
  }

  /** The series of (metric, tags), created on first use. */
  series(metric: Metric, tags: TagSet): Series {
    let byTags = this.#seriesByMetric.get(metric);
    if (!byTags) this.#seriesByMetric.set(metric, byTags = new Map());
    let series = byTags.get(tags);
    if (!series) {
      const labels: Array<readonly [string, string]> = [];
      // TagSet.tags has its keys in sorted order already (§5.3 wants ascending order).
      for (const [name, value] of Object.entries(tags.tags)) {
        if (isReservedTag(name)) {
          if (!this.#warned.has(name)) {
            this.#warned.add(name);
            this.#onReservedTag?.(name);
          }
          continue;
        }
        labels.push([name, value]);
      }
      series = new Series(metric, tags, labels);
      byTags.set(tags, series);
      this.seriesCount++;
    }
    return series;
  }

  /** Aggregates samples into their open buckets. O(1) per sample. */
  add(samples: readonly Sample[]): void {
    const period = this.periodMs;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i];
      const series = this.series(s.metric, s.tags);
      const id = Math.floor(s.time / period);
      let agg: Aggregate | undefined;
      const last = series.lastBucket;
      if (last !== undefined && last.id === id && !last.closed) {
        agg = series.lastAggregate!;
      } else {
        let bucket = this.#open.get(id);
        if (!bucket) {
          bucket = new Bucket(id, Math.round((id * period) / 1000));
          this.#open.set(id, bucket);
        }
        agg = bucket.aggregates.get(series);
        if (!agg) {
          agg = newAggregate(s.metric.type);
          bucket.aggregates.set(series, agg);
        }
        series.lastBucket = bucket;
        series.lastAggregate = agg;
      }
      agg.add(s.value);
    }
  }

  /**
   * Closes every open bucket with `id <= floor((now - wait) / period)` and queues it.
   * `waitMs` overrides the configured wait (0 at stop closes everything up to now; pass
   * `Infinity` as `nowMs` to close all).
   */
  collect(nowMs: number, waitMs = this.waitMs): number {
    const cutoff = Math.floor((nowMs - waitMs) / this.periodMs);
    let closed = 0;
    for (const [id, bucket] of this.#open) {
      if (id > cutoff) continue;
      bucket.closed = true;
      this.#open.delete(id);
      if (bucket.aggregates.size > 0) {
        this.#closed.push(bucket);
        closed++;
      }
    }
    return closed;
  }

  /** Closes everything (stop). */
  closeAll(): void {
    this.collect(Infinity, 0);
  }

  /** Samples held in open and queued buckets. */
  pendingSamples(): number {
    let n = 0;
    for (const b of this.#open.values()) n += b.sampleCount();
    for (const b of this.#closed) n += b.sampleCount();
    return n;
  }

  /** Number of closed buckets waiting to be pushed. */
  get queuedBuckets(): number {
    return this.#closed.length;
  }

  /**
   * Pops all closed buckets and cuts them into messages of at most `maxSeries` distinct series
   * (§5.6): buckets are walked in order; a series' values from several buckets share one
   * `TimeSeries` within a message.
   */
  takeBatches(maxSeries: number): Batch[] {
    const buckets = this.#closed;
    this.#closed = [];
    buckets.sort((a, b) => a.id - b.id);
    const batches: Batch[] = [];
    let current = new Map<Series, Array<{ time: number; value: WireValue }>>();
    let samples = 0;
    const flush = () => {
      if (current.size === 0) return;
      batches.push(this.#toBatch(current, samples));
      current = new Map();
      samples = 0;
    };
    for (const bucket of buckets) {
      for (const [series, agg] of bucket.aggregates) {
        let values = current.get(series);
        if (!values) {
          if (current.size >= maxSeries) flush();
          values = [];
          current.set(series, values);
        }
        values.push({ time: bucket.time, value: agg.wire() });
        samples += agg.samples;
      }
    }
    flush();
    return batches;
  }

  #toBatch(
    entries: Map<Series, Array<{ time: number; value: WireValue }>>,
    sampleCount: number,
  ): Batch {
    const byMetric = new Map<Metric, WireMetric & { series: WireMetric["series"][number][] }>();
    for (const [series, values] of entries) {
      let m = byMetric.get(series.metric);
      if (!m) {
        m = { name: series.metric.name, type: series.metric.type, series: [] };
        byMetric.set(series.metric, m);
      }
      m.series.push({ labels: series.encodedLabels, values });
    }
    return {
      set: {
        testRunId: this.testRunId,
        aggregationPeriod: Math.round(this.periodMs / 1000),
        metrics: [...byMetric.values()],
      },
      seriesCount: entries.size,
      sampleCount,
    };
  }
}
