import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { HttpTransport, type PreparedRequest, type RawResult } from "../../lib/http/client.ts";
import { InterruptedError } from "../../lib/vu/state.ts";
import { startDemoServer } from "../../scripts/demo_server.ts";
import { selfSignedCert } from "./_tls.ts";

const text = new TextDecoder();

function get(url: string, extra: Partial<PreparedRequest> = {}): PreparedRequest {
  return {
    method: "GET",
    url,
    headers: [],
    body: null,
    timeout: 5000,
    discardBody: false,
    ...extra,
  };
}

function header(r: RawResult, name: string): string | undefined {
  for (let i = 0; i < r.headers.length; i += 2) {
    if (r.headers[i].toLowerCase() === name) return r.headers[i + 1];
  }
  return undefined;
}

function assertTimings(r: RawResult): void {
  for (
    const k of [
      "blocked",
      "connecting",
      "tlsHandshaking",
      "sending",
      "waiting",
      "receiving",
    ] as const
  ) {
    assert(r[k] >= 0, `${k} = ${r[k]}`);
  }
  assert(r.blocked >= r.connecting + r.tlsHandshaking - 1e-6, "blocked includes dialing");
  assert(r.endTime >= r.startTime);
  const total = r.endTime - r.startTime;
  assert(r.blocked + r.sending + r.waiting + r.receiving <= total + 0.5, "phases fit in the span");
}

Deno.test("client: GET, keep-alive reuse, timings and byte counts", async () => {
  const server = await startDemoServer();
  const t = new HttpTransport({});
  try {
    const a = await t.executeRequest(
      get(`${server.url}/get?x=1`, { headers: ["User-Agent", "spate-test"] }),
    );
    assertEquals(a.status, 200);
    assertEquals(a.statusText, "OK");
    assertEquals(a.proto, "HTTP/1.1");
    assertEquals(a.errorCode, 0);
    assertEquals(a.reused, false);
    assert(a.connecting > 0, "first request dials");
    assertEquals(a.remoteIP, "127.0.0.1");
    assertEquals(a.remotePort, server.port);
    assertEquals(a.tlsVersion, "");
    const body = JSON.parse(text.decode(a.body!));
    assertEquals(body.args, { x: "1" });
    assertEquals(body.headers["User-Agent"], "spate-test");
    assertEquals(a.bytesReceived > a.body!.length, true);
    assertEquals(
      a.bytesSent,
      `GET /get?x=1 HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUser-Agent: spate-test\r\n\r\n`
        .length,
    );
    assertTimings(a);
    const b = await t.executeRequest(get(`${server.url}/get`));
    assertEquals(b.reused, true);
    assertEquals(b.connecting, 0);
    assertTimings(b);
  } finally {
    t.close();
    await server.close();
  }
});

Deno.test("client: POST body with Content-Length, Host override, basic auth from URL", async () => {
  const server = await startDemoServer();
  const t = new HttpTransport({});
  try {
    const r = await t.executeRequest({
      method: "POST",
      url: `${server.url}/post`,
      headers: ["Content-Type", "application/json", "Content-Length", "999"],
      body: new TextEncoder().encode('{"a":1}'),
      timeout: 5000,
      discardBody: false,
    });
    const echo = JSON.parse(text.decode(r.body!));
    assertEquals(echo.json, { a: 1 });
    assertEquals(echo.headers["Content-Length"], "7");
    const empty = await t.executeRequest({ ...get(`${server.url}/post`), method: "POST" });
    assertEquals(JSON.parse(text.decode(empty.body!)).headers["Content-Length"], "0");
    const host = await t.executeRequest(
      get(`${server.url}/headers`, { headers: ["Host", "example.test"] }),
    );
    assertEquals(JSON.parse(text.decode(host.body!)).headers.Host, "example.test");
    const u = new URL(server.url);
    const auth = await t.executeRequest(get(`http://user:p%40ss@${u.host}/basic-auth/user/p@ss`));
    assertEquals(auth.status, 200);
    const noAuth = await t.executeRequest(get(`${server.url}/basic-auth/user/p@ss`));
    assertEquals(noAuth.status, 401);

    // A body past 64 KiB leaves in its own write, after the head: it arrives whole, is
    // counted, and the connection's framing holds for the request after it.
    const big = "0123456789abcdef".repeat(12_500);
    const head = `POST /post HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${big.length}\r\n\r\n`;
    for (const size of [big.length, 65_536, 65_537]) {
      const posted = await t.executeRequest({
        method: "POST",
        url: `${server.url}/post`,
        headers: ["Content-Type", "text/plain"],
        body: new TextEncoder().encode(big.slice(0, size)),
        timeout: 5000,
        discardBody: false,
      });
      assertEquals([posted.status, posted.reused], [200, true]);
      assertEquals(JSON.parse(text.decode(posted.body!)).data, big.slice(0, size));
      assertEquals(posted.bytesSent, head.replace(String(big.length), String(size)).length + size);
    }
    const next = await t.executeRequest(get(`${server.url}/get`));
    assertEquals([next.status, next.reused], [200, true]);
  } finally {
    t.close();
    await server.close();
  }
});

