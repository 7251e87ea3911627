/**
 * The StatsD output (outputs-services.md §1): every sample becomes one StatsD line
 * `<namespace><name>:<value>|<type>[|#k:v,...]`, packed into UDP datagrams. Registered as
 * `statsd` / `output-statsd`, and as `datadog` (same wire format, DogStatsD tags on by
 * default, also reads the old `K6_DATADOG_*` variables).
 *
 * Options (defaults < `collectors.statsd` JSON < environment; the `--out` argument is ignored,
 * as in k6): `addr` / `K6_STATSD_ADDR` (`localhost:8125`), `namespace` / `K6_STATSD_NAMESPACE`
 * (`k6.`), `pushInterval` / `K6_STATSD_PUSH_INTERVAL` (`1s`), `bufferSize` /
 * `K6_STATSD_BUFFER_SIZE` (20 lines per datagram), `enableTags` / `K6_STATSD_ENABLE_TAGS`
 * (false), `tagBlocklist` / `K6_STATSD_TAG_BLOCKLIST` (`vu,iter,url`).
 *
 * @example
 * ```ts
 * // K6_STATSD_ENABLE_TAGS=true spate run --out statsd script.js
 * import statsd from "./statsd.ts";
 * const output = await statsd(params);
 * await output.start();
 * output.addMetricSamples(samples);
 * await output.stop(null);
 * ```
 * @module
 */
import dgram from "node:dgram";
import { lookup } from "node:dns/promises";
import { Buffer } from "node:buffer";
import { errorMessage, invalidConfig, SpateError } from "../errors.ts";
import type { Metric } from "../metrics/metric.ts";
import type { Sample } from "../metrics/sample.ts";
import type { TagSet } from "../metrics/tags.ts";
import { type BatchResult, type DatagramRange, UdpBatchSocket } from "./_udp_batch.ts";
import type { Output, OutputFactory, OutputParams, OutputStats } from "./types.ts";
import { PeriodicFlusher } from "./helpers.ts";
import { ByteSink } from "./_byte_sink.ts";
import { IdCache } from "./_id_cache.ts";
import { writeMillionths } from "./_format.ts";
import {
  jsonObject,
  readBool,
  readDurationMs,
  readList,
  readPositiveInt,
  readString,
} from "./_service_config.ts";

/** StatsD options after merging defaults, JSON config and environment. */
export interface StatsdConfig {
  addr: string;
  namespace: string;
  pushIntervalMs: number;
  /** Max lines per datagram (datagrams are also capped at {@link MAX_DATAGRAM_BYTES}). */
  bufferSize: number;
  enableTags: boolean;
  tagBlocklist: string[];
}

/** The datagram size cap of the StatsD client k6 used (fits a 1500-byte MTU). */
export const MAX_DATAGRAM_BYTES = 1432;
/** Lines waiting to be sent beyond this: later batches are dropped and counted. */
const maxQueuedLines = 2_000_000;
const utf8 = new TextEncoder();

/**
 * Builds the config for `statsd` (or the `datadog` alias when `outputType` is "datadog").
 *
 * @example
 * ```ts
 * statsdConfig({ outputType: "statsd", env: { K6_STATSD_ADDR: "127.0.0.1:9125" } }).addr;
 * // "127.0.0.1:9125"
 * ```
 */
export function statsdConfig(
  params: Pick<OutputParams, "outputType" | "env"> & { jsonConfig?: unknown },
): StatsdConfig {
  const datadog = params.outputType === "datadog";
  const cfg: StatsdConfig = {
    addr: "localhost:8125",
    namespace: "k6.",
    pushIntervalMs: 1000,
    bufferSize: 20,
    enableTags: datadog,
    tagBlocklist: ["vu", "iter", "url"],
  };
  const json = jsonObject(params.jsonConfig, params.outputType);
  const apply = (key: string, value: unknown, field: string) => {
    if (value === undefined || value === null) return;
    switch (key) {
      case "addr":
        cfg.addr = readString(value, field);
        break;
      case "namespace":
        cfg.namespace = readString(value, field);
        break;
      case "pushInterval":
        cfg.pushIntervalMs = readDurationMs(value, field);
        break;
      case "bufferSize":
        cfg.bufferSize = readPositiveInt(value, field);
        break;
      case "enableTags":
        cfg.enableTags = readBool(value, field);
        break;
      case "tagBlocklist":
        cfg.tagBlocklist = readList(value, field);
        break;
    }
  };
  const keys: Array<[string, string]> = [
    ["addr", "ADDR"],
    ["namespace", "NAMESPACE"],
    ["pushInterval", "PUSH_INTERVAL"],
    ["bufferSize", "BUFFER_SIZE"],
    ["enableTags", "ENABLE_TAGS"],
    ["tagBlocklist", "TAG_BLOCKLIST"],
  ];
  const collectors = `collectors.${params.outputType}`;
  for (const [key] of keys) apply(key, json[key], `${collectors}.${key}`);
  // The v0.33 datadog output spelled it "blacklist".
  if (datadog) apply("tagBlocklist", json.tagBlacklist, `${collectors}.tagBlacklist`);
  const prefixes = datadog ? ["K6_DATADOG_", "K6_STATSD_"] : ["K6_STATSD_"];
  for (const prefix of prefixes) {
    for (const [key, suffix] of keys) {
      const name = prefix + suffix;
      apply(key, params.env[name], name);
    }
    if (prefix === "K6_DATADOG_") {
      apply("tagBlocklist", params.env.K6_DATADOG_TAG_BLACKLIST, "K6_DATADOG_TAG_BLACKLIST");
    }
  }
  return cfg;
}

