import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import { runCli, runScript, tempDir, withTarget } from "./_cli.ts";

/** The demo target's /ws echoes text and binary messages and closes on `close <code>`. */
const session = `import ws from "k6/ws";
import { check } from "k6";
export const options = { iterations: 1, thresholds: { checks: ["rate==1"] } };
export default function () {
  const events = [];
  let binary = "";
  const url = __ENV.TARGET.replace("http", "ws") + "/ws";
  const res = ws.connect(url, { tags: { my: "tag" } }, function (socket) {
    socket.on("open", () => {
      events.push("open");
      socket.send("hello");
      socket.sendBinary(new Uint8Array([1, 2, 3]).buffer);
      socket.ping();
    });
    socket.on("message", (m) => {
      events.push("message:" + m);
      if (m === "later") socket.send("close 4000");
    });
    socket.on("binaryMessage", (b) => {
      binary = Array.from(new Uint8Array(b)).join(",");
      events.push("binary");
    });
    socket.on("pong", () => {
      events.push("pong");
      socket.setTimeout(() => socket.send("later"), 10);
    });
    socket.on("error", (e) => events.push("error:" + e.error()));
    socket.on("close", (code) => events.push("close:" + code));
  });
  check(res, {
    "handshake": (r) => r.status === 101 && r.url === url && r.headers["Upgrade"] === "websocket",
    "events in order": () => JSON.stringify(events) === JSON.stringify([
      "open", "message:hello", "binary", "pong", "message:later",
      "error:websocket: close 4000: asked to", "close:4000",
    ]),
    "binary echoed": () => binary === "1,2,3",
  });
  const chat = ws.connect(url, { headers: { "Sec-WebSocket-Protocol": "chat, superchat" } }, (s) => {
    s.on("open", () => s.close(1000));
  });
  check(chat, { "subprotocol": (r) => r.headers["Sec-Websocket-Protocol"] === "chat" });
  const closed = ws.connect(url, (socket) => {
    socket.on("open", () => socket.close());
    socket.on("close", (code) => events.push("own close:" + code));
  });
  check(closed, { "a script's close() ends the session": () => events.at(-1) === "own close:1001" });
}`;

Deno.test("k6/ws: a session's events, messages, ping and close codes, with k6's metrics and tags", async () => {
  const t = await tempDir({ "s.js": session });
  try {
    const { r, base, metrics: m, points } = await runScript(t, { json: true });
    assertEquals(r.code, 0, r.stderr + r.stdout);
    assertEquals([m.checks.passes, m.checks.fails], [5, 0]);
    assertEquals(m.ws_sessions.count, 3);
    assertEquals(m.ws_msgs_sent.count, 4); // hello, binary, later, close 4000
    assertEquals(m.ws_msgs_received.count, 3); // hello, binary, later
    // Trends have no count in the export: count their points in the JSON output.
    assertEquals(
      [
        points("ws_ping").length,
        points("ws_connecting").length,
        points("ws_session_duration").length,
      ],
      [1, 3, 3],
    );
    assert(m.data_sent.count > 0 && m.data_received.count > 0);
    assertStringIncludes(r.stdout, "WEBSOCKET");
    const url = base.replace("http", "ws") + "/ws";
    const tags = { group: "", scenario: "default", status: "101", subproto: "", url };
    assertEquals(points("ws_sessions"), [
      { ...tags, my: "tag" },
      { ...tags, subproto: "chat" },
      tags,
    ]);
  } finally {
    await t.cleanup();
  }
});

Deno.test("k6/ws: refused connections and non-WebSocket answers return k6's responses", async () => {
  const t = await tempDir({
    "s.js": `import ws from "k6/ws";
import { check } from "k6";
export const options = { iterations: 1, thresholds: { checks: ["rate==1"] } };
export default function () {
  let opened = false;
  const refused = ws.connect("ws://127.0.0.1:9/", () => { opened = true; });
  const plain = ws.connect(__ENV.TARGET.replace("http", "ws") + "/get", () => { opened = true; });
  const malformed = ws.connect("http://127.0.0.1:9/", () => { opened = true; });
  check(null, {
    "refused": () => refused.status === 0 && refused.error.includes("ECONNREFUSED"),
    "malformed": () => malformed.status === 0 && malformed.error === "malformed ws or wss URL",
    "not a WebSocket": () => plain.status === 200 && plain.error === "websocket: bad handshake" &&
      JSON.parse(plain.body).url.endsWith("/get"),
    "the callback never ran": () => !opened,
  });
  let thrown = "";
  try {
    ws.connect("ws://127.0.0.1:9/", 5);
  } catch (e) {
    thrown = e.message;
  }
  check(null, { "a bad callback throws": () => thrown === "last argument to ws.connect must be a function" });
}`,
  });
  try {
    const { r, metrics: m } = await runScript(t);
    assertEquals(r.code, 0, r.stderr + r.stdout);
    assertEquals([m.checks.passes, m.checks.fails], [5, 0]);
    assertEquals(m.ws_sessions.count, 3); // k6 counts the attempts too
  } finally {
    await t.cleanup();
  }
});

