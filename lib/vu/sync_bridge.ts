/**
 * The exact fallback of issue #2: when the async transform cannot prove a script safe, each
 * VU runs the untransformed script in its own Worker and k6's blocking calls really block.
 *
 * VU side: `http.*` posts the call to the runner over a MessagePort, waits with
 * `Atomics.wait` on a shared control cell, then takes the reply synchronously with
 * `receiveMessageOnPort` (measured here: ~28 µs per round trip). `sleep` is an
 * `Atomics.wait` with a timeout, woken early by an interrupt.
 *
 * Runner side ({@link IoService}): each call runs through the real async `k6/http` module
 * on a shadow VU state that carries the calling VU's tags, so requests, timings, samples and
 * cookies behave exactly as in the default mode.
 * @module
 */
import { receiveMessageOnPort } from "node:worker_threads";
import type { Metric, MetricRegistry } from "../metrics/metric.ts";
import type { Logger } from "../log.ts";
import {
  attachRequester,
  type CookieJar,
  createHttpModule,
  type ExpectedStatuses,
  HttpURL,
  iterationEnd,
  Response,
} from "../js/http.ts";
import { FileData } from "../js/_http_body.ts";
import type { CookieOptions } from "../js/_http_cookies.ts";
import type { HttpConfig } from "../config/types.ts";
import type { RateLimiter } from "../http/rate_limiter.ts";
import { InterruptedError, type VUStage, type VUState } from "./state.ts";

/** Control cells in the shared buffer. */
const REPLY = 0;
const INTERRUPT = 1;

/** What a VU host in worker mode receives to reach the runner synchronously. */
export interface SyncChannel {
  port: MessagePort;
  control: SharedArrayBuffer;
}

/** The VU's context sent with each call (the shadow state adopts it). */
interface CallContext {
  tags: Readonly<Record<string, string>>;
  group: string;
  iteration: number;
  scenario: string;
  stage: VUStage;
}

type Wire =
  | { __t: "url"; url: string; name: string }
  | {
    __t: "file";
    data: string | ArrayBuffer | Uint8Array;
    filename: string;
    content_type: string;
  }
  | { __t: "expected"; args: unknown[] }
  | { __t: "jar"; id: number };

/** A call from a VU to the runner. */
interface BridgeCall {
  op: "request" | "batch" | "setResponseCallback" | "iterationEnd" | "newJar" | "jar";
  args: unknown[];
  ctx: CallContext;
}

/** The runner's reply. */
interface BridgeReply {
  ok: boolean;
  value?: unknown;
  error?: { name: string; message: string };
  dataSent: number;
  dataReceived: number;
}

/** Marker object for `http.expectedStatuses(...)` on the VU side. */
class SyncExpected {
  readonly args: unknown[];
  constructor(args: unknown[]) {
    this.args = args;
  }
}

/** The cookie-jar methods a VU can call (js-api.md §3.7). */
type JarMethod = "cookiesForURL" | "set" | "clear" | "delete";

/**
 * A VU-side handle on a cookie jar kept by the runner, where the requests run: `id` 0 is the
 * VU's own jar (`http.cookieJar()`), others come from `new http.CookieJar()`.
 */
class BridgeCookieJar {
  readonly id: number;
  readonly #bridge: SyncBridge;
  constructor(bridge: SyncBridge, id: number) {
    this.#bridge = bridge;
    this.id = id;
  }
  cookiesForURL(url: string | HttpURL): Record<string, string[]> {
    return this.#bridge.call("jar", [this.id, "cookiesForURL", url]) as Record<string, string[]>;
  }
  set(url: string | HttpURL, name: string, value: string, opts?: CookieOptions | null): void {
    this.#bridge.call("jar", [this.id, "set", url, name, value, opts ?? null]);
  }
  clear(url: string | HttpURL): void {
    this.#bridge.call("jar", [this.id, "clear", url]);
  }
  delete(url: string | HttpURL, name: string): void {
    this.#bridge.call("jar", [this.id, "delete", url, name]);
  }
}

