import { assert, assertEquals, assertRejects } from "../_assert.ts";
import {
  closeModule,
  createHttpModule,
  iterationEnd,
  type K6HttpModule,
} from "../../lib/js/http.ts";
import { InterruptedError } from "../../lib/vu/state.ts";
import { type DemoServer, startDemoServer } from "../../scripts/demo_server.ts";
import { FakeVUState } from "./_fake_vu_state.ts";
import type { HttpConfig } from "../../lib/config/types.ts";

async function withModule(
  fn: (http: K6HttpModule, state: FakeVUState, server: DemoServer) => Promise<void>,
  opts: { http?: Partial<HttpConfig>; systemTags?: string[]; throwErrors?: boolean } = {},
): Promise<void> {
  const server = await startDemoServer();
  const state = new FakeVUState(opts);
  const http = createHttpModule(state);
  try {
    await fn(http, state, server);
  } finally {
    http[closeModule]();
    await server.close();
  }
}

Deno.test("http: GET response object, tags and metrics of one round trip", () =>
  withModule(async (http, state, server) => {
    const res = await http.get(`${server.url}/get?a=1`, { tags: { my: "tag" } });
    assertEquals(res.status, 200);
    assertEquals(res.status_text, "200 OK");
    assertEquals(res.proto, "HTTP/1.1");
    assertEquals(res.url, `${server.url}/get?a=1`);
    assertEquals(res.headers["Content-Type"], "application/json");
    assertEquals(res.error, "");
    assertEquals(res.error_code, 0);
    assertEquals(res.remote_ip, "127.0.0.1");
    assertEquals(res.remote_port, server.port);
    assertEquals((res.json() as { args: unknown }).args, { a: "1" });
    assertEquals(res.json("args.a"), "1");
    assertEquals(res.json("nope.x"), undefined);
    assertEquals((res.json("headers") as Record<string, string>)["User-Agent"], "Grafana k6/2.2.0");
    assertEquals(res.request.method, "GET");
    assertEquals(res.request.headers["User-Agent"], ["Grafana k6/2.2.0"]);
    const t = res.timings;
    // Whole nanoseconds in ms, as k6 reports them (so outputs print "0.123456", not noise).
    for (const [key, v] of Object.entries(t)) {
      assertEquals(Math.round(v * 1e6) / 1e6, v, `timings.${key}`);
    }
    assertEquals(t.duration, Math.round((t.sending + t.waiting + t.receiving) * 1e6) / 1e6);
    assertEquals(state.emitted.length, 1);
    const e = state.emitted[0];
    assertEquals(e.tags, {
      scenario: "default",
      group: "",
      my: "tag",
      name: `${server.url}/get?a=1`,
      url: `${server.url}/get?a=1`,
      method: "GET",
      status: "200",
      proto: "HTTP/1.1",
      expected_response: "true",
    });
    assertEquals(Object.keys(e.values), [
      "http_reqs",
      "http_req_duration",
      "http_req_blocked",
      "http_req_connecting",
      "http_req_tls_handshaking",
      "http_req_sending",
      "http_req_waiting",
      "http_req_receiving",
      "http_req_failed",
    ]);
    assertEquals(e.values.http_reqs, 1);
    assertEquals(e.values.http_req_failed, 0);
    assertEquals(e.values.http_req_duration, t.duration);
    assert(state.sent > 0 && state.received > 0);
    // Keep-alive: the second request does not connect again.
    const again = await http.get(`${server.url}/get`);
    assertEquals(again.timings.connecting, 0);
    assertEquals(state.emitted[1].values.http_req_connecting, 0);
  }));