Deno.test("client: chunked, gzip, deflate, brotli, 204 and HEAD bodies", async () => {
  const server = await startDemoServer();
  const t = new HttpTransport({});
  try {
    const chunked = await t.executeRequest(
      get(`${server.url}/stream-bytes/100000?chunk_size=3000`),
    );
    assertEquals(header(chunked, "transfer-encoding"), "chunked");
    assertEquals(chunked.body!.length, 100000);
    for (let i = 0; i < 100000; i += 997) assertEquals(chunked.body![i], (i * 31 + 7) & 0xff);
    for (const [path, key] of [["gzip", "gzipped"], ["deflate", "deflate"], ["brotli", "brotli"]]) {
      const r = await t.executeRequest(get(`${server.url}/${path}`));
      assertEquals(JSON.parse(text.decode(r.body!))[key], true, path);
    }
    const none = await t.executeRequest(get(`${server.url}/status/204`));
    assertEquals([none.status, none.body], [204, null]);
    const head = await t.executeRequest({ ...get(`${server.url}/bytes/50`), method: "HEAD" });
    assertEquals([head.status, head.body], [200, null]);
    const after = await t.executeRequest(get(`${server.url}/bytes/10`));
    assertEquals([after.reused, after.body!.length], [true, 10]);
    const discarded = await t.executeRequest(
      get(`${server.url}/bytes/5000`, { discardBody: true }),
    );
    assertEquals(discarded.body, null);
    assert(discarded.bytesReceived > 5000);
  } finally {
    t.close();
    await server.close();
  }
});

Deno.test("client: error codes (timeout 1050, refused 1212, no such host 1101, blocked 1111, blacklisted 1110)", async () => {
  const server = await startDemoServer();
  const t = new HttpTransport({
    blockHostnames: ["*.blocked.test"],
    blacklistIPs: ["10.0.0.0/8"],
    hosts: { "bad.test": "10.1.2.3" },
  });
  try {
    const slow = await t.executeRequest(get(`${server.url}/delay/5`, { timeout: 150 }));
    assertEquals([slow.status, slow.errorCode, slow.error], [0, 1050, "request timeout"]);
    assertEquals(slow.body, null);
    // A free port: bind, note it, release.
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    const refused = await t.executeRequest(get(`http://127.0.0.1:${port}/`));
    assertEquals([refused.status, refused.errorCode], [0, 1212]);
    assertEquals(refused.error, "dial: connection refused");
    assertEquals(refused.errorDetail, `dial tcp 127.0.0.1:${port}: connect: connection refused`);
    const unknown = await t.executeRequest(get("http://no-such-host.invalid/"));
    assertEquals([unknown.status, unknown.errorCode], [0, 1101]);
    assertEquals(unknown.error, "lookup: no such host");
    assertEquals(unknown.errorDetail, "dial tcp: lookup no-such-host.invalid: no such host");
    const blocked = await t.executeRequest(get("http://api.blocked.test/"));
    assertEquals(blocked.errorCode, 1111);
    assertEquals(blocked.error, "hostname is blocked");
    assertEquals(
      blocked.errorDetail,
      "hostname (api.blocked.test) is in a blocked pattern (*.blocked.test)",
    );
    const blacklisted = await t.executeRequest(get("http://bad.test/"));
    assertEquals(blacklisted.errorCode, 1110);
    assertEquals(blacklisted.error, "ip is blacklisted");
    assertEquals(blacklisted.errorDetail, "IP (10.1.2.3) is in a blacklisted range (10.0.0.0/8)");
  } finally {
    t.close();
    await server.close();
  }
});

Deno.test("client: hosts override maps a name to the demo server", async () => {
  const server = await startDemoServer();
  const t = new HttpTransport({ hosts: { "demo.test": `127.0.0.1:${server.port}` } });
  try {
    const r = await t.executeRequest(get("http://demo.test/headers"));
    assertEquals(r.status, 200);
    assertEquals(JSON.parse(text.decode(r.body!)).headers.Host, "demo.test");
  } finally {
    t.close();
    await server.close();
  }
});

Deno.test("client: an abort signal interrupts an in-flight request at once", async () => {
  const server = await startDemoServer();
  const t = new HttpTransport({});
  try {
    const ac = new AbortController();
    const t0 = performance.now();
    const p = t.executeRequest(get(`${server.url}/delay/5`), ac.signal);
    setTimeout(() => ac.abort(), 50);
    await assertRejects(() => p, InterruptedError);
    assert(performance.now() - t0 < 1000);
  } finally {
    t.close();
    await server.close();
  }
});

