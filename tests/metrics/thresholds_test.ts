import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { SpateError } from "../../lib/errors.ts";
import { MetricRegistry } from "../../lib/metrics/metric.ts";
import { CounterSink, GaugeSink, RateSink, type Sink, TrendSink } from "../../lib/metrics/sinks.ts";
import {
  MetricThreshold,
  MetricThresholds,
  parseMetricSelector,
  parseThresholdExpression,
  parseThresholds,
  thresholdAggregate,
} from "../../lib/metrics/thresholds.ts";

function expectConfigError(fn: () => unknown, message: string): void {
  const err = assertThrows(fn, SpateError);
  assertEquals(err.message, message);
  assertEquals(err.exitCode, 104);
}

Deno.test("threshold grammar: operators, whitespace, aggregations", () => {
  const cases: Array<[string, string, string, number, number | undefined]> = [
    ["avg<200", "avg", "<", 200, undefined],
    ["avg <= 200", "avg", "<=", 200, undefined],
    ["  max>1.5 ", "max", ">", 1.5, undefined],
    ["min>=0", "min", ">=", 0, undefined],
    ["med===10", "med", "===", 10, undefined],
    ["count==3", "count", "==", 3, undefined],
    ["rate!=0", "rate", "!=", 0, undefined],
    ["value<1e3", "value", "<", 1000, undefined],
    ["p(95)<500", "p", "<", 500, 95],
    ["p(99.9) < 1", "p", "<", 1, 99.9],
    ["p(0)>-5", "p", ">", -5, 0],
    ["p(100)<=.5", "p", "<=", 0.5, 100],
  ];
  for (const [src, agg, op, value, pct] of cases) {
    const e = parseThresholdExpression(src);
    assertEquals([e.aggregation, e.operator, e.value, e.percentile], [agg, op, value, pct], src);
  }
  assertEquals(parseThresholdExpression("p(99.0)<1").key, "p(99)");
  assertEquals(parseThresholdExpression("p(99.9)<1").key, "p(99.9)");
});

Deno.test("threshold grammar: error texts", () => {
  expectConfigError(
    () => parseThresholdExpression("avg"),
    'failed parsing threshold expression "avg"; reason: malformed threshold expression',
  );
  expectConfigError(
    () => parseThresholdExpression("avg<"),
    'failed parsing threshold expression "avg<"; reason: malformed threshold expression',
  );
  expectConfigError(
    () => parseThresholdExpression("average<200"),
    `failed parsing threshold expression's "average<200" left hand side; ` +
      "reason: failed parsing method from expression",
  );
  expectConfigError(
    () => parseThresholdExpression("p(abc)<200"),
    `failed parsing threshold expression's "p(abc)<200" left hand side; reason: malformed ` +
      `percentile value; reason: strconv.ParseFloat: parsing "abc": invalid syntax`,
  );
  expectConfigError(
    () => parseThresholdExpression("p(101)<200"),
    `failed parsing threshold expression's "p(101)<200" left hand side; reason: malformed ` +
      "percentile value, provide a number between 0 and 100",
  );
  expectConfigError(
    () => parseThresholdExpression("p(-1)<200"),
    `failed parsing threshold expression's "p(-1)<200" left hand side; reason: malformed ` +
      "percentile value, provide a number between 0 and 100",
  );
  expectConfigError(
    () => parseThresholdExpression("avg<abc"),
    `failed parsing threshold expresion's "avg<abc" right hand side; reason: ` +
      `strconv.ParseFloat: parsing "abc": invalid syntax`,
  );
});

const cfg = (
  source: string,
  extra: Partial<{ abortOnFail: boolean; delayAbortEval: number }> = {},
) => ({
  source,
  abortOnFail: extra.abortOnFail ?? false,
  ...(extra.delayAbortEval === undefined ? {} : { delayAbortEval: extra.delayAbortEval }),
});

Deno.test("threshold validation: unknown metric and unsupported aggregations", () => {
  const registry = new MetricRegistry();
  expectConfigError(
    () => parseThresholds({ "non existing": [cfg("rate>0")] }, registry),
    'invalid threshold defined on non existing; reason: no metric name "non existing" found',
  );
  expectConfigError(
    () => parseThresholds({ "foo{a:b}": [cfg("rate>0")] }, registry),
    'invalid threshold defined on foo{a:b}; reason: no metric name "foo{a:b}" found',
  );
  const unsupported: Array<[string, string, string, string]> = [
    ["http_reqs", "avg<1", "counter", "count, rate"],
    ["vus", "rate<1", "gauge", "value"],
    ["checks", "count>1", "rate", "rate"],
    ["http_req_duration", "value<1", "trend", "avg, min, max, med, p"],
  ];
  for (const [metric, source, type, list] of unsupported) {
    const agg = source.split("<")[0].split(">")[0];
    expectConfigError(
      () => parseThresholds({ [metric]: [cfg(source)] }, registry),
      `invalid threshold "${source}" applied on metric ${metric}; reason: unsupported ` +
        `aggregation method ${agg} on metric of type ${type}. supported aggregation methods ` +
        `for this metric are: ${list}`,
    );
  }
  // Expression errors come before the metric lookup, as in k6.
  expectConfigError(
    () => parseThresholds({ nope: [cfg("bad")] }, registry),
    'failed parsing threshold expression "bad"; reason: malformed threshold expression',
  );
  const ok = parseThresholds({
    http_req_duration: [cfg("p(95)<500"), cfg("avg<200")],
    "http_req_duration{status:200}": [cfg("max<1000")],
  }, registry);
  assertEquals(ok.map((t) => t.name), ["http_req_duration", "http_req_duration{status:200}"]);
});

