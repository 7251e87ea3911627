import { assert, assertEquals, assertMatch, assertStringIncludes } from "../_assert.ts";
import { csvRows, hasStackTrace, runCli, tempDir, withTarget } from "./_cli.ts";

const script = `
import http from "k6/http";
import { check, group, sleep } from "k6";
import { Counter } from "k6/metrics";
const hits = new Counter("my_hits");
export const options = { thresholds: { my_hits: ["count>0"] } };
export default function () {
  group("api", () => {
    const res = http.get(__ENV.TARGET + "/get");
    check(res, { "is 200": (r) => r.status === 200 });
  });
  hits.add(1, { kind: "x" });
  sleep(0.01);
}
`;

Deno.test("a k6 script runs unchanged: summary, export and CSV agree", async () => {
  const t = await tempDir({ "s.js": script });
  try {
    await withTarget(async (base) => {
      const r = await runCli([
        "run",
        "-u",
        "2",
        "-i",
        "10",
        "--out",
        `csv=${t.path("out.csv")}`,
        "--summary-export",
        t.path("export.json"),
        t.path("s.js"),
      ], { env: { TARGET: base } });
      assertEquals(r.code, 0, r.stderr);
      assertStringIncludes(r.stdout, "✓ is 200");
      assertStringIncludes(r.stdout, "✓ 'count>0' count=10");
      assertMatch(r.stdout, /http_reqs\.+: 10 /);
      assertMatch(r.stdout, /iterations\.+: 10 /);
      assertStringIncludes(r.stdout, "* default: 10 iterations shared among 2 VUs");
      // As k6 shows it: the active VUs, not a trailing zero sample after the run.
      assertMatch(r.stdout, /vus\.+: 2\s+min=2\s+max=2/);
      const exp = JSON.parse(await Deno.readTextFile(t.path("export.json")));
      assertEquals(exp.metrics.http_reqs.count, 10);
      assertEquals(exp.metrics.checks.passes, 10);
      assertEquals(exp.metrics.my_hits.count, 10);
      assertEquals(exp.root_group.groups.api.checks["is 200"].passes, 10);
      const rows = csvRows(await Deno.readTextFile(t.path("out.csv")));
      const reqs = rows.filter((row) => row.metric_name === "http_reqs");
      assertEquals(reqs.length, 10);
      assertEquals(reqs[0].group, "::api");
      assertEquals(reqs[0].method, "GET");
      assertEquals(reqs[0].status, "200");
      assertEquals(reqs[0].url, `${base}/get`);
      assertEquals(reqs[0].scenario, "default");
      assertEquals(reqs[0].metric_value, "1.000000");
      const hitsRows = rows.filter((row) => row.metric_name === "my_hits");
      assertEquals(hitsRows.length, 10);
      assertEquals(hitsRows[0].extra_tags, "kind=x");
    });
  } finally {
    await t.cleanup();
  }
});

Deno.test("a failed threshold exits 99 with k6's message and a ✗ in the summary", async () => {
  const t = await tempDir({
    "s.js": `import http from "k6/http";
export const options = { iterations: 3, thresholds: { http_req_duration: ["max<0"] } };
export default function () { http.get(__ENV.TARGET + "/get"); }`,
  });
  try {
    await withTarget(async (base) => {
      const r = await runCli(["run", t.path("s.js")], { env: { TARGET: base } });
      assertEquals(r.code, 99);
      assertStringIncludes(r.stderr, "thresholds on metrics 'http_req_duration' have been crossed");
      assertStringIncludes(r.stdout, "✗ 'max<0' max=");
    });
  } finally {
    await t.cleanup();
  }
});

Deno.test("abortOnFail stops the run early with exit 99", async () => {
  const t = await tempDir({
    "s.js": `import http from "k6/http";
import { sleep } from "k6";
export const options = {
  vus: 2, duration: "30s",
  thresholds: { http_reqs: [{ threshold: "count<3", abortOnFail: true }] },
};
export default function () { http.get(__ENV.TARGET + "/get"); sleep(0.05); }`,
  });
  try {
    await withTarget(async (base) => {
      const start = performance.now();
      const r = await runCli(["run", "-q", t.path("s.js")], { env: { TARGET: base } });
      const took = performance.now() - start;
      assertEquals(r.code, 99, r.stderr);
      assertStringIncludes(
        r.stderr,
        "at least one has abortOnFail enabled, stopping test prematurely",
      );
      assert(took < 15_000, `the run should stop at the first evaluation, took ${took} ms`);
    });
  } finally {
    await t.cleanup();
  }
});

