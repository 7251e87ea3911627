/**
 * Configuration of the cloud output (outputs-cloud.md §1): every option of the spec's table,
 * read from each source and merged with the spec's precedence and "apply" semantics:
 *
 * defaults < config file `collectors.cloud` < script `options.cloud` (or the legacy
 * `options.ext.loadimpact`) < `K6_CLOUD_*` environment < `--out cloud=<name>` < the server's
 * override returned when the test run is created.
 *
 * Sources are parsed into {@link CloudConfigLayer}s (only the keys they set); defaults are
 * filled last because they depend on the protocol version (v1 has its own, §12.1).
 *
 * @example
 * ```ts
 * const config = resolveCloudConfig({
 *   env: { K6_CLOUD_TOKEN: "abc", K6_CLOUD_PROJECT_ID: "42" },
 *   scriptOptions: { cloud: { name: "checkout" } },
 *   scriptPath: "/tests/script.js",
 * });
 * config.projectID; // 42
 * ```
 * @module
 */
import { parseDuration } from "../../config/duration.ts";
import { invalidConfig } from "../../errors.ts";
import type { Logger } from "../../log.ts";

/** The fully resolved cloud configuration. Durations are milliseconds. */
export interface CloudConfig {
  token?: string;
  projectID: number;
  name: string;
  host: string;
  hostv6: string;
  stackID?: number;
  stackURL?: string;
  defaultProjectID?: number;
  timeout: number;
  webAppURL: string;
  testRunDetails?: string;
  noCompress: boolean;
  stopOnError: boolean;
  apiVersion: number;
  pushRefID?: string;
  metricsPushURL?: string;
  testRunToken?: string;
  maxTimeSeriesInBatch: number;
  metricPushInterval: number;
  metricPushConcurrency: number;
  aggregationPeriod: number;
  aggregationWaitPeriod: number;
  tracesEnabled: boolean;
  traceHost: string;
  tracesPushInterval: number;
  tracesPushConcurrency: number;
  /** v1 protocol only. */
  maxMetricSamplesPerPackage: number;
  /** Declared by k6 but never used; kept for round-tripping. */
  aggregationCalcInterval: number;
  aggregationMinSamples: number;
  aggregationSkipOutlierDetection: boolean;
  aggregationOutlierAlgoThreshold: number;
  aggregationOutlierIqrRadius: number;
  aggregationOutlierIqrCoefLower: number;
  aggregationOutlierIqrCoefUpper: number;
}

/** Only the keys one source sets. */
export type CloudConfigLayer = Partial<CloudConfig>;

type Kind = "string" | "int" | "bool" | "duration" | "float";

