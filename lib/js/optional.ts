/**
 * Loads the k6 modules that need large libraries on demand, once per VU host Worker, and only
 * when the script's source can reach them:
 *
 * - `k6/html` (lib/js/html.ts; its parser and selector engine take ~21 ms to load): the script
 *   imports `k6/html`, or mentions `html` (`res.html()`), `submitForm` or `clickLink`. A script
 *   that reaches it some other way gets {@link htmlUnavailable}'s error.
 * - `k6/ws` and `k6/websockets` (lib/js/ws.ts, lib/js/websockets.ts, the npm `ws` client):
 *   the script imports them.
 *
 * @example
 * ```ts
 * if (scriptUsesHtml(factorySource)) await htmlModule.load();
 * htmlModule.get()?.parseHTML("<p>hi</p>");
 * ```
 * @module
 */
import type { VUState } from "../vu/state.ts";
import type { VUEventLoop } from "../vu/event_loop.ts";
import type { CookieJar } from "./http.ts";

/** What lib/js/html.ts exports that the runtime uses. */
export interface HtmlApi {
  parseHTML(src: unknown, url?: string): HtmlSelection;
  createHtmlModule(): Record<string, unknown>;
}

/** The part of a Selection the http module reads. */
export interface HtmlSelection {
  find(selector: string): HtmlSelection;
  size(): number;
  attr(name: string): unknown;
  val(): unknown;
  serializeObject(): Record<string, unknown>;
}

/** What lib/js/ws.ts exports. */
export interface WsApi {
  createWsModule(state: VUState, vuJar: () => CookieJar | undefined): Record<string, unknown>;
}

/** What lib/js/websockets.ts exports. */
export interface WebSocketsApi {
  createWebSocketsModule(
    state: VUState,
    loop: VUEventLoop,
    vuJar: () => CookieJar | undefined,
  ): Record<string, unknown>;
}

/** A module loaded on demand, once: `load()` imports it, `get()` gives it once loaded. */
export class OnDemand<T> {
  readonly #importer: () => Promise<T>;
  #value: T | undefined;

  constructor(importer: () => Promise<T>) {
    this.#importer = importer;
  }

  /** Loads the module (later calls return the loaded one). */
  async load(): Promise<T> {
    return this.#value ??= await this.#importer();
  }

  /** The module, if {@link OnDemand.load} ran. */
  get(): T | undefined {
    return this.#value;
  }
}

/** k6/html (lib/js/html.ts). */
export const htmlModule = new OnDemand<HtmlApi>(() => import("./html.ts"));
/** k6/ws (lib/js/ws.ts). */
export const wsModule = new OnDemand<WsApi>(() => import("./ws.ts"));
/** k6/websockets (lib/js/websockets.ts). */
export const webSocketsModule = new OnDemand<WebSocketsApi>(() => import("./websockets.ts"));

/** Whether a script's (compiled) source can use k6/html. */
export function scriptUsesHtml(source: string): boolean {
  return /html|submitForm|clickLink/.test(source);
}

/** Whether a script's (compiled) source imports k6/ws or k6/websockets. */
export function scriptUsesWs(source: string): boolean {
  return source.includes("k6/ws") || source.includes("k6/websockets");
}

/** The error for a use of k6/html the script's source did not show. */
export function htmlUnavailable(what: string): Error {
  return new Error(
    `${what} needs k6/html, which spate loads only for scripts that mention html, ` +
      `submitForm or clickLink; add \`import "k6/html";\` to the script`,
  );
}