Deno.test("http: auth digest answers the 401 challenge; two round trips, the 401 expected", () =>
  withModule(async (http, state, server) => {
    const u = new URL(server.url);
    for (const [path, algorithm] of [["auth", "MD5"], ["auth/SHA-256", "SHA-256"]] as const) {
      const before = state.emitted.length;
      const url = `http://user:pa%3Ass@${u.host}/digest-auth/${
        path.replace("auth", "auth/user/pa:ss")
      }`;
      const res = await http.get(url + "?x=1", { auth: "digest" });
      assertEquals(res.status, 200, algorithm);
      assertEquals(res.json("authenticated"), true);
      const trail = state.emitted.slice(before);
      assertEquals(trail.map((e) => e.tags.status), ["401", "200"]);
      // k6: the challenge is the expected first response; only then the usual callback.
      assertEquals(trail.map((e) => e.tags.expected_response), ["true", "true"]);
      assertEquals(trail.map((e) => e.values.http_req_failed), [0, 0]);
      assertEquals(trail[0].tags.name, `http://****:****@${u.host}${new URL(url).pathname}?x=1`);
      // The credentials went out as the digest answer, never as Basic.
      const auth = res.request.headers["Authorization"];
      assertEquals(auth, undefined, "the first request carries no Authorization");
    }
    // Wrong password: the answer is refused; the 401 after the answer is unexpected.
    const before = state.emitted.length;
    const res = await http.get(`http://user:nope@${u.host}/digest-auth/auth/user/pa:ss`, {
      auth: "digest",
    });
    assertEquals(res.status, 401);
    assertEquals(state.emitted.slice(before).map((e) => e.tags.expected_response), [
      "true",
      "false",
    ]);
    // No challenge (200 at once): one round trip, and k6 counts it as unexpected.
    const plain = state.emitted.length;
    await http.get(`http://user:pw@${u.host}/get`, { auth: "digest" });
    assertEquals(state.emitted.slice(plain).map((e) => e.tags.expected_response), ["false"]);
  }));

Deno.test("http: user name tag sets url too; http.url template names", () =>
  withModule(async (http, state, server) => {
    await http.get(`${server.url}/get?id=1`, { tags: { name: "GetOne", status: "fake" } });
    assertEquals(state.emitted[0].tags.name, "GetOne");
    assertEquals(state.emitted[0].tags.url, "GetOne");
    assertEquals(state.emitted[0].tags.status, "200");
    const id = 42;
    await http.get(http.url`${server.url}/get?id=${id}`);
    assertEquals(state.emitted[1].tags.name, "${}/get?id=${}");
    assertEquals(state.emitted[1].tags.url, "${}/get?id=${}", "url follows a set name");
    const u = new URL(server.url);
    await http.get(`http://user:pw@${u.host}/basic-auth/user/pw`);
    assertEquals(state.emitted[2].tags.name, `http://****:****@${u.host}/basic-auth/user/pw`);
    assertEquals(state.emitted[2].tags.status, "200");
  }));

Deno.test("http: redirects are separate round trips; final url; maxRedirects", () =>
  withModule(async (http, state, server) => {
    const res = await http.get(`${server.url}/redirect/3`);
    assertEquals(res.status, 200);
    assertEquals(res.url, `${server.url}/get`);
    assertEquals(state.emitted.map((e) => e.tags.status), ["302", "302", "302", "200"]);
    assertEquals(state.emitted.map((e) => e.tags.url), [
      `${server.url}/redirect/3`,
      `${server.url}/redirect/2`,
      `${server.url}/redirect/1`,
      `${server.url}/get`,
    ]);
    state.emitted.length = 0;
    const stopped = await http.get(`${server.url}/redirect/3`, { redirects: 1 });
    assertEquals(stopped.status, 302);
    assertEquals(state.emitted.length, 2);
    assert(
      !state.logs().some((l) => l.msg.startsWith("Stopped after")),
      "explicit redirects: no WARN",
    );
    state.emitted.length = 0;
    await http.get(`${server.url}/redirect/12`);
    assertEquals(state.emitted.length, 11);
    const warn = state.logs().find((l) => l.msg.startsWith("Stopped after 11 redirects"))!;
    assertEquals(warn.url, `${server.url}/redirect/12`);
    const post = await http.post(`${server.url}/redirect-to?url=/get&status_code=303`, "x");
    assertEquals([post.status, post.request.method], [200, "POST"]);
    assertEquals(state.emitted.at(-1)!.tags.method, "GET");
  }));

