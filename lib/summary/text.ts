/**
 * The default end-of-test text summary (runner.md §8.2, §8.3): THRESHOLDS and TOTAL RESULTS
 * sections, plus GROUP/SCENARIO sections in full mode, laid out exactly as k6 prints them.
 *
 * @example
 * ```ts
 * const text = renderTextSummary(engine.summaryData(params), { mode: "compact", color: false });
 * await Deno.stdout.write(new TextEncoder().encode("\n" + text + "\n\n"));
 * ```
 * @module
 */
import {
  type ReportCheck,
  type ReportGroup,
  type SummaryData,
  type SummaryMetric,
  summaryReport,
} from "./data.ts";

/** Options of {@link renderTextSummary}. */
export interface TextSummaryOptions {
  readonly mode: "compact" | "full";
  /** ANSI colours (stdout is a TTY and colour not disabled). */
  readonly color: boolean;
  /** Defaults to `data.options.summaryTrendStats`. */
  readonly trendStats?: readonly string[];
  /** `s`, `ms` or `us`; defaults to `data.options.summaryTimeUnit`. */
  readonly timeUnit?: string;
}

interface ReportMetric {
  name: string;
  type: SummaryMetric["type"];
  contains: SummaryMetric["contains"];
  values: Record<string, number>;
}

type Sections = Array<[string, Record<string, ReportMetric>]>;

// ---- value formatting ----

/** Formats a number with up to `prec` decimals and no trailing zeros. */
function toFixedNoTrailingZeros(val: number, prec: number): string {
  return parseFloat(val.toFixed(prec)).toString();
}

function toFixedNoTrailingZerosTrunc(val: number, prec: number): string {
  const mult = Math.pow(10, prec);
  return toFixedNoTrailingZeros(Math.trunc(mult * val) / mult, prec);
}

/** Bytes with decimal units (`B`, `kB`, `MB`, …). */
export function humanizeBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
  if (bytes < 10) return `${bytes} B`;
  const e = Math.floor(Math.log(bytes) / Math.log(1000));
  const val = Math.floor((bytes / Math.pow(1000, e)) * 10 + 0.5) / 10;
  return `${val.toFixed(val < 10 ? 1 : 0)} ${units[e | 0]}`;
}

const timeUnits: Record<string, { unit: string; coef: number }> = {
  s: { unit: "s", coef: 0.001 },
  ms: { unit: "ms", coef: 1 },
  us: { unit: "µs", coef: 1000 },
};

/** A duration given in ms, as the summary prints it. */
export function humanizeDuration(ms: number, timeUnit?: string): string {
  if (timeUnit && Object.hasOwn(timeUnits, timeUnit)) {
    const u = timeUnits[timeUnit];
    return (ms * u.coef).toFixed(2) + u.unit;
  }
  if (ms === 0) return "0s";
  if (ms < 0.001) return Math.trunc(ms * 1_000_000) + "ns";
  if (ms < 1) return toFixedNoTrailingZerosTrunc(ms * 1000, 2) + "µs";
  if (ms < 1000) return toFixedNoTrailingZerosTrunc(ms, 2) + "ms";
  let fixed = toFixedNoTrailingZerosTrunc((ms % 60000) / 1000, ms > 60000 ? 0 : 2) + "s";
  let rem = Math.trunc(ms / 60000);
  if (rem < 1) return fixed;
  fixed = (rem % 60) + "m" + fixed;
  rem = Math.trunc(rem / 60);
  if (rem < 1) return fixed;
  return rem + "h" + fixed;
}

/** A metric value formatted by its type and `contains` (rates as truncated percentages). */
export function humanizeValue(
  val: number,
  metric: { type: string; contains: string },
  timeUnit?: string,
): string {
  if (metric.type === "rate") return (Math.trunc(val * 100 * 100) / 100).toFixed(2) + "%";
  switch (metric.contains) {
    case "data":
      return humanizeBytes(val);
    case "time":
      return humanizeDuration(val, timeUnit);
    default:
      return toFixedNoTrailingZeros(val, 6);
  }
}

// ---- ANSI ----

const colors: Record<string, string> = { red: "31", green: "32", cyan: "36", white: "37" };
const styles: Record<string, string> = { bold: "1", faint: "2" };

