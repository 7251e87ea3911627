/**
 * The `json` output (outputs-files.md §4): newline-delimited JSON, one `Metric` line before
 * the first `Point` of each metric, then one `Point` line per sample, with k6 HEAD's key
 * order and number/string encoding (DECISIONS.md #4). `--out json` / `json=-` writes to
 * stdout, `json=<file>` to a file (gzip when it ends in `.gz`). Flushed every 200 ms. There
 * are no options.
 *
 * Lines are built by hand with per-metric prefixes and per-tag-set `"tags"` fragments cached
 * by identity: the project's measurement put hand-rolled encoding at ~1.7M samples/s against
 * ~0.35M/s for `JSON.stringify` per sample.
 *
 * @example
 * ```ts
 * const output = await jsonFactory({ ...params, outputType: "json", configArgument: "out.json" });
 * ```
 * @module
 */
import { formatDuration, parseDuration } from "../config/duration.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Metric } from "../metrics/metric.ts";
import type { Sample } from "../metrics/sample.ts";
import type { TagSet } from "../metrics/tags.ts";
import { jsonString, LocalTimeFormatter, writeJSONNumber } from "./_format.ts";
import { FileWriter } from "./_file_writer.ts";
import { enabledSystemTags, submetricsEnabled } from "./_options.ts";
import { PeriodicFlusher } from "./helpers.ts";
import { ByteSink, CachedTime, EncodedQueue } from "./_byte_sink.ts";
import { IdCache } from "./_id_cache.ts";
import type {
  Output,
  OutputFactory,
  OutputParams,
  OutputStats,
  TestRunError,
  Threshold,
} from "./types.ts";

/** k6's fixed JSON flush period. */
const flushPeriodMs = 200;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();
const VALUE_KEY = utf8.encode('","value":');
const LINE_END = utf8.encode("}}\n");