Deno.test("http: network errors give status 0, error codes, WARN or throw", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await withModule(async (http, state, server) => {
    const res = await http.get(`http://127.0.0.1:${port}/`);
    assertEquals([res.status, res.error_code, res.body], [0, 1212, null]);
    assertEquals(res.error, "dial: connection refused");
    const e = state.emitted[0];
    assertEquals(e.tags.status, "0");
    assertEquals(e.tags.error_code, "1212");
    assertEquals(e.tags.error, res.error);
    assertEquals(e.tags.expected_response, "false");
    assertEquals(e.values.http_req_failed, 1);
    assertEquals(e.tags.proto, undefined);
    const warn = state.logs().find((x) => x.msg === "Request Failed")!;
    assertEquals(warn.level, "warning");
    assertEquals(
      warn.error,
      `Get "http://127.0.0.1:${port}/": dial tcp 127.0.0.1:${port}: connect: connection refused`,
    );
    const timeout = await http.get(`${server.url}/delay/3`, { timeout: "100ms" });
    assertEquals(timeout.error_code, 1050);
    const blocked = await http.get("http://x.blocked.test/");
    assertEquals(blocked.error_code, 1111);
    const invalid = await http.get("not a url");
    assertEquals(invalid.error_code, 1020);
    assertEquals(invalid.error, 'invalid URL: parse "not a url": invalid URI for request');
    assertEquals(state.emitted.length, 3, "an invalid URL emits nothing");
    const notFound = await http.get(`${server.url}/status/404`);
    assertEquals([notFound.status, notFound.error_code, notFound.error], [404, 1404, ""]);
    assertEquals(state.emitted.at(-1)!.tags.error_code, "1404");
    await assertRejects(
      () => http.get(`http://127.0.0.1:${port}/`, { throw: true }),
      Error,
      "connection refused",
    );
  }, { http: { blockHostnames: ["*.blocked.test"] } });
});

Deno.test("http: expected statuses, setResponseCallback(null), per-request callback", () =>
  withModule(async (http, state, server) => {
    http.setResponseCallback(http.expectedStatuses(404, { min: 200, max: 204 }));
    await http.get(`${server.url}/status/404`);
    await http.get(`${server.url}/status/500`);
    assertEquals(state.emitted.map((e) => e.values.http_req_failed), [0, 1]);
    assertEquals(state.emitted.map((e) => e.tags.expected_response), ["true", "false"]);
    await http.get(`${server.url}/status/500`, { responseCallback: http.expectedStatuses(500) });
    assertEquals(state.emitted[2].values.http_req_failed, 0);
    http.setResponseCallback(null);
    await http.get(`${server.url}/status/500`);
    assertEquals(state.emitted[3].values.http_req_failed, undefined);
    assertEquals(state.emitted[3].tags.expected_response, undefined);
    let threw = false;
    try {
      http.setResponseCallback((() => true) as never);
    } catch (err) {
      threw = (err as Error).message === "unsupported argument, expected http.expectedStatuses";
    }
    assert(threw);
  }));

Deno.test("http: body encodings: string, bytes, sorted form, multipart with http.file", () =>
  withModule(async (http, _state, server) => {
    const form = await http.post(`${server.url}/post`, { b: "2", a: ["x", "y z"], c: null });
    const fj = form.json() as { form: unknown; headers: Record<string, string> };
    assertEquals(fj.headers["Content-Type"], "application/x-www-form-urlencoded");
    assertEquals(form.request.body, "a=x&a=y+z&b=2&c=");
    assertEquals(fj.form, { a: ["x", "y z"], b: "2", c: "" });
    const raw = await http.post(`${server.url}/post`, new Uint8Array([104, 105]), {
      headers: { "content-type": "text/plain" },
    });
    assertEquals((raw.json() as { data: string }).data, "hi");
    assertEquals(raw.request.headers["Content-Type"], ["text/plain"]);
    const multi = await http.post(`${server.url}/post`, {
      field: "value",
      upload: http.file("file content", "a.txt", "text/plain"),
    });
    const mj = multi.json() as { form: unknown; files: unknown; headers: Record<string, string> };
    assert(mj.headers["Content-Type"].startsWith("multipart/form-data; boundary="));
    assertEquals(mj.form, { field: "value" });
    assertEquals(mj.files, { upload: "file content" });
    assert(
      multi.request.body.includes('name="upload"; filename="a.txt"\r\nContent-Type: text/plain'),
    );
    const bin = await http.get(`${server.url}/bytes/4`, { responseType: "binary" });
    assert(bin.body instanceof ArrayBuffer);
    assertEquals([...new Uint8Array(bin.body as ArrayBuffer)], [7, 38, 69, 100]);
    const none = await http.get(`${server.url}/bytes/4`, { responseType: "none" });
    assertEquals(none.body, null);
    assertEquals((await http.head(`${server.url}/bytes/4`)).body, "");
    assertEquals((await http.get(`${server.url}/status/204`)).body, null);
    const gz = await http.get(`${server.url}/gzip`);
    assertEquals(gz.json("gzipped"), true);
    const compressed = await http.post(`${server.url}/post`, "hello", { compression: "gzip" });
    assertEquals(
      (compressed.json() as { headers: Record<string, string> }).headers["Content-Encoding"],
      "gzip",
    );
  }));