class Formatter {
  constructor(readonly enabled: boolean) {}
  decorate(text: string, color: string, ...style: string[]): string {
    if (!this.enabled) return text;
    const codes = [...style.map((s) => styles[s]), colors[color] ?? colors.white].join(";");
    return `\x1b[${codes}m${text}\x1b[0m`;
  }
  bold(text: string): string {
    return this.enabled ? `\x1b[1m${text}\x1b[0m` : text;
  }
}

/** Display width ignoring ANSI escapes (NFKC code points). */
function strWidth(s: string): number {
  let width = 0;
  let inEsc = false;
  let inLong = false;
  for (const ch of s.normalize("NFKC")) {
    if (ch === "\x1b") {
      inEsc = true;
      continue;
    }
    const c = ch.charCodeAt(0);
    if (inEsc && ch === "[") {
      inLong = true;
      continue;
    }
    if (inEsc && inLong && c >= 0x40 && c <= 0x7e) {
      inEsc = false;
      inLong = false;
      continue;
    }
    if (inEsc && !inLong && c >= 0x40 && c <= 0x5f) {
      inEsc = false;
      continue;
    }
    if (!inEsc && !inLong) width++;
  }
  return width;
}

function indent(level: number): string {
  return " ".repeat((level + 1) * 2);
}

function displayName(name: string): string {
  const at = name.indexOf("{");
  return at >= 0 ? `  { ${name.slice(at + 1, -1)} }` : name;
}

function sortMetricNames(names: string[]): string[] {
  return names.sort((a, b) => {
    const pa = a.split("{", 1)[0];
    const pb = b.split("{", 1)[0];
    const r = pa.localeCompare(pb);
    return r !== 0 ? r : a.slice(pa.length).localeCompare(b.slice(pb.length));
  });
}

// ---- classification ----

const hiddenAlways = ["checks", "group_duration"];
const hiddenCompact = [
  "http_req_blocked",
  "http_req_connecting",
  "http_req_receiving",
  "http_req_sending",
  "http_req_tls_handshaking",
  "http_req_waiting",
];
const httpMetrics = [
  "http_reqs",
  "http_req_failed",
  "http_req_duration",
  "http_req_blocked",
  "http_req_connecting",
  "http_req_tls_handshaking",
  "http_req_sending",
  "http_req_waiting",
  "http_req_receiving",
];
const executionMetrics = [
  "vus",
  "vus_max",
  "iterations",
  "iteration_duration",
  "dropped_iterations",
];
const networkMetrics = ["data_sent", "data_received"];

const hasPrefix = (name: string, list: readonly string[]) => list.some((p) => name.startsWith(p));

/** The section a metric belongs to (k6 matches by name prefix), or undefined when hidden. */
export function metricSection(name: string, mode: "compact" | "full"): string | undefined {
  if (hasPrefix(name, hiddenAlways)) return undefined;
  if (mode === "compact" && hasPrefix(name, hiddenCompact)) return undefined;
  if (hasPrefix(name, httpMetrics)) return "http";
  if (hasPrefix(name, executionMetrics)) return "execution";
  if (hasPrefix(name, networkMetrics)) return "network";
  if (name.startsWith("browser_web_vital_")) return "web_vitals";
  if (name.startsWith("browser_")) return "browser";
  if (name.startsWith("grpc_")) return "grpc";
  if (name.startsWith("ws_")) return "websocket";
  return "custom";
}

const sectionOrder = [
  "custom",
  "http",
  "execution",
  "network",
  "browser",
  "web_vitals",
  "grpc",
  "websocket",
];

function classify(metrics: Record<string, SummaryMetric>, mode: "compact" | "full"): Sections {
  const by = new Map<string, Record<string, ReportMetric>>();
  for (const s of sectionOrder) by.set(s, {});
  for (const [name, m] of Object.entries(metrics)) {
    const section = metricSection(name, mode);
    if (section === undefined) continue;
    by.get(section)![name] = { name, type: m.type, contains: m.contains, values: m.values };
  }
  return [...by];
}

// ---- per-block formatting info (k6's computeSummaryInfo) ----

interface Info {
  /** NaN reproduces k6 when the whole report has a single metric: no dots are printed. */
  maxNameWidth: number;
  trendCols: Record<string, string[]>;
  trendColMaxLens: number[];
  nonTrendValues: Record<string, string>;
  nonTrendExtras: Record<string, string[]>;
  maxNonTrendValueLen: number;
  nonTrendExtraMaxLens: number[];
}

interface Ctx {
  f: Formatter;
  trendStats: readonly string[];
  timeUnit?: string;
  /** 0 = compute per block; NaN = the single-metric quirk. */
  globalMaxNameWidth: number;
}

