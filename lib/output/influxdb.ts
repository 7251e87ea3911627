/**
 * The InfluxDB v1 output (outputs-services.md §2): every `pushInterval` all buffered samples
 * go as one line-protocol batch to `POST <addr>/write`, at most `concurrentWrites` requests in
 * flight; failed batches are logged, counted in `stats()` and not retried (as in k6).
 *
 * Invocation: `--out influxdb` or `--out influxdb=http[s]://[user[:pass]@]host[:port][/prefix]/db[?query]`
 * (query keys: insecure, payload_size, precision, retention, consistency, pushInterval,
 * concurrentWrites, tagsAsFields) or `udp://host:port`. Precedence: defaults <
 * `collectors.influxdb` JSON < `K6_INFLUXDB_*` environment < `--out` argument.
 *
 * @example
 * ```ts
 * // spate run --out influxdb=http://user:secret@127.0.0.1:8086/k6 script.js
 * import influxdb from "./influxdb.ts";
 * const output = await influxdb({ ...params, configArgument: "http://127.0.0.1:8086/k6" });
 * await output.start();
 * ```
 * @module
 */
import dgram from "node:dgram";
import { lookup } from "node:dns/promises";
import { Buffer } from "node:buffer";
import { errorMessage, invalidConfig } from "../errors.ts";
import type { Metric } from "../metrics/metric.ts";
import type { Sample } from "../metrics/sample.ts";
import { sampleTimeParts } from "../metrics/sample.ts";
import type { TagSet } from "../metrics/tags.ts";
import type { Output, OutputFactory, OutputParams, OutputStats } from "./types.ts";
import { PeriodicFlusher, SampleBuffer } from "./helpers.ts";
import { ByteSink, CachedTime, textTimeWriter } from "./_byte_sink.ts";
import { IdCache } from "./_id_cache.ts";
import { HttpTransport } from "../http/client.ts";
import { writeMillionths } from "./_format.ts";
import {
  jsonObject,
  maskCredentials,
  readBool,
  readDurationMs,
  readList,
  readPositiveInt,
  readString,
} from "./_service_config.ts";

/** How a `tagsAsFields` entry is written as a field. */
export type FieldType = "string" | "int" | "float" | "bool";

/** InfluxDB options after merging all sources. */
export interface InfluxConfig {
  /** Server address without credentials, e.g. `http://localhost:8086` (or `udp://h:p`). */
  addr: string;
  proxy: string;
  username: string;
  password: string;
  insecure: boolean;
  payloadSize: number;
  pushIntervalMs: number;
  concurrentWrites: number;
  db: string;
  /** "" (nanoseconds), n, ns, u, ms, s, m, h */
  precision: string;
  retention: string;
  consistency: string;
  tagsAsFields: Map<string, FieldType>;
}

/** Lines per HTTP write (see #flush). */
export const MAX_LINES_PER_WRITE = 10_000;

const PRECISIONS = new Set(["", "n", "ns", "u", "ms", "s", "m", "h"]);

function parseTagsAsFields(list: string[], field: string): Map<string, FieldType> {
  const out = new Map<string, FieldType>();
  for (const item of list) {
    const [name, type = "string", extra] = item.split(":");
    if (extra !== undefined || name === "" || !["string", "int", "float", "bool"].includes(type)) {
      throw invalidConfig(
        `invalid ${field} entry ${JSON.stringify(item)}: want name[:string|int|float|bool]`,
      );
    }
    out.set(name, type as FieldType);
  }
  return out;
}

/**
 * Merges defaults, `collectors.influxdb` JSON, `K6_INFLUXDB_*` and the `--out` URL.
 *
 * @example
 * ```ts
 * const cfg = influxConfig({ configArgument: "http://u:p@h:8086/prefix/mydb", env: {} });
 * // cfg.addr "http://h:8086/prefix", cfg.db "mydb", cfg.username "u"
 * ```
 */
