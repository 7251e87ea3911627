/**
 * The typed, consolidated configuration every box receives (runner.md §2). One module,
 * lib/config/consolidate.ts, builds it from defaults < config file < script options <
 * environment < CLI flags; nothing else merges configuration.
 *
 * All durations are milliseconds (numbers) once consolidated.
 * @module
 */

/** One `{duration, target}` stage; duration in ms. */
export interface Stage {
  readonly duration: number;
  readonly target: number;
}

/** Fields every scenario has (runner.md §4.1), with defaults applied. */
export interface ScenarioBase {
  /** The scenario's name (the key in `options.scenarios`). */
  readonly name: string;
  readonly startTime: number;
  readonly gracefulStop: number;
  /** Exported function to run; "default" unless set. */
  readonly exec: string;
  readonly env: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
}

export interface SharedIterationsScenario extends ScenarioBase {
  readonly executor: "shared-iterations";
  readonly vus: number;
  readonly iterations: number;
  readonly maxDuration: number;
}
export interface PerVUIterationsScenario extends ScenarioBase {
  readonly executor: "per-vu-iterations";
  readonly vus: number;
  readonly iterations: number;
  readonly maxDuration: number;
}
export interface ConstantVUsScenario extends ScenarioBase {
  readonly executor: "constant-vus";
  readonly vus: number;
  readonly duration: number;
}
export interface RampingVUsScenario extends ScenarioBase {
  readonly executor: "ramping-vus";
  readonly startVUs: number;
  readonly stages: readonly Stage[];
  readonly gracefulRampDown: number;
}
export interface ConstantArrivalRateScenario extends ScenarioBase {
  readonly executor: "constant-arrival-rate";
  readonly rate: number;
  readonly timeUnit: number;
  readonly duration: number;
  readonly preAllocatedVUs: number;
  readonly maxVUs: number;
}
export interface RampingArrivalRateScenario extends ScenarioBase {
  readonly executor: "ramping-arrival-rate";
  readonly startRate: number;
  readonly timeUnit: number;
  readonly stages: readonly Stage[];
  readonly preAllocatedVUs: number;
  readonly maxVUs: number;
}

export type ScenarioConfig =
  | SharedIterationsScenario
  | PerVUIterationsScenario
  | ConstantVUsScenario
  | RampingVUsScenario
  | ConstantArrivalRateScenario
  | RampingArrivalRateScenario;

export type ExecutorType = ScenarioConfig["executor"];

/** One threshold as declared (runner.md §6.1). */
export interface ThresholdConfig {
  readonly source: string;
  readonly abortOnFail: boolean;
  /** ms; undefined when not set. */
  readonly delayAbortEval?: number;
  /** `delayAbortEval` as written, for outputs. */
  readonly delayAbortEvalText?: string;
}

/** One `--out name=arg` entry. */
export interface OutputSpec {
  readonly name: string;
  readonly arg: string;
}

export type SummaryMode = "compact" | "full" | "disabled";

/** The final configuration of a run. */
export interface RunConfig {
  /** Scenarios ordered by (startTime, name). Always at least one. */
  readonly scenarios: readonly ScenarioConfig[];
  /** Metric expression (as written, may include `{...}`) → its thresholds. */
  readonly thresholds: Readonly<Record<string, readonly ThresholdConfig[]>>;
  /** Run tags (options.tags / --tag / K6_TAGS). */
  readonly tags: Readonly<Record<string, string>>;
  /** Enabled system tags (runner.md §5.3). */
  readonly systemTags: ReadonlySet<string>;
  readonly summaryTrendStats: readonly string[];
  readonly summaryTimeUnit?: "s" | "ms" | "us";
  readonly setupTimeout: number;
  readonly teardownTimeout: number;
  readonly handleSummaryTimeout: number;
  readonly noSetup: boolean;
  readonly noTeardown: boolean;
  readonly minIterationDuration: number;
  readonly throw: boolean;

  /** Everything the HTTP client needs. */
  readonly http: HttpConfig;

  /** `--out` specs in order (CLI > env K6_OUT > config file `out`). */
  readonly out: readonly OutputSpec[];
  /** Config file `collectors` block (per-output JSON config). */
  readonly collectors: Readonly<Record<string, unknown>>;
  /** The cloud block: options.cloud (or legacy ext.loadimpact), merged as the spec says. */
  readonly cloud?: Readonly<Record<string, unknown>>;

  /** Base `__ENV`: process env (unless --include-system-env-vars=false) + `-e` values. */
  readonly scriptEnv: Readonly<Record<string, string>>;
  /** `-e` values alone. */
  readonly cliEnv: Readonly<Record<string, string>>;

  readonly summaryMode: SummaryMode;
  readonly summaryExport?: string;
  readonly noThresholds: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly noColor: boolean;
  readonly linger: boolean;
  readonly consoleOutput?: string;
  readonly logFormat: "text" | "json" | "raw";
  readonly logOutput: string;
  readonly metricSamplesBufferSize: number;

  /**
   * The consolidated options as a plain JSON object in k6's shape (durations as strings as
   * given), for `exec.test.options`, for outputs and for the summary.
   */
  readonly options: Readonly<Record<string, unknown>>;
}

/** HTTP client settings (runner.md §2.5). */
export interface HttpConfig {
  readonly userAgent: string;
  readonly maxRedirects: number;
  readonly batch: number;
  readonly batchPerHost: number;
  readonly insecureSkipTLSVerify: boolean;
  readonly discardResponseBodies: boolean;
  readonly noConnectionReuse: boolean;
  readonly noVUConnectionReuse: boolean;
  readonly noCookiesReset: boolean;
  /** host[:port] (lower-case; may start with `*`) → ip[:port]. */
  readonly hosts: Readonly<Record<string, string>>;
  readonly blockHostnames: readonly string[];
  readonly blacklistIPs: readonly string[];
  readonly httpDebug: "" | "headers" | "full";
  /** Global requests/s cap; 0 = unlimited. */
  readonly rps: number;
  /** Per-request timeout default, ms. */
  readonly timeout: number;
  /** HTTPS offers only HTTP/1.1 (`GODEBUG=http2client=0`, k6's switch). */
  readonly http1Only: boolean;
}
