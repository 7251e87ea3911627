import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import { runCli, runScript, tempDir } from "./_cli.ts";

Deno.test("timers keep the iteration going until they have run, as k6's event loop does", async () => {
  const t = await tempDir({
    "s.js": `import http from "k6/http";
import { check } from "k6";
import { setTimeout as later } from "k6/timers";
export const options = { iterations: 2, thresholds: { checks: ["rate==1"] } };
export default function () {
  const log = [];
  let ticks = 0;
  const id = setInterval(() => {
    ticks++;
    if (ticks === 3) clearInterval(id);
  }, 20);
  setTimeout(() => {
    // A request in a timer: the iteration waits for it too.
    log.push(http.get(__ENV.TARGET + "/get").status);
    later(() => {
      log.push("nested");
      check(null, { "in order": () => JSON.stringify(log) === '["globalThis",200,"nested"]' && ticks === 3 });
    }, 50);
  }, 100);
  const cancelled = setTimeout(() => log.push("cancelled"), 10);
  clearTimeout(cancelled);
  globalThis.setTimeout(() => log.push("globalThis"), 0);
}`,
  });
  try {
    const { r, metrics: m } = await runScript(t);
    assertEquals(r.code, 0, r.stderr + r.stdout);
    assertEquals([m.checks.passes, m.checks.fails], [2, 0]);
    assertEquals(m.http_reqs.count, 2);
    assert(m.iteration_duration.min >= 150, `iteration ${m.iteration_duration.min} ms`);
  } finally {
    await t.cleanup();
  }
});

Deno.test("a timer callback that throws ends the iteration with its error; intervals end with the scenario", async () => {
  const t = await tempDir({
    "s.js": `export const options = {
  scenarios: {
    once: { executor: "shared-iterations", iterations: 1, exec: "fails" },
    forever: { executor: "constant-vus", vus: 1, duration: "1s", gracefulStop: "0s", exec: "ticks" },
  },
};
export function fails() {
  setTimeout(() => { throw new Error("boom in a timer"); }, 10);
  setTimeout(() => console.log("never printed"), 200);
}
export function ticks() {
  setInterval(() => {}, 50);
}`,
  });
  try {
    const started = Date.now();
    const r = await runCli(["run", "--summary-export", t.path("e.json"), t.path("s.js")], {
      timeoutMs: 20_000,
    });
    assertEquals(r.code, 0, r.stderr);
    assert(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    assertStringIncludes(r.stderr, "boom in a timer");
    assert(!r.stderr.includes("never printed"), r.stderr);
    const m = JSON.parse(await Deno.readTextFile(t.path("e.json"))).metrics;
    assertEquals(m.iterations.count, 1); // the interval's iteration was interrupted
  } finally {
    await t.cleanup();
  }
});
