import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertStringIncludes,
  assertThrows,
} from "../_assert.ts";
import { SpateError } from "../../lib/errors.ts";
import prometheusRW, {
  decodeWriteRequest,
  nativeBucketIndex,
  parsePrometheusRWConfig,
  type PromTimeSeries,
  trendStatSuffix,
} from "../../lib/output/prometheus_rw.ts";
import { snappyUncompress } from "../../lib/output/_snappy_rw.ts";
import type { Output } from "../../lib/output/types.ts";
import { startPrometheus } from "./_prometheus.ts";
import { captureLogger, outputParams, syntheticSamples } from "./_services_fixture.ts";

const NAME = "experimental-prometheus-rw";

async function run(env: Record<string, string>, jsonConfig?: unknown) {
  const { logger, lines } = captureLogger();
  const output = await prometheusRW(outputParams(NAME, env, logger, { jsonConfig }));
  const { samples } = syntheticSamples();
  await output.start();
  output.addMetricSamples(samples);
  await output.stop(null);
  return { output, lines, samples };
}

/** A local endpoint that records every request (headers + decoded WriteRequest). */
function captureServer(status = 200, reply = "") {
  const requests: { headers: Headers; body: Uint8Array; series: PromTimeSeries[] }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    const series = decodeWriteRequest(snappyUncompress(body)).timeseries;
    requests.push({ headers: req.headers, body, series });
    // Echo the Authorization header back, as a careless server might, to test redaction.
    return new Response(reply + (req.headers.get("authorization") ?? ""), { status });
  });
  const url = `http://127.0.0.1:${server.addr.port}/api/v1/write`;
  return { server, url, requests };
}

function labelsOf(ts: PromTimeSeries): Record<string, string> {
  return Object.fromEntries(ts.labels.map((l) => [l.name, l.value]));
}

Deno.test("prometheus-rw config: defaults match k6", () => {
  const cfg = parsePrometheusRWConfig({ env: {} });
  assertEquals(cfg.url, "http://localhost:9090/api/v1/write");
  assertEquals(cfg.pushInterval, 5000);
  assertEquals(cfg.trendStats, ["p(99)"]);
  assertEquals(cfg.trendAsNativeHistogram, false);
  assertEquals(cfg.staleMarkers, false);
  assertEquals(cfg.insecureSkipTLSVerify, false);
  assertEquals(cfg.tlsMinVersion, "1.3");
  assertEquals(cfg.headers, {});
});

Deno.test("prometheus-rw config: JSON < env, headers, features, legacy native flag warns", () => {
  const warnings: string[] = [];
  const cfg = parsePrometheusRWConfig({
    jsonConfig: {
      url: "http://json:9090/api/v1/write",
      pushInterval: "2s",
      trendStats: ["avg", "p(95)"],
      headers: { "X-From-Json": "1", "X-Both": "json" },
      username: "jsonuser",
      staleMarkers: true,
    },
    env: {
      K6_PROMETHEUS_RW_SERVER_URL: "http://env:9090/api/v1/write",
      K6_PROMETHEUS_RW_TREND_STATS: "p(99.9),max,count",
      K6_PROMETHEUS_RW_HTTP_HEADERS: "X-Both:env-list,X-List:a",
      "K6_PROMETHEUS_RW_HEADERS_X-Both": "env-single",
      K6_PROMETHEUS_RW_INSECURE_SKIP_TLS_VERIFY: "T",
      K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM: "true",
      K6_PROMETHEUS_RW_TLS_MINIMUM_VERSION: "1.2",
    },
  }, (m) => warnings.push(m));
  assertEquals(cfg.url, "http://env:9090/api/v1/write");
  assertEquals(cfg.pushInterval, 2000);
  assertEquals(cfg.trendStats, ["p(99.9)", "max", "count"]);
  // HEADERS_<Name> first, HTTP_HEADERS over them, as k6 does.
  assertEquals(cfg.headers, { "X-From-Json": "1", "X-Both": "env-list", "X-List": "a" });
  assertEquals(cfg.username, "jsonuser");
  assertEquals(cfg.staleMarkers, true);
  assertEquals(cfg.insecureSkipTLSVerify, true);
  assertEquals(cfg.trendAsNativeHistogram, true);
  assertEquals(cfg.tlsMinVersion, "1.2");
  assertEquals(warnings.length, 1);
  assertStringIncludes(warnings[0], "K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM is deprecated");
  assert(
    parsePrometheusRWConfig({ env: { K6_FEATURES: "x,native-histograms" } })
      .trendAsNativeHistogram,
  );
  assertEquals(
    parsePrometheusRWConfig({ env: { K6_PROMETHEUS_RW_PUSH_INTERVAL: "1m30s" } }).pushInterval,
    90_000,
  );
});

