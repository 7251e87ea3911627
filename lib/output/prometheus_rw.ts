/**
 * The `experimental-prometheus-rw` output (outputs-services.md §3): keeps one cumulative state
 * per time series (metric + tag set) for the whole test and every push interval sends the series
 * that changed as a Prometheus remote-write v1 request (protobuf `WriteRequest`, snappy block).
 *
 * Configuration (defaults < `collectors.experimental-prometheus-rw` JSON < env), as in k6:
 * `K6_PROMETHEUS_RW_SERVER_URL`, `_USERNAME`, `_PASSWORD`, `_BEARER_TOKEN`, `_HEADERS_<NAME>`,
 * `_HTTP_HEADERS`, `_INSECURE_SKIP_TLS_VERIFY`, `_TLS_MINIMUM_VERSION`, `_CLIENT_CERTIFICATE`,
 * `_CLIENT_CERTIFICATE_KEY`, `_PUSH_INTERVAL`, `_TREND_STATS`, `_STALE_MARKERS`, and native
 * histograms through `K6_FEATURES=native-histograms` (legacy
 * `K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM=true`, with a warning). The `--out` argument is
 * ignored, as in k6.
 *
 * @example
 * ```ts
 * import prometheusRW from "./prometheus_rw.ts";
 * const output = await prometheusRW({ ...params, env: { K6_PROMETHEUS_RW_SERVER_URL: url } });
 * await output.start();
 * output.addMetricSamples(samples);
 * await output.stop(null);
 * ```
 * @module
 */