/** One submetric as the `Metric` line lists it. */
export interface JsonSubmetric {
  readonly name: string;
  readonly suffix: string;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * Parses a threshold key's selector the way k6 builds a submetric: trimmed text inside the
 * braces, comma-separated `key:value` pairs, each side trimmed of spaces and quotes.
 */
export function parseSubmetric(parent: string, selector: string): JsonSubmetric {
  const suffix = selector.trim();
  const tags: Record<string, string> = {};
  for (const kv of suffix.split(",")) {
    if (kv === "") continue;
    const at = kv.indexOf(":");
    const key = trimQuotes(at < 0 ? kv : kv.slice(0, at));
    tags[key] = at < 0 ? "" : trimQuotes(kv.slice(at + 1));
  }
  return { name: `${parent}{${suffix}}`, suffix, tags };
}

function trimQuotes(s: string): string {
  return s.trim().replace(/^["']+|["']+$/g, "");
}

function sameTags(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** A JSON object with keys in ascending order, values as Go encodes strings. */
function tagsObject(tags: Readonly<Record<string, string>>): string {
  const keys = Object.keys(tags);
  keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let text = "{";
  for (let i = 0; i < keys.length; i++) {
    text += (i === 0 ? "" : ",") + jsonString(keys[i]) + ":" + jsonString(tags[keys[i]]);
  }
  return text + "}";
}

function thresholdJSON(t: Threshold): string {
  if (!t.abortOnFail) return jsonString(t.source);
  let delay = "null";
  if (t.delayAbortEval !== undefined && t.delayAbortEval !== "") {
    let text = t.delayAbortEval;
    try {
      text = formatDuration(parseDuration(t.delayAbortEval, "delayAbortEval"));
    } catch {
      // Validation happens elsewhere; echo what was written.
    }
    delay = jsonString(text);
  }
  return `{"threshold":${jsonString(t.source)},"abortOnFail":true,"delayAbortEval":${delay}}`;
}

/**
 * Encodes samples as k6 JSON lines. Exposed for the benchmark and tests; the output uses it.
 *
 * @example
 * ```ts
 * const enc = new JsonEncoder(new Map(), { systemTags: [] });
 * enc.encode(samples, 0, samples.length); // Metric and Point lines
 * ```
 */
export class JsonEncoder {
  readonly #thresholds: ReadonlyMap<string, readonly Threshold[]>;
  readonly #submetrics = new Map<string, JsonSubmetric[]>();
  readonly #pointPrefix = new IdCache<Metric, Uint8Array>();
  readonly #declared = new Set<string>();
  /** The time, then `","value":`. */
  readonly #time: CachedTime;
  /** `,"tags":{...}}}\n`: the tags and the line's end (see {@link JsonEncoder.encodeTo}). */
  readonly #tagsTail = new IdCache<TagSet, Uint8Array>();
  #lastMetadata: Readonly<Record<string, string>> | undefined;
  #lastMetadataBytes = new Uint8Array(0);
  /** Samples skipped because their value has no JSON form (NaN, ±Inf). */
  skipped = 0;

  constructor(
    thresholds: ReadonlyMap<string, readonly Threshold[]>,
    options: Readonly<Record<string, unknown>>,
  ) {
    this.#thresholds = thresholds;
    const local = new LocalTimeFormatter();
    this.#time = new CachedTime((t, buf) => local.writeRfc3339Nano(t, buf), VALUE_KEY);
    if (!submetricsEnabled(options)) return;
    const add = (parent: string, selector: string) => {
      const sub = parseSubmetric(parent, selector);
      const list = this.#submetrics.get(parent) ?? [];
      if (!list.some((s) => sameTags(s.tags, sub.tags))) list.push(sub);
      this.#submetrics.set(parent, list);
    };
    for (const key of thresholds.keys()) {
      const brace = key.indexOf("{");
      if (brace < 0 || !key.endsWith("}")) continue;
      add(key.slice(0, brace), key.slice(brace + 1, -1));
    }
    if (enabledSystemTags(options).includes("expected_response")) {
      add("http_req_duration", "expected_response:true");
    }
  }

  /** The `Metric` declaration line of a metric. */
  metricLine(metric: Metric): string {
    const name = jsonString(metric.name);
    const thresholds = this.#thresholds.get(metric.name) ?? [];
    const subs = this.#submetrics.get(metric.name);
    const subText = subs === undefined ? "null" : "[" +
      subs.map((s) =>
        `{"name":${jsonString(s.name)},"suffix":${jsonString(s.suffix)},"tags":${
          tagsObject(s.tags)
        }}`
      ).join(",") + "]";
    return `{"type":"Metric","data":{"name":${name},"type":"${metric.type}",` +
      `"contains":"${metric.contains}","thresholds":[${
        thresholds.map(thresholdJSON).join(",")
      }],"submetrics":${subText}},"metric":${name}}\n`;
  }

  /** `Metric` lines (first time a metric is seen) and `Point` lines for `samples[from..to)`. */
  encode(samples: readonly Sample[], from: number, to: number): string {
    const sink = new ByteSink(1024);
    this.encodeTo(samples, from, to, sink);
    return utf8Decoder.decode(sink.take());
  }

  /**
   * Appends the lines for `samples[from..to)` to `sink` as UTF-8 bytes: the per-metric prefix
   * and per-tag-set `"tags"` object are cached as bytes, time and value are ASCII, so Point
   * lines never become JS strings (the output's hot path).
   */
  encodeTo(samples: readonly Sample[], from: number, to: number, sink: ByteSink): void {
    for (let i = from; i < to; i++) {
      const s = samples[i];
      const prefix = this.#pointPrefix.get(s.metric) ?? this.#declare(s.metric, sink);
      const v = s.value;
      if (v - v !== 0) {
        this.skipped++; // NaN or ±Inf: no JSON form
        continue;
      }
      const tail = this.#tagsTail.get(s.tags) ??
        this.#tagsTail.set(s.tags, utf8.encode(',"tags":' + tagsObject(s.tags.tags) + "}}\n"));
      sink.bytes(prefix);
      this.#time.write(sink, s.time);
      writeJSONNumber(sink, v);
      if (s.metadata === undefined) {
        sink.bytes(tail);
      } else {
        // The tail without its `}}\n`, the metadata, then the end.
        sink.bytesN(tail, tail.length - LINE_END.length);
        sink.bytes(this.#encodeMetadata(s.metadata));
        sink.bytes(LINE_END);
      }
    }
  }

  /** Writes the metric's `Metric` line unless already written; returns its Point prefix. */
  #declare(metric: Metric, sink: ByteSink): Uint8Array {
    if (!this.#declared.has(metric.name)) {
      this.#declared.add(metric.name);
      sink.bytes(utf8.encode(this.metricLine(metric)));
    }
    return this.#pointPrefix.set(
      metric,
      utf8.encode(`{"metric":${jsonString(metric.name)},"type":"Point","data":{"time":"`),
    );
  }

  #encodeMetadata(metadata: Readonly<Record<string, string>>): Uint8Array {
    if (metadata === this.#lastMetadata) return this.#lastMetadataBytes;
    // k6 omits empty metadata too (its encoder skips an empty map).
    const text = Object.keys(metadata).length === 0 ? "" : ',"metadata":' + tagsObject(metadata);
    this.#lastMetadata = metadata;
    this.#lastMetadataBytes = utf8.encode(text);
    return this.#lastMetadataBytes;
  }
}

/** The JSON output; create it through the `json` factory (default export). */
export class JsonOutput implements Output {
  /** `-` means stdout. */
  readonly fileName: string;
  readonly #params: OutputParams;
  readonly #logger: Logger;
  /** Lines encoded as batches arrive, written out every 200 ms. */
  readonly #queue: EncodedQueue;
  #skippedLogged = 0;
  #thresholds: ReadonlyMap<string, readonly Threshold[]> = new Map();
  #encoder?: JsonEncoder;
  #writer?: FileWriter;
  #flusher?: PeriodicFlusher;

  constructor(params: OutputParams) {
    this.#params = params;
    this.fileName = params.configArgument === "" ? "-" : params.configArgument;
    this.#logger = params.logger.with({ output: "json", filename: this.fileName });
    this.#queue = new EncodedQueue("json", this.#logger);
  }

  description(): string {
    return this.fileName === "-" ? "json(stdout)" : `json (${this.fileName})`;
  }

  setThresholds(thresholds: ReadonlyMap<string, readonly Threshold[]>): void {
    this.#thresholds = thresholds;
  }

  async start(): Promise<void> {
    let logged = false;
    this.#encoder = new JsonEncoder(this.#thresholds, this.#params.options);
    this.#writer = await FileWriter.open(this.fileName, {
      gzip: this.fileName.endsWith(".gz"),
      stdout: this.#params.stdout,
      onError: (err) => {
        if (logged) return;
        logged = true;
        this.#logger.error("JSON: Error writing to file", { error: errorMessage(err) });
      },
    });
    this.#flusher = new PeriodicFlusher(flushPeriodMs, () => this.#flush(), {
      logger: this.#logger,
    });
  }

  addMetricSamples(samples: readonly Sample[]): void {
    const encoder = this.#encoder;
    if (!encoder) return this.#queue.refuse(samples.length); // before start(): counted
    const early = this.#queue.add(
      samples,
      (batch, sink) => encoder.encodeTo(batch, 0, batch.length, sink),
    );
    if (early) this.#flusher?.requestFlush();
  }

  async stop(_testError?: TestRunError | null): Promise<void> {
    try {
      await this.#flusher?.stop();
    } finally {
      await this.#writer?.close();
    }
  }

  stats(): OutputStats {
    const dropped = this.#queue.dropped + this.#queue.lost + (this.#encoder?.skipped ?? 0);
    const notes: string[] = [];
    const skipped = this.#encoder?.skipped ?? 0;
    if (skipped > 0) notes.push(`${skipped} samples with NaN/Inf values could not be encoded`);
    const errors = this.#writer?.errors;
    if (errors && errors.count > 0) {
      notes.push(
        `${errors.count} write${errors.count === 1 ? "" : "s"} to ${this.fileName} failed: ` +
          errors.last,
      );
    }
    return notes.length > 0
      ? { droppedSamples: dropped, note: notes.join("; ") }
      : { droppedSamples: dropped };
  }

  async #flush(): Promise<void> {
    const writer = this.#writer;
    const encoder = this.#encoder;
    if (!writer || !encoder) return;
    await this.#queue.drain((bytes) => {
      writer.appendBytes(bytes);
      return writer.flush();
    });
    const skippedBefore = this.#skippedLogged;
    this.#skippedLogged = encoder.skipped;
    const skipped = encoder.skipped - skippedBefore;
    if (skipped > 0) {
      this.#logger.error(`${skipped} samples could not be encoded to JSON (NaN or Inf values)`);
    }
  }
}

/** The `json` output factory. The argument is the file name, verbatim (`-`/empty: stdout). */
const jsonFactory: OutputFactory = (params) => new JsonOutput(params);

export default jsonFactory;
