import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { renderProgress, runScenarios, Scheduler } from "../../lib/executor/mod.ts";
import type { ProgressSnapshot, SchedulerDeps } from "../../lib/executor/mod.ts";
import type { ScenarioConfig } from "../../lib/config/types.ts";
import { SpateError } from "../../lib/errors.ts";
import { FakeContext, FakePool, scenario, VirtualClock } from "./_fake_pool.ts";

const s = 1000;

function setup(vus: number, iterationMs = 500) {
  const clock = new VirtualClock();
  const pool = new FakePool({ clock, vus, iterationMs });
  const abort = new AbortController();
  const contexts = new Map<string, FakeContext>();
  const deps: SchedulerDeps = {
    pool,
    abortSignal: abort.signal,
    now: clock.now,
    sleep: clock.sleep,
    makeContext(sc: ScenarioConfig) {
      const ctx = new FakeContext(pool, abort.signal);
      contexts.set(sc.name, ctx);
      return ctx;
    },
  };
  return { clock, pool, abort, contexts, deps };
}

Deno.test("scheduler: each scenario starts at its startTime; run ends when all have ended", async () => {
  const { clock, pool, deps } = setup(2);
  const a = scenario("constant-vus", { name: "a", vus: 1, duration: 2 * s });
  const b = scenario("shared-iterations", { name: "b", vus: 1, iterations: 2, startTime: 3 * s });
  const scheduler = new Scheduler([b, a], deps);
  const snaps: ProgressSnapshot[] = [];
  await clock.run(() => scheduler.run(), [[1000, () => snaps.push(scheduler.progress())]]);
  assertEquals(
    pool.iterations.filter((r) => r.scenario === "b").map((r) => r.start),
    [3000, 3500],
  );
  assertEquals(pool.count("a", "complete"), 4);
  assertEquals(clock.now(), 4000);
  assertEquals(snaps[0], {
    elapsedMs: 1000,
    maxDurationMs: 633 * s,
    maxVUs: 2,
    scenarios: [
      { name: "a", fraction: 0.5, detail: "1 VUs  1.0s/2s", status: "running" },
      { name: "b", fraction: 0, detail: "waiting  2.0s", status: "waiting" },
    ],
  });
  const end = scheduler.progress();
  assertEquals(end.scenarios.map((x) => [x.name, x.status, x.fraction]), [
    ["a", "done", 1],
    ["b", "done", 1],
  ]);
});

Deno.test("scheduler: renderProgress draws k6's run line and aligned scenario bars", () => {
  const snapshot: ProgressSnapshot = {
    elapsedMs: 12_345,
    maxDurationMs: 90 * s,
    maxVUs: 10,
    scenarios: [
      { name: "default", fraction: 0.45, detail: "10 VUs  0m13.5s/30s", status: "running" },
      {
        name: "contacts",
        fraction: 1,
        detail: "00/10 VUs  1m0s  10.00 iters/s",
        status: "done",
      },
      { name: "later", fraction: 0, detail: "waiting  0m40.0s", status: "waiting" },
    ],
  };
  assertEquals(renderProgress(snapshot, { vus: 7, vusMax: 10, complete: 150, interrupted: 0 }), [
    "running (0m12.3s), 07/10 VUs, 150 complete and 0 interrupted iterations",
    "default    [  45% ] 10 VUs     0m13.5s/30s",
    // Only non-last columns set the alignment (as in k6): "1m0s" is the widest second one.
    "contacts ✓ [ 100% ] 00/10 VUs  1m0s  10.00 iters/s",
    "later    • [   0% ] waiting    0m40.0s",
  ]);
  assertEquals(
    renderProgress(snapshot, {
      vus: 0,
      vusMax: 10,
      complete: 1,
      interrupted: 2,
      elapsedMs: 95_000,
    })[0],
    "running (1m35.0s), 00/10 VUs, 1 complete and 2 interrupted iterations",
  );
  // On a terminal: k6's 40-wide bar, `>` at the head while unfinished.
  assertEquals(
    renderProgress(snapshot, { vus: 7, vusMax: 10, complete: 150, interrupted: 0, bar: true })
      .slice(1),
    [
      "default    [================>---------------------] 10 VUs     0m13.5s/30s",
      "contacts ✓ [======================================] 00/10 VUs  1m0s  10.00 iters/s",
      "later    • [--------------------------------------] waiting    0m40.0s",
    ],
  );
});

Deno.test("scheduler: abort interrupts running scenarios and cancels waiting ones", async () => {
  const { clock, pool, abort, deps, contexts } = setup(3, 10 * s);
  const a = scenario("constant-vus", { name: "a", vus: 2, duration: 60 * s });
  const b = scenario("constant-vus", { name: "b", vus: 1, duration: 60 * s, startTime: 5 * s });
  const scheduler = new Scheduler([a, b], deps);
  await clock.run(() => scheduler.run(), [[1500, () => abort.abort()]]);
  assertEquals(clock.now(), 1500);
  assertEquals(pool.count("a", "interrupted"), 2);
  assertEquals(pool.count("b"), 0);
  assertEquals(contexts.has("b"), false);
  assertEquals(scheduler.progress().scenarios.map((x) => x.status), ["interrupted", "interrupted"]);
  assertEquals(pool.activeCount, 0);
});

Deno.test("scheduler: an executor error stops the other scenarios and rejects run()", async () => {
  // The pool holds 1 VU but two scenarios want one each at once: the second cannot get its VU.
  const { clock, pool, deps, contexts } = setup(1, 10 * s);
  const a = scenario("constant-vus", { name: "a", vus: 1, duration: 60 * s });
  const b = scenario("constant-vus", { name: "b", vus: 1, duration: 60 * s });
  let error: unknown;
  await clock.run(() => runScenarios([a, b], deps).catch((e) => (error = e)));
  assert(error instanceof SpateError);
  assertEquals(error.message, "scenario b: could not get a VU from the buffer in 2s");
  assertEquals(clock.now(), 2000);
  assertEquals(pool.count("a", "interrupted"), 1);
  assertEquals(contexts.get("b")!.warnings, [
    "Could not get a VU from the buffer for 400ms",
    "Could not get a VU from the buffer for 800ms",
    "Could not get a VU from the buffer for 1.2s",
    "Could not get a VU from the buffer for 1.6s",
    "Could not get a VU from the buffer for 2s",
  ]);
});

Deno.test("scheduler: scenarios without work are neither run nor shown", async () => {
  const { clock, deps, contexts } = setup(1);
  const idle = scenario("constant-arrival-rate", { name: "idle", rate: 1, duration: s });
  const one = scenario("shared-iterations", { name: "one", vus: 1, iterations: 1 });
  const scheduler = new Scheduler([idle, one], deps);
  await clock.run(() => scheduler.run());
  assertEquals([...contexts.keys()], ["one"]);
  assertEquals(scheduler.progress().scenarios.map((x) => x.name), ["one"]);
  assertMatch(
    renderProgress(scheduler.progress(), {
      vus: 0,
      vusMax: 1,
      complete: 1,
      interrupted: 0,
    })[1],
    /^one ✓ \[ 100% \] 1 VUs {2}00m00\.5s\/10m0s {2}1\/1 shared iters$/,
  );
});
