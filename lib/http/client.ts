/**
 * spate's HTTP/1.1 client: one {@link HttpTransport} per VU with keep-alive connection pools,
 * k6's per-phase timings measured at the socket, and k6's error codes.
 *
 * The request boundary is plain data on both sides ({@link PreparedRequest} in,
 * {@link RawResult} out: strings, numbers, Uint8Array), so a host can run
 * {@link HttpTransport.executeRequest} in another Worker and pass the result back unchanged.
 * One call is one round trip: redirects, cookies and metrics are the caller's job (lib/js/http.ts),
 * because each redirect hop is its own round trip with its own samples in k6.
 *
 * @example
 * ```ts
 * const transport = new HttpTransport({});
 * const res = await transport.executeRequest({
 *   method: "GET", url: "http://127.0.0.1:8080/get", headers: [], body: null,
 *   timeout: 60_000, discardBody: false,
 * });
 * res.status; // 200
 * transport.close();
 * ```
 * @module
 */
import net from "node:net";
import dns from "node:dns/promises";
import type { HttpConfig } from "../config/types.ts";
import { InterruptedError } from "../vu/state.ts";
import { classifyError, ErrorCode, HttpError } from "./_errors.ts";
import { BodySink, decode } from "./_body.ts";
import { type H2Request, H2Session, type H2Socket } from "./_h2.ts";
import { type DialCancel, dialTcp, type DialTimes, dialTls, type Wire } from "./_wire.ts";

export { ErrorCode } from "./_errors.ts";

/** One request as the client sends it. Structured-cloneable. */
export interface PreparedRequest {
  /** Sent verbatim. */
  method: string;
  /** Absolute `http:` or `https:` URL (may carry `user:pass@` for basic auth). */
  url: string;
  /**
   * Header lines as a flat list: name, value, name, value... Sent in this order after `Host`.
   * `Host` here overrides the URL's host; `Content-Length`/`Transfer-Encoding` are ignored
   * (the client frames the body itself).
   */
  headers: string[];
  body: Uint8Array | null;
  /** Whole round trip limit in ms (dial, send, wait, body). */
  timeout: number;
  /** Read and count the body, but do not keep it. */
  discardBody: boolean;
}

/** What one round trip produced. Structured-cloneable. */
export interface RawResult {
  /** 0 when the round trip failed before a status line arrived. */
  status: number;
  /** Reason phrase from the status line ("OK"). */
  statusText: string;
  /** "HTTP/1.1", "HTTP/1.0", or "" on failure before a response. */
  proto: string;
  /** Response header lines as received: name, value, name, value... */
  headers: string[];
  /** Decoded (decompressed) body; null when discarded, absent, or on failure. */
  body: Uint8Array | null;
  /** Timings in ms (k6 semantics, runner.md §5.2). */
  blocked: number;
  connecting: number;
  tlsHandshaking: number;
  sending: number;
  waiting: number;
  receiving: number;
  /** Unix epoch ms at the start and end of the round trip. */
  startTime: number;
  endTime: number;
  bytesSent: number;
  bytesReceived: number;
  remoteIP: string;
  remotePort: number;
  /** `tls1.2`, `tls1.3` or "". */
  tlsVersion: string;
  tlsCipherSuite: string;
  /** k6 error code (runner.md §5.7) of a network failure; 0 otherwise. */
  errorCode: number;
  /** k6's short failure message (Response.error, `error` tag); "" otherwise. */
  error: string;
  /** The full failure text k6 logs with "Request Failed"; "" otherwise. */
  errorDetail: string;
  /** True when the connection came from the keep-alive pool. */
  reused: boolean;
}

/** Connection-level settings of a transport (runner.md §2.5). */
export interface TransportOptions {
  /** host[:port] (lower-case, may start with `*`) → ip[:port]. */
  hosts?: Readonly<Record<string, string>>;
  /** Hostname patterns (lower-case, optional leading `*`) that fail with 1111. */
  blockHostnames?: readonly string[];
  /** CIDRs whose addresses fail with 1110. */
  blacklistIPs?: readonly string[];
  insecureSkipTLSVerify?: boolean;
  /** Disables keep-alive: each request opens and closes its own connection. */
  noConnectionReuse?: boolean;
  /** PEM roots that replace the default trust store (tests, private CAs). */
  caCerts?: readonly string[];
  /** Offer only HTTP/1.1 to HTTPS servers (`GODEBUG=http2client=0`). */
  http1Only?: boolean;
}

