import { assertEquals } from "../_assert.ts";
import type { SummaryData, SummaryMetric } from "../../lib/summary/data.ts";
import { summaryReport } from "../../lib/summary/data.ts";
import {
  humanizeBytes,
  humanizeDuration,
  humanizeValue,
  metricSection,
  renderTextSummary,
} from "../../lib/summary/text.ts";

const specExample = [
  "",
  "  █ THRESHOLDS ",
  "",
  "    http_req_duration",
  "    ✓ 'p(95)<500' p(95)=30.25ms",
  "",
  "      {status:200}",
  "      ✓ 'p(99)<100' p(99)=70ms",
  "",
  "    http_req_failed",
  "    ✗ 'rate<0.01' rate=2.00%",
  "",
  "",
  "  █ TOTAL RESULTS ",
  "",
  "    checks_total.......: 200    19.9/s",
  "    checks_succeeded...: 99.00% 198 out of 200",
  "    checks_failed......: 1.00%  2 out of 200",
  "",
  "    ✗ status is 200",
  "      ↳  98% — ✓ 98 / ✗ 2",
  "    ✓ body not empty",
  "",
  "    CUSTOM",
  "    my_counter.....................: 3      0.298/s",
  "",
  "    HTTP",
  "    http_req_duration..............: avg=12.5ms min=1.2ms med=10ms  max=80.4ms p(90)=20.1ms p(95)=30.25ms",
  "      { expected_response:true }...: avg=12.1ms min=1.2ms med=10ms  max=80.4ms p(90)=20.1ms p(95)=30.25ms",
  "      { status:200 }...............: avg=12.1ms min=1.2ms med=10ms  max=80.4ms p(90)=20.1ms p(95)=30.25ms",
  "    http_req_failed................: 2.00%  2 out of 100",
  "    http_reqs......................: 100    9.95/s",
  "",
  "    EXECUTION",
  "    iteration_duration.............: avg=1.01s  min=1s    med=1.01s max=1.08s  p(90)=1.02s  p(95)=1.03s  ",
  "    iterations.....................: 100    9.95/s",
  "    vus............................: 10     min=10       max=10",
  "    vus_max........................: 10     min=10       max=10",
  "",
  "    NETWORK",
  "    data_received..................: 1.2 MB 123 kB/s",
  "    data_sent......................: 8.7 kB 866 B/s",
  "",
  "",
].join("\n");

const stats = ["avg", "min", "med", "max", "p(90)", "p(95)"];
const httpTrend = (avg: number): SummaryMetric => ({
  type: "trend",
  contains: "time",
  values: { avg, min: 1.2, med: 10, max: 80.4, "p(90)": 20.1, "p(95)": 30.25 },
});

/** Synthetic data reproducing runner.md §8.3's example. */
function exampleData(): SummaryData {
  const sub = httpTrend(12.1);
  Object.defineProperty(sub.values, "p(99)", { value: 70, enumerable: false });
  sub.thresholds = { "p(99)<100": { ok: true } };
  const data: SummaryData = {
    root_group: {
      name: "",
      path: "",
      id: "d41d8cd98f00b204e9800998ecf8427e",
      groups: [],
      checks: [
        { name: "status is 200", path: "::status is 200", id: "x", passes: 98, fails: 2 },
        { name: "body not empty", path: "::body not empty", id: "y", passes: 100, fails: 0 },
      ],
    },
    options: { summaryTrendStats: stats, summaryTimeUnit: "", noColor: true },
    state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: (200 / 19.9) * 1000 },
    metrics: {
      checks: {
        type: "rate",
        contains: "default",
        values: { rate: 0.99, passes: 198, fails: 2 },
      },
      my_counter: { type: "counter", contains: "default", values: { count: 3, rate: 0.298 } },
      http_req_duration: { ...httpTrend(12.5), thresholds: { "p(95)<500": { ok: true } } },
      "http_req_duration{expected_response:true}": httpTrend(12.1),
      "http_req_duration{status:200}": sub,
      http_req_failed: {
        type: "rate",
        contains: "default",
        values: { rate: 0.02, passes: 2, fails: 98 },
        thresholds: { "rate<0.01": { ok: false } },
      },
      http_reqs: { type: "counter", contains: "default", values: { count: 100, rate: 9.95 } },
      http_req_waiting: httpTrend(3),
      group_duration: httpTrend(3),
      iteration_duration: {
        type: "trend",
        contains: "time",
        values: { avg: 1010, min: 1000, med: 1010, max: 1080, "p(90)": 1020, "p(95)": 1030 },
      },
      iterations: { type: "counter", contains: "default", values: { count: 100, rate: 9.95 } },
      vus: { type: "gauge", contains: "default", values: { value: 10, min: 10, max: 10 } },
      vus_max: { type: "gauge", contains: "default", values: { value: 10, min: 10, max: 10 } },
      data_received: {
        type: "counter",
        contains: "data",
        values: { count: 1_200_000, rate: 123_000 },
      },
      data_sent: { type: "counter", contains: "data", values: { count: 8700, rate: 866 } },
    },
  };
  return data;
}