export function influxConfig(
  params: { configArgument: string; env: Readonly<Record<string, string>>; jsonConfig?: unknown },
): InfluxConfig {
  const cfg: InfluxConfig = {
    addr: "http://localhost:8086",
    proxy: "",
    username: "",
    password: "",
    insecure: false,
    payloadSize: 0,
    pushIntervalMs: 1000,
    concurrentWrites: 4,
    db: "k6",
    precision: "",
    retention: "",
    consistency: "",
    tagsAsFields: new Map([["vu", "string"], ["iter", "string"], ["url", "string"]]),
  };
  const set = (key: string, value: unknown, field: string) => {
    if (value === undefined || value === null) return;
    switch (key) {
      case "addr":
      case "proxy":
      case "username":
      case "password":
      case "db":
      case "retention":
      case "consistency":
        cfg[key] = readString(value, field);
        break;
      case "precision": {
        const p = readString(value, field);
        if (!PRECISIONS.has(p)) {
          throw invalidConfig(`invalid ${field} ${JSON.stringify(p)}: want n, u, ms, s, m or h`);
        }
        cfg.precision = p;
        break;
      }
      case "insecure":
        cfg.insecure = readBool(value, field);
        break;
      case "payloadSize":
        cfg.payloadSize = value === "0" || value === 0 ? 0 : readPositiveInt(value, field);
        break;
      case "pushInterval":
        cfg.pushIntervalMs = readDurationMs(value, field);
        break;
      case "concurrentWrites":
        cfg.concurrentWrites = readPositiveInt(value, field);
        break;
      case "tagsAsFields":
        cfg.tagsAsFields = parseTagsAsFields(readList(value, field), field);
        break;
    }
  };
  const keys: Array<[string, string]> = [
    ["addr", "ADDR"],
    ["proxy", "PROXY"],
    ["username", "USERNAME"],
    ["password", "PASSWORD"],
    ["insecure", "INSECURE"],
    ["payloadSize", "PAYLOAD_SIZE"],
    ["pushInterval", "PUSH_INTERVAL"],
    ["concurrentWrites", "CONCURRENT_WRITES"],
    ["db", "DB"],
    ["precision", "PRECISION"],
    ["retention", "RETENTION"],
    ["consistency", "CONSISTENCY"],
    ["tagsAsFields", "TAGS_AS_FIELDS"],
  ];
  const json = jsonObject(params.jsonConfig, "influxdb");
  for (const [key] of keys) set(key, json[key], `collectors.influxdb.${key}`);
  for (const [key, suffix] of keys) {
    set(key, params.env[`K6_INFLUXDB_${suffix}`], `K6_INFLUXDB_${suffix}`);
  }
  if (params.configArgument !== "") applyUrl(cfg, params.configArgument, set);
  // Credentials may also arrive inside K6_INFLUXDB_ADDR: move them out of the address so that
  // it can be shown in the banner and in errors.
  if (/^[a-z]+:\/\/[^/]*@/i.test(cfg.addr)) applyUrl(cfg, cfg.addr, set, true);
  return cfg;
}

function applyUrl(
  cfg: InfluxConfig,
  text: string,
  set: (key: string, value: unknown, field: string) => void,
  addrOnly = false,
): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidConfig(`invalid influxdb URL ${JSON.stringify(maskCredentials(text))}`);
  }
  const field = addrOnly ? "K6_INFLUXDB_ADDR" : "--out influxdb";
  if (!["http:", "https:", "udp:"].includes(url.protocol)) {
    throw invalidConfig(
      `invalid ${field} URL scheme ${JSON.stringify(url.protocol)}: want http, https or udp`,
    );
  }
  if (url.username !== "") cfg.username = decodeURIComponent(url.username);
  if (url.password !== "") cfg.password = decodeURIComponent(url.password);
  if (addrOnly) {
    url.username = "";
    url.password = "";
    cfg.addr = url.toString().replace(/\/$/, "");
    return;
  }
  // The last path segment is the database; anything before it is a path prefix of the
  // server (k6 HEAD). A trailing slash means "all prefix, no database".
  let prefix = "";
  const path = url.pathname.replace(/^\//, "");
  if (path !== "") {
    if (path.endsWith("/")) {
      prefix = "/" + path.slice(0, -1);
    } else {
      const at = path.lastIndexOf("/");
      cfg.db = decodeURIComponent(path.slice(at + 1));
      if (at > 0) prefix = "/" + path.slice(0, at);
    }
  }
  cfg.addr = `${url.protocol}//${url.host}${prefix}`;
  const paramKeys: Record<string, string> = {
    insecure: "insecure",
    payload_size: "payloadSize",
    precision: "precision",
    retention: "retention",
    consistency: "consistency",
    pushInterval: "pushInterval",
    concurrentWrites: "concurrentWrites",
  };
  const asFields: string[] = [];
  for (const [name, value] of url.searchParams) {
    if (name === "tagsAsFields") {
      asFields.push(value);
      continue;
    }
    const key = paramKeys[name];
    if (!key) throw invalidConfig(`unknown query parameter ${JSON.stringify(name)} in ${field}`);
    set(key, value, `${field} ?${name}`);
  }
  if (asFields.length > 0) {
    cfg.tagsAsFields = parseTagsAsFields(asFields.flatMap((v) => v.split(",")), "tagsAsFields");
  }
}

