/**
 * The `k6/http` module (js-api.md §3): request functions, batch, cookie jars, expected
 * statuses, `http.url`/`http.file`, and the Response object. Requests return promises (the
 * script transform awaits them, k6's are synchronous); every round trip — each redirect hop —
 * emits k6's HTTP samples through {@link VUState.emit} with the tags of runner.md §5.4/§5.7.
 *
 * @example
 * ```ts
 * const http = createHttpModule(state);
 * const res = await http.get("http://127.0.0.1:8080/get", { tags: { name: "home" } });
 * res.status; // 200
 * http[iterationEnd](); // between iterations: cookie reset, idle connections per options
 * ```
 * @module
 */
import zlib from "node:zlib";
import { parseDuration } from "../config/duration.ts";
import {
  HttpTransport,
  type PreparedRequest,
  type RawResult,
  transportOptionsFromConfig,
} from "../http/client.ts";
import { ErrorCode } from "../http/_errors.ts";
import type { RateLimiter } from "../http/rate_limiter.ts";
import { digestAuthorization, parseDigestChallenge } from "../http/digest.ts";
import type { Metric } from "../metrics/metric.ts";
import { wholeNanosMs } from "../metrics/sample.ts";
import { InterruptedError, type VUState } from "../vu/state.ts";
import { bodyText, encodeBody, FileData, queryEscape } from "./_http_body.ts";
import {
  type CookieOptions,
  CookieStore,
  parseSetCookie,
  type ResponseCookie,
} from "./_http_cookies.ts";
import { gjsonGet } from "./_gjson.ts";
import { htmlModule, type HtmlSelection, htmlUnavailable } from "./optional.ts";

export { FileData } from "./_http_body.ts";

/** Runs one round trip; {@link HttpTransport} is the in-process implementation. */
export interface RequestExecutor {
  executeRequest(req: PreparedRequest, signal?: AbortSignal): Promise<RawResult>;
  closeIdle(): void;
  close(): void;
}

/** Call between iterations: resets the VU cookie jar (unless `noCookiesReset`) and closes
 * idle connections when `noVUConnectionReuse` is set. */
export const iterationEnd: unique symbol = Symbol("spate.http.iterationEnd");
/** Call when the VU is done: closes every connection. */
export const closeModule: unique symbol = Symbol("spate.http.close");

/** Options of {@link createHttpModule}. */
export interface HttpModuleOptions {
  /** Defaults to a new {@link HttpTransport} built from `state.http`. */
  executor?: RequestExecutor;
  /**
   * The `rps` cap, shared by every VU of the run; waited on once per request (not per
   * redirect hop). Without it, `state.http.rps` is not enforced by this module.
   */
  rateLimiter?: RateLimiter;
}

/** The object returned by `http.url` template literals. */
export class HttpURL {
  readonly url: string;
  readonly name: string;
  constructor(url: string, name: string) {
    this.url = url;
    this.name = name;
  }
  toString(): string {
    return this.url;
  }
}

/** What `http.expectedStatuses(...)` returns. */
export class ExpectedStatuses {
  readonly #ranges: ReadonlyArray<readonly [number, number]>;
  constructor(ranges: ReadonlyArray<readonly [number, number]>) {
    this.#ranges = ranges;
  }
  /** True when `status` is expected. */
  matches(status: number): boolean {
    for (const [min, max] of this.#ranges) if (status >= min && status <= max) return true;
    return false;
  }
}

/** Timings of the last round trip, ms. */
export interface ResponseTimings {
  blocked: number;
  connecting: number;
  tls_handshaking: number;
  sending: number;
  waiting: number;
  receiving: number;
  duration: number;
  looking_up: number;
}

/** `response.request`: the first request as sent. */
export interface RequestInfo {
  method: string;
  url: string;
  headers: Record<string, string[]>;
  body: string;
  cookies: Record<string, { name: string; value: string; replace: boolean }[]>;
}

const utf8 = new TextDecoder();

/** The k6 Response object (snake_case fields). */
export class Response {
  status = 0;
  status_text = "";
  proto = "";
  url = "";
  headers: Record<string, string> = {};
  cookies: Record<string, ResponseCookie[]> = {};
  body: string | ArrayBuffer | null = null;
  timings: ResponseTimings = {
    blocked: 0,
    connecting: 0,
    tls_handshaking: 0,
    sending: 0,
    waiting: 0,
    receiving: 0,
    duration: 0,
    looking_up: 0,
  };
  error = "";
  error_code = 0;
  remote_ip = "";
  remote_port = 0;
  tls_version = "";
  tls_cipher_suite = "";
  ocsp = {
    produced_at: 0,
    this_update: 0,
    next_update: 0,
    revoked_at: 0,
    revocation_reason: "",
    status: "",
  };
  request: RequestInfo = { method: "", url: "", headers: {}, body: "", cookies: {} };
  /**
   * How submitForm() and clickLink() send (a field, not a WeakMap: a WeakMap entry per
   * response costs the VU threads measurably).
   */
  #follow: ResponseRequester | undefined = undefined;
  #json: { ok: true; value: unknown } | { ok: false; error: Error } | undefined;

  /** Parses the body as JSON (cached); with a selector, a GJSON path (undefined if none). */
  json(selector?: string): unknown {
    if (this.#json === undefined) {
      if (this.body === null) {
        this.#json = {
          ok: false,
          error: new Error(
            "the body is null so we can't transform it to JSON - this likely was because of a " +
              "request error getting the response",
          ),
        };
      } else {
        const text = typeof this.body === "string" ? this.body : utf8.decode(this.body);
        try {
          this.#json = { ok: true, value: JSON.parse(text) };
        } catch (err) {
          this.#json = { ok: false, error: new Error(jsonErrorMessage(text, err as Error)) };
        }
      }
    }
    const parsed = this.#json;
    if (selector !== undefined) return parsed.ok ? gjsonGet(parsed.value, selector) : undefined;
    if (!parsed.ok) throw parsed.error;
    return parsed.value;
  }