/**
 * Encodes samples as StatsD lines (one per sample, no trailing newline), following §1.3:
 * counters as integers (truncated), gauges and trends with six decimals, rates as counters
 * (checks become `check.<name>.pass|fail:1|c`).
 *
 * @example
 * ```ts
 * const enc = new StatsdEncoder({ namespace: "k6.", enableTags: false, tagBlocklist: [] });
 * enc.line(sample); // "k6.vus:10.000000|g"
 * ```
 */
export class StatsdEncoder {
  readonly #namespace: string;
  readonly #enableTags: boolean;
  readonly #blocked: Set<string>;
  // Tag sets are interned, so the rendered `|#...` suffix is computed once per tag set.
  readonly #tagCache = new WeakMap<TagSet, string>();
  // The byte path's caches: `<namespace><name>:` per metric, `|<type><tags>` per type and tag
  // set, and the `check.<name>.pass:`/`.fail:` prefixes per tag set.
  readonly #prefixBytes = new IdCache<Metric, Uint8Array>();
  /**
   * `|c`, `|g`, `|ms` and the tags, per tag set: one field per type, since looking the cache
   * up by the type's name was a megamorphic keyed load (~0.1 µs per request, `perf`).
   */
  readonly #counterSuffix = new IdCache<TagSet, Uint8Array>();
  readonly #gaugeSuffix = new IdCache<TagSet, Uint8Array>();
  readonly #trendSuffix = new IdCache<TagSet, Uint8Array>();
  readonly #checkBytes = new IdCache<TagSet, [Uint8Array, Uint8Array]>();

  constructor(cfg: Pick<StatsdConfig, "namespace" | "enableTags" | "tagBlocklist">) {
    this.#namespace = cfg.namespace;
    this.#enableTags = cfg.enableTags;
    this.#blocked = new Set(cfg.tagBlocklist);
  }

  /** The StatsD line for one sample. */
  line(sample: Sample): string {
    const metric = sample.metric;
    let name = metric.name;
    let value: string;
    let type: string;
    switch (metric.type) {
      case "counter":
        value = truncInt(sample.value);
        type = "c";
        break;
      case "gauge":
        value = sample.value.toFixed(6);
        type = "g";
        break;
      case "trend":
        value = sample.value.toFixed(6);
        type = "ms";
        break;
      default: {
        const check = sample.tags.tags.check;
        if (check !== undefined) {
          // k6 does not sanitise check names; a `:`, `|` or newline in one would make the
          // line unparsable for every StatsD server, so those become `_` here.
          name = `check.${safeName(check)}.${sample.value !== 0 ? "pass" : "fail"}`;
          value = "1";
        } else {
          value = truncInt(sample.value);
        }
        type = "c";
      }
    }
    const line = this.#namespace + name + ":" + value + "|" + type;
    return this.#enableTags ? line + this.#tags(sample.tags) : line;
  }

