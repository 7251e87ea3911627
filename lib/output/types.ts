/**
 * The output plugin API (output-extension-api.md §6). Every built-in output implements it and
 * uses nothing else, so a user's own output has exactly the same power.
 *
 * Lifecycle: the factory is called in `--out` order; `setThresholds` and
 * `setTestRunStopCallback` (when implemented) are called before `start()`; `description()`
 * after `start()`; `addMetricSamples` every 50 ms with the same read-only batch for every
 * output (it must only enqueue); `stop(testError)` once, after the final threshold evaluation.
 *
 * @example
 * ```ts
 * const factory: OutputFactory = (params) => ({
 *   description: () => `mine (${params.configArgument})`,
 *   start: async () => {},
 *   addMetricSamples: (samples) => console.log(samples.length),
 *   stop: async () => {},
 * });
 * ```
 * @module
 */
import type { Logger } from "../log.ts";
import type { Metric } from "../metrics/metric.ts";
import type { Sample } from "../metrics/sample.ts";

export type { Metric, MetricType, ValueType } from "../metrics/metric.ts";
export type { Sample } from "../metrics/sample.ts";
export type { TagSet } from "../metrics/tags.ts";

/** One threshold as the outputs see it; `lastFailed` is updated live by the engine. */
export interface Threshold {
  readonly source: string;
  readonly abortOnFail: boolean;
  /** `delayAbortEval` as written, or undefined. */
  readonly delayAbortEval?: string;
  readonly lastFailed: boolean;
}

/** Why a run ended early (the cloud output maps these to run statuses). */
export type AbortReason =
  | "user" // SIGINT/SIGTERM
  | "threshold" // abortOnFail threshold during the run
  | "thresholds-after-end" // thresholds failed at the final evaluation
  | "script-error" // exception in init/setup/teardown
  | "script-abort" // exec.test.abort()
  | "timeout" // setup/teardown timeout
  | "output"; // an output asked to stop the run

/** The final error of a run, handed to `stop()`; null for a clean run. */
export interface TestRunError {
  readonly message: string;
  readonly exitCode: number;
  readonly abortReason?: AbortReason;
}

/** The execution plan as far as outputs need it. */
export interface ExecutionPlanSummary {
  readonly maxVUs: number;
  /** Longest possible run, graceful stops included, in seconds. */
  readonly maxDurationSec: number;
}

/** What an output factory receives. */
export interface OutputParams {
  /** The name used in `--out` (for a module output, its path). */
  readonly outputType: string;
  /** Text after the first `=` in `--out name=arg` ("" when absent). */
  readonly configArgument: string;
  /** `collectors.<name>` from the config file (or the top-level block k6 reads), if any. */
  readonly jsonConfig?: unknown;
  /** The process environment (not `-e` values). */
  readonly env: Readonly<Record<string, string>>;
  /** `-e NAME=value` values. */
  readonly scriptEnv: Readonly<Record<string, string>>;
  /** Absolute path (or URL) of the main script. */
  readonly scriptPath: string;
  /** Fully consolidated options (thresholds, systemTags, scenarios, cloud, tags, ...). */
  readonly options: Readonly<Record<string, unknown>>;
  readonly executionPlan: ExecutionPlanSummary;
  /** Every metric registered after the options pass (built-in and custom). */
  readonly metrics: readonly Metric[];
  /** Unique id of this run (used by outputs that need one). */
  readonly runId: string;
  readonly logger: Logger;
  /** Writes to the process stdout (for outputs such as `json=-`). */
  readonly stdout: (bytes: Uint8Array) => Promise<void>;
}

/** Delivery accounting an output may report; shown in the summary and as a warning. */
export interface OutputStats {
  /** Samples the output accepted but could not deliver (dropped, failed pushes, ...). */
  readonly droppedSamples: number;
  /** Optional human note, e.g. "3 pushes failed: connection refused". */
  readonly note?: string;
}

/** A metrics output. */
export interface Output {
  /** Text for the banner line `output: ...`; called after `start()`. */
  description(): string;
  /** Opens files / creates remote resources; starts background flushing. Rejects to abort. */
  start(): Promise<void>;
  /** Receives the latest batch. Must not block: buffer and return. Treat as read-only. */
  addMetricSamples(samples: readonly Sample[]): void;
  /** Flushes what is left and finalises, knowing how the run ended (null = clean). */
  stop(testError: TestRunError | null): Promise<void>;
  /** Optional: the script's thresholds, keyed as written (may include `{tag:value}`). */
  setThresholds?(thresholds: ReadonlyMap<string, readonly Threshold[]>): void;
  /** Optional: lets the output abort the whole run. */
  setTestRunStopCallback?(stop: (err: TestRunError) => void): void;
  /** Optional: the k6-compatible test archive (tar bytes), when archive upload is on. */
  setArchive?(archive: Uint8Array): void;
  /** Optional: delivery accounting for the summary. */
  stats?(): OutputStats;
}

/** Creates an output. Registered under a name; user modules export one as default. */
export type OutputFactory = (params: OutputParams) => Output | Promise<Output>;
