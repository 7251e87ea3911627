/**
 * `k6/ws` (js-api.md): k6's legacy WebSocket client. `ws.connect(url, [params], fn)` opens
 * the socket, calls `fn(socket)` to register handlers, runs the socket's events until it
 * closes, and returns the handshake response. In spate the call returns a promise that the
 * script transform awaits (lib/script/transform.ts), so one isolate still holds many VUs.
 *
 * The protocol is the npm `ws` package (the well-kept Node client; it runs on Deno's node
 * compatibility, and unlike the WHATWG WebSocket it sends pings and custom headers). Events,
 * close codes, metrics (`ws_connecting`, `ws_sessions`, `ws_msgs_sent`, `ws_msgs_received`,
 * `ws_ping`, `ws_session_duration`) and tags (`url`, `status`, `subproto`, `ip`) follow k6's
 * module. Loaded only by scripts that import it (lib/js/optional.ts).
 *
 * @example
 * ```ts
 * const ws = createWsModule(state);
 * const res = await ws.connect("ws://127.0.0.1:8080/ws", (socket) => {
 *   socket.on("open", () => socket.send("hi"));
 *   socket.on("message", () => socket.close());
 * });
 * res.status; // 101
 * ```
 * @module
 */
// @ts-types="./_ws.d.ts"
import WebSocket, { type IncomingMessage } from "ws";
import { canonicalHeaderKey, CookieJar } from "./http.ts";
import type { Metric } from "../metrics/metric.ts";
import { wholeNanosMs } from "../metrics/sample.ts";
import { isThenable, type VUState } from "../vu/state.ts";
const utf8Decoder = new TextDecoder();

/** What `ws.connect()` returns: the handshake response. */
export interface WsResponse {
  url: string;
  status: number;
  headers: Record<string, string>;
  body: string;
  error: string;
}

/**
 * Runs tasks one at a time, each to its end. A task that returns a promise (a handler that
 * makes blocking calls, which the script transform made async) holds the queue until it
 * settles, as a blocking handler holds k6's event loop. A task that throws or rejects empties
 * the queue and goes to `onError`. Shared by k6/ws's and k6/websockets's sockets.
 */
export class TaskQueue {
  readonly #tasks: Array<() => unknown> = [];
  readonly #onError: (err: unknown) => void;
  #draining = false;

  constructor(onError: (err: unknown) => void) {
    this.#onError = onError;
  }

  /** Queues `task` (it runs at once, synchronously, when the queue is idle). */
  push(task: () => unknown): void {
    this.#tasks.push(task);
    if (!this.#draining) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#tasks.length > 0) {
        const result = this.#tasks.shift()!();
        if (isThenable(result)) await result;
      }
    } catch (err) {
      this.#tasks.length = 0;
      this.#onError(err);
    } finally {
      this.#draining = false;
    }
  }
}

/**
 * Calls `fns` in order through `call`; once one returns a promise, awaits it and each one after.
 * Returns that promise, or undefined when every call was synchronous.
 */
export function callInOrder<F>(fns: readonly F[], call: (fn: F) => unknown): unknown {
  for (let i = 0; i < fns.length; i++) {
    const result = call(fns[i]);
    if (isThenable(result)) {
      return (async () => {
        await result;
        for (let j = i + 1; j < fns.length; j++) await call(fns[j]);
      })();
    }
  }
  return undefined;
}

/** An error handed to `error` handlers: k6 passes Go errors, which scripts read with `error()`. */
class WsError {
  readonly #message: string;
  constructor(message: string) {
    this.#message = message;
  }
  error(): string {
    return this.#message;
  }
  toString(): string {
    return this.#message;
  }
}

type Handler = (...args: unknown[]) => unknown;

/** gorilla/websocket's names for close codes, as k6's error texts carry them. */
const closeNames: Record<number, string> = {
  1000: " (normal)",
  1001: " (going away)",
  1002: " (protocol error)",
  1003: " (unsupported data)",
  1005: " (no status)",
  1006: " (abnormal closure)",
  1007: " (invalid payload data)",
  1008: " (policy violation)",
  1009: " (message too big)",
  1010: " (mandatory extension missing)",
  1011: " (internal server error)",
  1015: " (TLS handshake error)",
};

/** gorilla/websocket's text for a close error (what k6's error events carry). */
export function closeErrorText(code: number, reason: string): string {
  return `websocket: close ${code}${closeNames[code] ?? ""}${reason ? ": " + reason : ""}`;
}

