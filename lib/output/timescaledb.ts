/**
 * The TimescaleDB output, compatible with the `grafana/xk6-output-timescaledb` schema
 * (outputs-services.md §6), so its Grafana dashboards work unchanged: every `pushInterval` all
 * buffered samples are `COPY`ed into `samples (ts, metric, value, tags jsonb)` and every
 * threshold's `last_failed` is updated in `thresholds`. On a server without the timescaledb
 * extension the same tables are plain PostgreSQL tables.
 *
 * Invocation: `--out timescaledb=postgresql://user:pass@host:5432/db` (or
 * `collectors.timescaledb.url`; default `postgresql://localhost/myk6timescaleDB`);
 * `K6_TIMESCALEDB_PUSH_INTERVAL` / `pushInterval` (default `1s`).
 *
 * PostgreSQL client: `postgres` (porsager) 3.4.9 — pure JS, runs under Deno 2 through `npm:`,
 * supports COPY FROM STDIN. Measured here against a local PostgreSQL 15 (100k rows/batch):
 * COPY ≈ 2–3 µs per row wall time, a single `INSERT ... SELECT FROM unnest($arrays)` ≈ 3.5–4 µs,
 * a JSON-array insert ≈ 3–4 µs; COPY also matches what the extension does. Rows go in COPY's
 * binary format ({@link BinaryCopyEncoder}) when the table's column types allow, else as text.
 *
 * @example
 * ```ts
 * import timescaledb from "./timescaledb.ts";
 * const output = await timescaledb({
 *   ...params,
 *   configArgument: "postgresql://k6:k6@127.0.0.1:5432/k6",
 * });
 * await output.start();
 * ```
 * @module
 */
import postgres from "postgres";
import { errorMessage, SpateError } from "../errors.ts";
import type { Sample } from "../metrics/sample.ts";
import { sampleTimeParts } from "../metrics/sample.ts";
import type { TagSet } from "../metrics/tags.ts";
import type { Output, OutputFactory, OutputParams, OutputStats, Threshold } from "./types.ts";
import { PeriodicFlusher } from "./helpers.ts";
import { ByteSink, CachedTime, textTimeWriter } from "./_byte_sink.ts";
import { IdCache } from "./_id_cache.ts";
import { writeMillionths } from "./_format.ts";
import { Buffer } from "node:buffer";
import type { Metric } from "../metrics/metric.ts";
import { jsonObject, maskCredentials, readDurationMs, readString } from "./_service_config.ts";

/** TimescaleDB output options. */
export interface TimescaleConfig {
  url: string;
  pushIntervalMs: number;
}

/**
 * Merges defaults < `collectors.timescaledb` JSON < environment < `--out` argument.
 *
 * @example
 * ```ts
 * timescaleConfig({ configArgument: "postgresql://h/db", env: {} }).url; // "postgresql://h/db"
 * ```
 */
export function timescaleConfig(
  params: { configArgument: string; env: Readonly<Record<string, string>>; jsonConfig?: unknown },
): TimescaleConfig {
  const cfg: TimescaleConfig = {
    url: "postgresql://localhost/myk6timescaleDB",
    pushIntervalMs: 1000,
  };
  const json = jsonObject(params.jsonConfig, "timescaledb");
  if (json.url !== undefined) cfg.url = readString(json.url, "collectors.timescaledb.url");
  if (json.pushInterval !== undefined) {
    cfg.pushIntervalMs = readDurationMs(json.pushInterval, "collectors.timescaledb.pushInterval");
  }
  const env = params.env.K6_TIMESCALEDB_PUSH_INTERVAL;
  if (env !== undefined) cfg.pushIntervalMs = readDurationMs(env, "K6_TIMESCALEDB_PUSH_INTERVAL");
  if (params.configArgument !== "") cfg.url = params.configArgument;
  return cfg;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS samples (
     ts timestamptz NOT NULL DEFAULT current_timestamp,
     metric varchar(128) NOT NULL,
     tags jsonb,
     value real)`,
  `CREATE INDEX IF NOT EXISTS idx_samples_ts ON samples (ts DESC)`,
  `CREATE TABLE IF NOT EXISTS thresholds (
     id serial,
     ts timestamptz NOT NULL DEFAULT current_timestamp,
     metric varchar(128) NOT NULL,
     tags jsonb,
     threshold varchar(128) NOT NULL,
     abort_on_fail boolean DEFAULT FALSE,
     delay_abort_eval varchar(128),
     last_failed boolean DEFAULT FALSE)`,
  `CREATE INDEX IF NOT EXISTS idx_thresholds_ts ON thresholds (ts DESC)`,
];

/**
 * Splits a threshold key `name{k:v,k2:v2}` into the metric name and its selector tags.
 *
 * @example
 * ```ts
 * splitThresholdKey("http_req_duration{status:200}"); // { metric: "http_req_duration", tags: { status: "200" } }
 * ```
 */
export function splitThresholdKey(
  key: string,
): { metric: string; tags: Record<string, string> | null } {
  const open = key.indexOf("{");
  if (open < 0 || !key.endsWith("}")) return { metric: key.trim(), tags: null };
  const tags: Record<string, string> = {};
  for (const part of key.slice(open + 1, -1).split(",")) {
    const at = part.indexOf(":");
    if (at < 0) continue;
    tags[part.slice(0, at).trim()] = part.slice(at + 1).trim().replace(/^["'`]|["'`]$/g, "");
  }
  return { metric: key.slice(0, open).trim(), tags };
}

