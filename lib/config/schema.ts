/**
 * zod schemas for script `options` and the JSON config file (runner.md §2.5, §2.7, §4). Decoding
 * matches k6's JSON decoding: `null` means "not set", integers may also be numeric strings (k6's
 * nullable ints accept them), durations are Go/day strings or numbers of milliseconds, scenarios
 * are decoded strictly per executor, unknown top-level keys only warn.
 *
 * Every problem becomes one line naming the field path and the value, e.g.
 * `invalid options: "vus": expected an integer, got "ten"` (exit 104).
 *
 * @example
 * ```ts
 * const { options, warnings } = parseScriptOptions({ vus: 10, duration: "30s" });
 * // options = { vus: 10, duration: 30000 }, warnings = []
 * ```
 * @module
 */
import { z } from "zod";
import { SpateError } from "../errors.ts";
import { dnsFieldProblem, type DNSSettings, isCIDR } from "./_parse.ts";
import { parseDuration } from "./duration.ts";
import type { ExecutorType, ThresholdConfig } from "./types.ts";

export type { DNSSettings } from "./_parse.ts";

/** One stage as written; either part may be missing (validation reports it later). */
export interface StageInput {
  duration?: number;
  target?: number;
}

/** A scenario as decoded from options: only the fields that were set (durations in ms). */
export interface ScenarioInput {
  executor: ExecutorType;
  startTime?: number;
  gracefulStop?: number;
  exec?: string;
  env?: Record<string, string>;
  tags?: Record<string, string>;
  options?: Record<string, unknown>;
  vus?: number;
  iterations?: number;
  maxDuration?: number;
  duration?: number;
  startVUs?: number;
  stages?: StageInput[];
  gracefulRampDown?: number;
  rate?: number;
  timeUnit?: number;
  preAllocatedVUs?: number;
  maxVUs?: number;
  startRate?: number;
}

/**
 * One configuration layer in k6's options shape, holding only what that layer set.
 * Durations are ms. Produced by the script, the config file, the environment and the CLI.
 */
export interface OptionsLayer {
  paused?: boolean;
  vus?: number;
  duration?: number;
  iterations?: number;
  stages?: StageInput[];
  scenarios?: Record<string, ScenarioInput>;
  executionSegment?: string;
  executionSegmentSequence?: string;
  noSetup?: boolean;
  setupTimeout?: number;
  noTeardown?: boolean;
  teardownTimeout?: number;
  handleSummaryTimeout?: number;
  rps?: number;
  dns?: DNSSettings;
  maxRedirects?: number;
  userAgent?: string;
  batch?: number;
  batchPerHost?: number;
  httpDebug?: string;
  insecureSkipTLSVerify?: boolean;
  tlsCipherSuites?: string[];
  tlsVersion?: unknown;
  tlsAuth?: unknown[];
  throw?: boolean;
  thresholds?: Record<string, ThresholdConfig[]>;
  blacklistIPs?: string[];
  blockHostnames?: string[];
  hosts?: Record<string, string>;
  noConnectionReuse?: boolean;
  noVUConnectionReuse?: boolean;
  minIterationDuration?: number;
  cloud?: Record<string, unknown>;
  ext?: Record<string, unknown>;
  summaryTrendStats?: string[];
  summaryTimeUnit?: "s" | "ms" | "us";
  systemTags?: string[];
  tags?: Record<string, string>;
  metricSamplesBufferSize?: number;
  noCookiesReset?: boolean;
  discardResponseBodies?: boolean;
  /** CLI/env only (not an options key in k6). */
  consoleOutput?: string;
  /** CLI/env only. */
  localIPs?: string;
  features?: string[];
}

