import { assert, assertEquals, assertStringIncludes } from "../../_assert.ts";
import { MetricRegistry } from "../../../lib/metrics/metric.ts";
import cloudOutput, { runStatusFor } from "../../../lib/output/cloud/mod.ts";
import type { TestRunError, Threshold } from "../../../lib/output/types.ts";
import { cloudParams, pool } from "./_helpers.ts";
import { type DecodedMetricSet, type FakeIngest, startFakeIngest } from "./_fake_ingest.ts";

const reg = new MetricRegistry();
const m = (name: string) => reg.get(name)!;
const T = 1714557600000; // 2024-05-01T10:00:00Z, a multiple of 3 s
const T_SEC = T / 1000;

function env(ingest: FakeIngest, extra: Record<string, string> = {}): Record<string, string> {
  return {
    K6_CLOUD_HOST: ingest.url,
    K6_CLOUD_TOKEN: "test-token",
    K6_CLOUD_METRIC_PUSH_INTERVAL: "1h", // tests drive pushes with flushNow()
    ...extra,
  };
}

const fast = { retryPauseMs: 5, now: () => T + 60_000 };

function series(set: DecodedMetricSet, name: string) {
  const metric = set.metrics?.find((x) => x.name === name);
  return metric?.timeSeries ?? [];
}

function allSeries(ingest: FakeIngest, name: string) {
  return ingest.received.pushes.flatMap((p) => series(p.metricSet, name));
}

Deno.test("cloud: create body, aggregated push bodies, finish with thresholds", async () => {
  const ingest = await startFakeIngest({ logs: [{ level: "warn", message: "hello from cloud" }] });
  try {
    const params = cloudParams({
      env: env(ingest, { K6_CLOUD_PROJECT_ID: "123" }),
      executionPlan: { maxVUs: 50, maxDurationSec: 330.7 },
    });
    const out = await cloudOutput(params, fast);
    const th: Threshold = { source: "p(95)<500", abortOnFail: false, lastFailed: false };
    const failing = { source: "rate>0.99", abortOnFail: false, lastFailed: false };
    out.setThresholds(
      new Map<string, Threshold[]>([["http_req_duration", [th]], ["checks", [failing]]]),
    );
    await out.start();
    assertEquals(out.description(), "cloud (https://app.k6.io/runs/1234)");
    assertEquals(ingest.received.creates[0].body, {
      name: "script.js",
      project_id: 123,
      vus: 50,
      thresholds: { http_req_duration: ["p(95)<500"], checks: ["rate>0.99"] },
      duration: 330,
    });
    assertStringIncludes(params.lines.join("\n"), "hello from cloud");

    const get = pool.intern({ method: "GET", status: "200", group: "", __internal: "x" });
    const post = pool.intern({ method: "POST", status: "201", group: "" });
    out.addMetricSamples([
      { metric: m("http_reqs"), tags: get, time: T + 10, value: 1 },
      { metric: m("http_reqs"), tags: get, time: T + 20, value: 1 },
      { metric: m("http_reqs"), tags: post, time: T + 30, value: 1 },
      { metric: m("http_reqs"), tags: get, time: T + 3010, value: 1 }, // next bucket
      { metric: m("vus"), tags: pool.empty, time: T + 100, value: 5 },
      { metric: m("vus"), tags: pool.empty, time: T + 200, value: -2 },
      { metric: m("vus"), tags: pool.empty, time: T + 300, value: 3 },
      { metric: m("checks"), tags: get, time: T + 40, value: 1 },
      { metric: m("checks"), tags: get, time: T + 50, value: 0 },
      { metric: m("checks"), tags: get, time: T + 60, value: 1 },
      { metric: m("http_req_duration"), tags: get, time: T + 10, value: 6 },
      { metric: m("http_req_duration"), tags: get, time: T + 20, value: 0.12 },
      { metric: m("http_req_duration"), tags: get, time: T + 30, value: 6.01 },
    ]);
    out.collectNow();
    await out.flushNow();
    assertEquals(ingest.received.errors, []);
    assertEquals(ingest.received.pushes.length, 1);
    const set = ingest.received.pushes[0].metricSet;
    assertEquals(set.testRunId, "1234");
    assertEquals(set.aggregationPeriod, 3);

    const reqs = series(set, "http_reqs");
    const getSeries = reqs.find((s) => s.labels?.some((l) => l.value === "GET"))!;
    // labels sorted, reserved __internal dropped, empty group kept
    assertEquals(getSeries.labels, [
      { name: "group" },
      { name: "method", value: "GET" },
      { name: "status", value: "200" },
    ]);
    assertEquals(getSeries.counterSamples?.values, [
      { time: { seconds: T_SEC }, value: 2 },
      { time: { seconds: T_SEC + 3 }, value: 1 },
    ]);
    const postSeries = reqs.find((s) => s.labels?.some((l) => l.value === "POST"))!;
    assertEquals(postSeries.counterSamples?.values, [{ time: { seconds: T_SEC }, value: 1 }]);

    assertEquals(series(set, "vus")[0].gaugeSamples?.values, [
      { time: { seconds: T_SEC }, last: 3, count: 3, min: -2, max: 5, avg: 2 },
    ]);
    assertEquals(series(set, "checks")[0].rateSamples?.values, [
      { time: { seconds: T_SEC }, nonzeroCount: 2, totalCount: 3 },
    ]);
    // 6 → 827, 0.12 → x=120 → 120, 6.01 → x=6010 → 640 + 187 = 827
    assertEquals(series(set, "http_req_duration")[0].trendHdrSamples?.values, [{
      time: { seconds: T_SEC },
      counters: [1, 2],
      spans: [{ offset: 120, length: 1 }, { offset: 706, length: 1 }],
      sum: 12.129999999999999,
      count: 3,
      minValue: 0.12,
      maxValue: 6.01,
      minResolution: 0.001,
    }]);
    assert(params.lines.some((l) => l.includes("Tag __internal has been discarded")));

    failing.lastFailed = true; // live-updated threshold objects
    await out.stop(null);
    assertEquals(ingest.received.finishes.length, 1);
    assertEquals(ingest.received.finishes[0].id, "1234");
    assertEquals(ingest.received.finishes[0].body, {
      result_status: 1,
      run_status: 3,
      thresholds: { http_req_duration: { "p(95)<500": false }, checks: { "rate>0.99": true } },
    });
    assertEquals(out.stats().droppedSamples, 0);
    assertEquals(ingest.received.errors, []);
  } finally {
    await ingest.close();
  }
});