/** A built-in metric by name. */
export function metricOf(state: VUState, name: string): Metric {
  const m = state.registry.get(name);
  if (!m) throw new Error(`built-in metric ${name} is not registered`);
  return m;
}

/** Response headers as k6 shows them: Go's canonical keys, values joined with `, `. */
export function responseHeaders(res: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (v === undefined) continue;
    out[canonicalHeaderKey(k)] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

/** The socket a connect callback gets. */
class Socket {
  readonly #ws: WebSocket;
  readonly #state: VUState;
  readonly #tags: Readonly<Record<string, string>>;
  readonly #handlers = new Map<string, Handler[]>();
  readonly #pings = new Map<string, number>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  /** Events and timer callbacks, run one at a time, each to its end (it may await). */
  readonly #queue = new TaskQueue((err) => this.#abort(err));
  #pingCounter = 0;
  #closed = false;
  /** Set by connect(): called once the session is over (or a handler failed). */
  onDone: (err?: unknown) => void = () => {};

  constructor(ws: WebSocket, state: VUState, tags: Readonly<Record<string, string>>) {
    this.#ws = ws;
    this.#state = state;
    this.#tags = tags;
  }

  /** Registers a handler for `open`, `message`, `binaryMessage`, `ping`, `pong`, `close`, `error`. */
  on(event: string, handler: unknown): void {
    if (typeof handler !== "function") return;
    const list = this.#handlers.get(String(event)) ?? [];
    list.push(handler as Handler);
    this.#handlers.set(String(event), list);
  }

  /** Sends a text message. */
  send(message: unknown): void {
    this.#ws.send(String(message), (err) => err && this.event("error", new WsError(err.message)));
    this.#count("ws_msgs_sent");
  }

  /** Sends an ArrayBuffer as a binary message. */
  sendBinary(message: unknown): void {
    if (!(message instanceof ArrayBuffer)) {
      const type = message === null || message === undefined
        ? String(message)
        : (message as { constructor?: { name?: string } }).constructor?.name ?? typeof message;
      throw new Error(`expected ArrayBuffer as argument, received: ${type}`);
    }
    this.#ws.send(
      new Uint8Array(message),
      (err) => err && this.event("error", new WsError(err.message)),
    );
    this.#count("ws_msgs_sent");
  }

  /** Sends a ping; its pong is timed into `ws_ping`. */
  ping(): void {
    const id = String(this.#pingCounter++);
    try {
      this.#ws.ping(id);
      this.#pings.set(id, performance.now());
    } catch (err) {
      this.event("error", new WsError((err as Error).message));
    }
  }

  /** Calls `fn` once after `ms` (> 0) while the socket is open. */
  setTimeout(fn: unknown, ms: unknown): void {
    const delay = Number(ms);
    if (!(delay > 0)) {
      throw new Error(`setTimeout requires a >0 timeout parameter, received ${delay.toFixed(2)}`);
    }
    if (typeof fn !== "function") return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      this.schedule(fn as Handler);
    }, delay);
    this.#timers.add(t);
  }

  /** Calls `fn` every `ms` (> 0) while the socket is open. */
  setInterval(fn: unknown, ms: unknown): void {
    const delay = Number(ms);
    if (!(delay > 0)) {
      throw new Error(`setInterval requires a >0 timeout parameter, received ${delay.toFixed(2)}`);
    }
    if (typeof fn !== "function") return;
    const t = setInterval(() => this.schedule(fn as Handler), delay);
    this.#timers.add(t);
  }

  /** Closes the socket (default code 1001, "going away", as in k6). */
  close(code?: unknown): void {
    this.closeWith(code === undefined ? 1001 : Math.trunc(Number(code)));
  }

  /**
   * @internal Ends the session: sends the close frame, then (after the task running now and
   * those already queued) runs the `close` handlers, then lets connect() return.
   */
  closeWith(code: number, reason = ""): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopTimers();
    try {
      this.#ws.close(code, reason);
    } catch (err) {
      // An invalid close code: k6 would send it anyway; the library refuses, so drop the socket.
      this.event("error", new WsError((err as Error).message));
      this.#ws.terminate();
    }
    // The library finishes the closing handshake in the background; don't let it linger.
    const kill = setTimeout(() => this.#ws.terminate(), 1000);
    (kill as unknown as { unref?: () => void }).unref?.();
    this.schedule(() => this.#callHandlers("close", [code]));
    this.schedule(() => this.onDone());
  }

  /** @internal Whether the session is closing or closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** @internal A received pong: times it if it answers one of our pings. */
  pong(data: string): void {
    const sent = this.#pings.get(data);
    if (sent !== undefined) {
      this.#pings.delete(data);
      this.#state.emit(this.#tags, Date.now(), [
        [metricOf(this.#state, "ws_ping"), wholeNanosMs(performance.now() - sent)],
      ], this.#state.metadata());
    }
    this.event("pong");
  }

  /** @internal A received message (none after the session closed: k6 stops reading). */
  message(data: string | ArrayBuffer): void {
    if (this.#closed) return;
    this.#count("ws_msgs_received");
    if (typeof data === "string") this.event("message", data);
    else this.event("binaryMessage", data);
  }

  /** @internal Queues the handlers of an event. */
  event(name: string, ...args: unknown[]): void {
    this.schedule(() => this.#callHandlers(name, args));
  }

  /**
   * @internal Runs `task` after the tasks before it have ended (see {@link TaskQueue}); a task
   * that throws ends the session with its error.
   */
  schedule(task: () => unknown): void {
    this.#queue.push(task);
  }

  #abort(err: unknown): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#stopTimers();
      this.#ws.terminate();
    }
    this.onDone(err);
  }

  /** Calls the handlers of `name` in order, awaiting any that returns a promise. */
  #callHandlers(name: string, args: unknown[]): unknown {
    return callInOrder(this.#handlers.get(name) ?? [], (h) => h(...args));
  }

  #stopTimers(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #count(name: string): void {
    this.#state.emit(
      this.#tags,
      Date.now(),
      [[metricOf(this.#state, name), 1]],
      this.#state.metadata(),
    );
  }
}

interface ConnectArgs {
  setup: Handler;
  headers: Record<string, string>;
  tags: Record<string, string>;
  compression: boolean;
  /** `params.jar`, when it is a k6/http CookieJar. */
  jar?: CookieJar;
}

function parseArgs(state: VUState, args: unknown[]): ConnectArgs {
  let params: unknown;
  let setup: unknown;
  if (args.length === 2) [params, setup] = args;
  else if (args.length === 1) setup = args[0];
  else throw new Error("invalid number of arguments to ws.connect");
  if (typeof setup !== "function") {
    throw new Error("last argument to ws.connect must be a function");
  }
  const out: ConnectArgs = {
    setup: setup as Handler,
    headers: { "User-Agent": state.http.userAgent },
    tags: { ...state.tags },
    compression: false,
  };
  if (params === null || params === undefined) return out;
  const p = params as Record<string, unknown>;
  if (p.headers !== null && typeof p.headers === "object") {
    for (const [k, v] of Object.entries(p.headers)) out.headers[canonicalHeaderKey(k)] = String(v);
  }
  applyTags(out.tags, p.tags, "invalid ws.connect() metric tags");
  if (p.jar instanceof CookieJar) out.jar = p.jar;
  if (p.compression !== undefined && p.compression !== null) {
    const algo = String(p.compression).trim();
    if (algo !== "" && algo !== "deflate") {
      throw new Error(
        `unsupported compression algorithm '${algo}', supported algorithm is 'deflate'`,
      );
    }
    out.compression = algo === "deflate";
  }
  return out;
}

/** Adds a script's `tags` param to `tags`, with k6's errors (prefixed with `what`). */
export function applyTags(tags: Record<string, string>, raw: unknown, what: string): void {
  if (raw === null || raw === undefined) return;
  if (typeof raw !== "object") throw new Error(`${what}: tags must be an object`);
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (v === null || v === undefined || typeof v === "object") {
      throw new Error(
        `${what}: invalid value for metric tag '${k}': ` +
          "only String, Boolean and Number types are accepted as a metric tag value",
      );
    }
    tags[k] = String(v);
  }
}

/** The VU's cookie jar (undefined where it isn't reachable: the Worker-per-VU mode). */
export type JarSource = () => CookieJar | undefined;

/** The http URL a WebSocket URL's cookies belong to (as Go's cookie jar sees it). */
function cookieURL(wsURL: string): URL | undefined {
  try {
    return new URL(wsURL.replace(/^ws/i, "http"));
  } catch {
    return undefined;
  }
}

/** Adds the jar's cookies for `wsURL` to the handshake's Cookie header, after the script's. */
export function addJarCookies(
  jar: CookieJar | undefined,
  wsURL: string,
  headers: Record<string, string>,
): void {
  const u = cookieURL(wsURL);
  const cookies = jar && u ? jar.store.cookieHeader(u) : "";
  if (cookies) headers.Cookie = headers.Cookie ? `${headers.Cookie}; ${cookies}` : cookies;
}

/** Keeps the handshake response's cookies in the jar, as k6 does. */
export function storeJarCookies(
  jar: CookieJar | undefined,
  wsURL: string,
  res: IncomingMessage,
): void {
  const set = res.headers["set-cookie"];
  const u = cookieURL(wsURL);
  if (!jar || !u || set === undefined) return;
  jar.store.storeFromResponse(u, Array.isArray(set) ? set : [set]);
}

/** Reads a failed handshake's body (bounded), as k6 returns it. */
function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    res.on("data", (c: Uint8Array) => {
      if (size < 1 << 20) chunks.push(c);
      size += c.length;
    });
    res.on("end", () => resolve(utf8Decoder.decode(concat(chunks))));
    res.on("error", () => resolve(utf8Decoder.decode(concat(chunks))));
  });
}