function trendValue(value: number | undefined, stat: string, m: ReportMetric, c: Ctx): string {
  if (value === undefined) return "undefined";
  if (stat === "count") return value.toString();
  return humanizeValue(value, m, c.timeUnit);
}

function nonTrendValues(m: ReportMetric, timeUnit?: string): string[] {
  const v = m.values;
  switch (m.type) {
    case "counter":
      return [humanizeValue(v.count, m, timeUnit), humanizeValue(v.rate, m, timeUnit) + "/s"];
    case "gauge":
      return [
        humanizeValue(v.value, m, timeUnit),
        "min=" + humanizeValue(v.min, m, timeUnit),
        "max=" + humanizeValue(v.max, m, timeUnit),
      ];
    case "rate":
      return [humanizeValue(v.rate, m, timeUnit), `${v.passes} out of ${v.passes + v.fails}`];
    default:
      return ["[no data]"];
  }
}

function computeInfo(
  metrics: Record<string, ReportMetric>,
  level: number,
  c: Ctx,
  useGlobal: boolean,
): Info {
  const info: Info = {
    maxNameWidth: useGlobal && c.globalMaxNameWidth !== 0 ? c.globalMaxNameWidth : 0,
    trendCols: {},
    trendColMaxLens: c.trendStats.map(() => 0),
    nonTrendValues: {},
    nonTrendExtras: {},
    maxNonTrendValueLen: 0,
    nonTrendExtraMaxLens: [],
  };
  const computeNames = !(useGlobal && c.globalMaxNameWidth !== 0);
  for (const name of Object.keys(metrics)) {
    const m = metrics[name];
    if (computeNames) {
      info.maxNameWidth = Math.max(info.maxNameWidth, strWidth(indent(level) + displayName(name)));
    }
    if (m.type === "trend") {
      const cols = c.trendStats.map((s) => trendValue(m.values[s], s, m, c));
      cols.forEach((col, i) => {
        info.trendColMaxLens[i] = Math.max(info.trendColMaxLens[i], strWidth(col));
      });
      info.trendCols[name] = cols;
    } else {
      const values = nonTrendValues(m, c.timeUnit);
      info.nonTrendValues[name] = values[0];
      info.maxNonTrendValueLen = Math.max(info.maxNonTrendValueLen, strWidth(values[0]));
      const extras = values.slice(1);
      info.nonTrendExtras[name] = extras;
      extras.forEach((v, i) => {
        const w = strWidth(v);
        if (info.nonTrendExtraMaxLens[i] === undefined || w > info.nonTrendExtraMaxLens[i]) {
          info.nonTrendExtraMaxLens[i] = w;
        }
      });
    }
  }
  return info;
}

function renderMetricLine(name: string, m: ReportMetric, info: Info, level: number, c: Ctx) {
  const shown = displayName(name);
  const width = strWidth(shown) + strWidth(indent(level));
  const dots = Math.max(3, info.maxNameWidth - width + 3);
  const dotted = shown +
    c.f.decorate(".".repeat(Number.isNaN(dots) ? 0 : dots) + ":", "white", "faint");
  let data: string;
  if (m.type === "trend") {
    const cols = info.trendCols[name];
    data = cols.map((col, i) =>
      c.trendStats[i] + "=" + c.f.decorate(col, "cyan") +
      " ".repeat(info.trendColMaxLens[i] - strWidth(col))
    ).join(" ");
  } else {
    const value = info.nonTrendValues[name];
    const extras = info.nonTrendExtras[name] ?? [];
    data = c.f.decorate(value, "cyan") + " ".repeat(info.maxNonTrendValueLen - strWidth(value));
    if (extras.length === 1) {
      data += " " + c.f.decorate(extras[0], "cyan", "faint");
    } else if (extras.length > 1) {
      data += " " +
        extras.map((v, i) =>
          c.f.decorate(v, "cyan", "faint") + " ".repeat(info.nonTrendExtraMaxLens[i] - strWidth(v))
        ).join(" ");
    }
  }
  return indent(level) + dotted + " " + data;
}

function renderMetricLines(
  metrics: Record<string, ReportMetric>,
  info: Info,
  level: number,
  c: Ctx,
  sort: boolean,
): string[] {
  let names = Object.keys(metrics);
  if (sort) names = sortMetricNames(names);
  return names.map((n) => renderMetricLine(n, metrics[n], info, level, c));
}