Deno.test("lifecycle errors get k6's exit codes: abort 108, setup exception 107, init 107", async () => {
  const t = await tempDir({
    "abort.js": `import exec from "k6/execution";
export default function () { exec.test.abort("enough"); }`,
    "setup.js": `export function setup() { throw new Error("setup boom"); }
export default function () {}
export function teardown() { console.log("teardown ran"); }`,
    "init.js": `throw new Error("init boom");
export default function () {}`,
    "fail.js": `import exec from "k6/execution";
export default function () { exec.test.fail("marked"); }`,
  });
  try {
    const abort = await runCli(["run", "-q", t.path("abort.js")]);
    assertEquals(abort.code, 108, abort.stderr);
    assertStringIncludes(abort.stderr, "test aborted: enough");
    const setup = await runCli(["run", "-q", t.path("setup.js")]);
    assertEquals(setup.code, 107, setup.stderr);
    assertStringIncludes(setup.stderr, "setup boom");
    assert(!setup.stderr.includes("teardown ran"), "teardown must not run after setup failed");
    const init = await runCli(["run", "-q", t.path("init.js")]);
    assertEquals(init.code, 107, init.stderr);
    assertStringIncludes(init.stderr, "init boom");
    const fail = await runCli(["run", "-q", t.path("fail.js")]);
    assertEquals(fail.code, 110, fail.stderr);
  } finally {
    await t.cleanup();
  }
});

Deno.test("bad input: one clear line naming the field, k6's exit code, no stack trace", async () => {
  const t = await tempDir({
    "ok.js": `export default function () {}`,
    "syntax.js": `export default function () {\n  let x = ;\n}`,
    "badopts.js": `export const options = { vus: "ten" };\nexport default function () {}`,
    "badscenario.js":
      `export const options = { scenarios: { s: { executor: "constant-vus", vus: 1, duration: "1s", iterations: 3 } } };
export default function () {}`,
    "bad.json": `{ "vus": 2, }`,
  });
  try {
    const cases: Array<[string[], number, string]> = [
      [["run", "--bogus", t.path("ok.js")], 255, "unknown flag: --bogus"],
      [["run", "-u", "abc", t.path("ok.js")], 255, 'invalid argument "abc" for "-u, --vus" flag'],
      [["run", "-d", "10x", t.path("ok.js")], 255, '"10x"'],
      [["run", "-c", t.path("bad.json"), t.path("ok.js")], 104, t.path("bad.json")],
      [["run", t.path("badopts.js")], 104, '"vus"'],
      [["run", t.path("badscenario.js")], 104, "iterations"],
      [["run", t.path("missing.js")], 107, "missing.js"],
      [
        ["run", t.path("syntax.js")],
        107,
        `SyntaxError: Unexpected token at ${t.path("syntax.js")}:2:11`,
      ],
      [["run"], 255, "arg should either be"],
    ];
    for (const [args, code, text] of cases) {
      const r = await runCli(args);
      assertEquals(r.code, code, `${args.join(" ")}: ${r.stderr}`);
      assertStringIncludes(r.stderr, text, args.join(" "));
      assert(!hasStackTrace(r.stderr), `stack trace for ${args.join(" ")}:\n${r.stderr}`);
    }
  } finally {
    await t.cleanup();
  }
});

Deno.test("the sandbox: scripts can't read env, write, or read outside their folder", async () => {
  const t = await tempDir({
    "env.js": `const home = Deno.env.get("HOME");\nexport default function () {}`,
    "read.js": `const x = open("/etc/hostname");\nexport default function () {}`,
    "write.js":
      `Deno.writeTextFileSync("/tmp/spate-sandbox-escape", "x");\nexport default function () {}`,
    "data.json": `{"a": 1}`,
    "own.js": `const d = JSON.parse(open("./data.json"));
export default function () { if (d.a !== 1) throw new Error("bad"); }`,
  });
  try {
    const env = await runCli(["run", "-q", t.path("env.js")]);
    assertEquals(env.code, 107, env.stderr);
    assertStringIncludes(env.stderr, "Requires env access");
    const read = await runCli(["run", "-q", t.path("read.js")]);
    assertEquals(read.code, 107, read.stderr);
    assertStringIncludes(
      read.stderr,
      "sandbox only lets scripts read files in the script's folder",
    );
    const write = await runCli(["run", "-q", t.path("write.js")]);
    assertEquals(write.code, 107, write.stderr);
    assertStringIncludes(write.stderr, "Requires write access");
    const own = await runCli(["run", "-q", t.path("own.js")]);
    assertEquals(own.code, 0, own.stderr);
  } finally {
    await t.cleanup();
  }
});