/** The transport settings of a run's {@link HttpConfig}. */
export function transportOptionsFromConfig(http: HttpConfig): TransportOptions {
  return {
    hosts: http.hosts,
    blockHostnames: http.blockHostnames,
    blacklistIPs: http.blacklistIPs,
    insecureSkipTLSVerify: http.insecureSkipTLSVerify,
    noConnectionReuse: http.noConnectionReuse,
    http1Only: http.http1Only,
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);
const maxHeadBytes = 1 << 20;
const CANCEL_TIMEOUT = 1;
const CANCEL_ABORT = 2;

/** Per-round-trip cancellation state: the abort listener and the timer target. */
class RoundTrip implements DialCancel {
  /** The connection (HTTP/1.1) or stream (HTTP/2) to close on timeout or interrupt. */
  wire: { close(): void } | null = null;
  cancelled = 0;
  cancelDial: (() => void) | null = null;
  dialing = false;

  cancel(reason: number): void {
    if (this.cancelled !== 0) return;
    this.cancelled = reason;
    this.wire?.close();
    this.cancelDial?.();
  }

  /** EventListener interface: the AbortSignal calls this without a per-request closure. */
  handleEvent(): void {
    this.cancel(CANCEL_ABORT);
  }
}

function onTimeout(rt: RoundTrip): void {
  rt.cancel(CANCEL_TIMEOUT);
}

interface Target {
  https: boolean;
  host: string; // hostname as in the URL, lower-case, no brackets
  port: number;
  dialIP: string; // what to connect to (IP or hostname)
  dialPort: number;
  hostHeader: string;
  path: string;
  auth: string;
  poolKey: string;
}

interface HostPattern {
  exact: string;
  suffix: string; // for `*.example.com` → ".example.com"; "" when exact
  value: string;
}

/**
 * The HTTP client of one VU: owns that VU's idle keep-alive connections.
 *
 * @example
 * ```ts
 * const t = new HttpTransport({ noConnectionReuse: false });
 * t.closeIdle(); // e.g. after each iteration with noVUConnectionReuse
 * ```
 */
export class HttpTransport {
  readonly #opts: TransportOptions;
  readonly #idle = new Map<string, Wire[]>();
  /** One HTTP/2 session per origin (pool key), shared by this VU's requests to it. */
  readonly #h2 = new Map<string, H2Session>();
  /**
   * HTTPS dials in progress per origin: requests that start meanwhile wait for the first
   * dial, and share its session when the server chose HTTP/2 (one connection, as Go's
   * transport makes for `http.batch`), else dial their own.
   */
  readonly #dialing = new Map<string, Promise<H2Session | undefined>>();
  readonly #hosts: HostPattern[] = [];
  readonly #blocked: HostPattern[] = [];
  readonly #blacklist: net.BlockList | null = null;
  readonly #blacklistRanges: [net.BlockList, string][] = [];

  constructor(opts: TransportOptions) {
    this.#opts = opts;
    for (const [k, v] of Object.entries(opts.hosts ?? {})) this.#hosts.push(pattern(k, v));
    for (const b of opts.blockHostnames ?? []) this.#blocked.push(pattern(b, b));
    const ips = opts.blacklistIPs ?? [];
    if (ips.length > 0) {
      this.#blacklist = new net.BlockList();
      for (const cidr of ips) {
        const [addr, bits] = cidr.split("/");
        const family = net.isIP(addr) === 6 ? "ipv6" : "ipv4";
        const prefix = bits === undefined ? (family === "ipv6" ? 128 : 32) : Number(bits);
        this.#blacklist.addSubnet(addr, prefix, family);
        const one = new net.BlockList();
        one.addSubnet(addr, prefix, family);
        this.#blacklistRanges.push([one, cidr]);
      }
    }
  }

  /**
   * Performs one round trip. Never rejects for network failures (they come back as
   * `errorCode`/`error`); rejects with InterruptedError when `signal` aborts.
   */
  async executeRequest(req: PreparedRequest, signal?: AbortSignal): Promise<RawResult> {
    const startTime = performance.timeOrigin + performance.now();
    const t0 = performance.now();
    const res: RawResult = {
      status: 0,
      statusText: "",
      proto: "",
      headers: [],
      body: null,
      blocked: 0,
      connecting: 0,
      tlsHandshaking: 0,
      sending: 0,
      waiting: 0,
      receiving: 0,
      startTime,
      endTime: startTime,
      bytesSent: 0,
      bytesReceived: 0,
      remoteIP: "",
      remotePort: 0,
      tlsVersion: "",
      tlsCipherSuite: "",
      errorCode: 0,
      error: "",
      errorDetail: "",
      reused: false,
    };
    if (signal?.aborted) throw new InterruptedError();
    const rt = new RoundTrip();
    signal?.addEventListener("abort", rt);
    const timer = setTimeout(onTimeout, req.timeout, rt);
    try {
      const target = this.#target(req);
      await this.#roundTrip(req, target, rt, res, t0);
    } catch (err) {
      if (rt.cancelled === CANCEL_ABORT) throw new InterruptedError();
      let e: HttpError;
      if (rt.cancelled === CANCEL_TIMEOUT) {
        e = rt.dialing
          ? new HttpError(ErrorCode.DialTimeout, "dial: i/o timeout")
          : new HttpError(ErrorCode.RequestTimeout, "request timeout");
      } else {
        e = err instanceof HttpError ? err : classifyError(err, "read", "", "");
      }
      res.errorCode = e.code;
      res.error = e.message;
      res.errorDetail = e.detail;
      res.status = 0;
      res.body = null;
      rt.wire?.close();
      if (res.sending === 0 && res.blocked === 0) res.blocked = performance.now() - t0;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", rt);
    }
    res.endTime = performance.timeOrigin + performance.now();
    return res;
  }

  /** Closes every idle connection (k6 `noVUConnectionReuse` does this after each iteration). */
  closeIdle(): void {
    for (const list of this.#idle.values()) for (const w of list) w.close();
    this.#idle.clear();
    // Streams still open on a session finish first.
    for (const session of this.#h2.values()) session.close();
    this.#h2.clear();
  }

  /** Closes everything; the transport stays usable (new connections are opened on demand). */
  close(): void {
    this.closeIdle();
  }

  #target(req: PreparedRequest): Target {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      throw new HttpError(ErrorCode.InvalidURL, `invalid URL: parse "${req.url}"`);
    }
    const https = url.protocol === "https:";
    if (!https && url.protocol !== "http:") {
      throw new HttpError(
        ErrorCode.InvalidURL,
        `unsupported protocol scheme "${url.protocol.slice(0, -1)}"`,
      );
    }
    let host = url.hostname;
    if (host.startsWith("[")) host = host.slice(1, -1);
    const port = url.port === "" ? (https ? 443 : 80) : Number(url.port);
    let dialIP = host;
    let dialPort = port;
    if (this.#blocked.length > 0) {
      const hit = match(this.#blocked, host, port);
      if (hit) {
        throw new HttpError(
          ErrorCode.BlockedHostname,
          "hostname is blocked",
          `hostname (${host}) is in a blocked pattern (${hit.value})`,
        );
      }
    }
    if (this.#hosts.length > 0) {
      const hit = match(this.#hosts, host, port);
      if (hit) {
        const v = hit.value;
        const colon = v.lastIndexOf(":");
        if (colon > 0 && !v.endsWith("]") && net.isIP(v) !== 6) {
          dialIP = v.slice(0, colon);
          dialPort = Number(v.slice(colon + 1));
        } else {
          dialIP = v.startsWith("[") ? v.slice(1, -1) : v;
        }
      }
    }
    let auth = "";
    if (url.username !== "" || url.password !== "") {
      auth = "Basic " +
        btoa(unescapeBinary(url.username) + ":" + unescapeBinary(url.password));
    }
    return {
      https,
      host,
      port,
      dialIP,
      dialPort,
      hostHeader: url.host,
      path: url.pathname + url.search,
      auth,
      poolKey: (https ? "s|" : "p|") + host + "|" + dialIP + "|" + dialPort,
    };
  }

  async #resolveChecked(target: Target): Promise<string> {
    let ip = target.dialIP;
    if (net.isIP(ip) === 0) {
      // Resolving before the dial keeps DNS out of `connecting` (k6 counts it in `blocked`
      // only) and lets blacklistIPs see the address.
      try {
        ip = await lookup(ip);
      } catch (err) {
        throw classifyError(err, "dial", target.host, `${ip}:${target.dialPort}`);
      }
    }
    if (this.#blacklist === null) return ip;
    const family = net.isIP(ip) === 6 ? "ipv6" : "ipv4";
    if (this.#blacklist.check(ip, family)) {
      let range = "";
      for (const [one, cidr] of this.#blacklistRanges) {
        if (one.check(ip, family)) {
          range = cidr;
          break;
        }
      }
      throw new HttpError(
        ErrorCode.BlacklistedIP,
        "ip is blacklisted",
        `IP (${ip}) is in a blacklisted range (${range})`,
      );
    }
    return ip;
  }

  async #dial(target: Target, rt: RoundTrip, times: DialTimes): Promise<Wire | H2Socket> {
    rt.dialing = true;
    const ip = await this.#resolveChecked(target);
    if (rt.cancelled) throw new HttpError(ErrorCode.Generic, "cancelled");
    const wire = target.https
      ? await dialTls(
        ip,
        target.dialPort,
        target.host,
        {
          servername: target.host,
          insecureSkipVerify: this.#opts.insecureSkipTLSVerify === true,
          caCerts: this.#opts.caCerts,
          h2: this.#opts.http1Only !== true,
        },
        rt,
        times,
      )
      : await dialTcp(ip, target.dialPort, target.host, rt, times);
    rt.dialing = false;
    return wire;
  }

  async #roundTrip(
    req: PreparedRequest,
    target: Target,
    rt: RoundTrip,
    res: RawResult,
    t0: number,
  ): Promise<void> {
    let head: Uint8Array | undefined;
    for (let attempt = 0;; attempt++) {
      // An HTTP/2 session to this origin carries the request as one more stream.
      const session = attempt === 0 ? this.#h2.get(target.poolKey) : undefined;
      if (session !== undefined) {
        if (session.alive) {
          try {
            await this.#h2RoundTrip(session, req, target, rt, res, t0, true);
            return;
          } catch (err) {
            // A session the server closed (GOAWAY, connection error) before this stream got
            // an answer: once more on a new connection, as for HTTP/1.1.
            if (rt.cancelled !== 0 || res.status !== 0 || session.alive) throw err;
          }
        }
        this.#h2.delete(target.poolKey);
        session.close();
        if (attempt === 0 && res.reused) continue;
      }
      const pending = attempt === 0 && target.https ? this.#dialing.get(target.poolKey) : undefined;
      if (pending !== undefined) {
        const shared = await pending;
        if (shared?.alive) {
          await this.#h2RoundTrip(shared, req, target, rt, res, t0, true);
          return;
        }
      }
      // Get a connection: from the pool, or dialled (then blocked includes DNS+TCP+TLS).
      let wire: Wire | undefined;
      const idle = this.#idle.get(target.poolKey);
      if (idle !== undefined && attempt === 0) {
        while (idle.length > 0) {
          const w = idle.pop()!;
          if (!w.closed) {
            wire = w;
            break;
          }
        }
      }
      res.reused = wire !== undefined;
      res.connecting = 0;
      res.tlsHandshaking = 0;
      if (wire === undefined) {
        const times: DialTimes = { connecting: 0, tlsHandshaking: 0 };
        const share = target.https && !this.#opts.noConnectionReuse &&
          !this.#dialing.has(target.poolKey);
        let announce: ((s: H2Session | undefined) => void) | undefined;
        if (share) {
          const key = target.poolKey;
          this.#dialing.set(key, new Promise((resolve) => announce = resolve));
        }
        let dialed: Wire | H2Socket;
        let fresh: H2Session | undefined;
        try {
          dialed = await this.#dial(target, rt, times);
          if ("h2" in dialed) fresh = new H2Session(dialed, `https://${target.hostHeader}`);
        } finally {
          if (announce) {
            this.#dialing.delete(target.poolKey);
            announce(fresh);
          }
        }
        res.connecting = times.connecting;
        res.tlsHandshaking = times.tlsHandshaking;
        if (fresh !== undefined) {
          // Concurrent first requests that did not wait may each dial: the first is kept.
          const keep = !this.#opts.noConnectionReuse && !this.#h2.get(target.poolKey)?.alive;
          if (keep) this.#h2.set(target.poolKey, fresh);
          try {
            await this.#h2RoundTrip(fresh, req, target, rt, res, t0, false);
          } finally {
            if (!keep) fresh.close();
          }
          return;
        }
        wire = dialed as Wire;
      }
      rt.wire = wire;
      if (rt.cancelled) {
        wire.close();
        throw new HttpError(ErrorCode.Generic, "cancelled");
      }
      res.remoteIP = wire.remoteIP;
      res.remotePort = wire.remotePort;
      res.tlsVersion = wire.tlsVersion;
      res.tlsCipherSuite = wire.tlsCipherSuite;
      // A new connection's handshake bytes belong to its first request.
      const sent0 = res.reused ? wire.bytesWritten : 0;
      const read0 = res.reused ? wire.bytesRead : 0;
      const tConn = performance.now();
      res.blocked = tConn - t0;

      const reader = new ResponseReader(wire);
      head ??= encodeRequest(req, target, this.#opts.noConnectionReuse === true);
      try {
        try {
          await wire.write(head);
          // A large body goes in a write of its own rather than copied behind the head.
          if (req.body !== null && req.body.length > maxJoinedBody) await wire.write(req.body);
        } catch (err) {
          throw classifyError(err, "write", target.host, "");
        }
        const tSent = performance.now();
        res.sending = tSent - tConn;
        const keep = await reader.read(req, res);
        const tEnd = performance.now();
        res.waiting = reader.firstByteAt - tSent;
        res.receiving = tEnd - reader.firstByteAt;
        res.bytesSent = wire.bytesWritten - sent0;
        res.bytesReceived = wire.bytesRead - read0;
        if (keep && !this.#opts.noConnectionReuse) this.#release(target.poolKey, wire);
        else wire.close();
        rt.wire = null;
        return;
      } catch (err) {
        res.bytesSent = wire.bytesWritten - sent0;
        res.bytesReceived = wire.bytesRead - read0;
        wire.close();
        // A pooled connection the server closed while idle: retry once on a fresh one, as
        // Go's transport does, provided nothing of a response arrived.
        if (
          res.reused && attempt === 0 && !reader.gotBytes && rt.cancelled === 0 &&
          (err instanceof EOFError || isResetLike(err))
        ) {
          continue;
        }
        if (err instanceof EOFError) throw new HttpError(ErrorCode.Generic, "EOF");
        throw err instanceof HttpError ? err : classifyError(err, "read", target.host, "");
      }
    }
  }

  /** One request as a stream of `session`; fills `res` like the HTTP/1.1 path. */
  async #h2RoundTrip(
    session: H2Session,
    req: PreparedRequest,
    target: Target,
    rt: RoundTrip,
    res: RawResult,
    t0: number,
    reused: boolean,
  ): Promise<void> {
    res.reused = reused;
    if (reused) {
      res.connecting = 0;
      res.tlsHandshaking = 0;
    }
    res.remoteIP = session.remoteIP;
    res.remotePort = session.remotePort;
    res.tlsVersion = session.tlsVersion;
    res.tlsCipherSuite = session.tlsCipherSuite;
    if (rt.cancelled) throw new HttpError(ErrorCode.Generic, "cancelled");
    res.blocked = performance.now() - t0;
    let authority = target.hostHeader;
    const h = req.headers;
    for (let i = 0; i < h.length; i += 2) {
      if (h[i].length === 4 && h[i].toLowerCase() === "host") authority = h[i + 1];
    }
    const stream: H2Request = {
      method: req.method,
      authority,
      path: target.path,
      headers: h,
      auth: target.auth,
      body: req.body,
      discardBody: req.discardBody,
      zeroLength: needsZeroLength(req.method),
    };
    await session.request(stream, res, (cancel) => {
      rt.wire = cancel;
    });
    rt.wire = null;
  }

  #release(key: string, wire: Wire): void {
    let list = this.#idle.get(key);
    if (list === undefined) {
      list = [];
      this.#idle.set(key, list);
    }
    list.push(wire);
  }
}

/** k6's default DNS settings: cache for 5 minutes, prefer IPv4. Shared by all VUs of a process. */
const dnsTTL = 5 * 60_000;
const dnsCache = new Map<string, { ip: string; expires: number }>();

async function lookup(host: string): Promise<string> {
  const now = Date.now();
  const hit = dnsCache.get(host);
  if (hit !== undefined && hit.expires > now) return hit.ip;
  const all = await dns.lookup(host, { all: true });
  const v4 = all.find((a) => a.family === 4);
  const ip = (v4 ?? all[0]).address;
  dnsCache.set(host, { ip, expires: now + dnsTTL });
  return ip;
}

function isResetLike(err: unknown): boolean {
  return err instanceof HttpError &&
    (err.code === ErrorCode.ConnectionReset || err.code === ErrorCode.BrokenPipe);
}

function pattern(key: string, value: string): HostPattern {
  const k = key.toLowerCase();
  if (k.startsWith("*")) return { exact: "", suffix: k.slice(1), value };
  return { exact: k, suffix: "", value };
}

function match(list: HostPattern[], host: string, port: number): HostPattern | undefined {
  const h = host.toLowerCase();
  const hp = h + ":" + port;
  for (const p of list) {
    if (p.exact !== "") {
      if (p.exact === h || p.exact === hp) return p;
    } else if (h.endsWith(p.suffix) || hp.endsWith(p.suffix)) return p;
  }
  return undefined;
}

/** Percent-decoding that keeps bytes ≥ 0x80 as Latin-1 code units, so btoa() accepts them. */
function unescapeBinary(s: string): string {
  if (s.indexOf("%") < 0) return s;
  const bytes = encoder.encode(decodeURIComponent(s));
  let out = "";
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

function needsZeroLength(method: string): boolean {
  return method === "POST" || method === "PUT" || method === "PATCH";
}

/**
 * Bodies up to this size are copied behind the request head, so that the request leaves in
 * one write (one segment for a small POST); larger ones are written from their own buffer,
 * where the copy would cost more than the second write (outputs post megabytes).
 */
const maxJoinedBody = 64 * 1024;

/**
 * Serialises request line, headers and, up to {@link maxJoinedBody}, the body into one buffer
 * (one write, one segment).
 */
function encodeRequest(req: PreparedRequest, target: Target, close: boolean): Uint8Array {
  const h = req.headers;
  let host = target.hostHeader;
  let lines = "";
  let hasAuth = false;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i];
    const len = name.length;
    // Cheap length filter before the case-insensitive compare.
    if (len === 4 || len === 13 || len === 14 || len === 17) {
      const lower = name.toLowerCase();
      if (lower === "host") {
        host = h[i + 1];
        continue;
      }
      if (lower === "content-length" || lower === "transfer-encoding") continue;
      if (lower === "authorization") hasAuth = true;
    }
    lines += name + ": " + h[i + 1] + "\r\n";
  }
  let text = req.method + " " + target.path + " HTTP/1.1\r\nHost: " + host + "\r\n" + lines;
  if (target.auth !== "" && !hasAuth) text += "Authorization: " + target.auth + "\r\n";
  const body = req.body;
  if (body !== null) text += "Content-Length: " + body.length + "\r\n";
  else if (needsZeroLength(req.method)) text += "Content-Length: 0\r\n";
  if (close) text += "Connection: close\r\n";
  text += "\r\n";
  if (body === null || body.length === 0 || body.length > maxJoinedBody) {
    return encoder.encode(text);
  }
  // Head is ASCII in the common case; size the buffer for the worst case of UTF-8.
  const out = new Uint8Array(text.length * 3 + body.length);
  const { written } = encoder.encodeInto(text, out);
  out.set(body, written);
  return out.subarray(0, written + body.length);
}