  /**
   * Appends the line for one sample to `sink` as bytes (no newline): the same text as
   * {@link StatsdEncoder.line}, without building strings per sample.
   */
  lineTo(sample: Sample, sink: ByteSink): void {
    const metric = sample.metric;
    const v = sample.value;
    switch (metric.type) {
      case "counter":
        sink.bytes(this.#prefix(metric));
        writeTruncInt(sink, v);
        sink.bytes(this.#counterSuffix.get(sample.tags) ?? this.#suffix("c", sample.tags));
        return;
      case "gauge":
        sink.bytes(this.#prefix(metric));
        if (!writeMillionths(sink, v, false)) sink.ascii(v.toFixed(6));
        sink.bytes(this.#gaugeSuffix.get(sample.tags) ?? this.#suffix("g", sample.tags));
        return;
      case "trend":
        sink.bytes(this.#prefix(metric));
        if (!writeMillionths(sink, v, false)) sink.ascii(v.toFixed(6));
        sink.bytes(this.#trendSuffix.get(sample.tags) ?? this.#suffix("ms", sample.tags));
        return;
      default: {
        if (sample.tags.tags.check !== undefined) {
          sink.bytes(this.#checkPrefix(sample.tags)[v !== 0 ? 0 : 1]);
          sink.byte(0x31); // "1"
        } else {
          sink.bytes(this.#prefix(metric));
          writeTruncInt(sink, v);
        }
        sink.bytes(this.#counterSuffix.get(sample.tags) ?? this.#suffix("c", sample.tags));
      }
    }
  }

  #prefix(metric: Metric): Uint8Array {
    return this.#prefixBytes.get(metric) ??
      this.#prefixBytes.set(metric, utf8.encode(this.#namespace + metric.name + ":"));
  }

  /** Makes and caches the suffix of a type and tag set (the caches' miss path). */
  #suffix(type: "c" | "g" | "ms", set: TagSet): Uint8Array {
    const cache = type === "c"
      ? this.#counterSuffix
      : type === "g"
      ? this.#gaugeSuffix
      : this.#trendSuffix;
    return cache.set(set, utf8.encode("|" + type + (this.#enableTags ? this.#tags(set) : "")));
  }

  #checkPrefix(set: TagSet): [Uint8Array, Uint8Array] {
    const b = this.#checkBytes.get(set);
    if (b !== undefined) return b;
    const base = this.#namespace + "check." + safeName(set.tags.check!);
    return this.#checkBytes.set(set, [utf8.encode(base + ".pass:"), utf8.encode(base + ".fail:")]);
  }

  #tags(set: TagSet): string {
    let text = this.#tagCache.get(set);
    if (text !== undefined) return text;
    text = "";
    for (const [key, value] of Object.entries(set.tags)) {
      if (value === "" || this.#blocked.has(key)) continue;
      // The DogStatsD client k6 used strips newlines only; a `,` or `|` inside a tag would
      // split the tag or end the line on the agent side, so they become `_` here.
      text += (text === "" ? "|#" : ",") + safeTag(key + ":" + value);
    }
    this.#tagCache.set(set, text);
    return text;
  }
}

function safeTag(tag: string): string {
  return /[\r\n,|]/.test(tag) ? tag.replace(/[\r\n]/g, "").replace(/[,|]/g, "_") : tag;
}

function safeName(name: string): string {
  return /[\r\n:|]/.test(name) ? name.replace(/[\r\n:|]/g, "_") : name;
}

function truncInt(v: number): string {
  const t = Math.trunc(v);
  // -0 and non-finite values: StatsD has no syntax for NaN/Inf; send 0 like Go's int64 cast.
  return Number.isFinite(t) ? (t === 0 ? "0" : t.toFixed(0)) : "0";
}

/** {@link truncInt} into a sink; whole non-negative values (the usual case) as digits. */
function writeTruncInt(sink: ByteSink, v: number): void {
  if (v >= 0 && v <= Number.MAX_SAFE_INTEGER && Number.isInteger(v)) sink.uint(v);
  else sink.ascii(truncInt(v));
}

const NON_ASCII = /[\u0080-\uffff]/;

// Lines are almost always ASCII, where the byte length is the string length. (Packing measured
// ~0.5-0.7 µs per line on the shared dev machine either way; string building dominates.)
function utf8Length(s: string): number {
  return NON_ASCII.test(s) ? Buffer.byteLength(s) : s.length;
}

/**
 * Packs lines into datagram payloads of at most `maxLines` lines and `maxBytes` bytes,
 * joined with `\n`. A single line longer than `maxBytes` travels alone.
 *
 * @example
 * ```ts
 * packDatagrams(["a:1|c", "b:2|c"], 1, 1432); // ["a:1|c", "b:2|c"]
 * ```
 */
export function packDatagrams(lines: readonly string[], maxLines: number, maxBytes: number) {
  const out: Array<{ payload: string; lines: number }> = [];
  let cur = "";
  let curBytes = 0;
  let count = 0;
  for (const line of lines) {
    const len = utf8Length(line);
    if (count > 0 && (count >= maxLines || curBytes + 1 + len > maxBytes)) {
      out.push({ payload: cur, lines: count });
      cur = "";
      curBytes = 0;
      count = 0;
    }
    if (count === 0) {
      cur = line;
      curBytes = len;
    } else {
      cur += "\n" + line;
      curBytes += 1 + len;
    }
    count++;
  }
  if (count > 0) out.push({ payload: cur, lines: count });
  return out;
}

/** Sends datagrams to one address, in the order asked. */
export interface DatagramSender {
  /** Which implementation: `ffi` (sendmmsg), `deno` (Deno.DatagramConn) or `node` (node:dgram). */
  readonly kind: "ffi" | "deno" | "node";
  /**
   * Sends each range of `bytes` as one datagram, in order, and tells what the kernel refused.
   * `bytes` must not change until the promise settles.
   */
  sendAll(bytes: Uint8Array, ranges: readonly DatagramRange[]): Promise<BatchResult>;
  close(): Promise<void>;
}

type ListenDatagram = (opts: { transport: "udp"; hostname: string; port: number }) => {
  send(data: Uint8Array, addr: { transport: "udp"; hostname: string; port: number }): Promise<
    number
  >;
  close(): void;
};

/**
 * {@link DatagramSender.sendAll} over a one-datagram send: one after the other, since gauges
 * are last-write-wins on the server and a datagram overtaking an older one would be wrong.
 */
function oneByOne(
  send: (payload: Uint8Array) => Promise<unknown>,
): DatagramSender["sendAll"] {
  return async (bytes, ranges) => {
    const result: BatchResult = { failed: 0 };
    for (const [start, end, lines] of ranges) {
      try {
        await send(bytes.subarray(start, end));
      } catch (err) {
        result.failed += lines;
        result.error = errorMessage(err);
      }
    }
    return result;
  };
}

/**
 * A sender for `address:port` (an IP), the cheapest the runtime allows:
 * - `ffi`: batches of datagrams per `sendmmsg` call ({@link UdpBatchSocket}: IPv4 on Linux,
 *   with `--allow-ffi`), 2.8–2.9 µs of CPU per 570-byte datagram here;
 * - `deno`: Deno's own UDP socket (`--unstable-net`: deno.json and `deno task compile` enable
 *   it), 4.4–5.4 µs;
 * - `node`: node:dgram, 12.3 µs, which looks the address up and wraps every send in callbacks.
 * `prefer` forces one of the last two (tests).
 */
export function datagramSender(
  address: string,
  port: number,
  family: 4 | 6,
  prefer?: "deno" | "node",
): DatagramSender {
  if (prefer === undefined && family === 4) {
    const batch = UdpBatchSocket.open(address, port);
    if (batch) {
      return {
        kind: "ffi",
        sendAll: (bytes, ranges) => batch.send(bytes, ranges),
        close: () => batch.close(),
      };
    }
  }
  const listen = (Deno as unknown as { listenDatagram?: ListenDatagram }).listenDatagram;
  if (prefer !== "node" && typeof listen === "function") {
    let conn: ReturnType<ListenDatagram> | undefined;
    try {
      conn = listen({ transport: "udp", hostname: family === 6 ? "::" : "0.0.0.0", port: 0 });
    } catch {
      // Can't bind (no IPv6, say): node:dgram below reports that on each send.
    }
    if (conn) {
      const open = conn;
      const to = { transport: "udp" as const, hostname: address, port };
      return {
        kind: "deno",
        sendAll: oneByOne((payload) => open.send(payload, to)),
        close: () => Promise.resolve(open.close()),
      };
    }
  }
  const socket = dgram.createSocket(family === 6 ? "udp6" : "udp4");
  socket.on("error", () => {}); // each send's callback reports its own error
  return {
    kind: "node",
    sendAll: oneByOne((payload) =>
      new Promise<void>((resolve, reject) => {
        const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
        socket.send(bytes, port, address, (err) => err ? reject(err) : resolve());
      })
    ),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

class StatsdOutput implements Output {
  readonly #params: OutputParams;
  readonly #cfg: StatsdConfig;
  readonly #encoder: StatsdEncoder;
  /** Datagram payloads packed as batches arrive: bytes, and [start, end, lines] per datagram. */
  readonly #out = new ByteSink(1 << 20);
  #marks: Array<[number, number, number]> = [];
  #start = 0;
  #lines = 0;
  #queuedLines = 0;
  #dropped = 0;
  #flusher: PeriodicFlusher | undefined;
  #sender: DatagramSender | undefined;
  #failed = 0;
  #lastError = "";

  constructor(params: OutputParams, cfg: StatsdConfig) {
    this.#params = params;
    this.#cfg = cfg;
    this.#encoder = new StatsdEncoder(cfg);
  }

  description(): string {
    return `${this.#params.outputType} (${this.#cfg.addr})`;
  }

  async start(): Promise<void> {
    const addr = this.#cfg.addr.trim();
    const field = `${this.#params.outputType} addr`;
    if (addr === "") throw invalidConfig(`${field} is empty: set K6_STATSD_ADDR to host:port`);
    if (addr.startsWith("unix://")) {
      throw invalidConfig(`${field} ${JSON.stringify(addr)}: unix sockets are not supported`);
    }
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(addr);
    const port = m ? Number(m[3]) : NaN;
    if (!m || !(port > 0 && port < 65536)) {
      throw invalidConfig(`invalid ${field} ${JSON.stringify(addr)}: want host:port`);
    }
    const host = m[1] ?? m[2];
    // Resolve once: node:dgram would otherwise look the name up for every datagram.
    let resolved: { address: string; family: number };
    try {
      resolved = await lookup(host);
    } catch (err) {
      throw new SpateError(
        "output",
        `${this.#params.outputType}: can't resolve ${host}: ${errorMessage(err)}`,
      );
    }
    this.#sender = datagramSender(resolved.address, port, resolved.family === 6 ? 6 : 4);
    this.#flusher = new PeriodicFlusher(this.#cfg.pushIntervalMs, () => this.#flush(), {
      onError: (err) => {
        this.#params.logger.error(`${this.#params.outputType}: flush failed`, {
          error: errorMessage(err),
        });
      },
    });
  }

  /**
   * Packs each batch into datagram payloads at once, as bytes (the same datagrams as
   * {@link packDatagrams}): holding a second of Sample objects and building a string per line
   * cost more than sending (deno task bench). Bounded by {@link maxQueuedLines}.
   */
  addMetricSamples(samples: readonly Sample[]): void {
    if (samples.length === 0) return;
    if (this.#queuedLines >= maxQueuedLines) {
      this.#dropped += samples.length;
      return;
    }
    const out = this.#out;
    const maxLines = this.#cfg.bufferSize;
    for (let i = 0; i < samples.length; i++) {
      if (this.#lines >= maxLines) this.#cut();
      // Each line goes straight into the payload buffer (a view per line was garbage).
      const at = out.length;
      if (this.#lines > 0) out.byte(0x0a);
      this.#encoder.lineTo(samples[i], out);
      if (this.#lines > 0 && out.length - this.#start > MAX_DATAGRAM_BYTES) {
        // Too big with this line: the datagram ends before its newline, the line starts the
        // next one, and the newline between belongs to neither.
        this.#marks.push([this.#start, at, this.#lines]);
        this.#start = at + 1;
        this.#lines = 0;
      }
      this.#lines++;
    }
    this.#queuedLines += samples.length;
  }

  #cut(): void {
    if (this.#lines === 0) return;
    this.#marks.push([this.#start, this.#out.length, this.#lines]);
    this.#start = this.#out.length;
    this.#lines = 0;
  }

  async #flush(): Promise<void> {
    this.#cut();
    const marks = this.#marks;
    if (marks.length === 0 || !this.#sender) return;
    const bytes = this.#out.take();
    this.#marks = [];
    this.#start = 0;
    const total = this.#queuedLines;
    this.#queuedLines = 0;
    // In order (gauges are last-write-wins on the server).
    const { failed, error } = await this.#sender.sendAll(bytes, marks);
    // Every send has settled, so the kernel has the bytes: the buffer can be reused.
    this.#out.recycle(bytes);
    if (failed > 0) {
      this.#lastError = error ?? "send failed";
      this.#failed += failed;
      this.#params.logger.warn(
        `Couldn't send ${failed} out of ${total} metrics`,
        { output: this.#params.outputType, error: this.#lastError },
      );
    }
  }

  async stop(): Promise<void> {
    await this.#flusher?.stop().catch((err) =>
      this.#params.logger.error(`${this.#params.outputType}: final flush failed`, {
        error: errorMessage(err),
      })
    );
    const sender = this.#sender;
    this.#sender = undefined;
    await sender?.close();
  }

  stats(): OutputStats {
    const dropped = this.#failed + this.#dropped;
    return dropped > 0 && this.#lastError
      ? { droppedSamples: dropped, note: this.#lastError }
      : { droppedSamples: dropped };
  }
}

/** The `statsd` / `output-statsd` / `datadog` output factory. */
const statsdOutput: OutputFactory = (params) => new StatsdOutput(params, statsdConfig(params));
export default statsdOutput;
