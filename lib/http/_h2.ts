/**
 * HTTP/2 for HTTPS servers that choose it by ALPN, as k6 (Go's transport) does: one session
 * per origin and VU, every request a stream on it, `proto` `HTTP/2.0`.
 *
 * The session is node:http2 over the TLS socket the client's own dialer opened, so the dial's
 * `connecting` and `tls_handshaking` and the certificate checks are the same as for HTTP/1.1.
 * Per request: `sending` runs until the request's last byte is handed to the session,
 * `waiting` until the response headers, `receiving` until the stream ends.
 *
 * Bytes: the first request on a session gets the bytes the socket moved before it (TLS
 * handshake, HTTP/2 preface and settings), as HTTP/1.1 gives a connection's handshake to its
 * first request. Per stream, node:http2 does not tell the bytes on the wire (HPACK), so
 * headers count as their uncompressed `name: value` size and each frame as 9 bytes: close to
 * k6's figures for a first request, and above them for repeated headers, which HPACK indexes.
 *
 * Errors get k6's HTTP/2 codes: a stream reset by the server 1630 + 1 + the HTTP/2 error code,
 * a GOAWAY 1610 + 1 + code, a connection error 1650 + 1 + code, with k6's messages.
 * @module
 */
import http2 from "node:http2";
import type tls from "node:tls";
import type net from "node:net";
import { BodySink, decode } from "./_body.ts";
import { HttpError } from "./_errors.ts";
import type { RawResult } from "./client.ts";

/** HTTP/2 error code names (RFC 9113 §7), as Go's http2.ErrCode prints them. */
const H2_CODES = [
  "NO_ERROR",
  "PROTOCOL_ERROR",
  "INTERNAL_ERROR",
  "FLOW_CONTROL_ERROR",
  "SETTINGS_TIMEOUT",
  "STREAM_CLOSED",
  "FRAME_SIZE_ERROR",
  "REFUSED_STREAM",
  "CANCEL",
  "COMPRESSION_ERROR",
  "CONNECT_ERROR",
  "ENHANCE_YOUR_CALM",
  "INADEQUATE_SECURITY",
  "HTTP_1_1_REQUIRED",
];

function h2Error(base: number, what: string, code: number): HttpError {
  const known = code >= 0 && code < H2_CODES.length;
  const name = known ? H2_CODES[code] : `unknown error code 0x${code.toString(16)}`;
  return new HttpError(base + (known ? code + 1 : 0), `http2: ${what} with http2 ErrCode ${name}`);
}

/** Go's http.StatusText: HTTP/2 has no reason phrase, and Go's transport fills in its own. */
const STATUS_TEXT: Record<number, string> = {
  100: "Continue",
  101: "Switching Protocols",
  102: "Processing",
  103: "Early Hints",
  200: "OK",
  201: "Created",
  202: "Accepted",
  203: "Non-Authoritative Information",
  204: "No Content",
  205: "Reset Content",
  206: "Partial Content",
  207: "Multi-Status",
  208: "Already Reported",
  226: "IM Used",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  305: "Use Proxy",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Request Entity Too Large",
  414: "Request URI Too Long",
  415: "Unsupported Media Type",
  416: "Requested Range Not Satisfiable",
  417: "Expectation Failed",
  418: "I'm a teapot",
  421: "Misdirected Request",
  422: "Unprocessable Entity",
  423: "Locked",
  424: "Failed Dependency",
  425: "Too Early",
  426: "Upgrade Required",
  428: "Precondition Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  451: "Unavailable For Legal Reasons",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
  506: "Variant Also Negotiates",
  507: "Insufficient Storage",
  508: "Loop Detected",
  510: "Not Extended",
  511: "Network Authentication Required",
};

/** Request headers HTTP/2 forbids (RFC 9113 §8.2.2), or that the client sets itself. */
const DROPPED = new Set([
  "host",
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "content-length",
]);

/** What a stream fills in. */
export type H2Result = Pick<
  RawResult,
  | "status"
  | "statusText"
  | "proto"
  | "headers"
  | "body"
  | "sending"
  | "waiting"
  | "receiving"
  | "bytesSent"
  | "bytesReceived"
>;

/** One request as a stream sends it. */
export interface H2Request {
  method: string;
  /** `:authority`: the URL's host, or the request's Host header. */
  authority: string;
  path: string;
  /** Flat name, value list; forbidden and framing headers are dropped here. */
  headers: readonly string[];
  /** Basic auth from the URL, sent unless the headers carry Authorization. */
  auth: string;
  body: Uint8Array | null;
  discardBody: boolean;
  /** Send `content-length: 0` without a body (POST, PUT, PATCH, as HTTP/1.1 does). */
  zeroLength: boolean;
}

/** A TLS socket whose ALPN chose `h2`, with the peer's identity. */
export interface H2Socket {
  readonly h2: true;
  readonly socket: tls.TLSSocket;
  readonly tcp: net.Socket;
  readonly remoteIP: string;
  readonly remotePort: number;
  readonly tlsVersion: string;
  readonly tlsCipherSuite: string;
}

function headerSize(name: string, value: string): number {
  return name.length + value.length + 2;
}

/** See the module documentation. */
export class H2Session {
  readonly remoteIP: string;
  readonly remotePort: number;
  readonly tlsVersion: string;
  readonly tlsCipherSuite: string;
  readonly #session: http2.ClientHttp2Session;
  /** Socket bytes before the first stream, owed to the first request. */
  #handshake: { sent: number; received: number } | null;
  #goaway: HttpError | null = null;
  #connError: HttpError | null = null;