class EOFError extends Error {
  constructor() {
    super("unexpected EOF");
  }
}

/** Parses one HTTP/1.x response from a wire, chunk by chunk. */
class ResponseReader {
  readonly wire: Wire;
  buf: Uint8Array = EMPTY;
  pos = 0;
  gotBytes = false;
  firstByteAt = 0;

  constructor(wire: Wire) {
    this.wire = wire;
  }

  async #more(): Promise<boolean> {
    const chunk = await this.wire.read();
    if (chunk === null) return false;
    if (!this.gotBytes) {
      this.gotBytes = true;
      this.firstByteAt = performance.now();
    }
    this.buf = chunk;
    this.pos = 0;
    return true;
  }

  /** Reads status, headers and body into `res`; true when the connection can be reused. */
  async read(req: PreparedRequest, res: RawResult): Promise<boolean> {
    let head: string;
    let status: number;
    for (;;) {
      head = await this.#readHead();
      status = parseStatusLine(head, res);
      // 1xx interim responses (100 Continue, 103 Early Hints) precede the real one.
      if (status >= 100 && status < 200 && status !== 101) continue;
      break;
    }
    if (status === 101) {
      throw new HttpError(
        ErrorCode.Generic,
        "unsupported response status: 101 Switching Protocols",
      );
    }
    const headers = res.headers;
    let contentLength = -1;
    let chunked = false;
    let close = res.proto === "HTTP/1.0";
    let encoding = "";
    let start = head.indexOf("\r\n");
    while (start >= 0) {
      start += 2;
      let end = head.indexOf("\r\n", start);
      if (end < 0) end = head.length;
      const colon = head.indexOf(":", start);
      if (colon > start && colon < end) {
        const name = head.slice(start, colon);
        const value = head.slice(colon + 1, end).trim();
        headers.push(name, value);
        const len = name.length;
        if (len === 14 || len === 17 || len === 10 || len === 16) {
          const lower = name.toLowerCase();
          if (lower === "content-length") contentLength = Number(value);
          else if (lower === "transfer-encoding") {
            chunked = value.toLowerCase().includes("chunked");
          } else if (lower === "connection") {
            const v = value.toLowerCase();
            if (v === "close") close = true;
            else if (v === "keep-alive") close = false;
          } else if (lower === "content-encoding") encoding = value.toLowerCase();
        }
      }
      if (end >= head.length) break;
      start = end;
    }
    const sink = new BodySink(req.discardBody);
    let framed = true;
    if (req.method === "HEAD" || status === 204 || status === 304) {
      // no body
    } else if (chunked) {
      await this.#readChunked(sink);
    } else if (contentLength >= 0) {
      if (!req.discardBody) sink.preallocate(contentLength);
      await this.#readFixed(contentLength, sink);
    } else {
      framed = false;
      await this.#readToEOF(sink);
    }
    // A pooled connection must not hold unread bytes of this response.
    if (this.pos < this.buf.length) framed = false;
    if (!req.discardBody && !(req.method === "HEAD" || status === 204 || status === 304)) {
      res.body = decode(sink.bytes(), encoding);
    }
    return framed && !close;
  }

  async #readHead(): Promise<string> {
    let acc: Uint8Array | null = null;
    let accLen = 0;
    for (;;) {
      if (this.pos >= this.buf.length) {
        if (!(await this.#more())) throw new EOFError();
      }
      const buf = this.buf;
      if (acc === null) {
        const i = indexOfHeadEnd(buf, this.pos, this.pos);
        if (i >= 0) {
          const s = decoder.decode(buf.subarray(this.pos, i));
          this.pos = i + 4;
          return s;
        }
        acc = new Uint8Array(Math.max(8192, (buf.length - this.pos) * 2));
        acc.set(buf.subarray(this.pos));
        accLen = buf.length - this.pos;
        this.pos = buf.length;
        continue;
      }
      const pos0 = this.pos;
      const add = buf.length - pos0;
      if (accLen + add > acc.length) {
        if (accLen + add > maxHeadBytes) {
          throw new HttpError(ErrorCode.Generic, "net/http: server response headers exceeded 1MB");
        }
        const bigger = new Uint8Array((accLen + add) * 2);
        bigger.set(acc.subarray(0, accLen));
        acc = bigger;
      }
      acc.set(buf.subarray(pos0), accLen);
      const oldLen = accLen;
      accLen += add;
      const i = indexOfHeadEnd(acc.subarray(0, accLen), Math.max(0, oldLen - 3), 0);
      if (i >= 0) {
        this.pos = pos0 + (i + 4 - oldLen);
        return decoder.decode(acc.subarray(0, i));
      }
      this.pos = buf.length;
    }
  }

  async #readFixed(n: number, sink: BodySink): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.pos >= this.buf.length) {
        if (!(await this.#more())) throw new EOFError();
      }
      const take = Math.min(left, this.buf.length - this.pos);
      sink.add(this.buf, this.pos, take);
      this.pos += take;
      left -= take;
    }
  }

  async #readToEOF(sink: BodySink): Promise<void> {
    for (;;) {
      if (this.pos < this.buf.length) {
        sink.add(this.buf, this.pos, this.buf.length - this.pos);
        this.pos = this.buf.length;
      }
      if (!(await this.#more())) return;
    }
  }

  async #readLine(): Promise<string> {
    let acc = "";
    for (;;) {
      if (this.pos >= this.buf.length) {
        if (!(await this.#more())) throw new EOFError();
      }
      const buf = this.buf;
      const lf = buf.indexOf(10, this.pos);
      if (lf >= 0) {
        acc += latin1(buf, this.pos, lf);
        this.pos = lf + 1;
        return acc.endsWith("\r") ? acc.slice(0, -1) : acc;
      }
      acc += latin1(buf, this.pos, buf.length);
      this.pos = buf.length;
      if (acc.length > 4096) throw new HttpError(ErrorCode.Generic, "malformed chunked encoding");
    }
  }

  async #readChunked(sink: BodySink): Promise<void> {
    for (;;) {
      const line = await this.#readLine();
      const semi = line.indexOf(";");
      const sizeText = (semi >= 0 ? line.slice(0, semi) : line).trim();
      const size = parseInt(sizeText, 16);
      if (!(size >= 0) || !/^[0-9a-fA-F]+$/.test(sizeText)) {
        throw new HttpError(ErrorCode.Generic, "malformed chunked encoding");
      }
      if (size === 0) {
        // Trailers (ignored) end with an empty line.
        while ((await this.#readLine()) !== "");
        return;
      }
      await this.#readFixed(size, sink);
      if ((await this.#readLine()) !== "") {
        throw new HttpError(ErrorCode.Generic, "malformed chunked encoding");
      }
    }
  }
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]);
  return s;
}

/** Index of `\r\n\r\n` in buf at or after `from`; -1 if absent. */
function indexOfHeadEnd(buf: Uint8Array, from: number, _base: number): number {
  let i = buf.indexOf(13, from);
  while (i >= 0 && i + 3 < buf.length) {
    if (buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
    i = buf.indexOf(13, i + 1);
  }
  return -1;
}

function parseStatusLine(head: string, res: RawResult): number {
  let eol = head.indexOf("\r\n");
  if (eol < 0) eol = head.length;
  const sp1 = head.indexOf(" ");
  if (sp1 < 0 || sp1 > eol || !head.startsWith("HTTP/")) {
    throw new HttpError(ErrorCode.Generic, `malformed HTTP response "${head.slice(0, eol)}"`);
  }
  const sp2 = head.indexOf(" ", sp1 + 1);
  const codeEnd = sp2 < 0 || sp2 > eol ? eol : sp2;
  const status = Number(head.slice(sp1 + 1, codeEnd));
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new HttpError(
      ErrorCode.Generic,
      `malformed HTTP status code "${head.slice(sp1 + 1, codeEnd)}"`,
    );
  }
  res.proto = head.slice(0, sp1);
  res.status = status;
  res.statusText = codeEnd < eol ? head.slice(codeEnd + 1, eol) : "";
  res.headers = [];
  return status;
}
