/**
 * The layered configuration loader (runner.md §2.1–2.4, §4): defaults < config file < script
 * options < K6_* environment < explicit CLI flags, merged field by field with k6's exceptions,
 * then defaults, shortcut → scenario derivation, and validation. This is the only place that
 * merges configuration.
 *
 * @example
 * ```ts
 * const { config, warnings } = consolidate({
 *   script: { vus: 10, duration: "30s" },
 *   env: Deno.env.toObject(),
 *   cli: parseCommandLine(["run", "-u", "5", "s.js"]).flags,
 * });
 * // config.scenarios[0] = constant-vus, 5 VUs, 30s
 * ```
 * @module
 */
import { defaultHttpConfig, defaultUserAgent } from "./defaults.ts";
import { SpateError } from "../errors.ts";
import { defaultSummaryTrendStats, defaultSystemTags, knownSystemTags } from "./_parse.ts";
import type { CliFlags } from "./cli.ts";
import { formatDuration } from "./duration.ts";
import { readEnvConfig, trendStatsProblem } from "./env.ts";
import {
  type ConfigLayer,
  type DNSSettings,
  parseConfigObject,
  parseScriptOptions,
  type ScenarioInput,
  type StageInput,
} from "./schema.ts";
import type {
  HttpConfig,
  OutputSpec,
  RunConfig,
  ScenarioConfig,
  Stage,
  SummaryMode,
  ThresholdConfig,
} from "./types.ts";

/** The User-Agent k6 HEAD sends by default (runner.md §2.3). */
export { defaultUserAgent };

/** Inputs of {@link consolidate}. */
export interface ConsolidateInput {
  /** The config file's parsed JSON (decoded here). Ignored when `fileConfig` is given. */
  file?: unknown;
  /** Path of the config file, for messages. */
  filePath?: string;
  /** An already decoded config file layer (e.g. `loadConfigFile(...).config`). */
  fileConfig?: ConfigLayer;
  /** The script's exported `options` value, as the script exported it. */
  script?: unknown;
  /** The process environment: K6_* variables configure spate; also the base of `__ENV`. */
  env: Readonly<Record<string, string>>;
  /** Explicit CLI flags. */
  cli: CliFlags;
  /** Environment for `__ENV` when it differs from `env` (default: `env`). */
  processEnv?: Readonly<Record<string, string>>;
  /**
   * Names of the script's exported functions. When given, every scenario's `exec` is checked
   * and problems join the combined validation error (runner.md §2.6).
   */
  exportedFunctions?: readonly string[];
  /** Default of `--include-system-env-vars` (true for `run`, false for `archive`/`inspect`). */
  includeSystemEnvVarsDefault?: boolean;
}

/** Settings that are not part of {@link RunConfig} but that callers need. */
export interface ConsolidateExtras {
  readonly includeSystemEnvVars: boolean;
  readonly compatibilityMode: "extended" | "base";
  readonly testType?: "js" | "archive";
  readonly features: readonly string[];
  readonly noUsageReport: boolean;
  readonly localIPs?: string;
  readonly dns: Required<DNSSettings>;
  readonly executionSegment?: string;
  readonly executionSegmentSequence?: string;
  readonly tracesOutput?: string;
  readonly newMachineReadableSummary: boolean;
}

/** The result of {@link consolidate}: config, warnings to log (not printed here), extras. */
export interface ConsolidateResult {
  readonly config: RunConfig;
  readonly warnings: string[];
  readonly extras: ConsolidateExtras;
}

type LayerName = "file" | "script" | "env" | "cli";

/** Merge state: the accumulated layer plus where `vus` and `scenarios` came from. */
interface Merged {
  layer: ConfigLayer;
  vusFrom?: LayerName;
  scenariosFrom?: LayerName;
}

const executionGroup = ["duration", "iterations", "stages", "scenarios"] as const;

/** CLI flags as a configuration layer (only options/config keys). */
function cliLayer(cli: CliFlags): ConfigLayer {
  const keys: (keyof ConfigLayer & keyof CliFlags)[] = [
    "vus",
    "duration",
    "iterations",
    "stages",
    "executionSegment",
    "executionSegmentSequence",
    "paused",
    "noSetup",
    "noTeardown",
    "maxRedirects",
    "batch",
    "batchPerHost",
    "rps",
    "userAgent",
    "httpDebug",
    "insecureSkipTLSVerify",
    "noConnectionReuse",
    "noVUConnectionReuse",
    "minIterationDuration",
    "throw",
    "blacklistIPs",
    "blockHostnames",
    "summaryTrendStats",
    "summaryTimeUnit",
    "systemTags",
    "tags",
    "consoleOutput",
    "discardResponseBodies",
    "localIPs",
    "dns",
    "out",
    "linger",
    "noUsageReport",
  ];
  const layer: Record<string, unknown> = {};
  for (const k of keys) if (cli[k] !== undefined) layer[k] = cli[k];
  return layer as ConfigLayer;
}

