/**
 * spate's local demo target: a small httpbin-like server on the loopback interface, used by the
 * examples, the tests and the benchmarks (so it is kept cheap: no framework, one switch on the
 * first path segment).
 *
 * @example
 * ```ts
 * const server = await startDemoServer({ port: 0 });
 * const res = await fetch(`${server.url}/get?x=1`);
 * await res.json(); // { args: { x: "1" }, headers: {...}, url: "...", ... }
 * await server.close();
 * ```
 *
 * Run it standalone with `deno run -A scripts/demo_server.ts [--port N]`.
 * @module
 */
import { createHash } from "node:crypto";

/** Options for {@link startDemoServer}. */
export interface DemoServerOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; loopback only by design. */
  hostname?: "127.0.0.1" | "localhost" | "::1";
  /** PEM certificate and key: serve HTTPS (HTTP/2 and HTTP/1.1 via ALPN) instead of HTTP. */
  cert?: string;
  key?: string;
}

/** A running demo server. */
export interface DemoServer {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const indexHtml = `<!DOCTYPE html>
<html><head><title>spate demo target</title></head>
<body><h1>spate demo target</h1>
<p>Endpoints: /get /post /put /patch /delete /anything /status/:code /delay/:s /json /ws
/bytes/:n /headers /redirect/:n /redirect-to?url= /cookies /cookies/set?k=v
/basic-auth/:user/:pass /digest-auth/:qop/:user/:pass[/:algorithm] /gzip</p>
<a href="/get">get</a>
<form action="/post" method="post"><input name="q" value="1"><input type="submit"></form>
<form id="search" action="/get?old=1" method="get"><input name="q" value="a b">
<select name="s"><option value="x" selected>X</option><option value="y">Y</option></select>
<input type="submit" name="go" value="Go"></form>
</body></html>
`;

/**
 * `/ws`: a WebSocket echo (text and binary). The text message `close <code>` makes the server
 * close with that code; the handshake echoes the first offered subprotocol and sets the cookie
 * `ws=1`; with `?cookies=1` the first message is `cookie: <the request's Cookie header>`.
 */
function wsEcho(req: Request, url: URL): Response {
  const protocol = req.headers.get("sec-websocket-protocol")?.split(",")[0]?.trim();
  const cookie = req.headers.get("cookie") ?? ""; // read before the upgrade consumes the request
  // Set by hand: Deno's `protocol` option splits the offer on ", " only, and refuses "a,b".
  const { socket, response } = Deno.upgradeWebSocket(req);
  if (protocol) response.headers.set("sec-websocket-protocol", protocol);
  response.headers.append("set-cookie", "ws=1; Path=/");
  if (url.searchParams.get("cookies") === "1") {
    socket.onopen = () => socket.send(`cookie: ${cookie}`);
  }
  socket.onmessage = (e) => {
    const m = typeof e.data === "string" ? /^close (\d+)$/.exec(e.data) : null;
    if (m) socket.close(Number(m[1]), "asked to");
    else socket.send(e.data);
  };
  socket.onerror = () => {};
  return response;
}

const jsonDoc = {
  slideshow: {
    author: "Yours Truly",
    date: "date of publication",
    slides: [
      { title: "Wake up to WonderWidgets!", type: "all" },
      {
        items: ["Why WonderWidgets are great", "Who buys WonderWidgets"],
        title: "Overview",
        type: "all",
      },
    ],
    title: "Sample Slide Show",
  },
};
const jsonText = JSON.stringify(jsonDoc);
const encoder = new TextEncoder();

function json(value: unknown, status = 200, extra?: HeadersInit): Response {
  const headers = new Headers(extra);
  headers.set("content-type", "application/json");
  return new Response(JSON.stringify(value, null, 2) + "\n", { status, headers });
}

function args(url: URL): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [prev, v];
  }
  return out;
}

function headerObject(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of req.headers) out[canonical(k)] = v;
  return out;
}

function canonical(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, sep: string, c: string) => sep + c.toUpperCase());
}

