/**
 * A strict fake OTLP metrics receiver (no collector is packaged for Debian): HTTP/protobuf at
 * `/v1/metrics` and gRPC `opentelemetry.proto.collector.metrics.v1.MetricsService/Export`.
 * Requests are decoded with the official OTLP proto definitions (the protobufjs root generated
 * from opentelemetry-proto, shipped in @opentelemetry/otlp-transformer@0.200.0); anything
 * malformed — wrong path, method, Content-Type, undecodable or invalid body — is rejected and
 * recorded in `rejected`.
 *
 * @example
 * ```ts
 * const otlp = await startFakeOtlp();
 * // ... export to otlp.httpEndpoint (host:port) or otlp.grpcEndpoint ...
 * otlp.requests[0].body.resourceMetrics;
 * await otlp.stop();
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import * as grpc from "@grpc/grpc-js";
// @ts-types="./_otlp_root.d.ts"
import root from "@opentelemetry/otlp-transformer-0.200/build/src/generated/root.js";

const ExportRequest = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
const ExportResponse = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;

/** A decoded request, as plain JSON-like objects (enums as names, 64-bit ints as strings). */
export interface OtlpRequest {
  readonly transport: "http" | "grpc";
  /** Lower-case header / metadata names. */
  readonly headers: Record<string, string>;
  // deno-lint-ignore no-explicit-any
  readonly body: any;
}

/** A running fake receiver. */
export interface FakeOtlp {
  /** host:port of the HTTP receiver (what K6_OTEL_HTTP_EXPORTER_ENDPOINT takes). */
  readonly httpEndpoint: string;
  /** host:port of the gRPC receiver. */
  readonly grpcEndpoint: string;
  readonly requests: OtlpRequest[];
  /** Why requests were rejected. */
  readonly rejected: string[];
  /** Makes the HTTP receiver answer with this status (0 = normal). */
  failWith: number;
  /** Stops the HTTP side only (to simulate a collector going away mid-run). */
  stopHttp(): Promise<void>;
  stop(): Promise<void>;
}

// deno-lint-ignore no-explicit-any
function decodeStrict(bytes: Uint8Array): any {
  const msg = ExportRequest.decode(bytes); // throws on malformed wire data
  const invalid = ExportRequest.verify(msg);
  if (invalid) throw new Error(`invalid ExportMetricsServiceRequest: ${invalid}`);
  return ExportRequest.toObject(msg, {
    enums: String,
    longs: String,
    bytes: String,
    defaults: false,
    arrays: true,
    oneofs: true,
  });
}

/** Starts both receivers on 127.0.0.1 free ports. */
export async function startFakeOtlp(): Promise<FakeOtlp> {
  const requests: OtlpRequest[] = [];
  const rejected: string[] = [];
  const state = { failWith: 0 };
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    const path = new URL(req.url).pathname;
    const reject = (status: number, why: string) => {
      rejected.push(why);
      return new Response(why, { status });
    };
    if (path !== "/v1/metrics") return reject(404, `unexpected path ${path}`);
    if (req.method !== "POST") return reject(405, `unexpected method ${req.method}`);
    const type = req.headers.get("content-type");
    if (type !== "application/x-protobuf") return reject(415, `unexpected content-type ${type}`);
    if (state.failWith) {
      return reject(
        state.failWith,
        `configured failure ${state.failWith}: ` +
          (req.headers.get("authorization") ?? ""),
      );
    }
    let decoded;
    try {
      decoded = decodeStrict(body);
    } catch (err) {
      return reject(400, `malformed body: ${(err as Error).message}`);
    }
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => headers[k] = v);
    requests.push({ transport: "http", headers, body: decoded });
    return new Response(ExportResponse.encode({}).finish(), {
      headers: { "content-type": "application/x-protobuf" },
    });
  });

  const server = new grpc.Server();
  const service = {
    Export: {
      path: "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Uint8Array) => Buffer.from(b),
      requestDeserialize: (b: Buffer) => new Uint8Array(b),
      responseSerialize: (b: Uint8Array) => Buffer.from(b),
      responseDeserialize: (b: Buffer) => new Uint8Array(b),
    },
  };
  server.addService(service as unknown as grpc.ServiceDefinition, {
    Export: (
      call: grpc.ServerUnaryCall<Uint8Array, Uint8Array>,
      callback: grpc.sendUnaryData<Uint8Array>,
    ) => {
      let decoded;
      try {
        decoded = decodeStrict(call.request);
      } catch (err) {
        rejected.push(`malformed grpc body: ${(err as Error).message}`);
        callback({ code: grpc.status.INVALID_ARGUMENT, details: "malformed" }, null);
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k] = String(v);
      requests.push({ transport: "grpc", headers, body: decoded });
      callback(null, ExportResponse.encode({}).finish());
    },
  });
  const grpcPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      "127.0.0.1:0",
      grpc.ServerCredentials.createInsecure(),
      (err, port) => err ? reject(err) : resolve(port),
    )
  );
  let httpStopped = false;
  const stopHttp = async () => {
    if (httpStopped) return;
    httpStopped = true;
    await http.shutdown();
  };
  return {
    httpEndpoint: `127.0.0.1:${http.addr.port}`,
    grpcEndpoint: `127.0.0.1:${grpcPort}`,
    requests,
    rejected,
    get failWith() {
      return state.failWith;
    },
    set failWith(v: number) {
      state.failWith = v;
    },
    stopHttp,
    async stop() {
      await stopHttp();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}