/** The chunks as one array. */
export function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function connect(
  state: VUState,
  vuJar: JarSource,
  url: unknown,
  args: unknown[],
): Promise<WsResponse> {
  if (state.stage === "init") {
    throw new Error("using websockets in the init context is not supported");
  }
  const target = String(url);
  const opts = parseArgs(state, args);
  const tags = opts.tags;
  if (state.systemTags.has("url")) tags.url = target;
  const jar = opts.jar ?? vuJar();
  addJarCookies(jar, target, opts.headers);

  // The client library negotiates subprotocols itself (and refuses one it didn't offer), so a
  // Sec-WebSocket-Protocol header, k6's way to ask for one, becomes its protocol list.
  const offered = opts.headers["Sec-Websocket-Protocol"];
  delete opts.headers["Sec-Websocket-Protocol"];
  const protocols = offered?.split(",").map((p) => p.trim()).filter((p) => p !== "");
  let ws: WebSocket;
  try {
    if (!/^wss?:$/i.test(new URL(target).protocol)) throw new Error("not ws or wss");
    ws = new WebSocket(target, protocols, {
      headers: opts.headers,
      handshakeTimeout: 60_000,
      perMessageDeflate: opts.compression,
      rejectUnauthorized: !state.http.insecureSkipTLSVerify,
    });
  } catch {
    // gorilla/websocket's dial error for any URL it can't use; k6 counts the session anyway.
    const error = "malformed ws or wss URL";
    const now = Date.now();
    state.emit(tags, now, [
      [metricOf(state, "ws_sessions"), 1],
      [metricOf(state, "ws_connecting"), 0],
      [metricOf(state, "ws_session_duration"), 0],
    ], state.metadata());
    if (state.throwErrors) throw new Error(error);
    return { url: "", status: 0, headers: {}, body: "", error };
  }
  ws.on("error", () => {}); // handled per phase below
  // The session's events, from the start: data that arrives with the handshake is emitted
  // with 'open', before the session below is set up. They wait until the connect callback
  // has run and `open` was delivered, as k6 reads nothing before then.
  let socket: Socket | undefined;
  const early: Array<(s: Socket) => void> = [];
  let deliver = (fn: (s: Socket) => void): void => {
    early.push(fn);
  };
  ws.on("message", (data: Uint8Array | Uint8Array[], isBinary: boolean) => {
    // A copy: the client's Buffers are views into its pooled memory.
    const bytes = new Uint8Array(Array.isArray(data) ? concat(data) : data);
    const payload = isBinary ? bytes.buffer : utf8Decoder.decode(bytes);
    deliver((s) => s.message(payload));
  });
  ws.on("ping", () => deliver((s) => s.event("ping"))); // the library answers with a pong
  ws.on("pong", (data: Uint8Array) => {
    const id = utf8Decoder.decode(data);
    deliver((s) => s.pong(id));
  });
  ws.on("error", (err: Error) => {
    if (socket) deliver((s) => !s.closed && s.event("error", new WsError(err.message)));
  });
  ws.on("close", (code: number, reason: Uint8Array) => {
    const text = utf8Decoder.decode(reason);
    deliver((s) => {
      if (s.closed) return;
      // k6 reports closes other than normal/going-away as errors first; a dropped connection
      // (no close frame) ends as going away.
      if (code !== 1000 && code !== 1001 && code !== 1005 && code !== 1006) {
        s.event("error", new WsError(closeErrorText(code, text)));
      }
      s.closeWith(code === 1005 || code === 1006 ? 1001 : code, text);
    });
  });
  const connStart = Date.now();
  const t0 = performance.now();
  const stopDial = () => ws.terminate();
  type Dial = { ok: true } | { ok: false; error: string; response?: WsResponse };
  let handshake: WsResponse | undefined;
  const dial = await new Promise<Dial>((resolve) => {
    ws.once("upgrade", (res: IncomingMessage) => {
      storeJarCookies(jar, target, res);
      if (state.systemTags.has("status")) tags.status = String(res.statusCode ?? 101);
      const sub = res.headers["sec-websocket-protocol"];
      if (state.systemTags.has("subproto")) tags.subproto = typeof sub === "string" ? sub : "";
      handshake = {
        url: target,
        status: res.statusCode ?? 101,
        headers: responseHeaders(res),
        body: "",
        error: "",
      };
    });
    ws.once("open", () => resolve({ ok: true }));
    ws.once("unexpected-response", async (req: { destroy(): void }, res: IncomingMessage) => {
      storeJarCookies(jar, target, res);
      if (state.systemTags.has("status")) tags.status = String(res.statusCode ?? 0);
      const body = await readBody(res);
      req.destroy();
      resolve({
        ok: false,
        error: "websocket: bad handshake",
        response: {
          url: "",
          status: res.statusCode ?? 0,
          headers: responseHeaders(res),
          body,
          error: "websocket: bad handshake",
        },
      });
    });
    ws.once("error", (err: Error) => resolve({ ok: false, error: err.message }));
    // An interrupted iteration stops the handshake too (it would wait up to its timeout).
    state.signal.addEventListener("abort", stopDial, { once: true });
  });
  state.signal.removeEventListener("abort", stopDial);
  const connectingMs = performance.now() - t0;
  const raw = (ws as unknown as {
    _socket?: { remoteAddress?: string; bytesWritten?: number; bytesRead?: number };
  })._socket;
  if (raw?.remoteAddress && state.systemTags.has("ip")) {
    tags.ip = raw.remoteAddress.replace(/^::ffff:/, "");
  }
  const metadata = state.metadata();
  state.emit(tags, connStart, [
    [metricOf(state, "ws_sessions"), 1],
    [metricOf(state, "ws_connecting"), wholeNanosMs(connectingMs)],
  ], metadata);
  const endSession = () => {
    state.emit(tags, connStart, [
      [metricOf(state, "ws_session_duration"), wholeNanosMs(performance.now() - t0)],
    ], metadata);
    const s = (ws as unknown as { _socket?: { bytesWritten?: number; bytesRead?: number } })
      ._socket ?? raw;
    if (s?.bytesWritten) state.addDataSent(s.bytesWritten);
    if (s?.bytesRead) state.addDataReceived(s.bytesRead);
  };

  if (!dial.ok) {
    endSession();
    ws.terminate();
    if (state.throwErrors) throw new Error(dial.error);
    return dial.response ?? { url: "", status: 0, headers: {}, body: "", error: dial.error };
  }

  const session = socket = new Socket(ws, state, tags);
  try {
    return await new Promise<WsResponse>((resolve, reject) => {
      const response = handshake ?? { url: target, status: 101, headers: {}, body: "", error: "" };
      response.url = target;
      let settled = false;
      session.onDone = (err?: unknown) => {
        if (settled) return;
        settled = true;
        state.signal.removeEventListener("abort", onAbort);
        if (err !== undefined) reject(err);
        else resolve(response);
      };
      const onAbort = () => session.closeWith(1001);
      state.signal.addEventListener("abort", onAbort, { once: true });
      // The callback first (it may await, if it makes blocking calls), then `open`, then what
      // arrived meanwhile, then the rest as it comes: all through the socket's one queue.
      session.schedule(() => opts.setup(session));
      session.schedule(() => {
        if (state.signal.aborted) {
          session.closeWith(1001);
          return;
        }
        session.event("open");
        deliver = (fn) => fn(session);
        for (const fn of early.splice(0)) fn(session);
      });
    });
  } finally {
    endSession();
  }
}

/** The `k6/ws` module of one VU. */
export function createWsModule(state: VUState, vuJar: JarSource): Record<string, unknown> {
  return {
    connect: (url: unknown, ...args: unknown[]) => connect(state, vuJar, url, args),
  };
}