Deno.test("http: cookie jar per iteration, per-request cookies, jar API", () =>
  withModule(async (http, _state, server) => {
    const res = await http.get(`${server.url}/cookies/set?k1=v1&k2=v2`);
    assertEquals(res.json("cookies"), { k1: "v1", k2: "v2" });
    const jar = http.cookieJar();
    assertEquals(jar.cookiesForURL(server.url + "/"), { k1: ["v1"], k2: ["v2"] });
    const withReq = await http.get(`${server.url}/cookies`, {
      cookies: { extra: "e", k1: { value: "override", replace: true } },
    });
    assertEquals(withReq.json("cookies"), { k2: "v2", extra: "e", k1: "override" });
    http[iterationEnd]();
    const after = await http.get(`${server.url}/cookies`);
    assertEquals(after.json("cookies"), {});
    jar.set(server.url, "manual", "m");
    assertEquals((await http.get(`${server.url}/cookies`)).json("cookies"), { manual: "m" });
    jar.delete(server.url, "manual");
    assertEquals(jar.cookiesForURL(server.url), {});
    const own = new http.CookieJar();
    own.set(server.url, "own", "o");
    assertEquals((await http.get(`${server.url}/cookies`, { jar: own })).json("cookies"), {
      own: "o",
    });
    const set = await http.get(`${server.url}/cookies/set?z=1`, { redirects: 0 });
    assertEquals(set.cookies.z[0].value, "1");
    assertEquals(set.cookies.z[0].path, "/");
  }));

Deno.test("http: noCookiesReset keeps the jar across iterations", () =>
  withModule(async (http, _state, server) => {
    await http.get(`${server.url}/cookies/set?keep=1`);
    http[iterationEnd]();
    assertEquals((await http.get(`${server.url}/cookies`)).json("cookies"), { keep: "1" });
  }, { http: { noCookiesReset: true } }));

Deno.test("http: batch keeps order (array and object forms) and limits parallelism", () =>
  withModule(async (http, state, server) => {
    const list = await http.batch([
      `${server.url}/delay/0.05`,
      ["GET", `${server.url}/get?n=2`],
      { method: "post", url: `${server.url}/post`, body: "b" },
      ["GET", `${server.url}/status/404`, null, { tags: { name: "nf" } }],
    ]) as { status: number }[];
    assertEquals(list.map((r) => r.status), [200, 200, 200, 404]);
    assertEquals(state.emitted.find((e) => e.tags.name === "nf")!.tags.status, "404");
    const obj = await http.batch({
      a: `${server.url}/get`,
      b: { url: `${server.url}/bytes/3` },
    }) as Record<
      string,
      { status: number; body: string }
    >;
    assertEquals(Object.keys(obj), ["a", "b"]);
    assertEquals(obj.b.body.length, 3);
    const t0 = performance.now();
    await http.batch([1, 2, 3].map(() => `${server.url}/delay/0.1`));
    assert(performance.now() - t0 >= 280, "batchPerHost 1 serialises the requests");
  }, { http: { batchPerHost: 1 } }));

