/**
 * A bounded-memory quantile sketch for Trend metrics. k6 keeps every value of a trend and sorts
 * them (runner.md §5.1); a long run would hold millions of floats, so spate keeps the values
 * exactly only while there are few of them ({@link exactLimit}, default 1000: small tests get
 * k6-exact numbers) and then switches to DDSketch-style logarithmic buckets whose representative
 * value is within {@link relativeAccuracy} (0.5%) of every value that fell into them.
 *
 * `count`, `sum`, `min` and `max` are always exact. Percentiles follow k6's interpolation
 * (`i = q·(n−1)`, linear between ranks ⌊i⌋ and ⌈i⌉); in bucket mode the value of a rank is the
 * representative of the bucket that holds it, clamped to [min, max], so the result stays within
 * 0.5% of the exact answer (ranks 0 and n−1 are exact).
 *
 * Why hand-written rather than `@datadog/sketches-js` (2.1.1, no deps, same algorithm): we need
 * the exact phase for small counts, k6's interpolation between ranks and a cheap `add` on the
 * hot path; the library's `accept` allocates per store growth through plain arrays and its
 * `getValueAtQuantile` has no interpolation, so it would be wrapped anyway. A dense Float64Array
 * store keeps `add` at one `Math.log` and one array increment.
 *
 * @example
 * ```ts
 * const s = new TrendSketch();
 * for (let i = 1; i <= 100; i++) s.add(i);
 * s.percentile(0.5); // 50.5 (exact: fewer than 1000 values)
 * ```
 * @module
 */

/** Relative accuracy of a bucket's representative value. */
export const relativeAccuracy = 0.005;
/** Values kept exactly before switching to buckets. */
export const defaultExactLimit = 1000;

const gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
const invLogGamma = 1 / Math.log(gamma);
/** Magnitudes below this are counted as zero (far below a nanosecond in ms). */
const minIndexable = 1e-9;
/** Buckets per sign: 1e-9..1e12 (ns to decades in ms) needs ≈ 4.8k, so collapsing is rare. */
const maxBuckets = 8192;

/**
 * A dense store of bucket counts for one sign. Grows to cover the index range seen; when the
 * range would exceed {@link maxBuckets}, the lowest buckets are collapsed into the lowest kept
 * one (DDSketch's "collapsing lowest" store), which only affects the smallest magnitudes.
 */
class BucketStore {
  counts = new Float64Array(0);
  /** Index of counts[0]. */
  offset = 0;
  total = 0;

  add(index: number, n = 1): void {
    let pos = index - this.offset;
    if (pos < 0 || pos >= this.counts.length) pos = this.#grow(index);
    this.counts[pos] += n;
    this.total += n;
  }

  #grow(index: number): number {
    if (this.counts.length === 0) {
      this.counts = new Float64Array(64);
      this.offset = index - 32;
      return index - this.offset;
    }
    let lo = Math.min(this.offset, index);
    const hi = Math.max(this.offset + this.counts.length - 1, index);
    if (hi - lo + 1 > maxBuckets) {
      // Collapse the lowest buckets into the lowest bucket we keep.
      const newLo = hi - maxBuckets + 1;
      let collapsed = 0;
      for (let i = 0; i < this.counts.length; i++) {
        if (this.offset + i < newLo) {
          collapsed += this.counts[i];
          this.counts[i] = 0;
        }
      }
      const next = new Float64Array(maxBuckets);
      for (let i = 0; i < this.counts.length; i++) {
        const idx = this.offset + i;
        if (idx >= newLo) next[idx - newLo] += this.counts[i];
      }
      next[0] += collapsed;
      this.counts = next;
      this.offset = newLo;
      return Math.max(index, newLo) - newLo;
    }
    // Grow with headroom on the side that needed it.
    const size = Math.min(maxBuckets, Math.max(this.counts.length * 2, hi - lo + 1 + 32));
    if (index < this.offset) lo = hi - size + 1;
    const next = new Float64Array(size);
    next.set(this.counts, this.offset - lo);
    this.counts = next;
    this.offset = lo;
    return index - lo;
  }
}

function bucketIndex(magnitude: number): number {
  return Math.ceil(Math.log(magnitude) * invLogGamma);
}

function bucketValue(index: number): number {
  // The point with equal relative distance to both bucket bounds gamma^(i-1) and gamma^i.
  return (2 * Math.pow(gamma, index)) / (gamma + 1);
}