Deno.test("a script the transform can't prove runs in the Worker-per-VU mode", async () => {
  const t = await tempDir({
    "s.js": `import http from "k6/http";
import { check, sleep } from "k6";
export const options = { vus: 2, iterations: 6 };
export function setup() { return { n: http.get(__ENV.TARGET + "/json").status }; }
export default function (data) {
  [1, 2].sort(() => http.get(__ENV.TARGET + "/get").status - 200);
  check(data, { "setup saw 200": (d) => d.n === 200 });
  sleep(0.01);
}`,
  });
  try {
    await withTarget(async (base) => {
      const r = await runCli([
        "run",
        "--summary-export",
        t.path("e.json"),
        t.path("s.js"),
      ], { env: { TARGET: base } });
      assertEquals(r.code, 0, r.stderr);
      assertStringIncludes(
        r.stderr,
        "running one Worker per VU (slower, exact): a function that makes blocking calls is " +
          `passed to .sort() (${t.path("s.js")}:6)`,
      );
      const exp = JSON.parse(await Deno.readTextFile(t.path("e.json")));
      assertEquals(exp.metrics.http_reqs.count, 7);
      assertEquals(exp.metrics.iterations.count, 6);
      assertEquals(exp.metrics.checks.passes, 6);
    });
  } finally {
    await t.cleanup();
  }
});

Deno.test("cookie jars work in the Worker-per-VU mode", async () => {
  const t = await tempDir({
    "s.js": `import http from "k6/http";
import { check } from "k6";
export const options = { vus: 1, iterations: 1, thresholds: { checks: ["rate==1"] } };
export default function () {
  [1, 2].sort(() => http.get(__ENV.TARGET + "/get").status - 200); // forces the mode
  const base = __ENV.TARGET + "/cookies";
  const jar = http.cookieJar();
  jar.set(base, "a", "1");
  const own = new http.CookieJar();
  own.set(base, "b", "2", { path: "/" });
  const fromVU = http.get(base).json("cookies");
  const fromOwn = http.get(base, { jar: own }).json("cookies");
  http.get(base + "/set?c=3"); // the server's Set-Cookie lands in the VU's jar
  const seen = jar.cookiesForURL(base);
  jar.delete(base, "a");
  own.clear(base);
  check(null, {
    "the VU's jar is sent": () => JSON.stringify(fromVU) === '{"a":"1"}',
    "a jar in params is sent instead": () => JSON.stringify(fromOwn) === '{"b":"2"}',
    "cookiesForURL sees the server's cookie": () => seen.c[0] === "3" && seen.a[0] === "1",
    "delete and clear": () => JSON.stringify(http.get(base).json("cookies")) === '{"c":"3"}' &&
      JSON.stringify(own.cookiesForURL(base)) === "{}",
    "instanceof": () => own instanceof http.CookieJar && jar instanceof http.CookieJar,
  });
}`,
  });
  try {
    await withTarget(async (base) => {
      const r = await runCli(["run", "--summary-export", t.path("e.json"), t.path("s.js")], {
        env: { TARGET: base },
      });
      assertEquals(r.code, 0, r.stderr);
      assertStringIncludes(r.stderr, "running one Worker per VU");
      const exp = JSON.parse(await Deno.readTextFile(t.path("e.json")));
      assertEquals([exp.metrics.checks.passes, exp.metrics.checks.fails], [5, 0], r.stdout);
    });
  } finally {
    await t.cleanup();
  }
});