// --- line protocol ---------------------------------------------------------------------------

function escapeMeasurement(s: string): string {
  return /[, \\\n]/.test(s) ? s.replace(/[\\, ]/g, "\\$&").replace(/\n/g, "\\n") : s;
}

function escapeKey(s: string): string {
  return /[,= \\\n]/.test(s) ? s.replace(/[\\,= ]/g, "\\$&").replace(/\n/g, "\\n") : s;
}

function quoteString(s: string): string {
  return '"' + (/["\\]/.test(s) ? s.replace(/["\\]/g, "\\$&") : s) + '"';
}

/**
 * Formats a finite float the way Go's `strconv.FormatFloat(v, 'f', -1, 64)` does: shortest
 * round-trip digits, never an exponent (`1e21` → `1000000000000000000000`).
 *
 * @example
 * ```ts
 * formatFloat(105.322); // "105.322"
 * formatFloat(1e-7); // "0.0000001"
 * ```
 */
export function formatFloat(v: number): string {
  const s = String(v);
  const e = s.indexOf("e");
  if (e < 0) return s;
  const neg = s[0] === "-";
  const mantissa = s.slice(neg ? 1 : 0, e);
  const exp = Number(s.slice(e + 1));
  const dot = mantissa.indexOf(".");
  const digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const intLen = (dot < 0 ? mantissa.length : dot) + exp;
  let out: string;
  if (intLen <= 0) out = "0." + "0".repeat(-intLen) + digits;
  else if (intLen >= digits.length) out = digits + "0".repeat(intLen - digits.length);
  else out = digits.slice(0, intLen) + "." + digits.slice(intLen);
  return (neg ? "-" : "") + out;
}

function fieldValue(raw: string, type: FieldType): string {
  switch (type) {
    case "int":
      // Go's strconv.ParseInt: optional sign and digits only; a failure keeps the string.
      return /^[+-]?\d+$/.test(raw) && Number.isSafeInteger(Number(raw))
        ? `${Number(raw)}i`
        : quoteString(raw);
    case "float": {
      const n = Number(raw);
      return raw.trim() !== "" && Number.isFinite(n) ? formatFloat(n) : quoteString(raw);
    }
    case "bool": {
      const v = raw.toLowerCase();
      if (["1", "t", "true"].includes(v)) return "true";
      if (["0", "f", "false"].includes(v)) return "false";
      return quoteString(raw);
    }
    default:
      return quoteString(raw);
  }
}

interface TagParts {
  /** `,k=v,...` of the tags kept as tags (sorted, empties dropped). */
  tags: string;
  /** Fields sorting before `value` (each followed by `,`). */
  before: string;
  /** Fields sorting after `value` (each preceded by `,`). */
  after: string;
}

/**
 * Encodes samples as InfluxDB line protocol (§2.3). Tag and field text is computed once per
 * interned tag set, the measurement once per metric.
 *
 * @example
 * ```ts
 * const enc = new LineEncoder(new Map([["url", "string"]]), "");
 * enc.line(sample); // 'http_req_duration,method=GET url="https://x",value=105.322 1767...'
 * ```
 */