  constructor(from: H2Socket, origin: string) {
    this.remoteIP = from.remoteIP;
    this.remotePort = from.remotePort;
    this.tlsVersion = from.tlsVersion;
    this.tlsCipherSuite = from.tlsCipherSuite;
    this.#handshake = {
      sent: (from.tcp.bytesWritten ?? 0) + 24 + 9, // preface and SETTINGS
      received: from.tcp.bytesRead ?? 0,
    };
    const session = http2.connect(origin, { createConnection: () => from.socket });
    session.on("error", (err: { code?: string; message?: string }) => {
      const m = /error code (\d+)/.exec(err?.message ?? "");
      this.#connError = h2Error(1650, "connection error", m ? Number(m[1]) : 2);
    });
    session.on("goaway", (code: number) => {
      this.#goaway = h2Error(1610, "received GoAway", code);
    });
    this.#session = session;
  }

  /** False once the session is closing or closed (then the client dials again). */
  get alive(): boolean {
    const s = this.#session;
    return !s.closed && !s.destroyed && this.#goaway === null && this.#connError === null;
  }

  /**
   * Sends one request as a stream and fills `res`. `onStream` gets a canceller for the
   * client's timeout and interrupt. Rejects with an {@link HttpError}.
   */
  request(
    req: H2Request,
    res: H2Result,
    onStream: (cancel: { close(): void }) => void,
  ): Promise<void> {
    const headers: Record<string, string | string[]> = {
      ":method": req.method,
      ":scheme": "https",
      ":authority": req.authority,
      ":path": req.path,
    };
    let sent = 9 + headerSize(":method", req.method) + headerSize(":scheme", "https") +
      headerSize(":authority", req.authority) + headerSize(":path", req.path);
    let hasAuth = false;
    const h = req.headers;
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i].toLowerCase();
      if (DROPPED.has(name) || (name === "te" && h[i + 1].toLowerCase() !== "trailers")) continue;
      if (name === "authorization") hasAuth = true;
      const prev = headers[name];
      headers[name] = prev === undefined
        ? h[i + 1]
        : [...(Array.isArray(prev) ? prev : [prev]), h[i + 1]];
      sent += headerSize(name, h[i + 1]);
    }
    if (req.auth !== "" && !hasAuth) {
      headers.authorization = req.auth;
      sent += headerSize("authorization", req.auth);
    }
    const body = req.body;
    if (body !== null || req.zeroLength) {
      const length = String(body?.length ?? 0);
      headers["content-length"] = length;
      sent += headerSize("content-length", length);
    }
    if (body !== null) sent += body.length + 9 * Math.ceil(body.length / 16384);
    let received = 0;
    const handshake = this.#handshake;
    this.#handshake = null;
    if (handshake) {
      sent += handshake.sent;
      received += handshake.received;
    }

    return new Promise<void>((resolve, reject) => {
      const t0 = performance.now();
      let tSent = 0;
      let tHead = 0;
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.#session.request(headers, { endStream: body === null || body.length === 0 });
      } catch (err) {
        reject(this.#goaway ?? this.#connError ?? new HttpError(1000, String(err)));
        return;
      }
      let cancelled = false;
      onStream({
        close: () => {
          cancelled = true;
          stream.close(http2.constants.NGHTTP2_CANCEL);
        },
      });
      const sink = new BodySink(req.discardBody);
      let encoding = "";
      const finishSending = () => {
        if (tSent === 0) tSent = performance.now();
      };
      if (body !== null && body.length > 0) stream.end(body, finishSending);
      else finishSending();
      stream.on("response", (h: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader) => {
        tHead = performance.now();
        finishSending();
        const status = Number(h[":status"]);
        res.status = status;
        res.statusText = STATUS_TEXT[status] ?? "";
        res.proto = "HTTP/2.0";
        const list: string[] = [];
        received += 9;
        for (const [name, value] of Object.entries(h)) {
          if (name.startsWith(":") || value === undefined) continue;
          for (const v of Array.isArray(value) ? value : [String(value)]) {
            list.push(name, v);
            received += headerSize(name, v);
          }
          if (name === "content-encoding") encoding = String(value).toLowerCase();
        }
        received += headerSize(":status", String(status));
        res.headers = list;
      });
      stream.on("data", (chunk: Uint8Array) => {
        received += chunk.length + 9;
        sink.add(chunk, 0, chunk.length);
      });
      stream.on("end", () => {
        // A stream closed without an answer (cancelled, reset) ends too: "close" reports it.
        if (tHead === 0 || cancelled) return;
        const tEnd = performance.now();
        res.sending = tSent - t0;
        res.waiting = tHead - tSent;
        res.receiving = tEnd - tHead;
        res.bytesSent = sent;
        res.bytesReceived = received;
        const noBody = req.method === "HEAD" || res.status === 204 || res.status === 304;
        try {
          if (!req.discardBody && !noBody) res.body = decode(sink.bytes(), encoding);
        } catch (err) {
          reject(err);
          return;
        }
        resolve();
      });
      stream.on("close", () => {
        if (tHead !== 0 && !cancelled && stream.rstCode === http2.constants.NGHTTP2_NO_ERROR) {
          return;
        }
        res.bytesSent = sent;
        res.bytesReceived = received;
        if (cancelled) reject(new HttpError(1000, "cancelled"));
        else if (this.#goaway) reject(this.#goaway);
        else if (this.#connError) reject(this.#connError);
        else if (stream.rstCode !== undefined && stream.rstCode !== 0) {
          reject(h2Error(1630, "stream error", stream.rstCode));
        } else reject(new HttpError(1000, "unexpected EOF"));
      });
      stream.on("error", () => {
        // Reported by "close" with the stream's reset code.
      });
    });
  }

  /** Closes the session: streams still open finish first. */
  close(): void {
    if (!this.#session.closed) this.#session.close();
  }

  /** Closes at once. */
  destroy(): void {
    this.#session.destroy();
  }
}