Deno.test("handleSummary writes its files and replaces the default summary", async () => {
  const t = await tempDir({
    "s.js": `export default function () {}
export function handleSummary(data) {
  return { "summary.json": JSON.stringify({ iters: data.metrics.iterations.values.count }),
           stdout: "custom summary\\n" };
}`,
  });
  try {
    const r = await runCli(["run", "-q", "-i", "4", t.path("s.js")], { cwd: t.dir });
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stdout, "custom summary\n");
    assertEquals(JSON.parse(await Deno.readTextFile(t.path("summary.json"))), { iters: 4 });
  } finally {
    await t.cleanup();
  }
});

Deno.test("SIGINT stops gracefully: exit 105, teardown runs, the CSV is complete", async () => {
  const t = await tempDir({
    "s.js": `import http from "k6/http";
import { sleep } from "k6";
export const options = { vus: 3, duration: "30s" };
export default function () { http.get(__ENV.TARGET + "/get"); sleep(0.02); }
export function teardown() { console.log("teardown ran"); }`,
  });
  try {
    await withTarget(async (base) => {
      const r = await runCli([
        "run",
        "-q",
        "--out",
        `csv=${t.path("o.csv")}`,
        "--summary-export",
        t.path("e.json"),
        t.path("s.js"),
      ], { env: { TARGET: base }, interruptAfterMs: 2500 });
      assertEquals(r.code, 105, r.stderr);
      assertStringIncludes(r.stderr, "teardown ran");
      const text = await Deno.readTextFile(t.path("o.csv"));
      assert(text.endsWith("\n"), "the last CSV line is whole");
      const rows = csvRows(text);
      const exp = JSON.parse(await Deno.readTextFile(t.path("e.json")));
      const reqs = rows.filter((row) => row.metric_name === "http_reqs").length;
      assert(reqs > 10, `some requests ran (${reqs})`);
      assertEquals(reqs, exp.metrics.http_reqs.count);
    });
  } finally {
    await t.cleanup();
  }
});

Deno.test("archive: spate archive writes a tar that spate run runs with its options", async () => {
  const t = await tempDir({
    "lib/helper.js": `export const path = "/get";`,
    "s.js": `import http from "k6/http";
import { path } from "./lib/helper.js";
export const options = { iterations: 3 };
export default function () { http.get(__ENV.TARGET + path); }`,
  });
  try {
    await withTarget(async (base) => {
      const a = await runCli(["archive", "-O", t.path("a.tar"), t.path("s.js")]);
      assertEquals(a.code, 0, a.stderr);
      const r = await runCli([
        "run",
        "--summary-export",
        t.path("e.json"),
        t.path("a.tar"),
      ], { env: { TARGET: base } });
      assertEquals(r.code, 0, r.stderr);
      const exp = JSON.parse(await Deno.readTextFile(t.path("e.json")));
      assertEquals(exp.metrics.http_reqs.count, 3);
    });
  } finally {
    await t.cleanup();
  }
});

Deno.test("without the sandbox, runs that need several VU hosts still start (regression)", async () => {
  // Unsandboxed Workers share the runner's permissions: the first host once revoked read
  // access for the whole process, and the second host then failed to load (the run hung).
  const t = await tempDir({ "s.js": `export default function () {}` });
  try {
    const r = await runCli(["run", "-q", "-u", "120", "-i", "240", t.path("s.js")], {
      cwd: t.dir,
      env: { SPATE_SANDBOX: "0", SPATE_VU_HOSTS: "2" },
      timeoutMs: 30_000,
    });
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stdout, /iterations\.+: 240 /);
  } finally {
    await t.cleanup();
  }
});

Deno.test("setup and teardown timeouts exit 100 and 101 with k6's message", async () => {
  const t = await tempDir({
    "setup.js": `import { sleep } from "k6";
export const options = { setupTimeout: "1s" };
export function setup() { sleep(5); }
export default function () {}`,
    "teardown.js": `import { sleep } from "k6";
export const options = { teardownTimeout: "1s" };
export default function () {}
export function teardown() { sleep(5); }`,
  });
  try {
    const setup = await runCli(["run", "-q", t.path("setup.js")]);
    assertEquals(setup.code, 100, setup.stderr);
    assertStringIncludes(setup.stderr, "setup() execution timed out after 1 seconds");
    const teardown = await runCli(["run", "-q", t.path("teardown.js")]);
    assertEquals(teardown.code, 101, teardown.stderr);
    assertStringIncludes(teardown.stderr, "teardown() execution timed out after 1 seconds");
  } finally {
    await t.cleanup();
  }
});

