/**
 * `--summary-export` (runner.md §8.5): the summary data in k6's older flat shape. The integrator
 * writes `JSON.stringify(toSummaryExport(data), null, 4)`.
 *
 * @example
 * ```ts
 * const json = JSON.stringify(toSummaryExport(data), null, 4);
 * // "checks": { "value": 0.98, "passes": 98, "fails": 2 }
 * ```
 * @module
 */
import type { SummaryData, SummaryGroup } from "./data.ts";

/** An exported group: `groups` and `checks` keyed by name. */
export interface ExportGroup {
  name: string;
  path: string;
  id: string;
  groups: Record<string, ExportGroup>;
  checks: Record<string, { name: string; path: string; id: string; passes: number; fails: number }>;
}

/** The export file's object. */
export interface SummaryExport {
  root_group: ExportGroup;
  metrics: Record<string, Record<string, number | Record<string, boolean>>>;
  setup_data?: unknown;
}

function transformGroup(g: SummaryGroup): ExportGroup {
  const groups: ExportGroup["groups"] = {};
  for (const sub of g.groups) groups[sub.name] = transformGroup(sub);
  const checks: ExportGroup["checks"] = {};
  for (const c of g.checks) checks[c.name] = { ...c };
  return { name: g.name, path: g.path, id: g.id, groups, checks };
}

/**
 * Transforms summary data: drops `options`/`state`, flattens each metric to its values, renames
 * a rate's `rate` to `value`, inverts thresholds (`true` = failed), keys groups/checks by name.
 */
export function toSummaryExport(data: SummaryData): SummaryExport {
  // A JSON round trip, as k6 does: it copies and drops what JSON cannot hold.
  const copy = JSON.parse(JSON.stringify(data)) as SummaryData;
  const metrics: SummaryExport["metrics"] = {};
  for (const [name, m] of Object.entries(copy.metrics)) {
    const flat: Record<string, number | Record<string, boolean>> = { ...m.values };
    if (m.thresholds && Object.keys(m.thresholds).length > 0) {
      const th: Record<string, boolean> = {};
      for (const [source, t] of Object.entries(m.thresholds)) th[source] = !t.ok;
      flat.thresholds = th;
    }
    if (m.type === "rate" && Object.hasOwn(flat, "rate")) {
      flat.value = flat.rate;
      delete flat.rate;
    }
    metrics[name] = flat;
  }
  const out: SummaryExport = { root_group: transformGroup(copy.root_group), metrics };
  if (Object.hasOwn(copy, "setup_data")) out.setup_data = copy.setup_data;
  return out;
}
