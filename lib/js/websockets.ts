/**
 * `k6/websockets` (js-api.md): k6's browser-like `WebSocket` class. A socket connects in the
 * background, delivers `open`, `message`, `ping`, `pong`, `error` and `close` events through
 * `on<event>` handlers and `addEventListener`, and keeps its VU's iteration going until it is
 * closed (lib/vu/event_loop.ts). States, validation errors, event fields, metrics and tags
 * follow k6's module; the protocol is the npm `ws` client, as for `k6/ws` (lib/js/ws.ts).
 *
 * @example
 * ```ts
 * const { WebSocket } = createWebSocketsModule(state, loop);
 * const socket = new WebSocket("ws://127.0.0.1:8080/ws");
 * socket.onopen = () => socket.send("hi");
 * socket.onmessage = (e) => { console.log(e.data); socket.close(); };
 * ```
 * @module
 */
// @ts-types="./_ws.d.ts"
import WsClient, { type IncomingMessage } from "ws";
import { canonicalHeaderKey } from "./http.ts";
import { wholeNanosMs } from "../metrics/sample.ts";
import type { VUState } from "../vu/state.ts";
import type { VUEventLoop } from "../vu/event_loop.ts";
import {
  addJarCookies,
  applyTags,
  callInOrder,
  closeErrorText,
  concat,
  type JarSource,
  metricOf,
  storeJarCookies,
  TaskQueue,
} from "./ws.ts";
import { CookieJar } from "./http.ts";
const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

const eventTypes = ["open", "message", "error", "close", "ping", "pong"] as const;
type EventType = typeof eventTypes[number];
type Listener = (event: unknown) => unknown;

interface Params {
  headers: Record<string, string>;
  tags: Record<string, string>;
  compression: boolean;
  jar?: CookieJar;
}

function parseParams(state: VUState, raw: unknown): Params {
  const out: Params = {
    headers: { "User-Agent": state.http.userAgent },
    tags: { ...state.tags },
    compression: false,
  };
  if (raw === null || raw === undefined) return out;
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    switch (k) {
      case "headers":
        if (v !== null && typeof v === "object") {
          for (const [h, hv] of Object.entries(v)) out.headers[canonicalHeaderKey(h)] = String(hv);
        }
        break;
      case "tags":
        applyTags(out.tags, v, "invalid WebSocket tags option");
        break;
      case "jar":
        if (v instanceof CookieJar) out.jar = v;
        break;
      case "compression": {
        const algo = String(v).trim();
        if (algo !== "deflate") {
          throw new Error(
            `unsupported compression algorithm '${algo}', supported algorithm is 'deflate'`,
          );
        }
        out.compression = true;
        break;
      }
      default:
        throw new Error(`unknown WebSocket's option ${k}`);
    }
  }
  return out;
}

function parseURL(raw: unknown): string {
  if (raw === null || raw === undefined) throw new Error("WebSocket requires a url");
  const text = String(raw);
  try {
    new URL(text);
  } catch (err) {
    throw new Error(
      `WebSocket requires valid url, but got "${text}" which resulted in ${(err as Error).message}`,
    );
  }
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text);
  const scheme = m ? m[1].toLowerCase() : "";
  if (scheme !== "ws" && scheme !== "wss") {
    throw new Error(`WebSocket requires url with scheme ws or wss, but got "${scheme}"`);
  }
  const hash = text.indexOf("#");
  if (hash >= 0) {
    throw new Error(`WebSocket requires no url fragment, but got "${text.slice(hash + 1)}"`);
  }
  return text;
}