Deno.test("submetric selectors: group:::login, quotes, whitespace, empty values", () => {
  assertEquals(parseMetricSelector("group_duration{group:::login}").tags, { group: "::login" });
  assertEquals(parseMetricSelector("http_req_duration{status:200}"), {
    metric: "http_req_duration",
    selector: "status:200",
    tags: { status: "200" },
  });
  assertEquals(
    parseMetricSelector(`http_req_duration{ "name" : 'http://x/a:b' , method:GET }`).tags,
    { name: "http://x/a:b", method: "GET" },
  );
  assertEquals(parseMetricSelector("my_rate{tag:''}").tags, { tag: "" });
  assertEquals(parseMetricSelector("http_reqs"), { metric: "http_reqs", tags: {} });
  assertEquals(parseMetricSelector("m{ a:b }").selector, "a:b");
});

Deno.test("submetric selectors: malformed names", () => {
  const prefix = "unable to validate threshold expressions; reason: parsing metric name failed, ";
  expectConfigError(
    () => parseMetricSelector("m{a:b"),
    prefix + 'metric "m{a:b" has unmatched opening/close curly brace',
  );
  expectConfigError(
    () => parseMetricSelector("m}a:b{"),
    prefix + 'metric "m}a:b{" closing curly brace appears before opening one',
  );
  expectConfigError(
    () => parseMetricSelector("m{a:b}x"),
    prefix + 'metric "m{a:b}x" lacks a closing curly brace in its last position',
  );
  expectConfigError(
    () => parseMetricSelector("m{a}"),
    prefix + 'metric "a" tag expression is malformed',
  );
  expectConfigError(
    () => parseMetricSelector("m{a:}"),
    prefix + 'metric "a:" tag expression is malformed',
  );
  expectConfigError(
    () => parseMetricSelector("m{}"),
    prefix + 'metric "" tag expression is malformed',
  );
});

Deno.test("evaluation: operators against each sink type", () => {
  const trend = new TrendSink();
  for (const v of [1, 2, 3, 4]) trend.add(v);
  const agg = (s: string, sink: Sink = trend) =>
    thresholdAggregate(sink, parseThresholdExpression(s), 2000);
  assertEquals(agg("avg<0"), 2.5);
  assertEquals(agg("min<0"), 1);
  assertEquals(agg("max<0"), 4);
  assertEquals(agg("med<0"), 2.5);
  assertEquals(agg("p(90)<0"), 3.7);
  const counter = new CounterSink();
  counter.add(10);
  assertEquals(agg("count<0", counter), 10);
  assertEquals(agg("rate<0", counter), 5);
  assertEquals(thresholdAggregate(counter, parseThresholdExpression("rate<1"), 0), undefined);
  const gauge = new GaugeSink();
  gauge.add(3);
  gauge.add(1);
  assertEquals(agg("value<0", gauge), 1);
  const rate = new RateSink();
  assertEquals(agg("rate<0", rate), undefined);
  rate.add(1);
  rate.add(0);
  assertEquals(agg("rate<0", rate), 0.5);

  const t = (src: string, lhs: number) =>
    new MetricThreshold(cfg(src), parseThresholdExpression(src)).run(lhs);
  assert(t("avg<3", 2) && !t("avg<3", 3));
  assert(t("avg<=3", 3) && !t("avg<=3", 3.1));
  assert(t("avg>3", 4) && !t("avg>3", 3));
  assert(t("avg>=3", 3) && !t("avg>=3", 2));
  assert(t("avg==3", 3) && !t("avg==3", 2));
  assert(t("avg===3", 3) && !t("avg===3", 2));
  assert(t("avg!=3", 2) && !t("avg!=3", 3));
});

Deno.test("evaluation: empty sinks (final-run rules)", () => {
  const run = (src: string, sink: TrendSink | CounterSink | GaugeSink | RateSink) => {
    const th = new MetricThreshold(cfg(src), parseThresholdExpression(src));
    const set = new MetricThresholds("m", { metric: "m", tags: {} }, [th]);
    return set.run(sink, 1000);
  };
  // Empty trend: every aggregate is 0.
  assertEquals(run("avg>0", new TrendSink()), false);
  assertEquals(run("p(95)==0", new TrendSink()), true);
  // Empty counter: count 0, rate 0.
  assertEquals(run("count>0", new CounterSink()), false);
  assertEquals(run("rate>0", new CounterSink()), false);
  // Empty gauge: value 0.
  assertEquals(run("value>0", new GaugeSink()), false);
  // Empty rate metric: no value → pass.
  assertEquals(run("rate>0.99", new RateSink()), true);
});

Deno.test("abortOnFail and delayAbortEval", () => {
  const src = "rate>0.5";
  const mk = (delay?: number) =>
    new MetricThresholds("checks", { metric: "checks", tags: {} }, [
      new MetricThreshold(
        cfg(src, { abortOnFail: true, delayAbortEval: delay }),
        parseThresholdExpression(src),
      ),
    ]);
  const failing = new RateSink();
  failing.add(0);
  const noDelay = mk();
  assertEquals(noDelay.run(failing, 100), false);
  assert(noDelay.abort);
  const delayed = mk(10_000);
  delayed.run(failing, 10_000);
  assert(!delayed.abort, "delay not yet exceeded (strictly smaller required)");
  delayed.run(failing, 10_001);
  assert(delayed.abort);
  assertEquals(delayed.thresholds[0].delayAbortEval, "10000ms");
  assertEquals(delayed.thresholds[0].lastFailed, true);
});
