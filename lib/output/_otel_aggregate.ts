/**
 * The opentelemetry output's aggregation: cumulative sums, last values and explicit-bucket
 * histograms per (metric, tag set), turned into the SDK's `MetricData` for its official OTLP
 * exporters at each export.
 *
 * Why not the SDK's own instruments: their `record`/`add` hash the attribute object on every
 * call (sorted keys, `JSON.stringify`), which was ~13% of the main thread at 50 VUs and put the
 * output at +25–30% CPU per request (`deno task bench`). Series here are keyed by the interned
 * `TagSet`, so a sample costs two Map lookups. The semantics are the SDK 3.x defaults this
 * output used before, and its tests pin them: cumulative temporality, a series' start time is
 * its first sample, counters drop negative values, histograms drop negative and NaN values and
 * use the default boundaries with upper-inclusive buckets, at most 2000 series per instrument
 * (further ones go to the `otel.metric.overflow` series).
 *
 * @example
 * ```ts
 * const agg = new OtelAggregator("");
 * agg.add(samples);
 * const metrics = agg.collect(Date.now()); // MetricData[] for a ResourceMetrics
 * ```
 * @module
 */
import { type Attributes, type HrTime, ValueType } from "@opentelemetry/api";
import {
  AggregationTemporality,
  DataPointType,
  type MetricData,
  type MetricDescriptor,
} from "@opentelemetry/sdk-metrics";
import type { Metric } from "../metrics/metric.ts";
import type { Sample } from "../metrics/sample.ts";
import type { TagSet } from "../metrics/tags.ts";

/** The SDK's default explicit histogram boundaries. */
export const DEFAULT_BOUNDARIES: readonly number[] = [
  0,
  5,
  10,
  25,
  50,
  75,
  100,
  250,
  500,
  750,
  1000,
  2500,
  5000,
  7500,
  10000,
];

/** The SDK's default cardinality limit per instrument (the last slot is the overflow series). */
const CARDINALITY_LIMIT = 2000;
const OVERFLOW: Attributes = { "otel.metric.overflow": true };

interface Series {
  readonly attributes: Attributes;
  readonly start: number;
  /** The sum (counters, histograms) or the last value (gauges). */
  value: number;
  /** Histograms only. */
  counts?: number[];
  count: number;
  min: number;
  max: number;
}

type Kind = "sum" | "gauge" | "histogram";

class Instrument {
  readonly descriptor: MetricDescriptor;
  readonly kind: Kind;
  readonly series = new Map<unknown, Series>();
  #overflow: Series | undefined;

  constructor(descriptor: MetricDescriptor, kind: Kind) {
    this.descriptor = descriptor;
    this.kind = kind;
  }

  /** The series for `key` (created with `attributes` at `time`), or the overflow series. */
  get(key: unknown, attributes: () => Attributes, time: number): Series {
    let s = this.series.get(key);
    if (s !== undefined) return s;
    if (this.series.size >= CARDINALITY_LIMIT - 1) {
      return this.#overflow ??= this.#newSeries(OVERFLOW, time);
    }
    s = this.#newSeries(attributes(), time);
    this.series.set(key, s);
    return s;
  }

  #newSeries(attributes: Attributes, time: number): Series {
    return {
      attributes,
      start: time,
      value: 0,
      counts: this.kind === "histogram"
        ? new Array(DEFAULT_BOUNDARIES.length + 1).fill(0)
        : undefined,
      count: 0,
      min: Infinity,
      max: -Infinity,
    };
  }

  all(): Series[] {
    const out = [...this.series.values()];
    if (this.#overflow) out.push(this.#overflow);
    return out;
  }
}

function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1e6));
  return [seconds, nanos];
}