/** JSON key → (kind, env var). The order is the spec's table order. */
const fields: ReadonlyArray<readonly [keyof CloudConfig, Kind, string | undefined]> = [
  ["token", "string", "K6_CLOUD_TOKEN"],
  ["projectID", "int", "K6_CLOUD_PROJECT_ID"],
  ["name", "string", "K6_CLOUD_NAME"],
  ["host", "string", "K6_CLOUD_HOST"],
  ["hostv6", "string", "K6_CLOUD_HOST_V6"],
  ["stackID", "int", "K6_CLOUD_STACK_ID"],
  ["stackURL", "string", "K6_CLOUD_STACK_URL"],
  ["defaultProjectID", "int", undefined],
  ["timeout", "duration", "K6_CLOUD_TIMEOUT"],
  ["webAppURL", "string", "K6_CLOUD_WEB_APP_URL"],
  ["testRunDetails", "string", "K6_CLOUD_TEST_RUN_DETAILS"],
  ["noCompress", "bool", "K6_CLOUD_NO_COMPRESS"],
  ["stopOnError", "bool", "K6_CLOUD_STOP_ON_ERROR"],
  ["apiVersion", "int", "K6_CLOUD_API_VERSION"],
  ["pushRefID", "string", "K6_CLOUD_PUSH_REF_ID"],
  ["metricsPushURL", "string", undefined],
  ["testRunToken", "string", undefined],
  ["maxTimeSeriesInBatch", "int", "K6_CLOUD_MAX_TIME_SERIES_IN_BATCH"],
  ["metricPushInterval", "duration", "K6_CLOUD_METRIC_PUSH_INTERVAL"],
  ["metricPushConcurrency", "int", "K6_CLOUD_METRIC_PUSH_CONCURRENCY"],
  ["aggregationPeriod", "duration", "K6_CLOUD_AGGREGATION_PERIOD"],
  ["aggregationWaitPeriod", "duration", "K6_CLOUD_AGGREGATION_WAIT_PERIOD"],
  ["tracesEnabled", "bool", "K6_CLOUD_TRACES_ENABLED"],
  ["traceHost", "string", "K6_CLOUD_TRACES_HOST"],
  ["tracesPushInterval", "duration", "K6_CLOUD_TRACES_PUSH_INTERVAL"],
  ["tracesPushConcurrency", "int", "K6_CLOUD_TRACES_PUSH_CONCURRENCY"],
  ["maxMetricSamplesPerPackage", "int", "K6_CLOUD_MAX_METRIC_SAMPLES_PER_PACKAGE"],
  ["aggregationCalcInterval", "duration", "K6_CLOUD_AGGREGATION_CALC_INTERVAL"],
  ["aggregationMinSamples", "int", "K6_CLOUD_AGGREGATION_MIN_SAMPLES"],
  ["aggregationSkipOutlierDetection", "bool", "K6_CLOUD_AGGREGATION_SKIP_OUTLIER_DETECTION"],
  ["aggregationOutlierAlgoThreshold", "int", "K6_CLOUD_AGGREGATION_OUTLIER_ALGO_THRESHOLD"],
  ["aggregationOutlierIqrRadius", "float", "K6_CLOUD_AGGREGATION_OUTLIER_IQR_RADIUS"],
  ["aggregationOutlierIqrCoefLower", "float", "K6_CLOUD_AGGREGATION_OUTLIER_IQR_COEF_LOWER"],
  ["aggregationOutlierIqrCoefUpper", "float", "K6_CLOUD_AGGREGATION_OUTLIER_IQR_COEF_UPPER"],
];

/** Defaults shared by both protocols (HEAD values, §1.1). */
const commonDefaults = {
  projectID: 0,
  name: "",
  host: "https://ingest.k6.io",
  hostv6: "https://api.k6.io",
  timeout: 60_000,
  webAppURL: "https://app.k6.io",
  noCompress: false,
  stopOnError: false,
  apiVersion: 2,
  maxTimeSeriesInBatch: 1000,
  metricPushInterval: 1000,
  metricPushConcurrency: 1,
  tracesEnabled: true,
  traceHost: "grpc-k6-api-prod-prod-us-east-0.grafana.net:443",
  tracesPushInterval: 1000,
  tracesPushConcurrency: 1,
  maxMetricSamplesPerPackage: 100_000,
} satisfies CloudConfigLayer;

/** v2 aggregation defaults (§1.1). */
const v2Defaults = {
  aggregationPeriod: 3000,
  aggregationWaitPeriod: 8000,
  aggregationCalcInterval: 0,
  aggregationMinSamples: 0,
  aggregationSkipOutlierDetection: false,
  aggregationOutlierAlgoThreshold: 0,
  aggregationOutlierIqrRadius: 0,
  aggregationOutlierIqrCoefLower: 0,
  aggregationOutlierIqrCoefUpper: 0,
} satisfies CloudConfigLayer;

/**
 * v1 defaults (v0.44.1, §12.1). The spec notes v0.48–v0.49 forgot to apply them when v1 was
 * selected; we apply them, as the spec recommends.
 */