Deno.test("text summary reproduces the spec example byte for byte", () => {
  const text = renderTextSummary(exampleData(), { mode: "compact", color: false });
  assertEquals(text, specExample);
});

Deno.test("text summary uses the engine's merged check order when attached", () => {
  const data = exampleData();
  Object.defineProperty(data, summaryReport, {
    value: { checks: [{ name: "body not empty", passes: 100, fails: 0 }] },
    enumerable: false,
  });
  const text = renderTextSummary(data, { mode: "compact", color: false });
  assertEquals(text.includes("    ✓ body not empty\n\n    CUSTOM"), true);
  assertEquals(text.includes("status is 200"), false);
});

Deno.test("text summary colours: cyan values, faint dots, bold titles, green/red marks", () => {
  const text = renderTextSummary(exampleData(), { mode: "compact", color: true });
  assertEquals(text.includes("  █ \x1b[1mTHRESHOLDS\x1b[0m \n"), true);
  assertEquals(text.includes("    \x1b[31m✗ status is 200\x1b[0m\n"), true);
  assertEquals(text.includes("    \x1b[32m✓ body not empty\x1b[0m"), true);
  assertEquals(
    text.includes(
      "    my_counter\x1b[2;37m.....................:\x1b[0m \x1b[36m3\x1b[0m      " +
        "\x1b[2;36m0.298/s\x1b[0m",
    ),
    true,
  );
  assertEquals(
    text.includes(
      "    \x1b[32m✓\x1b[0m \x1b[37m'p(95)<500'\x1b[0m \x1b[37mp(95)\x1b[0m=\x1b[36m30.25ms\x1b[0m",
    ),
    true,
  );
});

Deno.test("full mode shows the http_req timing breakdown; compact hides it", () => {
  const compact = renderTextSummary(exampleData(), { mode: "compact", color: false });
  const full = renderTextSummary(exampleData(), { mode: "full", color: false });
  assertEquals(compact.includes("http_req_waiting"), false);
  assertEquals(full.includes("    http_req_waiting...............: avg=3ms"), true);
  assertEquals(full.includes("group_duration"), false);
});

Deno.test("metric classification by name prefix", () => {
  assertEquals(metricSection("my_counter", "compact"), "custom");
  assertEquals(metricSection("http_req_duration{status:200}", "compact"), "http");
  assertEquals(metricSection("http_req_blocked", "compact"), undefined);
  assertEquals(metricSection("http_req_blocked", "full"), "http");
  assertEquals(metricSection("checks", "full"), undefined);
  assertEquals(metricSection("checks_custom", "full"), undefined); // prefix match, as k6
  assertEquals(metricSection("dropped_iterations", "compact"), "execution");
  assertEquals(metricSection("data_sent", "compact"), "network");
  assertEquals(metricSection("browser_web_vital_lcp", "compact"), "web_vitals");
  assertEquals(metricSection("browser_http_req_duration", "compact"), "browser");
  assertEquals(metricSection("grpc_req_duration", "compact"), "grpc");
  assertEquals(metricSection("ws_ping", "compact"), "websocket");
});

