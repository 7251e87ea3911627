/**
 * Aggregation sinks, one per metric type (runner.md §5.1): what the engine keeps of a metric's
 * samples for thresholds and the end-of-test summary.
 *
 * @example
 * ```ts
 * const sink = newSink("counter");
 * sink.add(3);
 * sink.values(2000, ["avg"]); // { count: 3, rate: 1.5 }
 * ```
 * @module
 */
import type { MetricType } from "./metric.ts";
import { TrendSketch } from "./sketch.ts";

/** A sink: `add` is the hot path; `values` builds the summary's `values` object. */
export interface Sink {
  readonly type: MetricType;
  add(value: number): void;
  isEmpty(): boolean;
  /**
   * The values k6 exposes for the summary (§8.4): counter `count`,`rate`; gauge `value`,`min`,
   * `max`; rate `rate`,`passes`,`fails`; trend exactly `trendStats`.
   */
  values(testRunDurationMs: number, trendStats: readonly string[]): Record<string, number>;
}

/** Sum of values; `rate` is per second of test-run time. */
export class CounterSink implements Sink {
  readonly type = "counter" as const;
  value = 0;
  #seen = false;
  add(value: number): void {
    this.value += value;
    this.#seen = true;
  }
  isEmpty(): boolean {
    return !this.#seen;
  }
  /** Per-second rate over `durationMs`; 0 for a zero duration. */
  rate(durationMs: number): number {
    return durationMs === 0 ? 0 : this.value / (durationMs / 1000);
  }
  values(durationMs: number): Record<string, number> {
    return { count: this.value, rate: this.rate(durationMs) };
  }
}

/** Last value, min and max. */
export class GaugeSink implements Sink {
  readonly type = "gauge" as const;
  value = 0;
  min = 0;
  max = 0;
  #seen = false;
  add(value: number): void {
    this.value = value;
    if (!this.#seen) {
      this.min = value;
      this.max = value;
      this.#seen = true;
      return;
    }
    if (value > this.max) this.max = value;
    if (value < this.min) this.min = value;
  }
  isEmpty(): boolean {
    return !this.#seen;
  }
  values(): Record<string, number> {
    return { value: this.value, min: this.min, max: this.max };
  }
}

/** Non-zero samples (`passes`) out of all samples. */
export class RateSink implements Sink {
  readonly type = "rate" as const;
  trues = 0;
  total = 0;
  add(value: number): void {
    this.total++;
    if (value !== 0) this.trues++;
  }
  isEmpty(): boolean {
    return this.total === 0;
  }
  /** passes ÷ total; 0 when empty (summary semantics; thresholds treat empty as undefined). */
  rate(): number {
    return this.total > 0 ? this.trues / this.total : 0;
  }
  values(): Record<string, number> {
    return { rate: this.rate(), passes: this.trues, fails: this.total - this.trues };
  }
}

/** Trend statistics from a {@link TrendSketch}. */
export class TrendSink implements Sink {
  readonly type = "trend" as const;
  readonly sketch: TrendSketch;
  constructor(exactLimit?: number) {
    this.sketch = new TrendSketch(exactLimit);
  }
  add(value: number): void {
    this.sketch.add(value);
  }
  isEmpty(): boolean {
    return this.sketch.count === 0;
  }
  get count(): number {
    return this.sketch.count;
  }
  get min(): number {
    return this.sketch.min;
  }
  get max(): number {
    return this.sketch.max;
  }
  avg(): number {
    return this.sketch.avg();
  }
  /** Percentile for a fraction 0..1 (`med` is `p(0.5)`). */
  p(q: number): number {
    return this.sketch.percentile(q);
  }
  /** One trend stat by name (`avg`, `min`, `med`, `max`, `count`, `p(N)`); NaN if unknown. */
  stat(name: string): number {
    switch (name) {
      case "avg":
        return this.avg();
      case "min":
        return this.min;
      case "max":
        return this.max;
      case "med":
        return this.p(0.5);
      case "count":
        return this.count;
    }
    const pct = parseTrendStatPercentile(name);
    return pct === undefined ? NaN : this.p(pct / 100);
  }
  values(_durationMs: number, trendStats: readonly string[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const stat of trendStats) out[stat] = this.stat(stat);
    return out;
  }
}

/** `p(N)` → N when 0 ≤ N ≤ 100, else undefined. */
export function parseTrendStatPercentile(stat: string): number | undefined {
  if (!stat.startsWith("p(") || !stat.endsWith(")")) return undefined;
  const text = stat.slice(2, -1).trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 0 && n <= 100 ? n : undefined;
}

/**
 * Validates `summaryTrendStats` entries with k6's error texts; returns an error text or
 * undefined.
 */
export function validateTrendStat(stat: string): string | undefined {
  if (["avg", "min", "med", "max", "count"].includes(stat)) return undefined;
  if (!stat.startsWith("p(") || !stat.endsWith(")")) {
    return `invalid trend stat '${stat}', unknown format`;
  }
  if (parseTrendStatPercentile(stat) === undefined) {
    return `invalid percentile trend stat value '${stat}', provide a number between 0 and 100`;
  }
  return undefined;
}

/** A fresh sink for a metric type. */
export function newSink(type: MetricType): Sink {
  switch (type) {
    case "counter":
      return new CounterSink();
    case "gauge":
      return new GaugeSink();
    case "rate":
      return new RateSink();
    case "trend":
      return new TrendSink();
  }
}
