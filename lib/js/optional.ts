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
 * if (scriptUsesHtml(factorySource)) await loadHtml();
 * htmlApi()?.parseHTML("<p>hi</p>");
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

let api: HtmlApi | undefined;
let ws: WsApi | undefined;
let websockets: WebSocketsApi | undefined;

/** Whether a script's (compiled) source can use k6/html. */
export function scriptUsesHtml(source: string): boolean {
  return /html|submitForm|clickLink/.test(source);
}

/** Whether a script's (compiled) source imports k6/ws or k6/websockets. */
export function scriptUsesWs(source: string): boolean {
  return source.includes("k6/ws") || source.includes("k6/websockets");
}

/** Loads k6/websockets once. */
export async function loadWebSockets(): Promise<WebSocketsApi> {
  return websockets ??= await import("./websockets.ts");
}

/** The loaded k6/websockets, if {@link loadWebSockets} ran. */
export function webSocketsApi(): WebSocketsApi | undefined {
  return websockets;
}

/** Loads k6/ws once. */
export async function loadWs(): Promise<WsApi> {
  return ws ??= await import("./ws.ts");
}

/** The loaded k6/ws, if {@link loadWs} ran. */
export function wsApi(): WsApi | undefined {
  return ws;
}

/** Loads k6/html once (later calls return the loaded module). */
export async function loadHtml(): Promise<HtmlApi> {
  return api ??= await import("./html.ts");
}

/** The loaded k6/html, if {@link loadHtml} ran. */
export function htmlApi(): HtmlApi | undefined {
  return api;
}

/** The error for a use of k6/html the script's source did not show. */
export function htmlUnavailable(what: string): Error {
  return new Error(
    `${what} needs k6/html, which spate loads only for scripts that mention html, ` +
      `submitForm or clickLink; add \`import "k6/html";\` to the script`,
  );
}