// ---- blocks ----

const NL = "\n";

function renderChecks(
  checks: { totals: Record<string, ReportMetric>; ordered: ReportCheck[] } | undefined,
  level: number,
  c: Ctx,
): string[] {
  if (!checks) return [];
  const inner = level + 1;
  const info = computeInfo(checks.totals, inner, c, false);
  const lines = renderMetricLines(checks.totals, info, inner, c, false);
  const rendered = checks.ordered.map((check) => {
    if (check.fails === 0) return indent(inner) + c.f.decorate("✓ " + check.name, "green");
    const pct = Math.floor((100 * check.passes) / (check.passes + check.fails));
    return indent(inner) + c.f.decorate("✗ " + check.name, "red") + "\n" +
      indent(inner + 1) +
      c.f.decorate(`↳  ${pct}% — ✓ ${check.passes} / ✗ ${check.fails}`, "red");
  });
  return [...lines, NL, ...rendered, NL];
}

function renderMetricSections(sections: Sections, level: number, c: Ctx): string[] {
  const inner = level + 1;
  const all: Record<string, ReportMetric> = {};
  for (const [, ms] of sections) Object.assign(all, ms);
  const info = computeInfo(all, inner, c, true);
  const out: string[] = [];
  for (const [name, ms] of sections) {
    if (Object.keys(ms).length === 0) continue;
    out.push(indent(inner) + c.f.bold(name.toUpperCase()));
    out.push(...renderMetricLines(ms, info, inner, c, true));
    out.push(NL);
  }
  return out;
}

function checksBlock(
  metrics: Record<string, SummaryMetric>,
  ordered: ReportCheck[] | undefined,
  durationMs: number,
): { totals: Record<string, ReportMetric>; ordered: ReportCheck[] } | undefined {
  const checks = metrics.checks;
  if (!checks) return undefined;
  const passes = checks.values.passes ?? 0;
  const total = passes + (checks.values.fails ?? 0);
  const rate = durationMs === 0 ? 0 : total / (durationMs / 1000);
  return {
    totals: {
      checks_total: {
        name: "checks_total",
        type: "counter",
        contains: "default",
        values: { count: total, rate },
      },
      checks_succeeded: {
        name: "checks_succeeded",
        type: checks.type,
        contains: checks.contains,
        values: checks.values,
      },
      checks_failed: {
        name: "checks_failed",
        type: "rate",
        contains: "default",
        values: {
          passes: total - passes,
          fails: passes,
          rate: total > 0 ? (total - passes) / total : 0,
        },
      },
    },
    ordered: ordered ?? [],
  };
}

/** Checks merged by name from the group tree (when the engine's report is absent). */
function checksFromTree(data: SummaryData): ReportCheck[] {
  const merged = new Map<string, ReportCheck>();
  const walk = (g: SummaryData["root_group"]) => {
    for (const c of g.checks) {
      const m = merged.get(c.name);
      if (m) {
        m.passes += c.passes;
        m.fails += c.fails;
      } else merged.set(c.name, { name: c.name, passes: c.passes, fails: c.fails });
    }
    g.groups.forEach(walk);
  };
  walk(data.root_group);
  return [...merged.values()];
}

function thresholdValue(m: ReportMetric, agg: string, info: Info, c: Ctx): string {
  switch (m.type) {
    case "trend": {
      const i = c.trendStats.indexOf(agg);
      if (i !== -1) return info.trendCols[m.name]?.[i] ?? "undefined";
      let v = m.values[agg];
      if (v === undefined) {
        // `p(99.0)` as written is stored under its canonical key `p(99)`.
        const pm = /^p\((.*)\)$/.exec(agg);
        if (pm) v = m.values[`p(${Number(pm[1])})`];
      }
      return trendValue(v, agg, m, c);
    }
    case "counter":
      return agg === "count" ? info.nonTrendValues[m.name] : info.nonTrendExtras[m.name][0];
    default:
      return info.nonTrendValues[m.name];
  }
}

