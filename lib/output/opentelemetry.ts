/**
 * The `opentelemetry` output (outputs-services.md §4), alias `experimental-opentelemetry` (with a
 * deprecation warning). Samples are aggregated as they arrive (`_otel_aggregate.ts`: the SDK's
 * default semantics, keyed by interned tag set) and every `exportInterval` the cumulative state
 * goes out through the official OTLP exporters (`@opentelemetry/exporter-metrics-otlp-proto`
 * and `-grpc` over `@grpc/grpc-js`, both working under Deno 2.9) with the SDK's resource.
 *
 * The SDK's instruments were used for aggregation until `deno task bench` showed their
 * per-call attribute hashing at ~9 µs per request (13 samples), +25–30% CPU per request.
 *
 * @example
 * ```ts
 * import openTelemetry from "./opentelemetry.ts";
 * const output = await openTelemetry({ ...params, env: { K6_OTEL_EXPORTER_PROTOCOL: "http/protobuf" } });
 * await output.start();
 * output.addMetricSamples(samples);
 * await output.stop(null);
 * ```
 * @module
 */
import { defaultResource, type Resource, resourceFromAttributes } from "@opentelemetry/resources";
import {
  AggregationTemporality,
  type PushMetricExporter,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import { Buffer } from "node:buffer";
import { errorMessage, invalidConfig } from "../errors.ts";
import type { Logger } from "../log.ts";
import { parseDuration } from "../config/duration.ts";
import type { Sample } from "../metrics/sample.ts";
import type { Output, OutputFactory, OutputParams, OutputStats } from "./types.ts";
import { OtelAggregator } from "./_otel_aggregate.ts";
import {
  basicAuthToken,
  errorChain,
  jsonObject,
  jsonString,
  jsonStringMap,
  parseGoBool,
  Redactor,
} from "./_services_config.ts";

/** The name used in `--out`. */
export const OPENTELEMETRY_OUTPUT_NAME = "opentelemetry";
/** The pre-v1.4 name, still accepted with a warning. */
export const EXPERIMENTAL_OPENTELEMETRY_OUTPUT_NAME = "experimental-opentelemetry";

/** Default `service.version` (k6 uses its own version; spate uses its). */
export const SPATE_VERSION = "0.1.0";

/** Settings after defaults < JSON config (`collectors.opentelemetry`) < environment. */
export interface OpenTelemetryConfig {
  readonly serviceName: string;
  readonly serviceVersion: string;
  readonly metricPrefix: string;
  /** ms: how often buffered samples are recorded into the SDK. */
  readonly flushInterval: number;
  /** ms: how often the SDK exports. */
  readonly exportInterval: number;
  readonly exporterProtocol: "grpc" | "http/protobuf";
  readonly headers: Readonly<Record<string, string>>;
  readonly tlsInsecureSkipVerify: boolean;
  readonly tlsCertificate?: string;
  readonly tlsClientCertificate?: string;
  readonly tlsClientKey?: string;
  readonly httpExporterInsecure: boolean;
  readonly httpExporterEndpoint: string;
  readonly httpExporterURLPath: string;
  readonly grpcExporterEndpoint: string;
  readonly grpcExporterInsecure: boolean;
  readonly username?: string;
  readonly password?: string;
}

/**
 * Merges defaults < JSON config < environment. Throws a SpateError naming field and value.
 *
 * @example
 * ```ts
 * const cfg = parseOpenTelemetryConfig({ env: { K6_OTEL_EXPORTER_PROTOCOL: "http/protobuf" } });
 * cfg.httpExporterEndpoint; // "localhost:4318"
 * ```
 */
export function parseOpenTelemetryConfig(
  input: { env: Readonly<Record<string, string>>; jsonConfig?: unknown },
  warn: (msg: string) => void = () => {},
): OpenTelemetryConfig {
  const env = input.env;
  const json = jsonObject(input.jsonConfig, `collectors.${OPENTELEMETRY_OUTPUT_NAME}`);
  const j = (key: string) => `collectors.${OPENTELEMETRY_OUTPUT_NAME}.${key}`;
  const cfg = {
    serviceName: "k6",
    serviceVersion: SPATE_VERSION,
    metricPrefix: "",
    flushInterval: 1000,
    exportInterval: 10_000,
    exporterProtocol: "grpc" as string,
    headers: {} as Record<string, string>,
    tlsInsecureSkipVerify: false,
    tlsCertificate: undefined as string | undefined,
    tlsClientCertificate: undefined as string | undefined,
    tlsClientKey: undefined as string | undefined,
    httpExporterInsecure: false,
    httpExporterEndpoint: "localhost:4318",
    httpExporterURLPath: "/v1/metrics",
    grpcExporterEndpoint: "localhost:4317",
    grpcExporterInsecure: false,
    username: undefined as string | undefined,
    password: undefined as string | undefined,
  };
  type Key = keyof typeof cfg;
  const strings: [Key, string][] = [
    ["serviceName", "K6_OTEL_SERVICE_NAME"],
    ["serviceVersion", "K6_OTEL_SERVICE_VERSION"],
    ["metricPrefix", "K6_OTEL_METRIC_PREFIX"],
    ["exporterProtocol", "K6_OTEL_EXPORTER_PROTOCOL"],
    ["tlsCertificate", "K6_OTEL_TLS_CERTIFICATE"],
    ["tlsClientCertificate", "K6_OTEL_TLS_CLIENT_CERTIFICATE"],
    ["tlsClientKey", "K6_OTEL_TLS_CLIENT_KEY"],
    ["httpExporterEndpoint", "K6_OTEL_HTTP_EXPORTER_ENDPOINT"],
    ["httpExporterURLPath", "K6_OTEL_HTTP_EXPORTER_URL_PATH"],
    ["grpcExporterEndpoint", "K6_OTEL_GRPC_EXPORTER_ENDPOINT"],
    ["username", "K6_OTEL_HTTP_EXPORTER_USERNAME"],
    ["password", "K6_OTEL_HTTP_EXPORTER_PASSWORD"],
  ];
  const bools: [Key, string][] = [
    ["tlsInsecureSkipVerify", "K6_OTEL_TLS_INSECURE_SKIP_VERIFY"],
    ["httpExporterInsecure", "K6_OTEL_HTTP_EXPORTER_INSECURE"],
    ["grpcExporterInsecure", "K6_OTEL_GRPC_EXPORTER_INSECURE"],
  ];
  const durations: [Key, string][] = [
    ["flushInterval", "K6_OTEL_FLUSH_INTERVAL"],
    ["exportInterval", "K6_OTEL_EXPORT_INTERVAL"],
  ];
  const set = cfg as Record<Key, unknown>;
  // JSON config.
  for (const [key] of strings) {
    if (json[key] !== undefined) set[key] = jsonString(json[key], j(key));
  }
  for (const [key] of bools) if (json[key] !== undefined) set[key] = parseGoBool(json[key], j(key));
  for (const [key] of durations) {
    if (json[key] !== undefined) set[key] = parseDuration(json[key], j(key));
  }
  if (json.headers !== undefined) {
    cfg.headers = typeof json.headers === "string"
      ? parseHeaderList(json.headers, j("headers"))
      : jsonStringMap(json.headers, j("headers"));
  }
  if (json.exporterType !== undefined) {
    cfg.exporterProtocol = legacyExporterType(
      jsonString(json.exporterType, j("exporterType")),
      j("exporterType"),
    );
    warn(`${j("exporterType")} is deprecated, use exporterProtocol (grpc|http/protobuf)`);
  }
  // Environment. OTEL_SERVICE_NAME is the standard variable, below k6's own.
  if (env.OTEL_SERVICE_NAME !== undefined) cfg.serviceName = env.OTEL_SERVICE_NAME;
  if (env.K6_OTEL_EXPORTER_TYPE !== undefined) {
    cfg.exporterProtocol = legacyExporterType(env.K6_OTEL_EXPORTER_TYPE, "K6_OTEL_EXPORTER_TYPE");
    warn("K6_OTEL_EXPORTER_TYPE is deprecated, use K6_OTEL_EXPORTER_PROTOCOL (grpc|http/protobuf)");
  }
  for (const [key, name] of strings) if (env[name] !== undefined) set[key] = env[name];
  for (const [key, name] of bools) {
    if (env[name] !== undefined) set[key] = parseGoBool(env[name], name);
  }
  for (const [key, name] of durations) {
    if (env[name] !== undefined) set[key] = parseDuration(env[name], name);
  }
  if (env.K6_OTEL_HEADERS !== undefined) {
    cfg.headers = parseHeaderList(env.K6_OTEL_HEADERS, "K6_OTEL_HEADERS");
  }

  const invalid = (why: string) =>
    invalidConfig(`error validating OpenTelemetry output config: ${why}`);
  if (cfg.serviceName === "") throw invalid("providing service name is required");
  if (cfg.serviceVersion === "") throw invalid("providing service version is required");
  if (cfg.exporterProtocol !== "grpc" && cfg.exporterProtocol !== "http/protobuf") {
    throw invalid(
      `unsupported exporter protocol ${JSON.stringify(cfg.exporterProtocol)} ` +
        `(K6_OTEL_EXPORTER_PROTOCOL), only "grpc" and "http/protobuf" are supported`,
    );
  }
  for (const [key, name] of durations) {
    if (!((set[key] as number) > 0)) throw invalid(`${name} must be positive, got ${set[key]}ms`);
  }
  if (cfg.exporterProtocol === "grpc" && cfg.grpcExporterEndpoint === "") {
    throw invalid("gRPC exporter endpoint is required");
  }
  if (cfg.exporterProtocol === "http/protobuf") {
    if (cfg.httpExporterEndpoint === "") throw invalid("HTTP exporter endpoint is required");
    if (/^https?:\/\//.test(cfg.httpExporterEndpoint)) {
      throw invalid(
        `HTTP exporter endpoint must only be host and port, no scheme ` +
          `(K6_OTEL_HTTP_EXPORTER_ENDPOINT=${JSON.stringify(cfg.httpExporterEndpoint)})`,
      );
    }
  }
  return cfg as OpenTelemetryConfig;
}

/**
 * k6 v1.x spelling (`grpc` | `http`), removed in k6 v2; accepted here as an alias with a warning
 * (DECISIONS.md §1: v1 spellings stay accepted).
 */
function legacyExporterType(value: string, field: string): string {
  const type = value.trim();
  if (type !== "grpc" && type !== "http") {
    throw invalidConfig(`invalid ${field} ${JSON.stringify(type)}: expected grpc or http`);
  }
  return type === "http" ? "http/protobuf" : "grpc";
}

/** `k1=v1,k2=v2` with URL-unescaped keys and values (k6 / OTEL_EXPORTER_OTLP_HEADERS style). */
function parseHeaderList(text: string, field: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(",")) {
    if (pair.trim() === "") continue;
    const at = pair.indexOf("=");
    if (at <= 0) {
      throw invalidConfig(`invalid ${field} entry ${JSON.stringify(pair)}: expected key=value`);
    }
    try {
      out[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(
        pair.slice(at + 1).trim(),
      );
    } catch {
      throw invalidConfig(`invalid ${field} entry ${JSON.stringify(pair)}: bad %-escape`);
    }
  }
  return out;
}

/** Where the exporter sends, as shown in description() (never with credentials). */
export function exporterURL(cfg: OpenTelemetryConfig): string {
  if (cfg.exporterProtocol === "grpc") {
    return `${cfg.grpcExporterInsecure ? "http" : "https"}://${cfg.grpcExporterEndpoint}`;
  }
  const path = cfg.httpExporterURLPath.startsWith("/")
    ? cfg.httpExporterURLPath
    : "/" + cfg.httpExporterURLPath;
  return `${cfg.httpExporterInsecure ? "http" : "https"}://${cfg.httpExporterEndpoint}${path}`;
}

/** SDK export result code for success (ExportResultCode.SUCCESS in @opentelemetry/core). */
const EXPORT_SUCCESS = 0;
/** Go's OTLP exporters time out after 10 s; never longer than one export interval here. */
const EXPORT_TIMEOUT_MS = 10_000;

async function createExporter(cfg: OpenTelemetryConfig): Promise<PushMetricExporter> {
  const headers: Record<string, string> = { ...cfg.headers };
  if (cfg.username !== undefined || cfg.password !== undefined) {
    headers["Authorization"] = `Basic ${basicAuthToken(cfg.username ?? "", cfg.password ?? "")}`;
  }
  const readPem = (path: string | undefined) =>
    path === undefined ? undefined : Deno.readTextFileSync(path);
  const timeoutMillis = Math.min(EXPORT_TIMEOUT_MS, cfg.exportInterval);
  const temporalityPreference = AggregationTemporality.CUMULATIVE;
  if (cfg.exporterProtocol === "http/protobuf") {
    const { OTLPMetricExporter } = await import("@opentelemetry/exporter-metrics-otlp-proto");
    const tls = cfg.tlsInsecureSkipVerify || cfg.tlsCertificate || cfg.tlsClientCertificate;
    return new OTLPMetricExporter({
      url: exporterURL(cfg),
      headers,
      timeoutMillis,
      temporalityPreference,
      httpAgentOptions: tls
        ? {
          rejectUnauthorized: !cfg.tlsInsecureSkipVerify,
          ca: readPem(cfg.tlsCertificate),
          cert: readPem(cfg.tlsClientCertificate),
          key: readPem(cfg.tlsClientKey),
          minVersion: "TLSv1.3",
        }
        : undefined,
    });
  }
  const { OTLPMetricExporter } = await import("@opentelemetry/exporter-metrics-otlp-grpc");
  const grpc = await import("@grpc/grpc-js");
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
  const credentials = cfg.grpcExporterInsecure ? grpc.credentials.createInsecure() : grpc
    .credentials.createSsl(
      cfg.tlsCertificate ? Buffer.from(Deno.readTextFileSync(cfg.tlsCertificate)) : null,
      cfg.tlsClientKey ? Buffer.from(Deno.readTextFileSync(cfg.tlsClientKey)) : null,
      cfg.tlsClientCertificate
        ? Buffer.from(Deno.readTextFileSync(cfg.tlsClientCertificate))
        : null,
      cfg.tlsInsecureSkipVerify ? { checkServerIdentity: () => undefined } : undefined,
    );
  return new OTLPMetricExporter({
    url: exporterURL(cfg),
    metadata,
    credentials,
    timeoutMillis,
    temporalityPreference,
  });
}

/**
 * The OpenTelemetry output. Prefer the default-exported factory.
 *
 * @example
 * ```ts
 * const out = await OpenTelemetryOutput.create(parseOpenTelemetryConfig({ env: {} }), logger);
 * ```
 */
export class OpenTelemetryOutput implements Output {
  readonly config: OpenTelemetryConfig;
  readonly #logger: Logger;
  readonly #redactor: Redactor;
  readonly #exporter: PushMetricExporter;
  readonly #resource: Resource;
  readonly #aggregator: OtelAggregator;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The export in flight (exports never overlap). */
  #exporting: Promise<void> = Promise.resolve();
  #stopped = false;
  #recordedSinceExport = 0;
  #exports = 0;
  #failedExports = 0;
  #failedSamples = 0;
  #lastError = "";

  private constructor(config: OpenTelemetryConfig, logger: Logger, exporter: PushMetricExporter) {
    this.config = config;
    this.#logger = logger;
    this.#redactor = new Redactor([config.password]);
    if (config.username !== undefined || config.password !== undefined) {
      this.#redactor.addBasicAuth(config.username ?? "", config.password ?? "");
    }
    for (const [k, v] of Object.entries(config.headers)) {
      if (/^authorization$/i.test(k) || /key|token|secret/i.test(k)) this.#redactor.add(v);
    }
    this.#exporter = exporter;
    this.#resource = defaultResource().merge(resourceFromAttributes({
      "service.name": config.serviceName,
      "service.version": config.serviceVersion,
    }));
    this.#aggregator = new OtelAggregator(config.metricPrefix);
  }

  /** Builds the exporter (loading the gRPC stack only when asked for) and the output. */
  static async create(config: OpenTelemetryConfig, logger: Logger): Promise<OpenTelemetryOutput> {
    return new OpenTelemetryOutput(config, logger, await createExporter(config));
  }

  description(): string {
    // k6's format: "opentelemetry (http/protobuf, https://host:4318/v1/metrics)" or
    // "opentelemetry (grpc (insecure), host:4317)".
    const c = this.config;
    if (c.exporterProtocol === "grpc") {
      return `opentelemetry (grpc${c.grpcExporterInsecure ? " (insecure)" : ""}, ` +
        `${c.grpcExporterEndpoint})`;
    }
    return `opentelemetry (http/protobuf, ${exporterURL(c)})`;
  }

  /**
   * Starts the export timer. Samples are aggregated as they arrive (so `flushInterval` needs no
   * timer of ours); every `exportInterval` the cumulative state goes to the exporter.
   */
  start(): Promise<void> {
    this.#timer = setInterval(() => this.#exportSoon(), this.config.exportInterval);
    return Promise.resolve();
  }

  /** Aggregates at once instead of holding the flush interval's Sample objects. */
  addMetricSamples(samples: readonly Sample[]): void {
    if (samples.length === 0 || this.#stopped) return;
    this.#aggregator.add(samples);
    this.#recordedSinceExport += samples.length;
  }

  /** Exports once more (the final state) and shuts the exporter down. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#exportSoon();
    try {
      await this.#exporter.shutdown();
    } catch (err) {
      this.#logger.warn("Failed to shut down the OpenTelemetry exporter", {
        error: this.#redactor.redact(errorMessage(err)),
      });
    }
  }

  stats(): OutputStats {
    const dropped = this.#failedSamples;
    const notes: string[] = [];
    if (this.#failedExports > 0) {
      notes.push(`${this.#failedExports} of ${this.#exports} exports failed: ${this.#lastError}`);
    }
    return notes.length > 0
      ? { droppedSamples: dropped, note: notes.join("; ") }
      : { droppedSamples: dropped };
  }

  /** Queues an export after the one in flight. */
  #exportSoon(): Promise<void> {
    this.#exporting = this.#exporting.then(() => this.#export());
    return this.#exporting;
  }

  #export(): Promise<void> {
    const metrics = this.#aggregator.collect(Date.now());
    const samples = this.#recordedSinceExport;
    this.#recordedSinceExport = 0;
    const data: ResourceMetrics = {
      resource: this.#resource,
      scopeMetrics: metrics.length > 0 ? [{ scope: { name: "k6", version: "" }, metrics }] : [],
    };
    return new Promise<void>((resolve) => {
      let settled = false;
      const done = (ok: boolean, error: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#exported(ok, error, samples);
        resolve();
      };
      // Go's exporters give up after the timeout; so does this (the exporter has its own too).
      const timer = setTimeout(
        () => done(false, "export timed out"),
        Math.min(EXPORT_TIMEOUT_MS, this.config.exportInterval) + 1000,
      );
      try {
        this.#exporter.export(data, (result) => {
          done(
            result.code === EXPORT_SUCCESS,
            result.error ? errorChain(result.error) : "export failed",
          );
        });
      } catch (err) {
        done(false, errorChain(err));
      }
    });
  }

  #exported(ok: boolean, error: string, samples: number): void {
    this.#exports++;
    if (ok) return;
    this.#failedExports++;
    this.#failedSamples += samples;
    this.#lastError = this.#redactor.redact(error);
    this.#logger.warn("Failed to export metrics to the OpenTelemetry endpoint", {
      error: this.#lastError,
      url: exporterURL(this.config),
    });
  }
}

function factory(deprecatedName: boolean): OutputFactory {
  return async (params: OutputParams): Promise<Output> => {
    const logger = params.logger.with({ output: "opentelemetry" });
    if (deprecatedName) {
      logger.warn(
        `the "${EXPERIMENTAL_OPENTELEMETRY_OUTPUT_NAME}" output is deprecated, ` +
          `use "${OPENTELEMETRY_OUTPUT_NAME}" instead`,
      );
    }
    if (params.configArgument !== "") {
      logger.warn(
        `the argument of --out ${params.outputType}=... is ignored; use K6_OTEL_* variables`,
      );
    }
    const config = parseOpenTelemetryConfig(
      { env: params.env, jsonConfig: params.jsonConfig },
      (msg) => logger.warn(msg),
    );
    return await OpenTelemetryOutput.create(config, logger);
  };
}

/** The `experimental-opentelemetry` alias: same output, plus a deprecation warning. */
export const experimentalOpenTelemetry: OutputFactory = factory(true);

/** The `opentelemetry` output factory. */
const openTelemetry: OutputFactory = factory(false);
export default openTelemetry;