/**
 * Encodes samples as rows of PostgreSQL's COPY text format: `ts\tmetric\tvalue\ttags\n`.
 * The timestamp prefix is cached per second and the tags JSON per interned tag set.
 *
 * @example
 * ```ts
 * new CopyEncoder().row(sample); // '2026-01-01T10:00:00.123456Z\tvus\t10\t{}\n'
 * ```
 */
export class CopyEncoder {
  readonly #tags = new WeakMap<TagSet, string>();
  #second = NaN;
  #secondText = "";

  readonly #metricBytes = new IdCache<Metric, Uint8Array>();
  readonly #tagBytes = new IdCache<TagSet, Uint8Array>();
  /** `2026-01-01T10:00:00.123456` (the `Z` is in the metric column's bytes). */
  readonly #time = new CachedTime(textTimeWriter((time) => this.#timeText(time)));

  #timeText(time: number): string {
    const { seconds, nanos } = sampleTimeParts(time);
    if (seconds !== this.#second) {
      this.#second = seconds;
      this.#secondText = new Date(seconds * 1000).toISOString().slice(0, 19);
    }
    return this.#secondText + "." + String(nanos / 1000).padStart(6, "0");
  }

  /**
   * Appends one COPY row (newline included) to `sink` as bytes: the same text as
   * {@link CopyEncoder.row}, with the metric and tag columns cached as bytes.
   */
  rowTo(sample: Sample, sink: ByteSink): void {
    const metric = this.#metricBytes.get(sample.metric) ??
      this.#metricBytes.set(sample.metric, utf8.encode("Z\t" + sample.metric.name + "\t"));
    const tags = this.#tagBytes.get(sample.tags) ??
      this.#tagBytes.set(sample.tags, utf8.encode("\t" + this.#tagText(sample.tags) + "\n"));
    this.#time.write(sink, sample.time);
    sink.bytes(metric);
    if (!writeMillionths(sink, sample.value, true)) sink.ascii(String(sample.value));
    sink.bytes(tags);
  }

  #tagText(set: TagSet): string {
    let tags = this.#tags.get(set);
    if (tags === undefined) {
      // In COPY text format a backslash must be doubled. JSON.stringify already escapes tabs
      // and newlines, so no raw delimiter can appear.
      tags = tagsJson(set).replaceAll("\\", "\\\\");
      this.#tags.set(set, tags);
    }
    return tags;
  }

  /** One COPY row, newline included. */
  row(sample: Sample): string {
    return this.#timeText(sample.time) + "Z\t" + sample.metric.name + "\t" +
      String(sample.value) + "\t" + this.#tagText(sample.tags) + "\n";
  }
}

/**
 * The tags as a JSON object for the `jsonb` column. jsonb rejects `\u0000`, so NUL characters
 * are left out of keys and values (a search-and-replace on the JSON text could split an
 * escaped backslash).
 */
