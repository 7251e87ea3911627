/**
 * A strict local fake of the Grafana Cloud k6 ingest (test-only, not shipped), on 127.0.0.1.
 *
 * It checks what the real service requires (outputs-cloud.md §2–§7, §12): the
 * `Authorization: Token <token>` scheme, `User-Agent: k6cloud/…`, the idempotency key on every
 * POST, the content type/encoding/protocol headers of pushes; it decodes snappy blocks and the
 * `MetricSet` protobuf strictly (unknown fields, wrong wire types, bad UTF-8, sample kinds that
 * don't match the metric type are rejected) and validates create/finish bodies key by key.
 * A rejected request gets a 400 and is recorded in `received.errors`, so a test asserts
 * `received.errors` is empty. It can be told to fail: 5xx, 429, slow, connection reset, and
 * the 403/code-4 "aborted" answer.
 *
 * @example
 * ```ts
 * const ingest = await startFakeIngest({ token: "secret" });
 * // ... run the output with K6_CLOUD_HOST=ingest.url ...
 * ingest.received.pushes[0].metricSet.metrics;
 * await ingest.close();
 * ```
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import protobuf from "protobufjs";
import { snappyUncompress } from "../../../lib/output/_snappy.ts";
import { METRICS_PROTO } from "../../../lib/output/cloud/proto.ts";

/** A decoded `MetricSet` (protobufjs `toObject` with longs as numbers, enums as names). */
export interface DecodedMetricSet {
  testRunId?: string;
  aggregationPeriod?: number;
  metrics?: Array<{
    name?: string;
    type?: string;
    timeSeries?: Array<{
      labels?: Array<{ name?: string; value?: string }>;
      counterSamples?: { values?: Array<Record<string, unknown>> };
      gaugeSamples?: { values?: Array<Record<string, unknown>> };
      rateSamples?: { values?: Array<Record<string, unknown>> };
      trendHdrSamples?: { values?: Array<Record<string, unknown>> };
    }>;
  }>;
}

/** One received request (after validation). */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Idempotency key, if any. */
  key?: string;
}

export interface ReceivedCreate extends ReceivedRequest {
  body: Record<string, unknown>;
  /** Set for the multipart variant: the archive bytes. */
  archive?: Uint8Array;
}
export interface ReceivedFinish extends ReceivedRequest {
  id: string;
  body: Record<string, unknown>;
}
export interface ReceivedPush extends ReceivedRequest {
  id: string;
  metricSet: DecodedMetricSet;
  bytes: number;
}
export interface ReceivedV1Push extends ReceivedRequest {
  id: string;
  samples: Array<Record<string, unknown>>;
}

/** Everything the fake saw. `attempts` includes requests that were failed on purpose. */
export interface Received {
  attempts: ReceivedRequest[];
  creates: ReceivedCreate[];
  finishes: ReceivedFinish[];
  pushes: ReceivedPush[];
  v1Pushes: ReceivedV1Push[];
  authChecks: ReceivedRequest[];
  errors: string[];
}

/** A fault to inject on matching requests. */
export interface Fault {
  /** Which requests: create, finish, push (v1 or v2), auth, or all. */
  on: "create" | "finish" | "push" | "auth" | "all";
  mode: "5xx" | "429" | "slow" | "reset" | "aborted" | "401";
  /** How many matching requests to fail (default: unlimited until cleared). */
  times?: number;
  /** For `slow`: delay before answering normally. */
  delayMs?: number;
}

export interface FakeIngestOptions {
  /** The API token the fake accepts (`Authorization: Token <token>`); default "test-token". */
  token?: string;
  /** `reference_id` returned by create; default "1234". */
  testRunId?: string;
  /** `config` override returned by create. */
  config?: Record<string, unknown>;
  /** `logs` returned by create. */
  logs?: Array<{ level: string; message: string }>;
  /** Stack id / default project returned by the v6 auth check. */
  stackID?: number;
  defaultProjectID?: number;
}

export interface FakeIngest {
  /** Base URL (use as K6_CLOUD_HOST / hostv6). */
  url: string;
  received: Received;
  /** Adds a fault rule (rules are consumed in order). */
  fail(fault: Fault): void;
  /** Removes all fault rules. */
  clearFaults(): void;
  close(): Promise<void>;
}

const root = protobuf.parse(METRICS_PROTO).root;
const MetricSetType = root.lookupType("metrics.MetricSet");