Deno.test("prometheus-rw config: errors name the field and value", () => {
  const cases: [Record<string, string>, string][] = [
    [
      { K6_PROMETHEUS_RW_STALE_MARKERS: "yes" },
      'invalid boolean "yes" for K6_PROMETHEUS_RW_STALE_MARKERS',
    ],
    [
      { K6_PROMETHEUS_RW_TREND_STATS: "p(99),p95" },
      'invalid trend stat "p95" for K6_PROMETHEUS_RW_TREND_STATS',
    ],
    [{ K6_PROMETHEUS_RW_TREND_STATS: "p(101)" }, 'invalid trend stat "p(101)"'],
    [
      { K6_PROMETHEUS_RW_PUSH_INTERVAL: "5x" },
      'invalid duration "5x" for K6_PROMETHEUS_RW_PUSH_INTERVAL',
    ],
    [{ K6_PROMETHEUS_RW_SERVER_URL: "not a url" }, 'invalid url "not a url"'],
    [{ K6_PROMETHEUS_RW_SERVER_URL: "ftp://h/x" }, "the scheme must be http or https"],
    [{ K6_PROMETHEUS_RW_SIGV4_REGION: "eu-west-1" }, "must all be set, or none"],
    [{
      K6_PROMETHEUS_RW_SIGV4_REGION: "r",
      K6_PROMETHEUS_RW_SIGV4_ACCESS_KEY: "a",
      K6_PROMETHEUS_RW_SIGV4_SECRET_KEY: "s",
    }, "SigV4 authentication"],
  ];
  for (const [env, text] of cases) {
    const err = assertThrows(() => parsePrometheusRWConfig({ env }), SpateError);
    assertEquals((err as SpateError).exitCode, 104);
    assertStringIncludes((err as SpateError).message, text);
  }
});

Deno.test("prometheus-rw naming helpers: stat suffixes and native bucket indexes", () => {
  assertEquals(trendStatSuffix("p(99)"), "p99");
  assertEquals(trendStatSuffix("p(99.9)"), "p999");
  assertEquals(trendStatSuffix("med"), "med");
  // Schema 3: bucket i holds (2^((i-1)/8), 2^(i/8)].
  assertEquals(nativeBucketIndex(1), 0);
  assertEquals(nativeBucketIndex(2), 8);
  assertEquals(nativeBucketIndex(1.05), 1);
  assertEquals(nativeBucketIndex(0.5), -8);
  assertEquals(nativeBucketIndex(0.3), -13); // 2^(-14/8)=0.297 < 0.3 <= 2^(-13/8)=0.324
});