export class LineEncoder {
  readonly #asFields: ReadonlyMap<string, FieldType>;
  readonly #precision: string;
  readonly #tagCache = new WeakMap<TagSet, TagParts>();
  readonly #measurements = new Map<Metric, string>();
  readonly #measurementBytes = new IdCache<Metric, Uint8Array>();
  readonly #byteParts = new IdCache<TagSet, { head: Uint8Array; tail: Uint8Array }>();
  /** The timestamp and the line's newline. */
  readonly #time = new CachedTime(
    textTimeWriter((t) => this.timestamp(t)),
    new Uint8Array([0x0a]),
  );

  constructor(tagsAsFields: ReadonlyMap<string, FieldType>, precision: string) {
    this.#asFields = tagsAsFields;
    this.#precision = precision;
  }

  /** One line (no trailing newline), or undefined for NaN/±Inf, which InfluxDB can't store. */
  line(sample: Sample): string | undefined {
    const v = sample.value;
    if (!Number.isFinite(v)) return undefined;
    let m = this.#measurements.get(sample.metric);
    if (m === undefined) {
      m = escapeMeasurement(sample.metric.name);
      this.#measurements.set(sample.metric, m);
    }
    const parts = this.#parts(sample.tags);
    return m + parts.tags + " " + parts.before + "value=" + formatFloat(v) + parts.after + " " +
      this.timestamp(sample.time);
  }

  /**
   * Appends one line and its newline to `sink` as UTF-8 bytes; false (nothing written) for
   * NaN/±Inf. The hot path of the HTTP writer: measurement and tag/field text are cached as
   * bytes, the value and timestamp are ASCII, so lines never become JS strings.
   */
  lineTo(sample: Sample, sink: ByteSink): boolean {
    const v = sample.value;
    if (!Number.isFinite(v)) return false;
    const m = this.#measurementBytes.get(sample.metric) ??
      this.#measurementBytes.set(
        sample.metric,
        textEncoder.encode(escapeMeasurement(sample.metric.name)),
      );
    const parts = this.#byteParts.get(sample.tags) ?? this.#encodeParts(sample.tags);
    sink.bytes(m);
    sink.bytes(parts.head);
    if (!writeMillionths(sink, v, true)) sink.ascii(formatFloat(v));
    sink.bytes(parts.tail);
    this.#time.write(sink, sample.time);
    return true;
  }

  #encodeParts(set: TagSet): { head: Uint8Array; tail: Uint8Array } {
    const p = this.#parts(set);
    return this.#byteParts.set(set, {
      head: textEncoder.encode(p.tags + " " + p.before + "value="),
      tail: textEncoder.encode(p.after + " "),
    });
  }

  #parts(set: TagSet): TagParts {
    let parts = this.#tagCache.get(set);
    if (parts) return parts;
    let tags = "";
    const fields: Array<[string, string]> = [];
    for (const [key, value] of Object.entries(set.tags)) {
      const type = this.#asFields.get(key);
      if (type !== undefined) {
        fields.push([key, escapeKey(key) + "=" + fieldValue(value, type)]);
      } else if (value !== "") {
        tags += "," + escapeKey(key) + "=" + escapeKey(value);
      }
    }
    fields.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let before = "";
    let after = "";
    for (const [key, text] of fields) {
      if (key < "value") before += text + ",";
      else after += "," + text;
    }
    parts = { tags, before, after };
    this.#tagCache.set(set, parts);
    return parts;
  }

  /** The sample time in the configured precision (integer). */
  timestamp(time: number): string {
    const { seconds, nanos } = sampleTimeParts(time);
    switch (this.#precision) {
      case "u":
        return String(seconds * 1e6 + Math.floor(nanos / 1e3));
      case "ms":
        return String(seconds * 1e3 + Math.floor(nanos / 1e6));
      case "s":
        return String(seconds);
      case "m":
        return String(Math.floor(seconds / 60));
      case "h":
        return String(Math.floor(seconds / 3600));
      default:
        return seconds + String(nanos).padStart(9, "0");
    }
  }
}

// --- the output ------------------------------------------------------------------------------