Deno.test("client: a pooled connection closed by the server is retried on a new one", async () => {
  // A raw server that answers one request per connection, then closes it without saying so.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const serving = (async () => {
    for await (const conn of listener) {
      const buf = new Uint8Array(4096);
      await conn.read(buf);
      await conn.write(new TextEncoder().encode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
      conn.close();
    }
  })();
  const t = new HttpTransport({});
  try {
    const a = await t.executeRequest(get(`http://127.0.0.1:${port}/`));
    await new Promise((r) => setTimeout(r, 20));
    const b = await t.executeRequest(get(`http://127.0.0.1:${port}/`));
    assertEquals([a.status, b.status, text.decode(b.body!)], [200, 200, "ok"]);
    assertEquals(b.reused, false);
  } finally {
    t.close();
    listener.close();
    await serving.catch(() => {});
  }
});

Deno.test("client: HTTPS with a self-signed cert: 1310 unless trusted or skipped; HTTP/2 by ALPN", async () => {
  const { cert, key } = await selfSignedCert();
  const server = await startDemoServer({ cert, key });
  const strict = new HttpTransport({});
  const trusted = new HttpTransport({ caCerts: [cert] });
  const insecure = new HttpTransport({ insecureSkipTLSVerify: true });
  try {
    const url = `https://localhost:${server.port}/get`;
    const bad = await strict.executeRequest(get(url));
    assertEquals([bad.status, bad.errorCode, bad.error], [0, 1310, "x509: unknown authority"]);
    for (const t of [trusted, insecure]) {
      const r = await t.executeRequest(get(url));
      assertEquals([r.status, r.statusText, r.proto, r.tlsVersion], [
        200,
        "OK",
        "HTTP/2.0",
        "tls1.3",
      ]);
      assert(r.tlsHandshaking > 0 && r.connecting > 0);
      assert(r.tlsCipherSuite.startsWith("TLS_"));
      assert(r.bytesReceived > r.body!.length + 500, "handshake bytes count for the first request");
      const again = await t.executeRequest(get(url));
      assertEquals([again.reused, again.tlsHandshaking, again.connecting], [true, 0, 0]);
      assertEquals([again.status, again.proto], [200, "HTTP/2.0"]);
    }
    // GODEBUG=http2client=0 (k6's switch) offers HTTP/1.1 only.
    const h1 = new HttpTransport({ caCerts: [cert], http1Only: true });
    const r1 = await h1.executeRequest(get(url));
    h1.close();
    assertEquals([r1.status, r1.proto, r1.statusText], [200, "HTTP/1.1", "OK"]);
    const mismatch = await trusted.executeRequest(get(`https://127.0.0.2:${server.port}/`)).catch(
      () => null,
    );
    // 127.0.0.2 is not in the certificate (and may not be routable): either way not a success.
    assert(mismatch === null || mismatch.status === 0);
  } finally {
    strict.close();
    trusted.close();
    insecure.close();
    await server.close();
  }
});

/** A one-shot raw TCP server answering every connection with `reply`, then closing. */
function rawServer(reply: string): { url: string; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const serving = (async () => {
    for await (const conn of listener) {
      await conn.read(new Uint8Array(4096));
      await conn.write(new TextEncoder().encode(reply));
      conn.close();
    }
  })();
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      listener.close();
      await serving.catch(() => {});
    },
  };
}

