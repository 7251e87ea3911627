import { assert, assertEquals, assertStringIncludes, assertThrows } from "../_assert.ts";
import { SpateError } from "../../lib/errors.ts";
import openTelemetry, {
  experimentalOpenTelemetry,
  parseOpenTelemetryConfig,
  SPATE_VERSION,
} from "../../lib/output/opentelemetry.ts";
import type { Output, OutputFactory } from "../../lib/output/types.ts";
import { type FakeOtlp, startFakeOtlp } from "./_fake_otlp.ts";
import { captureLogger, outputParams, syntheticSamples } from "./_services_fixture.ts";

const DEFAULT_BUCKETS = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];
const CUMULATIVE = "AGGREGATION_TEMPORALITY_CUMULATIVE";

async function run(env: Record<string, string>, factory: OutputFactory = openTelemetry) {
  const { logger, lines } = captureLogger();
  const output = await factory(outputParams("opentelemetry", {
    K6_OTEL_FLUSH_INTERVAL: "20ms",
    K6_OTEL_EXPORT_INTERVAL: "1m",
    ...env,
  }, logger));
  const { samples } = syntheticSamples();
  await output.start();
  output.addMetricSamples(samples);
  await output.stop(null);
  return { output, lines, samples };
}

function httpEnv(otlp: FakeOtlp): Record<string, string> {
  return {
    K6_OTEL_EXPORTER_PROTOCOL: "http/protobuf",
    K6_OTEL_HTTP_EXPORTER_ENDPOINT: otlp.httpEndpoint,
    K6_OTEL_HTTP_EXPORTER_INSECURE: "true",
  };
}

// deno-lint-ignore no-explicit-any
type Json = any;

function attrs(list: Json[] | undefined): Record<string, string> {
  return Object.fromEntries((list ?? []).map((a) => [a.key, a.value.stringValue]));
}

/** Asserts the OTLP content of the fixed sample set (§4.3 mapping). */
function assertMapping(body: Json, prefix: string, serviceName: string) {
  assertEquals(body.resourceMetrics.length, 1);
  const rm = body.resourceMetrics[0];
  const resource = attrs(rm.resource.attributes);
  assertEquals(resource["service.name"], serviceName);
  assertEquals(resource["service.version"], SPATE_VERSION);
  assertEquals(resource["telemetry.sdk.language"], "nodejs"); // SDK default resource, merged
  assertEquals(rm.scopeMetrics.length, 1);
  assertEquals(rm.scopeMetrics[0].scope.name, "k6");
  const metrics = new Map<string, Json>(rm.scopeMetrics[0].metrics.map((m: Json) => [m.name, m]));
  assertEquals(
    [...metrics.keys()].sort(),
    [
      "checks.total",
      "data_received",
      "http_req_duration",
      "http_reqs",
      "my_trend",
      "vus",
    ].map((n) => prefix + n).sort(),
  );

  const reqs = metrics.get(prefix + "http_reqs");
  assertEquals(reqs.sum.isMonotonic, true);
  assertEquals(reqs.sum.aggregationTemporality, CUMULATIVE);
  const byMethod = Object.fromEntries(
    reqs.sum.dataPoints.map((p: Json) => [attrs(p.attributes).method, p]),
  );
  assertEquals(byMethod.GET.asDouble, 3);
  assertEquals(byMethod.POST.asDouble, 2);
  // Tags with empty values (group) are dropped; metadata (vu, iter) never sent.
  assertEquals(attrs(byMethod.GET.attributes), {
    method: "GET",
    scenario: "default",
    status: "200",
  });

  const vus = metrics.get(prefix + "vus");
  assertEquals(vus.gauge.dataPoints.length, 1);
  assertEquals(vus.gauge.dataPoints[0].asDouble, 3);
  assertEquals(vus.gauge.dataPoints[0].attributes ?? [], []);

  const checks = metrics.get(prefix + "checks.total");
  assertEquals(checks.sum.isMonotonic, true);
  assertEquals(checks.sum.aggregationTemporality, CUMULATIVE);
  const byCondition = Object.fromEntries(
    checks.sum.dataPoints.map((p: Json) => [attrs(p.attributes).condition, p]),
  );
  assertEquals(byCondition.nonzero.asInt, "3"); // Int64 counter
  assertEquals(byCondition.zero.asInt, "1");
  assertEquals(attrs(byCondition.zero.attributes), {
    check: "status is 200",
    condition: "zero",
    scenario: "default",
  });

  const dur = metrics.get(prefix + "http_req_duration");
  assertEquals(dur.unit, "ms");
  assertEquals(dur.histogram.aggregationTemporality, CUMULATIVE);
  assertEquals(dur.histogram.dataPoints.length, 1);
  const p = dur.histogram.dataPoints[0];
  assertEquals(p.count, "5");
  assertEquals(p.sum, 1500);
  assertEquals(p.min, 100);
  assertEquals(p.max, 500);
  assertEquals(p.explicitBounds, DEFAULT_BUCKETS);
  // 100 → (75,100], 200 → (100,250], 300/400/500 → (250,500].
  assertEquals(p.bucketCounts, [
    "0",
    "0",
    "0",
    "0",
    "0",
    "0",
    "1",
    "1",
    "3",
    "0",
    "0",
    "0",
    "0",
    "0",
    "0",
    "0",
  ]);

  const data = metrics.get(prefix + "data_received");
  assertEquals(data.unit, "By");
  assertEquals(data.sum.dataPoints[0].asDouble, 1234.5);
  const my = metrics.get(prefix + "my_trend");
  assertEquals(my.unit ?? "", "");
  assertEquals(my.histogram.dataPoints[0].count, "10");
  assertEquals(my.histogram.dataPoints[0].sum, 55);
}