/** Applies `higher` onto `m` (k6's Options.Apply / Config.Apply). */
function applyLayer(m: Merged, higher: ConfigLayer, name: LayerName, warnings: string[]): void {
  const acc = m.layer as Record<string, unknown>;
  if (executionGroup.some((k) => higher[k] !== undefined)) {
    if (acc.scenarios !== undefined && name !== "file") {
      warnings.push(`"${name}" level configuration overrode scenarios configuration entirely`);
    }
    for (const k of executionGroup) delete acc[k];
    m.scenariosFrom = undefined;
  }
  for (const [key, value] of Object.entries(higher)) {
    if (value === undefined) continue;
    switch (key) {
      case "stages":
        acc.stages = (value as StageInput[]).filter((s) => s.duration !== undefined);
        break;
      case "tags":
      case "collectors":
        if (Object.keys(value as object).length > 0) acc[key] = value;
        break;
      case "out":
        if ((value as string[]).length > 0) acc.out = value;
        break;
      case "dns":
        acc.dns = { ...(acc.dns as DNSSettings | undefined), ...(value as DNSSettings) };
        break;
      default:
        acc[key] = value;
    }
  }
  if (higher.vus !== undefined) m.vusFrom = name;
  if (higher.scenarios !== undefined) m.scenariosFrom = name;
}

/** Feature flags k6 HEAD knows (runner.md §1.2 `--features`). */
export const knownFeatures: readonly string[] = [
  "merge-run-tags",
  "freeze-env",
  "native-histograms",
];

/**
 * Feature flags: the first source that supplies any wins, CLI > K6_FEATURES (process env or
 * `-e`) > config file `features` (k6's resolution); unknown names are reported and skipped.
 */
function resolveFeatures(
  cli: CliFlags,
  rt: { features?: string[] },
  file: ConfigLayer,
  warnings: string[],
): string[] {
  const fromE = cli.env?.K6_FEATURES;
  const envList = fromE !== undefined
    ? fromE.split(",").map((s) => s.trim()).filter(Boolean)
    : rt.features;
  const chosen = cli.features ?? envList ?? file.features ?? [];
  const out: string[] = [];
  for (const raw of chosen) {
    for (const name of raw.split(",").map((s) => s.trim()).filter(Boolean)) {
      if (out.includes(name)) continue;
      if (!knownFeatures.includes(name)) {
        warnings.push(`Unknown feature flag "${name}"`);
        continue;
      }
      out.push(name);
    }
  }
  return out.sort();
}

function conflict(message: string): SpateError {
  return new SpateError("invalid-config", message);
}

/**
 * Turns the shortcut options into scenarios (runner.md §2.4, DECISIONS.md #2). Returns the
 * scenarios as written (unset fields absent) for the options JSON and for validation.
 */
