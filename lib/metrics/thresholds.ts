/**
 * Thresholds (runner.md §6): the expression parser (§6.2), submetric selectors (§6.3),
 * start-up validation with k6's error texts (§6.4) and evaluation against a sink (§6.5, §6.6).
 *
 * {@link MetricThreshold} objects implement the output API's `Threshold`: the same objects are
 * handed to outputs, so `lastFailed` is live.
 *
 * @example
 * ```ts
 * const expr = parseThresholdExpression("p(95) < 500");
 * // { aggregation: "p", percentile: 95, operator: "<", value: 500, key: "p(95)" }
 * ```
 * @module
 */
import { invalidConfig, SpateError } from "../errors.ts";
import type { ThresholdConfig } from "../config/types.ts";
import type { Threshold } from "../output/types.ts";
import type { MetricRegistry, MetricType } from "./metric.ts";
import type { Sink } from "./sinks.ts";
import { CounterSink, GaugeSink, RateSink, TrendSink } from "./sinks.ts";

/** Comparison operators, in the order the scanner tries them. */
export const thresholdOperators = ["<=", "<", ">=", ">", "===", "==", "!="] as const;
export type ThresholdOperator = typeof thresholdOperators[number];

export type ThresholdAggregation =
  | "value"
  | "count"
  | "rate"
  | "avg"
  | "min"
  | "med"
  | "max"
  | "p";

const aggregations: readonly ThresholdAggregation[] = [
  "value",
  "count",
  "rate",
  "avg",
  "min",
  "med",
  "max",
  "p",
];

/** Aggregations each metric type supports, in k6's listing order. */
export const supportedAggregations: Readonly<Record<MetricType, readonly ThresholdAggregation[]>> =
  {
    counter: ["count", "rate"],
    gauge: ["value"],
    rate: ["rate"],
    trend: ["avg", "min", "max", "med", "p"],
  };

/** A parsed `<aggregation> <operator> <number>` expression. */
export interface ThresholdExpression {
  readonly aggregation: ThresholdAggregation;
  /** For `p(N)`: N (0..100). */
  readonly percentile?: number;
  readonly operator: ThresholdOperator;
  readonly value: number;
  /** The aggregate's key, e.g. `avg` or `p(99.9)` (percentile printed like Go's %g). */
  readonly key: string;
}

/** Go's %q for the strings we quote (JSON escaping is identical for printable text). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

const goFloat = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)$/i;

/** Parses a float the way Go's strconv.ParseFloat does for decimal input; throws its text. */
function parseGoFloat(text: string): number {
  if (!goFloat.test(text)) {
    throw new Error(`strconv.ParseFloat: parsing ${goQuote(text)}: invalid syntax`);
  }
  const lower = text.toLowerCase().replace(/^\+/, "");
  if (lower === "inf" || lower === "infinity") return Infinity;
  if (lower === "-inf" || lower === "-infinity") return -Infinity;
  if (lower === "nan") return NaN;
  const n = Number(text);
  if (!Number.isFinite(n)) {
    throw new Error(`strconv.ParseFloat: parsing ${goQuote(text)}: value out of range`);
  }
  return n;
}

/** Go's %g for a percentile value (shortest representation). */
function formatG(n: number): string {
  return String(n);
}

/** Parses a threshold expression; throws a SpateError (exit 104) with k6's text. */
export function parseThresholdExpression(input: string): ThresholdExpression {
  let left = "";
  let right = "";
  let operator: ThresholdOperator | undefined;
  for (const op of thresholdOperators) {
    const at = input.indexOf(op);
    if (at === -1) continue;
    const rest = input.slice(at + op.length);
    if (rest === "") continue;
    left = input.slice(0, at).trim();
    right = rest.trim();
    operator = op;
    break;
  }
  if (operator === undefined) {
    throw invalidConfig(
      `failed parsing threshold expression ${
        goQuote(input)
      }; reason: malformed threshold expression`,
    );
  }

  let aggregation: ThresholdAggregation | undefined = aggregations.find((a) => a === left);
  let percentile: number | undefined;
  if (aggregation === undefined) {
    const lhsError = (reason: string) =>
      invalidConfig(
        `failed parsing threshold expression's ${goQuote(input)} left hand side; reason: ${reason}`,
      );
    if (left.startsWith("p(") && left.endsWith(")")) {
      let n: number;
      try {
        n = parseGoFloat(left.slice(2, -1));
      } catch (err) {
        throw lhsError(`malformed percentile value; reason: ${(err as Error).message}`);
      }
      if (Number.isNaN(n) || n < 0 || n > 100) {
        throw lhsError("malformed percentile value, provide a number between 0 and 100");
      }
      aggregation = "p";
      percentile = n;
    } else {
      throw lhsError("failed parsing method from expression");
    }
  }

  let value: number;
  try {
    value = parseGoFloat(right);
  } catch (err) {
    // "expresion's" is k6's spelling.
    throw invalidConfig(
      `failed parsing threshold expresion's ${goQuote(input)} right hand side; reason: ${
        (err as Error).message
      }`,
    );
  }
  const key = aggregation === "p" ? `p(${formatG(percentile ?? 0)})` : aggregation;
  return percentile === undefined
    ? { aggregation, operator, value, key }
    : { aggregation, percentile, operator, value, key };
}