Deno.test("prometheus-rw wire: headers, snappy protobuf WriteRequest, names, labels, values", async () => {
  const cap = captureServer();
  try {
    const { output } = await run({
      K6_PROMETHEUS_RW_SERVER_URL: cap.url,
      K6_PROMETHEUS_RW_TREND_STATS: "p(99),avg,count,med,min,max,sum,p(90)",
      "K6_PROMETHEUS_RW_HEADERS_X-Scope-OrgID": "tenant1",
      K6_PROMETHEUS_RW_USERNAME: "alice",
      K6_PROMETHEUS_RW_PASSWORD: "pa55word",
      K6_PROMETHEUS_RW_STALE_MARKERS: "true",
    });
    assertEquals(output.stats!(), { droppedSamples: 0 });
    assertEquals(cap.requests.length, 2); // final flush + stale markers
    const [data, stale] = cap.requests;
    const h = data.headers;
    assertEquals(h.get("content-type"), "application/x-protobuf");
    assertEquals(h.get("content-encoding"), "snappy");
    assertEquals(h.get("x-prometheus-remote-write-version"), "0.1.0");
    assertEquals(h.get("user-agent"), "k6-prometheus-rw-output");
    assertEquals(h.get("x-scope-orgid"), "tenant1");
    assertEquals(h.get("authorization"), `Basic ${btoa("alice:pa55word")}`);

    const byName = new Map<string, PromTimeSeries[]>();
    for (const ts of data.series) {
      const names = ts.labels.map((l) => l.name);
      assertEquals(names, [...names].sort(), "labels sorted by name");
      const name = labelsOf(ts).__name__;
      byName.set(name, [...(byName.get(name) ?? []), ts]);
    }
    const value = (name: string, match: Record<string, string> = {}) => {
      const found = (byName.get(name) ?? []).filter((ts) =>
        Object.entries(match).every(([k, v]) => labelsOf(ts)[k] === v)
      );
      assertEquals(found.length, 1, `one series ${name} ${JSON.stringify(match)}`);
      assertEquals(found[0].samples.length, 1);
      return found[0].samples[0].value;
    };
    assertEquals(value("k6_http_reqs_total", { method: "GET" }), 3);
    assertEquals(value("k6_http_reqs_total", { method: "POST" }), 2);
    assertEquals(value("k6_vus"), 3);
    assertEquals(value("k6_checks_rate"), 0.75);
    assertEquals(value("k6_data_received_total"), 1234.5);
    assertAlmostEquals(value("k6_http_req_duration_p99"), 0.496, 1e-12);
    assertAlmostEquals(value("k6_http_req_duration_p90"), 0.46, 1e-12);
    assertAlmostEquals(value("k6_http_req_duration_avg"), 0.3, 1e-12);
    assertAlmostEquals(value("k6_http_req_duration_med"), 0.3, 1e-12);
    assertAlmostEquals(value("k6_http_req_duration_min"), 0.1, 1e-12);
    assertAlmostEquals(value("k6_http_req_duration_max"), 0.5, 1e-12);
    assertAlmostEquals(value("k6_http_req_duration_sum"), 1.5, 1e-12);
    // k6 quirk kept on purpose: count of a time trend is divided by 1000 too.
    assertAlmostEquals(value("k6_http_req_duration_count"), 0.005, 1e-12);
    assertAlmostEquals(value("k6_my_trend_p99"), 9.91, 1e-12);
    assertEquals(value("k6_my_trend_count"), 10);
    // Labels: tags with empty values dropped, metadata never sent.
    const get = byName.get("k6_http_req_duration_p99")![0];
    assertEquals(get.labels, [
      { name: "__name__", value: "k6_http_req_duration_p99" },
      { name: "method", value: "GET" },
      { name: "scenario", value: "default" },
      { name: "status", value: "200" },
    ]);
    // Timestamp = latest sample time of the series, truncated to ms.
    const { samples } = syntheticSamples(0);
    assert(samples.length > 0);
    const vus = byName.get("k6_vus")![0];
    assertEquals(vus.samples[0].timestamp % 1, 0);

    // Stale markers: every known series once, after the data, with the exact stale-NaN bits on
    // the wire (JS may quiet a signalling NaN once decoded, so the raw bytes are checked).
    assertEquals(stale.series.length, data.series.length);
    for (const ts of stale.series) {
      assert(Number.isNaN(ts.samples[0].value));
      assert(ts.samples[0].timestamp > vus.samples[0].timestamp);
    }
    const raw = snappyUncompress(stale.body);
    const pattern = [0x09, 0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f]; // field 1 (double), LE bits
    let found = 0;
    for (let i = 0; i + pattern.length <= raw.length; i++) {
      if (pattern.every((b, k) => raw[i + k] === b)) found++;
    }
    assertEquals(found, stale.series.length);
  } finally {
    await cap.server.shutdown();
  }
});

