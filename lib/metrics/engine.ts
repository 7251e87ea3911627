/**
 * The metrics engine (runner.md §5, §6, §8.4): aggregates every sample into one sink per metric
 * and per submetric, evaluates thresholds, builds the group/check tree and produces the
 * end-of-test summary data.
 *
 * Hot path: {@link MetricsEngine.addMetricSamples}. Per sample it does one array lookup by
 * metric id and one `add` on the sink; only metrics that have submetrics (or are `checks` /
 * `group_duration`, or per-group aggregation is on) pay one Map lookup keyed by the interned
 * TagSet object, whose value is the precomputed list of matching submetrics.
 *
 * @example
 * ```ts
 * const engine = new MetricsEngine({
 *   registry, thresholds: config.thresholds, systemTags: config.systemTags,
 *   noThresholds: false, summaryTrendStats: ["avg", "p(95)"],
 * });
 * engine.addMetricSamples(samples);
 * const { failedMetrics } = engine.evaluateThresholds({ final: true, elapsedMs: 30000 });
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import type { ThresholdConfig } from "../config/types.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Output, Threshold } from "../output/types.ts";
import type { Metric, MetricRegistry } from "./metric.ts";
import type { Sample } from "./sample.ts";
import type { TagSet } from "./tags.ts";
import { newSink, RateSink, type Sink, TrendSink } from "./sinks.ts";
import {
  abortOnFailMessage,
  type MetricSelector,
  type MetricThresholds,
  parseMetricSelector,
  parseThresholds,
} from "./thresholds.ts";
import {
  type ReportCheck,
  type ReportGroup,
  type SummaryCheck,
  type SummaryData,
  type SummaryGroup,
  type SummaryMetric,
  summaryReport,
} from "../summary/data.ts";

/** Options of {@link MetricsEngine}. */
export interface MetricsEngineOptions {
  readonly registry: MetricRegistry;
  /** `options.thresholds`: key as written → thresholds. */
  readonly thresholds: Readonly<Record<string, readonly ThresholdConfig[]>>;
  readonly systemTags: ReadonlySet<string>;
  /** `--no-thresholds`: thresholds are neither validated nor evaluated (only warned about). */
  readonly noThresholds: boolean;
  readonly summaryTrendStats: readonly string[];
  /** Keep aggregates per group and per scenario (for `--summary-mode=full`). */
  readonly perGroupAndScenario?: boolean;
  /** Receives warnings (invalid thresholds under --no-thresholds, `vu`/`iter` selectors). */
  readonly logger?: Logger;
}

/** A metric or submetric the engine aggregates. */
interface Aggregate {
  /** `metric` or `metric{selector}` (selector trimmed, as k6 names submetrics). */
  readonly name: string;
  readonly metric: Metric;
  readonly sink: Sink;
  observed: boolean;
  thresholds?: MetricThresholds[];
}

interface Submetric extends Aggregate {
  readonly tags: ReadonlyArray<readonly [string, string]>;
  readonly tagKey: string;
}

interface MetricEntry extends Aggregate {
  readonly submetrics: Submetric[];
  /** TagSet → submetrics it matches (only used when `submetrics` is non-empty). */
  readonly matchCache: Map<TagSet, Submetric[]>;
  /** `checks` / `group_duration`: feed the group tree. */
  readonly treeRole: 0 | 1 | 2;
}

interface GroupNode {
  readonly name: string;
  readonly path: string;
  readonly groups: Map<string, GroupNode>;
  readonly checks: Map<string, SummaryCheck>;
}

/** Per-group/scenario aggregation (full summary mode). */
interface AggregatedGroup {
  readonly metrics: Map<Metric, Sink>;
  readonly checks: Map<string, ReportCheck>;
  readonly groups: Map<string, AggregatedGroup>;
}

const noSubmetrics: Submetric[] = [];

/** Lowercase hex MD5 (group and check ids). */
export function md5Hex(text: string): string {
  return createHash("md5").update(text).digest("hex");
}

function newGroupNode(name: string, path: string): GroupNode {
  return { name, path, groups: new Map(), checks: new Map() };
}