Deno.test("opentelemetry config: defaults match k6", () => {
  const cfg = parseOpenTelemetryConfig({ env: {} });
  assertEquals(cfg.serviceName, "k6");
  assertEquals(cfg.serviceVersion, SPATE_VERSION);
  assertEquals(cfg.metricPrefix, "");
  assertEquals(cfg.flushInterval, 1000);
  assertEquals(cfg.exportInterval, 10_000);
  assertEquals(cfg.exporterProtocol, "grpc");
  assertEquals(cfg.httpExporterEndpoint, "localhost:4318");
  assertEquals(cfg.httpExporterURLPath, "/v1/metrics");
  assertEquals(cfg.grpcExporterEndpoint, "localhost:4317");
  assertEquals(cfg.httpExporterInsecure, false);
  assertEquals(cfg.grpcExporterInsecure, false);
  assertEquals(cfg.headers, {});
});

Deno.test("opentelemetry config: JSON < OTEL_SERVICE_NAME < K6_OTEL_*, headers, legacy type", () => {
  const warnings: string[] = [];
  const json = {
    serviceName: "from-json",
    metricPrefix: "json_",
    flushInterval: "3s",
    exportInterval: 2000,
    headers: { "X-Json": "1" },
    httpExporterURLPath: "/custom",
  };
  const a = parseOpenTelemetryConfig({ jsonConfig: json, env: { OTEL_SERVICE_NAME: "otel" } });
  assertEquals(a.serviceName, "otel");
  assertEquals(a.metricPrefix, "json_");
  assertEquals(a.flushInterval, 3000);
  assertEquals(a.exportInterval, 2000);
  assertEquals(a.headers, { "X-Json": "1" });
  assertEquals(a.httpExporterURLPath, "/custom");
  const b = parseOpenTelemetryConfig({
    jsonConfig: json,
    env: {
      OTEL_SERVICE_NAME: "otel",
      K6_OTEL_SERVICE_NAME: "k6env",
      K6_OTEL_HEADERS: "X-Api-Key=a%3Db,Other%20Name=v%2Cw",
      K6_OTEL_EXPORTER_TYPE: "http",
      K6_OTEL_FLUSH_INTERVAL: "250ms",
      K6_OTEL_GRPC_EXPORTER_INSECURE: "1",
    },
  }, (m) => warnings.push(m));
  assertEquals(b.serviceName, "k6env");
  assertEquals(b.headers, { "X-Api-Key": "a=b", "Other Name": "v,w" });
  assertEquals(b.exporterProtocol, "http/protobuf");
  assertEquals(b.flushInterval, 250);
  assertEquals(b.grpcExporterInsecure, true);
  assertEquals(warnings.length, 1);
  assertStringIncludes(warnings[0], "K6_OTEL_EXPORTER_TYPE is deprecated");
  // K6_OTEL_EXPORTER_PROTOCOL wins over the legacy variable.
  assertEquals(
    parseOpenTelemetryConfig({
      env: { K6_OTEL_EXPORTER_TYPE: "http", K6_OTEL_EXPORTER_PROTOCOL: "grpc" },
    }).exporterProtocol,
    "grpc",
  );
});

