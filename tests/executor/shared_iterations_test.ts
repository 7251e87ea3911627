import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { sharedIterations } from "../../lib/executor/shared_iterations.ts";
import type { LiveScenarioProgress } from "../../lib/executor/mod.ts";
import { FakeContext, FakePool, newProgress, scenario, VirtualClock } from "./_fake_pool.ts";

Deno.test("shared-iterations: 10 VUs share exactly 100 iterations", async () => {
  const clock = new VirtualClock();
  // VUs of different speeds: fast VUs take more of the shared iterations.
  const pool = new FakePool({ clock, vus: 10, iterationMs: (vu) => 10 * vu });
  const ctx = new FakeContext(pool);
  const cfg = scenario("shared-iterations", { vus: 10, iterations: 100 });
  const progress: LiveScenarioProgress = newProgress();
  await clock.run(() => sharedIterations.run(cfg, ctx, progress));
  assertEquals(pool.count("default", "complete"), 100);
  assertEquals(ctx.complete, 100);
  assertEquals(ctx.interrupted, 0);
  assertEquals(ctx.dropped, []);
  assertEquals(ctx.active, 0);
  assertEquals(ctx.activeSeries.slice(0, 10).map(([, n]) => n), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assertEquals(pool.activeCount, 0);
  const byVU = (id: number) => pool.iterations.filter((r) => r.vu === id).length;
  assert(byVU(1) > byVU(10), `VU 1 did ${byVU(1)}, VU 10 did ${byVU(10)}`);
  assertEquals(progress.fraction, 1);
  assertEquals(progress.status, "done");
  assertMatch(progress.detail, /^10 VUs {2}00m00\.\ds\/10m0s {2}100\/100 shared iters$/);
});

Deno.test("shared-iterations: at maxDuration no new iterations; gracefulStop then drop count", async () => {
  const clock = new VirtualClock();
  const pool = new FakePool({ clock, vus: 2, iterationMs: 1500 });
  const ctx = new FakeContext(pool);
  const cfg = scenario("shared-iterations", {
    vus: 2,
    iterations: 100,
    maxDuration: 10_000,
    gracefulStop: 1000,
  });
  const progress: LiveScenarioProgress = newProgress();
  await clock.run(() => sharedIterations.run(cfg, ctx, progress));
  // Starts at 0, 1.5, ..., 9 s: 7 per VU; the last ones end at 10.5 s, inside gracefulStop.
  assertEquals(pool.count("default", "complete"), 14);
  assertEquals(pool.count("default", "interrupted"), 0);
  assertEquals(ctx.dropped, [{ count: 86, at: 10_500 }]);
  assertEquals(clock.now(), 10_500);
  assertEquals(progress.status, "interrupted");
  assertEquals(progress.fraction, 0.14);
});

Deno.test("shared-iterations: iterations still running after gracefulStop are interrupted", async () => {
  const clock = new VirtualClock();
  const pool = new FakePool({ clock, vus: 2, iterationMs: 1500 });
  const ctx = new FakeContext(pool);
  const cfg = scenario("shared-iterations", {
    vus: 2,
    iterations: 100,
    maxDuration: 10_000,
    gracefulStop: 200,
  });
  await clock.run(() => sharedIterations.run(cfg, ctx, newProgress()));
  assertEquals(pool.count("default", "complete"), 12);
  assertEquals(pool.count("default", "interrupted"), 2);
  assertEquals(ctx.interrupted, 2);
  assertEquals(
    pool.iterations.filter((r) => r.outcome === "interrupted").map((r) => r.end),
    [10_200, 10_200],
  );
  assertEquals(ctx.dropped, [{ count: 86, at: 10_200 }]);
  assertEquals(pool.activeCount, 0);
});

Deno.test("shared-iterations: abort interrupts everything at once and emits no drop sample", async () => {
  const clock = new VirtualClock();
  const pool = new FakePool({ clock, vus: 3, iterationMs: 1000 });
  const abort = new AbortController();
  const ctx = new FakeContext(pool, abort.signal);
  const cfg = scenario("shared-iterations", { vus: 3, iterations: 100 });
  await clock.run(() => sharedIterations.run(cfg, ctx, newProgress()), [
    [2500, () => abort.abort()],
  ]);
  assertEquals(clock.now(), 2500);
  assertEquals(pool.count("default", "complete"), 6);
  assertEquals(pool.count("default", "interrupted"), 3);
  assertEquals(ctx.dropped, []);
  assertEquals(ctx.active, 0);
  assertEquals(pool.activeCount, 0);
});

Deno.test("shared-iterations: description and plan", () => {
  const cfg = scenario("shared-iterations", { vus: 10, iterations: 100 });
  assertEquals(
    sharedIterations.description(cfg),
    "100 iterations shared among 10 VUs (maxDuration: 10m0s, gracefulStop: 30s)",
  );
  assertEquals(sharedIterations.maxVUs(cfg), 10);
  assertEquals(sharedIterations.initVUs(cfg), 10);
  assertEquals(sharedIterations.maxDuration(cfg), 630_000);
});
