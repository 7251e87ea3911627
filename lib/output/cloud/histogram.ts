/**
 * The trend histogram of the cloud v2 protocol (outputs-cloud.md §5.5): a log-linear layout
 * with exact buckets for scaled values below 256 and 128 sub-buckets per power of two above.
 *
 * @example
 * ```ts
 * const h = new TrendHistogram();
 * h.add(6); // 6 ms → scaled 6000 → bucket 827
 * h.toWire(); // { counters: [1], spans: [{ offset: 827, length: 1 }], count: 1, ... }
 * ```
 * @module
 */

/** k6 always sends this resolution; values are divided by it before bucketing. */
export const MIN_RESOLUTION = 0.001;

/** 2^63 as a float: the int64 maximum converted to float64 (§5.5 step 4). */
const EXTRA_HIGH_LIMIT = 2 ** 63;

/**
 * The bucket index of an already scaled value `x` (= value / 0.001), `x` in [0, 2^63].
 *
 * Works on floats throughout: `ceil(x)` of a float is an exactly representable integer and
 * dividing by a power of two is exact, so no BigInt is needed even above 2^53.
 */
export function bucketIndex(x: number): number {
  const u = Math.ceil(x);
  if (u < 256) return u;
  if (u < 2 ** 31) {
    // Fast path with 32-bit integer ops: bit length of (u >> 7), minus 1.
    const s = 31 - Math.clz32(u >>> 7);
    return s * 128 + (u >>> s);
  }
  let e = Math.floor(Math.log2(u));
  // Math.log2 may be off by one right at powers of two; correct it exactly.
  if (2 ** e > u) e--;
  else if (2 ** (e + 1) <= u) e++;
  const s = e - 7;
  return s * 128 + Math.floor(u / 2 ** s);
}

/** One span of consecutive non-empty buckets, Prometheus native-histogram style. */
export interface BucketSpan {
  offset: number;
  length: number;
}

/** The `TrendHdrValue` fields (without time) as plain data. */
export interface TrendHdrWire {
  counters: number[];
  spans: BucketSpan[];
  sum: number;
  count: number;
  minValue: number;
  maxValue: number;
  extraLowValuesCounter?: number;
  extraHighValuesCounter?: number;
  minResolution: number;
}

/** Per (bucket, series) trend state. */
export class TrendHistogram {
  count = 0;
  sum = 0;
  min = Number.MAX_VALUE;
  max = -Number.MAX_VALUE;
  extraLow = 0;
  extraHigh = 0;
  readonly buckets = new Map<number, number>();

  /** Adds one value (milliseconds for time metrics). */
  add(v: number): void {
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.count++;
    this.sum += v;
    // Division (not v * 1000) as the spec states: the two differ in the last bit for some v.
    const x = v / MIN_RESOLUTION;
    if (x < 0) {
      this.extraLow++;
      return;
    }
    if (x > EXTRA_HIGH_LIMIT) {
      this.extraHigh++;
      return;
    }
    const index = bucketIndex(x);
    this.buckets.set(index, (this.buckets.get(index) ?? 0) + 1);
  }

  /** Serialises the state as §5.5 describes (sorted indices, counters, spans). */
  toWire(): TrendHdrWire {
    const indices = [...this.buckets.keys()].sort((a, b) => a - b);
    const counters: number[] = [];
    const spans: BucketSpan[] = [];
    let prev = -1;
    for (const index of indices) {
      counters.push(this.buckets.get(index)!);
      if (spans.length === 0) spans.push({ offset: index, length: 1 });
      else if (index === prev + 1) spans[spans.length - 1].length++;
      else spans.push({ offset: index - prev - 1, length: 1 });
      prev = index;
    }
    const wire: TrendHdrWire = {
      counters,
      spans,
      sum: this.sum,
      count: this.count,
      minValue: this.min,
      maxValue: this.max,
      minResolution: MIN_RESOLUTION,
    };
    if (this.extraLow > 0) wire.extraLowValuesCounter = this.extraLow;
    if (this.extraHigh > 0) wire.extraHighValuesCounter = this.extraHigh;
    return wire;
  }
}