Deno.test("cloud: wait period keeps recent buckets open; stop flushes them", async () => {
  const ingest = await startFakeIngest();
  let now = T + 5000;
  try {
    const out = await cloudOutput(cloudParams({ env: env(ingest) }), { ...fast, now: () => now });
    await out.start();
    out.addMetricSamples([{ metric: m("iterations"), tags: pool.empty, time: T + 1, value: 1 }]);
    out.collectNow(); // cutoff = floor((5000-8000)/3000) → bucket 0 stays open
    await out.flushNow();
    assertEquals(ingest.received.pushes.length, 0);
    now = T + 11_000; // floor(3000/3000) = 1 ≥ bucket id → closed
    out.collectNow();
    await out.flushNow();
    assertEquals(ingest.received.pushes.length, 1);
    out.addMetricSamples([{
      metric: m("iterations"),
      tags: pool.empty,
      time: T + 10_500,
      value: 4,
    }]);
    await out.stop(null);
    assertEquals(ingest.received.pushes.length, 2);
    assertEquals(
      series(ingest.received.pushes[1].metricSet, "iterations")[0].counterSamples?.values,
      [
        { time: { seconds: T_SEC + 9 }, value: 4 },
      ],
    );
    assertEquals(ingest.received.errors, []);
  } finally {
    await ingest.close();
  }
});