const v1Defaults = {
  aggregationPeriod: 0,
  aggregationWaitPeriod: 5000,
  aggregationCalcInterval: 3000,
  aggregationMinSamples: 25,
  aggregationSkipOutlierDetection: false,
  aggregationOutlierAlgoThreshold: 75,
  aggregationOutlierIqrRadius: 0.25,
  aggregationOutlierIqrCoefLower: 1.5,
  aggregationOutlierIqrCoefUpper: 1.3,
} satisfies CloudConfigLayer;

const goTrue = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const goFalse = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** Shows a value in an error message; the token is never shown. */
function shown(key: keyof CloudConfig, value: unknown): string {
  if (key === "token" || key === "testRunToken") return "(hidden)";
  return JSON.stringify(value);
}

function parseField(key: keyof CloudConfig, kind: Kind, value: unknown, source: string): unknown {
  const bad = () =>
    invalidConfig(
      `invalid value ${shown(key, value)} for cloud option ${source}: expected ${kind}`,
    );
  switch (kind) {
    case "string":
      if (typeof value === "string") return value;
      if (typeof value === "number" && (key === "pushRefID" || key === "name")) {
        return String(value);
      }
      throw bad();
    case "int": {
      let n: number;
      if (typeof value === "number") n = value;
      else if (typeof value === "string" && /^[-+]?\d+$/.test(value.trim())) {
        n = parseInt(value.trim(), 10);
      } else throw bad();
      if (!Number.isSafeInteger(n)) throw bad();
      return n;
    }
    case "float": {
      let n: number;
      if (typeof value === "number") n = value;
      else if (typeof value === "string" && value.trim() !== "") n = Number(value.trim());
      else throw bad();
      if (!Number.isFinite(n)) throw bad();
      return n;
    }
    case "bool":
      if (typeof value === "boolean") return value;
      if (typeof value === "string") {
        if (goTrue.has(value.trim())) return true;
        if (goFalse.has(value.trim())) return false;
      }
      throw bad();
    case "duration":
      try {
        return parseDuration(value, source);
      } catch {
        throw invalidConfig(
          `invalid duration ${JSON.stringify(value)} for cloud option ${source}`,
        );
      }
  }
}

const fieldByKey = new Map(fields.map(([key, kind]) => [key, kind]));

/**
 * Parses a JSON cloud config object (config file `collectors.cloud`, a server override).
 * Unknown keys are ignored, as k6 ignores them; `null` means unset.
 */
export function parseCloudJSON(obj: unknown, source: string): CloudConfigLayer {
  if (obj === undefined || obj === null) return {};
  if (typeof obj !== "object" || Array.isArray(obj)) {
    throw invalidConfig(`invalid cloud configuration in ${source}: expected an object`);
  }
  const layer: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj as Record<string, unknown>)) {
    const kind = fieldByKey.get(key as keyof CloudConfig);
    if (!kind || value === null || value === undefined) continue;
    layer[key] = parseField(key as keyof CloudConfig, kind, value, `${source} ${key}`);
  }
  return layer as CloudConfigLayer;
}

/** Reads every `K6_CLOUD_*` variable of the table (process environment). */
export function parseCloudEnv(env: Readonly<Record<string, string>>): CloudConfigLayer {
  const layer: Record<string, unknown> = {};
  for (const [key, kind, name] of fields) {
    if (!name) continue;
    const value = env[name];
    if (value === undefined) continue;
    layer[key] = parseField(key, kind, value, name);
  }
  return layer as CloudConfigLayer;
}

/**
 * The script-level layer: `options.cloud`, or (legacy, with a warning) `options.ext.loadimpact`.
 * Only `projectID`, `name`, `token` and `stackID` are taken (§1.2).
 */
