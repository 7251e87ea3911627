import { defaultSystemTags as sharedDefaultSystemTags } from "../../lib/config/defaults.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { SpateError } from "../../lib/errors.ts";
import { md5Hex, MetricsEngine } from "../../lib/metrics/engine.ts";
import { MetricRegistry } from "../../lib/metrics/metric.ts";
import type { Sample } from "../../lib/metrics/sample.ts";
import { TagSetPool } from "../../lib/metrics/tags.ts";
import type { ThresholdConfig } from "../../lib/config/types.ts";
import { Logger } from "../../lib/log.ts";
import { renderTextSummary } from "../../lib/summary/text.ts";

const defaultSystemTags = new Set(sharedDefaultSystemTags);
const stats = ["avg", "min", "med", "max", "p(90)", "p(95)"];
const th = (source: string, abortOnFail = false, delayAbortEval?: number): ThresholdConfig => ({
  source,
  abortOnFail,
  ...(delayAbortEval === undefined
    ? {}
    : { delayAbortEval, delayAbortEvalText: `${delayAbortEval / 1000}s` }),
});

function setup(
  thresholds: Record<string, ThresholdConfig[]> = {},
  extra: { noThresholds?: boolean; perGroupAndScenario?: boolean; logger?: Logger } = {},
) {
  const registry = new MetricRegistry();
  const pool = new TagSetPool();
  const engine = new MetricsEngine({
    registry,
    thresholds,
    systemTags: defaultSystemTags,
    noThresholds: extra.noThresholds ?? false,
    summaryTrendStats: stats,
    perGroupAndScenario: extra.perGroupAndScenario,
    logger: extra.logger,
  });
  const sample = (metric: string, value: number, tags: Record<string, string> = {}): Sample => ({
    metric: registry.get(metric)!,
    tags: pool.intern(tags),
    time: 0,
    value,
  });
  return { registry, pool, engine, sample };
}

const summaryParams = {
  testRunDurationMs: 2000,
  isStdOutTTY: false,
  isStdErrTTY: false,
  noColor: true,
};

Deno.test("engine: sinks and submetric routing incl. group:::login and quotes", () => {
  const { engine, sample } = setup({
    "group_duration{group:::login}": [th("avg<100")],
    "http_req_duration{status:200,method:'GET'}": [th("max<1000")],
    'http_req_duration{ "status" : "404" }': [th("max<1000")],
  });
  engine.addMetricSamples([
    sample("group_duration", 50, { group: "::login" }),
    sample("group_duration", 500, { group: "::other" }),
    sample("http_req_duration", 10, { status: "200", method: "GET", expected_response: "true" }),
    sample("http_req_duration", 20, { status: "200", method: "POST", expected_response: "true" }),
    sample("http_req_duration", 30, { status: "404", method: "GET", expected_response: "false" }),
    sample("http_req_duration", 40, { status: "200", method: "GET", expected_response: "true" }),
  ]);
  const data = engine.summaryData(summaryParams);
  assertEquals(data.metrics["group_duration{group:::login}"].values.avg, 50);
  assertEquals(data.metrics["http_req_duration{status:200,method:'GET'}"].values.avg, 25);
  assertEquals(data.metrics['http_req_duration{"status" : "404"}'].values.max, 30);
  assertEquals(data.metrics["http_req_duration{expected_response:true}"].values.avg, 70 / 3);
  assertEquals(data.metrics.http_req_duration.values.max, 40);
  assertEquals(engine.observedMetricNames(), [
    "group_duration",
    "group_duration{group:::login}",
    "http_req_duration",
    'http_req_duration{"status" : "404"}',
    "http_req_duration{expected_response:true}",
    "http_req_duration{status:200,method:'GET'}",
  ]);
});

Deno.test("engine: expected_response submetric only when the system tag is enabled", () => {
  const registry = new MetricRegistry();
  const pool = new TagSetPool();
  const engine = new MetricsEngine({
    registry,
    thresholds: {},
    systemTags: new Set(["status"]),
    noThresholds: false,
    summaryTrendStats: stats,
  });
  engine.addMetricSamples([{
    metric: registry.get("http_req_duration")!,
    tags: pool.intern({ expected_response: "true" }),
    time: 0,
    value: 1,
  }]);
  assertEquals(engine.observedMetricNames(), ["http_req_duration"]);
});

Deno.test("engine: unknown threshold metric is a 104 error", () => {
  const err = assertThrows(() => setup({ nope: [th("count>1")] }), SpateError);
  assertEquals(err.exitCode, 104);
  assertEquals(
    err.message,
    'invalid threshold defined on nope; reason: no metric name "nope" found',
  );
});