Deno.test("opentelemetry config: errors name the field and value", () => {
  const cases: [Record<string, string>, string][] = [
    [
      { K6_OTEL_EXPORTER_PROTOCOL: "http/json" },
      'error validating OpenTelemetry output config: unsupported exporter protocol "http/json"',
    ],
    [{ K6_OTEL_SERVICE_NAME: "" }, "providing service name is required"],
    [{ K6_OTEL_EXPORTER_TYPE: "udp" }, 'invalid K6_OTEL_EXPORTER_TYPE "udp"'],
    [{ K6_OTEL_FLUSH_INTERVAL: "soon" }, 'invalid duration "soon" for K6_OTEL_FLUSH_INTERVAL'],
    [{ K6_OTEL_EXPORT_INTERVAL: "0s" }, "K6_OTEL_EXPORT_INTERVAL must be positive, got 0ms"],
    [
      { K6_OTEL_HTTP_EXPORTER_INSECURE: "nope" },
      'invalid boolean "nope" for K6_OTEL_HTTP_EXPORTER_INSECURE',
    ],
    [{ K6_OTEL_HEADERS: "novalue" }, 'invalid K6_OTEL_HEADERS entry "novalue"'],
    [
      {
        K6_OTEL_EXPORTER_PROTOCOL: "http/protobuf",
        K6_OTEL_HTTP_EXPORTER_ENDPOINT: "http://h:4318",
      },
      "HTTP exporter endpoint must only be host and port, no scheme",
    ],
  ];
  for (const [env, text] of cases) {
    const err = assertThrows(() => parseOpenTelemetryConfig({ env }), SpateError);
    assertEquals(err.exitCode, 104);
    assertStringIncludes(err.message, text);
  }
});

Deno.test("opentelemetry e2e http/protobuf: names, types, attributes, temporality, values", async () => {
  const otlp = await startFakeOtlp();
  try {
    const { output, lines } = await run({
      ...httpEnv(otlp),
      K6_OTEL_METRIC_PREFIX: "k6_",
      K6_OTEL_SERVICE_NAME: "checkout",
      K6_OTEL_HEADERS: "X-Tenant=t1",
    });
    assertEquals(otlp.rejected, []);
    assertEquals(otlp.requests.length, 1, "one export at shutdown");
    const req = otlp.requests[0];
    assertEquals(req.transport, "http");
    assertEquals(req.headers["content-type"], "application/x-protobuf");
    assertEquals(req.headers["x-tenant"], "t1");
    assertMapping(req.body, "k6_", "checkout");
    assertEquals(
      output.description(),
      `opentelemetry (http/protobuf, http://${otlp.httpEndpoint}/v1/metrics)`,
    );
    assertEquals(output.stats!(), { droppedSamples: 0 });
    assertEquals(lines.filter((l) => l.includes('"warning"')), []);
  } finally {
    await otlp.stop();
  }
});

Deno.test("opentelemetry e2e grpc: same mapping over OTLP/gRPC with metadata", async () => {
  const otlp = await startFakeOtlp();
  try {
    const { output } = await run({
      K6_OTEL_EXPORTER_PROTOCOL: "grpc",
      K6_OTEL_GRPC_EXPORTER_ENDPOINT: otlp.grpcEndpoint,
      K6_OTEL_GRPC_EXPORTER_INSECURE: "true",
      K6_OTEL_HEADERS: "X-Tenant=t2",
      K6_OTEL_HTTP_EXPORTER_USERNAME: "u",
      K6_OTEL_HTTP_EXPORTER_PASSWORD: "p",
    });
    assertEquals(otlp.rejected, []);
    assertEquals(otlp.requests.length, 1);
    const req = otlp.requests[0];
    assertEquals(req.transport, "grpc");
    assertEquals(req.headers["x-tenant"], "t2");
    assertEquals(req.headers["authorization"], `Basic ${btoa("u:p")}`);
    assertMapping(req.body, "", "k6");
    assertEquals(output.description(), `opentelemetry (grpc (insecure), ${otlp.grpcEndpoint})`);
    assertEquals(output.stats!(), { droppedSamples: 0 });
  } finally {
    await otlp.stop();
  }
});

Deno.test("opentelemetry: experimental-opentelemetry alias works and warns", async () => {
  const otlp = await startFakeOtlp();
  try {
    const { lines } = await run(httpEnv(otlp), experimentalOpenTelemetry);
    const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.level === "warning");
    assertEquals(warnings.map((w) => w.msg), [
      'the "experimental-opentelemetry" output is deprecated, use "opentelemetry" instead',
    ]);
    assertEquals(otlp.requests.length, 1);
  } finally {
    await otlp.stop();
  }
});

Deno.test("opentelemetry: collector down at start → warning, run continues, stats count", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const endpoint = `127.0.0.1:${(l.addr as Deno.NetAddr).port}`;
  l.close();
  const { output, lines, samples } = await run({
    K6_OTEL_EXPORTER_PROTOCOL: "http/protobuf",
    K6_OTEL_HTTP_EXPORTER_ENDPOINT: endpoint,
    K6_OTEL_HTTP_EXPORTER_INSECURE: "true",
    K6_OTEL_EXPORT_INTERVAL: "500ms",
  });
  const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.level === "warning");
  assert(warnings.length >= 1, lines.join("\n"));
  assertEquals(warnings[0].msg, "Failed to export metrics to the OpenTelemetry endpoint");
  const stats = output.stats!();
  assertEquals(stats.droppedSamples, samples.length);
  assertStringIncludes(stats.note!, "exports failed");
});