export function parseScriptCloudOptions(
  options: Readonly<Record<string, unknown>> | undefined,
  logger?: Logger,
): CloudConfigLayer {
  if (!options) return {};
  let block = options.cloud;
  let source = "options.cloud";
  if (block === undefined || block === null) {
    const ext = options.ext;
    const legacy = ext && typeof ext === "object"
      ? (ext as Record<string, unknown>).loadimpact
      : undefined;
    if (legacy === undefined || legacy === null) return {};
    logger?.warn(
      "options.ext.loadimpact is deprecated, please use options.cloud instead",
    );
    block = legacy;
    source = "options.ext.loadimpact";
  }
  if (typeof block !== "object" || Array.isArray(block)) {
    throw invalidConfig(`invalid ${source}: expected an object`);
  }
  const picked: Record<string, unknown> = {};
  for (const key of ["projectID", "name", "token", "stackID"]) {
    const value = (block as Record<string, unknown>)[key];
    if (value !== undefined) picked[key] = value;
  }
  return parseCloudJSON(picked, source);
}

/**
 * Merges `upper` onto `lower` with k6's apply semantics (§1.2): a key is taken when present,
 * except `projectID` (only > 0), `name`/`host`/`hostv6` (only non-empty) and `stackURL`
 * (only if `lower` has none: the first source that sets it wins).
 */
export function applyCloudLayer(
  lower: CloudConfigLayer,
  upper: CloudConfigLayer,
): CloudConfigLayer {
  const out: Record<string, unknown> = { ...lower };
  for (const [key, value] of Object.entries(upper)) {
    if (value === undefined || value === null) continue;
    if (key === "projectID" && !((value as number) > 0)) continue;
    if ((key === "name" || key === "host" || key === "hostv6") && value === "") continue;
    if (key === "stackURL" && lower.stackURL) continue;
    out[key] = value;
  }
  return out as CloudConfigLayer;
}

/** Fills the defaults (which depend on `apiVersion`) and validates. */
export function finalizeCloudConfig(
  layer: CloudConfigLayer,
  opts: { scriptPath?: string; requireToken?: boolean } = {},
): CloudConfig {
  const apiVersion = layer.apiVersion ?? commonDefaults.apiVersion;
  const config = {
    ...commonDefaults,
    ...(apiVersion === 1 ? v1Defaults : v2Defaults),
    ...stripUndefined(layer),
  } as CloudConfig;
  config.name = resolveName(config.name, opts.scriptPath);
  validateCloudConfig(config, { requireToken: opts.requireToken ?? true });
  return config;
}

function stripUndefined(layer: CloudConfigLayer): CloudConfigLayer {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(layer)) if (v !== undefined && v !== null) out[k] = v;
  return out as CloudConfigLayer;
}

/** Name resolution (§1.2): empty → base name of the script; `-` → "k6 test". */
export function resolveName(name: string, scriptPath?: string): string {
  let resolved = name;
  if (resolved === "") {
    if (!scriptPath) {
      throw invalidConfig(
        "script name not set, please specify K6_CLOUD_NAME or options.cloud.name",
      );
    }
    const clean = scriptPath.replace(/[/\\]+$/, "");
    resolved = clean.slice(Math.max(clean.lastIndexOf("/"), clean.lastIndexOf("\\")) + 1);
  }
  return resolved === "-" ? "k6 test" : resolved;
}

