/**
 * The older "v1" cloud metrics protocol (outputs-cloud.md §12): JSON arrays of sample objects
 * (`Point`, `Points`, `AggregatedPoints`), gzip, `POST /v1/metrics/{id}`, with the optional
 * aggregation of HTTP request trails and its IQR outlier detection (§12.5).
 *
 * Our outputs receive flat samples, not k6's trail containers, so trails are rebuilt: the
 * samples of one HTTP request (or one iteration's network trail) are emitted consecutively
 * with the same interned TagSet and the same time; a run of such samples is one trail.
 *
 * @example
 * ```ts
 * const p = new V1Pipeline({ config });
 * p.add(samples);
 * p.collect(Date.now(), false);
 * const payloads = p.takePayloads();
 * ```
 * @module
 */
import { gzipSync } from "node:zlib";
import type { Sample } from "../../metrics/sample.ts";
import type { TagSet } from "../../metrics/tags.ts";
import { idempotencyKey } from "./client.ts";
import type { CloudConfig } from "./config.ts";
import type { MetricsPipeline, Payload } from "./pipeline.ts";

/** The seven duration metrics of an HTTP trail, in the order k6 writes them. */
export const trailDurations = [
  "http_req_duration",
  "http_req_blocked",
  "http_req_connecting",
  "http_req_tls_handshaking",
  "http_req_sending",
  "http_req_waiting",
  "http_req_receiving",
] as const;
type TrailDuration = typeof trailDurations[number];

const httpTrailMetrics = new Set<string>(["http_reqs", ...trailDurations, "http_req_failed"]);
const iterTrailMetrics = new Set([
  "data_sent",
  "data_received",
  "iteration_duration",
  "iterations",
]);

/** One HTTP request rebuilt from its samples. Durations in ms. */
export interface HttpTrail {
  tags: TagSet;
  /** Request end time, epoch ms. */
  time: number;
  values: Map<string, number>;
}

interface IterTrail {
  tags: TagSet;
  time: number;
  values: Map<string, number>;
}