Deno.test("prometheus-rw e2e: real Prometheus stores counters, gauges, rates, trend stats", async () => {
  const prom = await startPrometheus();
  try {
    await run({
      K6_PROMETHEUS_RW_SERVER_URL: prom.writeUrl,
      K6_PROMETHEUS_RW_TREND_STATS: "p(99),avg,count",
    });
    const one = async (q: string) => {
      const r = await prom.query(q);
      assertEquals(r.length, 1, `${q}: ${JSON.stringify(r)}`);
      return { labels: r[0].metric, value: parseFloat(r[0].value![1]) };
    };
    assertEquals((await one('k6_http_reqs_total{method="GET"}')).value, 3);
    assertEquals((await one('k6_http_reqs_total{method="POST",status="201"}')).value, 2);
    assertEquals((await one("sum(k6_http_reqs_total)")).value, 5);
    assertEquals((await one("k6_vus")).value, 3);
    assertEquals((await one("k6_checks_rate")).value, 0.75);
    const p99 = await one("k6_http_req_duration_p99");
    assertAlmostEquals(p99.value, 0.496, 1e-9);
    assertEquals(p99.labels, {
      __name__: "k6_http_req_duration_p99",
      method: "GET",
      scenario: "default",
      status: "200",
    });
    assertAlmostEquals((await one("k6_http_req_duration_avg")).value, 0.3, 1e-9);
    assertAlmostEquals((await one("k6_my_trend_p99")).value, 9.91, 1e-9);
    assertEquals((await one('k6_checks_rate{check="status is 200"}')).value, 0.75);
  } finally {
    await prom.stop();
  }
});

Deno.test("prometheus-rw e2e: native histograms reach Prometheus", async () => {
  const prom = await startPrometheus({ nativeHistograms: true });
  try {
    const { lines } = await run({
      K6_PROMETHEUS_RW_SERVER_URL: prom.writeUrl,
      K6_FEATURES: "native-histograms",
    });
    assertEquals(lines.filter((l) => l.includes('"warning"')), []);
    const count = await prom.query("histogram_count(k6_http_req_duration_seconds)");
    assertEquals(count.length, 1, JSON.stringify(count));
    assertEquals(parseFloat(count[0].value![1]), 5);
    const sum = await prom.query("histogram_sum(k6_my_trend)");
    assertEquals(parseFloat(sum[0].value![1]), 55);
    const secSum = await prom.query("histogram_sum(k6_http_req_duration_seconds)");
    assertAlmostEquals(parseFloat(secSum[0].value![1]), 1.5, 1e-9);
    // Median of 0.1..0.5 s lies in the schema-3 bucket around 0.3 s.
    const med = await prom.query("histogram_quantile(0.5, k6_http_req_duration_seconds)");
    const m = parseFloat(med[0].value![1]);
    assert(m > 0.27 && m < 0.33, `median ${m}`);
    // No float stat series in native mode.
    assertEquals(await prom.query("k6_http_req_duration_p99"), []);
  } finally {
    await prom.stop();
  }
});

Deno.test("prometheus-rw: server down at start → logged, run continues, stats count", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const { output, lines, samples } = await run({
    K6_PROMETHEUS_RW_SERVER_URL: `http://127.0.0.1:${port}/api/v1/write`,
  });
  // k6 logs failed pushes at error level and carries on.
  const errors = lines.map((l) => JSON.parse(l)).filter((l) => l.level === "error");
  assertEquals(errors.length, 1);
  assertEquals(errors[0].msg, "Failed to send the time series data to the endpoint");
  assertStringIncludes(errors[0].error, "Connection refused");
  const stats = output.stats!();
  assertEquals(stats.droppedSamples, samples.length);
  assertStringIncludes(stats.note!, "1 of 1 pushes failed");
});