Deno.test("engine: --no-thresholds warns, keeps submetrics, never evaluates", () => {
  const lines: string[] = [];
  const logger = new Logger({ format: "raw", sink: (l) => lines.push(l) });
  const { engine, sample } = setup({
    nope: [th("count>1")],
    "http_reqs{status:500}": [th("count<1")],
  }, { noThresholds: true, logger });
  assertEquals(lines, ["Invalid metric 'nope' in threshold definitions"]);
  engine.addMetricSamples([sample("http_reqs", 1, { status: "500" })]);
  assertEquals(engine.evaluateThresholds({ final: true, elapsedMs: 1000 }).failedMetrics, []);
  assertEquals(engine.thresholdsForOutputs().size, 0);
  assertEquals(engine.observedMetricNames(), ["http_reqs", "http_reqs{status:500}"]);
});

Deno.test("engine: periodic evaluation skips empty sinks; final evaluates them", () => {
  const { engine, sample } = setup({
    http_reqs: [th("count>0")],
    iteration_duration: [th("avg<100")],
    checks: [th("rate>0.9")],
  });
  assertEquals(engine.evaluateThresholds({ final: false, elapsedMs: 2000 }).failedMetrics, []);
  // Final: empty counter count=0 fails, empty trend avg=0 passes, empty rate passes.
  assertEquals(engine.evaluateThresholds({ final: true, elapsedMs: 2000 }).failedMetrics, [
    "http_reqs",
  ]);
  engine.addMetricSamples([
    sample("http_reqs", 1),
    sample("iteration_duration", 500),
    sample("checks", 0, { check: "a", group: "" }),
  ]);
  const r = engine.evaluateThresholds({ final: true, elapsedMs: 2000 });
  assertEquals(r.failedMetrics, ["checks", "iteration_duration"]);
  assertEquals(r.abort, undefined);
  const live = engine.thresholdsForOutputs();
  assertEquals([...live.keys()], ["http_reqs", "iteration_duration", "checks"]);
  assertEquals(live.get("checks")![0].lastFailed, true);
  assertEquals(live.get("http_reqs")![0].lastFailed, false);
  const data = engine.summaryData(summaryParams);
  assertEquals(data.metrics.checks.thresholds, { "rate>0.9": { ok: false } });
  assertEquals(data.metrics.http_reqs.thresholds, { "count>0": { ok: true } });
});

Deno.test("engine: abortOnFail with delayAbortEval during periodic runs", () => {
  const { engine, sample } = setup({
    checks: [th("rate>0.9", true, 10_000)],
    http_req_failed: [th("rate<0.1", true)],
  });
  engine.addMetricSamples([sample("checks", 0, { check: "c" })]);
  const early = engine.evaluateThresholds({ final: false, elapsedMs: 5000 });
  assertEquals(early, { failedMetrics: ["checks"] });
  const late = engine.evaluateThresholds({ final: false, elapsedMs: 10_001 });
  assertEquals(
    late.abort?.message,
    "thresholds on metrics 'checks' were crossed; at least one has abortOnFail enabled, stopping test prematurely",
  );
  engine.addMetricSamples([sample("http_req_failed", 1)]);
  const both = engine.evaluateThresholds({ final: false, elapsedMs: 11_000 });
  assertEquals(
    both.abort?.message,
    "thresholds on metrics 'checks, http_req_failed' were crossed; at least one has abortOnFail enabled, stopping test prematurely",
  );
  assertEquals(engine.thresholdsForOutputs().get("checks")![0].delayAbortEval, "10s");
});

Deno.test("engine: group tree and checks with md5 ids in first-seen order", () => {
  const { engine, sample } = setup();
  engine.addMetricSamples([
    sample("checks", 1, { check: "root ok", group: "" }),
    sample("checks", 1, { check: "inner", group: "::login::submit" }),
    sample("checks", 0, { check: "inner", group: "::login::submit" }),
    sample("group_duration", 5, { group: "::login::submit" }),
    sample("checks", 1, { check: "first", group: "::login" }),
    sample("group_duration", 9, { group: "::login" }),
    sample("group_duration", 9, { group: "::setup" }),
    sample("checks", 0, { check: "root ok", group: "" }),
    sample("checks", 1, { check: "first", group: "" }),
  ]);
  const data = engine.summaryData(summaryParams);
  const root = data.root_group;
  assertEquals(root.id, "d41d8cd98f00b204e9800998ecf8427e");
  assertEquals(root.checks.map((c) => [c.name, c.path, c.passes, c.fails]), [
    ["root ok", "::root ok", 1, 1],
    ["first", "::first", 1, 0],
  ]);
  assertEquals(root.checks[0].id, md5Hex("::root ok"));
  assertEquals(root.groups.map((g) => g.name), ["login", "setup"]);
  const login = root.groups[0];
  assertEquals([login.path, login.id], ["::login", md5Hex("::login")]);
  assertEquals(login.checks.map((c) => c.path), ["::login::first"]);
  assertEquals(login.groups[0].path, "::login::submit");
  assertEquals(login.groups[0].checks[0], {
    name: "inner",
    path: "::login::submit::inner",
    id: md5Hex("::login::submit::inner"),
    passes: 1,
    fails: 1,
  });
  // Compact text merges checks by name in first-seen order.
  const text = renderTextSummary(data, { mode: "compact", color: false });
  assert(
    text.includes(
      "    ✗ root ok\n      ↳  50% — ✓ 1 / ✗ 1\n    ✗ inner\n      ↳  50% — ✓ 1 / ✗ 1\n    ✓ first\n",
    ),
    text,
  );
  assert(text.includes("    checks_total.......: 6      3/s\n"), text);
  assert(text.includes("    checks_succeeded...: 66.66% 4 out of 6\n"), text);
  assert(text.includes("    checks_failed......: 33.33% 2 out of 6\n"), text);
});