Deno.test("k6/ws: a session that never closes ends with the scenario", async () => {
  const t = await tempDir({
    "s.js": `import ws from "k6/ws";
export const options = { scenarios: { s: { executor: "constant-vus", vus: 1, duration: "1s", gracefulStop: "0s" } } };
export default function () {
  ws.connect(__ENV.TARGET.replace("http", "ws") + "/ws", (socket) => {
    socket.on("open", () => socket.setInterval(() => socket.send("x"), 100));
  });
}`,
  });
  try {
    const started = Date.now();
    const { r, metrics: m } = await runScript(t, { timeoutMs: 20_000 });
    assertEquals(r.code, 0, r.stderr);
    assert(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    assertEquals(m.ws_sessions.count, 1);
    assert(m.ws_msgs_sent.count >= 5, `sent ${m.ws_msgs_sent.count}`);
    assert(m.ws_session_duration.max >= 900, `session ${m.ws_session_duration.max} ms`);
  } finally {
    await t.cleanup();
  }
});

Deno.test("k6/ws in the Worker-per-VU mode is a clear error", async () => {
  const t = await tempDir({
    "s.js": `import http from "k6/http";
import ws from "k6/ws";
export default function () {
  [1, 2].sort(() => http.get(__ENV.TARGET + "/get").status - 200);
}`,
  });
  try {
    await withTarget(async (base) => {
      const r = await runCli(["run", t.path("s.js")], { env: { TARGET: base } });
      assert(r.code !== 0, "expected a failure");
      assertStringIncludes(r.stderr, "k6/ws is not supported in the Worker-per-VU mode yet");
    });
  } finally {
    await t.cleanup();
  }
});

Deno.test("k6/ws and k6/websockets send the VU's cookies with the handshake and keep the server's", async () => {
  const t = await tempDir({
    "s.js": `import http from "k6/http";
import ws from "k6/ws";
import { WebSocket } from "k6/websockets";
import { check } from "k6";
export const options = { iterations: 1, thresholds: { checks: ["rate==1"] } };
export default function () {
  const url = __ENV.TARGET.replace("http", "ws") + "/ws?cookies=1";
  const jar = http.cookieJar();
  jar.set(__ENV.TARGET, "a", "1");
  let first = "";
  ws.connect(url, { headers: { Cookie: "own=x" } }, (s) => {
    s.on("message", (m) => { first = m; s.close(); });
  });
  const own = new http.CookieJar();
  own.set(__ENV.TARGET, "b", "2");
  const socket = new WebSocket(url, null, { jar: own });
  socket.onmessage = (m) => {
    check(m, { "k6/websockets: params.jar's cookies": (m) => m.data === "cookie: b=2" });
    socket.close();
  };
  socket.onclose = () => {
    check(own, { "k6/websockets: the server's cookie kept": (j) => j.cookiesForURL(__ENV.TARGET).ws[0] === "1" });
  };
  check(null, {
    "k6/ws: the script's Cookie header, then the VU jar's": () => first === "cookie: own=x; a=1",
    "k6/ws: the server's cookie kept": () => jar.cookiesForURL(__ENV.TARGET).ws[0] === "1",
  });
}`,
  });
  try {
    const { r, metrics: m } = await runScript(t);
    assertEquals(r.code, 0, r.stderr + r.stdout);
    assertEquals([m.checks.passes, m.checks.fails], [4, 0]);
  } finally {
    await t.cleanup();
  }
});

Deno.test("k6/ws: handlers and timers that make blocking calls run in order, in the default mode", async () => {
  const t = await tempDir({
    "s.js": `import http from "k6/http";
import ws from "k6/ws";
import { check, sleep } from "k6";
export const options = { iterations: 1, thresholds: { checks: ["rate==1"] } };
function onMessage(log, m) {
  log.push("message " + m + " " + http.get(__ENV.TARGET + "/get").status);
}
export default function () {
  const log = [];
  ws.connect(__ENV.TARGET.replace("http", "ws") + "/ws", function (socket) {
    sleep(0.01); // the callback may block too
    socket.on("open", () => {
      socket.send("one");
      socket.send("two");
    });
    socket.on("message", (m) => onMessage(log, m));
    socket.setTimeout(() => {
      log.push("timer " + http.get(__ENV.TARGET + "/get").status);
      socket.close();
    }, 200);
    socket.on("close", () => {
      sleep(0.01);
      log.push("closed");
    });
  });
  log.push("returned");
  check(log, {
    "each handler ran to its end before the next": (l) => JSON.stringify(l) === JSON.stringify(
      ["message one 200", "message two 200", "timer 200", "closed", "returned"],
    ),
  });
}`,
  });
  try {
    const { r, metrics: m } = await runScript(t);
    assertEquals(r.code, 0, r.stderr + r.stdout);
    assert(!r.stderr.includes("one Worker per VU"), r.stderr);
    assertEquals([m.checks.passes, m.checks.fails], [1, 0]);
    assertEquals(m.http_reqs.count, 3);
  } finally {
    await t.cleanup();
  }
});
