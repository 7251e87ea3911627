import { assertEquals } from "../../_assert.ts";
import { MetricRegistry } from "../../../lib/metrics/metric.ts";
import type { Sample } from "../../../lib/metrics/sample.ts";
import type { TagSet } from "../../../lib/metrics/tags.ts";
import cloudOutput from "../../../lib/output/cloud/mod.ts";
import { aggregateTrails, goFloat, goString, normalBounds } from "../../../lib/output/cloud/v1.ts";
import { cloudParams, pool } from "./_helpers.ts";
import { type FakeIngest, startFakeIngest } from "./_fake_ingest.ts";

const reg = new MetricRegistry();
const T = 1714557600000;

function trail(tags: TagSet, time: number, d: Partial<Record<string, number>>): Sample[] {
  const names = [
    "http_reqs",
    "http_req_duration",
    "http_req_blocked",
    "http_req_connecting",
    "http_req_tls_handshaking",
    "http_req_sending",
    "http_req_waiting",
    "http_req_receiving",
    "http_req_failed",
  ];
  const values: Record<string, number> = {
    http_reqs: 1,
    http_req_blocked: 0,
    http_req_connecting: 0,
    http_req_tls_handshaking: 0,
    http_req_sending: 0,
    http_req_receiving: 0,
    http_req_failed: 0,
    ...d,
  } as Record<string, number>;
  values.http_req_waiting ??= 0;
  values.http_req_duration = values.http_req_sending + values.http_req_waiting +
    values.http_req_receiving;
  return names.map((n) => ({ metric: reg.get(n)!, tags, time, value: values[n] }));
}

function env(ingest: FakeIngest, extra: Record<string, string> = {}) {
  return {
    K6_CLOUD_HOST: ingest.url,
    K6_CLOUD_TOKEN: "test-token",
    K6_CLOUD_API_VERSION: "1",
    K6_CLOUD_METRIC_PUSH_INTERVAL: "1h",
    ...extra,
  };
}

Deno.test("v1: goFloat formats like Go's 'g' shortest", () => {
  assertEquals(goFloat(1), "1");
  assertEquals(goFloat(120.5), "120.5");
  assertEquals(goFloat(1048576), "1.048576e+06");
  assertEquals(goFloat(1e6), "1e+06");
  assertEquals(goFloat(0.0001), "0.0001");
  assertEquals(goFloat(0.00001), "1e-05");
  assertEquals(goFloat(-2.5e-7), "-2.5e-07");
  assertEquals(goString("a&b<c>"), '"a\\u0026b\\u003cc\\u003e"');
});

Deno.test("v1: IQR bounds — interpolation below the algo threshold, select above", () => {
  const p = {
    minSamples: 0,
    skipOutlierDetection: false,
    algoThreshold: 75,
    radius: 0.25,
    coefLower: 1.5,
    coefUpper: 1.3,
  };
  // n=5 sorted [10,20,30,40,1000]: q(0.25): i=1 → 20; q(0.75): i=3 → 40; IQR=20
  assertEquals(normalBounds([1000, 30, 10, 40, 20], p), [20 - 30, 40 + 26]);
  // n=4: q(0.25): i=0.75 → 10+(20-10)*0.75 = 17.5 → 17; q(0.75): i=2.25 → 30+2.5 → 32
  assertEquals(normalBounds([10, 20, 30, 40], p), [17 - 22, 32 + 19]);
  // select: k = round(0.25*3) = 1 → 20, round(0.75*3)= round(2.25) = 2 → 30
  assertEquals(normalBounds([10, 20, 30, 40], { ...p, algoThreshold: 2 }), [20 - 15, 30 + 13]);
});