Deno.test("cloud: batches hold at most maxTimeSeriesInBatch series", async () => {
  const ingest = await startFakeIngest();
  try {
    const out = await cloudOutput(
      cloudParams({ env: env(ingest, { K6_CLOUD_MAX_TIME_SERIES_IN_BATCH: "3" }) }),
      fast,
    );
    await out.start();
    const samples = [];
    for (let i = 0; i < 7; i++) {
      const tags = pool.intern({ url: `/p${i}` });
      samples.push({ metric: m("http_reqs"), tags, time: T + 1, value: 1 });
      samples.push({ metric: m("http_reqs"), tags, time: T + 3001, value: 1 });
    }
    out.addMetricSamples(samples);
    await out.stop(null);
    const counts = ingest.received.pushes.map((p) =>
      (p.metricSet.metrics ?? []).reduce((n, x) => n + (x.timeSeries?.length ?? 0), 0)
    );
    // buckets are walked in order: bucket 0 fills 3+3+1, bucket 1 continues the open message
    assertEquals(counts, [3, 3, 3, 3, 2]);
    const values = ingest.received.pushes.flatMap((p) =>
      series(p.metricSet, "http_reqs").flatMap((ts) => ts.counterSamples?.values ?? [])
    );
    assertEquals(values.length, 14);
    // the message open when bucket 1 starts (p6 of bucket 0) is filled with bucket 1's series
    const third = series(ingest.received.pushes[2].metricSet, "http_reqs");
    assertEquals(
      third.map((ts) => [ts.labels?.[0].value, ts.counterSamples?.values?.[0].time]),
      [["/p6", { seconds: T_SEC }], ["/p0", { seconds: T_SEC + 3 }], ["/p1", {
        seconds: T_SEC + 3,
      }]],
    );
    assertEquals(ingest.received.errors, []);
  } finally {
    await ingest.close();
  }
});

Deno.test("cloud: retries 5xx and resets with the same idempotency key", async () => {
  const ingest = await startFakeIngest();
  try {
    const out = await cloudOutput(cloudParams({ env: env(ingest) }), fast);
    ingest.fail({ on: "create", mode: "5xx", times: 1 });
    await out.start();
    const creates = ingest.received.attempts.filter((a) => a.path === "/v1/tests");
    assertEquals(creates.length, 2);
    assertEquals(creates[0].key, creates[1].key);
    assert(/^[0-9a-f]{16}$/.test(creates[0].key!));

    ingest.fail({ on: "push", mode: "reset", times: 1 });
    ingest.fail({ on: "push", mode: "429", times: 1 });
    out.addMetricSamples([{ metric: m("iterations"), tags: pool.empty, time: T, value: 1 }]);
    out.collectNow();
    await out.flushNow();
    const pushes = ingest.received.attempts.filter((a) => a.path.startsWith("/v2/"));
    assertEquals(pushes.length, 3);
    assertEquals(new Set(pushes.map((p) => p.key)).size, 1);
    assertEquals(ingest.received.pushes.length, 1);
    await out.stop(null);
    // finish has its own key
    assert(ingest.received.finishes[0].key !== pushes[0].key);
    assertEquals(ingest.received.errors, []);
  } finally {
    await ingest.close();
  }
});

Deno.test("cloud: a slow server hits the timeout and the request is retried", async () => {
  const ingest = await startFakeIngest();
  try {
    const out = await cloudOutput(
      cloudParams({ env: env(ingest, { K6_CLOUD_TIMEOUT: "200ms" }) }),
      fast,
    );
    ingest.fail({ on: "create", mode: "slow", delayMs: 600, times: 1 });
    await out.start();
    assertEquals(ingest.received.creates.length, 1);
    await out.stop(null);
  } finally {
    await ingest.close();
  }
});

Deno.test("cloud: run_status for each abort reason", () => {
  const err = (abortReason?: TestRunError["abortReason"], exitCode = 105): TestRunError => ({
    message: "x",
    exitCode,
    abortReason,
  });
  assertEquals(runStatusFor(null), 3);
  assertEquals(runStatusFor(err("user")), 5);
  assertEquals(runStatusFor(err("script-abort", 108)), 5);
  assertEquals(runStatusFor(err("threshold", 99)), 8);
  assertEquals(runStatusFor(err("thresholds-after-end", 99)), 3);
  assertEquals(runStatusFor(err("script-error", 107)), 7);
  assertEquals(runStatusFor(err("timeout", 100)), 9);
  assertEquals(runStatusFor(err("output")), 6);
  assertEquals(runStatusFor(err(undefined, 255)), 6);
});