Deno.test("engine: summaryData has exactly the §8.4 shape", () => {
  const { engine, sample } = setup({ "http_req_duration": [th("p(99)<500")] });
  engine.addMetricSamples([
    sample("http_reqs", 1),
    sample("vus", 3),
    sample("vus", 1),
    sample("checks", 1, { check: "c", group: "" }),
    sample("http_req_duration", 10, { expected_response: "true" }),
    sample("data_sent", 100),
  ]);
  engine.evaluateThresholds({ final: true, elapsedMs: 2000 });
  const data = engine.summaryData({ ...summaryParams, setupData: { token: "x" } });
  const json = JSON.parse(JSON.stringify(data));
  assertEquals(Object.keys(json), ["root_group", "options", "state", "metrics", "setup_data"]);
  assertEquals(json.options, { summaryTrendStats: stats, summaryTimeUnit: "", noColor: true });
  assertEquals(json.state, { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 2000 });
  assertEquals(json.setup_data, { token: "x" });
  assertEquals(json.metrics.http_reqs, {
    type: "counter",
    contains: "default",
    values: { count: 1, rate: 0.5 },
  });
  assertEquals(json.metrics.vus, {
    type: "gauge",
    contains: "default",
    values: { value: 1, min: 1, max: 3 },
  });
  assertEquals(json.metrics.checks.values, { rate: 1, passes: 1, fails: 0 });
  assertEquals(json.metrics.data_sent.contains, "data");
  assertEquals(json.metrics.http_req_duration, {
    type: "trend",
    contains: "time",
    values: { avg: 10, min: 10, med: 10, max: 10, "p(90)": 10, "p(95)": 10 },
    thresholds: { "p(99)<500": { ok: true } },
  });
  assertEquals(Object.keys(json.metrics).sort(), [
    "checks",
    "data_sent",
    "http_req_duration",
    "http_req_duration{expected_response:true}",
    "http_reqs",
    "vus",
  ]);
  // Without setup data the key is absent.
  assertEquals("setup_data" in engine.summaryData(summaryParams), false);
  // The threshold's percentile is available to the text summary.
  const text = renderTextSummary(data, { mode: "compact", color: false });
  assert(text.includes("    ✓ 'p(99)<500' p(99)=10ms\n"), text);
});

Deno.test("engine: full mode aggregates per group and per non-default scenario", () => {
  const { engine, sample } = setup({}, { perGroupAndScenario: true });
  engine.addMetricSamples([
    sample("http_reqs", 1, { scenario: "default", group: "::login" }),
    sample("checks", 1, { scenario: "default", group: "::login", check: "ok" }),
    sample("http_reqs", 1, { scenario: "default", group: "::login::inner" }),
    sample("http_reqs", 1, { scenario: "api", group: "" }),
    sample("http_reqs", 1, { scenario: "api", group: "::g" }),
    sample("http_reqs", 1, { scenario: "default", group: "::setup" }),
    sample("iterations", 1, { scenario: "default", group: "" }),
  ]);
  const text = renderTextSummary(engine.summaryData(summaryParams), { mode: "full", color: false });
  assertEquals(
    text.split("  █ GROUP: login \n")[1],
    [
      "",
      "    checks_total.......: 1       0.5/s",
      "    checks_succeeded...: 100.00% 1 out of 1",
      "    checks_failed......: 0.00%   0 out of 1",
      "",
      "    ✓ ok",
      "",
      "    HTTP",
      "    http_reqs...: 1 0.5/s",
      "",
      "    ↳ GROUP: inner \n",
      "      HTTP",
      "      http_reqs...: 1 0.5/s",
      "",
      "",
      "  █ SCENARIO: api ",
      "",
      "    HTTP",
      "    http_reqs...: 2 1/s",
      "",
      "    ↳ GROUP: g \n",
      "      HTTP",
      "      http_reqs...: 1 0.5/s",
      "",
      "",
    ].join("\n"),
  );
});