// Strict wire-level schema: field number → [wire type, nested message or scalar kind].
type FieldSpec = readonly [wireType: number, kind: string];
const schema: Record<string, Record<number, FieldSpec>> = {
  MetricSet: { 1: [2, "string"], 2: [0, "uint32"], 3: [2, "Metric"] },
  Metric: { 1: [2, "string"], 2: [0, "enum"], 3: [2, "TimeSeries"] },
  Label: { 1: [2, "string"], 2: [2, "string"] },
  TimeSeries: {
    1: [2, "Label"],
    2: [2, "CounterSamples"],
    3: [2, "GaugeSamples"],
    4: [2, "RateSamples"],
    5: [2, "TrendHdrSamples"],
  },
  CounterSamples: { 1: [2, "CounterValue"] },
  GaugeSamples: { 1: [2, "GaugeValue"] },
  RateSamples: { 1: [2, "RateValue"] },
  TrendHdrSamples: { 1: [2, "TrendHdrValue"] },
  Timestamp: { 1: [0, "int64"], 2: [0, "int32"] },
  CounterValue: { 1: [2, "Timestamp"], 2: [1, "double"] },
  GaugeValue: {
    1: [2, "Timestamp"],
    2: [1, "double"],
    3: [0, "uint32"],
    4: [1, "double"],
    5: [1, "double"],
    6: [1, "double"],
  },
  RateValue: { 1: [2, "Timestamp"], 2: [0, "uint32"], 3: [0, "uint32"] },
  BucketSpan: { 1: [0, "uint32"], 2: [0, "uint32"] },
  TrendHdrValue: {
    1: [2, "Timestamp"],
    2: [2, "packed-uint32"],
    3: [2, "BucketSpan"],
    5: [1, "double"],
    6: [0, "uint32"],
    7: [1, "double"],
    8: [1, "double"],
    9: [0, "uint32"],
    10: [0, "uint32"],
    11: [1, "double"],
    12: [0, "uint32"],
  },
};
const utf8 = new TextDecoder("utf-8", { fatal: true });

function readVarint(buf: Uint8Array, at: { pos: number }): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (at.pos >= buf.length) throw new Error("truncated varint");
    const b = buf[at.pos++];
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return result;
    mul *= 128;
  }
  throw new Error("varint too long");
}

/** Walks a message strictly; throws on anything the schema does not allow. */
function validateWire(buf: Uint8Array, type: string, path: string): void {
  const fields = schema[type];
  const at = { pos: 0 };
  const oneofSeen: number[] = [];
  while (at.pos < buf.length) {
    const tag = readVarint(buf, at);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    const spec = fields[field];
    if (!spec) throw new Error(`${path}: unknown field ${field} in ${type}`);
    if (spec[0] !== wire) {
      throw new Error(`${path}: field ${field} of ${type} has wire type ${wire}, want ${spec[0]}`);
    }
    if (type === "TimeSeries" && field >= 2) oneofSeen.push(field);
    if (wire === 0) readVarint(buf, at);
    else if (wire === 1) {
      if (at.pos + 8 > buf.length) throw new Error(`${path}: truncated double`);
      at.pos += 8;
    } else {
      const len = readVarint(buf, at);
      if (at.pos + len > buf.length) throw new Error(`${path}: truncated field ${field}`);
      const body = buf.subarray(at.pos, at.pos + len);
      at.pos += len;
      if (spec[1] === "string") utf8.decode(body);
      else if (spec[1] === "packed-uint32") {
        const inner = { pos: 0 };
        while (inner.pos < body.length) readVarint(body, inner);
      } else validateWire(body, spec[1], `${path}.${type}[${field}]`);
    }
  }
  if (oneofSeen.length > 1) throw new Error(`${path}: TimeSeries sets more than one samples kind`);
}

const kindOfType: Record<string, string> = {
  METRIC_TYPE_COUNTER: "counterSamples",
  METRIC_TYPE_GAUGE: "gaugeSamples",
  METRIC_TYPE_RATE: "rateSamples",
  METRIC_TYPE_TREND: "trendHdrSamples",
};

/**
 * Decodes a snappy-compressed MetricSet strictly (for tests and the fake). Throws with a
 * reason on any violation.
 */
