import { assert, assertEquals, assertStringIncludes, assertThrows } from "../_assert.ts";
import { transformModule } from "../../lib/script/transform.ts";
import { SpateError } from "../../lib/errors.ts";

/** The transformed module body, without the factory header/footer. */
function body(src: string): string {
  const out = transformModule(src, { filename: "/s.js" }).factorySource;
  const start = out.indexOf("__ITER = n; });\n") + "__ITER = n; });\n".length;
  return out.slice(start, out.indexOf("\n;return {"));
}

Deno.test("blocking k6 calls are awaited and their functions made async", () => {
  const src = `import http from "k6/http";
import { sleep } from "k6";
export default function () {
  http.get("http://x/").status;
  sleep(1);
}`;
  assertEquals(
    body(src),
    `const http = __spate.require("k6/http").default;
const { "sleep": sleep } = __spate.require("k6");
const __spate_default_export = ({ default: async function () {
  (await http.get("http://x/")).status;
  (await sleep(1));
} }).default;`,
  );
});

Deno.test("blocking reaches callers through helpers, methods and aliases", () => {
  const src = `import { get } from "k6/http";
const g = get;
function login() { return g("http://x/"); }
const api = { list() { return login(); } };
export default () => api.list().body;`;
  assertEquals(
    body(src),
    `const { "get": get } = __spate.require("k6/http");
const g = get;
async function login() { return (await g("http://x/")); }
const api = { async list() { return (await login()); } };
const __spate_default_export = ({ default: async () => (await api.list()).body }).default;`,
  );
});

Deno.test("pure functions and sync callbacks are left alone", () => {
  const src = `import http from "k6/http";
export default function () { const xs = [1, 2].map((x) => x * 2); http.get("u" + xs); }`;
  assertStringIncludes(body(src), "const xs = [1, 2].map((x) => x * 2);");
});

Deno.test("array callbacks that block run through the awaitable helper", () => {
  const src = `import http from "k6/http";
export default function () { ["a"].forEach((u) => http.get(u)); }`;
  assertStringIncludes(
    body(src),
    `(await __spate.each("forEach", ["a"], async (u) => (await http.get(u))));`,
  );
});

Deno.test("group callbacks and check functions that block are awaited", () => {
  const src = `import http from "k6/http";
import { group, check } from "k6";
export default function () {
  group("g", () => { http.get("u"); });
  check(1, { "x": () => http.get("u").status === 200 });
}`;
  const out = body(src);
  assertStringIncludes(out, `(await group("g", async () => { (await http.get("u")); }));`);
  assertStringIncludes(
    out,
    `(await check(1, { "x": async () => (await http.get("u")).status === 200 }));`,
  );
});

Deno.test("exports of every form are collected", () => {
  const r = transformModule(
    `export const options = {}; export function setup() {} const t = 1; export { t as teardown };
export default function () {}`,
    { filename: "/s.js" },
  );
  assertEquals(r.exports, ["options", "setup", "teardown", "default"]);
  assertEquals(r.mode, "async");
});

Deno.test("unprovable uses of blocking functions fall back to the worker mode", () => {
  const cases: Array<[string, string]> = [
    [
      `import http from "k6/http"; class A { get x() { return http.get("u"); } } export default () => new A().x;`,
      "a getter makes blocking calls (/s.js:1)",
    ],
    [
      `import http from "k6/http"; function* g() { yield http.get("u"); } export default () => g().next();`,
      "a generator function makes blocking calls (/s.js:1)",
    ],
    [
      `import http from "k6/http"; export default () => [3, 1].sort(() => http.get("u").status);`,
      "a function that makes blocking calls is passed to .sort() (/s.js:1)",
    ],
  ];
  for (const [src, reason] of cases) {
    const r = transformModule(src, { filename: "/s.js" });
    assertEquals(r.mode, "worker", src);
    assertEquals(r.reason, reason);
    assert(!r.factorySource.includes("(await "), "no async rewrite in worker mode");
  }
});

Deno.test("syntax errors name the file, line and column", () => {
  const err = assertThrows(
    () => transformModule("export default function () {\n  let x = ;\n}", { filename: "/s.js" }),
    SpateError,
  );
  assertEquals(err.message, "SyntaxError: Unexpected token at /s.js:2:11");
  assertEquals(err.exitCode, 107);
});

Deno.test('an anonymous default export is named "default", as in k6\'s stack traces', async () => {
  const r = transformModule(`export default function () {}`, { filename: "/s.js" });
  const factory = (0, eval)(r.factorySource);
  const exp = await factory({ env: {}, vu: 1, onIteration() {}, global: {}, timers: {} });
  assertEquals(exp.default.name, "default");
});

Deno.test("the factory runs and exposes exports through getters", async () => {
  const r = transformModule(
    `export const options = { vus: __VU + 1 }; export default function () { return __ITER; }`,
    { filename: "/s.js" },
  );
  let hook: (n: number) => void = () => {};
  const factory = (0, eval)(r.factorySource);
  const exp = await factory({
    env: {},
    vu: 4,
    open() {},
    console,
    require() {},
    global: {},
    onIteration: (h: (n: number) => void) => (hook = h),
    each() {},
    timers: {},
  });
  assertEquals(exp.options, { vus: 5 });
  hook(7);
  assertEquals(exp.default(), 7);
});

Deno.test("ws.connect() and a response's submitForm()/clickLink() are awaited", () => {
  const src = `import ws from "k6/ws";
import { connect } from "k6/ws";
import http from "k6/http";
function open(url) { return ws.connect(url, (s) => s.on("open", () => s.close())); }
export default function () {
  const { connect: c } = ws;
  open("ws://x/").status;
  connect("ws://x/", () => {});
  c("ws://x/", () => {});
  http.get("http://x/").submitForm().clickLink();
}`;
  const out = transformModule(src, { filename: "/s.js" });
  assertEquals(out.mode, "async");
  assertEquals(
    body(src).split("\n").slice(3).join("\n"),
    `async function open(url) { return (await ws.connect(url, (s) => s.on("open", () => s.close()))); }
const __spate_default_export = ({ default: async function () {
  const { connect: c } = ws;
  (await open("ws://x/")).status;
  (await connect("ws://x/", () => {}));
  (await c("ws://x/", () => {}));
  (await (await (await http.get("http://x/")).submitForm()).clickLink());
} }).default;`,
  );
});

Deno.test("scripts see the VU's timers unless they declare the names themselves", async () => {
  const own = transformModule(
    `import { setTimeout } from "k6/timers";
export default function () { return [setTimeout, setInterval, clearTimeout, clearInterval]; }`,
    { filename: "/s.js" },
  );
  const vuTimers = {
    setTimeout: () => "vu",
    setInterval: () => "vu",
    clearTimeout: () => "vu",
    clearInterval: () => "vu",
  };
  const imported = () => "k6/timers";
  const exp = await (0, eval)(own.factorySource)({
    env: {},
    vu: 1,
    onIteration() {},
    global: {},
    timers: vuTimers,
    require: () => ({ setTimeout: imported }),
  });
  const [st, si, ct, ci] = exp.default();
  assertEquals([st(), si(), ct(), ci()], ["k6/timers", "vu", "vu", "vu"]);
});