Deno.test("v1: unaggregated payloads (Point, Points for HTTP and iteration trails)", async () => {
  const ingest = await startFakeIngest();
  try {
    const out = await cloudOutput(
      cloudParams({ env: env(ingest, { K6_CLOUD_NO_COMPRESS: "true" }) }),
    );
    await out.start();
    const tags = pool.intern({ method: "GET", name: "https://x/?a&b", status: "200" });
    out.addMetricSamples([
      {
        metric: reg.get("vus")!,
        tags: pool.intern({ scenario: "default" }),
        time: T + 0.5,
        value: 10,
      },
      ...trail(tags, T + 1, {
        http_req_waiting: 120.25,
        http_req_sending: 0.05,
        http_req_receiving: 0.2,
      }),
      { metric: reg.get("data_sent")!, tags: pool.empty, time: T + 2, value: 100 },
      { metric: reg.get("data_received")!, tags: pool.empty, time: T + 2, value: 2000000 },
      { metric: reg.get("iteration_duration")!, tags: pool.empty, time: T + 2, value: 130 },
      { metric: reg.get("iterations")!, tags: pool.empty, time: T + 2, value: 1 },
    ]);
    await out.stop(null);
    assertEquals(ingest.received.errors, []);
    const push = ingest.received.v1Pushes[0];
    assertEquals(push.headers["content-encoding"], undefined);
    assertEquals(push.samples, [
      {
        type: "Point",
        metric: "vus",
        data: { time: "1714557600000500", type: "gauge", tags: { scenario: "default" }, value: 10 },
      },
      {
        type: "Points",
        metric: "http_req_li_all",
        data: {
          time: "1714557600001000",
          type: "counter",
          tags: { method: "GET", name: "https://x/?a&b", status: "200" },
          values: {
            http_reqs: 1,
            http_req_duration: 120.5,
            http_req_blocked: 0,
            http_req_connecting: 0,
            http_req_tls_handshaking: 0,
            http_req_sending: 0.05,
            http_req_waiting: 120.25,
            http_req_receiving: 0.2,
            http_req_failed: 0,
          },
        },
      },
      {
        type: "Points",
        metric: "iter_li_all",
        data: {
          time: "1714557600002000",
          type: "counter",
          tags: {},
          values: {
            data_sent: 100,
            data_received: 2000000,
            iteration_duration: 130,
            iterations: 1,
          },
        },
      },
    ]);
  } finally {
    await ingest.close();
  }
});

Deno.test("v1: aggregation with outliers sent raw, gzip, chunking by maxMetricSamplesPerPackage", async () => {
  const ingest = await startFakeIngest();
  try {
    const out = await cloudOutput(
      cloudParams({
        env: env(ingest, {
          K6_CLOUD_AGGREGATION_PERIOD: "3s",
          K6_CLOUD_AGGREGATION_MIN_SAMPLES: "3",
          K6_CLOUD_MAX_METRIC_SAMPLES_PER_PACKAGE: "2",
        }),
      }),
      { now: () => T + 20_000 },
    );
    await out.start();
    const tags = pool.intern({ method: "GET", status: "200" });
    const lone = pool.intern({ method: "POST", status: "200" });
    const samples: Sample[] = [];
    // waiting 10..14 ms, plus one 1000 ms outlier; connecting 0,0,5 for the min quirk
    [10, 11, 12, 13, 14, 1000].forEach((w, i) =>
      samples.push(
        ...trail(tags, T + 10 + i, {
          http_req_waiting: w,
          http_req_connecting: i === 2 ? 5 : 0,
          http_req_failed: i === 1 ? 1 : 0,
        }),
      )
    );
    samples.push(...trail(lone, T + 50, { http_req_waiting: 7 })); // below min samples
    out.addMetricSamples(samples);
    await out.stop(null);
    assertEquals(ingest.received.errors, []);
    const all = ingest.received.v1Pushes.flatMap((p) => p.samples);
    assertEquals(ingest.received.v1Pushes.map((p) => p.samples.length), [2, 2]);
    assertEquals(ingest.received.v1Pushes[0].headers["content-encoding"], "gzip");
    const agg = all.find((s) => s.type === "AggregatedPoints")!;
    const data = agg.data as Record<string, unknown>;
    assertEquals(data.time, "1714557601500000"); // bucket midpoint
    // req: Q1 = 11.25, Q3 = 13.75 → bounds [7.5, 17] ms: 1000 ms is an outlier;
    // conn: all 0 but one 5 → bounds [0, 0]: the 5 ms connect is an outlier too.
    assertEquals(data.count, 4);
    const values = data.values as Record<string, Record<string, number>>;
    assertEquals(values.http_req_failed, { count: 4, nz_count: 1 });
    assertEquals(values.http_req_waiting, { min: 10, max: 14, avg: 12 });
    const raw = all.filter((s) => s.type === "Points");
    assertEquals(raw.length, 3); // two outliers and the lone POST below aggregationMinSamples
    assertEquals(
      raw.map((s) => (s.data as { values: Record<string, number> }).values.http_req_waiting).sort(
        (a, b) => a - b,
      ),
      [7, 12, 1000],
    );
  } finally {
    await ingest.close();
  }
});

Deno.test("v1: the min quirk — zeros seen while the sum is 0 are forgotten", () => {
  const tags = pool.intern({ q: "1" });
  const trails = [0, 0, 5].map((c, i) => ({
    tags,
    time: T + i,
    values: new Map([["http_req_connecting", c], ["http_req_waiting", 1]]),
  }));
  const { aggregated } = aggregateTrails(trails, tags, T + 1500, {
    minSamples: 0,
    skipOutlierDetection: true,
    algoThreshold: 0,
    radius: 0,
    coefLower: 0,
    coefUpper: 0,
  });
  const data = JSON.parse(aggregated!).data;
  assertEquals(data.values.http_req_connecting, { min: 5, max: 5, avg: 5 / 3 });
  assertEquals(data.values.http_req_failed, undefined);
});
