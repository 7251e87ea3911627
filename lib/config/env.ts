/**
 * The `K6_*` environment variables (runner.md §1.2, §2.5). Option variables form the "env"
 * configuration layer (a bad value is exit 104, naming the variable and the value); runtime
 * variables (`K6_NO_THRESHOLDS`, `K6_SUMMARY_MODE`, ...) fail like k6 does, with the generic
 * exit code 255. An empty value counts as "not set".
 *
 * @example
 * ```ts
 * const env = readEnvConfig({ K6_VUS: "10", K6_OUT: "json=a.json,csv" });
 * // env.options = { vus: 10, out: ["json=a.json", "csv"] }
 * ```
 * @module
 */
import { SpateError } from "../errors.ts";
import {
  goBoolError,
  goDurationError,
  goIntError,
  isCIDR,
  parseDNSText,
  parseFlagDuration,
  parseGoBool,
  parseGoInt,
  trendStatProblem,
} from "./_parse.ts";
import { parseDuration } from "./duration.ts";
import type { ConfigLayer, StageInput } from "./schema.ts";

/** Runtime settings read from the environment (flags win over these). */
export interface EnvRuntime {
  includeSystemEnvVars?: boolean;
  compatibilityMode?: "extended" | "base";
  type?: "js" | "archive";
  noThresholds?: boolean;
  summaryMode?: "compact" | "full" | "disabled";
  summaryExport?: string;
  newMachineReadableSummary?: boolean;
  tracesOutput?: string;
  /** Global-flag variables: K6_CONFIG, K6_LOG_OUTPUT, K6_LOG_FORMAT. */
  config?: string;
  logOutput?: string;
  logFormat?: string;
  /** K6_NO_COLOR (non-empty) or NO_COLOR (present, even empty). */
  noColor: boolean;
  /** K6_FEATURES, split on commas and trimmed. */
  features?: string[];
}

/** Everything the environment configures. */
export interface EnvConfig {
  /** The "env" configuration layer, in options shape plus `out`, `linger`, ... */
  options: ConfigLayer;
  runtime: EnvRuntime;
}

function bad(name: string, value: string, why: string): SpateError {
  return new SpateError(
    "invalid-config",
    `invalid environment variable ${name}=${JSON.stringify(value)}: ${why}`,
  );
}

type EnvParser = (value: string, name: string) => unknown;

const asInt: EnvParser = (v, name) => {
  const n = parseGoInt(v);
  if (n === undefined) throw bad(name, v, `expected an integer (${goIntError(v)})`);
  return n;
};
const asBool: EnvParser = (v, name) => {
  const b = parseGoBool(v);
  if (b === undefined) throw bad(name, v, `expected a boolean (${goBoolError(v)})`);
  return b;
};
const asDuration: EnvParser = (v, name) => {
  try {
    return parseDuration(v, name);
  } catch {
    throw bad(name, v, `expected a duration like "30s" or a number of milliseconds`);
  }
};
const asString: EnvParser = (v) => v;
const asList: EnvParser = (v) => v.split(",");
const asTrimmedList: EnvParser = (v) => v.split(",").map((s) => s.trim()).filter((s) => s !== "");
const asCIDRList: EnvParser = (v, name) => {
  const list = v.split(",");
  const wrong = list.find((s) => !isCIDR(s));
  if (wrong !== undefined) throw bad(name, v, `invalid CIDR address ${JSON.stringify(wrong)}`);
  return list;
};
const asTrendStats: EnvParser = (v) => {
  // Validated after consolidation (exit 255), exactly like k6 (runner.md §2.6).
  return v.split(",");
};
const asTimeUnit: EnvParser = (v, name) => {
  if (v !== "s" && v !== "ms" && v !== "us") throw bad(name, v, `expected "s", "ms" or "us"`);
  return v;
};
/** envconfig map syntax: `k:v,k2:v2`. */
const asTagMap: EnvParser = (v, name) => {
  const out: Record<string, string> = {};
  for (const pair of v.split(",")) {
    const colon = pair.indexOf(":");
    if (colon < 0) {
      throw bad(name, v, `invalid map item ${JSON.stringify(pair)}, expected key:value`);
    }
    out[pair.slice(0, colon)] = pair.slice(colon + 1);
  }
  return out;
};
/** Comma-separated `duration:target` list; an entry without duration is dropped on merge. */
const asStages: EnvParser = (v, name) => {
  const stages: StageInput[] = [];
  for (const item of v.split(",")) {
    const colon = item.indexOf(":");
    const durText = colon < 0 ? item : item.slice(0, colon);
    const targetText = colon < 0 ? "" : item.slice(colon + 1);
    const stage: StageInput = {};
    if (durText !== "") {
      const ms = parseFlagDuration(durText);
      if (ms === undefined) throw bad(name, v, goDurationError(durText));
      stage.duration = ms;
    }
    if (targetText !== "") {
      const n = parseGoInt(targetText);
      if (n === undefined) throw bad(name, v, goIntError(targetText));
      stage.target = n;
    }
    stages.push(stage);
  }
  return stages;
};
const asDNS: EnvParser = (v, name) => {
  const dns = parseDNSText(v);
  if (typeof dns === "string") throw bad(name, v, dns);
  return dns;
};