Deno.test("K6_OUT and the config file's out enable outputs; --summary-mode full adds group sections", async () => {
  const t = await tempDir({
    "s.js": `import { group, check } from "k6";
export default function () { group("login", () => { check(1, { "one": (v) => v === 1 }); }); }`,
  });
  try {
    await Deno.writeTextFile(
      t.path("config.json"),
      JSON.stringify({ out: [`csv=${t.path("file.csv")}`] }),
    );
    const fromEnv = await runCli(
      ["run", "-q", "-i", "2", "--summary-mode", "full", t.path("s.js")],
      {
        env: { K6_OUT: `json=${t.path("env.json")}` },
      },
    );
    assertEquals(fromEnv.code, 0, fromEnv.stderr);
    assertStringIncludes(fromEnv.stdout, "GROUP: login");
    const lines = (await Deno.readTextFile(t.path("env.json"))).trimEnd().split("\n");
    assert(lines.some((l) => l.includes('"metric":"checks"')));
    const fromFile = await runCli([
      "run",
      "-q",
      "-i",
      "2",
      "-c",
      t.path("config.json"),
      t.path("s.js"),
    ]);
    assertEquals(fromFile.code, 0, fromFile.stderr);
    const csv = await Deno.readTextFile(t.path("file.csv"));
    assertEquals(csv.split("\n").filter((l) => l.startsWith("checks,")).length, 2);
  } finally {
    await t.cleanup();
  }
});

Deno.test("--rps caps requests across every VU host", async () => {
  const t = await tempDir({
    "s.js": `import http from "k6/http";
export default function () { http.get(__ENV.TARGET + "/get"); }`,
  });
  try {
    await withTarget(async (base) => {
      const r = await runCli([
        "run",
        "-q",
        "-u",
        "20",
        "-d",
        "2s",
        "--rps",
        "50",
        "--summary-export",
        t.path("e.json"),
        t.path("s.js"),
      ], { env: { TARGET: base, SPATE_VU_HOSTS: "2" } });
      assertEquals(r.code, 0, r.stderr);
      const reqs = JSON.parse(await Deno.readTextFile(t.path("e.json"))).metrics.http_reqs;
      // In-flight iterations holding a slot finish in the graceful stop, as in k6, so the run
      // lasts a little over 2 s: the rate over the whole run is what the cap holds.
      assert(reqs.rate >= 45 && reqs.rate <= 53, `expected ~50 requests/s, got ${reqs.rate}`);
      assert(reqs.count >= 90, `expected at least 90 requests, got ${reqs.count}`);
    });
  } finally {
    await t.cleanup();
  }
});

Deno.test("constant-arrival-rate holds its rate through real VUs: 100/s for 10 s → 1000 ± 1", async () => {
  const t = await tempDir({
    "s.js": `import http from "k6/http";
export const options = {
  scenarios: {
    steady: {
      executor: "constant-arrival-rate", rate: 100, timeUnit: "1s", duration: "10s",
      preAllocatedVUs: 20, maxVUs: 50,
    },
  },
};
export default function () { http.get(__ENV.TARGET + "/get"); }`,
  });
  try {
    await withTarget(async (base) => {
      const r = await runCli(["run", "-q", "--summary-export", t.path("e.json"), t.path("s.js")], {
        env: { TARGET: base },
      });
      assertEquals(r.code, 0, r.stderr);
      const exp = JSON.parse(await Deno.readTextFile(t.path("e.json")));
      const n = exp.metrics.iterations.count;
      assert(Math.abs(n - 1000) <= 1, `expected 1000 ± 1 iterations, got ${n}`);
      assertEquals(exp.metrics.dropped_iterations, undefined);
    });
  } finally {
    await t.cleanup();
  }
});