/** Formats a float like Go's `strconv.FormatFloat(v, 'g', -1, 64)` (easyjson's output). */
export function goFloat(v: number): string {
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  if (!Number.isFinite(v)) return "0";
  const [mant, expText] = v.toExponential().split("e");
  const exp = parseInt(expText, 10);
  if (exp < -4 || exp >= 6) {
    return `${mant}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return String(v);
}

/** JSON string with Go's HTML escaping (`&`, `<`, `>` → `\u00XX`). */
export function goString(s: string): string {
  return JSON.stringify(s).replace(
    /[&<>\u2028\u2029]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
  );
}

/** Epoch ms → integer microseconds, as a JSON string (times are strings in v1). */
function microsString(ms: number): string {
  return `"${Math.round(ms * 1000)}"`;
}

const tagsJSONCache = new WeakMap<TagSet, string>();
function tagsJSON(tags: TagSet): string {
  let json = tagsJSONCache.get(tags);
  if (json === undefined) {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(tags.tags)) parts.push(`${goString(k)}:${goString(v)}`);
    json = `{${parts.join(",")}}`;
    tagsJSONCache.set(tags, json);
  }
  return json;
}

/** `Point`: one plain sample. */
export function pointJSON(s: Sample): string {
  return `{"type":"Point","metric":${goString(s.metric.name)},"data":{"time":${
    microsString(s.time)
  },"type":"${s.metric.type}","tags":${tagsJSON(s.tags)},"value":${goFloat(s.value)}}}`;
}

function pointsJSON(
  metric: string,
  t: { tags: TagSet; time: number; values: Map<string, number> },
): string {
  const values: string[] = [];
  for (const [k, v] of t.values) values.push(`${goString(k)}:${goFloat(v)}`);
  return `{"type":"Points","metric":"${metric}","data":{"time":${
    microsString(t.time)
  },"type":"counter","tags":${tagsJSON(t.tags)}${
    values.length > 0 ? `,"values":{${values.join(",")}}` : ""
  }}}`;
}

/** `Points` for an HTTP trail: `http_reqs`=1, the seven durations, then failed if present. */
export function httpTrailJSON(t: HttpTrail): string {
  const ordered = new Map<string, number>();
  ordered.set("http_reqs", 1);
  for (const name of trailDurations) ordered.set(name, t.values.get(name) ?? 0);
  const failed = t.values.get("http_req_failed");
  if (failed !== undefined) ordered.set("http_req_failed", failed);
  return pointsJSON("http_req_li_all", { tags: t.tags, time: t.time, values: ordered });
}

function iterTrailJSON(t: IterTrail): string {
  const ordered = new Map<string, number>();
  for (const name of ["data_sent", "data_received", "iteration_duration", "iterations"]) {
    const v = t.values.get(name);
    if (v !== undefined) ordered.set(name, v);
  }
  return pointsJSON("iter_li_all", { tags: t.tags, time: t.time, values: ordered });
}

/** Milliseconds → integer nanoseconds (Go durations). */
function ns(ms: number | undefined): number {
  return Math.round((ms ?? 0) * 1e6);
}

/** Parameters of the IQR outlier detection (§12.1). */
export interface OutlierParams {
  minSamples: number;
  skipOutlierDetection: boolean;
  algoThreshold: number;
  radius: number;
  coefLower: number;
  coefUpper: number;
}

/** Round half away from zero. */
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** Normal bounds [lower, upper] of a list of integer-ns durations (§12.5 step 4). */
export function normalBounds(
  durations: number[],
  p: OutlierParams,
): [number, number] {
  const n = durations.length;
  const d = [...durations].sort((a, b) => a - b);
  const r = Math.min(0.5, p.radius);
  let q: (x: number) => number;
  if (n < p.algoThreshold) {
    q = (x) => {
      const i = x * (n - 1);
      const lo = Math.floor(i);
      const hi = Math.ceil(i);
      return Math.trunc(d[lo] + (d[hi] - d[lo]) * (i - lo));
    };
  } else {
    // k6 uses quickselect (no interpolation); the k-th smallest of a sorted copy is the same.
    q = (x) => d[roundHalfAway(x * (n - 1))];
  }
  const q1 = q(0.5 - r);
  const q3 = q(0.5 + r);
  const iqr = q3 - q1;
  return [q1 - Math.trunc(p.coefLower * iqr), q3 + Math.trunc(p.coefUpper * iqr)];
}

interface DurationAgg {
  min: number;
  max: number;
  sum: number;
}

/**
 * Aggregates one sub-bucket of trails (same tags, same bucket). Returns the
 * `AggregatedPoints` JSON (or undefined when nothing was aggregated) and the outliers.
 */
export function aggregateTrails(
  trails: HttpTrail[],
  tags: TagSet,
  midpointMs: number,
  p: OutlierParams,
): { aggregated?: string; individual: HttpTrail[] } {
  if (trails.length < p.minSamples) return { individual: trails };
  let members = trails;
  const individual: HttpTrail[] = [];
  if (!p.skipOutlierDetection) {
    const conn = trails.map((t) =>
      ns(t.values.get("http_req_connecting")) + ns(t.values.get("http_req_tls_handshaking"))
    );
    const req = trails.map((t) =>
      ns(t.values.get("http_req_sending")) + ns(t.values.get("http_req_waiting")) +
      ns(t.values.get("http_req_receiving"))
    );
    const [connLo, connHi] = normalBounds(conn, p);
    const [reqLo, reqHi] = normalBounds(req, p);
    members = [];
    trails.forEach((t, i) => {
      if (conn[i] < connLo || conn[i] > connHi || req[i] < reqLo || req[i] > reqHi) {
        individual.push(t);
      } else members.push(t);
    });
  }
  if (members.length === 0) return { individual };
  const aggs = new Map<TrailDuration, DurationAgg>();
  for (const name of trailDurations) aggs.set(name, { min: 0, max: 0, sum: 0 });
  let failedCount = 0;
  let failedNonZero = 0;
  let anyFailedFlag = false;
  for (const t of members) {
    for (const name of trailDurations) {
      const a = aggs.get(name)!;
      const v = ns(t.values.get(name));
      // k6 quirk kept for byte compatibility: the min is replaced while the sum is still 0.
      if (a.sum === 0 || v < a.min) a.min = v;
      if (v > a.max) a.max = v;
      a.sum += v;
    }
    const failed = t.values.get("http_req_failed");
    if (failed !== undefined) {
      anyFailedFlag = true;
      failedCount++;
      if (failed !== 0) failedNonZero++;
    }
  }
  const count = members.length;
  const values: string[] = [];
  for (const name of trailDurations) {
    const a = aggs.get(name)!;
    values.push(
      `"${name}":{"min":${goFloat(a.min / 1e6)},"max":${goFloat(a.max / 1e6)},"avg":${
        goFloat(a.sum / count / 1e6)
      }}`,
    );
  }
  if (anyFailedFlag) {
    values.push(`"http_req_failed":{"count":${failedCount},"nz_count":${failedNonZero}}`);
  }
  const aggregated = `{"type":"AggregatedPoints","metric":"http_req_li_all","data":{"time":${
    microsString(midpointMs)
  },"type":"aggregated_trend","count":${count},"tags":${tagsJSON(tags)},"values":{${
    values.join(",")
  }}}}`;
  return { aggregated, individual };
}

/** Options of {@link V1Pipeline}. */
export interface V1PipelineOptions {
  config: CloudConfig;
  now?: () => number;
}

/** The v1 protocol pipeline. */
export class V1Pipeline implements MetricsPipeline {
  readonly #cfg: CloudConfig;
  readonly #outlier: OutlierParams;
  readonly collectIntervalMs: number;
  /** Sample objects (JSON text) ready to push. */
  #buffer: string[] = [];
  #bufferSamples = 0;
  /** HTTP trails waiting for aggregation. */
  #trails: HttpTrail[] = [];
  /** bucket id → (tags → trails). */
  readonly #buckets = new Map<number, Map<TagSet, HttpTrail[]>>();
  #openHttp?: HttpTrail;
  #openIter?: IterTrail;

  constructor(opts: V1PipelineOptions) {
    this.#cfg = opts.config;
    this.#outlier = {
      minSamples: opts.config.aggregationMinSamples,
      skipOutlierDetection: opts.config.aggregationSkipOutlierDetection,
      algoThreshold: opts.config.aggregationOutlierAlgoThreshold,
      radius: opts.config.aggregationOutlierIqrRadius,
      coefLower: opts.config.aggregationOutlierIqrCoefLower,
      coefUpper: opts.config.aggregationOutlierIqrCoefUpper,
    };
    this.collectIntervalMs = opts.config.aggregationPeriod > 0
      ? opts.config.aggregationPeriod
      : opts.config.metricPushInterval;
  }

  get #aggregating(): boolean {
    return this.#cfg.aggregationPeriod > 0;
  }

  add(samples: readonly Sample[]): void {
    for (const s of samples) {
      const name = s.metric.name;
      if (httpTrailMetrics.has(name)) {
        this.#closeIter();
        const t = this.#openHttp;
        if (t && t.tags === s.tags && t.time === s.time && !t.values.has(name)) {
          t.values.set(name, s.value);
        } else {
          this.#closeHttp();
          this.#openHttp = { tags: s.tags, time: s.time, values: new Map([[name, s.value]]) };
        }
      } else if (iterTrailMetrics.has(name)) {
        this.#closeHttp();
        const t = this.#openIter;
        if (t && t.tags === s.tags && t.time === s.time && !t.values.has(name)) {
          t.values.set(name, s.value);
        } else {
          this.#closeIter();
          this.#openIter = { tags: s.tags, time: s.time, values: new Map([[name, s.value]]) };
        }
      } else {
        this.#closeHttp();
        this.#closeIter();
        this.#push(pointJSON(s), 1);
      }
    }
  }

  #push(json: string, samples: number): void {
    this.#buffer.push(json);
    this.#bufferSamples += samples;
  }

  #closeHttp(): void {
    const t = this.#openHttp;
    if (!t) return;
    this.#openHttp = undefined;
    if (this.#aggregating) this.#trails.push(t);
    else this.#push(httpTrailJSON(t), t.values.size);
  }

  #closeIter(): void {
    const t = this.#openIter;
    if (!t) return;
    this.#openIter = undefined;
    this.#push(iterTrailJSON(t), t.values.size);
  }

  collect(nowMs: number, final: boolean): void {
    this.#closeHttp();
    this.#closeIter();
    if (!this.#aggregating) return;
    const period = this.#cfg.aggregationPeriod;
    for (const t of this.#trails) {
      const id = Math.floor(t.time / period);
      let sub = this.#buckets.get(id);
      if (!sub) this.#buckets.set(id, sub = new Map());
      let list = sub.get(t.tags);
      if (!list) sub.set(t.tags, list = []);
      list.push(t);
    }
    this.#trails = [];
    const wait = final ? 0 : this.#cfg.aggregationWaitPeriod;
    const cutoff = Math.floor((nowMs - wait) / period);
    for (const [id, sub] of [...this.#buckets].sort((a, b) => a[0] - b[0])) {
      if (id > cutoff) continue;
      for (const [tags, trails] of sub) {
        const { aggregated, individual } = aggregateTrails(
          trails,
          tags,
          id * period + period / 2,
          this.#outlier,
        );
        for (const t of individual) this.#push(httpTrailJSON(t), t.values.size);
        if (aggregated) {
          this.#push(aggregated, (trails.length - individual.length) * 8);
        }
      }
      this.#buckets.delete(id);
    }
    if (final) {
      for (const sub of this.#buckets.values()) {
        for (const trails of sub.values()) {
          for (const t of trails) this.#push(httpTrailJSON(t), t.values.size);
        }
      }
      this.#buckets.clear();
    }
  }

  takePayloads(): Payload[] {
    if (this.#buffer.length === 0) return [];
    const all = this.#buffer;
    const samplesTotal = this.#bufferSamples;
    this.#buffer = [];
    this.#bufferSamples = 0;
    const max = this.#cfg.maxMetricSamplesPerPackage;
    const payloads: Payload[] = [];
    for (let at = 0; at < all.length; at += max) {
      const chunk = all.slice(at, at + max);
      const raw = new TextEncoder().encode(`[${chunk.join(",")}]`);
      const gzipped = !this.#cfg.noCompress;
      const body = gzipped ? new Uint8Array(gzipSync(raw, { level: 1 })) : raw;
      payloads.push({
        protocol: 1,
        body,
        key: idempotencyKey(),
        // Proportional share of the buffered samples (for delivery accounting).
        samples: Math.round(samplesTotal * chunk.length / all.length),
        series: chunk.length,
        v1: { sampleCount: chunk.length, rawLength: raw.length, gzipped },
      });
    }
    return payloads;
  }

  pendingSamples(): number {
    let n = this.#bufferSamples + this.#trails.length * 8;
    for (const sub of this.#buckets.values()) {
      for (const trails of sub.values()) n += trails.length * 8;
    }
    return n;
  }
}
