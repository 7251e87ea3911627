/**
 * The output side of spate: the plugin API every output implements, the helpers outputs are
 * built from, the manager that feeds them and the registry that creates them from `--out`.
 *
 * @example
 * ```ts
 * import { createOutputs, OutputManager } from "./lib/output/mod.ts";
 * const manager = new OutputManager(await createOutputs(config.out, base, config.collectors), {
 *   logger,
 * });
 * ```
 * @module
 */
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
} from "./types.ts";
export {
  PeriodicFlusher,
  type PeriodicFlusherOptions,
  SampleBuffer,
  type SampleBufferOptions,
} from "./helpers.ts";
export {
  type NamedOutput,
  type OutputDeliveryStats,
  OutputManager,
  type OutputManagerOptions,
} from "./manager.ts";
export {
  availableOutputTypes,
  type BaseOutputParams,
  createOutputs,
  type CreateOutputsExtras,
  isModuleOutput,
  resolveOutputFactory,
} from "./registry.ts";