/** A quantile sketch with exact small-count behaviour and exact count/sum/min/max. */
export class TrendSketch {
  readonly exactLimit: number;
  count = 0;
  sum = 0;
  min = 0;
  max = 0;

  #exact: Float64Array | null;
  #sorted = true;
  #pos: BucketStore | null = null;
  #neg: BucketStore | null = null;
  #zeros = 0;

  constructor(exactLimit = defaultExactLimit) {
    this.exactLimit = exactLimit;
    this.#exact = new Float64Array(Math.min(16, Math.max(1, exactLimit)));
  }

  /** True while every value is kept exactly. */
  get isExact(): boolean {
    return this.#exact !== null;
  }

  /** Adds one value. */
  add(value: number): void {
    const n = this.count;
    if (n === 0) {
      this.min = value;
      this.max = value;
    } else {
      if (value < this.min) this.min = value;
      if (value > this.max) this.max = value;
    }
    this.count = n + 1;
    this.sum += value;
    const exact = this.#exact;
    if (exact !== null) {
      if (n < this.exactLimit) {
        if (n === exact.length) {
          const grown = new Float64Array(Math.min(this.exactLimit, exact.length * 2));
          grown.set(exact);
          this.#exact = grown;
          grown[n] = value;
        } else {
          exact[n] = value;
        }
        this.#sorted = false;
        return;
      }
      this.#toBuckets(exact, n);
    }
    this.#addBucket(value);
  }

  #toBuckets(exact: Float64Array, n: number): void {
    this.#exact = null;
    for (let i = 0; i < n; i++) this.#addBucket(exact[i]);
  }

  #addBucket(value: number): void {
    if (value > minIndexable) {
      (this.#pos ??= new BucketStore()).add(bucketIndex(value));
    } else if (value < -minIndexable) {
      (this.#neg ??= new BucketStore()).add(bucketIndex(-value));
    } else {
      this.#zeros++;
    }
  }

  /** Mean of the values (0 when empty). */
  avg(): number {
    return this.count > 0 ? this.sum / this.count : 0;
  }

  /**
   * The percentile at fraction `q` (0..1) with k6's interpolation: 0 when empty, the value
   * itself for one value.
   */
  percentile(q: number): number {
    const n = this.count;
    if (n === 0) return 0;
    if (n === 1) return this.min;
    const i = q * (n - 1);
    const lo = Math.floor(i);
    const hi = Math.ceil(i);
    const exact = this.#exact;
    if (exact !== null) {
      if (!this.#sorted) {
        exact.subarray(0, n).sort();
        this.#sorted = true;
      }
      const a = exact[lo];
      return a + (exact[hi] - a) * (i - lo);
    }
    const a = this.#valueAtRank(lo);
    const b = hi === lo ? a : this.#valueAtRank(hi);
    return a + (b - a) * (i - lo);
  }

  /** Value of the (0-based) rank in sorted order, from the buckets. */
  #valueAtRank(rank: number): number {
    if (rank <= 0) return this.min;
    if (rank >= this.count - 1) return this.max;
    let v: number;
    const neg = this.#neg;
    const negTotal = neg ? neg.total : 0;
    if (rank < negTotal) {
      // Negative values: largest magnitude first.
      const c = neg!.counts;
      let seen = 0;
      v = 0;
      for (let p = c.length - 1; p >= 0; p--) {
        seen += c[p];
        if (seen > rank) {
          v = -bucketValue(p + neg!.offset);
          break;
        }
      }
    } else if (rank < negTotal + this.#zeros) {
      v = 0;
    } else {
      const pos = this.#pos!;
      const c = pos.counts;
      const target = rank - negTotal - this.#zeros;
      let seen = 0;
      v = this.max;
      for (let p = 0; p < c.length; p++) {
        seen += c[p];
        if (seen > target) {
          v = bucketValue(p + pos.offset);
          break;
        }
      }
    }
    if (v < this.min) return this.min;
    if (v > this.max) return this.max;
    return v;
  }

  /** Approximate bytes held (for tests of the memory bound). */
  byteSize(): number {
    return (this.#exact?.byteLength ?? 0) + (this.#pos?.counts.byteLength ?? 0) +
      (this.#neg?.counts.byteLength ?? 0);
  }
}
