/**
 * CPU cost per sample of the services outputs against local receivers:
 * - experimental-prometheus-rw → a real Prometheus (child process, so its CPU is not counted);
 *   falls back to an in-process sink when the binary is missing;
 * - opentelemetry http/protobuf and grpc → in-process sinks that only read the body (one request
 *   per export interval, so the sink's share is negligible).
 *
 * Usage: deno run -A scripts/bench_services_b.ts [samples=300000]
 * Prints CPU microseconds per sample (user+system of this process) and wall time.
 * @module
 */
import { Buffer } from "node:buffer";
import process from "node:process";
import * as grpc from "@grpc/grpc-js";
import { Logger } from "../lib/log.ts";
import { MetricRegistry } from "../lib/metrics/metric.ts";
import type { Sample } from "../lib/metrics/sample.ts";
import { TagSetPool } from "../lib/metrics/tags.ts";
import openTelemetry from "../lib/output/opentelemetry.ts";
import prometheusRW, { RemoteWriteMapper } from "../lib/output/prometheus_rw.ts";
import type { OutputFactory, OutputParams } from "../lib/output/types.ts";
import { startPrometheus } from "../tests/output/_prometheus.ts";

const total = parseInt(Deno.args[0] ?? "300000", 10);
const BATCH = 5000;

/** HTTP-trail-like samples: 9 metrics per request over 20 URL/status tag sets. */
function makeSamples(n: number): Sample[] {
  const registry = new MetricRegistry();
  const pool = new TagSetPool();
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
  ].map((name) => registry.get(name)!);
  const tags = Array.from({ length: 20 }, (_, i) =>
    pool.intern({
      method: i % 3 ? "GET" : "POST",
      name: `http://127.0.0.1/p${i % 10}`,
      url: `http://127.0.0.1/p${i % 10}`,
      status: i % 7 ? "200" : "500",
      scenario: "default",
      proto: "HTTP/1.1",
      expected_response: "true",
    }));
  const out: Sample[] = [];
  const start = Date.now();
  for (let i = 0; out.length < n; i++) {
    const t = tags[i % tags.length];
    const time = start + i * 0.01;
    for (const metric of names) {
      const value = metric.type === "counter"
        ? 1
        : metric.type === "rate"
        ? (i % 7 ? 0 : 1)
        : Math.random() * 200;
      out.push({ metric, tags: t, time, value, metadata: { vu: "1", iter: String(i) } });
    }
  }
  return out.slice(0, n);
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function params(env: Record<string, string>, outputType: string): OutputParams {
  return {
    outputType,
    configArgument: "",
    env,
    scriptEnv: {},
    scriptPath: "file:///bench.js",
    options: {},
    executionPlan: { maxVUs: 1, maxDurationSec: 1 },
    metrics: [],
    runId: "bench",
    logger: new Logger({ level: "error" }),
    stdout: () => Promise.resolve(),
  };
}

async function measure(
  label: string,
  factory: OutputFactory,
  env: Record<string, string>,
  samples: Sample[],
): Promise<void> {
  const output = await factory(params(env, label));
  await output.start();
  const cpu0 = cpuMicros();
  const wall0 = performance.now();
  for (let i = 0; i < samples.length; i += BATCH) {
    output.addMetricSamples(samples.slice(i, i + BATCH));
    // Let the flusher run, as the 50 ms engine cadence would.
    await new Promise((r) => setTimeout(r, 0));
  }
  await output.stop(null);
  const cpu = cpuMicros() - cpu0;
  const wall = performance.now() - wall0;
  const dropped = output.stats?.().droppedSamples ?? 0;
  console.log(
    `${label.padEnd(38)} ${(cpu / samples.length).toFixed(3).padStart(7)} µs CPU/sample` +
      `  ${(samples.length / (wall / 1000) / 1000).toFixed(0).padStart(6)}k samples/s wall` +
      `  dropped=${dropped}`,
  );
}

const samples = makeSamples(total);
console.log(`${total} samples, batches of ${BATCH}\n`);