/** K6_* variable → options key and parser (k6's envconfig tags). */
const optionVars: Record<string, [keyof ConfigLayer, EnvParser]> = {
  K6_PAUSED: ["paused", asBool],
  K6_VUS: ["vus", asInt],
  K6_DURATION: ["duration", asDuration],
  K6_ITERATIONS: ["iterations", asInt],
  K6_STAGES: ["stages", asStages],
  K6_NO_SETUP: ["noSetup", asBool],
  K6_SETUP_TIMEOUT: ["setupTimeout", asDuration],
  K6_NO_TEARDOWN: ["noTeardown", asBool],
  K6_TEARDOWN_TIMEOUT: ["teardownTimeout", asDuration],
  K6_HANDLE_SUMMARY_TIMEOUT: ["handleSummaryTimeout", asDuration],
  K6_RPS: ["rps", asInt],
  K6_DNS: ["dns", asDNS],
  K6_MAX_REDIRECTS: ["maxRedirects", asInt],
  K6_USER_AGENT: ["userAgent", asString],
  K6_BATCH: ["batch", asInt],
  K6_BATCH_PER_HOST: ["batchPerHost", asInt],
  K6_HTTP_DEBUG: ["httpDebug", asString],
  K6_INSECURE_SKIP_TLS_VERIFY: ["insecureSkipTLSVerify", asBool],
  K6_TLS_CIPHER_SUITES: ["tlsCipherSuites", asTrimmedList],
  K6_THROW: ["throw", asBool],
  K6_BLACKLIST_IPS: ["blacklistIPs", asCIDRList],
  K6_BLOCK_HOSTNAMES: ["blockHostnames", asTrimmedList],
  K6_NO_CONNECTION_REUSE: ["noConnectionReuse", asBool],
  K6_NO_VU_CONNECTION_REUSE: ["noVUConnectionReuse", asBool],
  K6_MIN_ITERATION_DURATION: ["minIterationDuration", asDuration],
  K6_SUMMARY_TREND_STATS: ["summaryTrendStats", asTrendStats],
  K6_SUMMARY_TIME_UNIT: ["summaryTimeUnit", asTimeUnit],
  K6_SYSTEM_TAGS: ["systemTags", asTrimmedList],
  K6_TAGS: ["tags", asTagMap],
  K6_METRIC_SAMPLES_BUFFER_SIZE: ["metricSamplesBufferSize", asInt],
  K6_NO_COOKIES_RESET: ["noCookiesReset", asBool],
  K6_DISCARD_RESPONSE_BODIES: ["discardResponseBodies", asBool],
  K6_CONSOLE_OUTPUT: ["consoleOutput", asString],
  K6_LOCAL_IPS: ["localIPs", asString],
  // Config (not options) keys.
  K6_OUT: ["out", asList],
  K6_LINGER: ["linger", asBool],
  K6_NO_USAGE_REPORT: ["noUsageReport", asBool],
  K6_WEB_DASHBOARD: ["webDashboard", asBool],
};