function newAggregatedGroup(): AggregatedGroup {
  return { metrics: new Map(), checks: new Map(), groups: new Map() };
}

function matches(tags: Readonly<Record<string, string>>, sub: Submetric): boolean {
  for (const [k, v] of sub.tags) {
    if (tags[k] !== v) return false;
  }
  return true;
}

/** Arguments of {@link MetricsEngine.summaryData}. */
export interface SummaryDataParams {
  readonly testRunDurationMs: number;
  /** setup() return value; omitted from the data when undefined. */
  readonly setupData?: unknown;
  readonly isStdOutTTY: boolean;
  readonly isStdErrTTY: boolean;
  readonly noColor: boolean;
  readonly summaryTimeUnit?: string;
}

/** The result of a threshold evaluation. */
export interface ThresholdEvaluation {
  /** Names (as keyed in options.thresholds' metric naming) that failed, sorted. */
  readonly failedMetrics: string[];
  /** Set when a periodic evaluation must abort the run (abortOnFail, §6.6). */
  readonly abort?: { message: string };
}

/** Aggregates samples for thresholds and the summary; also usable as an {@link Output}. */
export class MetricsEngine implements Output {
  readonly #registry: MetricRegistry;
  readonly #trendStats: readonly string[];
  readonly #logger?: Logger;
  readonly #perGroup: boolean;
  readonly #entries: (MetricEntry | undefined)[] = [];
  readonly #withThresholds: MetricThresholds[] = [];
  readonly #aggregateOf = new Map<MetricThresholds, Aggregate>();
  readonly #root = newGroupNode("", "");
  readonly #checksByName = new Map<string, ReportCheck>();
  /** For `checks` samples: TagSet → [tree check, merged check]. */
  readonly #checkCache = new Map<TagSet, [SummaryCheck, ReportCheck] | null>();
  readonly #groupSeen = new Set<TagSet>();
  readonly #aggRoot = newAggregatedGroup();
  readonly #aggScenarios = new Map<string, AggregatedGroup>();
  readonly #aggCache = new Map<TagSet, AggregatedGroup[]>();
  /** Submetrics declared before their parent's entry existed, keyed by metric name. */
  readonly #pendingSubs = new Map<string, MetricSelector[]>();