function deriveScenarios(m: Merged, warnings: string[]): Record<string, ScenarioInput> {
  const o = m.layer;
  const hasStages = o.stages !== undefined && o.stages.length > 0;
  const fromShortcut = (sc: ScenarioInput) => ({ default: sc });
  if (o.iterations !== undefined) {
    if (hasStages) {
      throw conflict("using `iterations` and `stages` options simultaneously is not allowed");
    }
    if (o.scenarios !== undefined) {
      throw conflict("using `iterations` and `scenarios` options simultaneously is not allowed");
    }
    const sc: ScenarioInput = { executor: "shared-iterations", iterations: o.iterations };
    if (o.vus !== undefined) sc.vus = o.vus;
    if (o.duration !== undefined) sc.maxDuration = o.duration;
    return fromShortcut(sc);
  }
  if (o.duration !== undefined) {
    if (hasStages) {
      throw conflict("using `duration` and `stages` options simultaneously is not allowed");
    }
    if (o.scenarios !== undefined) {
      throw conflict("using `duration` and `scenarios` options simultaneously is not allowed");
    }
    if (o.duration <= 0) throw conflict("`duration` option should be more than 0");
    const sc: ScenarioInput = { executor: "constant-vus", duration: o.duration };
    if (o.vus !== undefined) sc.vus = o.vus;
    return fromShortcut(sc);
  }
  if (hasStages) {
    if (o.scenarios !== undefined) {
      throw conflict("using `stages` and `scenarios` options simultaneously is not allowed");
    }
    const sc: ScenarioInput = { executor: "ramping-vus", stages: o.stages };
    if (o.vus !== undefined) sc.startVUs = o.vus;
    return fromShortcut(sc);
  }
  if (o.vus !== undefined && o.stages === undefined) {
    // DECISIONS.md #2: a bare `vus` written in the same options document (script or config
    // file) as `scenarios` keeps v1 behaviour: the scenarios win.
    const sameDocument = o.scenarios !== undefined &&
      (m.vusFrom === "script" || m.vusFrom === "file");
    if (sameDocument) {
      warnings.push(
        `the \`vus=${o.vus}\` option was ignored because the options also define \`scenarios\`; ` +
          "set `vus` inside a scenario instead",
      );
    } else {
      if (o.scenarios !== undefined) {
        warnings.push(`\`vus=${o.vus}\` overrides scenarios configuration`);
      }
      // k6 also records the derived iteration count in the options.
      o.iterations = o.vus;
      return fromShortcut({ executor: "shared-iterations", vus: o.vus, iterations: o.vus });
    }
  }
  if (o.scenarios !== undefined && Object.keys(o.scenarios).length > 0) return o.scenarios;
  if (o.stages !== undefined && o.stages.length === 0) {
    warnings.push(
      "`stages` was explicitly set to an empty value, running the script with 1 iteration in 1 VU",
    );
  }
  if (o.scenarios !== undefined && Object.keys(o.scenarios).length === 0) {
    warnings.push(
      "`scenarios` was explicitly set to an empty value, running the script with 1 iteration in 1 VU",
    );
  }
  return fromShortcut({ executor: "per-vu-iterations" });
}

const scenarioName = /^[0-9a-zA-Z_-]+$/;
const minDuration = 1000;
const maxConcurrentVUs = 100_000_000;

function validateStages(stages: readonly StageInput[] | undefined): string[] {
  const out: string[] = [];
  if (!stages || stages.length === 0) return ["at least one stage has to be specified"];
  stages.forEach((s, i) => {
    const n = i + 1;
    if (s.duration === undefined) out.push(`stage ${n} doesn't have a duration`);
    else if (s.duration < 0) out.push(`the duration for stage ${n} can't be negative`);
    if (s.target === undefined) out.push(`stage ${n} doesn't have a target`);
    else if (s.target < 0) out.push(`the target for stage ${n} can't be negative`);
  });
  return out;
}

/** k6's per-executor validation (runner.md §4.1–4.7); returns the problems of one scenario. */
function scenarioProblems(name: string, sc: ScenarioInput): string[] {
  const p: string[] = [];
  if (name === "") p.push("scenario name can't be empty");
  if (!scenarioName.test(name)) {
    p.push("the scenario name should contain only numbers, latin letters, underscores, and dashes");
  }
  if (sc.exec === "") p.push("exec value cannot be empty");
  if ((sc.startTime ?? 0) < 0) p.push("the startTime can't be negative");
  if ((sc.gracefulStop ?? 0) < 0) p.push("the gracefulStop timeout can't be negative");
  const vus = sc.vus ?? 1;
  switch (sc.executor) {
    case "shared-iterations":
    case "per-vu-iterations": {
      const iterations = sc.iterations ?? 1;
      const maxDuration = sc.maxDuration ?? 600_000;
      if (vus <= 0) p.push("the number of VUs must be more than 0");
      if (sc.executor === "shared-iterations") {
        if (iterations < vus) {
          p.push(
            `the number of iterations (${iterations}) can't be less than the number of VUs (${vus})`,
          );
        }
      } else if (iterations <= 0) {
        p.push("the number of iterations must be more than 0");
      }
      if (maxDuration < minDuration) {
        p.push(`the maxDuration must be at least 1s, but is ${formatDuration(maxDuration)}`);
      }
      break;
    }
    case "constant-vus":
      if (vus <= 0) p.push("the number of VUs must be more than 0");
      if (sc.duration === undefined) p.push("the duration is unspecified");
      else if (sc.duration < minDuration) {
        p.push(`the duration must be at least 1s, but is ${formatDuration(sc.duration)}`);
      }
      break;
    case "ramping-vus": {
      const start = sc.startVUs ?? 1;
      if (start < 0) p.push("the number of start VUs can't be negative");
      const max = Math.max(start, ...(sc.stages ?? []).map((s) => s.target ?? 0));
      if (max <= 0) {
        p.push("either startVUs or one of the stages' target values must be greater than 0");
      }
      p.push(...validateStages(sc.stages));
      if (start > maxConcurrentVUs) {
        p.push(`the startVUs exceed max limit of ${maxConcurrentVUs}`);
      }
      (sc.stages ?? []).forEach((s, i) => {
        if ((s.target ?? 0) > maxConcurrentVUs) {
          p.push(`target for stage ${i + 1} exceeds max limit of ${maxConcurrentVUs}`);
        }
      });
      break;
    }
    case "constant-arrival-rate":
    case "ramping-arrival-rate": {
      if (sc.executor === "constant-arrival-rate") {
        if (sc.rate === undefined) p.push("the iteration rate isn't specified");
        else if (sc.rate <= 0) p.push("the iteration rate must be more than 0");
      } else if ((sc.startRate ?? 0) < 0) {
        p.push("the startRate value can't be negative");
      }
      if ((sc.timeUnit ?? 1000) <= 0) p.push("the timeUnit must be more than 0");
      if (sc.executor === "constant-arrival-rate") {
        if (sc.duration === undefined) p.push("the duration is unspecified");
        else if (sc.duration < minDuration) {
          p.push(`the duration must be at least 1s, but is ${formatDuration(sc.duration)}`);
        }
      } else {
        p.push(...validateStages(sc.stages));
      }
      if (sc.preAllocatedVUs === undefined) {
        p.push("the number of preAllocatedVUs isn't specified");
      } else if (sc.preAllocatedVUs < 0) {
        p.push("the number of preAllocatedVUs can't be negative");
      }
      if (sc.maxVUs !== undefined && sc.maxVUs < (sc.preAllocatedVUs ?? 0)) {
        p.push("maxVUs can't be less than preAllocatedVUs");
      }
      break;
    }
  }
  return p;
}