Deno.test("each VU has its own module state, globalThis, __VU/__ITER; SharedArray, encoding and execution work", async () => {
  const t = await tempDir({
    "users.json": JSON.stringify([{ name: "ann" }, { name: "bob" }]),
    "s.js": `import { check } from "k6";
import exec from "k6/execution";
import encoding from "k6/encoding";
import { SharedArray } from "k6/data";
const users = new SharedArray("users", () => JSON.parse(open("./users.json")));
let moduleCount = 0;
export const options = {
  scenarios: { each: { executor: "per-vu-iterations", vus: 3, iterations: 4 } },
  thresholds: { checks: ["rate==1"] },
};
export default function () {
  moduleCount++;
  globalThis.perVU = (globalThis.perVU || 0) + 1;
  check(null, {
    "module state is per VU": () => moduleCount === __ITER + 1,
    "globalThis writes stay in the VU": () => globalThis.perVU === __ITER + 1,
    "exec ids match __VU/__ITER": () =>
      exec.vu.idInTest === __VU && exec.vu.iterationInInstance === __ITER &&
      exec.scenario.name === "each",
    "SharedArray is shared and read-only": () => {
      try { users[0].name = "x"; } catch (_) { /* frozen */ }
      return users.length === 2 && users[0].name === "ann";
    },
    "encoding": () => encoding.b64encode("hi") === "aGk=" &&
      encoding.b64decode("aGk=", "std", "s") === "hi",
  });
}`,
  });
  try {
    const r = await runCli(["run", "-q", "--summary-export", t.path("e.json"), t.path("s.js")]);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    const exp = JSON.parse(await Deno.readTextFile(t.path("e.json")));
    assertEquals(exp.metrics.checks.passes, 3 * 4 * 5);
    assertEquals(exp.metrics.checks.fails, 0);
  } finally {
    await t.cleanup();
  }
});

Deno.test("exec.scenario.progress: iterations done over the total, or time over the duration", async () => {
  const t = await tempDir({
    "s.js": `import exec from "k6/execution";
import { sleep } from "k6";
export const options = { scenarios: {
  counted: { executor: "shared-iterations", vus: 1, iterations: 4, exec: "counted" },
  timed: { executor: "constant-vus", vus: 1, duration: "1s", exec: "timed", startTime: "0s" },
} };
export function counted() { console.log("counted " + exec.scenario.progress); }
export function timed() { console.log("timed " + exec.scenario.progress); sleep(0.3); }`,
  });
  try {
    const r = await runCli(["run", "-q", "--summary-mode=disabled", t.path("s.js")]);
    assertEquals(r.code, 0, r.stderr);
    const values = (name: string) =>
      // runCli unquotes log messages: `msg=counted 0.25 source=console`.
      [...r.stderr.matchAll(new RegExp(`msg=${name} ([0-9.e-]+) source`, "g"))].map((m) =>
        Number(m[1])
      );
    assertEquals(values("counted"), [0, 0.25, 0.5, 0.75], r.stderr);
    // Iterations start at ~0, 0.3, 0.6 and 0.9 s of the 1 s scenario (a busy machine may
    // push the fourth past the end).
    const timed = values("timed");
    assert(timed.length >= 3 && timed.length <= 4, r.stderr);
    assert(timed[0] >= 0 && timed[0] < 0.15, `${timed}`);
    for (let i = 1; i < timed.length; i++) {
      assert(timed[i] > timed[i - 1] + 0.2 && timed[i] <= 1, `${timed}`);
    }
  } finally {
    await t.cleanup();
  }
});

Deno.test("first SIGINT is graceful: running iterations finish, no new ones start, exit 105", async () => {
  const t = await tempDir({
    "s.js": `import { sleep } from "k6";
export const options = { vus: 2, duration: "30s" };
export default function () { sleep(1.5); }`,
  });
  try {
    const start = performance.now();
    const r = await runCli(["run", "-q", "--summary-export", t.path("e.json"), t.path("s.js")], {
      interruptAfterMs: 1000,
    });
    const took = performance.now() - start;
    assertEquals(r.code, 105, r.stderr);
    assertStringIncludes(r.stderr, "Stopping the test run gracefully");
    const exp = JSON.parse(await Deno.readTextFile(t.path("e.json")));
    // Both VUs were in their first iteration at the signal: both finish, none starts after.
    assertEquals(exp.metrics.iterations.count, 2);
    assert(took < 8000, `the graceful stop waits only for running iterations (${took} ms)`);
  } finally {
    await t.cleanup();
  }
});

