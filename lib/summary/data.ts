/**
 * The end-of-test summary data (runner.md §8.4): the object `handleSummary(data)` receives and
 * the source of the text summary (§8.3) and of `--summary-export` (§8.5).
 *
 * The engine attaches a {@link SummaryReport} under the {@link summaryReport} symbol: details the
 * §8.4 object cannot carry (checks merged by name in first-seen order, per-group and
 * per-scenario aggregates for `--summary-mode=full`). Symbol keys are skipped by JSON and by
 * structured cloning, so the user's `handleSummary` never sees it.
 *
 * @example
 * ```ts
 * const data: SummaryData = engine.summaryData({ testRunDurationMs: 1000, ... });
 * data.metrics.http_reqs.values.count;
 * ```
 * @module
 */
import type { MetricType, ValueType } from "../metrics/metric.ts";

/** A check in the group tree. */
export interface SummaryCheck {
  name: string;
  path: string;
  id: string;
  passes: number;
  fails: number;
}

/** A group in the group tree; `groups` and `checks` in first-seen order. */
export interface SummaryGroup {
  name: string;
  path: string;
  id: string;
  groups: SummaryGroup[];
  checks: SummaryCheck[];
}

/** One metric or submetric of `data.metrics`. */
export interface SummaryMetric {
  type: MetricType;
  contains: ValueType;
  values: Record<string, number>;
  /** Threshold source → final result; only when the metric has thresholds. */
  thresholds?: Record<string, { ok: boolean }>;
}

/** The `handleSummary` argument (§8.4). */
export interface SummaryData {
  root_group: SummaryGroup;
  options: {
    summaryTrendStats: string[];
    /** "" when unset. */
    summaryTimeUnit: string;
    noColor: boolean;
  };
  state: {
    isStdOutTTY: boolean;
    isStdErrTTY: boolean;
    testRunDurationMs: number;
  };
  metrics: Record<string, SummaryMetric>;
  setup_data?: unknown;
  [summaryReport]?: SummaryReport;
}

/** Key of the engine's extra report on a {@link SummaryData}. */
export const summaryReport: unique symbol = Symbol("spate.summaryReport");

/** A check merged by name (the text summary's check list). */
export interface ReportCheck {
  name: string;
  passes: number;
  fails: number;
}

/** Aggregates of one group or scenario for `--summary-mode=full`. */
export interface ReportGroup {
  /** Metrics (parents only) aggregated from samples carrying this group/scenario. */
  metrics: Record<string, SummaryMetric>;
  /** Checks by name in first-seen order; undefined when no `checks` sample was seen. */
  checks?: ReportCheck[];
  /** Nested groups by name, in first-seen order. */
  groups: Array<[string, ReportGroup]>;
}

/** Extra data for the text summary. */
export interface SummaryReport {
  /** All checks merged by name, first-seen order; undefined when no check ran. */
  checks?: ReportCheck[];
  /** Top-level groups (default scenario), when per-group aggregation was on. */
  groups?: Array<[string, ReportGroup]>;
  /** Non-default scenarios, when per-group aggregation was on. */
  scenarios?: Array<[string, ReportGroup]>;
}