Deno.test("opentelemetry: collector gone mid-run is accounted in stats()", async () => {
  const otlp = await startFakeOtlp();
  const { logger } = captureLogger();
  const output: Output = await openTelemetry(outputParams("opentelemetry", {
    ...httpEnv(otlp),
    K6_OTEL_FLUSH_INTERVAL: "20ms",
    K6_OTEL_EXPORT_INTERVAL: "100ms",
  }, logger));
  const { samples } = syntheticSamples();
  await output.start();
  try {
    output.addMetricSamples(samples.slice(0, 10));
    for (let i = 0; i < 100 && otlp.requests.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert(otlp.requests.length >= 1);
    await otlp.stopHttp();
    output.addMetricSamples(samples.slice(10));
  } finally {
    await output.stop(null);
    await otlp.stop();
  }
  const stats = output.stats!();
  assertEquals(stats.droppedSamples, samples.length - 10);
  assertStringIncludes(stats.note!, "exports failed");
});

Deno.test("opentelemetry: credentials never in description(), logs or stats", async () => {
  const otlp = await startFakeOtlp();
  otlp.failWith = 401; // the fake echoes the Authorization header in its error body
  try {
    const { output, lines } = await run({
      ...httpEnv(otlp),
      K6_OTEL_HTTP_EXPORTER_USERNAME: "carol",
      K6_OTEL_HTTP_EXPORTER_PASSWORD: "s3cr3t-pw",
      K6_OTEL_HEADERS: "X-Api-Key=apikey-987",
    });
    assertEquals(otlp.rejected.length, 1);
    assertStringIncludes(otlp.rejected[0], `Basic ${btoa("carol:s3cr3t-pw")}`);
    const text = output.description() + lines.join("\n") + JSON.stringify(output.stats!());
    assertStringIncludes(text, "Failed to export metrics");
    for (const secret of ["s3cr3t-pw", btoa("carol:s3cr3t-pw"), "apikey-987"]) {
      assert(!text.includes(secret), `leaked ${secret}: ${text}`);
    }
  } finally {
    await otlp.stop();
  }
});

Deno.test("opentelemetry https: tlsInsecureSkipVerify reaches a self-signed collector", async () => {
  const dir = new URL("../fixtures/tls/", import.meta.url);
  const cert = await Deno.readTextFile(new URL("selfsigned.crt", dir));
  const key = await Deno.readTextFile(new URL("selfsigned.key", dir));
  const paths: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert, key, onListen() {} },
    async (req) => {
      await req.arrayBuffer();
      paths.push(new URL(req.url).pathname);
      return new Response(new Uint8Array(0), {
        headers: { "content-type": "application/x-protobuf" },
      });
    },
  );
  try {
    const env = {
      K6_OTEL_EXPORTER_PROTOCOL: "http/protobuf",
      K6_OTEL_HTTP_EXPORTER_ENDPOINT: `127.0.0.1:${server.addr.port}`,
      K6_OTEL_EXPORT_INTERVAL: "2s",
    };
    const ok = await run({ ...env, K6_OTEL_TLS_INSECURE_SKIP_VERIFY: "true" });
    assertEquals(paths, ["/v1/metrics"]);
    assertEquals(ok.output.stats!(), { droppedSamples: 0 });
    const refused = await run(env);
    assertEquals(paths.length, 1, "an unverified certificate must not be accepted by default");
    assertEquals(refused.output.stats!().droppedSamples, refused.samples.length);
  } finally {
    await server.shutdown();
  }
});

Deno.test("fake OTLP receiver is strict: wrong path, content type and malformed bodies are rejected", async () => {
  const otlp = await startFakeOtlp();
  try {
    const post = async (path: string, type: string, body: Uint8Array<ArrayBuffer>) => {
      const res = await fetch(`http://${otlp.httpEndpoint}${path}`, {
        method: "POST",
        headers: { "content-type": type },
        body,
      });
      await res.body?.cancel();
      return res.status;
    };
    const garbage = new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
    assertEquals(await post("/v1/metrics", "application/json", new Uint8Array(0)), 415);
    assertEquals(await post("/v1/other", "application/x-protobuf", new Uint8Array(0)), 404);
    assertEquals(await post("/v1/metrics", "application/x-protobuf", garbage), 400);
    assertEquals(otlp.requests, []);
    assertEquals(otlp.rejected.length, 3);
  } finally {
    await otlp.stop();
  }
});