/** The config file / environment additions to {@link OptionsLayer} (runner.md §2.7). */
export interface ConfigLayer extends OptionsLayer {
  out?: string[];
  linger?: boolean;
  noUsageReport?: boolean;
  webDashboard?: boolean;
  /** Per-output JSON config, passed through untouched. */
  collectors?: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Field checkers. Each returns the decoded value or a Problem; `null`/absent means "not set".

class Problem {
  /** `path` locates the problem inside the checked value (e.g. a metric name, a stage index). */
  constructor(readonly message: string, readonly path: (string | number)[] = []) {}
}

type Check<T> = (value: unknown) => T | Problem;

/** A zod field: absent or null → undefined; otherwise `check` decides. */
function field<T>(check: Check<T>): z.ZodType<T | undefined, z.ZodTypeDef, unknown> {
  return z.unknown().transform((value, ctx): T | undefined => {
    if (value === null || value === undefined) return undefined;
    const out = check(value);
    if (out instanceof Problem) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: out.message, path: out.path });
      return z.NEVER;
    }
    return out;
  });
}

const checkInt: Check<number | undefined> = (v) => {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  // k6's nullable ints also take numeric strings; "" means unset.
  if (typeof v === "string") {
    if (v === "") return undefined;
    if (/^[+-]?\d+$/.test(v)) return parseInt(v, 10);
  }
  return new Problem("expected an integer");
};

const checkBool: Check<boolean> = (v) =>
  typeof v === "boolean" ? v : new Problem("expected a boolean (true or false)");

const checkString: Check<string> = (v) =>
  typeof v === "string" ? v : new Problem("expected a string");

const checkDuration: Check<number> = (v) => {
  try {
    if (typeof v === "number" || typeof v === "string") return parseDuration(v, "duration");
  } catch {
    // fall through to the uniform message below
  }
  return new Problem(`expected a duration like "30s", "1m30s", "1d" or a number of milliseconds`);
};

const checkStringList: Check<string[]> = (v) =>
  Array.isArray(v) && v.every((s) => typeof s === "string")
    ? [...v]
    : new Problem("expected an array of strings");

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Tag-like maps: values may be strings, numbers or booleans (turned into strings). */
const checkStringMap: Check<Record<string, string>> = (v) => {
  if (!isPlainObject(v)) return new Problem("expected an object of string values");
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val === "string") out[k] = val;
    else if (typeof val === "number" || typeof val === "boolean") out[k] = String(val);
    else return new Problem("expected a string, number or boolean", [k]);
  }
  return out;
};

const checkObject: Check<Record<string, unknown>> = (v) =>
  isPlainObject(v) ? v : new Problem("expected an object");

const checkArray: Check<unknown[]> = (v) => Array.isArray(v) ? v : new Problem("expected an array");

const checkHttpDebug: Check<string> = checkString;

const checkTimeUnit: Check<"s" | "ms" | "us"> = (v) =>
  v === "s" || v === "ms" || v === "us" ? v : new Problem(`expected "s", "ms" or "us"`);

const checkCIDRList: Check<string[]> = (v) => {
  const list = checkStringList(v);
  if (list instanceof Problem) return list;
  const bad = list.find((s) => !isCIDR(s));
  return bad === undefined ? list : new Problem(`invalid CIDR address ${JSON.stringify(bad)}`);
};

const checkDNS: Check<DNSSettings> = (v) => {
  if (!isPlainObject(v)) return new Problem("expected an object {ttl, select, policy}");
  const out: DNSSettings = {};
  for (const [k, raw] of Object.entries(v)) {
    if (raw === null || raw === undefined) continue;
    const text = typeof raw === "number" ? String(raw) : raw;
    if (typeof text !== "string") return new Problem(`"${k}" must be a string`);
    const problem = dnsFieldProblem(k, text);
    if (problem) return new Problem(problem);
    out[k as keyof DNSSettings] = text;
  }
  return out;
};