Deno.test("cloud: finish sends the mapped run_status", async () => {
  for (
    const [reason, code, status] of [
      ["user", 105, 5],
      ["threshold", 99, 8],
      ["script-error", 107, 7],
      ["timeout", 100, 9],
      ["output", 105, 6],
    ] as const
  ) {
    const ingest = await startFakeIngest();
    try {
      const out = await cloudOutput(cloudParams({ env: env(ingest) }), fast);
      await out.start();
      await out.stop({ message: "ended", exitCode: code, abortReason: reason });
      assertEquals(ingest.received.finishes[0].body.run_status, status, reason);
      assertEquals(ingest.received.finishes[0].body.result_status, 0);
    } finally {
      await ingest.close();
    }
  }
});

Deno.test("cloud: K6_CLOUD_PUSH_REF_ID — two outputs push into one run, no create/finish", async () => {
  const ingest = await startFakeIngest();
  try {
    const outs = await Promise.all(
      [0, 1].map(() =>
        cloudOutput(cloudParams({ env: env(ingest, { K6_CLOUD_PUSH_REF_ID: "777" }) }), fast)
      ),
    );
    for (const o of outs) await o.start();
    assertEquals(outs[0].description(), "cloud (https://app.k6.io/runs/777)");
    outs[0].addMetricSamples([{ metric: m("iterations"), tags: pool.empty, time: T, value: 1 }]);
    outs[1].addMetricSamples([{ metric: m("iterations"), tags: pool.empty, time: T, value: 2 }]);
    for (const o of outs) await o.stop(null);
    assertEquals(ingest.received.creates.length, 0);
    assertEquals(ingest.received.finishes.length, 0);
    assertEquals(ingest.received.pushes.map((p) => p.id), ["777", "777"]);
    const values = allSeries(ingest, "iterations").map((s) => s.counterSamples?.values?.[0].value);
    assertEquals(values.sort(), [1, 2]);
    assertEquals(ingest.received.errors, []);
  } finally {
    await ingest.close();
  }
});

Deno.test("cloud: K6_CLOUDRUN_TEST_RUN_ID in -e skips create but finishes", async () => {
  const ingest = await startFakeIngest();
  try {
    const out = await cloudOutput(
      cloudParams({ env: env(ingest), scriptEnv: { K6_CLOUDRUN_TEST_RUN_ID: "55" } }),
      fast,
    );
    await out.start();
    await out.stop(null);
    assertEquals(ingest.received.creates.length, 0);
    assertEquals(ingest.received.finishes[0].id, "55");
  } finally {
    await ingest.close();
  }
});

Deno.test("cloud: server 'aborted' (403/E4) stops pushing and, with stopOnError, the test", async () => {
  const ingest = await startFakeIngest();
  try {
    const out = await cloudOutput(
      cloudParams({ env: env(ingest, { K6_CLOUD_STOP_ON_ERROR: "true" }) }),
      fast,
    );
    const stops: TestRunError[] = [];
    out.setTestRunStopCallback((e) => stops.push(e));
    await out.start();
    ingest.fail({ on: "push", mode: "aborted" });
    out.addMetricSamples([{ metric: m("iterations"), tags: pool.empty, time: T, value: 1 }]);
    out.collectNow();
    await out.flushNow();
    assertEquals(stops.length, 1);
    assertEquals(stops[0].exitCode, 105);
    assertEquals(stops[0].abortReason, "output");
    assertStringIncludes(stops[0].message, "(403/E4) test run aborted");
    // 403 is not retried; later samples are ignored; no final flush
    out.addMetricSamples([{ metric: m("iterations"), tags: pool.empty, time: T, value: 1 }]);
    await out.stop(stops[0]);
    const pushAttempts = ingest.received.attempts.filter((a) => a.path.startsWith("/v2/"));
    assertEquals(pushAttempts.length, 1);
    assertEquals(ingest.received.finishes[0].body.run_status, 6);
    assertEquals(out.stats().droppedSamples, 1);
  } finally {
    await ingest.close();
  }
});

