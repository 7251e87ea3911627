/**
 * spate as a library: run a k6 script from your own code, and write outputs that stream
 * samples wherever you need them (the same interface every built-in output uses).
 *
 * @example Run a test
 * ```ts
 * import { runTest } from "./mod.ts";
 * const exitCode = await runTest({ script: "examples/quickstart.js", flags: { vus: 5 } });
 * ```
 *
 * @example A custom output (load it with `spate run --out ./my_output.ts=arg script.js`)
 * ```ts
 * import type { OutputFactory } from "./mod.ts";
 * const factory: OutputFactory = (params) => {
 *   let n = 0;
 *   return {
 *     description: () => `counter (${params.configArgument})`,
 *     start: async () => {},
 *     addMetricSamples: (samples) => { n += samples.length; },
 *     stop: async () => params.logger.info(`saw ${n} samples`),
 *   };
 * };
 * export default factory;
 * ```
 * @module
 */
export { processEnvironment, type RunEnvironment, runTest } from "./lib/cmd/run.ts";
export type { CliFlags } from "./lib/config/cli.ts";
export type {
  AbortReason,
  ExecutionPlanSummary,
  Metric,
  MetricType,
  Output,
  OutputFactory,
  OutputParams,
  OutputStats,
  Sample,
  TagSet,
  TestRunError,
  Threshold,
  ValueType,
} from "./lib/output/types.ts";
export { sampleTimeParts } from "./lib/metrics/sample.ts";
export { ExitCode, SpateError } from "./lib/errors.ts";
export { Logger } from "./lib/log.ts";
export { version } from "./lib/version.ts";