const checkStages: Check<StageInput[]> = (v) => {
  if (!Array.isArray(v)) return new Problem("expected an array of {duration, target}");
  const out: StageInput[] = [];
  for (const [i, s] of v.entries()) {
    if (s === null) {
      out.push({});
      continue;
    }
    if (!isPlainObject(s)) return new Problem("expected an object {duration, target}", [i]);
    const stage: StageInput = {};
    if (s.duration !== null && s.duration !== undefined) {
      const d = checkDuration(s.duration);
      if (d instanceof Problem) return new Problem(d.message, [i, "duration"]);
      stage.duration = d;
    }
    if (s.target !== null && s.target !== undefined) {
      const t = checkInt(s.target);
      if (t instanceof Problem) return new Problem(t.message, [i, "target"]);
      if (t !== undefined) stage.target = t;
    }
    out.push(stage);
  }
  return out;
};

const checkThresholds: Check<Record<string, ThresholdConfig[]>> = (v) => {
  if (!isPlainObject(v)) return new Problem("expected an object of metric → array of thresholds");
  const out: Record<string, ThresholdConfig[]> = {};
  for (const [metric, list] of Object.entries(v)) {
    if (!Array.isArray(list)) return new Problem("expected an array of thresholds", [metric]);
    const configs: ThresholdConfig[] = [];
    for (const [i, item] of list.entries()) {
      if (typeof item === "string") {
        configs.push({ source: item, abortOnFail: false });
        continue;
      }
      if (!isPlainObject(item) || typeof item.threshold !== "string") {
        return new Problem(
          "expected a threshold string or {threshold, abortOnFail, delayAbortEval}",
          [metric, i],
        );
      }
      const abort = item.abortOnFail ?? false;
      if (typeof abort !== "boolean") {
        return new Problem("expected a boolean (true or false)", [metric, i, "abortOnFail"]);
      }
      let cfg: ThresholdConfig = { source: item.threshold, abortOnFail: abort };
      const delay = item.delayAbortEval;
      if (delay !== null && delay !== undefined && delay !== "") {
        const ms = checkDuration(delay);
        if (ms instanceof Problem) {
          return new Problem(ms.message, [metric, i, "delayAbortEval"]);
        }
        cfg = { ...cfg, delayAbortEval: ms, delayAbortEvalText: String(delay) };
      }
      configs.push(cfg);
    }
    out[metric] = configs;
  }
  return out;
};

// ---------------------------------------------------------------------------------------------
// Scenarios: strict per executor (runner.md §4.1).

const int = field(checkInt);
const dur = field(checkDuration);

const scenarioBase = {
  executor: z.unknown(),
  startTime: dur,
  gracefulStop: dur,
  exec: field(checkString),
  env: field(checkStringMap),
  tags: field(checkStringMap),
  options: field(checkObject),
};

const stages = field(checkStages);

/** Strict zod schema per executor type. */
export const scenarioSchemas = {
  "shared-iterations": z.object({ ...scenarioBase, vus: int, iterations: int, maxDuration: dur })
    .strict(),
  "per-vu-iterations": z.object({ ...scenarioBase, vus: int, iterations: int, maxDuration: dur })
    .strict(),
  "constant-vus": z.object({ ...scenarioBase, vus: int, duration: dur }).strict(),
  "ramping-vus": z.object({
    ...scenarioBase,
    startVUs: int,
    stages,
    gracefulRampDown: dur,
  }).strict(),
  "constant-arrival-rate": z.object({
    ...scenarioBase,
    rate: int,
    timeUnit: dur,
    duration: dur,
    preAllocatedVUs: int,
    maxVUs: int,
  }).strict(),
  "ramping-arrival-rate": z.object({
    ...scenarioBase,
    startRate: int,
    timeUnit: dur,
    stages,
    preAllocatedVUs: int,
    maxVUs: int,
  }).strict(),
} as const;

/** Executor types spate runs. */
export const executorTypes = Object.keys(scenarioSchemas) as ExecutorType[];

// ---------------------------------------------------------------------------------------------
// Top level.