Deno.test("prometheus-rw: server gone mid-run is accounted in stats()", async () => {
  const cap = captureServer();
  const { logger } = captureLogger();
  const output: Output = await prometheusRW(outputParams(NAME, {
    K6_PROMETHEUS_RW_SERVER_URL: cap.url,
    K6_PROMETHEUS_RW_PUSH_INTERVAL: "50ms",
  }, logger));
  const { samples } = syntheticSamples();
  await output.start();
  try {
    output.addMetricSamples(samples.slice(0, 10));
    for (let i = 0; i < 100 && cap.requests.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assertEquals(cap.requests.length, 1);
    await cap.server.shutdown();
    output.addMetricSamples(samples.slice(10));
  } finally {
    await output.stop(null);
  }
  const stats = output.stats!();
  assertEquals(stats.droppedSamples, samples.length - 10);
  assertStringIncludes(stats.note!, "1 of 2 pushes failed");
});

Deno.test("prometheus-rw: credentials never in description(), logs or stats", async () => {
  const cap = captureServer(401, "unauthorized, you sent: ");
  try {
    const url = cap.url.replace("http://", "http://bob:hunter22@");
    const { output, lines } = await run({
      K6_PROMETHEUS_RW_SERVER_URL: url,
      "K6_PROMETHEUS_RW_HEADERS_X-Api-Key": "key-123456",
    });
    assertEquals(cap.requests[0].headers.get("authorization"), `Basic ${btoa("bob:hunter22")}`);
    assertEquals(output.description(), `Prometheus remote write (${cap.url})`);
    const text = output.description() + lines.join("\n") + JSON.stringify(output.stats!());
    assertStringIncludes(text, "got status code: 401");
    for (const secret of ["hunter22", btoa("bob:hunter22"), "key-123456"]) {
      assert(!text.includes(secret), `leaked ${secret}: ${text}`);
    }

    const bearer = await run({
      K6_PROMETHEUS_RW_SERVER_URL: cap.url,
      K6_PROMETHEUS_RW_BEARER_TOKEN: "tok-abcdef",
    });
    assertEquals(cap.requests[1].headers.get("authorization"), "Bearer tok-abcdef");
    const text2 = bearer.lines.join("\n") + JSON.stringify(bearer.output.stats!());
    assertStringIncludes(text2, "got status code: 401");
    assert(!text2.includes("tok-abcdef"), text2);
  } finally {
    await cap.server.shutdown();
  }
});

Deno.test("prometheus-rw https: insecureSkipTLSVerify reaches a self-signed server, else fails", async () => {
  const dir = new URL("../fixtures/tls/", import.meta.url);
  const cert = await Deno.readTextFile(new URL("selfsigned.crt", dir));
  const key = await Deno.readTextFile(new URL("selfsigned.key", dir));
  const bodies: Uint8Array[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert, key, onListen() {} },
    async (req) => {
      bodies.push(new Uint8Array(await req.arrayBuffer()));
      return new Response(null, { status: 204 });
    },
  );
  try {
    const url = `https://127.0.0.1:${server.addr.port}/api/v1/write`;
    const ok = await run({
      K6_PROMETHEUS_RW_SERVER_URL: url,
      K6_PROMETHEUS_RW_INSECURE_SKIP_TLS_VERIFY: "true",
    });
    assertEquals(ok.output.stats!(), { droppedSamples: 0 });
    assertEquals(bodies.length, 1);
    assert(decodeWriteRequest(snappyUncompress(bodies[0])).timeseries.length > 0);

    const refused = await run({ K6_PROMETHEUS_RW_SERVER_URL: url });
    assertEquals(bodies.length, 1, "an unverified certificate must not be accepted by default");
    assertEquals(refused.output.stats!().droppedSamples, refused.samples.length);
  } finally {
    await server.shutdown();
  }
});

Deno.test("prometheus-rw e2e: stale markers end every series in Prometheus", async () => {
  const prom = await startPrometheus();
  try {
    await run({
      K6_PROMETHEUS_RW_SERVER_URL: prom.writeUrl,
      K6_PROMETHEUS_RW_STALE_MARKERS: "true",
    });
    await new Promise((r) => setTimeout(r, 20)); // query after the marker's now+1ms timestamp
    assertEquals(await prom.query("k6_vus"), []);
    assertEquals(await prom.query("k6_http_reqs_total"), []);
    // The data point sent before the marker is still stored (one point per flush: the last
    // gauge value).
    const before = await prom.query("max_over_time(k6_vus[5m])");
    assertEquals(parseFloat(before[0].value![1]), 3);
  } finally {
    await prom.stop();
  }
});