function tagsJson(set: TagSet): string {
  const json = JSON.stringify(set.tags);
  if (!json.includes("\\u0000")) return json;
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(set.tags)) {
    clean[k.replaceAll("\0", "")] = v.replaceAll("\0", "");
  }
  return JSON.stringify(clean);
}

/** `PGCOPY\n\xff\r\n\0`, then 32-bit flags and header-extension length, both zero. */
const BINARY_COPY_HEADER = Uint8Array.from(
  "PGCOPY\n\xff\r\n\0" + "\0".repeat(8),
  (c) => c.charCodeAt(0),
);
/** The binary COPY trailer: a tuple field count of -1. */
const BINARY_COPY_TRAILER = new Uint8Array([0xff, 0xff]);
/** 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix seconds. */
const PG_EPOCH_SECONDS = 946_684_800;

/**
 * Encodes samples as tuples of PostgreSQL's binary COPY format (what the extension's pgx
 * `CopyFrom` sends): the server skips parsing timestamps and numbers, and took 2.4–2.6 s per
 * million rows against 2.9 s for the same rows as text (PostgreSQL 15 here, with the
 * `idx_samples_ts` index). The columns are `ts` (int64 µs since 2000), `metric` (UTF-8),
 * `value` (float4 for `real`, float8 for `double precision`) and `tags` (jsonb version 1 + JSON
 * text). Metric and tag fields are cached as bytes; the time field while it repeats.
 *
 * @example
 * ```ts
 * const sink = new ByteSink();
 * new BinaryCopyEncoder("real").rowTo(sample, sink); // one tuple, without header or trailer
 * ```
 */
export class BinaryCopyEncoder {
  readonly #metricBytes = new IdCache<Metric, Uint8Array>();
  readonly #tagBytes = new IdCache<TagSet, Uint8Array>();
  /** Field count, then the `ts` field: 2 + 4 + 8 bytes. */
  readonly #head = new Uint8Array(14);
  readonly #headView = new DataView(this.#head.buffer);
  readonly #value = new Uint8Array(12);
  readonly #valueView = new DataView(this.#value.buffer);
  readonly #float8: boolean;
  #lastTime = NaN;

  /** `valueType` is the `value` column's type. */
  constructor(valueType: "real" | "double precision") {
    this.#float8 = valueType === "double precision";
    this.#headView.setInt16(0, 4);
    this.#headView.setInt32(2, 8);
    this.#valueView.setInt32(0, this.#float8 ? 8 : 4);
  }