class InfluxOutput implements Output {
  readonly #params: OutputParams;
  readonly #cfg: InfluxConfig;
  readonly #encoder: LineEncoder;
  readonly #buffer = new SampleBuffer();
  /**
   * HTTP mode: lines encoded as batches arrive, cut into request bodies whose buffers are
   * reused once written (fresh ones page-fault: a second of bodies, ~25 of 10,000 lines at
   * 30k requests/s, waits for its turn at each flush).
   */
  readonly #pending = new ByteSink(2 << 20, { maxSpares: 32 });
  #pendingLines = 0;
  #bodies: Array<{ body: Uint8Array<ArrayBuffer>; lines: number }> = [];
  #queuedBytes = 0;
  #skipped = 0;
  #dropped = 0;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #headers: Record<string, string>;
  #flusher: PeriodicFlusher | undefined;
  /** With a proxy: fetch through this client. */
  #client: Deno.HttpClient | undefined;
  /**
   * Without a proxy: spate's own HTTP/1.1 client, which writes a body from its buffer where
   * fetch copies it first (~250 against ~650 µs of CPU per MB posted to a local server).
   */
  #transport: HttpTransport | undefined;
  #udp: { socket: dgram.Socket; host: string; port: number } | undefined;
  #failed = 0;
  #lastError = "";
  #failedWrites = 0;

  constructor(params: OutputParams, cfg: InfluxConfig) {
    this.#params = params;
    this.#cfg = cfg;
    this.#encoder = new LineEncoder(cfg.tagsAsFields, cfg.precision);
    this.#headers = { "User-Agent": "spate (k6 compatible)" };
    if (cfg.username !== "" || cfg.password !== "") {
      const token = Buffer.from(`${cfg.username}:${cfg.password}`).toString("base64");
      this.#headers.Authorization = `Basic ${token}`;
    }
  }

  description(): string {
    return `InfluxDBv1 (${maskCredentials(this.#cfg.addr)})`;
  }

  #safe(text: string): string {
    let out = maskCredentials(text);
    if (this.#cfg.password !== "") out = out.replaceAll(this.#cfg.password, "***");
    return out;
  }

  async start(): Promise<void> {
    const cfg = this.#cfg;
    const log = this.#params.logger;
    if (cfg.addr.startsWith("udp://")) {
      const url = new URL(cfg.addr);
      const host = url.hostname.replace(/^\[|\]$/g, "");
      const resolved = await lookup(host).catch((err) => {
        throw invalidConfig(`influxdb: can't resolve ${host}: ${errorMessage(err)}`);
      });
      const socket = dgram.createSocket(resolved.family === 6 ? "udp6" : "udp4");
      socket.on("error", (err) => (this.#lastError = errorMessage(err)));
      this.#udp = { socket, host: resolved.address, port: Number(url.port || 8089) };
    } else {
      const insecureTls = cfg.insecure && cfg.addr.startsWith("https:");
      if (cfg.proxy !== "" && insecureTls) {
        log.warn(
          `influxdb: proxy ${this.#safe(cfg.proxy)} is not used: insecure=true over https ` +
            "connects directly (the HTTP client that honours proxies can't skip verification)",
        );
      }
      if (cfg.proxy !== "" && !insecureTls) {
        this.#client = Deno.createHttpClient({ proxy: { url: cfg.proxy } });
      } else {
        this.#transport = new HttpTransport({
          insecureSkipTLSVerify: insecureTls,
          http1Only: true,
        });
      }
      await this.#createDatabase();
    }
    this.#flusher = new PeriodicFlusher(cfg.pushIntervalMs, () => this.#flush(), {
      onError: (err) => {
        log.error("influxdb: flush failed", { error: this.#safe(errorMessage(err)) });
      },
    });
  }