  /** @internal See {@link attachRequester}. */
  static attach(res: Response, request: ResponseRequester): Response {
    res.#follow = request;
    return res;
  }

  /** The body parsed as HTML (k6/html); with a selector, the matches of `find(selector)`. */
  html(selector?: string): unknown {
    if (this.body === null) {
      throw new Error(
        "the body is null so we can't transform it to HTML - this likely was because of a " +
          "request error getting the response",
      );
    }
    const html = htmlModule.get();
    if (!html) throw htmlUnavailable("Response.html()");
    const doc = html.parseHTML(this.body, this.url);
    return selector === undefined ? doc : doc.find(String(selector));
  }

  /**
   * Fills in and submits a form of this page, as k6 does: `formSelector` (default `form`),
   * `submitSelector` (default `[type="submit"]`, whose name and value are sent), `fields`
   * overriding the form's values, and `params` for the request. GET puts the values in the
   * query (replacing the action's), other methods send them form-encoded.
   */
  submitForm(args?: unknown): unknown {
    const opts = (args ?? {}) as Record<string, unknown>;
    const formSelector = opts.formSelector === undefined ? "form" : String(opts.formSelector);
    const submitSelector = opts.submitSelector === undefined
      ? '[type="submit"]'
      : String(opts.submitSelector);
    const fields = typeof opts.fields === "object" && opts.fields !== null
      ? opts.fields as Record<string, unknown>
      : {};
    const params = opts.params ?? null;
    const form = this.html(formSelector) as HtmlSelection;
    if (form.size() === 0) {
      throw new Error(`no form found for selector '${formSelector}' in response '${this.url}'`);
    }
    const method = form.attr("method");
    const requestMethod = method === undefined ? "GET" : String(method).toUpperCase();
    const action = form.attr("action");
    const target = action === undefined ? this.url : resolveReference(this.url, String(action));
    const values = form.serializeObject();
    const submit = form.find(submitSelector);
    const submitName = submit.attr("name");
    const submitValue = submit.val();
    if (submitName !== undefined && submitValue !== undefined) {
      values[String(submitName)] = submitValue;
    }
    Object.assign(values, fields);
    const request = this.#follow;
    if (!request) throw new Error("submitForm() needs a response from k6/http");
    if (requestMethod === "GET") {
      const query = new Map<string, string[]>();
      for (const [k, v] of Object.entries(values)) query.set(k, [String(v)]);
      const u = target.replace(/[?#].*$/, "");
      const hash = /#.*$/.exec(target)?.[0] ?? "";
      const encoded = encodeQuery(query);
      return request("GET", u + (encoded === "" ? "" : "?" + encoded) + hash, null, params);
    }
    return request(requestMethod, target, values, params);
  }

  /** Follows a link of this page (`selector`, default `a[href]`) with a GET. */
  clickLink(args?: unknown): unknown {
    const opts = (args ?? {}) as Record<string, unknown>;
    const selector = opts.selector === undefined ? "a[href]" : String(opts.selector);
    const link = this.html(selector) as HtmlSelection;
    if (link.size() === 0) {
      throw new Error(`no element found for selector '${selector}' in response '${this.url}'`);
    }
    const href = link.attr("href");
    if (href === undefined) {
      throw new Error(
        `no valid href attribute value found on element '${selector}' in response '${this.url}'`,
      );
    }
    const request = this.#follow;
    if (!request) throw new Error("clickLink() needs a response from k6/http");
    return request("GET", resolveReference(this.url, String(href)), undefined, opts.params ?? null);
  }
}

/** How a Response's submitForm() and clickLink() send their request (its VU's k6/http). */
export type ResponseRequester = (
  method: string,
  url: string,
  body: unknown,
  params: unknown,
) => unknown;

/** Lets `res` send follow-up requests (submitForm, clickLink) through `request`. */
export function attachRequester(res: Response, request: ResponseRequester): Response {
  return Response.attach(res, request);
}

/** `ref` resolved against `base`, as a browser resolves a link (`ref` itself if it can't). */
function resolveReference(base: string, ref: string): string {
  try {
    return new URL(ref, base).href;
  } catch {
    return ref;
  }
}

/** Go's `url.Values.Encode`: keys sorted, `+` for spaces, `A-Za-z0-9-_.~` left as they are. */
export function encodeQuery(values: Map<string, string[]>): string {
  const keys = [...values.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const parts: string[] = [];
  for (const k of keys) {
    for (const v of values.get(k)!) parts.push(`${queryEscape(k)}=${queryEscape(v)}`);
  }
  return parts.join("&");
}

function jsonErrorMessage(text: string, err: Error): string {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return `cannot parse json due to an error: ${err.message}`;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  const col = pos - before.lastIndexOf("\n");
  return `cannot parse json due to an error at line ${line}, character ${col} , error: ${err.message}`;
}

/** A k6 `CookieJar` (VU jar or `new http.CookieJar()`). */
export class CookieJar {
  /** @internal */
  readonly store = new CookieStore();
  cookiesForURL(url: string | HttpURL): Record<string, string[]> {
    return this.store.cookiesForURL(new URL(String(url)));
  }
  set(url: string | HttpURL, name: string, value: string, opts?: CookieOptions | null): void {
    this.store.set(String(url), String(name), String(value), opts ?? {});
  }
  clear(url: string | HttpURL): void {
    this.store.clear(new URL(String(url)));
  }
  delete(url: string | HttpURL, name: string): void {
    if (name === undefined || name === null || name === "") {
      throw new Error("you must specify a name to delete a cookie");
    }
    this.store.delete(new URL(String(url)), String(name));
  }
}

type Body = unknown;
/** `params` of a request (js-api.md §3.3). */
export interface Params {
  headers?: Record<string, unknown>;
  tags?: Record<string, unknown>;
  timeout?: number | string;
  redirects?: number;
  auth?: string;
  cookies?: Record<string, string | { value: string; replace?: boolean }>;
  jar?: CookieJar;
  responseType?: "text" | "binary" | "none";
  responseCallback?: ExpectedStatuses | null;
  compression?: string;
  throw?: boolean;
}
type BatchRequest =
  | string
  | HttpURL
  | [string, string | HttpURL, Body?, Params?]
  | { method?: string; url: string | HttpURL; body?: Body; params?: Params };

/** The object scripts get from `import http from "k6/http"`. */
export interface K6HttpModule {
  get(url: string | HttpURL, params?: Params | null, ...rest: unknown[]): Promise<Response>;
  head(url: string | HttpURL, params?: Params | null, ...rest: unknown[]): Promise<Response>;
  post(url: string | HttpURL, body?: Body, params?: Params | null): Promise<Response>;
  put(url: string | HttpURL, body?: Body, params?: Params | null): Promise<Response>;
  patch(url: string | HttpURL, body?: Body, params?: Params | null): Promise<Response>;
  del(url: string | HttpURL, body?: Body, params?: Params | null): Promise<Response>;
  options(url: string | HttpURL, body?: Body, params?: Params | null): Promise<Response>;
  request(
    method: string,
    url: string | HttpURL,
    body?: Body,
    params?: Params | null,
  ): Promise<Response>;
  asyncRequest(
    method: string,
    url: string | HttpURL,
    body?: Body,
    params?: Params | null,
  ): Promise<Response>;
  batch(
    requests: BatchRequest[] | Record<string, BatchRequest>,
  ): Promise<Response[] | Record<string, Response>>;
  url(strings: TemplateStringsArray, ...values: unknown[]): HttpURL;
  file(data: string | ArrayBuffer | Uint8Array, filename?: string, contentType?: string): FileData;
  cookieJar(): CookieJar;
  CookieJar: typeof CookieJar;
  expectedStatuses(...args: (number | { min: number; max: number })[]): ExpectedStatuses;
  setResponseCallback(cb: ExpectedStatuses | null): void;
  readonly TLS_1_0: "tls1.0";
  readonly TLS_1_1: "tls1.1";
  readonly TLS_1_2: "tls1.2";
  readonly TLS_1_3: "tls1.3";
  readonly OCSP_STATUS_GOOD: "good";
  readonly OCSP_STATUS_REVOKED: "revoked";
  readonly OCSP_STATUS_SERVER_FAILED: "server_failed";
  readonly OCSP_STATUS_UNKNOWN: "unknown";
  [iterationEnd](): void;
  [closeModule](): void;
}

/** Go's textproto.CanonicalMIMEHeaderKey. */
export function canonicalHeaderKey(name: string): string {
  let upper = true;
  let out = "";
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    // Go leaves keys with spaces or other invalid token bytes untouched.
    if (c === 32 || c > 126 || c < 33) return name;
    let ch = name[i];
    if (upper && c >= 97 && c <= 122) ch = String.fromCharCode(c - 32);
    else if (!upper && c >= 65 && c <= 90) ch = String.fromCharCode(c + 32);
    out += ch;
    upper = c === 45;
  }
  return out;
}

/** Fast path for the header names responses carry all the time. */
const canonicalCache = new Map<string, string>();
function canonicalCached(name: string): string {
  let c = canonicalCache.get(name);
  if (c === undefined) {
    c = canonicalHeaderKey(name);
    if (canonicalCache.size < 1000) canonicalCache.set(name, c);
  }
  return c;
}

/** Timings in whole nanoseconds, as k6 measures them (metrics and `res.timings` alike). */
function roundTimings(r: RawResult): void {
  r.blocked = wholeNanosMs(r.blocked);
  r.connecting = wholeNanosMs(r.connecting);
  r.tlsHandshaking = wholeNanosMs(r.tlsHandshaking);
  r.sending = wholeNanosMs(r.sending);
  r.waiting = wholeNanosMs(r.waiting);
  r.receiving = wholeNanosMs(r.receiving);
}

function maskURL(u: string): string {
  // scheme://user:pass@host → scheme://****:****@host (k6 masks both parts)
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/@?#]*)@/.exec(u);
  if (!m) return u;
  const hasPass = m[2].includes(":");
  return m[1] + (hasPass ? "****:****" : "****") + "@" + u.slice(m[0].length);
}

function tagValue(key: string, v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw new Error(`invalid value for metric tag "${key}": ${JSON.stringify(v)}`);
}

function goMethodName(method: string): string {
  return method.length === 0 ? method : method[0].toUpperCase() + method.slice(1).toLowerCase();
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);
/** The expected status of a digest request's first response: the challenge. */
const digest401 = new ExpectedStatuses([[401, 401]]);
const defaultMaxRedirects = 10;

interface Parsed {
  headers: Map<string, string>; // canonical name → value
  tags: Record<string, string>;
  timeout: number;
  redirects: number;
  redirectsSet: boolean;
  responseType: "text" | "binary" | "none";
  cookies: Map<string, { value: string; replace: boolean }>;
  jar: CookieStore;
  callback: ExpectedStatuses | null;
  compression: string[];
  throwErrors: boolean;
  /** `digest`: answer the server's 401 challenge with the URL's credentials. */
  digest: boolean;
}

class RequestError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Builds the `k6/http` module for one VU.
 *
 * @example
 * ```ts
 * const http = createHttpModule(state);
 * http.setResponseCallback(http.expectedStatuses(200, { min: 300, max: 399 }));
 * ```
 */
export function createHttpModule(state: VUState, opts: HttpModuleOptions = {}): K6HttpModule {
  const executor: RequestExecutor = opts.executor ??
    new HttpTransport(transportOptionsFromConfig(state.http));
  const reg = state.registry;
  const metric = (name: string): Metric => {
    const m = reg.get(name);
    if (!m) throw new Error(`built-in metric ${name} is not registered`);
    return m;
  };
  const mReqs = metric("http_reqs");
  const mDuration = metric("http_req_duration");
  const mBlocked = metric("http_req_blocked");
  const mConnecting = metric("http_req_connecting");
  const mTLS = metric("http_req_tls_handshaking");
  const mSending = metric("http_req_sending");
  const mWaiting = metric("http_req_waiting");
  const mReceiving = metric("http_req_receiving");
  const mFailed = metric("http_req_failed");

  let responseCallback: ExpectedStatuses | null = new ExpectedStatuses([[200, 399]]);
  const vuJar = new CookieJar();
  let requestCounter = 0;

  function parseParams(params: unknown, bodyContentType: string): Parsed {
    const http = state.http;
    const p: Parsed = {
      headers: new Map(),
      tags: {},
      timeout: http.timeout,
      redirects: http.maxRedirects,
      redirectsSet: http.maxRedirects !== defaultMaxRedirects,
      responseType: http.discardResponseBodies ? "none" : "text",
      cookies: new Map(),
      jar: vuJar.store,
      callback: responseCallback,
      compression: [],
      throwErrors: state.throwErrors,
      digest: false,
    };
    if (http.userAgent !== "") p.headers.set("User-Agent", http.userAgent);
    if (bodyContentType !== "") p.headers.set("Content-Type", bodyContentType);
    if (params === undefined || params === null) return p;
    if (typeof params !== "object") throw new Error("invalid params: expected an object");
    const o = params as Params & Record<string, unknown>;
    if (o.headers && typeof o.headers === "object") {
      // k6 stringifies every value as JS does (null → "null").
      for (const [k, v] of Object.entries(o.headers)) {
        p.headers.set(canonicalHeaderKey(k), String(v));
      }
    }
    if (o.tags && typeof o.tags === "object") {
      try {
        for (const [k, v] of Object.entries(o.tags)) p.tags[k] = tagValue(k, v);
      } catch (err) {
        throw new RequestError(0, `invalid HTTP request metric tags: ${(err as Error).message}`);
      }
    }
    if (o.timeout !== undefined && o.timeout !== null) {
      try {
        p.timeout = parseDuration(o.timeout, "params.timeout");
      } catch (err) {
        throw new RequestError(0, `invalid timeout value: ${(err as Error).message}`);
      }
    }
    if (o.redirects !== undefined && o.redirects !== null) {
      p.redirects = Number(o.redirects);
      p.redirectsSet = true;
    }
    if (o.responseType !== undefined) {
      if (o.responseType !== "text" && o.responseType !== "binary" && o.responseType !== "none") {
        throw new RequestError(
          0,
          `${String(o.responseType)} does not belong to ResponseType values`,
        );
      }
      p.responseType = o.responseType;
    }
    if (o.cookies && typeof o.cookies === "object") {
      for (const [k, v] of Object.entries(o.cookies)) {
        if (v !== null && typeof v === "object") {
          p.cookies.set(k, { value: String(v.value), replace: v.replace === true });
        } else p.cookies.set(k, { value: String(v), replace: false });
      }
    }
    if (o.jar !== undefined && o.jar !== null) {
      if (o.jar instanceof CookieJar) p.jar = o.jar.store;
    }
    if ("responseCallback" in o) {
      const cb = o.responseCallback;
      if (cb !== null && cb !== undefined && !(cb instanceof ExpectedStatuses)) {
        throw new RequestError(0, "unsupported responseCallback");
      }
      p.callback = cb ?? null;
    }
    if (typeof o.compression === "string" && o.compression !== "") {
      for (const c of o.compression.split(",")) {
        const alg = c.trim();
        if (!["gzip", "deflate", "br", "zstd"].includes(alg)) {
          throw new RequestError(
            0,
            `unknown compression algorithm ${alg}, supported algorithms are [gzip deflate br zstd]`,
          );
        }
        p.compression.push(alg);
      }
    }
    if (o.auth === "digest") p.digest = true;
    else if (o.auth !== undefined && o.auth !== null && o.auth !== "basic") {
      throw new Error(`auth "${o.auth}" is not supported yet (only "basic" and "digest")`);
    }
    if (typeof o.throw === "boolean") p.throwErrors = o.throw;
    return p;
  }

  function compress(bytes: Uint8Array, algs: string[]): Uint8Array {
    let out: Uint8Array = bytes;
    for (const alg of algs) {
      out = alg === "gzip"
        ? zlib.gzipSync(out)
        : alg === "deflate"
        ? zlib.deflateSync(out)
        : alg === "br"
        ? zlib.brotliCompressSync(out)
        : zlib.zstdCompressSync(out);
    }
    return out;
  }

  const follow: ResponseRequester = (method, url, body, params) =>
    request(method, url, body, params);

  function failedResponse(method: string, url: string, code: number, msg: string): Response {
    const r = attachRequester(new Response(), follow);
    r.url = url;
    r.error = msg;
    r.error_code = code;
    r.request = { method, url, headers: {}, body: "", cookies: {} };
    return r;
  }

  /** Logs (or throws, with `throw`) a request failure, k6-style. */
  function reportFailure(p: { throwErrors: boolean }, method: string, url: string, msg: string) {
    const text = `${goMethodName(method)} "${maskURL(url)}": ${msg}`;
    if (p.throwErrors) throw new Error(text);
    state.logger.warn("Request Failed", { error: text });
  }

  function emitTrail(
    r: RawResult,
    method: string,
    nameTag: string,
    urlTag: string,
    userTags: Record<string, string>,
    callback: ExpectedStatuses | null,
  ): void {
    const st = state.systemTags;
    const tags: Record<string, string> = { ...state.tags, ...userTags };
    if (st.has("name")) tags.name = nameTag;
    if (st.has("url")) tags.url = urlTag;
    if (st.has("method")) tags.method = method;
    if (r.errorCode !== 0 && r.status === 0) {
      if (st.has("error")) tags.error = r.error;
      if (st.has("error_code")) tags.error_code = String(r.errorCode);
      if (st.has("status")) tags.status = "0";
    } else {
      if (st.has("status")) tags.status = String(r.status);
      if (r.status >= 400 && st.has("error_code")) tags.error_code = String(1000 + r.status);
      if (st.has("proto") && r.proto !== "") tags.proto = r.proto;
      if (st.has("tls_version") && r.tlsVersion !== "") tags.tls_version = r.tlsVersion;
    }
    if (st.has("ip") && r.remoteIP !== "") tags.ip = r.remoteIP;
    const duration = wholeNanosMs(r.sending + r.waiting + r.receiving);
    const values: [Metric, number][] = [
      [mReqs, 1],
      [mDuration, duration],
      [mBlocked, r.blocked],
      [mConnecting, r.connecting],
      [mTLS, r.tlsHandshaking],
      [mSending, r.sending],
      [mWaiting, r.waiting],
      [mReceiving, r.receiving],
    ];
    if (callback !== null) {
      const expected = callback.matches(r.status);
      if (st.has("expected_response")) tags.expected_response = expected ? "true" : "false";
      values.push([mFailed, expected ? 0 : 1]);
    }
    state.emit(tags, r.endTime, values, state.metadata());
  }

  function debugDump(
    id: number,
    req: PreparedRequest,
    r: RawResult,
    tags: Record<string, string>,
  ): void {
    const mode = state.http.httpDebug;
    const u = new URL(req.url);
    let out = `${req.method} ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n`;
    for (let i = 0; i < req.headers.length; i += 2) {
      out += `${req.headers[i]}: ${req.headers[i + 1]}\r\n`;
    }
    out += "\r\n";
    if (mode === "full" && req.body) out += utf8.decode(req.body);
    const fields = {
      source: "http-debug",
      vu: state.id,
      iter: state.iteration,
      request_id: String(id),
      ...tags,
    };
    state.logger.info(`Request:\n${out}`, fields);
    if (r.status === 0) return;
    let resp = `${r.proto} ${r.status} ${r.statusText}\r\n`;
    for (let i = 0; i < r.headers.length; i += 2) {
      resp += `${r.headers[i]}: ${r.headers[i + 1]}\r\n`;
    }
    resp += "\r\n";
    if (mode === "full" && r.body) resp += utf8.decode(r.body);
    state.logger.info(`Response:\n${resp}`, fields);
  }

  async function execute(
    method: string,
    urlArg: unknown,
    body: unknown,
    params: unknown,
  ): Promise<Response> {
    let urlString: string;
    let templateName: string | undefined;
    if (urlArg instanceof HttpURL) {
      urlString = urlArg.url;
      templateName = urlArg.name;
    } else if (typeof urlArg === "string") urlString = urlArg;
    else {
      throw new RequestError(ErrorCode.InvalidURL, `invalid URL: '#${String(urlArg)}'`);
    }
    let url: URL;
    try {
      url = new URL(urlString);
    } catch {
      throw new RequestError(
        ErrorCode.InvalidURL,
        `invalid URL: parse "${urlString}": invalid URI for request`,
      );
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new RequestError(
        ErrorCode.Generic,
        `${goMethodName(method)} "${urlString}": unsupported protocol scheme "${
          url.protocol.slice(0, -1)
        }"`,
      );
    }
    let enc;
    try {
      enc = encodeBody(body);
    } catch (err) {
      throw new RequestError(0, (err as Error).message);
    }
    for (const w of enc.warnings) state.logger.warn(w);
    const p = parseParams(params, enc.contentType);
    let bytes = enc.bytes;
    if (bytes !== null && p.compression.length > 0) {
      bytes = compress(bytes, p.compression);
      const userEncoding = p.headers.get("Content-Encoding");
      if (userEncoding !== undefined && userEncoding !== p.compression.join(", ")) {
        state.logger.warn(
          "There's a mismatch between the desired `compression` the manually set " +
            "`Content-Encoding` header in the request, the custom header has precedence and " +
            "won't be overwritten. This may result in invalid data being sent to the server.",
        );
      } else p.headers.set("Content-Encoding", p.compression.join(", "));
    }
    const userLength = p.headers.get("Content-Length");
    if (userLength !== undefined) {
      p.headers.delete("Content-Length");
      if (Number(userLength) !== (bytes?.length ?? 0)) {
        state.logger.warn(
          `Content-Length header value ${userLength} differs from the actual body length ` +
            `${bytes?.length ?? 0}; the actual length is sent`,
        );
      }
    }

    const maskedURL = maskURL(urlString);
    const fixedName = p.tags.name ??
      (templateName !== undefined && templateName !== maskedURL && state.systemTags.has("name")
        ? templateName
        : undefined);
    const discard = p.responseType === "none";
    const deadline = performance.now() + p.timeout;
    // Digest: the URL's credentials answer the challenge; they must not go out as Basic.
    let digest: { username: string; password: string } | undefined;
    if (p.digest && (url.username !== "" || url.password !== "")) {
      digest = {
        username: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
      };
      url = new URL(url.href);
      url.username = "";
      url.password = "";
    }
    // As in k6, the first response of a digest request is expected when it is the 401.
    let digestFirst = digest !== undefined && p.callback !== null;
    let hopMethod = method;
    let hopBody = bytes;
    let hopURL = url;
    let firstInfo: RequestInfo | null = null;
    let last: RawResult | null = null;
    let lastURLString = urlString;
    for (let hop = 0;; hop++) {
      const headers: string[] = [];
      for (const [k, v] of p.headers) headers.push(k, v);
      const sameHost = hopURL.host === url.host;
      const skip = new Set<string>();
      let cookie = "";
      const infoCookies: RequestInfo["cookies"] = {};
      if (sameHost) {
        for (const [name, c] of p.cookies) {
          if (c.replace) skip.add(name);
          cookie += (cookie === "" ? "" : "; ") + name + "=" + c.value;
          (infoCookies[name] ??= []).push({ name, value: c.value, replace: c.replace });
        }
      }
      const jarCookie = p.jar.cookieHeader(hopURL, skip);
      if (jarCookie !== "") {
        if (hop === 0) {
          for (const [name, values] of Object.entries(p.jar.cookiesForURL(hopURL))) {
            if (skip.has(name)) continue;
            for (const value of values) {
              (infoCookies[name] ??= []).push({ name, value, replace: false });
            }
          }
        }
        // k6 adds the request's own cookies first, then the jar's.
        cookie = cookie === "" ? jarCookie : cookie + "; " + jarCookie;
      }
      if (cookie !== "") headers.push("Cookie", cookie);
      if (hop > 0 && !sameHost) {
        for (let i = headers.length - 2; i >= 0; i -= 2) {
          if (headers[i] === "Authorization" || headers[i] === "Www-Authenticate") {
            headers.splice(i, 2);
          }
        }
      }
      const reqURLString = hop === 0 ? urlString : hopURL.href;
      if (firstInfo === null) {
        const h: Record<string, string[]> = {};
        for (let i = 0; i < headers.length; i += 2) (h[headers[i]] ??= []).push(headers[i + 1]);
        firstInfo = {
          method,
          url: maskedURL,
          headers: h,
          body: bodyText(hopBody),
          cookies: infoCookies,
        };
      }
      const prepared: PreparedRequest = {
        method: hopMethod,
        url: hopURL.href,
        headers,
        body: hopBody,
        timeout: Math.max(1, deadline - performance.now()),
        discardBody: discard,
      };
      if (hop === 0 && opts.rateLimiter !== undefined) await opts.rateLimiter.wait(state.signal);
      // A name set by the user or by http.url is the name and the url of every hop (k6 ≥
      // v0.41 keeps both low-cardinality); otherwise both are the hop's masked URL.
      const hopMasked = hop === 0 ? maskedURL : maskURL(reqURLString);
      const nameTag = fixedName ?? hopMasked;
      const urlTag = nameTag;
      const roundTrip = async (req: PreparedRequest): Promise<RawResult> => {
        const r = await executor.executeRequest(req, state.signal);
        roundTimings(r);
        state.addDataSent(r.bytesSent);
        state.addDataReceived(r.bytesReceived);
        emitTrail(r, hopMethod, nameTag, urlTag, p.tags, digestFirst ? digest401 : p.callback);
        digestFirst = false;
        if (state.http.httpDebug !== "") debugDump(++requestCounter, req, r, p.tags);
        return r;
      };
      let r = await roundTrip(prepared);
      if (digest !== undefined && r.status === 401) {
        // Each hop that meets a challenge is sent again with its answer (k6 does the same,
        // without caching nonces); the 401's own cookies are not kept, as in k6.
        const answer = digestAnswer(r, hopMethod, hopURL, digest);
        if (answer !== undefined) {
          r = await roundTrip({
            ...prepared,
            headers: [...prepared.headers, "Authorization", answer],
            timeout: Math.max(1, deadline - performance.now()),
          });
        }
      }
      last = r;
      lastURLString = reqURLString;
      if (r.errorCode !== 0 && r.status === 0) {
        // k6 never returns a 101 response: it is always an exception.
        if (r.error.startsWith("unsupported response status: 101")) throw new Error(r.error);
        break;
      }
      const setCookies: string[] = [];
      let location: string | undefined;
      for (let i = 0; i < r.headers.length; i += 2) {
        const n = r.headers[i].toLowerCase();
        if (n === "set-cookie") setCookies.push(r.headers[i + 1]);
        else if (n === "location") location = r.headers[i + 1];
      }
      if (setCookies.length > 0) p.jar.storeFromResponse(hopURL, setCookies);
      if (!redirectStatuses.has(r.status) || location === undefined) break;
      if (hop >= p.redirects) {
        if (!p.redirectsSet) {
          state.logger.warn(
            `Stopped after ${hop + 1} redirects and returned the redirection; pass ` +
              "{ redirects: n } in request params or set global maxRedirects to silence this",
            { url: urlString },
          );
        }
        break;
      }
      let next: URL;
      try {
        next = new URL(location, hopURL);
      } catch {
        break;
      }
      if (r.status === 301 || r.status === 302 || r.status === 303) {
        if (hopMethod !== "GET" && hopMethod !== "HEAD") {
          hopMethod = "GET";
          hopBody = null;
          p.headers.delete("Content-Type");
          p.headers.delete("Content-Encoding");
        }
      }
      hopURL = next;
    }
    return buildResponse(last!, lastURLString, firstInfo!, p, method);
  }

  /** The Authorization answering the Digest challenge of a 401, if it has one. */
  function digestAnswer(
    r: RawResult,
    method: string,
    url: URL,
    creds: { username: string; password: string },
  ): string | undefined {
    for (let i = 0; i < r.headers.length; i += 2) {
      if (r.headers[i].toLowerCase() !== "www-authenticate") continue;
      const challenge = parseDigestChallenge(r.headers[i + 1]);
      if (challenge === undefined) continue;
      return digestAuthorization(challenge, {
        method,
        uri: url.pathname + url.search,
        ...creds,
      });
    }
    return undefined;
  }

  function buildResponse(
    r: RawResult,
    url: string,
    info: RequestInfo,
    p: Parsed,
    method: string,
  ): Response {
    const res = attachRequester(new Response(), follow);
    res.url = maskURL(url);
    res.request = info;
    res.remote_ip = r.remoteIP;
    res.remote_port = r.remotePort;
    res.tls_version = r.tlsVersion;
    res.tls_cipher_suite = r.tlsCipherSuite;
    const t = res.timings;
    t.blocked = r.blocked;
    t.connecting = r.connecting;
    t.tls_handshaking = r.tlsHandshaking;
    t.sending = r.sending;
    t.waiting = r.waiting;
    t.receiving = r.receiving;
    t.duration = wholeNanosMs(r.sending + r.waiting + r.receiving);
    if (r.errorCode !== 0 && r.status === 0) {
      res.error = r.error;
      res.error_code = r.errorCode;
      reportFailure(p, method, url, r.errorDetail === "" ? r.error : r.errorDetail);
      return res;
    }
    res.status = r.status;
    res.status_text = r.statusText === "" ? String(r.status) : `${r.status} ${r.statusText}`;
    res.proto = r.proto;
    if (r.status >= 400) res.error_code = 1000 + r.status;
    const headers = res.headers;
    for (let i = 0; i < r.headers.length; i += 2) {
      const name = canonicalCached(r.headers[i]);
      const prev = headers[name];
      headers[name] = prev === undefined ? r.headers[i + 1] : prev + ", " + r.headers[i + 1];
      if (name === "Set-Cookie") {
        const c = parseSetCookie(r.headers[i + 1]);
        if (c) (res.cookies[c.name] ??= []).push(c);
      }
    }
    // k6: no body (null) for 1xx, 204 and 304 and with responseType "none"; anything else,
    // HEAD included, has a (possibly empty) body.
    const noContent = r.status < 200 || r.status === 204 || r.status === 304;
    if (p.responseType !== "none" && !noContent) {
      const b = r.body ?? new Uint8Array(0);
      res.body = p.responseType === "binary"
        ? (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength
          ? b.buffer as ArrayBuffer
          : b.slice().buffer as ArrayBuffer)
        : utf8.decode(b);
    }
    return res;
  }

  /** request() with k6's error handling around it. */
  async function request(
    method: string,
    url: unknown,
    body: unknown,
    params: unknown,
  ): Promise<Response> {
    if (state.stage === "init") {
      throw new Error("Making http requests in the init context is not supported");
    }
    if (state.signal.aborted) throw new InterruptedError();
    try {
      return await execute(method, url, body, params);
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      const throwErrors = params !== null && typeof params === "object" &&
          typeof (params as Params).throw === "boolean"
        ? (params as Params).throw!
        : state.throwErrors;
      const urlText = url instanceof HttpURL ? url.url : String(url);
      if (throwErrors) throw new Error(err.message);
      state.logger.warn("Request Failed", { error: err.message });
      return failedResponse(method, urlText, err.code, err.message);
    }
  }

  function getLike(method: string) {
    return (url: string | HttpURL, params?: Params | null, ...rest: unknown[]) => {
      if (rest.length > 0) {
        state.logger.warn(
          `http.${method === "GET" ? "get" : "head"} only accepts a url and a params ` +
            `argument (2 arguments), but ${rest.length + 2} were given`,
        );
      }
      return request(method, url, null, params);
    };
  }
  function withBody(method: string) {
    return (url: string | HttpURL, body?: Body, params?: Params | null) =>
      request(method, url, body, params);
  }

  async function batch(
    requests: BatchRequest[] | Record<string, BatchRequest>,
  ): Promise<Response[] | Record<string, Response>> {
    if (state.stage === "init") {
      throw new Error("Using batch in the init context is not supported");
    }
    if (requests === null || typeof requests !== "object") {
      throw new Error("invalid http.batch() argument: expected an array or an object");
    }
    const isArray = Array.isArray(requests);
    const keys = isArray ? requests.map((_, i) => String(i)) : Object.keys(requests);
    const items: { method: string; url: unknown; body: unknown; params: unknown; host: string }[] =
      [];
    const results: Record<string, Response> = {};
    let invalid: string | null = null;
    for (const key of keys) {
      const el = (requests as Record<string, BatchRequest>)[key];
      let method = "GET";
      let url: unknown;
      let body: unknown = null;
      let params: unknown = null;
      if (typeof el === "string" || el instanceof HttpURL) url = el;
      else if (Array.isArray(el)) {
        if (typeof el[0] !== "string") {
          invalid = `invalid method type in batch request ${key}`;
        }
        method = String(el[0]);
        url = el[1];
        body = el[2] ?? null;
        params = el[3] ?? null;
      } else if (el !== null && typeof el === "object") {
        if (el.url === undefined) invalid = `batch request ${key} doesn't have a url key`;
        if (el.method !== undefined && typeof el.method !== "string") {
          invalid = `invalid method type in batch request ${key}`;
        }
        method = (el.method ?? "GET").toUpperCase();
        url = el.url;
        body = method === "GET" || method === "HEAD" ? null : el.body ?? null;
        params = el.params ?? null;
      } else invalid = `invalid batch request ${key}`;
      let host = "";
      try {
        host = new URL(url instanceof HttpURL ? url.url : String(url)).host;
      } catch {
        invalid ??= `invalid URL in batch request ${key}`;
      }
      if (invalid !== null) {
        if (state.throwErrors) throw new Error(invalid);
        state.logger.warn("A batch request failed", { error: invalid });
        results[key] = failedResponse(method, String(url), ErrorCode.InvalidURL, invalid);
        return isArray ? keys.map((k) => results[k]) : results;
      }
      items.push({ method, url, body, params, host });
    }
    const limit = Math.max(1, state.http.batch);
    const perHost = state.http.batchPerHost;
    let firstError: unknown = null;
    await new Promise<void>((resolve) => {
      let active = 0;
      let done = 0;
      const hostActive = new Map<string, number>();
      const pending: number[] = items.map((_, i) => i);
      const pump = () => {
        for (let j = 0; j < pending.length && active < limit;) {
          const i = pending[j];
          const it = items[i];
          const n = hostActive.get(it.host) ?? 0;
          if (perHost > 0 && n >= perHost) {
            j++;
            continue;
          }
          pending.splice(j, 1);
          active++;
          hostActive.set(it.host, n + 1);
          request(it.method, it.url, it.body, it.params).then(
            (res) => {
              results[keys[i]] = res;
            },
            (err) => {
              firstError ??= err;
            },
          ).finally(() => {
            active--;
            done++;
            hostActive.set(it.host, (hostActive.get(it.host) ?? 1) - 1);
            if (done === items.length) resolve();
            else pump();
          });
        }
      };
      if (items.length === 0) resolve();
      else pump();
    });
    if (firstError !== null) throw firstError;
    return isArray ? keys.map((k) => results[k]) : results;
  }

  const mod: K6HttpModule = {
    get: getLike("GET"),
    head: getLike("HEAD"),
    post: withBody("POST"),
    put: withBody("PUT"),
    patch: withBody("PATCH"),
    del: withBody("DELETE"),
    options: withBody("OPTIONS"),
    request: (method, url, body, params) => request(String(method), url, body, params),
    asyncRequest: (method, url, body, params) => request(String(method), url, body, params),
    batch,
    url(strings: TemplateStringsArray, ...values: unknown[]): HttpURL {
      let url = "";
      let name = "";
      for (let i = 0; i < strings.length; i++) {
        url += strings[i];
        name += strings[i];
        if (i < values.length) {
          url += String(values[i]);
          name += "${}";
        }
      }
      try {
        new URL(url);
      } catch {
        throw new Error(`invalid URL: parse "${url}"`);
      }
      return new HttpURL(url, name);
    },
    file(data, filename, contentType): FileData {
      if (
        typeof data !== "string" && !(data instanceof ArrayBuffer) && !(data instanceof Uint8Array)
      ) {
        throw new Error("invalid type for http.file() data: expected a string or an ArrayBuffer");
      }
      const fn = filename ??
        String(BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(performance.now() % 1 * 1e6)));
      return new FileData(data, fn, contentType ?? "application/octet-stream");
    },
    cookieJar(): CookieJar {
      if (state.stage === "init") {
        throw new Error("Making cookie jars in the init context is not supported");
      }
      return vuJar;
    },
    CookieJar,
    expectedStatuses(...args): ExpectedStatuses {
      if (args.length === 0) throw new Error("no arguments");
      const ranges: [number, number][] = [];
      const notValid = (i: number) =>
        new Error(
          `argument number ${i + 1} to expectedStatuses was neither an integer nor an object ` +
            "like {min:100, max:329}",
        );
      args.forEach((a, i) => {
        if (Number.isInteger(a)) {
          ranges.push([a as number, a as number]);
          return;
        }
        if (a === null || typeof a !== "object" || !("min" in a) || !("max" in a)) {
          throw notValid(i);
        }
        if (!Number.isInteger(a.min) || !Number.isInteger(a.max)) {
          throw new Error(`both min and max need to be integers for argument number ${i + 1}`);
        }
        ranges.push([a.min, a.max]);
      });
      return new ExpectedStatuses(ranges);
    },
    setResponseCallback(cb): void {
      if (cb !== null && !(cb instanceof ExpectedStatuses)) {
        throw new Error("unsupported argument, expected http.expectedStatuses");
      }
      responseCallback = cb;
    },
    TLS_1_0: "tls1.0",
    TLS_1_1: "tls1.1",
    TLS_1_2: "tls1.2",
    TLS_1_3: "tls1.3",
    OCSP_STATUS_GOOD: "good",
    OCSP_STATUS_REVOKED: "revoked",
    OCSP_STATUS_SERVER_FAILED: "server_failed",
    OCSP_STATUS_UNKNOWN: "unknown",
    [iterationEnd](): void {
      if (!state.http.noCookiesReset) vuJar.store.reset();
      if (state.http.noVUConnectionReuse) executor.closeIdle();
    },
    [closeModule](): void {
      executor.close();
    },
  };
  return mod;
}
