/**
 * k6's defaults that more than one box needs (runner.md §2.3, §5.3): one definition here,
 * used by the consolidation, the runner before consolidation, the outputs and the tests.
 *
 * @example
 * ```ts
 * const http = { ...defaultHttpConfig, maxRedirects: 0 };
 * ```
 * @module
 */
import type { HttpConfig } from "./types.ts";
export { defaultSystemTags } from "./_parse.ts";

/** Default `User-Agent` header, as k6 v2.2.0 sends it. */
export const defaultUserAgent = "Grafana k6/2.2.0";

/** HTTP settings when nothing is configured. */
export const defaultHttpConfig: HttpConfig = Object.freeze({
  userAgent: defaultUserAgent,
  maxRedirects: 10,
  batch: 20,
  batchPerHost: 6,
  insecureSkipTLSVerify: false,
  discardResponseBodies: false,
  noConnectionReuse: false,
  noVUConnectionReuse: false,
  noCookiesReset: false,
  hosts: Object.freeze({}),
  blockHostnames: Object.freeze([]),
  blacklistIPs: Object.freeze([]),
  httpDebug: "",
  http1Only: false,
  rps: 0,
  timeout: 60_000,
});