  /**
   * `CREATE DATABASE` as k6 does at start. k6 ignores every error here; an unreachable server
   * gets a warning (not a failure, as in k6) so the user knows why samples will be lost.
   */
  async #createDatabase(): Promise<void> {
    const form = new URLSearchParams({
      q: `CREATE DATABASE "${this.#cfg.db.replace(/"/g, '\\"')}"`,
    });
    try {
      const res = await this.#post("/query", textEncoder.encode(form.toString()), 5000, {
        "Content-Type": "application/x-www-form-urlencoded",
      });
      if (res.status < 200 || res.status > 299) {
        this.#params.logger.debug("influxdb: couldn't create database", {
          status: res.status,
          error: this.#safe(res.text.trim()),
        });
      }
    } catch (err) {
      this.#params.logger.warn(
        `InfluxDB ${this.#safe(this.#cfg.addr)} is not reachable; samples will be dropped ` +
          `until it is`,
        { error: this.#safe(errorMessage(err)) },
      );
    }
  }

  /**
   * UDP mode buffers samples; HTTP mode encodes each batch to line-protocol bytes at once:
   * holding a second of Sample objects and building line strings cost more in GC than the
   * encoding itself (deno task bench). Memory is bounded by {@link maxQueuedBytes}.
   */
  addMetricSamples(samples: readonly Sample[]): void {
    if (samples.length === 0) return;
    if (this.#udp) {
      this.#buffer.add(samples);
      return;
    }
    if (this.#queuedBytes + this.#pending.length >= maxQueuedBytes) {
      this.#dropped += samples.length;
      return;
    }
    const enc = this.#encoder;
    for (let i = 0; i < samples.length; i++) {
      if (!enc.lineTo(samples[i], this.#pending)) {
        this.#skipped++;
        continue;
      }
      if (++this.#pendingLines >= MAX_LINES_PER_WRITE) this.#cutBody();
    }
  }

  #cutBody(): void {
    if (this.#pendingLines === 0) return;
    const body = this.#pending.take();
    this.#bodies.push({ body, lines: this.#pendingLines });
    this.#queuedBytes += body.length;
    this.#pendingLines = 0;
  }

  #encode(samples: readonly Sample[]): { lines: string[]; skipped: number } {
    const lines: string[] = [];
    let skipped = 0;
    for (let i = 0; i < samples.length; i++) {
      const line = this.#encoder.line(samples[i]);
      if (line === undefined) skipped++;
      else lines.push(line);
    }
    return { lines, skipped };
  }

  async #flush(): Promise<void> {
    if (!this.#udp) return this.#flushBodies();
    const samples = this.#buffer.drain();
    if (samples.length === 0) return;
    const { lines, skipped } = this.#encode(samples);
    if (skipped > 0) {
      this.#failed += skipped;
      this.#params.logger.warn(`influxdb: dropped ${skipped} samples with NaN or infinite values`);
    }
    if (lines.length > 0) await this.#sendUdp(lines);
  }

  async #flushBodies(): Promise<void> {
    this.#cutBody();
    if (this.#skipped > 0) {
      // k6 drops the whole batch on a NaN/Inf value; only the offending samples are dropped.
      this.#failed += this.#skipped;
      this.#params.logger.warn(
        `influxdb: dropped ${this.#skipped} samples with NaN or infinite values`,
      );
      this.#skipped = 0;
    }
    const bodies = this.#bodies;
    this.#bodies = [];
    for (const { body, lines } of bodies) {
      // At most concurrentWrites in flight: when full, the flush waits for a slot (as k6).
      while (this.#inFlight.size >= this.#cfg.concurrentWrites) {
        await Promise.race(this.#inFlight);
      }
      const write = this.#write(body, lines).finally(() => {
        this.#inFlight.delete(write);
        this.#queuedBytes -= body.length;
      });
      this.#inFlight.add(write);
    }
  }

  async #write(body: Uint8Array<ArrayBuffer>, lineCount: number): Promise<void> {
    const cfg = this.#cfg;
    const q = new URLSearchParams({
      consistency: cfg.consistency,
      db: cfg.db,
      // InfluxDB 1.x spells nanoseconds "n" (or nothing); "ns" is accepted in spate's config.
      precision: cfg.precision === "ns" ? "n" : cfg.precision,
      rp: cfg.retention,
    });
    const started = performance.now();
    let error = "";
    try {
      // k6 sets no timeout; a bound keeps stop() from hanging on a server that stopped
      // answering without closing the connection.
      const res = await this.#post(`/write?${q}`, body, Math.max(10_000, 2 * cfg.pushIntervalMs));
      // The exchange is over, so nothing reads the body any more: its buffer can be reused.
      this.#pending.recycle(body);
      if (res.status !== 204 && res.status !== 200) error = `${res.status}: ${res.text.trim()}`;
    } catch (err) {
      error = errorMessage(err);
    }
    const took = performance.now() - started;
    if (took > cfg.pushIntervalMs) {
      this.#params.logger.warn(
        `influxdb: a write took ${Math.round(took)}ms, longer than pushInterval ` +
          `(${cfg.pushIntervalMs}ms); consider a longer K6_INFLUXDB_PUSH_INTERVAL`,
      );
    }
    if (error !== "") {
      this.#failed += lineCount;
      this.#failedWrites++;
      this.#lastError = this.#safe(error);
      const hint = /unauthorized access/i.test(error)
        ? " (InfluxDB 2.x needs the xk6-output-influxdb extension, not this output)"
        : "";
      this.#params.logger.error(`Couldn't write stats${hint}`, { error: this.#lastError });
    }
  }

  /**
   * One request to InfluxDB: through spate's HTTP/1.1 client, or fetch when a proxy is set.
   * Rejects with the transport's error text when no response arrived.
   */
  async #post(
    path: string,
    body: Uint8Array<ArrayBuffer>,
    timeoutMs: number,
    extraHeaders: Record<string, string> = {},
  ): Promise<{ status: number; text: string }> {
    const url = `${this.#cfg.addr}${path}`;
    const headers = { ...this.#headers, ...extraHeaders };
    if (this.#transport) {
      const res = await this.#transport.executeRequest({
        method: "POST",
        url,
        headers: Object.entries(headers).flat(),
        body,
        timeout: timeoutMs,
        discardBody: false,
      });
      if (res.status === 0) throw new Error(res.errorDetail || res.error);
      return { status: res.status, text: res.body ? textDecoder.decode(res.body) : "" };
    }
    const res = await fetch(url, {
      method: "POST",
      headers,
      body,
      client: this.#client,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, text: await res.text() };
  }

  async #sendUdp(lines: string[]): Promise<void> {
    const { socket, host, port } = this.#udp!;
    const max = this.#cfg.payloadSize > 0 ? this.#cfg.payloadSize : 512;
    let batch = "";
    let count = 0;
    const send = (payload: string, n: number) =>
      new Promise<void>((resolve) =>
        socket.send(Buffer.from(payload), port, host, (err) => {
          if (err) {
            this.#failed += n;
            this.#lastError = errorMessage(err);
          }
          resolve();
        })
      );
    for (const line of lines) {
      const next = line + "\n";
      if (count > 0 && Buffer.byteLength(batch) + Buffer.byteLength(next) > max) {
        await send(batch, count);
        batch = "";
        count = 0;
      }
      batch += next;
      count++;
    }
    if (count > 0) await send(batch, count);
  }

  async stop(): Promise<void> {
    await this.#flusher?.stop().catch((err) =>
      this.#params.logger.error("influxdb: final flush failed", {
        error: this.#safe(errorMessage(err)),
      })
    );
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    this.#client?.close();
    this.#transport?.close();
    const udp = this.#udp;
    this.#udp = undefined;
    if (udp) await new Promise<void>((resolve) => udp.socket.close(() => resolve()));
  }

  stats(): OutputStats {
    const dropped = this.#failed + this.#buffer.dropped + this.#dropped;
    if (dropped === 0) return { droppedSamples: 0 };
    const writes = this.#failedWrites > 0 ? `${this.#failedWrites} writes failed: ` : "";
    return { droppedSamples: dropped, note: `${writes}${this.#lastError}` };
  }
}

/** Encoded lines waiting to be written beyond this many bytes: later batches are dropped. */
const maxQueuedBytes = 256 << 20;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** The `influxdb` output factory. */
const influxdbOutput: OutputFactory = (params) => new InfluxOutput(params, influxConfig(params));
export default influxdbOutput;