/** A submetric selector: the metric name and the tag pairs a sample must carry. */
export interface MetricSelector {
  /** The parent metric's name. */
  readonly metric: string;
  /** The text between the braces, trimmed (k6's submetric "suffix"); undefined for none. */
  readonly selector?: string;
  /** Tag pairs after trimming whitespace and quotes; later duplicates override earlier. */
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * Splits `metric{k:v,...}` into the metric and its tags, validating like k6's
 * ParseMetricName (errors prefixed as Validate does). Throws a SpateError (exit 104).
 */
export function parseMetricSelector(name: string): MetricSelector {
  const open = name.indexOf("{");
  const close = name.lastIndexOf("}");
  const fail = (detail: string) =>
    invalidConfig(
      `unable to validate threshold expressions; reason: parsing metric name failed, ${detail}`,
    );
  if (open === -1 && close === -1) return { metric: name, tags: {} };
  if (open === -1 || close === -1) {
    throw fail(`metric ${goQuote(name)} has unmatched opening/close curly brace`);
  }
  if (close < open) {
    throw fail(`metric ${goQuote(name)} closing curly brace appears before opening one`);
  }
  if (close !== name.length - 1) {
    throw fail(`metric ${goQuote(name)} lacks a closing curly brace in its last position`);
  }
  const inner = name.slice(open + 1, close);
  for (const part of inner.split(",")) {
    const colon = part.indexOf(":");
    if (colon === -1 || colon === part.length - 1) {
      throw fail(`metric ${goQuote(part)} tag expression is malformed`);
    }
  }
  const selector = inner.trim();
  if (selector === "") {
    throw invalidConfig(`submetric criteria for metric '${name.slice(0, open)}' cannot be empty`);
  }
  const tags: Record<string, string> = {};
  for (const pair of selector.split(",")) {
    if (pair === "") continue;
    const colon = pair.indexOf(":");
    const k = colon === -1 ? pair : pair.slice(0, colon);
    const v = colon === -1 ? "" : pair.slice(colon + 1);
    tags[trimQuotes(k.trim())] = v === "" ? "" : trimQuotes(v.trim());
  }
  return { metric: name.slice(0, open), selector, tags };
}

function trimQuotes(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s[a] === '"' || s[a] === "'")) a++;
  while (b > a && (s[b - 1] === '"' || s[b - 1] === "'")) b--;
  return s.slice(a, b);
}

/** One threshold: the parsed expression plus its live status. */
export class MetricThreshold implements Threshold {
  readonly source: string;
  readonly abortOnFail: boolean;
  readonly delayAbortEval?: string;
  /** `delayAbortEval` in ms, when set. */
  readonly delayAbortEvalMs?: number;
  readonly expression: ThresholdExpression;
  lastFailed = false;

  constructor(config: ThresholdConfig, expression: ThresholdExpression) {
    this.source = config.source;
    this.abortOnFail = config.abortOnFail;
    if (config.delayAbortEval !== undefined) {
      this.delayAbortEvalMs = config.delayAbortEval;
      this.delayAbortEval = config.delayAbortEvalText ?? `${config.delayAbortEval}ms`;
    }
    this.expression = expression;
  }

  /** Evaluates against the aggregate value (undefined = no value yet → pass). */
  run(lhs: number | undefined): boolean {
    const passes = lhs === undefined ? true : compare(lhs, this.expression);
    this.lastFailed = !passes;
    return passes;
  }
}

