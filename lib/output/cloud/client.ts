/**
 * REST client of the legacy cloud API (outputs-cloud.md §3, §4.1, §5.1, §7, §12.2): create and
 * finish test runs, push metrics. Every non-GET request carries a `K6-Idempotency-Key` that is
 * generated once per logical request and reused on its retries; up to 3 attempts, 500 ms apart,
 * on transport errors, 5xx and 429; each attempt bounded by the configured timeout.
 *
 * Uses the platform `fetch`: these calls are per test run or per push interval, not per sample.
 *
 * @example
 * ```ts
 * const client = new CloudClient({ host: "https://ingest.k6.io", token: "…", timeoutMs: 60000 });
 * const run = await client.createTestRun({ name: "script.js", vus: 10, duration: 60, thresholds: {} });
 * ```
 * @module
 */
import { SpateError } from "../../errors.ts";

/** The k6 version we present ourselves as: the ingest may gate features on it (§3). */
export const K6_COMPAT_VERSION = "2.2.0";
/** `User-Agent` of every cloud request. */
export const USER_AGENT = `k6cloud/${K6_COMPAT_VERSION}`;

/** A decoded error of the cloud API. */
export class CloudApiError extends SpateError {
  /** HTTP status (0 for transport errors). */
  readonly status: number;
  /** `error.code` of the body, when it had one. */
  readonly code?: number;
  constructor(message: string, status: number, code?: number) {
    super("output", message);
    this.status = status;
    this.code = code;
  }
  /** True for the backend's "no more metrics accepted" (403 with code 4, §5.7). */
  get isAborted(): boolean {
    return this.status === 403 && this.code === 4;
  }
}

/** Body of `POST /v1/tests` (JSON form). */
export interface CreateTestRunBody {
  name: string;
  /** Omitted when 0. */
  project_id?: number;
  vus: number;
  thresholds: Record<string, string[]>;
  duration: number;
}

/** Response of `POST /v1/tests`. */
export interface CreateTestRunResponse {
  reference_id: string;
  config?: Record<string, unknown> | null;
  logs?: Array<{ level: string; message: string }>;
  test_run_token?: string;
  secrets_config?: Record<string, unknown>;
}

/** Body of the finish call (§7). */
export interface FinishTestRunBody {
  result_status: 0 | 1;
  run_status: number;
  thresholds: Record<string, Record<string, boolean>>;
}

/** Options of {@link CloudClient}. */
export interface CloudClientOptions {
  /** Base URL without `/v1`. */
  host: string;
  token?: string;
  timeoutMs: number;
  /** Attempts per request (default 3). */
  attempts?: number;
  /** Pause between attempts (default 500 ms). */
  retryPauseMs?: number;
  fetch?: typeof fetch;
}

/** Random 8 bytes as 16 lowercase hex characters. */
export function idempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

interface RequestSpec {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: BodyInit | null;
  /** Builds the body again per attempt (FormData/streams can't be replayed). */
  bodyFactory?: () => BodyInit;
  /** Reuse an idempotency key (pending pushes retried across flushes). */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** The client. */
export class CloudClient {
  host: string;
  token?: string;
  timeoutMs: number;
  readonly #attempts: number;
  readonly #pause: number;
  readonly #fetch: typeof fetch;

  constructor(opts: CloudClientOptions) {
    this.host = opts.host.replace(/\/+$/, "");
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs;
    this.#attempts = opts.attempts ?? 3;
    this.#pause = opts.retryPauseMs ?? 500;
    this.#fetch = opts.fetch ?? fetch;
  }

  /** `{host}/v1`. */
  get baseURL(): string {
    return `${this.host}/v1`;
  }