/** Names of all option/config variables this module reads (for documentation and tests). */
export const optionEnvVars: readonly string[] = Object.keys(optionVars);

function runtimeBool(env: Record<string, string>, name: string): boolean | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  const b = parseGoBool(v);
  if (b === undefined) {
    // k6 reports these without an exit code (255).
    throw new SpateError(
      "usage",
      `env var '${name}' is not a valid boolean value: ${goBoolError(v)}`,
    );
  }
  return b;
}

/**
 * Reads every K6_* variable from `env` (the real process environment; `-e` values never
 * configure spate). Throws SpateError on a bad value.
 *
 * @example
 * ```ts
 * const { options, runtime } = readEnvConfig(Deno.env.toObject());
 * ```
 */
export function readEnvConfig(env: Readonly<Record<string, string>>): EnvConfig {
  const options: Record<string, unknown> = {};
  for (const [name, [key, parse]] of Object.entries(optionVars)) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    options[key] = parse(value, name);
  }
  if (typeof options.httpDebug === "string" && options.httpDebug !== "full") {
    options.httpDebug = "headers";
  }

  const runtime: EnvRuntime = { noColor: (env.K6_NO_COLOR ?? "") !== "" || "NO_COLOR" in env };
  const incl = runtimeBool(env, "K6_INCLUDE_SYSTEM_ENV_VARS");
  if (incl !== undefined) runtime.includeSystemEnvVars = incl;
  const noThresholds = runtimeBool(env, "K6_NO_THRESHOLDS");
  if (noThresholds !== undefined) runtime.noThresholds = noThresholds;
  const nmrs = runtimeBool(env, "K6_NEW_MACHINE_READABLE_SUMMARY");
  if (nmrs !== undefined) runtime.newMachineReadableSummary = nmrs;

  const mode = env.K6_SUMMARY_MODE;
  if (mode !== undefined && mode !== "") {
    if (mode !== "compact" && mode !== "full" && mode !== "disabled") {
      throw new SpateError(
        "usage",
        `invalid summary mode '${mode}' in K6_SUMMARY_MODE, use "compact", "full" or "disabled"`,
      );
    }
    runtime.summaryMode = mode;
  }
  // v1 alias (DECISIONS.md #1): K6_NO_SUMMARY=true means summary mode "disabled".
  const noSummary = runtimeBool(env, "K6_NO_SUMMARY");
  if (noSummary && runtime.summaryMode === undefined) runtime.summaryMode = "disabled";

  const compat = env.K6_COMPATIBILITY_MODE;
  if (compat !== undefined && compat !== "") {
    if (compat !== "extended" && compat !== "base") {
      throw new SpateError(
        "usage",
        `invalid compatibility mode "${compat}" in K6_COMPATIBILITY_MODE. Use: "extended", "base"`,
      );
    }
    runtime.compatibilityMode = compat;
  }
  const type = env.K6_TYPE;
  if (type === "js" || type === "archive") runtime.type = type;
  if (env.K6_SUMMARY_EXPORT !== undefined) runtime.summaryExport = env.K6_SUMMARY_EXPORT;
  if (env.K6_TRACES_OUTPUT !== undefined) runtime.tracesOutput = env.K6_TRACES_OUTPUT;
  if (env.K6_CONFIG !== undefined) runtime.config = env.K6_CONFIG;
  if (env.K6_FEATURES !== undefined) {
    runtime.features = asTrimmedList(env.K6_FEATURES, "") as string[];
  }
  if (env.K6_LOG_OUTPUT !== undefined) runtime.logOutput = env.K6_LOG_OUTPUT;
  if (env.K6_LOG_FORMAT !== undefined) runtime.logFormat = env.K6_LOG_FORMAT;

  return { options: options as ConfigLayer, runtime };
}

/** Validates a trend-stat list (shared with consolidation); returns the first problem. */
export function trendStatsProblem(stats: readonly string[]): string | undefined {
  for (const s of stats) {
    const p = trendStatProblem(s);
    if (p) return p;
  }
  return undefined;
}