Deno.test("http: init stage refuses requests; get with extra args warns", () =>
  withModule(async (http, state, server) => {
    state.stage = "init";
    await assertRejects(
      () => http.get(`${server.url}/get`),
      Error,
      "Making http requests in the init context is not supported",
    );
    state.stage = "iteration";
    const res = await http.get(`${server.url}/get`, null, { tags: { ignored: "1" } });
    assertEquals(res.status, 200);
    assertEquals(state.emitted[0].tags.ignored, undefined);
    assert(state.logs().some((l) => l.msg.startsWith("http.get only accepts a url and a params")));
  }));

Deno.test("http: interrupting the iteration rejects in-flight requests", () =>
  withModule(async (http, state, server) => {
    const ac = new AbortController();
    state.signal = ac.signal;
    const p = http.get(`${server.url}/delay/5`);
    setTimeout(() => ac.abort(), 30);
    await assertRejects(() => p, InterruptedError);
  }));

Deno.test("http: system tags are filtered; ip tag when enabled", () =>
  withModule(async (http, state, server) => {
    await http.get(`${server.url}/get`);
    assertEquals(state.emitted[0].tags, {
      scenario: "default",
      group: "",
      status: "200",
      ip: "127.0.0.1",
    });
  }, { systemTags: ["status", "ip"] }));

Deno.test("http: --http-debug=full dumps request and response at INFO", () =>
  withModule(async (http, state, server) => {
    await http.post(`${server.url}/post`, "payload", { tags: { t: "1" } });
    const lines = state.logs().filter((l) => l.source === "http-debug");
    assertEquals(lines.length, 2);
    assert(lines[0].msg.startsWith("Request:\nPOST /post HTTP/1.1\r\n"));
    assert(lines[0].msg.endsWith("payload"));
    assertEquals([lines[0].level, lines[0].t, lines[0].request_id], ["info", "1", "1"]);
    assert(lines[1].msg.startsWith("Response:\nHTTP/1.1 200 OK\r\n"));
  }, { http: { httpDebug: "full" } }));

Deno.test("http: rate limiter spaces requests; userAgent '' sends no User-Agent", async () => {
  const { RpsLimiter } = await import("../../lib/http/rate_limiter.ts");
  const server = await startDemoServer();
  const state = new FakeVUState({ http: { userAgent: "" } });
  const http = createHttpModule(state, { rateLimiter: new RpsLimiter(20) });
  try {
    const t0 = performance.now();
    for (let i = 0; i < 4; i++) {
      const res = await http.get(`${server.url}/headers`);
      assertEquals((res.json("headers") as Record<string, string>)["User-Agent"], undefined);
    }
    assert(performance.now() - t0 >= 140, "4 requests at 20/s take at least 150 ms");
  } finally {
    http[closeModule]();
    await server.close();
  }
});

Deno.test("http: bad params fail like k6's parse errors (WARN + error response, or throw)", () =>
  withModule(async (http, state, server) => {
    const bad = await http.post(`${server.url}/post`, 42 as never);
    assertEquals([bad.status, bad.error_code, bad.error], [
      0,
      0,
      "unknown request body type number",
    ]);
    const comp = await http.post(`${server.url}/post`, "x", { compression: "lz4" });
    assertEquals(
      comp.error,
      "unknown compression algorithm lz4, supported algorithms are [gzip deflate br zstd]",
    );
    const warnings = state.logs().filter((l) => l.msg === "Request Failed").map((l) => l.error);
    assertEquals(warnings, [bad.error, comp.error]);
    assertEquals(state.emitted.length, 0, "nothing was sent");
    await assertRejects(
      () => http.get(`${server.url}/get`, { responseCallback: 5 as never, throw: true }),
      Error,
      "unsupported responseCallback",
    );
    const nested = await http.post(`${server.url}/post`, { a: { b: 1 } });
    assertEquals(nested.request.body, "a=");
    assert(
      state.logs().some((l) =>
        l.msg.startsWith("cannot urlencode a nested map[string]interface {}")
      ),
    );
  }));
