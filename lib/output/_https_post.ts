/**
 * One HTTPS POST through node:https, for outputs whose TLS settings `fetch` cannot express:
 * Deno's fetch can neither skip certificate verification per request nor pin the minimum TLS
 * version. Used by prometheus-rw (`insecureSkipTLSVerify`, `tlsMinVersion`, client
 * certificates).
 *
 * @example
 * ```ts
 * const res = await httpsPost(new URL("https://127.0.0.1:8086/write?db=k6"), body, {
 *   headers: { "Content-Type": "text/plain" },
 *   rejectUnauthorized: false,
 *   timeoutMs: 5000,
 * });
 * if (res.status !== 204) console.log(res.text);
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import * as https from "node:https";

/** TLS and request settings of {@link httpsPost}. */
export interface HttpsPostOptions {
  readonly headers: Readonly<Record<string, string>>;
  /** false accepts any server certificate. */
  readonly rejectUnauthorized: boolean;
  readonly minVersion?: "TLSv1.2" | "TLSv1.3";
  /** Client certificate and key (PEM). */
  readonly cert?: string;
  readonly key?: string;
  /** The request fails with "request timed out" when the socket is idle this long. */
  readonly timeoutMs: number;
}

/** Posts `body` and resolves with the status and body text; rejects on a transport error. */
export function httpsPost(
  url: URL,
  body: Uint8Array | string,
  opts: HttpsPostOptions,
): Promise<{ status: number; text: string }> {
  const bytes = Buffer.from(body);
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method: "POST",
      headers: { ...opts.headers, "content-length": String(bytes.length) },
      rejectUnauthorized: opts.rejectUnauthorized,
      minVersion: opts.minVersion,
      cert: opts.cert,
      key: opts.key,
      timeout: opts.timeoutMs,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on(
        "end",
        () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(bytes);
  });
}