export function decodeMetricSetBody(body: Uint8Array, runId?: string): DecodedMetricSet {
  const raw = snappyUncompress(body, 64 * 1024 * 1024);
  validateWire(raw, "MetricSet", "MetricSet");
  const msg = MetricSetType.decode(raw);
  const obj = MetricSetType.toObject(msg, {
    longs: Number,
    enums: String,
    defaults: false,
  }) as DecodedMetricSet;
  if (runId !== undefined && obj.testRunId !== runId) {
    throw new Error(`test_run_id ${obj.testRunId} does not match the URL's ${runId}`);
  }
  if (!obj.aggregationPeriod) throw new Error("aggregation_period must be set");
  for (const m of obj.metrics ?? []) {
    if (!m.name) throw new Error("metric without a name");
    const kind = kindOfType[m.type ?? ""];
    if (!kind) throw new Error(`metric ${m.name}: invalid type ${m.type}`);
    if (!m.timeSeries?.length) throw new Error(`metric ${m.name}: no time series`);
    for (const ts of m.timeSeries) {
      const present = Object.keys(ts).filter((k) => k.endsWith("Samples"));
      if (present.length !== 1 || present[0] !== kind) {
        throw new Error(`metric ${m.name} (${m.type}): samples kind ${present.join(",")}`);
      }
      const names = (ts.labels ?? []).map((l) => l.name ?? "");
      const sorted = [...names].sort();
      if (names.join("\0") !== sorted.join("\0")) {
        throw new Error(`metric ${m.name}: labels not sorted: ${names}`);
      }
      for (const n of names) {
        if (n === "" || n.startsWith("__") || n === "test_run_id") {
          throw new Error(`metric ${m.name}: reserved or empty label name "${n}"`);
        }
      }
      const values = (ts as Record<string, { values?: unknown[] }>)[kind].values ?? [];
      if (values.length === 0) throw new Error(`metric ${m.name}: series without values`);
      for (const v of values as Array<Record<string, unknown>>) {
        if (!v.time) throw new Error(`metric ${m.name}: value without time`);
        const t = v.time as { nanos?: number };
        if (t.nanos) throw new Error(`metric ${m.name}: time has nanos`);
      }
    }
  }
  return obj;
}

function readBody(req: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (c: Uint8Array) => chunks.push(c));
    req.on("end", () => {
      let n = 0;
      for (const c of chunks) n += c.length;
      const out = new Uint8Array(n);
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.length;
      }
      resolve(out);
    });
    req.on("error", reject);
  });
}

function checkKeys(obj: Record<string, unknown>, allowed: string[], what: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw new Error(`${what}: unexpected key ${k}`);
  }
}

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

function validateCreate(body: Record<string, unknown>): void {
  checkKeys(body, ["name", "project_id", "vus", "thresholds", "duration"], "create body");
  if (typeof body.name !== "string" || body.name === "") throw new Error("create: bad name");
  if ("project_id" in body && !(isInt(body.project_id) && body.project_id > 0)) {
    throw new Error("create: project_id must be a positive int when present");
  }
  if (!isInt(body.vus) || body.vus < 0) throw new Error("create: bad vus");
  if (!isInt(body.duration) || body.duration < 0) throw new Error("create: bad duration");
  const th = body.thresholds;
  if (!th || typeof th !== "object" || Array.isArray(th)) throw new Error("create: thresholds");
  for (const [k, v] of Object.entries(th)) {
    if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) {
      throw new Error(`create: thresholds[${k}] must be an array of strings`);
    }
  }
}

function validateFinish(body: Record<string, unknown>): void {
  checkKeys(body, ["result_status", "run_status", "thresholds"], "finish body");
  if (body.result_status !== 0 && body.result_status !== 1) {
    throw new Error("finish: result_status");
  }
  if (!isInt(body.run_status) || body.run_status < -2 || body.run_status > 10) {
    throw new Error("finish: run_status");
  }
  const th = body.thresholds;
  if (!th || typeof th !== "object" || Array.isArray(th)) throw new Error("finish: thresholds");
  for (const [k, v] of Object.entries(th)) {
    if (!v || typeof v !== "object") throw new Error(`finish: thresholds[${k}]`);
    for (const [src, failed] of Object.entries(v)) {
      if (typeof failed !== "boolean") throw new Error(`finish: thresholds[${k}][${src}]`);
    }
  }
}