Deno.test("client: close-delimited body, HTTP/1.0, 101 is an error", async () => {
  const s1 = rawServer("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
  const s2 = rawServer("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
  const t = new HttpTransport({});
  try {
    const r = await t.executeRequest(get(s1.url + "/"));
    assertEquals([r.status, r.proto, text.decode(r.body!)], [200, "HTTP/1.0", "until the end"]);
    const up = await t.executeRequest(get(s2.url + "/"));
    assertEquals(up.status, 0);
    assertEquals(up.error, "unsupported response status: 101 Switching Protocols");
  } finally {
    t.close();
    await s1.close();
    await s2.close();
  }
});

Deno.test("client: noConnectionReuse sends Connection: close and dials every time", async () => {
  const server = await startDemoServer();
  const t = new HttpTransport({ noConnectionReuse: true });
  try {
    const a = await t.executeRequest(get(`${server.url}/headers`));
    const b = await t.executeRequest(get(`${server.url}/headers`));
    assertEquals([a.reused, b.reused], [false, false]);
    assert(b.connecting > 0);
  } finally {
    t.close();
    await server.close();
  }
});

Deno.test("client: hostnames are resolved before the dial (localhost)", async () => {
  const server = await startDemoServer();
  const t = new HttpTransport({});
  try {
    const r = await t.executeRequest(get(`http://localhost:${server.port}/get`));
    assertEquals([r.status, r.remoteIP], [200, "127.0.0.1"]);
  } finally {
    t.close();
    await server.close();
  }
});

Deno.test("client: HTTP/2 streams: one session per origin, bodies, headers, timings, timeouts", async () => {
  const { cert, key } = await selfSignedCert();
  const server = await startDemoServer({ cert, key });
  const t = new HttpTransport({ caCerts: [cert] });
  const base = `https://localhost:${server.port}`;
  try {
    // Ten at once on a new transport (http.batch): one dial, the others wait and share it.
    const batch = await Promise.all(
      Array.from({ length: 10 }, (_, i) => t.executeRequest(get(`${base}/get?i=${i}`))),
    );
    assertEquals(batch.map((r) => [r.status, r.proto]), Array(10).fill([200, "HTTP/2.0"]));
    assertEquals(batch.filter((r) => r.tlsHandshaking > 0).length, 1, "one TLS handshake");
    assertEquals(batch.map((r) => JSON.parse(text.decode(r.body!)).args.i), [
      ..."0123456789",
    ]);
    for (const r of batch) assertTimings(r);
    // The handshake's bytes go to the request that dialled.
    const first = batch.find((r) => !r.reused)!;
    const other = batch.find((r) => r.reused)!;
    assert(first.bytesReceived > other.bytesReceived + 500, `${first.bytesReceived}`);

    const post = await t.executeRequest(get(`${base}/post`, {
      method: "POST",
      headers: ["Content-Type", "text/plain", "X-Two", "a", "X-Two", "b", "Connection", "close"],
      body: new TextEncoder().encode("hello h2"),
    }));
    const echo = JSON.parse(text.decode(post.body!));
    assertEquals([post.status, post.reused, echo.data], [200, true, "hello h2"]);
    assertEquals(echo.headers["Content-Type"], "text/plain");
    assertEquals(echo.headers["X-Two"], "a, b");
    assertEquals(echo.headers["Content-Length"], "8");
    assert(post.bytesSent > 8 && post.sending >= 0 && post.waiting > 0);

    // Basic auth from the URL, and a gzip body decoded as for HTTP/1.1.
    const auth = await t.executeRequest(get(`https://u:p@localhost:${server.port}/basic-auth/u/p`));
    assertEquals(auth.status, 200);
    const gz = await t.executeRequest(get(`${base}/gzip`));
    assertEquals([JSON.parse(text.decode(gz.body!)).gzipped, header(gz, "content-encoding")], [
      true,
      "gzip",
    ]);
    const missing = await t.executeRequest(get(`${base}/status/404`));
    assertEquals([missing.status, missing.statusText], [404, "Not Found"]);

    // A timeout cancels its stream only: the session goes on.
    const slow = await t.executeRequest(get(`${base}/delay/3`, { timeout: 200 }));
    assertEquals([slow.status, slow.errorCode, slow.error], [0, 1050, "request timeout"]);
    const after = await t.executeRequest(get(`${base}/get`));
    assertEquals([after.status, after.reused], [200, true]);

    // closeIdle (noVUConnectionReuse) closes the session: the next request dials again.
    t.closeIdle();
    const fresh = await t.executeRequest(get(`${base}/get`));
    assertEquals([fresh.status, fresh.reused, fresh.tlsHandshaking > 0], [200, false, true]);
  } finally {
    t.close();
    await server.close();
  }
});

Deno.test("client: HTTP/2 resets and GOAWAY get k6's error codes; GOAWAY before an answer retries", async () => {
  const http2 = await import("node:http2");
  const { cert, key } = await selfSignedCert();
  let goaways = 0;
  const server = http2.createSecureServer({ cert, key }, (req, res) => {
    if (req.url === "/calm") {
      req.stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
      return;
    }
    if (req.url === "/goaway" && goaways++ === 0) {
      // Refuse this stream and every later one on this connection: the client retries once.
      req.stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR, 0);
      req.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    res.end("ok " + req.url);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const t = new HttpTransport({ caCerts: [cert] });
  try {
    const ok = await t.executeRequest(get(`https://localhost:${port}/x`));
    assertEquals([ok.status, ok.proto, text.decode(ok.body!)], [200, "HTTP/2.0", "ok /x"]);
    const calm = await t.executeRequest(get(`https://localhost:${port}/calm`));
    assertEquals([calm.status, calm.errorCode, calm.error], [
      0,
      1642,
      "http2: stream error with http2 ErrCode ENHANCE_YOUR_CALM",
    ]);
    const retried = await t.executeRequest(get(`https://localhost:${port}/goaway`));
    assertEquals([retried.status, retried.reused, text.decode(retried.body!)], [
      200,
      false,
      "ok /goaway",
    ]);
  } finally {
    t.close();
    await new Promise((resolve) => server.close(resolve));
  }
});
