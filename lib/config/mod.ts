/**
 * Configuration: the command line, the config file, K6_* variables, script options, and the
 * consolidation of all of them into one {@link RunConfig} (runner.md §1, §2, §4).
 *
 * @example
 * ```ts
 * import { consolidate, loadConfigFile, parseCommandLine } from "./lib/config/mod.ts";
 * const cmd = parseCommandLine(Deno.args);
 * if (cmd.command === "run") {
 *   const env = Deno.env.toObject();
 *   const file = loadConfigFile({ flagPath: cmd.flags.config, env });
 *   const { config, warnings } = consolidate({
 *     fileConfig: file.config,
 *     script: scriptOptions,
 *     env,
 *     cli: cmd.flags,
 *   });
 * }
 * ```
 * @module
 */
export * from "./types.ts";
export * from "./duration.ts";
export { type CliFlags, type Command, parseCommandLine } from "./cli.ts";
export { flagUsages, helpText, type HelpTopic } from "./help.ts";
export {
  configFileSchema,
  type ConfigLayer,
  type DNSSettings,
  executorTypes,
  type OptionsLayer,
  optionsSchema,
  parseConfigObject,
  parseScriptOptions,
  type ScenarioInput,
  scenarioSchemas,
  type StageInput,
} from "./schema.ts";
export { type EnvConfig, type EnvRuntime, optionEnvVars, readEnvConfig } from "./env.ts";
export {
  defaultConfigPath,
  k6ConfigPath,
  loadConfigFile,
  type LoadedConfigFile,
  parseConfigJSON,
  writeConfigFile,
} from "./file.ts";
export {
  consolidate,
  type ConsolidateExtras,
  type ConsolidateInput,
  type ConsolidateResult,
  defaultUserAgent,
  execTestOptions,
  inspectScriptOptions,
  parseOutputSpec,
  validateExecFunctions,
  withoutShortcuts,
} from "./consolidate.ts";