  constructor(opts: MetricsEngineOptions) {
    this.#registry = opts.registry;
    this.#trendStats = opts.summaryTrendStats;
    this.#logger = opts.logger;
    this.#perGroup = opts.perGroupAndScenario ?? false;

    if (opts.noThresholds) {
      // k6 still creates the submetrics (so they show in the summary) but only warns.
      for (const name of Object.keys(opts.thresholds)) {
        try {
          const selector = parseMetricSelector(name);
          if (!this.#registry.get(selector.metric)) {
            throw new Error(`metric '${selector.metric}' does not exist in the script`);
          }
          if (selector.selector !== undefined) this.#submetric(selector);
        } catch (err) {
          this.#logger?.warn(`Invalid metric '${name}' in threshold definitions`, {
            error: errorMessage(err),
          });
        }
      }
    } else {
      for (const mt of parseThresholds(opts.thresholds, this.#registry)) {
        const agg = mt.selector.selector === undefined
          ? this.#entry(this.#registry.get(mt.selector.metric)!)
          : this.#submetric(mt.selector);
        (agg.thresholds ??= []).push(mt);
        this.#aggregateOf.set(mt, agg);
        this.#withThresholds.push(mt);
        agg.observed = true;
        this.#entry(this.#registry.get(mt.selector.metric)!).observed = true;
      }
    }
    if (opts.systemTags.has("expected_response")) {
      this.#submetric(parseMetricSelector("http_req_duration{expected_response:true}"));
    }
  }

  #entry(metric: Metric): MetricEntry {
    const found = this.#entries[metric.id];
    if (found !== undefined && found.metric === metric) return found;
    const entry: MetricEntry = {
      name: metric.name,
      metric,
      sink: newSink(metric.type),
      observed: false,
      submetrics: [],
      matchCache: new Map(),
      treeRole: metric.name === "checks" ? 1 : metric.name === "group_duration" ? 2 : 0,
    };
    this.#entries[metric.id] = entry;
    return entry;
  }

  #submetric(selector: MetricSelector): Submetric {
    const metric = this.#registry.get(selector.metric)!;
    const entry = this.#entry(metric);
    const tags = Object.entries(selector.tags) as Array<[string, string]>;
    const tagKey = tags.map(([k, v]) => `${k}\u0001${v}`).sort().join("\u0002");
    const existing = entry.submetrics.find((s) => s.tagKey === tagKey);
    if (existing) return existing;
    for (const [k] of tags) {
      if (k === "vu" || k === "iter") {
        this.#logger?.warn(
          `The high-cardinality '${k}' metric tag was made non-indexable in k6 v0.41.0, so ` +
            `thresholds like '${metric.name}{${selector.selector}}' that are based on it won't ` +
            `work correctly.`,
        );
      }
    }
    const sub: Submetric = {
      name: `${metric.name}{${selector.selector}}`,
      metric,
      sink: newSink(metric.type),
      observed: false,
      tags,
      tagKey,
    };
    entry.submetrics.push(sub);
    entry.matchCache.clear();
    return sub;
  }

  // ---- Output interface (the integrator may also call addMetricSamples directly) ----

  /** Output banner text (the engine is internal; k6 hides it). */
  description(): string {
    return "metrics engine";
  }
  /** Nothing to start. */
  start(): Promise<void> {
    return Promise.resolve();
  }
  /** Nothing to flush: aggregation is synchronous. */
  stop(): Promise<void> {
    return Promise.resolve();
  }

  /** Aggregates a batch of samples. O(1) per sample (see module docs). */
  addMetricSamples(samples: readonly Sample[]): void {
    const entries = this.#entries;
    const perGroup = this.#perGroup;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i];
      let e = entries[s.metric.id];
      if (e === undefined || e.metric !== s.metric) e = this.#entry(s.metric);
      e.observed = true;
      e.sink.add(s.value);
      if (e.submetrics.length !== 0) {
        let subs = e.matchCache.get(s.tags);
        if (subs === undefined) {
          subs = e.submetrics.filter((sub) => matches(s.tags.tags, sub));
          if (subs.length === 0) subs = noSubmetrics;
          e.matchCache.set(s.tags, subs);
        }
        for (let j = 0; j < subs.length; j++) {
          const sub = subs[j];
          sub.observed = true;
          sub.sink.add(s.value);
        }
      }
      if (e.treeRole !== 0) this.#tree(e.treeRole, s);
      if (perGroup) this.#aggregateGroups(s);
    }
  }

  /** Group/check tree (runner.md §5.5, §5.6) from `checks` and `group_duration` samples. */
  #tree(role: 1 | 2, s: Sample): void {
    if (role === 2) {
      if (this.#groupSeen.has(s.tags)) return;
      this.#groupSeen.add(s.tags);
      const group = s.tags.tags.group;
      if (group !== undefined) this.#groupNode(group);
      return;
    }
    let cached = this.#checkCache.get(s.tags);
    if (cached === undefined) {
      cached = null;
      const group = s.tags.tags.group;
      const name = s.tags.tags.check;
      if (name !== undefined) {
        let merged = this.#checksByName.get(name);
        if (!merged) {
          merged = { name, passes: 0, fails: 0 };
          this.#checksByName.set(name, merged);
        }
        if (group !== undefined) {
          const node = this.#groupNode(group);
          let check = node.checks.get(name);
          if (!check) {
            const path = `${node.path}::${name}`;
            check = { name, path, id: md5Hex(path), passes: 0, fails: 0 };
            node.checks.set(name, check);
          }
          cached = [check, merged];
        } else {
          // No group tag (system tag disabled): k6's tree ignores it, the text summary counts it.
          cached = [{ name, path: "", id: "", passes: 0, fails: 0 }, merged];
        }
      }
      this.#checkCache.set(s.tags, cached);
    }
    if (cached === null) return;
    if (s.value === 0) {
      cached[0].fails++;
      cached[1].fails++;
    } else {
      cached[0].passes++;
      cached[1].passes++;
    }
  }

  #groupNode(path: string): GroupNode {
    let node = this.#root;
    if (path === "") return node;
    const parts = path.split("::");
    for (let i = 1; i < parts.length; i++) {
      const name = parts[i];
      let child = node.groups.get(name);
      if (!child) {
        child = newGroupNode(name, `${node.path}::${name}`);
        node.groups.set(name, child);
      }
      node = child;
    }
    return node;
  }

  /** Full summary mode: per-scenario and per-group aggregates (k6's summary output rules). */
  #aggregateGroups(s: Sample): void {
    let targets = this.#aggCache.get(s.tags);
    if (targets === undefined) {
      targets = [];
      let base = this.#aggRoot;
      const scenario = s.tags.tags.scenario;
      if (scenario !== undefined && scenario !== "default") {
        let sc = this.#aggScenarios.get(scenario);
        if (!sc) {
          sc = newAggregatedGroup();
          this.#aggScenarios.set(scenario, sc);
        }
        base = sc;
        targets.push(sc);
      }
      const group = s.tags.tags.group;
      if (group !== undefined && group !== "") {
        const normalized = group.startsWith("::") ? group.slice(2) : group;
        if (normalized !== "setup" && normalized !== "teardown") {
          let node = base;
          for (const name of normalized.split("::")) {
            let child = node.groups.get(name);
            if (!child) {
              child = newAggregatedGroup();
              node.groups.set(name, child);
            }
            node = child;
          }
          targets.push(node);
        }
      }
      this.#aggCache.set(s.tags, targets);
    }
    for (const t of targets) {
      let sink = t.metrics.get(s.metric);
      if (!sink) {
        sink = newSink(s.metric.type);
        t.metrics.set(s.metric, sink);
      }
      sink.add(s.value);
      if (s.metric.name === "checks") {
        const name = s.tags.tags.check;
        if (name !== undefined) {
          let c = t.checks.get(name);
          if (!c) {
            c = { name, passes: 0, fails: 0 };
            t.checks.set(name, c);
          }
          if (s.value === 0) c.fails++;
          else c.passes++;
        }
      }
    }
  }

  // ---- thresholds ----

  /**
   * Evaluates every threshold (runner.md §6.5). Periodic runs (`final: false`) skip metrics
   * whose sink is empty and may ask to abort (§6.6); the final run evaluates all.
   */
  evaluateThresholds(params: { final: boolean; elapsedMs: number }): ThresholdEvaluation {
    const failed = new Set<string>();
    let abort = false;
    for (const mt of this.#withThresholds) {
      const agg = this.#aggregateOf.get(mt)!;
      if (!params.final && agg.sink.isEmpty()) continue;
      if (mt.run(agg.sink, params.elapsedMs)) continue;
      failed.add(agg.name);
      if (mt.abort) abort = true;
    }
    const failedMetrics = [...failed].sort();
    if (abort && !params.final && failedMetrics.length > 0) {
      return { failedMetrics, abort: { message: abortOnFailMessage(failedMetrics) } };
    }
    return { failedMetrics };
  }

  /** Thresholds keyed as written, for outputs' `setThresholds` (the live objects). */
  thresholdsForOutputs(): ReadonlyMap<string, readonly Threshold[]> {
    const map = new Map<string, readonly Threshold[]>();
    for (const mt of this.#withThresholds) map.set(mt.name, mt.thresholds);
    return map;
  }

  /** True when any threshold is defined (and thresholds are enabled). */
  get hasThresholds(): boolean {
    return this.#withThresholds.length > 0;
  }

  // ---- summary ----

  #observed(): Aggregate[] {
    const out: Aggregate[] = [];
    for (const e of this.#entries) {
      if (e === undefined) continue;
      if (e.observed) out.push(e);
      for (const sub of e.submetrics) if (sub.observed) out.push(sub);
    }
    return out;
  }

  /** Names of every metric and submetric that received samples or has thresholds, sorted. */
  observedMetricNames(): string[] {
    return this.#observed().map((a) => a.name).sort();
  }

  #summaryMetric(a: { metric: Metric; sink: Sink }, durationMs: number): SummaryMetric {
    return {
      type: a.metric.type,
      contains: a.metric.contains,
      values: a.sink.values(durationMs, this.#trendStats),
    };
  }

  /** The `handleSummary` data object (runner.md §8.4), with the text summary's extras attached. */
  summaryData(params: SummaryDataParams): SummaryData {
    const duration = params.testRunDurationMs;
    const metrics: Record<string, SummaryMetric> = {};
    for (const a of this.#observed().sort((x, y) => (x.name < y.name ? -1 : 1))) {
      const m = this.#summaryMetric(a, duration);
      if (a.thresholds && a.thresholds.length > 0) {
        const th: Record<string, { ok: boolean }> = {};
        for (const mt of a.thresholds) {
          for (const t of mt.thresholds) {
            th[t.source] = { ok: !t.lastFailed };
            // The text summary prints the threshold's aggregate even when it is not one of the
            // summaryTrendStats; k6 adds percentiles the same way (its data model does).
            if (a.sink instanceof TrendSink && !(t.expression.key in m.values)) {
              nonEnumerableExtra(m, t.expression.key, a.sink.stat(t.expression.key));
            }
          }
        }
        m.thresholds = th;
      }
      metrics[a.name] = m;
    }
    const data: SummaryData = {
      root_group: exportGroup(this.#root),
      options: {
        summaryTrendStats: [...this.#trendStats],
        summaryTimeUnit: params.summaryTimeUnit ?? "",
        noColor: params.noColor,
      },
      state: {
        isStdOutTTY: params.isStdOutTTY,
        isStdErrTTY: params.isStdErrTTY,
        testRunDurationMs: duration,
      },
      metrics,
    };
    if (params.setupData !== undefined) data.setup_data = params.setupData;
    const report = {
      checks: this.#checksByName.size > 0 ? [...this.#checksByName.values()] : undefined,
      groups: this.#perGroup ? this.#reportGroups(this.#aggRoot.groups, duration) : undefined,
      scenarios: this.#perGroup
        ? [...this.#aggScenarios].map(([name, g]) =>
          [name, this.#reportGroup(g, duration)] as [string, ReportGroup]
        )
        : undefined,
    };
    Object.defineProperty(data, summaryReport, { value: report, enumerable: false });
    return data;
  }

  #reportGroups(groups: Map<string, AggregatedGroup>, d: number): Array<[string, ReportGroup]> {
    return [...groups].map(([name, g]) => [name, this.#reportGroup(g, d)]);
  }

  #reportGroup(g: AggregatedGroup, d: number): ReportGroup {
    const metrics: Record<string, SummaryMetric> = {};
    for (const [metric, sink] of g.metrics) {
      metrics[metric.name] = this.#summaryMetric({ metric, sink }, d);
    }
    const hasChecks = [...g.metrics.keys()].some((m) => m.name === "checks");
    return {
      metrics,
      checks: hasChecks ? [...g.checks.values()] : undefined,
      groups: this.#reportGroups(g.groups, d),
    };
  }

  /** The rate sink of `checks` (for tests and callers wanting check totals). */
  checksTotals(): { passes: number; fails: number } {
    const e = this.#registry.get("checks");
    const sink = e ? this.#entries[e.id]?.sink : undefined;
    if (sink instanceof RateSink) return { passes: sink.trues, fails: sink.total - sink.trues };
    return { passes: 0, fails: 0 };
  }
}

/**
 * Adds a value the text summary needs (a threshold's percentile outside summaryTrendStats)
 * without putting it into the §8.4 `values` JSON, which has exactly the summaryTrendStats keys.
 */
function nonEnumerableExtra(m: SummaryMetric, key: string, value: number): void {
  Object.defineProperty(m.values, key, { value, enumerable: false, configurable: true });
}

function exportGroup(node: GroupNode): SummaryGroup {
  return {
    name: node.name,
    path: node.path,
    id: md5Hex(node.path),
    groups: [...node.groups.values()].map(exportGroup),
    checks: [...node.checks.values()].map((c) => ({ ...c })),
  };
}