function validateV1Sample(s: unknown): void {
  if (!s || typeof s !== "object") throw new Error("v1: sample is not an object");
  const o = s as Record<string, unknown>;
  if (Object.keys(o).join(",") !== "type,metric,data") {
    throw new Error(`v1: sample keys ${Object.keys(o)} (want type,metric,data in order)`);
  }
  const data = o.data as Record<string, unknown>;
  if (typeof data?.time !== "string" || !/^\d+$/.test(data.time)) {
    throw new Error("v1: time must be a string of integer microseconds");
  }
  switch (o.type) {
    case "Point":
      checkKeys(data, ["time", "type", "tags", "value"], "v1 Point");
      if (typeof data.value !== "number") throw new Error("v1 Point: value");
      break;
    case "Points":
      checkKeys(data, ["time", "type", "tags", "values"], "v1 Points");
      if (data.type !== "counter") throw new Error("v1 Points: type must be counter");
      break;
    case "AggregatedPoints":
      checkKeys(data, ["time", "type", "count", "tags", "values"], "v1 AggregatedPoints");
      if (data.type !== "aggregated_trend") throw new Error("v1 AggregatedPoints: type");
      if (!isInt(data.count) || data.count < 1) throw new Error("v1 AggregatedPoints: count");
      break;
    default:
      throw new Error(`v1: unknown sample type ${o.type}`);
  }
}