async function echo(req: Request, url: URL, remote: string): Promise<Response> {
  const body = new Uint8Array(await req.arrayBuffer());
  const text = new TextDecoder().decode(body);
  const type = req.headers.get("content-type") ?? "";
  let form: Record<string, string | string[]> = {};
  const files: Record<string, string> = {};
  let jsonBody: unknown = null;
  if (type.startsWith("application/x-www-form-urlencoded")) {
    form = args(new URL("http://x/?" + text));
  } else if (type.startsWith("multipart/form-data")) {
    const fd = await new Response(body, { headers: { "content-type": type } }).formData();
    for (const [k, v] of fd) {
      if (typeof v === "string") form[k] = v;
      else files[k] = await v.text();
    }
  } else if (text.length > 0) {
    try {
      jsonBody = JSON.parse(text);
    } catch {
      jsonBody = null;
    }
  }
  return json({
    args: args(url),
    data: type.startsWith("multipart/form-data") || type.includes("urlencoded") ? "" : text,
    files,
    form,
    headers: headerObject(req),
    json: jsonBody,
    method: req.method,
    origin: remote,
    url: url.href,
  });
}

function parseCookies(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = req.headers.get("cookie");
  if (!raw) return out;
  for (const part of raw.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** Pending /delay timers, released on close() so shutdown never waits for them. */
type Delays = Set<() => void>;

async function handle(req: Request, remote: string, delays: Delays): Promise<Response> {
  const url = new URL(req.url);
  const path = url.pathname;
  // The fast paths first: these are the benchmark targets.
  if (path === "/") {
    return new Response(indexHtml, { headers: { "content-type": "text/html; charset=utf-8" } });
  }
  const parts = path.split("/");
  const head = parts[1];
  switch (head) {
    case "get":
      if (req.method !== "GET" && req.method !== "HEAD") break;
      return json({ args: args(url), headers: headerObject(req), origin: remote, url: url.href });
    case "post":
    case "put":
    case "patch":
    case "delete":
      if (req.method.toLowerCase() !== head) break;
      return await echo(req, url, remote);
    case "anything":
      return await echo(req, url, remote);
    case "json":
      return new Response(jsonText, { headers: { "content-type": "application/json" } });
    case "ws":
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") break;
      return wsEcho(req, url);
    case "headers":
      return json({ headers: headerObject(req) });
    case "status": {
      const code = Number(parts[2]);
      if (!Number.isInteger(code) || code < 100 || code > 599) break;
      const nullBody = code === 204 || code === 304 || code < 200;
      if (code >= 300 && code < 400 && code !== 304) {
        return new Response(null, { status: code, headers: { location: "/redirect/1" } });
      }
      return new Response(nullBody ? null : "", { status: code });
    }
    case "delay": {
      const secs = Math.min(Number(parts[2]) || 0, 10);
      await new Promise<void>((resolve) => {
        const release = () => {
          clearTimeout(t);
          delays.delete(release);
          resolve();
        };
        const t = setTimeout(release, secs * 1000);
        delays.add(release);
      });
      return json({ args: args(url), headers: headerObject(req), url: url.href });
    }
    case "bytes": {
      const n = Math.min(Math.max(Number(parts[2]) || 0, 0), 100 * 1024 * 1024);
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = (i * 31 + 7) & 0xff;
      return new Response(out, { headers: { "content-type": "application/octet-stream" } });
    }
    case "stream-bytes": {
      // Chunked transfer encoding: a body without a known length.
      const n = Math.min(Math.max(Number(parts[2]) || 0, 0), 10 * 1024 * 1024);
      const chunk = Math.max(Number(url.searchParams.get("chunk_size")) || 1024, 1);
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(ctrl) {
          if (sent >= n) return ctrl.close();
          const size = Math.min(chunk, n - sent);
          const out = new Uint8Array(size);
          for (let i = 0; i < size; i++) out[i] = ((sent + i) * 31 + 7) & 0xff;
          sent += size;
          ctrl.enqueue(out);
        },
      });
      return new Response(stream, { headers: { "content-type": "application/octet-stream" } });
    }
    case "redirect": {
      const n = Number(parts[2]);
      if (!Number.isInteger(n) || n < 1) break;
      const location = n === 1 ? "/get" : `/redirect/${n - 1}`;
      return new Response(null, { status: 302, headers: { location } });
    }
    case "redirect-to": {
      const target = url.searchParams.get("url");
      if (!target) break;
      const status = Number(url.searchParams.get("status_code")) || 302;
      return new Response(null, { status, headers: { location: target } });
    }
    case "cookies": {
      if (parts[2] === "set") {
        const headers = new Headers({ location: "/cookies" });
        for (const [k, v] of url.searchParams) headers.append("set-cookie", `${k}=${v}; Path=/`);
        return new Response(null, { status: 302, headers });
      }
      if (parts[2] === "delete") {
        const headers = new Headers({ location: "/cookies" });
        for (const k of url.searchParams.keys()) {
          headers.append("set-cookie", `${k}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/`);
        }
        return new Response(null, { status: 302, headers });
      }
      return json({ cookies: parseCookies(req) });
    }
    case "basic-auth": {
      const expected = "Basic " + btoa(`${parts[2] ?? ""}:${parts[3] ?? ""}`);
      if (req.headers.get("authorization") !== expected) {
        return new Response(null, {
          status: 401,
          headers: { "www-authenticate": 'Basic realm="Fake Realm"' },
        });
      }
      return json({ authenticated: true, user: parts[2] });
    }
    case "digest-auth": {
      // As httpbin: qop `auth` (or anything else for none), algorithm MD5 (default) or SHA-256.
      const [, , qop, user = "", pass = "", algorithm = "MD5"] = parts;
      if (checkDigest(req, url, { qop, user, pass, algorithm })) {
        return json({ authenticated: true, user });
      }
      const nonce = crypto.randomUUID().replaceAll("-", "");
      const qopParam = qop === "auth" ? ', qop="auth"' : "";
      return new Response(null, {
        status: 401,
        headers: {
          "www-authenticate": `Digest realm="spate demo", nonce="${nonce}"${qopParam}, ` +
            `opaque="${nonce.slice(0, 16)}", algorithm=${algorithm}`,
        },
      });
    }
    case "gzip":
    case "deflate":
    case "brotli": {
      const body = encoder.encode(
        JSON.stringify({ [head === "gzip" ? "gzipped" : head]: true, headers: headerObject(req) }),
      );
      const { gzipSync, deflateSync, brotliCompressSync } = await import("node:zlib");
      const packed = head === "gzip"
        ? gzipSync(body)
        : head === "deflate"
        ? deflateSync(body)
        : brotliCompressSync(body);
      return new Response(new Uint8Array(packed), {
        headers: {
          "content-type": "application/json",
          "content-encoding": head === "brotli" ? "br" : head,
        },
      });
    }
  }
  return new Response("404 page not found\n", {
    status: 404,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/**
 * Starts the demo server; resolves once it listens.
 *
 * @example
 * ```ts
 * const { url, close } = await startDemoServer();
 * await close();
 * ```
 */
export function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const tls = options.cert !== undefined && options.key !== undefined;
  const delays: Delays = new Set();
  return new Promise((resolve) => {
    const server = Deno.serve(
      {
        port: options.port ?? 0,
        hostname,
        ...(tls ? { cert: options.cert, key: options.key } : {}),
        onListen(addr) {
          const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
          resolve({
            url: `${tls ? "https" : "http"}://${host}:${addr.port}`,
            port: addr.port,
            close: () => {
              for (const release of [...delays]) release();
              return server.shutdown();
            },
          });
        },
      },
      (req, info) => {
        const addr = info.remoteAddr as Deno.NetAddr;
        return handle(req, addr.hostname, delays);
      },
    );
  });
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--port");
  const port = i >= 0 ? Number(Deno.args[i + 1]) : 8080;
  const server = await startDemoServer({ port });
  console.log(`spate demo target listening on ${server.url}`);
}

/**
 * Whether `req` carries a Digest answer (RFC 7616) for `user`/`pass` on this URL. The demo
 * keeps no nonce state: any nonce is accepted with a correct response.
 */
function checkDigest(
  req: Request,
  url: URL,
  want: { qop: string; user: string; pass: string; algorithm: string },
): boolean {
  const header = req.headers.get("authorization") ?? "";
  if (!header.startsWith("Digest ")) return false;
  const a: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/([a-z]+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    a[m[1]] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3];
  }
  const hash = want.algorithm.toUpperCase() === "SHA-256" ? "sha256" : "md5";
  const h = (s: string) => createHash(hash).update(s).digest("hex");
  if (a.username !== want.user || a.uri !== url.pathname + url.search) return false;
  const ha1 = h(`${want.user}:${a.realm}:${want.pass}`);
  const ha2 = h(`${req.method}:${a.uri}`);
  const expected = want.qop === "auth"
    ? h(`${ha1}:${a.nonce}:${a.nc}:${a.cnonce}:auth:${ha2}`)
    : h(`${ha1}:${a.nonce}:${ha2}`);
  return a.response === expected && (want.qop !== "auth" || a.qop === "auth");
}