function stagesOf(stages: readonly StageInput[] | undefined): Stage[] {
  return (stages ?? []).map((s) => ({ duration: s.duration ?? 0, target: s.target ?? 0 }));
}

/** Applies scenario defaults (runner.md §2.3, §4). Call only on validated input. */
function toScenarioConfig(name: string, sc: ScenarioInput): ScenarioConfig {
  const base = {
    name,
    startTime: sc.startTime ?? 0,
    gracefulStop: sc.gracefulStop ?? 30_000,
    exec: sc.exec || "default", // k6 runs "default" for an empty exec (and reports it)
    env: sc.env ?? {},
    tags: sc.tags ?? {},
  };
  switch (sc.executor) {
    case "shared-iterations":
    case "per-vu-iterations":
      return {
        ...base,
        executor: sc.executor,
        vus: sc.vus ?? 1,
        iterations: sc.iterations ?? 1,
        maxDuration: sc.maxDuration ?? 600_000,
      };
    case "constant-vus":
      return { ...base, executor: sc.executor, vus: sc.vus ?? 1, duration: sc.duration ?? 0 };
    case "ramping-vus":
      return {
        ...base,
        executor: sc.executor,
        startVUs: sc.startVUs ?? 1,
        stages: stagesOf(sc.stages),
        gracefulRampDown: sc.gracefulRampDown ?? 30_000,
      };
    case "constant-arrival-rate":
      return {
        ...base,
        executor: sc.executor,
        rate: sc.rate ?? 0,
        timeUnit: sc.timeUnit ?? 1000,
        duration: sc.duration ?? 0,
        preAllocatedVUs: sc.preAllocatedVUs ?? 0,
        maxVUs: sc.maxVUs ?? sc.preAllocatedVUs ?? 0,
      };
    case "ramping-arrival-rate":
      return {
        ...base,
        executor: sc.executor,
        startRate: sc.startRate ?? 0,
        timeUnit: sc.timeUnit ?? 1000,
        stages: stagesOf(sc.stages),
        preAllocatedVUs: sc.preAllocatedVUs ?? 0,
        maxVUs: sc.maxVUs ?? sc.preAllocatedVUs ?? 0,
      };
  }
}