/** The `k6/websockets` module of one VU, whose event loop its sockets hold. */
export function createWebSocketsModule(
  state: VUState,
  loop: VUEventLoop,
  vuJar: JarSource,
): Record<string, unknown> {
  class WebSocket {
    static readonly CONNECTING = CONNECTING;
    static readonly OPEN = OPEN;
    static readonly CLOSING = CLOSING;
    static readonly CLOSED = CLOSED;

    readonly url: string;
    #readyState = CONNECTING;
    #bufferedAmount = 0;
    #binaryType: "blob" | "arraybuffer" = "blob";
    #protocol = "";
    #extensions: string[] = [];
    #closeCode = 0;
    #closeReason = "";
    readonly #on = new Map<EventType, Listener | null>();
    readonly #listeners = new Map<EventType, Listener[]>();
    readonly #client: WsClient;
    readonly #tags: Record<string, string>;
    readonly #jar: CookieJar | undefined;
    readonly #pings = new Map<string, number>();
    #pingCounter = 0;
    readonly #hold: ReturnType<VUEventLoop["hold"]>;
    readonly #start = performance.now();
    readonly #started = Date.now();
    #sessionOpen = false;

    constructor(url: unknown, protocols?: unknown, params?: unknown) {
      if (!new.target) throw new TypeError("WebSocket must be called with new");
      if (state.stage === "init") {
        throw new Error("using websockets in the init context is not supported");
      }
      this.url = parseURL(url);
      const p = parseParams(state, params);
      const offered: string[] = [];
      if (typeof protocols === "string") offered.push(protocols);
      else if (Array.isArray(protocols)) { for (const x of protocols) offered.push(String(x)); }
      this.#tags = p.tags;
      this.#jar = p.jar ?? vuJar();
      addJarCookies(this.#jar, this.url, p.headers);
      this.#hold = loop.hold();
      this.#client = new WsClient(this.url, offered.length ? offered : undefined, {
        headers: p.headers,
        handshakeTimeout: 60_000,
        perMessageDeflate: p.compression,
        rejectUnauthorized: !state.http.insecureSkipTLSVerify,
      });
      this.#wire();
    }

    get readyState(): number {
      return this.#readyState;
    }
    get bufferedAmount(): number {
      return this.#bufferedAmount;
    }
    get protocol(): string {
      return this.#protocol;
    }
    get extensions(): string[] {
      return this.#extensions;
    }
    get binaryType(): string {
      return this.#binaryType;
    }
    set binaryType(v: string) {
      if (v !== "blob" && v !== "arraybuffer") {
        throw new Error(
          `unknown binaryType ${v}, the supported ones are "blob" and "arraybuffer"`,
        );
      }
      this.#binaryType = v;
    }

    get onopen(): Listener | null {
      return this.#on.get("open") ?? null;
    }
    set onopen(fn: unknown) {
      this.#setOn("open", fn);
    }
    get onmessage(): Listener | null {
      return this.#on.get("message") ?? null;
    }
    set onmessage(fn: unknown) {
      this.#setOn("message", fn);
    }
    get onerror(): Listener | null {
      return this.#on.get("error") ?? null;
    }
    set onerror(fn: unknown) {
      this.#setOn("error", fn);
    }
    get onclose(): Listener | null {
      return this.#on.get("close") ?? null;
    }
    set onclose(fn: unknown) {
      this.#setOn("close", fn);
    }
    get onping(): Listener | null {
      return this.#on.get("ping") ?? null;
    }
    set onping(fn: unknown) {
      this.#setOn("ping", fn);
    }
    get onpong(): Listener | null {
      return this.#on.get("pong") ?? null;
    }
    set onpong(fn: unknown) {
      this.#setOn("pong", fn);
    }

    #setOn(type: EventType, fn: unknown): void {
      if (fn === null || fn === undefined) {
        this.#on.set(type, null);
        return;
      }
      if (typeof fn !== "function") throw new Error(`a value for 'on${type}' should be callable`);
      this.#on.set(type, fn as Listener);
    }

    addEventListener(type: string, handler: unknown): void {
      if (typeof handler !== "function") {
        throw new Error(`handler for event type "${type}" isn't a callable function`);
      }
      if (!(eventTypes as readonly string[]).includes(type)) {
        state.logger.warn(`can't add event handler: unknown event type: ${type}`);
        return;
      }
      const list = this.#listeners.get(type as EventType) ?? [];
      list.push(handler as Listener);
      this.#listeners.set(type as EventType, list);
    }

    /** Sends a string, an ArrayBuffer, a typed array or DataView, or a Blob. */
    send(data: unknown): void {
      this.#assertOpen();
      if (typeof data === "string") {
        this.#write(data, utf8Encoder.encode(data).length);
      } else if (data instanceof ArrayBuffer) {
        this.#write(new Uint8Array(data.slice(0)), data.byteLength);
      } else if (ArrayBuffer.isView(data)) {
        const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
        this.#write(bytes, bytes.length);
      } else if (data instanceof Blob) {
        const size = data.size;
        this.#bufferedAmount += size;
        const hold = loop.hold();
        data.arrayBuffer().then((ab) => {
          this.#bufferedAmount -= size;
          if (this.#readyState === OPEN) this.#write(new Uint8Array(ab), size);
          hold.release();
        }, (err) => hold.fail(err));
      } else {
        throw new Error(`unsupported send type ${typeof data}`);
      }
    }

    /** Sends a ping; its pong is timed into `ws_ping`. */
    ping(): void {
      this.#assertOpen();
      const id = String(this.#pingCounter++);
      this.#pings.set(id, performance.now());
      this.#client.ping(id, undefined, (err) => err && this.#failed(err));
    }

    /** Starts the closing handshake (1000 unless a code of 1000 or 3000–4999 is given). */
    close(code?: unknown, reason?: unknown): void {
      if (this.#readyState === CLOSED || this.#readyState === CLOSING) return;
      const c = code === undefined || code === null ? 0 : Math.trunc(Number(code));
      const r = reason === undefined || reason === null ? "" : String(reason);
      if (c !== 0 && !(c === 1000 || (c >= 3000 && c <= 4999))) {
        throw new Error(
          "InvalidAccessError: Failed to execute 'close' on 'WebSocket': " +
            `The close code must be either 1000, or between 3000 and 4999. ${c} is neither`,
        );
      }
      if (utf8Encoder.encode(r).length > 123) {
        throw new Error(
          "SyntaxError: Failed to execute 'close' on 'WebSocket': The message must not be " +
            "greater than 123 bytes",
        );
      }
      this.#closeCode = c === 0 ? 1000 : c;
      if (this.#readyState === CONNECTING) {
        this.#readyState = CLOSING;
        this.#client.terminate();
        return;
      }
      this.#readyState = CLOSING;
      this.#client.close(this.#closeCode, r);
    }

    #assertOpen(): void {
      if (this.#readyState !== OPEN) throw new Error("InvalidStateError");
    }

    #write(data: string | Uint8Array, size: number): void {
      this.#bufferedAmount += size;
      this.#client.send(data, (err) => {
        this.#bufferedAmount -= size;
        if (err) this.#failed(err);
        else this.#count("ws_msgs_sent");
      });
    }

    #count(name: string): void {
      state.emit(this.#tags, Date.now(), [[metricOf(state, name), 1]], state.metadata());
    }

    #event(type: EventType, fields: Record<string, unknown> = {}): Record<string, unknown> {
      return { type, target: this, timestamp: Date.now(), ...fields };
    }

    /**
     * Queues the listeners of `type`. Events run one at a time, each listener to its end: one
     * that returns a promise (it makes blocking calls, so the script transform made it async)
     * holds the queue until it settles, as on k6's event loop. One that throws ends the socket
     * and fails the iteration with its error.
     */
    #dispatch(type: EventType, fields?: Record<string, unknown>): void {
      this.#queue.push(() => this.#listen(type, fields));
    }

    /** The last task: releases the VU's event loop once the close listeners have run. */
    #finish(): void {
      this.#queue.push(() => this.#hold.release());
    }

    readonly #queue = new TaskQueue((err) => {
      this.#client.terminate();
      this.#end();
      this.#hold.fail(err);
    });

    #listen(type: EventType, fields?: Record<string, unknown>): unknown {
      const on = this.#on.get(type);
      const all = on ? [on, ...(this.#listeners.get(type) ?? [])] : this.#listeners.get(type);
      if (!all?.length) return undefined;
      const event = this.#event(type, fields);
      return callInOrder(all, (fn) => fn.call(this, event));
    }

    #failed(err: Error): void {
      if (this.#readyState === CLOSED) return;
      this.#client.terminate();
      this.#closedWith(err.message);
    }

    /** CLOSED: error listeners (for an error), then close listeners, then the loop lets go. */
    #closedWith(error: string | undefined): void {
      if (this.#readyState === CLOSED) return;
      this.#end();
      if (error !== undefined) this.#dispatch("error", { error });
      this.#dispatch("close", { code: this.#closeCode, reason: this.#closeReason });
      this.#finish();
    }

    #end(): void {
      this.#readyState = CLOSED;
      state.signal.removeEventListener("abort", this.#onAbort);
      if (this.#sessionOpen) {
        this.#sessionOpen = false;
        state.emit(this.#tags, Date.now(), [
          [metricOf(state, "ws_session_duration"), wholeNanosMs(performance.now() - this.#start)],
        ], state.metadata());
        const raw = (this.#client as unknown as {
          _socket?: { bytesWritten?: number; bytesRead?: number };
        })._socket;
        if (raw?.bytesWritten) state.addDataSent(raw.bytesWritten);
        if (raw?.bytesRead) state.addDataReceived(raw.bytesRead);
      }
    }

    readonly #onAbort = () => {
      if (this.#readyState === OPEN) this.close(1000);
      else if (this.#readyState === CONNECTING) this.#client.terminate();
    };

    #connected(status: number, headers: Record<string, string | string[] | undefined>) {
      const tags = this.#tags;
      const raw = (this.#client as unknown as { _socket?: { remoteAddress?: string } })._socket;
      if (raw?.remoteAddress && state.systemTags.has("ip")) {
        tags.ip = raw.remoteAddress.replace(/^::ffff:/, "");
      }
      if (status && state.systemTags.has("status")) tags.status = String(status);
      const sub = headers["sec-websocket-protocol"];
      if (typeof sub === "string") this.#protocol = sub;
      const ext = headers["sec-websocket-extensions"];
      if (ext !== undefined) this.#extensions = Array.isArray(ext) ? ext : [ext];
      if (status && state.systemTags.has("subproto")) tags.subproto = this.#protocol;
      const name = tags.name;
      if (name !== undefined) {
        if (state.systemTags.has("url")) tags.url = name;
      } else {
        if (state.systemTags.has("url")) tags.url = this.url;
        if (state.systemTags.has("name")) tags.name = this.url;
      }
      state.emit(tags, this.#started, [
        [metricOf(state, "ws_sessions"), 1],
        [metricOf(state, "ws_connecting"), wholeNanosMs(performance.now() - this.#start)],
      ], state.metadata());
    }

    #wire(): void {
      const c = this.#client;
      state.signal.addEventListener("abort", this.#onAbort, { once: true });
      let response: IncomingMessage | undefined;
      c.on("upgrade", (res: IncomingMessage) => {
        response = res;
        storeJarCookies(this.#jar, this.url, res);
      });
      c.on("unexpected-response", (req: { destroy(): void }, res: IncomingMessage) => {
        storeJarCookies(this.#jar, this.url, res);
        this.#connected(res.statusCode ?? 0, res.headers);
        req.destroy();
        this.#closedWith("websocket: bad handshake");
      });
      c.on("open", () => {
        this.#connected(response?.statusCode ?? 101, response?.headers ?? {});
        this.#sessionOpen = true;
        if (this.#readyState !== CONNECTING) return;
        this.#readyState = OPEN;
        this.#dispatch("open");
      });
      c.on("message", (data: Uint8Array | Uint8Array[], isBinary: boolean) => {
        if (this.#readyState !== OPEN) return;
        this.#count("ws_msgs_received");
        // A copy: the client's Buffers are views into its pooled memory.
        const bytes = Array.isArray(data) ? new Uint8Array(concat(data)) : new Uint8Array(data);
        let payload: unknown;
        if (!isBinary) payload = utf8Decoder.decode(bytes);
        else if (this.#binaryType === "arraybuffer") payload = bytes.buffer;
        else payload = new Blob([bytes]);
        this.#dispatch("message", { data: payload, origin: this.url });
      });
      c.on("ping", () => this.#dispatch("ping")); // the library answers with a pong
      c.on("pong", (data: Uint8Array) => {
        const id = utf8Decoder.decode(data);
        const sent = this.#pings.get(id);
        if (sent === undefined) {
          state.logger.warn(`received pong for unknown ping ID ${id}`);
        } else {
          this.#pings.delete(id);
          state.emit(this.#tags, Date.now(), [
            [metricOf(state, "ws_ping"), wholeNanosMs(performance.now() - sent)],
          ], state.metadata());
        }
        this.#dispatch("pong");
      });
      c.on("error", (err: Error) => {
        if (this.#readyState === CONNECTING && !this.#sessionOpen) {
          // A failed dial: k6 counts the session and its connecting time all the same.
          this.#connected(0, {});
        }
        this.#failed(err);
      });
      c.on("close", (code: number, reason: Uint8Array) => {
        if (this.#readyState === CLOSED) return;
        const text = utf8Decoder.decode(reason);
        if (code !== 1005 && code !== 1006) {
          this.#closeCode = code;
          this.#closeReason = text;
        }
        // Closes other than normal/going-away are errors first, as gorilla reports them.
        const unexpected = code !== 1000 && code !== 1001 && code !== 1005 && code !== 1006 &&
          this.#readyState !== CLOSING;
        this.#closedWith(unexpected ? closeErrorText(code, text) : undefined);
      });
    }
  }
  return { WebSocket, Blob };
}