Deno.test("time formatting table", () => {
  const table: Array<[number, string]> = [
    [0, "0s"],
    [0.0005, "500ns"],
    [0.0000015, "1ns"],
    [0.5, "500µs"],
    [0.12345, "123.45µs"],
    [0.123456, "123.45µs"],
    [1, "1ms"],
    [12.3456, "12.34ms"],
    [999.999, "999.99ms"],
    [1000, "1s"],
    [1234.5678, "1.23s"],
    [59999, "59.99s"],
    [60000, "1m0s"],
    [61500, "1m1s"], // seconds truncated above a minute,
    [90000, "1m30s"],
    [3_600_000, "1h0m0s"],
    [3_723_000, "1h2m3s"],
  ];
  for (const [ms, want] of table) assertEquals(humanizeDuration(ms), want, `${ms}ms`);
  assertEquals(humanizeDuration(1234.5678, "s"), "1.23s");
  assertEquals(humanizeDuration(1234.5678, "ms"), "1234.57ms");
  assertEquals(humanizeDuration(1.5, "us"), "1500.00µs");
  assertEquals(humanizeDuration(0, "ms"), "0.00ms");
});

Deno.test("data formatting table", () => {
  const table: Array<[number, string]> = [
    [0, "0 B"],
    [9, "9 B"],
    [10, "10 B"],
    [999, "999 B"],
    [1000, "1.0 kB"],
    [1049, "1.0 kB"],
    [1050, "1.1 kB"],
    [8700, "8.7 kB"],
    [99_949, "100 kB"], // 99.9 rounds, then no decimals at >= 10,
    [123_000, "123 kB"],
    [1_200_000, "1.2 MB"],
    [5_000_000_000, "5.0 GB"],
  ];
  for (const [b, want] of table) assertEquals(humanizeBytes(b), want, `${b} bytes`);
});

Deno.test("rate and plain number formatting", () => {
  const rate = { type: "rate", contains: "default" };
  assertEquals(humanizeValue(0.99999, rate), "99.99%");
  assertEquals(humanizeValue(0.02, rate), "2.00%");
  assertEquals(humanizeValue(1, rate), "100.00%");
  assertEquals(humanizeValue(0, rate), "0.00%");
  const plain = { type: "counter", contains: "default" };
  assertEquals(humanizeValue(3, plain), "3");
  assertEquals(humanizeValue(0.2985074626865672, plain), "0.298507");
  assertEquals(humanizeValue(19.900000000000002, plain), "19.9");
  assertEquals(humanizeValue(1 / 3, plain), "0.333333");
});

Deno.test("a report with a single metric prints no dots (k6 quirk)", () => {
  const data = exampleData();
  data.metrics = {
    iterations: { type: "counter", contains: "default", values: { count: 1, rate: 1 } },
  };
  data.root_group.checks = [];
  const text = renderTextSummary(data, { mode: "compact", color: false });
  assertEquals(text, "\n  █ TOTAL RESULTS \n\n    EXECUTION\n    iterations: 1 1/s\n\n");
});

Deno.test("summaryTimeUnit and count trend stat", () => {
  const data = exampleData();
  data.metrics = {
    a_trend: {
      type: "trend",
      contains: "time",
      values: { count: 12, "p(99)": 1234.5 },
    },
    iterations: { type: "counter", contains: "default", values: { count: 1, rate: 1 } },
  };
  data.root_group.checks = [];
  const text = renderTextSummary(data, {
    mode: "compact",
    color: false,
    trendStats: ["count", "p(99)"],
    timeUnit: "s",
  });
  assertEquals(
    text,
    "\n  █ TOTAL RESULTS \n\n    CUSTOM\n    a_trend......: count=12 p(99)=1.23s\n\n" +
      "    EXECUTION\n    iterations...: 1 1/s\n\n",
  );
});