  /** Appends one tuple to `sink`. */
  rowTo(sample: Sample, sink: ByteSink): void {
    if (sample.time !== this.#lastTime) {
      this.#lastTime = sample.time;
      const { seconds, nanos } = sampleTimeParts(sample.time);
      const micros = (seconds - PG_EPOCH_SECONDS) * 1e6 + nanos / 1000;
      const high = Math.floor(micros / 4294967296);
      this.#headView.setInt32(6, high);
      this.#headView.setUint32(10, micros - high * 4294967296);
    }
    sink.bytesN(this.#head, 14);
    let metric = this.#metricBytes.get(sample.metric);
    if (metric === undefined) {
      metric = lengthPrefixed(utf8.encode(sample.metric.name), 0);
      this.#metricBytes.set(sample.metric, metric);
    }
    sink.bytes(metric);
    if (this.#float8) {
      this.#valueView.setFloat64(4, sample.value);
      sink.bytesN(this.#value, 12);
    } else {
      this.#valueView.setFloat32(4, sample.value);
      sink.bytesN(this.#value, 8);
    }
    let tags = this.#tagBytes.get(sample.tags);
    if (tags === undefined) {
      tags = lengthPrefixed(utf8.encode(tagsJson(sample.tags)), 1);
      this.#tagBytes.set(sample.tags, tags);
    }
    sink.bytes(tags);
  }
}

/** A binary COPY field: 32-bit length, then an optional version byte (jsonb: 1) and `bytes`. */
function lengthPrefixed(bytes: Uint8Array, version: 0 | 1): Uint8Array {
  const out = new Uint8Array(4 + version + bytes.length);
  new DataView(out.buffer).setInt32(0, version + bytes.length);
  if (version) out[4] = version;
  out.set(bytes, 4 + version);
  return out;
}

interface StoredThreshold {
  id: number;
  threshold: Threshold;
}

const PG_INVALID_CATALOG = "3D000";

/** Rows waiting beyond this many bytes: later batches are dropped and counted. */
const maxPendingBytes = 256 << 20;
/** Size at which the pending COPY text is cut into a segment. */
const segmentBytes = 4 << 20;
const utf8 = new TextEncoder();

class TimescaleOutput implements Output {
  readonly #params: OutputParams;
  readonly #cfg: TimescaleConfig;
  /** Binary COPY when `samples` has the column types it can write, else text (see start()). */
  #encoder: CopyEncoder | BinaryCopyEncoder = new CopyEncoder();
  /**
   * COPY rows encoded as batches arrive (holding Sample objects for a second cost more), cut
   * into {@link segmentBytes} segments whose buffers are reused once written: one buffer per
   * flush grew by doubling to 128 MB at ~50 MB/s of rows, and zeroing those fresh pages was a
   * third of the main thread (`perf`, 2026-11-21).
   */
  readonly #pending = new ByteSink(segmentBytes + (256 << 10), { maxSpares: 32 });
  #segments: Uint8Array<ArrayBuffer>[] = [];
  #segmentBytes = 0;
  #pendingCount = 0;
  #dropped = 0;
  #sql: postgres.Sql | undefined;
  #flusher: PeriodicFlusher | undefined;
  #thresholds: ReadonlyMap<string, readonly Threshold[]> = new Map();
  #stored: StoredThreshold[] = [];
  #failed = 0;
  #failedFlushes = 0;
  #lastError = "";
  #hypertable = false;

  constructor(params: OutputParams, cfg: TimescaleConfig) {
    this.#params = params;
    this.#cfg = cfg;
  }

  description(): string {
    const kind = this.#hypertable ? "hypertable" : "plain tables";
    return `TimescaleDB (${maskCredentials(this.#cfg.url)}, ${kind})`;
  }

  setThresholds(thresholds: ReadonlyMap<string, readonly Threshold[]>): void {
    this.#thresholds = thresholds;
  }

  #safe(text: string): string {
    let out = maskCredentials(text);
    try {
      const pw = decodeURIComponent(new URL(this.#cfg.url).password);
      if (pw !== "") out = out.replaceAll(pw, "***");
    } catch { /* not a URL: nothing to hide */ }
    return out;
  }

  #connect(url: string): postgres.Sql {
    return postgres(url, {
      onnotice: () => {}, // "relation already exists, skipping" on every start
      max: 2,
      connect_timeout: 5,
      idle_timeout: 30,
      // Sample batches are sent once; a dead server must not make the driver queue them.
      max_lifetime: null,
    });
  }

  async start(): Promise<void> {
    const url = this.#cfg.url;
    const fail = (what: string, err: unknown) =>
      new SpateError(
        "output",
        `timescaledb: ${what} ${maskCredentials(url)}: ${this.#safe(errorMessage(err))}`,
      );
    let sql = this.#connect(url);
    try {
      await sql`SELECT 1`;
    } catch (err) {
      await sql.end({ timeout: 1 }).catch(() => {});
      if ((err as { code?: string }).code !== PG_INVALID_CATALOG) {
        throw fail("can't connect to", err);
      }
      // The database is missing: create it from the maintenance database, as the extension's
      // `CREATE DATABASE` at start intends.
      await this.#createDatabase(url).catch((e) => {
        throw fail("can't create the database of", e);
      });
      sql = this.#connect(url);
    }
    this.#sql = sql;
    try {
      await this.#createSchema(sql);
      this.#encoder = await this.#chooseEncoder(sql);
      await this.#insertThresholds(sql);
    } catch (err) {
      await sql.end({ timeout: 1 }).catch(() => {});
      this.#sql = undefined;
      throw fail("can't set up the schema in", err);
    }
    this.#flusher = new PeriodicFlusher(this.#cfg.pushIntervalMs, () => this.#flush(), {
      onError: (err) => {
        this.#params.logger.error("timescaledb: flush failed", {
          error: this.#safe(errorMessage(err)),
        });
      },
    });
  }

  async #createDatabase(url: string): Promise<void> {
    const parsed = new URL(url);
    const db = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
    parsed.pathname = "/postgres";
    const admin = this.#connect(parsed.toString());
    try {
      await admin.unsafe(`CREATE DATABASE "${db.replaceAll('"', '""')}"`);
    } finally {
      await admin.end({ timeout: 1 }).catch(() => {});
    }
  }

  async #createSchema(sql: postgres.Sql): Promise<void> {
    for (const statement of SCHEMA) await sql.unsafe(statement);
    const [ext] = await sql`
      SELECT current_setting('timescaledb.max_background_workers', true) IS NOT NULL AS preloaded
      FROM pg_available_extensions WHERE name = 'timescaledb'`;
    if (!ext) return;
    if (!ext.preloaded) {
      // CREATE EXTENSION would end the session (FATAL "must be preloaded"). The setting above
      // exists only once the server has loaded TimescaleDB's loader at start.
      this.#params.logger.warn(
        "timescaledb: the server has the timescaledb extension but does not preload it " +
          "(shared_preload_libraries); samples stays a plain table",
      );
      return;
    }
    try {
      await sql`CREATE EXTENSION IF NOT EXISTS timescaledb`;
      await sql`SELECT create_hypertable('samples', 'ts', if_not_exists => TRUE, migrate_data => TRUE)`;
      this.#hypertable = true;
    } catch (err) {
      this.#params.logger.warn(
        "timescaledb: couldn't make samples a hypertable; using a plain table",
        {
          error: this.#safe(errorMessage(err)),
        },
      );
    }
  }

  /**
   * Binary COPY needs each field in its column's exact type. The schema above has them, but
   * a `samples` table created elsewhere may not: text COPY lets the server convert.
   */
  async #chooseEncoder(sql: postgres.Sql): Promise<CopyEncoder | BinaryCopyEncoder> {
    const columns = await sql<{ name: string; type: string }[]>`
      SELECT attname AS name, atttypid::regtype::text AS type FROM pg_attribute
      WHERE attrelid = 'samples'::regclass AND attnum > 0 AND NOT attisdropped`;
    const type = new Map(columns.map((c) => [c.name, c.type]));
    const value = type.get("value");
    const binary = ["timestamp with time zone", "timestamp without time zone"].includes(
      type.get("ts") ?? "",
    ) &&
      ["character varying", "text"].includes(type.get("metric") ?? "") &&
      type.get("tags") === "jsonb" &&
      (value === "real" || value === "double precision");
    if (binary) return new BinaryCopyEncoder(value);
    this.#params.logger.debug("timescaledb: samples has other column types; using text COPY", {
      columns: columns.map((c) => `${c.name} ${c.type}`).join(", "),
    });
    return new CopyEncoder();
  }

  async #insertThresholds(sql: postgres.Sql): Promise<void> {
    for (const [key, list] of this.#thresholds) {
      const { metric, tags } = splitThresholdKey(key);
      for (const threshold of list) {
        const [row] = await sql<{ id: number }[]>`
          INSERT INTO thresholds (metric, tags, threshold, abort_on_fail, delay_abort_eval, last_failed)
          VALUES (${metric}, ${tags === null ? null : JSON.stringify(tags)}::text::jsonb,
                  ${threshold.source}, ${threshold.abortOnFail},
                  ${threshold.delayAbortEval ?? null}, ${threshold.lastFailed})
          RETURNING id`;
        this.#stored.push({ id: row.id, threshold });
      }
    }
  }

  addMetricSamples(samples: readonly Sample[]): void {
    if (samples.length === 0) return;
    const pending = this.#pending;
    if (this.#segmentBytes + pending.length >= maxPendingBytes) {
      this.#dropped += samples.length;
      return;
    }
    for (let i = 0; i < samples.length; i++) {
      this.#encoder.rowTo(samples[i], pending);
      if (pending.length >= segmentBytes) this.#cutSegment();
    }
    this.#pendingCount += samples.length;
  }

  #cutSegment(): void {
    if (this.#pending.length === 0) return;
    const segment = this.#pending.take();
    this.#segments.push(segment);
    this.#segmentBytes += segment.length;
  }

  /** Bounds every database round trip so a silent server can't hold stop() forever. */
  #deadline<T>(work: Promise<T>): Promise<T> {
    const ms = Math.max(10_000, 2 * this.#cfg.pushIntervalMs);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms}ms`)), ms);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  async #flush(): Promise<void> {
    const sql = this.#sql;
    if (!sql) return;
    const count = this.#pendingCount;
    if (count > 0) {
      this.#cutSegment();
      const segments = this.#segments;
      this.#segments = [];
      this.#segmentBytes = 0;
      this.#pendingCount = 0;
      const copy = this.#copy(sql, segments);
      // The driver copies each chunk as it is written: once the COPY settles, the buffers are free.
      const recycle = () => {
        for (const segment of segments) this.#pending.recycle(segment);
      };
      copy.then(recycle, recycle);
      try {
        await this.#deadline(copy);
      } catch (err) {
        this.#failed += count;
        this.#failedFlushes++;
        this.#lastError = this.#safe(errorMessage(err));
        this.#params.logger.error(`timescaledb: couldn't write ${count} samples`, {
          error: this.#lastError,
        });
      }
    }
    if (this.#stored.length > 0) {
      try {
        // One statement for all thresholds (the extension sends a batch of UPDATEs).
        const rows = JSON.stringify(
          this.#stored.map((s) => ({ id: s.id, failed: s.threshold.lastFailed })),
        );
        await this.#deadline(sql`
          UPDATE thresholds SET last_failed = u.failed
          FROM jsonb_to_recordset(${rows}::text::jsonb) AS u(id int, failed bool)
          WHERE thresholds.id = u.id`.execute());
      } catch (err) {
        this.#params.logger.warn("timescaledb: couldn't update thresholds", {
          error: this.#safe(errorMessage(err)),
        });
      }
    }
  }

  async #copy(sql: postgres.Sql, segments: readonly Uint8Array[]): Promise<void> {
    const binary = this.#encoder instanceof BinaryCopyEncoder;
    const query = binary
      ? sql`COPY samples (ts, metric, value, tags) FROM STDIN (FORMAT binary)`
      : sql`COPY samples (ts, metric, value, tags) FROM STDIN`;
    // When the server rejects rows after the last chunk has gone (a constraint, a bad value),
    // postgres.js 3.4.9 has already let go of the stream, so neither "finish" nor "error"
    // comes: the server's error reaches only the query's reject(), called on a promise that
    // is already resolved. Hook it so the flush fails at once with the server's message.
    let rejected: (err: unknown) => void = () => {};
    const serverError = new Promise<never>((_, reject) => rejected = reject);
    serverError.catch(() => {}); // settled through `done` below, if at all
    const hooked = query as unknown as { reject: (err: unknown) => void };
    const reject = hooked.reject;
    hooked.reject = (err) => {
      rejected(err);
      reject(err);
    };
    const stream = await query.writable();
    const done = Promise.race([
      serverError,
      new Promise<void>((resolve, reject) => {
        stream.on("finish", () => resolve());
        stream.on("error", reject);
      }),
    ]);
    if (binary) stream.write(Buffer.from(BINARY_COPY_HEADER));
    // Chunks of ~64 KiB with back-pressure: one huge write stalls the driver's socket.
    for (const rows of segments) {
      for (let at = 0; at < rows.length; at += 65536) {
        const end = Math.min(at + 65536, rows.length);
        const chunk = Buffer.from(rows.buffer, rows.byteOffset + at, end - at);
        if (!stream.write(chunk)) {
          await new Promise<void>((resolve) => stream.once("drain", () => resolve()));
        }
      }
    }
    if (binary) stream.write(Buffer.from(BINARY_COPY_TRAILER));
    stream.end();
    await done;
  }

  async stop(): Promise<void> {
    await this.#flusher?.stop().catch((err) =>
      this.#params.logger.error(`${this.#params.outputType}: final flush failed`, {
        error: errorMessage(err),
      })
    );
    const sql = this.#sql;
    this.#sql = undefined;
    if (sql) await sql.end({ timeout: 2 }).catch(() => {});
  }

  stats(): OutputStats {
    const dropped = this.#failed + this.#dropped;
    if (dropped === 0) return { droppedSamples: 0 };
    return {
      droppedSamples: dropped,
      note: `${this.#failedFlushes} flushes failed: ${this.#lastError}`,
    };
  }
}

/** The `timescaledb` output factory. */
const timescaledbOutput: OutputFactory = (params) =>
  new TimescaleOutput(params, timescaleConfig(params));
export default timescaledbOutput;