Deno.test("cloud: without stopOnError a server abort does not stop the test", async () => {
  const ingest = await startFakeIngest();
  try {
    const out = await cloudOutput(cloudParams({ env: env(ingest) }), fast);
    let stopped = false;
    out.setTestRunStopCallback(() => stopped = true);
    await out.start();
    ingest.fail({ on: "push", mode: "aborted" });
    out.addMetricSamples([{ metric: m("iterations"), tags: pool.empty, time: T, value: 1 }]);
    out.collectNow();
    await out.flushNow();
    await out.stop(null);
    assertEquals(stopped, false);
    assertStringIncludes(out.stats().note ?? "", "the cloud stopped accepting metrics");
  } finally {
    await ingest.close();
  }
});

Deno.test("cloud: network loss — keeps running, retries later, counts what is lost", async () => {
  const ingest = await startFakeIngest();
  try {
    const params = cloudParams({ env: env(ingest) });
    const out = await cloudOutput(params, fast);
    await out.start();
    ingest.fail({ on: "push", mode: "reset" });
    out.addMetricSamples([
      { metric: m("iterations"), tags: pool.empty, time: T, value: 1 },
      { metric: m("iterations"), tags: pool.empty, time: T + 1, value: 1 },
    ]);
    out.collectNow();
    await out.flushNow(); // 3 attempts, all reset
    assertEquals(ingest.received.pushes.length, 0);
    assertEquals(out.deliveryStats().pendingPayloads, 1);
    ingest.clearFaults(); // network back
    out.addMetricSamples([{ metric: m("iterations"), tags: pool.empty, time: T + 3000, value: 1 }]);
    out.collectNow();
    await out.flushNow();
    assertEquals(ingest.received.pushes.length, 2); // the old body retried, then the new one
    assertEquals(out.deliveryStats().deliveredSamples, 3);

    ingest.fail({ on: "push", mode: "5xx" }); // down again until the end
    out.addMetricSamples([
      { metric: m("http_reqs"), tags: pool.empty, time: T + 6000, value: 1 },
      { metric: m("vus"), tags: pool.empty, time: T + 6000, value: 1 },
    ]);
    await out.stop(null);
    assertEquals(out.stats().droppedSamples, 2);
    assertStringIncludes(out.stats().note ?? "", "2 samples (2 series values) not delivered");
    assert(params.lines.some((l) => l.includes("could not be delivered")));
    assertEquals(ingest.received.finishes.length, 1); // finish still made
  } finally {
    await ingest.close();
  }
});

Deno.test("cloud: the queue of undelivered bodies is bounded", async () => {
  const ingest = await startFakeIngest();
  try {
    const out = await cloudOutput(cloudParams({ env: env(ingest) }), {
      ...fast,
      maxPendingBytes: 1,
    });
    await out.start();
    ingest.fail({ on: "push", mode: "5xx" });
    for (let i = 0; i < 3; i++) {
      out.addMetricSamples([{
        metric: m("iterations"),
        tags: pool.empty,
        time: T + i * 3000,
        value: 1,
      }]);
      out.collectNow();
      await out.flushNow();
    }
    assertEquals(out.deliveryStats().pendingPayloads, 1);
    assertEquals(out.stats().droppedSamples, 2);
    await out.stop(null);
    assertEquals(out.stats().droppedSamples, 3);
  } finally {
    await ingest.close();
  }
});

