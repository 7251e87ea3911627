import { assert, assertAlmostEquals, assertEquals, assertMatch } from "../_assert.ts";
import { constantVUs } from "../../lib/executor/constant_vus.ts";
import type { LiveScenarioProgress } from "../../lib/executor/mod.ts";
import {
  FakeContext,
  FakePool,
  newProgress,
  realClock,
  scenario,
  VirtualClock,
} from "./_fake_pool.ts";

Deno.test("constant-vus: 2 VUs for 1 s with 100 ms iterations run 20 iterations", async () => {
  const clock = new VirtualClock();
  const pool = new FakePool({ clock, vus: 2, iterationMs: 100 });
  const ctx = new FakeContext(pool);
  const cfg = scenario("constant-vus", { vus: 2, duration: 1000 });
  const progress: LiveScenarioProgress = newProgress();
  const seen: string[] = [];
  await clock.run(() => constantVUs.run(cfg, ctx, progress), [
    [500, () => seen.push(`${progress.fraction} ${progress.detail} ${ctx.active}`)],
  ]);
  assertEquals(seen, ["0.5 2 VUs  0.5s/1s 2"]);
  assertEquals(pool.count("default", "complete"), 20);
  assertEquals(ctx.activeSeries, [[0, 1], [0, 2], [1000, 1], [1000, 0]]);
  assertEquals(progress.fraction, 1);
  assertEquals(progress.detail, "2 VUs  1.0s/1s"); // ended exactly at the duration
  assertEquals(progress.status, "done");
});

Deno.test("constant-vus: real clock, 2 VUs for 1 s with 100 ms iterations → 20 ± 2", async () => {
  const pool = new FakePool({ clock: realClock, vus: 2, iterationMs: 100 });
  const ctx = new FakeContext(pool);
  const cfg = scenario("constant-vus", { vus: 2, duration: 1000 });
  const t0 = performance.now();
  await constantVUs.run(cfg, ctx, newProgress());
  const took = performance.now() - t0;
  assertAlmostEquals(pool.count("default", "complete"), 20, 2);
  // Ends when the last iteration started before 1 s has finished; generous for a busy machine.
  assert(took >= 990 && took < 1500, `took ${took} ms`); // Deno timers may fire <1 ms early
});

Deno.test("constant-vus: in-flight iterations finish within gracefulStop, else are interrupted", async () => {
  {
    const clock = new VirtualClock();
    const pool = new FakePool({ clock, vus: 2, iterationMs: 300 });
    const ctx = new FakeContext(pool);
    await clock.run(() =>
      constantVUs.run(scenario("constant-vus", { vus: 2, duration: 1000 }), ctx, newProgress())
    );
    // Starts at 0, 300, 600, 900; the last ends at 1200, inside the 30 s gracefulStop.
    assertEquals(pool.count("default", "complete"), 8);
    assertEquals(clock.now(), 1200);
  }
  {
    const clock = new VirtualClock();
    const pool = new FakePool({ clock, vus: 2, iterationMs: 300 });
    const ctx = new FakeContext(pool);
    const progress: LiveScenarioProgress = newProgress();
    const cfg = scenario("constant-vus", { vus: 2, duration: 1000, gracefulStop: 100 });
    const during: string[] = [];
    await clock.run(() => constantVUs.run(cfg, ctx, progress), [
      [1050, () => during.push(`${progress.status} ${progress.detail}`)],
    ]);
    assertEquals(during, ["stopping 2 VUs  1.0s/1s"]);
    assertEquals(pool.count("default", "complete"), 6);
    assertEquals(pool.count("default", "interrupted"), 2);
    assertEquals(ctx.interrupted, 2);
    assertEquals(clock.now(), 1100);
    assertEquals(progress.status, "done");
  }
  {
    const clock = new VirtualClock();
    const pool = new FakePool({ clock, vus: 1, iterationMs: 300 });
    const ctx = new FakeContext(pool);
    const cfg = scenario("constant-vus", { vus: 1, duration: 1000, gracefulStop: 0 });
    await clock.run(() => constantVUs.run(cfg, ctx, newProgress()));
    assertEquals(pool.count("default", "interrupted"), 1);
    assertEquals(clock.now(), 1000);
  }
});

Deno.test("constant-vus: abort interrupts all VUs and returns at once", async () => {
  const clock = new VirtualClock();
  const pool = new FakePool({ clock, vus: 4, iterationMs: 10_000 });
  const abort = new AbortController();
  const ctx = new FakeContext(pool, abort.signal);
  const progress: LiveScenarioProgress = newProgress();
  await clock.run(
    () => constantVUs.run(scenario("constant-vus", { vus: 4, duration: 60_000 }), ctx, progress),
    [[3000, () => abort.abort()]],
  );
  assertEquals(clock.now(), 3000);
  assertEquals(pool.count("default", "interrupted"), 4);
  assertEquals(ctx.active, 0);
  assertEquals(pool.activeCount, 0);
  assertEquals(progress.status, "interrupted");
  assertMatch(progress.detail, /^4 VUs {2}0m03\.0s\/1m0s$/);
});

Deno.test("constant-vus: an already aborted signal runs nothing", async () => {
  const clock = new VirtualClock();
  const pool = new FakePool({ clock, vus: 2 });
  const abort = new AbortController();
  abort.abort();
  const ctx = new FakeContext(pool, abort.signal);
  await clock.run(() =>
    constantVUs.run(scenario("constant-vus", { vus: 2, duration: 5000 }), ctx, newProgress())
  );
  assertEquals(pool.iterations, []);
  assertEquals(pool.activeCount, 0);
});

Deno.test("constant-vus: description and plan", () => {
  const cfg = scenario("constant-vus", { vus: 10, duration: 30_000 });
  assertEquals(constantVUs.description(cfg), "10 looping VUs for 30s (gracefulStop: 30s)");
  assertEquals(constantVUs.maxDuration(cfg), 60_000);
  assertEquals(
    constantVUs.description({ ...cfg, gracefulStop: 0 }),
    "10 looping VUs for 30s",
  );
});