/** Starts the fake on 127.0.0.1 (random port). */
export async function startFakeIngest(opts: FakeIngestOptions = {}): Promise<FakeIngest> {
  const token = opts.token ?? "test-token";
  const runId = opts.testRunId ?? "1234";
  const received: Received = {
    attempts: [],
    creates: [],
    finishes: [],
    pushes: [],
    v1Pushes: [],
    authChecks: [],
    errors: [],
  };
  let faults: Fault[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();

  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json" });
    res.end(text);
  };
  const reject = (res: ServerResponse, why: string) => {
    received.errors.push(why);
    json(res, 400, { error: { code: 1, message: why } });
  };

  const classify = (method: string, path: string): Fault["on"] | undefined => {
    if (method === "POST" && path === "/v1/tests") return "create";
    if (method === "POST" && /^\/v1\/tests\/[^/]+$/.test(path)) return "finish";
    if (method === "POST" && /^\/v[12]\/metrics\/[^/]+$/.test(path)) return "push";
    if (path === "/cloud/v6/auth" || path === "/v1/validate-token") return "auth";
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? "";
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      headers[k] = Array.isArray(v) ? v.join(", ") : String(v);
    }
    const body = await readBody(req);
    const record: ReceivedRequest = {
      method,
      path,
      headers,
      key: headers["k6-idempotency-key"],
    };
    received.attempts.push(record);
    const kind = classify(method, path);

    const faultIndex = faults.findIndex((f) => f.on === "all" || f.on === kind);
    if (faultIndex >= 0) {
      const fault = faults[faultIndex];
      if (fault.times !== undefined && --fault.times <= 0) faults.splice(faultIndex, 1);
      switch (fault.mode) {
        case "5xx":
          return json(res, 503, { error: { code: 0, message: "service unavailable" } });
        case "429":
          return json(res, 429, { error: { code: 0, message: "too many requests" } });
        case "401":
          return json(res, 401, { error: { code: 2, message: "invalid token" } });
        case "aborted":
          return json(res, 403, { error: { code: 4, message: "test run aborted" } });
        case "reset":
          req.socket.destroy();
          return;
        case "slow":
          await new Promise<void>((resolve) => {
            const t = setTimeout(() => {
              timers.delete(t);
              resolve();
            }, fault.delayMs ?? 1000);
            timers.add(t);
          });
          if (res.destroyed || req.socket.destroyed) return;
      }
    }

    if (kind === "auth") {
      received.authChecks.push(record);
      if (path === "/cloud/v6/auth") {
        if (headers["authorization"] !== `Bearer ${token}`) {
          return json(res, 401, { error: { code: 2, message: "invalid token" } });
        }
        if (!headers["x-stack-url"]) return reject(res, "auth: missing X-Stack-Url");
        return json(res, 200, {
          stack_id: opts.stackID ?? 42,
          default_project_id: opts.defaultProjectID ?? 7,
        });
      }
      const b = JSON.parse(new TextDecoder().decode(body));
      return json(res, 200, { is_valid: b.token === token, message: "", "token-info": "" });
    }
    if (!kind) return json(res, 404, { error: { code: 0, message: "not found" } });

    // Common checks of the legacy REST API (§3).
    if (headers["authorization"] !== `Token ${token}`) {
      if (!headers["authorization"]?.startsWith("Token ")) {
        return reject(res, `${path}: Authorization must use the Token scheme`);
      }
      return json(res, 401, { error: { code: 2, message: "invalid token" } });
    }
    if (!/^k6cloud\/\d+\.\d+\.\d+/.test(headers["user-agent"] ?? "")) {
      return reject(res, `${path}: bad User-Agent ${headers["user-agent"]}`);
    }
    if (!/^[0-9a-f]{16}$/.test(record.key ?? "")) {
      return reject(res, `${path}: bad or missing K6-Idempotency-Key ${record.key}`);
    }
    const ctype = headers["content-type"] ?? "";

    try {
      if (kind === "create") {
        if (ctype.startsWith("multipart/form-data")) {
          const form = await new Request("http://x/", {
            method: "POST",
            headers: { "content-type": ctype },
            body: body as BodyInit,
          }).formData();
          const names = [...form.keys()];
          if (names.join(",") !== "name,project_id,vus,duration,file") {
            throw new Error(`create multipart: fields ${names}`);
          }
          const file = form.get("file");
          if (!(file instanceof File) || file.name !== "archive.tar") {
            throw new Error("create multipart: file must be archive.tar");
          }
          received.creates.push({
            ...record,
            body: {
              name: form.get("name"),
              project_id: Number(form.get("project_id")),
              vus: Number(form.get("vus")),
              duration: Number(form.get("duration")),
            },
            archive: new Uint8Array(await file.arrayBuffer()),
          });
        } else {
          if (ctype !== "application/json") throw new Error(`create: content-type ${ctype}`);
          const b = JSON.parse(new TextDecoder().decode(body));
          validateCreate(b);
          received.creates.push({ ...record, body: b });
        }
        return json(res, 200, {
          reference_id: runId,
          config: opts.config ?? null,
          logs: opts.logs ?? [],
        });
      }
      if (kind === "finish") {
        if (ctype !== "application/json") throw new Error(`finish: content-type ${ctype}`);
        const b = JSON.parse(new TextDecoder().decode(body));
        validateFinish(b);
        received.finishes.push({ ...record, id: path.split("/")[3], body: b });
        return json(res, 200, {});
      }
      const id = decodeURIComponent(path.split("/")[3]);
      if (path.startsWith("/v2/")) {
        if (ctype !== "application/x-protobuf") throw new Error(`push: content-type ${ctype}`);
        if (headers["content-encoding"] !== "snappy") throw new Error("push: not snappy");
        if (headers["k6-metrics-protocol-version"] !== "2.0") {
          throw new Error("push: K6-Metrics-Protocol-Version must be 2.0");
        }
        const metricSet = decodeMetricSetBody(body, id);
        received.pushes.push({ ...record, id, metricSet, bytes: body.length });
        return json(res, 200, {});
      }
      // v1 (§12.2)
      if (ctype !== "application/json") throw new Error(`v1 push: content-type ${ctype}`);
      let raw = body;
      if (headers["content-encoding"] === "gzip") {
        raw = new Uint8Array(gunzipSync(body));
        if (Number(headers["x-payload-byte-count"]) !== raw.length) {
          throw new Error("v1 push: X-Payload-Byte-Count mismatch");
        }
      } else if (headers["content-encoding"]) {
        throw new Error(`v1 push: content-encoding ${headers["content-encoding"]}`);
      }
      const samples = JSON.parse(new TextDecoder().decode(raw));
      if (!Array.isArray(samples)) throw new Error("v1 push: body is not an array");
      if (Number(headers["x-payload-sample-count"]) !== samples.length) {
        throw new Error("v1 push: X-Payload-Sample-Count mismatch");
      }
      samples.forEach(validateV1Sample);
      received.v1Pushes.push({ ...record, id, samples });
      return json(res, 200, {});
    } catch (err) {
      return reject(res, err instanceof Error ? err.message : String(err));
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      received.errors.push(`fake crashed: ${err}`);
      if (!res.headersSent) json(res, 500, { error: { code: 0, message: "fake crashed" } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    fail(fault) {
      faults.push({ ...fault });
    },
    clearFaults() {
      faults = [];
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