/** Index of the first boundary ≥ value (the SDK's upper-inclusive bucket search). */
function bucketIndex(value: number): number {
  const b = DEFAULT_BOUNDARIES;
  let lo = 0;
  let hi = b.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (b[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** See the module documentation. */
export class OtelAggregator {
  readonly #prefix: string;
  readonly #instruments = new Map<Metric, Instrument>();
  /** Instruments in creation order (the SDK exports them in that order). */
  readonly #ordered: Instrument[] = [];
  readonly #attributes = new Map<TagSet, Attributes>();
  readonly #rateKeys = new Map<TagSet, [object, object]>();

  /** `prefix` is `metricPrefix`, prepended to every instrument name. */
  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** Aggregates a batch. */
  add(samples: readonly Sample[]): void {
    for (let i = 0; i < samples.length; i++) {
      const sample = samples[i];
      let inst = this.#instruments.get(sample.metric);
      if (inst === undefined) inst = this.#instrument(sample.metric);
      const v = sample.value;
      const tags = sample.tags;
      switch (inst.kind) {
        case "histogram": {
          if (v < 0 || v !== v) break;
          const s = inst.get(tags, () => this.#attrs(tags), sample.time);
          s.counts![bucketIndex(v)]++;
          s.count++;
          s.value += v;
          if (v < s.min) s.min = v;
          if (v > s.max) s.max = v;
          break;
        }
        case "gauge": {
          inst.get(tags, () => this.#attrs(tags), sample.time).value = v;
          break;
        }
        default: {
          if (sample.metric.type === "rate") {
            // k6 v2: one Int64 counter `<name>.total`, split by a `condition` attribute.
            const nonZero = v !== 0;
            const keys = this.#rateKey(tags);
            const s = inst.get(
              nonZero ? keys[0] : keys[1],
              () => ({ ...this.#attrs(tags), condition: nonZero ? "nonzero" : "zero" }),
              sample.time,
            );
            s.value++;
          } else if (v >= 0) {
            inst.get(tags, () => this.#attrs(tags), sample.time).value += v;
          }
        }
      }
    }
  }

  /** Every series so far as cumulative `MetricData`, stamped `now` (epoch ms). */
  collect(now: number): MetricData[] {
    const endTime = hrTime(now);
    const out: MetricData[] = [];
    for (const inst of this.#ordered) {
      const series = inst.all();
      if (series.length === 0) continue;
      const points = <T>(value: (s: Series) => T) =>
        series.map((s) => ({
          attributes: s.attributes,
          startTime: hrTime(s.start),
          endTime,
          value: value(s),
        }));
      const base = {
        descriptor: inst.descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
      };
      if (inst.kind === "histogram") {
        out.push({
          ...base,
          dataPointType: DataPointType.HISTOGRAM,
          dataPoints: points((s) => ({
            buckets: { boundaries: DEFAULT_BOUNDARIES as number[], counts: [...s.counts!] },
            sum: s.value,
            count: s.count,
            min: s.count > 0 ? s.min : undefined,
            max: s.count > 0 ? s.max : undefined,
          })),
        });
      } else if (inst.kind === "gauge") {
        out.push({
          ...base,
          dataPointType: DataPointType.GAUGE,
          dataPoints: points((s) => s.value),
        });
      } else {
        out.push({
          ...base,
          dataPointType: DataPointType.SUM,
          isMonotonic: true,
          dataPoints: points((s) => s.value),
        });
      }
    }
    return out;
  }

  #instrument(metric: Metric): Instrument {
    const unit = metric.contains === "time" ? "ms" : metric.contains === "data" ? "By" : "";
    const name = this.#prefix + metric.name;
    const described = (n: string, valueType: ValueType): MetricDescriptor => ({
      name: n,
      description: "",
      unit,
      valueType,
    });
    let inst: Instrument;
    switch (metric.type) {
      case "counter":
        inst = new Instrument(described(name, ValueType.DOUBLE), "sum");
        break;
      case "gauge":
        inst = new Instrument(described(name, ValueType.DOUBLE), "gauge");
        break;
      case "trend":
        inst = new Instrument(described(name, ValueType.DOUBLE), "histogram");
        break;
      default:
        inst = new Instrument(described(name + ".total", ValueType.INT), "sum");
    }
    this.#instruments.set(metric, inst);
    this.#ordered.push(inst);
    return inst;
  }

  #attrs(tags: TagSet): Attributes {
    let attrs = this.#attributes.get(tags);
    if (attrs === undefined) {
      attrs = {};
      for (const [k, v] of Object.entries(tags.tags)) {
        if (k !== "" && v !== "") attrs[k] = v;
      }
      this.#attributes.set(tags, attrs);
    }
    return attrs;
  }

  /** Two distinct series keys per tag set for a rate's nonzero / zero counters. */
  #rateKey(tags: TagSet): [object, object] {
    let keys = this.#rateKeys.get(tags);
    if (keys === undefined) this.#rateKeys.set(tags, keys = [{}, {}]);
    return keys;
  }
}
