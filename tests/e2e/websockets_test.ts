import { assert, assertEquals } from "../_assert.ts";
import { runScript, tempDir } from "./_cli.ts";

/** The demo target's /ws echoes text and binary messages and closes on `close <code>`. */
const session = `import { WebSocket, Blob } from "k6/websockets";
import { check } from "k6";
export const options = { iterations: 1, thresholds: { checks: ["rate==1"] } };
export default function () {
  const url = __ENV.TARGET.replace("http", "ws") + "/ws";
  const log = [];
  let blobSize = -1;
  const ws = new WebSocket(url, null, { tags: { my: "tag" } });
  log.push("state " + ws.readyState);
  let sendEarly = "";
  try {
    ws.send("too early");
  } catch (e) {
    sendEarly = e.message;
  }
  ws.onopen = (e) => {
    log.push("open " + ws.readyState + " " + e.type);
    ws.send("hello");
    ws.send(new Uint8Array([1, 2, 3])); // a Blob comes back (the default binaryType)
  };
  ws.onmessage = (m) => {
    if (m.data instanceof Blob) {
      blobSize = m.data.size;
      ws.binaryType = "arraybuffer";
      ws.send(new Uint8Array([4, 5]).buffer);
      return;
    }
    if (m.data instanceof ArrayBuffer) {
      log.push("binary " + Array.from(new Uint8Array(m.data)).join(","));
      ws.ping();
      return;
    }
    log.push("message " + m.data + " from " + (m.origin === url));
  };
  ws.addEventListener("pong", () => log.push("pong"));
  ws.addEventListener("pong", () => ws.send("close 4001"));
  ws.onerror = (e) => log.push("error " + e.error);
  ws.onclose = (e) => {
    log.push("close " + e.code + " " + e.reason + " " + ws.readyState);
    check(null, {
      "events": () => JSON.stringify(log) === JSON.stringify([
        "state 0", "open 1 open", "message hello from true", "binary 4,5", "pong",
        "error websocket: close 4001: asked to", "close 4001 asked to 3",
      ]),
      "a Blob by default": () => blobSize === 3,
      "send before open": () => sendEarly === "InvalidStateError",
    });
  };
  // The iteration lasts until the socket has closed, then checks that it did.
  setTimeout(() => check(ws, { "closed": (w) => w.readyState === WebSocket.CLOSED }), 300);
}`;

Deno.test("k6/websockets: events, binary types, ping, close codes, metrics and tags", async () => {
  const t = await tempDir({ "s.js": session });
  try {
    const { r, base, metrics: m, points } = await runScript(t, { json: true });
    assertEquals(r.code, 0, r.stderr + r.stdout);
    assertEquals([m.checks.passes, m.checks.fails], [4, 0]);
    assertEquals(m.ws_sessions.count, 1);
    assertEquals(m.ws_msgs_sent.count, 4); // hello, [1,2,3], [4,5], close 4001
    assertEquals(m.ws_msgs_received.count, 3);
    assert(m.iteration_duration.min >= 300, `iteration ${m.iteration_duration.min} ms`);
    const url = base.replace("http", "ws") + "/ws";
    assertEquals(points("ws_sessions"), [
      { group: "", my: "tag", name: url, scenario: "default", status: "101", subproto: "", url },
    ]);
    assertEquals(points("ws_ping").length, 1);
    assertEquals(points("ws_session_duration").length, 1);
  } finally {
    await t.cleanup();
  }
});

Deno.test("k6/websockets: k6's validation errors, and an open socket ends with the scenario", async () => {
  const t = await tempDir({
    "s.js": `import { WebSocket } from "k6/websockets";
import { check } from "k6";
export const options = {
  scenarios: {
    checks: { executor: "shared-iterations", iterations: 1, exec: "errors" },
    open: { executor: "constant-vus", vus: 1, duration: "1s", gracefulStop: "0s", exec: "open" },
  },
  thresholds: { checks: ["rate==1"] },
};
function message(fn) {
  try {
    fn();
    return "no error";
  } catch (e) {
    return e.message;
  }
}
export function errors() {
  const url = __ENV.TARGET.replace("http", "ws") + "/ws";
  check(null, {
    "scheme": () => message(() => new WebSocket(__ENV.TARGET)) ===
      'WebSocket requires url with scheme ws or wss, but got "http"',
    "fragment": () => message(() => new WebSocket(url + "#x")) ===
      'WebSocket requires no url fragment, but got "x"',
    "option": () => message(() => new WebSocket(url, null, { nope: 1 })) ===
      "unknown WebSocket's option nope",
    "url": () => message(() => new WebSocket("ws://[x")).startsWith(
      'WebSocket requires valid url, but got "ws://[x" which resulted in ',
    ),
  });
  const ws = new WebSocket(url);
  ws.onopen = () => {
    check(null, {
      "close code": () => message(() => ws.close(1001)).startsWith(
        "InvalidAccessError: Failed to execute 'close' on 'WebSocket': The close code must be",
      ),
    });
    ws.close();
  };
  ws.onclose = (e) => check(e, { "a script's close": (e) => e.code === 1000 });
}
export function open() {
  const ws = new WebSocket(__ENV.TARGET.replace("http", "ws") + "/ws");
  ws.onopen = () => setInterval(() => ws.send("x"), 100);
}`,
  });
  try {
    const started = Date.now();
    const { r, metrics: m } = await runScript(t, { timeoutMs: 20_000 });
    assertEquals(r.code, 0, r.stderr + r.stdout);
    assert(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    assertEquals([m.checks.passes, m.checks.fails], [6, 0]);
    assertEquals(m.ws_sessions.count, 2);
    assert(m.ws_msgs_sent.count >= 5, `sent ${m.ws_msgs_sent.count}`);
  } finally {
    await t.cleanup();
  }
});

Deno.test("k6/websockets: listeners that make blocking calls run one at a time, in the default mode", async () => {
  const t = await tempDir({
    "s.js": `import http from "k6/http";
import { WebSocket } from "k6/websockets";
import { check, sleep } from "k6";
export const options = { iterations: 1, thresholds: { checks: ["rate==1"] } };
export default function () {
  const log = [];
  const ws = new WebSocket(__ENV.TARGET.replace("http", "ws") + "/ws");
  ws.onopen = () => {
    ws.send("one");
    ws.send("two");
  };
  ws.onmessage = (m) => {
    log.push(m.data + " " + http.get(__ENV.TARGET + "/get").status);
    if (m.data === "two") ws.close();
  };
  ws.onclose = () => {
    sleep(0.01);
    log.push("closed");
    check(log, {
      "in order": (l) => JSON.stringify(l) === '["one 200","two 200","closed"]',
    });
  };
}`,
  });
  try {
    const { r, metrics: m } = await runScript(t);
    assertEquals(r.code, 0, r.stderr + r.stdout);
    assert(!r.stderr.includes("one Worker per VU"), r.stderr);
    assertEquals([m.checks.passes, m.checks.fails], [1, 0]);
    assertEquals(m.http_reqs.count, 2);
  } finally {
    await t.cleanup();
  }
});