Deno.test("several scenarios: startTime, exec, per-scenario env and tags, the scenario tag", async () => {
  const t = await tempDir({
    "s.js": `import { check } from "k6";
import { Counter } from "k6/metrics";
const hits = new Counter("hits");
export const options = {
  scenarios: {
    first: { executor: "shared-iterations", vus: 1, iterations: 3, exec: "a",
             env: { WHO: "a" }, tags: { kind: "alpha" } },
    later: { executor: "per-vu-iterations", vus: 2, iterations: 2, exec: "b",
             startTime: "300ms", env: { WHO: "b" }, tags: { kind: "beta" } },
  },
  thresholds: { checks: ["rate==1"] },
};
export function a() { check(__ENV.WHO, { "env a": (w) => w === "a" }); hits.add(1); }
export function b() { check(__ENV.WHO, { "env b": (w) => w === "b" }); hits.add(1); }`,
  });
  try {
    const r = await runCli([
      "run",
      "--out",
      `csv=fileName=${t.path("o.csv")},timeFormat=unix_milli`,
      t.path("s.js"),
    ]);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assertStringIncludes(r.stdout, "* first: 3 iterations shared among 1 VUs");
    assertStringIncludes(r.stdout, "* later: 2 iterations for each of 2 VUs");
    assertStringIncludes(r.stdout, "exec: b, startTime: 300ms");
    const rows = csvRows(await Deno.readTextFile(t.path("o.csv")));
    const hits = rows.filter((row) => row.metric_name === "hits");
    assertEquals(
      hits.filter((h) => h.scenario === "first" && h.extra_tags === "kind=alpha").length,
      3,
    );
    assertEquals(
      hits.filter((h) => h.scenario === "later" && h.extra_tags === "kind=beta").length,
      4,
    );
    const firstA = Math.min(
      ...hits.filter((h) => h.scenario === "first").map((h) => Number(h.timestamp)),
    );
    const firstB = Math.min(
      ...hits.filter((h) => h.scenario === "later").map((h) => Number(h.timestamp)),
    );
    assert(
      firstB - firstA >= 250,
      `the later scenario starts ~300 ms later (${firstB - firstA} ms)`,
    );
  } finally {
    await t.cleanup();
  }
});

Deno.test("script exceptions are logged with the script's own frames and line numbers", async () => {
  // The script lives in a "lib" folder: frames there are the user's, not spate's.
  const t = await tempDir({
    "lib/s.js": `export default function () {
  helper();
}
function helper() {
  throw new Error("iteration boom");
}`,
  });
  try {
    const r = await runCli(["run", "-q", "-i", "1", t.path("lib/s.js")]);
    assertEquals(r.code, 0, r.stderr); // an exception in an iteration doesn't fail the run
    assertStringIncludes(r.stderr, "Error: iteration boom");
    assertStringIncludes(r.stderr, `at helper (file://${t.path("lib/s.js")}:5:9)`);
    assertStringIncludes(r.stderr, `at default (file://${t.path("lib/s.js")}:2:3)`);
    assertStringIncludes(r.stderr, "source=stacktrace");
  } finally {
    await t.cleanup();
  }
});

Deno.test("--console-output writes the script's console lines to a file, not stderr", async () => {
  const t = await tempDir({
    "s.js":
      `export default function () { console.log("hello from", __VU); console.warn("careful"); }`,
  });
  try {
    const r = await runCli([
      "run",
      "-q",
      "-i",
      "2",
      "--console-output",
      t.path("console.log"),
      t.path("s.js"),
    ]);
    assertEquals(r.code, 0, r.stderr);
    assert(!r.stderr.includes("hello from"), "console lines left stderr");
    const lines = (await Deno.readTextFile(t.path("console.log"))).trimEnd().split("\n");
    assertEquals(lines.length, 4);
    assertMatch(lines[0], /^time="[^"]+" level=info msg="hello from 1" source=console$/);
    assert(
      lines.some((l) => /level=warning msg="careful" source=console/.test(l)),
      lines.join("\n"),
    );
  } finally {
    await t.cleanup();
  }
});

Deno.test("--linger waits for Ctrl+C after the run, then prints the summary (exit 0)", async () => {
  const t = await tempDir({ "s.js": `export default function () {}` });
  try {
    const start = performance.now();
    const r = await runCli(["run", "--linger", "-i", "1", t.path("s.js")], {
      interruptAfterMs: 1500,
    });
    const took = performance.now() - start;
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stderr, "--linger was enabled, so spate is waiting for Ctrl+C");
    assertStringIncludes(r.stdout, "TOTAL RESULTS");
    assert(took >= 1400, `it waited for the signal (${took} ms)`);
  } finally {
    await t.cleanup();
  }
});