function renderThresholds(data: SummaryData, c: Ctx): string[] {
  const metrics: Record<string, ReportMetric> = {};
  const thresholds: Record<string, Array<{ source: string; ok: boolean }>> = {};
  for (const [name, m] of Object.entries(data.metrics)) {
    if (!m.thresholds) continue;
    metrics[name] = { name, type: m.type, contains: m.contains, values: m.values };
    thresholds[name] = Object.entries(m.thresholds).map(([source, t]) => ({ source, ok: t.ok }));
  }
  const level = 1;
  const info = computeInfo(metrics, level, c, false);
  const out: string[] = [];
  for (const name of sortMetricNames(Object.keys(metrics))) {
    const parent = name.split("{", 1)[0];
    const isSub = name.length > parent.length;
    const parentExists = metrics[parent] !== undefined;
    const lvl = isSub && parentExists ? level + 1 : level;
    out.push(indent(lvl) + (isSub && parentExists ? name.slice(parent.length) : name));
    for (const t of thresholds[name]) {
      const status = t.ok ? c.f.decorate("✓", "green") : c.f.decorate("✗", "red");
      const source = c.f.decorate(`'${t.source.trim()}'`, "white");
      const agg = t.source.split(/[=><]/)[0].trim();
      const value = c.f.decorate(agg, "white") + "=" +
        c.f.decorate(thresholdValue(metrics[name], agg, info, c), "cyan");
      out.push(indent(lvl) + [status, source, value].join(" "));
    }
    out.push(NL);
  }
  return out;
}

function renderGroupContent(
  g: ReportGroup,
  level: number,
  c: Ctx,
  mode: "compact" | "full",
  d: number,
): string[] {
  const out = [
    ...renderChecks(checksBlock(g.metrics, g.checks, d), level, c),
    ...renderMetricSections(classify(g.metrics, mode), level, c),
  ];
  for (const [name, sub] of g.groups) {
    out.push(indent(level + 1) + `↳ ${c.f.bold(`GROUP: ${name}`)} \n`);
    out.push(...renderGroupContent(sub, level + 1, c, mode, d));
  }
  return out;
}

/**
 * Renders the text summary (without the leading/trailing newlines k6 adds when printing it:
 * write `"\n" + text + "\n\n"`).
 */
export function renderTextSummary(data: SummaryData, opts: TextSummaryOptions): string {
  const report = data[summaryReport];
  const mode = opts.mode;
  const duration = data.state.testRunDurationMs;
  const c: Ctx = {
    f: new Formatter(opts.color),
    trendStats: opts.trendStats ?? data.options.summaryTrendStats,
    timeUnit: opts.timeUnit ?? (data.options.summaryTimeUnit || undefined),
    globalMaxNameWidth: 0,
  };
  const groups = mode === "full" ? report?.groups ?? [] : [];
  const scenarios = mode === "full"
    ? [...(report?.scenarios ?? [])].sort(([a], [b]) => a.localeCompare(b))
    : [];

  // k6 computes a report-wide name width with a reduce that has no initial value: with two or
  // more distinct metrics the result is NaN and each block aligns on its own; with exactly one
  // the width is the name itself, which prints no dots. Reproduced for byte-equality.
  const names = new Set<string>();
  for (const [, ms] of classify(data.metrics, mode)) Object.keys(ms).forEach((n) => names.add(n));
  const collect = (list: Array<[string, ReportGroup]>) => {
    for (const [, g] of list) {
      for (const [, ms] of classify(g.metrics, mode)) Object.keys(ms).forEach((n) => names.add(n));
      collect(g.groups);
    }
  };
  collect(groups);
  collect(scenarios);
  c.globalMaxNameWidth = names.size === 1 ? NaN : 0;

  const sections: Array<{ title: string; content: string[] }> = [];
  if (Object.values(data.metrics).some((m) => m.thresholds)) {
    sections.push({ title: "THRESHOLDS", content: renderThresholds(data, c) });
  }
  const ordered = report?.checks ?? checksFromTree(data);
  sections.push({
    title: "TOTAL RESULTS",
    content: [
      ...renderChecks(checksBlock(data.metrics, ordered, duration), 0, c),
      ...renderMetricSections(classify(data.metrics, mode), 0, c),
    ],
  });
  for (const [name, g] of groups) {
    sections.push({
      title: `GROUP: ${name}`,
      content: renderGroupContent(g, 0, c, mode, duration),
    });
  }
  for (const [name, g] of scenarios) {
    sections.push({
      title: `SCENARIO: ${name}`,
      content: renderGroupContent(g, 0, c, mode, duration),
    });
  }

  let text = "";
  for (const s of sections) {
    for (const line of [indent(0) + `█ ${c.f.bold(s.title)} \n`, ...s.content, NL]) {
      text += line === NL ? NL : NL + line;
    }
  }
  return text;
}
