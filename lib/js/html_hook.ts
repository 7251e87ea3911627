/**
 * Loads `k6/html` (lib/js/html.ts) on demand. Its parser and selector engine take ~21 ms to
 * load, once per VU host Worker; a host loads them only when the script's source can reach
 * them: it imports `k6/html`, or mentions `html` (`res.html()`), `submitForm` or `clickLink`.
 * A script that reaches them some other way gets {@link htmlUnavailable}'s error.
 *
 * @example
 * ```ts
 * if (scriptUsesHtml(factorySource)) await loadHtml();
 * htmlApi()?.parseHTML("<p>hi</p>");
 * ```
 * @module
 */

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

let api: HtmlApi | undefined;

/** Whether a script's (compiled) source can use k6/html. */
export function scriptUsesHtml(source: string): boolean {
  return /html|submitForm|clickLink/.test(source);
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