function encodeArg(v: unknown): unknown {
  if (v instanceof HttpURL) return { __t: "url", url: v.url, name: v.name } satisfies Wire;
  if (v instanceof FileData) {
    return { __t: "file", data: v.data, filename: v.filename, content_type: v.content_type };
  }
  if (v instanceof SyncExpected) return { __t: "expected", args: v.args } satisfies Wire;
  if (v instanceof BridgeCookieJar) return { __t: "jar", id: v.id } satisfies Wire;
  if (typeof v === "function") {
    throw new TypeError("functions can't be passed to http calls in the Worker-per-VU mode");
  }
  if (Array.isArray(v)) return v.map(encodeArg);
  if (v && typeof v === "object" && !(v instanceof ArrayBuffer) && !ArrayBuffer.isView(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = encodeArg(x);
    return out;
  }
  return v;
}

/** VU side: a synchronous `k6/http` and `sleep` over the bridge. */
export class SyncBridge {
  readonly #port: MessagePort;
  readonly #ctl: Int32Array;
  readonly #state: VUState;

  constructor(channel: SyncChannel, state: VUState) {
    this.#port = channel.port;
    this.#ctl = new Int32Array(channel.control);
    this.#state = state;
  }

  /** True once the runner interrupted the current iteration. */
  get interrupted(): boolean {
    return Atomics.load(this.#ctl, INTERRUPT) !== 0;
  }

  /** Clears the interrupt flag (at the start of an iteration or lifecycle call). */
  reset(): void {
    Atomics.store(this.#ctl, INTERRUPT, 0);
  }

  /** Blocks for `ms`, waking early (and throwing) when interrupted. */
  sleep(ms: number): void {
    if (this.interrupted) throw new InterruptedError();
    const until = performance.now() + ms;
    for (;;) {
      const left = until - performance.now();
      if (left <= 0) return;
      Atomics.wait(this.#ctl, INTERRUPT, 0, left);
      if (this.interrupted) throw new InterruptedError();
    }
  }

  /** Calls the runner and blocks until it replies. */
  call(op: BridgeCall["op"], args: unknown[]): unknown {
    if (this.interrupted) throw new InterruptedError();
    const s = this.#state;
    const msg: BridgeCall = {
      op,
      args: args.map(encodeArg),
      ctx: {
        tags: s.tags,
        group: s.group,
        iteration: s.iteration,
        scenario: s.scenario,
        stage: s.stage,
      },
    };
    Atomics.store(this.#ctl, REPLY, 0);
    this.#port.postMessage(msg);
    let reply: { message: BridgeReply } | undefined;
    for (;;) {
      Atomics.wait(this.#ctl, REPLY, 0, 1000);
      reply = receiveMessageOnPort(this.#port as never) as { message: BridgeReply } | undefined;
      if (reply) break;
    }
    const r = reply.message;
    if (r.dataSent) s.addDataSent(r.dataSent);
    if (r.dataReceived) s.addDataReceived(r.dataReceived);
    if (!r.ok) {
      if (r.error?.name === "InterruptedError") throw new InterruptedError();
      const err = new Error(r.error?.message ?? "request failed");
      err.name = r.error?.name ?? "Error";
      throw err;
    }
    return r.value;
  }

  /** The synchronous `k6/http` module. */
  httpModule(): Record<string | symbol, unknown> {
    const toResponse = (v: unknown): Response =>
      attachRequester(Object.assign(new Response(), v), (m, u, b, p) => req(m, u, b, p));
    const req = (method: string, url: unknown, body?: unknown, params?: unknown): Response => {
      if (this.#state.stage === "init") {
        throw new Error("Making http requests in the init context is not supported");
      }
      return toResponse(this.call("request", [method, url, body, params]));
    };
    const model = createHttpModule(this.#state);
    let vuJar: BridgeCookieJar | undefined;
    const newJar = () => new BridgeCookieJar(this, this.call("newJar", []) as number);
    /** `new http.CookieJar()`: a jar the runner creates, reached through the bridge. */
    const JarClass = function CookieJar() {
      if (!new.target) throw new TypeError("CookieJar must be called with new");
      return newJar();
    };
    JarClass.prototype = BridgeCookieJar.prototype; // `jar instanceof http.CookieJar` holds
    return {
      ...model,
      CookieJar: JarClass,
      get: (url: unknown, params?: unknown) => req("GET", url, null, params),
      head: (url: unknown, params?: unknown) => req("HEAD", url, null, params),
      post: (url: unknown, body?: unknown, params?: unknown) => req("POST", url, body, params),
      put: (url: unknown, body?: unknown, params?: unknown) => req("PUT", url, body, params),
      patch: (url: unknown, body?: unknown, params?: unknown) => req("PATCH", url, body, params),
      del: (url: unknown, body?: unknown, params?: unknown) => req("DELETE", url, body, params),
      options: (url: unknown, body?: unknown, params?: unknown) =>
        req("OPTIONS", url, body, params),
      request: (method: string, url: unknown, body?: unknown, params?: unknown) =>
        req(method, url, body, params),
      asyncRequest: (method: string, url: unknown, body?: unknown, params?: unknown) => {
        try {
          return Promise.resolve(req(method, url, body, params));
        } catch (err) {
          return Promise.reject(err);
        }
      },
      batch: (requests: unknown) => {
        const v = this.call("batch", [requests]) as unknown[] | Record<string, unknown>;
        if (Array.isArray(v)) return v.map(toResponse);
        const out: Record<string, Response> = {};
        for (const [k, r] of Object.entries(v)) out[k] = toResponse(r);
        return out;
      },
      expectedStatuses: (...args: unknown[]) => new SyncExpected(args),
      setResponseCallback: (cb: unknown) => {
        this.call("setResponseCallback", [cb]);
      },
      cookieJar: () => vuJar ??= new BridgeCookieJar(this, 0),
      [iterationEnd]: () => {
        this.call("iterationEnd", []);
      },
    };
  }
}

/** Runner side: serves one VU's bridge calls with the real async HTTP module. */
export class IoService {
  readonly #port: MessagePort;
  readonly #ctl: Int32Array;
  #state: ShadowState;
  #http: ReturnType<typeof createHttpModule>;
  /** Jars made by `new http.CookieJar()` on the VU side, by id (0 is the VU's own jar). */
  #jars = new Map<number, CookieJar>();

  constructor(
    channel: { port: MessagePort; control: SharedArrayBuffer },
    shadow: ShadowStateInit,
  ) {
    this.#port = channel.port;
    this.#ctl = new Int32Array(channel.control);
    this.#state = new ShadowState(shadow);
    this.#http = createHttpModule(this.#state, { rateLimiter: shadow.rateLimiter });
    this.#port.onmessage = (e: MessageEvent<BridgeCall>) => this.#serve(e.data);
  }

  /** Applies the final configuration (the options pass ran before it was known). */
  reconfigure(shadow: ShadowStateInit): void {
    this.#state = new ShadowState(shadow);
    this.#http = createHttpModule(this.#state, { rateLimiter: shadow.rateLimiter });
    this.#jars.clear();
  }

  #jar(id: number): CookieJar {
    const jar = id === 0 ? this.#http.cookieJar() : this.#jars.get(id);
    if (!jar) throw new Error(`unknown cookie jar ${id}`);
    return jar;
  }

  /** Interrupts the VU: wakes its sleep and aborts its in-flight request. */
  interrupt(): void {
    Atomics.store(this.#ctl, INTERRUPT, 1);
    Atomics.notify(this.#ctl, INTERRUPT);
    this.#state.abort();
  }

  close(): void {
    this.#port.close();
  }

  async #serve(call: BridgeCall): Promise<void> {
    const s = this.#state;
    s.adopt(call.ctx);
    let reply: BridgeReply;
    try {
      const value = await this.#dispatch(call);
      reply = { ok: true, value, dataSent: s.takeSent(), dataReceived: s.takeReceived() };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      reply = {
        ok: false,
        error: { name: e.name, message: e.message },
        dataSent: s.takeSent(),
        dataReceived: s.takeReceived(),
      };
    }
    this.#port.postMessage(reply);
    Atomics.store(this.#ctl, REPLY, 1);
    Atomics.notify(this.#ctl, REPLY);
  }

  async #dispatch(call: BridgeCall): Promise<unknown> {
    const http = this.#http;
    const args = call.args.map((a) => this.#revive(a));
    switch (call.op) {
      case "request": {
        const [method, url, body, params] = args;
        return plain(
          await http.request(method as string, url as string, body as never, params as never),
        );
      }
      case "batch": {
        const r = await http.batch(args[0] as never);
        if (Array.isArray(r)) return r.map(plain);
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(r)) out[k] = plain(v);
        return out;
      }
      case "setResponseCallback":
        http.setResponseCallback(args[0] as ExpectedStatuses | null);
        return undefined;
      case "iterationEnd":
        http[iterationEnd]();
        return undefined;
      case "newJar": {
        const id = this.#jars.size + 1;
        this.#jars.set(id, new http.CookieJar());
        return id;
      }
      case "jar": {
        const [id, method, ...rest] = args as [number, JarMethod, ...unknown[]];
        const jar = this.#jar(id) as unknown as Record<JarMethod, (...a: unknown[]) => unknown>;
        return jar[method](...rest);
      }
    }
  }

  #revive(v: unknown): unknown {
    if (Array.isArray(v)) return v.map((x) => this.#revive(x));
    if (v && typeof v === "object" && !(v instanceof ArrayBuffer) && !ArrayBuffer.isView(v)) {
      const w = v as Wire;
      if (w.__t === "url") return new HttpURL(w.url, w.name);
      if (w.__t === "file") return new FileData(w.data, w.filename, w.content_type);
      if (w.__t === "jar") return this.#jar(w.id);
      if (w.__t === "expected") {
        return this.#http.expectedStatuses(
          ...(w.args as Array<number | { min: number; max: number }>),
        );
      }
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.#revive(x);
      return out;
    }
    return v;
  }
}

/** A Response as plain, structured-cloneable data. */
function plain(r: Response): Record<string, unknown> {
  return { ...r };
}

/** What the runner gives each shadow state. */
export interface ShadowStateInit {
  id: number;
  http: HttpConfig;
  systemTags: ReadonlySet<string>;
  throwErrors: boolean;
  registry: MetricRegistry;
  logger: Logger;
  emit: VUState["emit"];
  /** The run's shared `rps` bucket, when `rps` > 0. */
  rateLimiter?: RateLimiter;
}

/** A VU state on the runner's side that mirrors the calling VU's context per call. */
class ShadowState implements VUState {
  readonly id: number;
  iteration = -1;
  stage: VUStage = "iteration";
  scenario = "";
  group = "";
  tags: Readonly<Record<string, string>> = {};
  readonly systemTags: ReadonlySet<string>;
  readonly http: HttpConfig;
  readonly throwErrors: boolean;
  readonly registry: MetricRegistry;
  readonly logger: Logger;
  signal: AbortSignal;
  #controller = new AbortController();
  #sent = 0;
  #received = 0;
  readonly #emit: VUState["emit"];

  constructor(init: ShadowStateInit) {
    this.id = init.id;
    this.http = init.http;
    this.systemTags = init.systemTags;
    this.throwErrors = init.throwErrors;
    this.registry = init.registry;
    this.logger = init.logger;
    this.#emit = init.emit;
    this.signal = this.#controller.signal;
  }

  adopt(ctx: CallContext): void {
    if (ctx.iteration !== this.iteration || this.#controller.signal.aborted) {
      this.#controller = new AbortController();
      this.signal = this.#controller.signal;
    }
    this.tags = ctx.tags;
    this.group = ctx.group;
    this.iteration = ctx.iteration;
    this.scenario = ctx.scenario;
    this.stage = ctx.stage;
  }

  abort(): void {
    this.#controller.abort();
  }

  emit(
    tags: Readonly<Record<string, string>>,
    time: number,
    values: ReadonlyArray<readonly [Metric, number]>,
    metadata?: Readonly<Record<string, string>>,
  ): void {
    this.#emit(tags, time, values, metadata);
  }

  addDataSent(bytes: number): void {
    this.#sent += bytes;
  }

  addDataReceived(bytes: number): void {
    this.#received += bytes;
  }

  takeSent(): number {
    const n = this.#sent;
    this.#sent = 0;
    return n;
  }

  takeReceived(): number {
    const n = this.#received;
    this.#received = 0;
    return n;
  }

  metadata(): Readonly<Record<string, string>> | undefined {
    const meta: Record<string, string> = {};
    if (this.systemTags.has("iter") && this.iteration >= 0) meta.iter = String(this.iteration);
    if (this.systemTags.has("vu")) meta.vu = String(this.id);
    return Object.keys(meta).length ? meta : undefined;
  }
}
