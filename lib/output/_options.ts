/**
 * Reads what the file outputs need from the consolidated options object they receive
 * (`OutputParams.options`, k6's JSON shape): the enabled system tags and whether the metrics
 * engine creates sub-metrics at all.
 * @module
 */

/** System tags k6 enables by default (runner.md §5.3, outputs-files.md §2). */
import { defaultSystemTags } from "../config/defaults.ts";

export { defaultSystemTags };

/** Non-indexable system tags: when enabled they travel as sample metadata, never as tags. */
export const metadataSystemTags: ReadonlySet<string> = new Set(["vu", "iter"]);

/**
 * The enabled system tags: `options.systemTags` when it is an array of strings, else k6's
 * default set.
 *
 * @example
 * ```ts
 * enabledSystemTags({ systemTags: ["proto", "status"] }); // ["proto", "status"]
 * ```
 */
export function enabledSystemTags(options: Readonly<Record<string, unknown>>): string[] {
  const value = options.systemTags;
  if (Array.isArray(value) && value.every((t) => typeof t === "string")) return [...value];
  if (value instanceof Set) return [...value].filter((t): t is string => typeof t === "string");
  return [...defaultSystemTags];
}

/**
 * False only when both thresholds and the end-of-test summary are off, the one case where
 * k6's metrics engine creates no sub-metrics. Reads `noThresholds` and `summaryMode` /
 * `noSummary` when the options object carries them.
 */
export function submetricsEnabled(options: Readonly<Record<string, unknown>>): boolean {
  const noThresholds = options.noThresholds === true;
  const noSummary = options.noSummary === true || options.summaryMode === "disabled";
  return !(noThresholds && noSummary);
}