/** Scenario names in planning order: (startTime, name), names compared bytewise as Go does. */
function orderedNames(scenarios: Record<string, ScenarioInput>): string[] {
  return Object.keys(scenarios).sort((a, b) => {
    const ta = scenarios[a].startTime ?? 0;
    const tb = scenarios[b].startTime ?? 0;
    if (ta !== tb) return ta - tb;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

/**
 * Checks that every scenario's `exec` names an exported function. Returns k6's problem lines
 * ("executor X: function 'Y' not found in exports"), empty when all are fine.
 *
 * @example
 * ```ts
 * const problems = validateExecFunctions(config, ["default", "api"]);
 * ```
 */
export function validateExecFunctions(
  config: Pick<RunConfig, "scenarios">,
  exportedNames: readonly string[],
): string[] {
  const names = new Set(exportedNames);
  return config.scenarios
    .filter((sc) => !names.has(sc.exec))
    .map((sc) => `executor ${sc.name}: function '${sc.exec}' not found in exports`);
}

/**
 * Parses one `--out` entry: name up to the first "=", the rest verbatim (outputs-files.md §1.1).
 *
 * @example
 * ```ts
 * parseOutputSpec("csv=fileName=a.csv,saveInterval=2s"); // {name: "csv", arg: "fileName=a.csv,saveInterval=2s"}
 * ```
 */
export function parseOutputSpec(text: string): OutputSpec {
  const eq = text.indexOf("=");
  return eq < 0 ? { name: text, arg: "" } : { name: text.slice(0, eq), arg: text.slice(eq + 1) };
}

function normaliseHttpDebug(v: string | undefined): HttpConfig["httpDebug"] {
  if (v === undefined || v === "") return "";
  return v === "full" ? "full" : "headers";
}

const durationOrNull = (ms: number | undefined) => ms === undefined ? null : formatDuration(ms);

function stageJSON(s: StageInput) {
  return { duration: durationOrNull(s.duration), target: s.target ?? null };
}

/** One scenario in k6's JSON shape: set fields as given, unset ones null. */
function scenarioJSON(sc: ScenarioInput): Record<string, unknown> {
  const out: Record<string, unknown> = {
    executor: sc.executor,
    startTime: durationOrNull(sc.startTime),
    gracefulStop: durationOrNull(sc.gracefulStop),
    env: sc.env ?? null,
    exec: sc.exec ?? null,
    tags: sc.tags ?? null,
  };
  if (sc.options !== undefined) out.options = sc.options;
  switch (sc.executor) {
    case "shared-iterations":
    case "per-vu-iterations":
      out.vus = sc.vus ?? null;
      out.iterations = sc.iterations ?? null;
      out.maxDuration = durationOrNull(sc.maxDuration);
      break;
    case "constant-vus":
      out.vus = sc.vus ?? null;
      out.duration = durationOrNull(sc.duration);
      break;
    case "ramping-vus":
      out.startVUs = sc.startVUs ?? null;
      out.stages = sc.stages ? sc.stages.map(stageJSON) : null;
      out.gracefulRampDown = durationOrNull(sc.gracefulRampDown);
      break;
    case "constant-arrival-rate":
      out.rate = sc.rate ?? null;
      out.timeUnit = durationOrNull(sc.timeUnit);
      out.duration = durationOrNull(sc.duration);
      out.preAllocatedVUs = sc.preAllocatedVUs ?? null;
      out.maxVUs = sc.maxVUs ?? null;
      break;
    case "ramping-arrival-rate":
      out.startRate = sc.startRate ?? null;
      out.timeUnit = durationOrNull(sc.timeUnit);
      out.stages = sc.stages ? sc.stages.map(stageJSON) : null;
      out.preAllocatedVUs = sc.preAllocatedVUs ?? null;
      out.maxVUs = sc.maxVUs ?? null;
      break;
  }
  return out;
}

function thresholdsJSON(t: Record<string, ThresholdConfig[]> | undefined) {
  if (!t) return null;
  const out: Record<string, unknown[]> = {};
  for (const [metric, list] of Object.entries(t)) {
    out[metric] = list.map((c) =>
      c.abortOnFail
        ? {
          threshold: c.source,
          abortOnFail: true,
          delayAbortEval: durationOrNull(c.delayAbortEval),
        }
        : c.source
    );
  }
  return out;
}

/** What {@link optionsJSON} fills in beyond the layer itself; null where k6 would print null. */
interface OptionsJSONExtras {
  scenarios: Record<string, unknown> | null;
  systemTags: readonly string[] | null;
  trendStats: readonly string[] | null;
  dns: { ttl: string | null; select: string | null; policy: string | null };
  /** Timeout defaults (consolidated config) or none (raw script options). */
  timeoutDefaults: boolean;
}

/**
 * Options as k6 serialises its lib.Options to JSON: every key, `null` when not set, durations
 * as Go duration strings, in k6's key order. For a run, the consolidated layer with the derived
 * `scenarios` and the defaults k6 applies after merging (systemTags, summaryTrendStats, dns,
 * setup/teardown/handleSummary timeouts); for `inspect`, a script's options as written.
 */
function optionsJSON(o: ConfigLayer, x: OptionsJSONExtras): Record<string, unknown> {
  const nul = <T>(v: T | undefined) => v === undefined ? null : v;
  const timeout = (v: number | undefined, def: number) =>
    x.timeoutDefaults ? formatDuration(v ?? def) : durationOrNull(v);
  const out: Record<string, unknown> = {
    paused: nul(o.paused),
    vus: nul(o.vus),
    duration: durationOrNull(o.duration),
    iterations: nul(o.iterations),
    stages: o.stages ? o.stages.map(stageJSON) : null,
    scenarios: x.scenarios,
    executionSegment: nul(o.executionSegment),
    executionSegmentSequence: nul(o.executionSegmentSequence),
    noSetup: nul(o.noSetup),
    setupTimeout: timeout(o.setupTimeout, 60_000),
    noTeardown: nul(o.noTeardown),
    teardownTimeout: timeout(o.teardownTimeout, 60_000),
    handleSummaryTimeout: timeout(o.handleSummaryTimeout, 120_000),
    rps: nul(o.rps),
    dns: x.dns,
    maxRedirects: nul(o.maxRedirects),
    userAgent: nul(o.userAgent),
    batch: nul(o.batch),
    batchPerHost: nul(o.batchPerHost),
    httpDebug: nul(o.httpDebug),
    insecureSkipTLSVerify: nul(o.insecureSkipTLSVerify),
    tlsCipherSuites: nul(o.tlsCipherSuites),
    tlsVersion: nul(o.tlsVersion),
    tlsAuth: nul(o.tlsAuth),
    throw: nul(o.throw),
    thresholds: thresholdsJSON(o.thresholds),
    blacklistIPs: nul(o.blacklistIPs),
    blockHostnames: nul(o.blockHostnames),
    hosts: nul(o.hosts),
    noConnectionReuse: nul(o.noConnectionReuse),
    noVUConnectionReuse: nul(o.noVUConnectionReuse),
    minIterationDuration: durationOrNull(o.minIterationDuration),
  };
  if (o.cloud !== undefined) out.cloud = o.cloud;
  Object.assign(out, {
    ext: nul(o.ext),
    summaryTrendStats: x.trendStats ? [...x.trendStats] : null,
    summaryTimeUnit: nul(o.summaryTimeUnit),
    systemTags: x.systemTags ? [...x.systemTags].sort() : null,
    tags: o.tags && Object.keys(o.tags).length > 0 ? o.tags : null,
    metricSamplesBufferSize: nul(o.metricSamplesBufferSize),
    noCookiesReset: nul(o.noCookiesReset),
    discardResponseBodies: nul(o.discardResponseBodies),
    features: null, // k6 never carries script/file features into the consolidated options
  });
  return out;
}

/**
 * What `spate inspect` prints (k6 prints the script's own options, not the consolidated ones):
 * the script's exported options in k6's JSON shape. Also returns the decoding warnings.
 *
 * @example
 * ```ts
 * const { options } = inspectScriptOptions({ vus: 2 });
 * console.log(JSON.stringify(options, null, 2));
 * ```
 */
export function inspectScriptOptions(
  raw: unknown,
): { options: Record<string, unknown>; warnings: string[] } {
  const { options: o, warnings } = parseScriptOptions(raw);
  let scenarios: Record<string, unknown> | null = null;
  if (o.scenarios) {
    scenarios = {};
    for (const name of orderedNames(o.scenarios)) scenarios[name] = scenarioJSON(o.scenarios[name]);
  }
  return {
    options: optionsJSON(o, {
      scenarios,
      systemTags: o.systemTags ? knownSystemTags(o.systemTags) : null,
      trendStats: o.summaryTrendStats ?? null,
      dns: {
        ttl: o.dns?.ttl ?? null,
        select: o.dns?.select ?? null,
        policy: o.dns?.policy ?? null,
      },
      timeoutDefaults: false,
    }),
    warnings,
  };
}

/**
 * The consolidated options without the execution shortcuts (`vus`, `duration`, `iterations`,
 * `stages`), which the derived scenarios already carry: what an archive stores.
 *
 * @example
 * ```ts
 * withoutShortcuts({ vus: 2, scenarios: {} }); // { scenarios: {} }
 * ```
 */
export function withoutShortcuts(
  options: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const { vus: _v, duration: _d, iterations: _i, stages: _s, ...rest } = options;
  return rest;
}

/**
 * What `exec.test.options` shows a script (js-api.md §5): the consolidated options without
 * `vus`/`iterations`/`duration`/`stages`, plus `consoleOutput` and `localIPs` (null when unset).
 *
 * @example
 * ```ts
 * const view = Object.freeze(execTestOptions(config, extras.localIPs));
 * ```
 */
export function execTestOptions(
  config: Pick<RunConfig, "options" | "consoleOutput">,
  localIPs?: string,
): Record<string, unknown> {
  const out = withoutShortcuts(config.options);
  out.consoleOutput = config.consoleOutput ?? null;
  out.localIPs = localIPs ?? null;
  return out;
}

/**
 * Builds the final {@link RunConfig}. Throws SpateError: "invalid-config" (104) for option type
 * errors, shortcut conflicts and the combined validation error
 * (`There were problems with the specified script configuration:\n\t- ...`); "usage" (255) for an
 * invalid summaryTrendStats entry and bad runtime env values, as k6 does.
 *
 * @example
 * ```ts
 * const { config, warnings, extras } = consolidate({ env, cli: cmd.flags, script: options });
 * ```
 */
export function consolidate(input: ConsolidateInput): ConsolidateResult {
  const warnings: string[] = [];
  const fileLayer: ConfigLayer = input.fileConfig ??
    (input.file === undefined || input.file === null
      ? {}
      : parseConfigObject(input.file, input.filePath ?? "config.json"));
  const script = parseScriptOptions(input.script);
  warnings.push(...script.warnings);
  const scriptLayer = script.options;
  if (scriptLayer.features !== undefined) {
    if (scriptLayer.features.length > 0) {
      warnings.push(
        "Feature flags in script options are not supported; use --features, K6_FEATURES, or the JSON config",
      );
    }
    delete scriptLayer.features;
  }
  const envConfig = readEnvConfig(input.env);
  const cli = input.cli;

  const m: Merged = { layer: {} };
  applyLayer(m, fileLayer, "file", warnings);
  applyLayer(m, scriptLayer, "script", warnings);
  applyLayer(m, envConfig.options, "env", warnings);
  applyLayer(m, cliLayer(cli), "cli", warnings);
  const o = m.layer;
  const features = resolveFeatures(cli, envConfig.runtime, fileLayer, warnings);
  if (features.includes("merge-run-tags")) {
    // Experimental k6 feature: run tags merge per key instead of replacing (runner.md §2.2).
    const tags = {
      ...fileLayer.tags,
      ...scriptLayer.tags,
      ...envConfig.options.tags,
      ...cli.tags,
    };
    if (Object.keys(tags).length > 0) o.tags = tags;
  }

  // Defaults that are applied after merging (k6's applyDefault).
  const trendStats = o.summaryTrendStats ?? defaultSummaryTrendStats;
  const trendProblem = trendStatsProblem(trendStats);
  if (trendProblem) throw new SpateError("usage", trendProblem);
  const systemTags = o.systemTags === undefined ? defaultSystemTags : knownSystemTags(o.systemTags);
  const dns: Required<DNSSettings> = {
    ttl: o.dns?.ttl ?? "5m",
    select: o.dns?.select ?? "random",
    policy: o.dns?.policy ?? "preferIPv4",
  };

  const scenarios = deriveScenarios(m, warnings);
  const order = orderedNames(scenarios);

  const problems: string[] = [];
  for (const name of order) {
    const p = scenarioProblems(name, scenarios[name]);
    if (p.length > 0) problems.push(`scenario ${name} has configuration errors: ${p.join(", ")}`);
  }
  if (o.setupTimeout !== undefined && o.setupTimeout <= 0) {
    problems.push("setupTimeout must be positive");
  }
  const scenarioConfigs = order.map((name) => toScenarioConfig(name, scenarios[name]));
  if (input.exportedFunctions) {
    problems.push(
      ...validateExecFunctions({ scenarios: scenarioConfigs }, input.exportedFunctions),
    );
  }
  if (problems.length > 0) {
    throw new SpateError(
      "invalid-config",
      ["There were problems with the specified script configuration:", ...problems]
        .join("\n\t- "),
    );
  }

  // __ENV (runner.md §2.8).
  const rt = envConfig.runtime;
  const includeSystemEnvVars = cli.includeSystemEnvVars ?? rt.includeSystemEnvVars ??
    input.includeSystemEnvVarsDefault ?? true;
  const cliEnv = { ...(cli.env ?? {}) };
  const scriptEnv = {
    ...(includeSystemEnvVars ? (input.processEnv ?? input.env) : {}),
    ...cliEnv,
  };

  const out: OutputSpec[] = (o.out ?? []).map(parseOutputSpec);
  if (o.webDashboard) out.push({ name: "web-dashboard", arg: "" });

  let cloud = o.cloud;
  const legacy = o.ext?.loadimpact;
  if (
    cloud === undefined && typeof legacy === "object" && legacy !== null && !Array.isArray(legacy)
  ) {
    cloud = legacy as Record<string, unknown>; // DECISIONS.md #1: ext.loadimpact = options.cloud
  }

  const hosts: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.hosts ?? {})) hosts[k.toLowerCase()] = v;

  const d = defaultHttpConfig;
  const http: HttpConfig = {
    userAgent: o.userAgent ?? d.userAgent,
    maxRedirects: o.maxRedirects ?? d.maxRedirects,
    batch: o.batch ?? d.batch,
    batchPerHost: o.batchPerHost ?? d.batchPerHost,
    insecureSkipTLSVerify: o.insecureSkipTLSVerify ?? d.insecureSkipTLSVerify,
    discardResponseBodies: o.discardResponseBodies ?? d.discardResponseBodies,
    noConnectionReuse: o.noConnectionReuse ?? d.noConnectionReuse,
    noVUConnectionReuse: o.noVUConnectionReuse ?? d.noVUConnectionReuse,
    noCookiesReset: o.noCookiesReset ?? d.noCookiesReset,
    hosts,
    blockHostnames: o.blockHostnames ?? [],
    blacklistIPs: o.blacklistIPs ?? [],
    httpDebug: normaliseHttpDebug(o.httpDebug),
    rps: o.rps ?? d.rps,
    timeout: d.timeout,
    // k6 reads Go's switch for HTTP/2 itself: any GODEBUG entry `http2client=0`.
    http1Only: (input.env.GODEBUG ?? "").split(",").some((v) => v.trim() === "http2client=0"),
  };

  const logFormat = cli.logFormat ?? rt.logFormat;
  const summaryMode: SummaryMode = cli.summaryMode ?? rt.summaryMode ?? "compact";
  const summaryExport = cli.summaryExport ?? rt.summaryExport;

  const config: RunConfig = {
    scenarios: scenarioConfigs,
    thresholds: o.thresholds ?? {},
    tags: o.tags ?? {},
    systemTags: new Set(systemTags),
    summaryTrendStats: [...trendStats],
    ...(o.summaryTimeUnit !== undefined ? { summaryTimeUnit: o.summaryTimeUnit } : {}),
    setupTimeout: o.setupTimeout ?? 60_000,
    teardownTimeout: o.teardownTimeout ?? 60_000,
    handleSummaryTimeout: o.handleSummaryTimeout ?? 120_000,
    noSetup: o.noSetup ?? false,
    noTeardown: o.noTeardown ?? false,
    minIterationDuration: o.minIterationDuration ?? 0,
    throw: o.throw ?? false,
    http,
    out,
    collectors: o.collectors ?? {},
    ...(cloud !== undefined ? { cloud } : {}),
    scriptEnv,
    cliEnv,
    summaryMode,
    ...(summaryExport ? { summaryExport } : {}),
    noThresholds: cli.noThresholds ?? rt.noThresholds ?? false,
    quiet: cli.quiet ?? false,
    verbose: cli.verbose ?? false,
    noColor: cli.noColor ?? rt.noColor,
    linger: o.linger ?? false,
    ...(o.consoleOutput ? { consoleOutput: o.consoleOutput } : {}),
    logFormat: logFormat === "json" || logFormat === "raw" ? logFormat : "text",
    logOutput: cli.logOutput ?? rt.logOutput ?? "stderr",
    metricSamplesBufferSize: o.metricSamplesBufferSize ?? 1000,
    options: optionsJSON(o, {
      scenarios: Object.fromEntries(order.map((n) => [n, scenarioJSON(scenarios[n])])),
      systemTags,
      trendStats,
      dns,
      timeoutDefaults: true,
    }),
  };

  const extras: ConsolidateExtras = {
    includeSystemEnvVars,
    compatibilityMode: cli.compatibilityMode ?? rt.compatibilityMode ?? "extended",
    ...(cli.type ?? rt.type ? { testType: cli.type ?? rt.type } : {}),
    features,
    noUsageReport: o.noUsageReport ?? false,
    ...(o.localIPs ? { localIPs: o.localIPs } : {}),
    dns,
    ...(o.executionSegment ? { executionSegment: o.executionSegment } : {}),
    ...(o.executionSegmentSequence ? { executionSegmentSequence: o.executionSegmentSequence } : {}),
    ...(cli.tracesOutput ?? rt.tracesOutput
      ? { tracesOutput: cli.tracesOutput ?? rt.tracesOutput }
      : {}),
    newMachineReadableSummary: cli.newMachineReadableSummary ?? rt.newMachineReadableSummary ??
      false,
  };
  return { config, warnings, extras };
}