/** Checks the values that must hold before anything is sent (§1.3 plus sanity checks). */
export function validateCloudConfig(
  config: CloudConfig,
  opts: { requireToken?: boolean } = {},
): void {
  if ((opts.requireToken ?? true) && !config.token) {
    throw invalidConfig(
      "cloud output: no token configured (token): set K6_CLOUD_TOKEN, options.cloud.token " +
        'or run "spate cloud login"',
    );
  }
  if (config.projectID < 0) {
    throw invalidConfig(`invalid cloud option projectID: ${config.projectID} must not be negative`);
  }
  for (
    const key of [
      "timeout",
      "metricPushInterval",
      "tracesPushInterval",
      "aggregationPeriod",
      "aggregationWaitPeriod",
      "aggregationCalcInterval",
    ] as const
  ) {
    if (config[key] < 0) {
      throw invalidConfig(
        `invalid cloud option ${key}: ${config[key]}ms must not be negative`,
      );
    }
  }
  if (config.metricPushInterval === 0) {
    throw invalidConfig("invalid cloud option metricPushInterval: 0 must be positive");
  }
  if (config.metricPushConcurrency < 1) {
    throw invalidConfig(
      `invalid cloud option metricPushConcurrency: ${config.metricPushConcurrency} must be at least 1`,
    );
  }
  if (config.maxTimeSeriesInBatch < 1) {
    throw invalidConfig(
      `invalid cloud option maxTimeSeriesInBatch: ${config.maxTimeSeriesInBatch} must be at least 1`,
    );
  }
  if (config.apiVersion !== 1 && config.apiVersion !== 2) {
    throw invalidConfig(
      `invalid cloud option apiVersion: ${config.apiVersion} (supported: 1, 2)`,
    );
  }
  if (config.apiVersion === 2) {
    for (const key of ["aggregationPeriod", "aggregationWaitPeriod"] as const) {
      const ms = config[key];
      if (ms <= 0 || ms % 1000 !== 0) {
        throw invalidConfig(
          `invalid cloud option ${key}: ${ms}ms must be a positive whole number of seconds`,
        );
      }
    }
  } else if (config.maxMetricSamplesPerPackage < 1) {
    throw invalidConfig(
      `invalid cloud option maxMetricSamplesPerPackage: ${config.maxMetricSamplesPerPackage} must be at least 1`,
    );
  }
  for (const key of ["host", "hostv6", "webAppURL"] as const) {
    try {
      const url = new URL(config[key]);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error();
    } catch {
      throw invalidConfig(
        `invalid cloud option ${key}: ${JSON.stringify(config[key])} is not a URL`,
      );
    }
  }
  if (config.pushRefID !== undefined && config.pushRefID.trim() === "") {
    throw invalidConfig('invalid cloud option pushRefID: "" must not be empty');
  }
}

/** Everything {@link resolveCloudConfig} reads. */
export interface CloudConfigSources {
  /** `collectors.cloud` of the config file. */
  fileConfig?: unknown;
  /** Consolidated script options (`cloud`, `ext.loadimpact`). */
  scriptOptions?: Readonly<Record<string, unknown>>;
  /** Process environment. */
  env?: Readonly<Record<string, string>>;
  /** Text after `--out cloud=`; sets the name (deprecated, still honoured). */
  outArgument?: string;
  scriptPath?: string;
  logger?: Logger;
  /** Defaults to true: the output needs a token to authenticate. */
  requireToken?: boolean;
}

/** The merged layers before defaults (kept so a server override can be applied later). */
export function mergeCloudSources(src: CloudConfigSources): CloudConfigLayer {
  let layer = parseCloudJSON(src.fileConfig, "config file collectors.cloud");
  layer = applyCloudLayer(layer, parseScriptCloudOptions(src.scriptOptions, src.logger));
  layer = applyCloudLayer(layer, parseCloudEnv(src.env ?? {}));
  if (src.outArgument) {
    if (src.outArgument.includes("=")) {
      throw invalidConfig(
        `invalid --out cloud argument ${JSON.stringify(src.outArgument)}: expected a test name`,
      );
    }
    layer = applyCloudLayer(layer, { name: src.outArgument });
  }
  return layer;
}

/** Resolves the cloud configuration from every local source (everything but the server). */
export function resolveCloudConfig(src: CloudConfigSources): CloudConfig {
  return finalizeCloudConfig(mergeCloudSources(src), {
    scriptPath: src.scriptPath,
    requireToken: src.requireToken,
  });
}

/**
 * Applies the server's `config` override (§4.2) on top of the local layers and re-resolves.
 * Invalid override values are errors (the server sent something we cannot honour).
 */
export function applyServerOverride(
  local: CloudConfigLayer,
  override: unknown,
  opts: { scriptPath?: string } = {},
): CloudConfig {
  const merged = applyCloudLayer(local, parseCloudJSON(override, "server config override"));
  return finalizeCloudConfig(merged, { scriptPath: opts.scriptPath, requireToken: true });
}