Deno.test("cloud: stopOnError stops the test on a push error after retries", async () => {
  const ingest = await startFakeIngest();
  try {
    const out = await cloudOutput(
      cloudParams({ env: env(ingest, { K6_CLOUD_STOP_ON_ERROR: "1" }) }),
      fast,
    );
    const stops: TestRunError[] = [];
    out.setTestRunStopCallback((e) => stops.push(e));
    await out.start();
    ingest.fail({ on: "push", mode: "5xx" });
    out.addMetricSamples([{ metric: m("iterations"), tags: pool.empty, time: T, value: 1 }]);
    out.collectNow();
    await out.flushNow();
    assertEquals(stops.length, 1);
    assertStringIncludes(stops[0].message, "failed to push metrics to the cloud: (503/E0)");
    ingest.clearFaults();
    await out.stop(stops[0]);
  } finally {
    await ingest.close();
  }
});

Deno.test("cloud: server config override and testRunDetails", async () => {
  const ingest = await startFakeIngest({
    config: { aggregationPeriod: "6s", testRunDetails: "https://my.grafana.net/run/9" },
  });
  try {
    const out = await cloudOutput(cloudParams({ env: env(ingest) }), fast);
    await out.start();
    assertEquals(out.description(), "cloud (https://my.grafana.net/run/9)");
    assertEquals(out.config.aggregationPeriod, 6000);
    out.addMetricSamples([{ metric: m("iterations"), tags: pool.empty, time: T + 5000, value: 1 }]);
    await out.stop(null);
    const p = ingest.received.pushes[0].metricSet;
    assertEquals(p.aggregationPeriod, 6);
    assertEquals(series(p, "iterations")[0].counterSamples?.values?.[0].time, { seconds: T_SEC });
  } finally {
    await ingest.close();
  }
});

Deno.test("cloud: archive is uploaded as multipart when set", async () => {
  const ingest = await startFakeIngest();
  try {
    const out = await cloudOutput(cloudParams({ env: env(ingest) }), fast);
    out.setArchive(new Uint8Array([1, 2, 3]));
    await out.start();
    await out.stop(null);
    assertEquals(ingest.received.creates[0].body, {
      name: "script.js",
      project_id: 0,
      vus: 10,
      duration: 60,
    });
    assertEquals(ingest.received.creates[0].archive, new Uint8Array([1, 2, 3]));
    assertEquals(ingest.received.errors, []);
  } finally {
    await ingest.close();
  }
});

Deno.test("cloud: construction validates system tags and finite duration", async () => {
  let err: unknown;
  try {
    await cloudOutput(
      cloudParams({ env: { K6_CLOUD_TOKEN: "t" }, options: { systemTags: ["name", "status"] } }),
    );
  } catch (e) {
    err = e;
  }
  assertEquals(
    (err as Error).message,
    "the cloud output needs the following system tags enabled: method, error, check, group",
  );
  try {
    await cloudOutput(cloudParams({
      env: { K6_CLOUD_TOKEN: "t" },
      executionPlan: { maxVUs: 1, maxDurationSec: Infinity },
    }));
  } catch (e) {
    err = e;
  }
  assertEquals(
    (err as Error).message,
    "tests with unspecified duration are not allowed when outputting data to k6 cloud",
  );
});

Deno.test("cloud: invalid token → create fails with a clear error", async () => {
  const ingest = await startFakeIngest();
  try {
    const out = await cloudOutput(
      cloudParams({ env: env(ingest, { K6_CLOUD_TOKEN: "wrong" }) }),
      fast,
    );
    let msg = "";
    try {
      await out.start();
    } catch (e) {
      msg = (e as Error).message;
    }
    assertEquals(msg, "could not create the cloud test run: (401/E2) invalid token");
    assert(!msg.includes("wrong"));
    await out.stop(null);
  } finally {
    await ingest.close();
  }
});

Deno.test("cloud: token from the stored login (k6's config file when ours is absent)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/k6`);
    await Deno.writeTextFile(
      `${dir}/k6/config.json`,
      JSON.stringify({ collectors: { cloud: { token: "stored-token", projectID: 4 } } }),
    );
    const out = await cloudOutput(cloudParams({ env: { XDG_CONFIG_HOME: dir } }));
    assertEquals([out.config.token, out.config.projectID], ["stored-token", 4]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