import protobuf from "protobufjs";
import { invalidConfig, SpateError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { formatDuration, parseDuration } from "../config/duration.ts";
import type { Metric } from "../metrics/metric.ts";
import type { Sample } from "../metrics/sample.ts";
import type { TagSet } from "../metrics/tags.ts";
import type { Output, OutputFactory, OutputParams, OutputStats } from "./types.ts";
import { PeriodicFlusher } from "./helpers.ts";
import { TrendSketch } from "../metrics/sketch.ts";
import {
  basicAuthToken,
  errorChain,
  jsonObject,
  jsonString,
  jsonStringMap,
  parseGoBool,
  Redactor,
  urlWithoutCredentials,
} from "./_services_config.ts";
import { snappyCompress } from "./_snappy_rw.ts";
import { httpsPost } from "./_https_post.ts";

/** The name used in `--out`. */
export const PROMETHEUS_RW_OUTPUT_NAME = "experimental-prometheus-rw";

/** Settings of the output after defaults, JSON config and environment were merged. */
export interface PrometheusRWConfig {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly insecureSkipTLSVerify: boolean;
  /** Minimum TLS version; k6 HEAD defaults to 1.3 and only `1.2` changes it. */
  readonly tlsMinVersion: "1.2" | "1.3";
  readonly username?: string;
  readonly password?: string;
  readonly bearerToken?: string;
  readonly clientCertificate?: string;
  readonly clientCertificateKey?: string;
  /** Milliseconds. */
  readonly pushInterval: number;
  readonly trendStats: readonly string[];
  readonly trendAsNativeHistogram: boolean;
  readonly staleMarkers: boolean;
}

const ENV = "K6_PROMETHEUS_RW_";
/** Fixed by k6 (outputs-services.md §3.1). */
const HTTP_TIMEOUT_MS = 5000;
const METRIC_PREFIX = "k6_";
const trendStatPattern = /^(?:avg|min|med|max|count|sum|p\((\d+(?:\.\d+)?)\))$/;

/**
 * Merges defaults < JSON config (`collectors.experimental-prometheus-rw`) < environment.
 * Throws a {@link SpateError} naming the offending field and value.
 *
 * @example
 * ```ts
 * const cfg = parsePrometheusRWConfig({ env: { K6_PROMETHEUS_RW_TREND_STATS: "p(95),max" } });
 * cfg.trendStats; // ["p(95)", "max"]
 * ```
 */
export function parsePrometheusRWConfig(
  input: { env: Readonly<Record<string, string>>; jsonConfig?: unknown },
  warn: (msg: string) => void = () => {},
): PrometheusRWConfig {
  const env = input.env;
  const json = jsonObject(input.jsonConfig, `collectors.${PROMETHEUS_RW_OUTPUT_NAME}`);
  const j = (key: string) => `collectors.${PROMETHEUS_RW_OUTPUT_NAME}.${key}`;

  let url = "http://localhost:9090/api/v1/write";
  let headers: Record<string, string> = {};
  let insecureSkipTLSVerify = false;
  let tlsMinVersion: "1.2" | "1.3" = "1.3";
  let username: string | undefined;
  let password: string | undefined;
  let bearerToken: string | undefined;
  let clientCertificate: string | undefined;
  let clientCertificateKey: string | undefined;
  let pushInterval = 5000;
  let trendStats: string[] = ["p(99)"];
  let trendAsNativeHistogram = false;
  let staleMarkers = false;
  let sigV4: (string | undefined)[] = [undefined, undefined, undefined];

  // JSON config.
  if (json.url !== undefined) url = jsonString(json.url, j("url"));
  if (json.headers !== undefined) headers = jsonStringMap(json.headers, j("headers"));
  if (json.insecureSkipTLSVerify !== undefined) {
    insecureSkipTLSVerify = parseGoBool(json.insecureSkipTLSVerify, j("insecureSkipTLSVerify"));
  }
  if (json.tlsMinVersion !== undefined) {
    tlsMinVersion = tlsVersion(jsonString(json.tlsMinVersion, j("tlsMinVersion")));
  }
  if (json.username !== undefined) username = jsonString(json.username, j("username"));
  if (json.password !== undefined) password = jsonString(json.password, j("password"));
  if (json.bearerToken !== undefined) bearerToken = jsonString(json.bearerToken, j("bearerToken"));
  if (json.clientCertificate !== undefined) {
    clientCertificate = jsonString(json.clientCertificate, j("clientCertificate"));
  }
  if (json.clientCertificateKey !== undefined) {
    clientCertificateKey = jsonString(json.clientCertificateKey, j("clientCertificateKey"));
  }
  if (json.pushInterval !== undefined) {
    pushInterval = parseDuration(json.pushInterval, j("pushInterval"));
  }
  if (json.trendStats !== undefined) {
    const raw = json.trendStats;
    trendStats = parseTrendStats(
      Array.isArray(raw) ? raw.map((s) => jsonString(s, j("trendStats"))) : jsonString(
        raw,
        j("trendStats"),
      ).split(","),
      j("trendStats"),
    );
  }
  if (json.trendAsNativeHistogram !== undefined) {
    trendAsNativeHistogram = parseGoBool(
      json.trendAsNativeHistogram,
      j("trendAsNativeHistogram"),
    );
  }
  if (json.staleMarkers !== undefined) {
    staleMarkers = parseGoBool(json.staleMarkers, j("staleMarkers"));
  }
  for (const [i, key] of ["sigV4Region", "sigV4AccessKey", "sigV4SecretKey"].entries()) {
    if (json[key] !== undefined) sigV4[i] = jsonString(json[key], j(key));
  }

  // Environment.
  const e = (name: string): string | undefined => env[ENV + name];
  if (e("SERVER_URL") !== undefined) url = e("SERVER_URL")!;
  // K6_PROMETHEUS_RW_HEADERS_<Name> first, then K6_PROMETHEUS_RW_HTTP_HEADERS over them (k6's order).
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith(ENV + "HEADERS_") && name.length > (ENV + "HEADERS_").length) {
      headers[name.slice((ENV + "HEADERS_").length)] = value;
    }
  }
  if (e("HTTP_HEADERS") !== undefined) {
    for (const pair of e("HTTP_HEADERS")!.split(",")) {
      const parts = pair.split(":");
      if (parts.length !== 2) {
        throw invalidConfig(
          `the provided header (${pair}) in ${ENV}HTTP_HEADERS does not respect the expected ` +
            `format <header key>:<value>`,
        );
      }
      headers[parts[0]] = parts[1];
    }
  }
  if (e("INSECURE_SKIP_TLS_VERIFY") !== undefined) {
    insecureSkipTLSVerify = parseGoBool(
      e("INSECURE_SKIP_TLS_VERIFY"),
      ENV + "INSECURE_SKIP_TLS_VERIFY",
    );
  }
  if (e("TLS_MINIMUM_VERSION") !== undefined) tlsMinVersion = tlsVersion(e("TLS_MINIMUM_VERSION")!);
  if (e("USERNAME") !== undefined) username = e("USERNAME");
  if (e("PASSWORD") !== undefined) password = e("PASSWORD");
  if (e("BEARER_TOKEN") !== undefined) bearerToken = e("BEARER_TOKEN");
  if (e("CLIENT_CERTIFICATE") !== undefined) clientCertificate = e("CLIENT_CERTIFICATE");
  if (e("CLIENT_CERTIFICATE_KEY") !== undefined) clientCertificateKey = e("CLIENT_CERTIFICATE_KEY");
  if (e("PUSH_INTERVAL") !== undefined) {
    pushInterval = parseDuration(e("PUSH_INTERVAL"), ENV + "PUSH_INTERVAL");
  }
  if (e("TREND_STATS") !== undefined) {
    trendStats = parseTrendStats(e("TREND_STATS")!.split(","), ENV + "TREND_STATS");
  }
  if (e("TREND_AS_NATIVE_HISTOGRAM") !== undefined) {
    trendAsNativeHistogram = parseGoBool(
      e("TREND_AS_NATIVE_HISTOGRAM"),
      ENV + "TREND_AS_NATIVE_HISTOGRAM",
    );
    warn(
      `${ENV}TREND_AS_NATIVE_HISTOGRAM is deprecated, ` +
        `enable the "native-histograms" feature instead (K6_FEATURES=native-histograms)`,
    );
  }
  const features = (env.K6_FEATURES ?? "").split(",").map((f) => f.trim());
  if (features.includes("native-histograms")) trendAsNativeHistogram = true;
  if (e("STALE_MARKERS") !== undefined) {
    staleMarkers = parseGoBool(e("STALE_MARKERS"), ENV + "STALE_MARKERS");
  }
  sigV4 = [
    e("SIGV4_REGION") ?? sigV4[0],
    e("SIGV4_ACCESS_KEY") ?? sigV4[1],
    e("SIGV4_SECRET_KEY") ?? sigV4[2],
  ];

  if (sigV4.some((v) => v)) {
    if (!sigV4.every((v) => v)) {
      throw invalidConfig(
        "sigV4Region, sigV4AccessKey and sigV4SecretKey must all be set, or none of them",
      );
    }
    throw new SpateError(
      "invalid-config",
      "SigV4 authentication (sigV4Region/sigV4AccessKey/sigV4SecretKey) is not supported by " +
        "spate's experimental-prometheus-rw output yet",
    );
  }
  if (!(pushInterval > 0)) {
    throw invalidConfig(`invalid pushInterval ${pushInterval}ms: it must be positive`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidConfig(`invalid url ${JSON.stringify(url)} for ${ENV}SERVER_URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw invalidConfig(
      `invalid url ${JSON.stringify(urlWithoutCredentials(parsed))} for ${ENV}SERVER_URL: ` +
        `the scheme must be http or https`,
    );
  }
  return {
    url,
    headers,
    insecureSkipTLSVerify,
    tlsMinVersion,
    username,
    password,
    bearerToken,
    clientCertificate,
    clientCertificateKey,
    pushInterval,
    trendStats,
    trendAsNativeHistogram,
    staleMarkers,
  };
}

function tlsVersion(text: string): "1.2" | "1.3" {
  // k6 HEAD: only "1.2" lowers the default minimum.
  return text.trim() === "1.2" ? "1.2" : "1.3";
}

function parseTrendStats(items: readonly string[], field: string): string[] {
  const stats = items.map((s) => s.trim()).filter((s) => s !== "");
  if (stats.length === 0) throw invalidConfig(`invalid ${field}: at least one stat is required`);
  for (const stat of stats) {
    const m = trendStatPattern.exec(stat);
    if (!m || (m[1] !== undefined && parseFloat(m[1]) > 100)) {
      throw invalidConfig(
        `invalid trend stat ${JSON.stringify(stat)} for ${field}: ` +
          `expected avg, min, med, max, count, sum or p(N) with 0 <= N <= 100`,
      );
    }
  }
  return stats;
}

/** The series-name suffix of a trend stat: `p(99.9)` → `p999`. */
export function trendStatSuffix(stat: string): string {
  return stat.startsWith("p(") ? "p" + stat.slice(2, -1).replaceAll(".", "") : stat;
}

// ---------------------------------------------------------------------------------------------
// Remote-write protobuf (prometheus/prompb types.proto + remote.proto, v1), as a protobufjs
// reflection root: only the messages the write path needs.

const prompb = protobuf.Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        WriteRequest: {
          fields: { timeseries: { rule: "repeated", type: "TimeSeries", id: 1 } },
        },
        TimeSeries: {
          fields: {
            labels: { rule: "repeated", type: "Label", id: 1 },
            samples: { rule: "repeated", type: "Sample", id: 2 },
            histograms: { rule: "repeated", type: "Histogram", id: 4 },
          },
        },
        Label: { fields: { name: { type: "string", id: 1 }, value: { type: "string", id: 2 } } },
        Sample: {
          fields: { value: { type: "double", id: 1 }, timestamp: { type: "int64", id: 2 } },
        },
        BucketSpan: {
          fields: { offset: { type: "sint32", id: 1 }, length: { type: "uint32", id: 2 } },
        },
        Histogram: {
          oneofs: {
            count: { oneof: ["countInt", "countFloat"] },
            zeroCount: { oneof: ["zeroCountInt", "zeroCountFloat"] },
          },
          fields: {
            countInt: { type: "uint64", id: 1 },
            countFloat: { type: "double", id: 2 },
            sum: { type: "double", id: 3 },
            schema: { type: "sint32", id: 4 },
            zeroThreshold: { type: "double", id: 5 },
            zeroCountInt: { type: "uint64", id: 6 },
            zeroCountFloat: { type: "double", id: 7 },
            negativeSpans: { rule: "repeated", type: "BucketSpan", id: 8 },
            negativeDeltas: { rule: "repeated", type: "sint64", id: 9 },
            negativeCounts: { rule: "repeated", type: "double", id: 10 },
            positiveSpans: { rule: "repeated", type: "BucketSpan", id: 11 },
            positiveDeltas: { rule: "repeated", type: "sint64", id: 12 },
            positiveCounts: { rule: "repeated", type: "double", id: 13 },
            resetHint: { type: "int32", id: 14 },
            timestamp: { type: "int64", id: 15 },
          },
        },
      },
    },
  },
});
const WriteRequestType = prompb.lookupType("prometheus.WriteRequest");

/** One remote-write label. */
export interface PromLabel {
  readonly name: string;
  readonly value: string;
}
/** A native-histogram bucket span. */
export interface PromBucketSpan {
  readonly offset: number;
  readonly length: number;
}
/** A native histogram as sent (integer counts). */
export interface PromHistogram {
  readonly countInt: number;
  readonly sum: number;
  readonly schema: number;
  readonly zeroThreshold: number;
  readonly zeroCountInt: number;
  readonly negativeSpans: readonly PromBucketSpan[];
  readonly negativeDeltas: readonly number[];
  readonly positiveSpans: readonly PromBucketSpan[];
  readonly positiveDeltas: readonly number[];
  readonly timestamp: number;
}
/** One time series of a WriteRequest. */
export interface PromTimeSeries {
  readonly labels: readonly PromLabel[];
  readonly samples: readonly { readonly value: number; readonly timestamp: number }[];
  readonly histograms: readonly PromHistogram[];
}

/**
 * Encodes a remote-write request body: protobuf `WriteRequest`, then one snappy block.
 *
 * @example
 * ```ts
 * const body = encodeWriteRequest([{ labels: [{ name: "__name__", value: "k6_vus" }],
 *   samples: [{ value: 1, timestamp: Date.now() }], histograms: [] }]);
 * ```
 */
export function encodeWriteRequest(
  timeseries: readonly PromTimeSeries[],
): Uint8Array<ArrayBuffer> {
  return snappyCompress(WriteRequestType.encode({ timeseries }).finish());
}

/** Decodes a body made by {@link encodeWriteRequest} (already un-snappied); for tests. */
export function decodeWriteRequest(bytes: Uint8Array): { timeseries: PromTimeSeries[] } {
  const msg = WriteRequestType.decode(bytes);
  return WriteRequestType.toObject(msg, { longs: Number, defaults: true, arrays: true }) as {
    timeseries: PromTimeSeries[];
  };
}

/** Prometheus' stale marker: a NaN with this exact bit pattern. */
export const STALE_NAN: number = new Float64Array(
  new BigUint64Array([0x7ff0000000000002n]).buffer,
)[0];

// ---------------------------------------------------------------------------------------------
// Native histograms, built like client_golang with bucket factor 1.1 (schema 3).

const NATIVE_SCHEMA = 3;
const NATIVE_ZERO_THRESHOLD = 2 ** -128;
const schemaBounds: number[] = Array.from(
  { length: 2 ** NATIVE_SCHEMA },
  (_, i) => 2 ** (i / 2 ** NATIVE_SCHEMA) / 2,
);

/** frexp: v = frac * 2^exp with frac in [0.5, 1). */
function frexp(v: number): [number, number] {
  let exp = Math.max(-1073, Math.floor(Math.log2(v)) + 1);
  let frac = v * 2 ** -exp;
  // log2 may be off by one near powers of two; correct into [0.5, 1).
  while (frac < 0.5) {
    frac *= 2;
    exp--;
  }
  while (frac >= 1) {
    frac /= 2;
    exp++;
  }
  return [frac, exp];
}

/** The schema-3 bucket index of |v| (bucket i holds (2^((i-1)/8), 2^(i/8)]). */
export function nativeBucketIndex(v: number): number {
  const [frac, exp] = frexp(Math.abs(v));
  let i = 0;
  while (i < schemaBounds.length && schemaBounds[i] < frac) i++;
  return i + (exp - 1) * schemaBounds.length;
}

class NativeHistogram {
  count = 0;
  sum = 0;
  zeroCount = 0;
  readonly positive = new Map<number, number>();
  readonly negative = new Map<number, number>();

  observe(v: number): void {
    this.count++;
    this.sum += v;
    if (Math.abs(v) <= NATIVE_ZERO_THRESHOLD) {
      this.zeroCount++;
      return;
    }
    const buckets = v > 0 ? this.positive : this.negative;
    const key = nativeBucketIndex(v);
    buckets.set(key, (buckets.get(key) ?? 0) + 1);
  }

  toProto(timestamp: number): PromHistogram {
    const pos = spansAndDeltas(this.positive);
    const neg = spansAndDeltas(this.negative);
    return {
      countInt: this.count,
      sum: this.sum,
      schema: NATIVE_SCHEMA,
      zeroThreshold: NATIVE_ZERO_THRESHOLD,
      zeroCountInt: this.zeroCount,
      negativeSpans: neg.spans,
      negativeDeltas: neg.deltas,
      positiveSpans: pos.spans,
      positiveDeltas: pos.deltas,
      timestamp,
    };
  }
}

/** Sparse buckets → spans + delta-encoded counts; gaps of ≤ 2 empty buckets are filled. */
function spansAndDeltas(
  buckets: ReadonlyMap<number, number>,
): { spans: PromBucketSpan[]; deltas: number[] } {
  const keys = [...buckets.keys()].sort((a, b) => a - b);
  const spans: { offset: number; length: number }[] = [];
  const deltas: number[] = [];
  let prevKey = 0;
  let prevCount = 0;
  for (const [n, key] of keys.entries()) {
    const gap = key - prevKey - 1;
    if (n === 0 || gap > 2) {
      spans.push({ offset: n === 0 ? key : gap, length: 0 });
    } else {
      for (let g = 0; g < gap; g++) {
        deltas.push(-prevCount);
        prevCount = 0;
        spans[spans.length - 1].length++;
      }
    }
    const count = buckets.get(key)!;
    deltas.push(count - prevCount);
    prevCount = count;
    spans[spans.length - 1].length++;
    prevKey = key;
  }
  return { spans, deltas };
}

// ---------------------------------------------------------------------------------------------
// Per-series cumulative state.

interface SeriesBase {
  /** Labels per series name, each sorted by label name (`__name__` included). */
  readonly labels: readonly PromLabel[][];
  /** Latest sample time seen, whole ms. */
  latest: number;
  /** `latest` at the last push (-1: never sent). */
  sent: number;
}
interface CounterSeries extends SeriesBase {
  readonly kind: "counter";
  sum: number;
}
interface GaugeSeries extends SeriesBase {
  readonly kind: "gauge";
  last: number;
}
interface RateSeries extends SeriesBase {
  readonly kind: "rate";
  nonZero: number;
  total: number;
}
interface TrendSeries extends SeriesBase {
  readonly kind: "trend";
  /**
   * k6 keeps every value of the run for these stats; the engine's sketch keeps memory bounded
   * (exact up to 1000 values, then ≤ 1% relative error on percentiles; count, sum, min, max
   * exact). Every value of a long run at ~200k trend samples/s grew by ~100 MB a minute.
   */
  readonly sketch: TrendSketch;
  /** 1000 for time trends: k6 sends seconds and divides every stat, count included. */
  readonly scale: number;
}
interface NativeSeries extends SeriesBase {
  readonly kind: "native";
  readonly histogram: NativeHistogram;
  readonly toSeconds: boolean;
}
type Series = CounterSeries | GaugeSeries | RateSeries | TrendSeries | NativeSeries;

function trendStat(s: TrendSeries, stat: string): number {
  const k = s.sketch;
  switch (stat) {
    case "avg":
      return k.avg();
    case "min":
      return k.min;
    case "max":
      return k.max;
    case "count":
      return k.count;
    case "sum":
      return k.sum;
  }
  return k.percentile(stat === "med" ? 0.5 : parseFloat(stat.slice(2, -1)) / 100);
}

/**
 * Converts samples into remote-write time series with k6's naming (§3.3). Pure state machine,
 * separate from the transport so that it can be tested and measured alone.
 *
 * @example
 * ```ts
 * const mapper = new RemoteWriteMapper({ trendStats: ["p(99)"], trendAsNativeHistogram: false });
 * mapper.add(samples);
 * const series = mapper.collect(); // series changed since the last collect()
 * ```
 */
export class RemoteWriteMapper {
  readonly #trendStats: readonly string[];
  readonly #native: boolean;
  readonly #series = new Map<Metric, Map<TagSet, Series>>();
  readonly #all: Series[] = [];

  constructor(opts: { trendStats: readonly string[]; trendAsNativeHistogram: boolean }) {
    this.#trendStats = opts.trendStats;
    this.#native = opts.trendAsNativeHistogram;
  }

  /** Folds samples into the cumulative state. */
  add(samples: readonly Sample[]): void {
    for (const sample of samples) {
      let byTags = this.#series.get(sample.metric);
      if (!byTags) this.#series.set(sample.metric, byTags = new Map());
      let series = byTags.get(sample.tags);
      if (!series) {
        series = this.#newSeries(sample.metric, sample.tags);
        byTags.set(sample.tags, series);
        this.#all.push(series);
      }
      const v = sample.value;
      switch (series.kind) {
        case "counter":
          series.sum += v;
          break;
        case "gauge":
          series.last = v;
          break;
        case "rate":
          series.total++;
          if (v !== 0) series.nonZero++;
          break;
        case "trend":
          series.sketch.add(v);
          break;
        case "native":
          series.histogram.observe(series.toSeconds ? v / 1000 : v);
          break;
      }
      const ms = Math.floor(sample.time);
      if (ms > series.latest) series.latest = ms;
    }
  }

  /** The series that received a newer-millisecond sample since the last call. */
  collect(): PromTimeSeries[] {
    const out: PromTimeSeries[] = [];
    for (const s of this.#all) {
      if (s.latest <= s.sent) continue;
      s.sent = s.latest;
      const ts = s.latest;
      switch (s.kind) {
        case "counter":
          out.push(floatSeries(s.labels[0], s.sum, ts));
          break;
        case "gauge":
          out.push(floatSeries(s.labels[0], s.last, ts));
          break;
        case "rate":
          out.push(floatSeries(s.labels[0], s.total === 0 ? 0 : s.nonZero / s.total, ts));
          break;
        case "trend": {
          for (const [i, stat] of this.#trendStats.entries()) {
            out.push(floatSeries(s.labels[i], trendStat(s, stat) / s.scale, ts));
          }
          break;
        }
        case "native":
          out.push({ labels: s.labels[0], samples: [], histograms: [s.histogram.toProto(ts)] });
          break;
      }
    }
    return out;
  }

  /** One stale marker per known series name, at `timestamp`. */
  staleMarkers(timestamp: number): PromTimeSeries[] {
    const out: PromTimeSeries[] = [];
    for (const s of this.#all) {
      for (const labels of s.labels) out.push(floatSeries(labels, STALE_NAN, timestamp));
    }
    return out;
  }

  /** How many (metric, tags) series exist. */
  get seriesCount(): number {
    return this.#all.length;
  }

  #newSeries(metric: Metric, tags: TagSet): Series {
    const base: PromLabel[] = [];
    for (const [name, value] of Object.entries(tags.tags)) {
      if (name !== "" && value !== "") base.push({ name, value });
    }
    const labelsFor = (seriesName: string): PromLabel[] =>
      [...base, { name: "__name__", value: seriesName }].sort((a, b) =>
        a.name < b.name ? -1 : a.name > b.name ? 1 : 0
      );
    const name = METRIC_PREFIX + metric.name;
    const common = { latest: -1, sent: -1 };
    switch (metric.type) {
      case "counter":
        return { kind: "counter", labels: [labelsFor(name + "_total")], sum: 0, ...common };
      case "gauge":
        return { kind: "gauge", labels: [labelsFor(name)], last: 0, ...common };
      case "rate":
        return {
          kind: "rate",
          labels: [labelsFor(name + "_rate")],
          nonZero: 0,
          total: 0,
          ...common,
        };
      case "trend": {
        if (this.#native) {
          const suffix = metric.contains === "time"
            ? "_seconds"
            : metric.contains === "data"
            ? "_bytes"
            : "";
          return {
            kind: "native",
            labels: [labelsFor(name + suffix)],
            histogram: new NativeHistogram(),
            toSeconds: metric.contains === "time",
            ...common,
          };
        }
        return {
          kind: "trend",
          labels: this.#trendStats.map((stat) => labelsFor(`${name}_${trendStatSuffix(stat)}`)),
          sketch: new TrendSketch(),
          scale: metric.contains === "time" ? 1000 : 1,
          ...common,
        };
      }
    }
  }
}

function floatSeries(labels: readonly PromLabel[], value: number, timestamp: number) {
  return { labels, samples: [{ value, timestamp }], histograms: [] };
}

// ---------------------------------------------------------------------------------------------
// Transport.

/** Sends one remote-write body; resolves on 2xx, rejects with a message otherwise. */
type Poster = (body: Uint8Array<ArrayBuffer>) => Promise<void>;

function makePoster(cfg: PrometheusRWConfig, target: URL, headers: Headers): Poster {
  if (target.protocol === "http:") {
    return async (body) => {
      const res = await fetch(target, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
      });
      const text = await res.text();
      if (res.status < 200 || res.status > 299) throw statusError(res.status, text);
    };
  }
  // HTTPS goes through node:https: fetch can neither skip verification nor pin the TLS minimum
  // version (k6 requires TLS 1.3 unless told 1.2).
  const cert = cfg.clientCertificate ? Deno.readTextFileSync(cfg.clientCertificate) : undefined;
  const key = cfg.clientCertificateKey
    ? Deno.readTextFileSync(cfg.clientCertificateKey)
    : undefined;
  const plainHeaders: Record<string, string> = {};
  headers.forEach((v, k) => plainHeaders[k] = v);
  return async (body) => {
    const res = await httpsPost(target, body, {
      headers: plainHeaders,
      rejectUnauthorized: !cfg.insecureSkipTLSVerify,
      minVersion: cfg.tlsMinVersion === "1.2" ? "TLSv1.2" : "TLSv1.3",
      cert,
      key,
      timeoutMs: HTTP_TIMEOUT_MS,
    });
    if (res.status < 200 || res.status > 299) throw statusError(res.status, res.text);
  };
}

function statusError(status: number, body: string): Error {
  const text = body.trim().slice(0, 512);
  return new Error(
    `got status code: ${status} instead of expected a 2xx successful status code` +
      (text ? `: ${text}` : ""),
  );
}

// ---------------------------------------------------------------------------------------------
// The output.

/**
 * The Prometheus remote-write output. Prefer the default-exported factory; the class is exported
 * for tests and for embedding with an explicit config.
 *
 * @example
 * ```ts
 * const out = new PrometheusRWOutput(parsePrometheusRWConfig({ env: Deno.env.toObject() }), logger);
 * ```
 */
export class PrometheusRWOutput implements Output {
  readonly config: PrometheusRWConfig;
  readonly #logger: Logger;
  readonly #redactor: Redactor;
  readonly #target: URL;
  readonly #headers: Headers;
  readonly #mapper: RemoteWriteMapper;
  #pendingSamples = 0;
  #flusher?: PeriodicFlusher;
  #onSlowFlush: (tookMs: number) => void = () => {};
  readonly #post: Poster;
  #pushes = 0;
  #failedPushes = 0;
  #failedSamples = 0;
  #lastError = "";

  constructor(config: PrometheusRWConfig, logger: Logger) {
    this.config = config;
    this.#logger = logger;
    const target = new URL(config.url);
    let username = config.username;
    let password = config.password;
    if (target.username || target.password) {
      // fetch refuses URLs with credentials: move them to the Authorization header.
      username ??= decodeURIComponent(target.username);
      password ??= decodeURIComponent(target.password);
    }
    target.username = "";
    target.password = "";
    this.#target = target;
    this.#redactor = new Redactor([password, config.bearerToken]);
    const headers = new Headers();
    headers.set("User-Agent", "k6-prometheus-rw-output");
    for (const [k, v] of Object.entries(config.headers)) {
      headers.set(k, v);
      if (
        /^(authorization|x-api-key|x-scope-orgid-token|cookie)$/i.test(k) || /token|secret/i.test(k)
      ) {
        this.#redactor.add(v);
      }
    }
    if (username) {
      headers.set("Authorization", `Basic ${basicAuthToken(username, password ?? "")}`);
      this.#redactor.addBasicAuth(username, password ?? "");
    }
    if (config.bearerToken) headers.set("Authorization", `Bearer ${config.bearerToken}`);
    headers.set("Content-Type", "application/x-protobuf");
    headers.set("Content-Encoding", "snappy");
    headers.set("X-Prometheus-Remote-Write-Version", "0.1.0");
    this.#headers = headers;
    this.#mapper = new RemoteWriteMapper(config);
    this.#post = makePoster(config, target, headers);
    this.#onSlowFlush = (took: number) =>
      this.#logger.warn(
        `Successful flushed time series to remote write endpoint but it took ` +
          `${formatDuration(took)} while flush period is ${formatDuration(config.pushInterval)}. ` +
          `Some samples may be dropped.`,
      );
  }

  description(): string {
    return `Prometheus remote write (${this.#target.href})`;
  }

  start(): Promise<void> {
    const period = this.config.pushInterval;
    this.#flusher = new PeriodicFlusher(period, async () => {
      const began = performance.now();
      await this.#flush();
      const took = performance.now() - began;
      if (took > period) this.#onSlowFlush(took);
    }, { onError: () => {} });
    return Promise.resolve();
  }

  /**
   * Aggregates at once (O(1) per sample into its series) instead of holding the push
   * interval's Sample objects (5 s by default), which cost GC time and ~300 MB of RSS in
   * deno task bench.
   */
  addMetricSamples(samples: readonly Sample[]): void {
    if (samples.length === 0) return;
    this.#mapper.add(samples);
    this.#pendingSamples += samples.length;
  }

  async stop(): Promise<void> {
    await this.#flusher?.stop().catch(() => {});
    if (this.config.staleMarkers && this.#mapper.seriesCount > 0) {
      const at = Math.floor(Date.now()) + 1;
      await this.#push(this.#mapper.staleMarkers(at), 0);
    }
  }

  stats(): OutputStats {
    const dropped = this.#failedSamples;
    const notes: string[] = [];
    if (this.#failedPushes > 0) {
      notes.push(`${this.#failedPushes} of ${this.#pushes} pushes failed: ${this.#lastError}`);
    }
    return notes.length > 0 ? { droppedSamples: dropped, note: notes.join("; ") } : {
      droppedSamples: dropped,
    };
  }

  async #flush(): Promise<void> {
    const count = this.#pendingSamples;
    this.#pendingSamples = 0;
    const series = this.#mapper.collect();
    if (series.length === 0) return;
    await this.#push(series, count);
  }

  async #push(series: PromTimeSeries[], sampleCount: number): Promise<void> {
    this.#pushes++;
    const began = performance.now();
    try {
      await this.#post(encodeWriteRequest(series));
      this.#logger.debug("Successful flushed time series to remote write endpoint", {
        nts: series.length,
        took: `${Math.round(performance.now() - began)}ms`,
      });
    } catch (err) {
      this.#failedPushes++;
      this.#failedSamples += sampleCount;
      this.#lastError = this.#redactor.redact(errorChain(err));
      // k6 logs this at error level; the run goes on (no retry).
      this.#logger.error("Failed to send the time series data to the endpoint", {
        error: this.#lastError,
        url: this.#target.href,
      });
    }
  }
}

/** Parses the config (JSON < env; the `--out` argument is ignored, as in k6) and builds it. */
const prometheusRW: OutputFactory = (params: OutputParams): Output => {
  const logger = params.logger.with({ output: "Prometheus remote write" });
  if (params.configArgument !== "") {
    logger.warn(
      `the argument of --out ${PROMETHEUS_RW_OUTPUT_NAME}=... is ignored; ` +
        `use K6_PROMETHEUS_RW_SERVER_URL`,
    );
  }
  const config = parsePrometheusRWConfig(
    { env: params.env, jsonConfig: params.jsonConfig },
    (msg) => logger.warn(msg),
  );
  return new PrometheusRWOutput(config, logger);
};

export default prometheusRW;