/** The options keys (runner.md §2.5 / k6's lib.Options JSON names). */
export const optionsShape = {
  paused: field(checkBool),
  vus: int,
  duration: dur,
  iterations: int,
  stages,
  scenarios: z.unknown(), // decoded separately, to report per-scenario problems precisely
  executionSegment: field(checkString),
  executionSegmentSequence: field(checkString),
  noSetup: field(checkBool),
  setupTimeout: dur,
  noTeardown: field(checkBool),
  teardownTimeout: dur,
  handleSummaryTimeout: dur,
  rps: int,
  dns: field(checkDNS),
  maxRedirects: int,
  userAgent: field(checkString),
  batch: int,
  batchPerHost: int,
  httpDebug: field(checkHttpDebug),
  insecureSkipTLSVerify: field(checkBool),
  tlsCipherSuites: field(checkStringList),
  tlsVersion: field((v): unknown => v),
  tlsAuth: field(checkArray),
  throw: field(checkBool),
  thresholds: field(checkThresholds),
  blacklistIPs: field(checkCIDRList),
  blockHostnames: field(checkStringList),
  hosts: field(checkStringMap),
  noConnectionReuse: field(checkBool),
  noVUConnectionReuse: field(checkBool),
  minIterationDuration: dur,
  cloud: field(checkObject),
  ext: field(checkObject),
  summaryTrendStats: field(checkStringList),
  summaryTimeUnit: field(checkTimeUnit),
  systemTags: field(checkStringList),
  tags: field(checkStringMap),
  metricSamplesBufferSize: int,
  noCookiesReset: field(checkBool),
  discardResponseBodies: field(checkBool),
  features: field(checkStringList),
};

/** Script options schema (unknown keys are stripped; they are reported as a warning). */
export const optionsSchema = z.object(optionsShape);

/** Config file schema: options plus the config-only keys (runner.md §2.7). */
export const configFileSchema = z.object({
  ...optionsShape,
  out: field(checkStringList),
  linger: field(checkBool),
  noUsageReport: field(checkBool),
  webDashboard: field(checkBool),
  noArchiveUpload: field(checkBool),
  collectors: field(checkObject),
});

const unknownFieldsWarning = "There were unknown fields in the options exported in the script";

/** Renders a value for an error line, shortened. */
function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? text.slice(0, 77) + "..." : text;
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

function issueLines(
  prefix: string,
  issues: readonly z.ZodIssue[],
  root: unknown,
  pathPrefix: readonly (string | number)[] = [],
  executor?: string,
): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = [...pathPrefix, ...issue.path];
    const where = path.length ? `"${path.join(".")}": ` : "";
    if (issue.code === z.ZodIssueCode.unrecognized_keys) {
      for (const key of issue.keys) {
        lines.push(
          `${prefix}: ${where}unknown field "${key}"` +
            (executor ? ` (not valid for executor "${executor}")` : ""),
        );
      }
    } else if (issue.code === z.ZodIssueCode.invalid_type) {
      lines.push(
        `${prefix}: ${where}expected ${article(issue.expected)}, got ${show(valueAt(root, path))}`,
      );
    } else {
      lines.push(`${prefix}: ${where}${issue.message}, got ${show(valueAt(root, path))}`);
    }
  }
  return lines;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** Removes keys whose value is undefined (zod keeps them for absent optional fields). */
function compact<T extends object>(obj: T): T {
  for (const k of Object.keys(obj) as (keyof T)[]) {
    if (obj[k] === undefined) delete obj[k];
  }
  return obj;
}

/**
 * Decodes `options.scenarios` strictly. Returns the scenarios and problem lines.
 * A scenario's executor decides which fields are allowed; unknown fields are fatal.
 */