// Mapper alone (no I/O): the per-sample hot path of prometheus-rw.
{
  const mapper = new RemoteWriteMapper({ trendStats: ["p(99)"], trendAsNativeHistogram: false });
  const cpu0 = cpuMicros();
  for (let i = 0; i < samples.length; i += BATCH) mapper.add(samples.slice(i, i + BATCH));
  mapper.collect();
  console.log(
    `${"prometheus-rw mapper only (p(99))".padEnd(38)} ${
      ((cpuMicros() - cpu0) / samples.length).toFixed(3).padStart(7)
    } µs CPU/sample`,
  );
}

// Prometheus remote write against a real Prometheus when available.
let prom: Awaited<ReturnType<typeof startPrometheus>> | undefined;
let sink: Deno.HttpServer<Deno.NetAddr> | undefined;
try {
  prom = await startPrometheus({ nativeHistograms: true });
} catch (err) {
  console.log(`(no Prometheus: ${(err as Error).message}; using an in-process sink)`);
}
try {
  let writeUrl = prom?.writeUrl;
  if (!writeUrl) {
    sink = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      await req.arrayBuffer();
      return new Response(null, { status: 204 });
    });
    writeUrl = `http://127.0.0.1:${sink.addr.port}/api/v1/write`;
  }
  const prw = { K6_PROMETHEUS_RW_SERVER_URL: writeUrl, K6_PROMETHEUS_RW_PUSH_INTERVAL: "1s" };
  await measure("prometheus-rw p(99)", prometheusRW, prw, samples);
  await measure("prometheus-rw p(99),p(95),avg,max,min", prometheusRW, {
    ...prw,
    K6_PROMETHEUS_RW_TREND_STATS: "p(99),p(95),avg,max,min",
  }, samples);
  await measure("prometheus-rw native histograms", prometheusRW, {
    ...prw,
    K6_FEATURES: "native-histograms",
  }, samples);
} finally {
  await prom?.stop();
  await sink?.shutdown();
}

// OpenTelemetry over both transports.
const otlpHttp = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
  await req.arrayBuffer();
  return new Response(new Uint8Array(0), { headers: { "content-type": "application/x-protobuf" } });
});
const grpcServer = new grpc.Server();
grpcServer.addService(
  {
    Export: {
      path: "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Uint8Array) => Buffer.from(b),
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Uint8Array) => Buffer.from(b),
      responseDeserialize: (b: Buffer) => b,
    },
  } as unknown as grpc.ServiceDefinition,
  {
    Export: (_call: unknown, cb: grpc.sendUnaryData<Uint8Array>) => cb(null, new Uint8Array(0)),
  },
);
const grpcPort = await new Promise<number>((resolve, reject) =>
  grpcServer.bindAsync(
    "127.0.0.1:0",
    grpc.ServerCredentials.createInsecure(),
    (e, p) => e ? reject(e) : resolve(p),
  )
);
try {
  const common = { K6_OTEL_FLUSH_INTERVAL: "100ms", K6_OTEL_EXPORT_INTERVAL: "1s" };
  await measure("opentelemetry http/protobuf", openTelemetry, {
    ...common,
    K6_OTEL_EXPORTER_PROTOCOL: "http/protobuf",
    K6_OTEL_HTTP_EXPORTER_ENDPOINT: `127.0.0.1:${otlpHttp.addr.port}`,
    K6_OTEL_HTTP_EXPORTER_INSECURE: "true",
  }, samples);
  await measure("opentelemetry grpc", openTelemetry, {
    ...common,
    K6_OTEL_EXPORTER_PROTOCOL: "grpc",
    K6_OTEL_GRPC_EXPORTER_ENDPOINT: `127.0.0.1:${grpcPort}`,
    K6_OTEL_GRPC_EXPORTER_INSECURE: "true",
  }, samples);
} finally {
  await otlpHttp.shutdown();
  await new Promise<void>((r) => grpcServer.tryShutdown(() => r()));
}