Deno.test("a script whose compiled form doesn't load is an init error, not a hang", async () => {
  const t = await tempDir({
    // __ITER is the runtime's own binding; open() may be the script's.
    "s.js": `let __ITER = 1;
export function open() {}
export default function () {}`,
  });
  try {
    const r = await runCli(["run", "-q", t.path("s.js")], { timeoutMs: 20_000 });
    assertEquals(r.code, 107, r.stderr);
    assertStringIncludes(r.stderr, "SyntaxError: Identifier '__ITER' has already been declared");
  } finally {
    await t.cleanup();
  }
});

Deno.test("an iteration stuck in an endless loop is ended after the hard stop, and teardown still runs", async () => {
  const t = await tempDir({
    "s.js": `export const options = {
  scenarios: { s: { executor: "constant-vus", vus: 1, duration: "1s", gracefulStop: "0s" } },
};
export default function () { while (true) {} }
export function teardown() { console.log("teardown ran"); }`,
  });
  try {
    const started = Date.now();
    const r = await runCli(["run", t.path("s.js")], { timeoutMs: 30_000 });
    assertEquals(r.code, 0, r.stderr);
    assert(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
    assertStringIncludes(
      r.stderr,
      "scenario s: an iteration did not stop within 3s of being interrupted and its VU host " +
        "did not answer (a script that never yields, like an endless loop), so the host was ended",
    );
    assertStringIncludes(r.stderr, "teardown ran");
    assertStringIncludes(r.stdout + r.stderr, "0 complete and 1 interrupted iterations");
  } finally {
    await t.cleanup();
  }
});

Deno.test("require() of a relative file works in an ES module script's init code", async () => {
  const t = await tempDir({
    "lib/greet.js": `module.exports = { greet: (n) => "hi " + n };`,
    "s.js": `const { greet } = require("./lib/greet.js");
const k6 = require("k6");
export const options = { iterations: 1, thresholds: { checks: ["rate==1"] } };
export default function () { k6.check(null, { required: () => greet("there") === "hi there" }); }`,
  });
  try {
    const r = await runCli(["run", "-q", t.path("s.js")]);
    assertEquals(r.code, 0, r.stderr);
  } finally {
    await t.cleanup();
  }
});

Deno.test("error frames of bundled scripts name the original files and lines, thrown strings too", async () => {
  const t = await tempDir({
    "lib/helpers.js": `export function fails() {
  const x = 1;
  throw new Error("from a helper " + x);
}
export function throwsString() {
  const message = "a plain string";
  throw message;
}`,
    "s.ts": `import { fails, throwsString } from "./lib/helpers.js";
export const options = { iterations: 2 };
let n: number = 0;
export default function () {
  if (n++ === 0) fails();
  else throwsString();
}`,
  });
  try {
    const r = await runCli(["run", "-q", t.path("s.ts")]);
    assertEquals(r.code, 0, r.stderr);
    assertMatch(
      r.stderr,
      /from a helper 1\n {4}at fails \(file:\/\/\S*\/lib\/helpers\.js:3:\d+\)\n {4}at default \(file:\/\/\S*\/s\.ts:5:\d+\)/,
    );
    assertMatch(
      r.stderr,
      /a plain string\n {4}at throwsString \(file:\/\/\S*\/lib\/helpers\.js:7:\d+\)\n {4}at \S+ \(file:\/\/\S*\/s\.ts:6:\d+\)/,
    );
  } finally {
    await t.cleanup();
  }
});

Deno.test("an unsupported k6 module is one init error naming it and the import's place", async () => {
  const t = await tempDir({
    "s.js": `import grpc from "k6/net/grpc";\nexport default function () {}`,
  });
  try {
    const r = await runCli(["run", "-q", t.path("s.js")]);
    assertEquals(r.code, 107, r.stderr);
    assertStringIncludes(
      r.stderr,
      `the module "k6/net/grpc" is not supported by spate yet\n\tat file://${t.path("s.js")}:1:`,
    );
    assert(!r.stderr.includes("factory"), r.stderr);
  } finally {
    await t.cleanup();
  }
});