function decodeScenarios(
  raw: unknown,
  prefix: string,
  root: unknown,
): { scenarios?: Record<string, ScenarioInput>; lines: string[] } {
  if (raw === null || raw === undefined) return { lines: [] };
  if (!isPlainObject(raw)) {
    return {
      lines: [`${prefix}: "scenarios": expected an object of name → scenario, got ${show(raw)}`],
    };
  }
  const lines: string[] = [];
  const scenarios: Record<string, ScenarioInput> = {};
  for (const [name, sc] of Object.entries(raw)) {
    const at = `"scenarios.${name}"`;
    if (!isPlainObject(sc)) {
      lines.push(`${prefix}: ${at}: expected an object, got ${show(sc)}`);
      continue;
    }
    const executor = sc.executor;
    if (executor === undefined || executor === null || executor === "") {
      lines.push(`${prefix}: scenario '${name}' doesn't have a specified executor type`);
      continue;
    }
    if (executor === "externally-controlled") {
      lines.push(
        `${prefix}: ${at}: the externally-controlled executor is not supported ` +
          `(removed in k6 v2); use constant-vus or ramping-vus instead`,
      );
      continue;
    }
    if (typeof executor !== "string" || !(executor in scenarioSchemas)) {
      lines.push(
        `${prefix}: unknown executor type '${
          typeof executor === "string" ? executor : show(executor)
        }'`,
      );
      continue;
    }
    const schema = scenarioSchemas[executor as ExecutorType];
    const res = schema.safeParse(sc);
    if (!res.success) {
      lines.push(...issueLines(prefix, res.error.issues, root, ["scenarios", name], executor));
      continue;
    }
    scenarios[name] = compact({ ...res.data, executor } as ScenarioInput);
  }
  return { scenarios, lines };
}

function decode<T extends OptionsLayer>(
  schema: z.ZodObject<z.ZodRawShape>,
  raw: unknown,
  prefix: string,
): { value: T; unknownKeys: string[] } {
  if (!isPlainObject(raw)) {
    throw new SpateError("invalid-config", `${prefix}: expected an object, got ${show(raw)}`);
  }
  const res = schema.safeParse(raw);
  const lines = res.success ? [] : issueLines(prefix, res.error.issues, raw);
  const sc = decodeScenarios(raw.scenarios, prefix, raw);
  lines.push(...sc.lines);
  if (lines.length > 0 || !res.success) {
    throw new SpateError("invalid-config", lines.join("\n"));
  }
  const value = compact({ ...res.data }) as Record<string, unknown>;
  delete value.scenarios;
  if (sc.scenarios) value.scenarios = sc.scenarios;
  const unknownKeys = Object.keys(raw).filter((k) => !(k in schema.shape));
  return { value: value as T, unknownKeys };
}

/**
 * Decodes a script's exported `options` (after a JSON round trip, as k6 does: functions and
 * `undefined` disappear). Unknown top-level keys → a warning; any type error → SpateError
 * "invalid-config" (exit 104) with one line per problem.
 *
 * @example
 * ```ts
 * const { options, warnings } = parseScriptOptions({ vus: "10", duration: "1m" });
 * ```
 */
export function parseScriptOptions(raw: unknown): { options: OptionsLayer; warnings: string[] } {
  if (raw === undefined || raw === null) return { options: {}, warnings: [] };
  let json: unknown;
  try {
    json = JSON.parse(JSON.stringify(raw));
  } catch (err) {
    throw new SpateError(
      "invalid-config",
      `invalid options: cannot be serialised to JSON (${err instanceof Error ? err.message : err})`,
    );
  }
  const { value, unknownKeys } = decode<OptionsLayer>(optionsSchema, json, "invalid options");
  const warnings = unknownKeys.length
    ? [
      `${unknownFieldsWarning} (unknown field${unknownKeys.length > 1 ? "s" : ""} ${
        unknownKeys.map((k) => `"${k}"`).join(", ")
      })`,
    ]
    : [];
  return { options: value, warnings };
}

/**
 * Decodes a parsed config file object (runner.md §2.7). Unknown keys are ignored silently (as
 * k6's JSON decoding of the file does); type errors are fatal (exit 104).
 *
 * @example
 * ```ts
 * const layer = parseConfigObject(JSON.parse(text), path);
 * ```
 */
export function parseConfigObject(raw: unknown, path: string): ConfigLayer {
  const { value } = decode<ConfigLayer>(
    configFileSchema,
    raw,
    `invalid config file ${JSON.stringify(path)}`,
  );
  delete (value as Record<string, unknown>).noArchiveUpload;
  return value;
}