function compare(lhs: number, e: ThresholdExpression): boolean {
  switch (e.operator) {
    case ">":
      return lhs > e.value;
    case ">=":
      return lhs >= e.value;
    case "<=":
      return lhs <= e.value;
    case "<":
      return lhs < e.value;
    case "==":
    case "===":
      return lhs === e.value;
    case "!=":
      return lhs !== e.value;
  }
}

/**
 * The aggregate a threshold reads from a sink, or undefined when there is none (an empty rate
 * metric, a counter `rate` with zero elapsed time), which counts as a pass.
 */
export function thresholdAggregate(
  sink: Sink,
  e: ThresholdExpression,
  elapsedMs: number,
): number | undefined {
  if (sink instanceof CounterSink) {
    if (e.aggregation === "count") return sink.value;
    if (e.aggregation === "rate") {
      return elapsedMs > 0 ? sink.value / (elapsedMs / 1000) : undefined;
    }
    return undefined;
  }
  if (sink instanceof GaugeSink) return e.aggregation === "value" ? sink.value : undefined;
  if (sink instanceof RateSink) {
    return e.aggregation === "rate" && sink.total > 0 ? sink.trues / sink.total : undefined;
  }
  if (sink instanceof TrendSink) {
    switch (e.aggregation) {
      case "min":
        return sink.min;
      case "max":
        return sink.max;
      case "avg":
        return sink.avg();
      case "med":
        return sink.p(0.5);
      case "p":
        return sink.p((e.percentile ?? 0) / 100);
    }
  }
  return undefined;
}

/** The thresholds of one metric or submetric (one key of `options.thresholds`). */
export class MetricThresholds {
  /** The key as written (`http_req_duration{status:200}`). */
  readonly name: string;
  readonly selector: MetricSelector;
  readonly thresholds: readonly MetricThreshold[];
  /** Set once an abortOnFail threshold failed past its delay (k6 keeps it set). */
  abort = false;

  constructor(name: string, selector: MetricSelector, thresholds: readonly MetricThreshold[]) {
    this.name = name;
    this.selector = selector;
    this.thresholds = thresholds;
  }

  /** Runs every threshold; true when all passed. Updates `lastFailed` and `abort`. */
  run(sink: Sink, elapsedMs: number): boolean {
    let ok = true;
    for (const t of this.thresholds) {
      if (t.run(thresholdAggregate(sink, t.expression, elapsedMs))) continue;
      ok = false;
      if (this.abort || !t.abortOnFail) continue;
      this.abort = t.delayAbortEvalMs === undefined || t.delayAbortEvalMs < elapsedMs;
    }
    return ok;
  }
}

/**
 * Parses and validates every threshold (runner.md §6.4), in declaration order. Throws the first
 * error as a SpateError with exit code 104.
 */
export function parseThresholds(
  config: Readonly<Record<string, readonly ThresholdConfig[]>>,
  registry: MetricRegistry,
): MetricThresholds[] {
  const out: MetricThresholds[] = [];
  for (const [name, configs] of Object.entries(config)) {
    const parsed = configs.map((c) => new MetricThreshold(c, parseThresholdExpression(c.source)));
    const selector = parseMetricSelector(name);
    const metric = registry.get(selector.metric);
    if (!metric) {
      throw invalidConfig(
        `invalid threshold defined on ${name}; reason: no metric name ${goQuote(name)} found`,
      );
    }
    for (const t of parsed) {
      if (!supportedAggregations[metric.type].includes(t.expression.aggregation)) {
        throw invalidConfig(
          `invalid threshold ${goQuote(t.source)} applied on metric ${name}; reason: ` +
            `unsupported aggregation method ${t.expression.aggregation} on metric of type ` +
            `${metric.type}. supported aggregation methods for this metric are: ` +
            supportedAggregations[metric.type].join(", "),
        );
      }
    }
    out.push(new MetricThresholds(name, selector, parsed));
  }
  return out;
}

/** The run error for thresholds crossed at the final evaluation (exit 99). */
export function thresholdsCrossedError(failedMetrics: readonly string[]): SpateError {
  return new SpateError(
    "threshold",
    `thresholds on metrics '${failedMetrics.join(", ")}' have been crossed`,
  );
}

/** The message of an abortOnFail abort (runner.md §6.6). */
export function abortOnFailMessage(failedMetrics: readonly string[]): string {
  return `thresholds on metrics '${
    failedMetrics.join(", ")
  }' were crossed; at least one has abortOnFail enabled, stopping test prematurely`;
}