  /** Sends one logical request with retries; returns the successful response's body text. */
  async request(spec: RequestSpec): Promise<string> {
    const headers: Record<string, string> = {
      "User-Agent": USER_AGENT,
      ...spec.headers,
    };
    if (this.token) headers["Authorization"] = `Token ${this.token}`;
    if (
      spec.body !== undefined && spec.bodyFactory === undefined &&
      !hasHeader(headers, "content-type")
    ) {
      headers["Content-Type"] = "application/json";
    }
    if (!["GET", "HEAD", "OPTIONS", "TRACE"].includes(spec.method)) {
      headers["K6-Idempotency-Key"] = spec.idempotencyKey ?? idempotencyKey();
    }
    let lastError: CloudApiError | undefined;
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      if (attempt > 1) {
        await sleep(this.#pause, spec.signal);
        if (spec.signal?.aborted) break;
      }
      const timeout = AbortSignal.timeout(this.timeoutMs);
      const signal = spec.signal ? AbortSignal.any([spec.signal, timeout]) : timeout;
      let res: Response;
      try {
        res = await this.#fetch(spec.url, {
          method: spec.method,
          headers,
          body: spec.bodyFactory ? spec.bodyFactory() : spec.body,
          signal,
        });
      } catch (err) {
        const why = timeout.aborted
          ? `timed out after ${this.timeoutMs}ms`
          : err instanceof Error
          ? err.message
          : String(err);
        lastError = new CloudApiError(`${spec.method} ${spec.url}: ${why}`, 0);
        if (spec.signal?.aborted) break;
        continue;
      }
      let text: string;
      try {
        text = await res.text();
      } catch (err) {
        lastError = new CloudApiError(
          `${spec.method} ${spec.url}: reading the response failed: ${
            err instanceof Error ? err.message : String(err)
          }`,
          0,
        );
        continue;
      }
      if (res.status >= 200 && res.status < 300) return text;
      lastError = decodeError(res.status, res.statusText, spec.url, text);
      if (!(res.status >= 500 || res.status === 429)) break;
    }
    throw lastError ?? new CloudApiError(`${spec.method} ${spec.url}: cancelled`, 0);
  }

  /** `POST /v1/tests` with the JSON body (§4.1). */
  async createTestRun(body: CreateTestRunBody): Promise<CreateTestRunResponse> {
    const payload: Record<string, unknown> = { name: body.name };
    if (body.project_id) payload.project_id = body.project_id;
    payload.vus = body.vus;
    payload.thresholds = body.thresholds;
    payload.duration = body.duration;
    const text = await this.request({
      method: "POST",
      url: `${this.baseURL}/tests`,
      body: JSON.stringify(payload),
    });
    return parseCreateResponse(text);
  }

  /**
   * `POST /v1/tests` as multipart with the archive (§4.1 multipart variant): fields `name`,
   * `project_id`, `vus`, `duration`, then file `file` named `archive.tar`. No thresholds.
   */
  async createTestRunWithArchive(
    body: CreateTestRunBody,
    archive: Uint8Array,
  ): Promise<CreateTestRunResponse> {
    const text = await this.request({
      method: "POST",
      url: `${this.baseURL}/tests`,
      bodyFactory: () => {
        const form = new FormData();
        form.append("name", body.name);
        form.append("project_id", String(body.project_id ?? 0));
        form.append("vus", String(body.vus));
        form.append("duration", String(body.duration));
        form.append(
          "file",
          new Blob([archive as BlobPart], { type: "application/x-tar" }),
          "archive.tar",
        );
        return form;
      },
    });
    return parseCreateResponse(text);
  }

  /** `POST /v1/tests/{id}` (§7); the response body is ignored. */
  async finishTestRun(id: string, body: FinishTestRunBody): Promise<void> {
    await this.request({
      method: "POST",
      url: `${this.baseURL}/tests/${encodeURIComponent(id)}`,
      body: JSON.stringify(body),
    });
  }

  /** `POST /v2/metrics/{id}` with a snappy-compressed MetricSet (§5.1). */
  async pushMetricsV2(
    id: string,
    body: Uint8Array,
    opts: { idempotencyKey?: string; signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.request({
      method: "POST",
      url: `${this.host}/v2/metrics/${encodeURIComponent(id)}`,
      headers: {
        "Content-Type": "application/x-protobuf",
        "Content-Encoding": "snappy",
        "K6-Metrics-Protocol-Version": "2.0",
      },
      body: body as BodyInit,
      idempotencyKey: opts.idempotencyKey,
      signal: opts.signal,
    });
  }

  /** `POST /v1/metrics/{id}` with a JSON array of v1 samples (§12.2). */
  async pushMetricsV1(
    id: string,
    body: Uint8Array,
    opts: {
      sampleCount: number;
      rawLength: number;
      gzipped: boolean;
      idempotencyKey?: string;
      signal?: AbortSignal;
    },
  ): Promise<void> {
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      "X-Payload-Sample-Count": String(opts.sampleCount),
    };
    if (opts.gzipped) {
      headers["Content-Encoding"] = "gzip";
      headers["X-Payload-Byte-Count"] = String(opts.rawLength);
    }
    await this.request({
      method: "POST",
      url: `${this.baseURL}/metrics/${encodeURIComponent(id)}`,
      headers,
      body: body as BodyInit,
      idempotencyKey: opts.idempotencyKey,
      signal: opts.signal,
    });
  }
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

function parseCreateResponse(text: string): CreateTestRunResponse {
  let parsed: unknown;
  try {
    parsed = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new CloudApiError("creating the cloud test run: the response is not JSON", 200);
  }
  const res = parsed as CreateTestRunResponse;
  if (typeof res !== "object" || res === null || !res.reference_id) {
    throw new CloudApiError("failed to get a reference ID", 200);
  }
  res.reference_id = String(res.reference_id);
  return res;
}

/** Decodes an error response into the message format of §3. */
export function decodeError(
  status: number,
  statusText: string,
  url: string,
  text: string,
): CloudApiError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const e = body && typeof body === "object"
    ? (body as { error?: Record<string, unknown> }).error
    : undefined;
  if (e && typeof e === "object" && (typeof e.message === "string" || e.code !== undefined)) {
    const code = typeof e.code === "number" ? e.code : undefined;
    let msg = `(${status}/E${code ?? 0}) ${typeof e.message === "string" ? e.message : ""}`;
    if (Array.isArray(e.errors)) { for (const extra of e.errors) msg += `\n${extra}`; }
    for (const key of ["details", "field_errors"] as const) {
      const fieldsObj = e[key];
      if (fieldsObj && typeof fieldsObj === "object") {
        for (const [field, msgs] of Object.entries(fieldsObj as Record<string, unknown>)) {
          msg += `\n${field}: ${Array.isArray(msgs) ? msgs.join(", ") : String(msgs)}`;
        }
      }
    }
    return new CloudApiError(msg, status, code);
  }
  if (status === 401) return new CloudApiError("failed to authenticate with k6 Cloud", status);
  if (status === 403) return new CloudApiError("not allowed to upload result to k6 Cloud", status);
  return new CloudApiError(
    `unexpected HTTP error from ${url}: ${status} ${statusText}`.trimEnd(),
    status,
  );
}
