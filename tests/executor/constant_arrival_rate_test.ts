import { cpuUsage } from "node:process";
import { assert, assertAlmostEquals, assertEquals } from "../_assert.ts";
import { constantArrivalRate } from "../../lib/executor/constant_arrival_rate.ts";
import type { LiveScenarioProgress } from "../../lib/executor/mod.ts";
import {
  FakeContext,
  FakePool,
  newProgress,
  realClock,
  scenario,
  VirtualClock,
} from "./_fake_pool.ts";

Deno.test("constant-arrival-rate: iteration i starts at i × timeUnit / rate from t = 0", async () => {
  const clock = new VirtualClock();
  const pool = new FakePool({ clock, vus: 2, iterationMs: 50 });
  const ctx = new FakeContext(pool);
  const cfg = scenario("constant-arrival-rate", {
    rate: 10,
    timeUnit: 1000,
    duration: 2000,
    preAllocatedVUs: 2,
  });
  const progress: LiveScenarioProgress = newProgress();
  let mid = "";
  await clock.run(() => constantArrivalRate.run(cfg, ctx, progress), [
    [1020, () => (mid = `${progress.fraction} ${progress.detail}`)],
  ]);
  assertEquals(pool.iterations.map((r) => r.start), Array.from({ length: 20 }, (_, i) => i * 100));
  assertEquals(ctx.dropped, []);
  assertEquals(ctx.warnings, []);
  // `vus` counts only VUs inside an iteration.
  assertEquals(ctx.activeSeries.slice(0, 2), [[0, 1], [50, 0]]);
  assertEquals(mid, "0.51 1/2 VUs  1.0s/2s  10.00 iters/s");
  assertEquals(pool.activeCount, 0);
  assertEquals(clock.now(), 2000);
  assertEquals(progress.status, "done");
});

Deno.test("constant-arrival-rate: 3 per 2 s spaces starts by timeUnit / rate", async () => {
  const clock = new VirtualClock();
  const pool = new FakePool({ clock, vus: 1, iterationMs: 10 });
  const ctx = new FakeContext(pool);
  const cfg = scenario("constant-arrival-rate", {
    rate: 3,
    timeUnit: 2000,
    duration: 4000,
    preAllocatedVUs: 1,
  });
  await clock.run(() => constantArrivalRate.run(cfg, ctx, newProgress()));
  const starts = pool.iterations.map((r) => r.start);
  assertEquals(starts.length, 6);
  starts.forEach((t, i) => assertAlmostEquals(t, (i * 2000) / 3, 1e-9));
});

Deno.test("constant-arrival-rate: no idle VU → dropped, one extra VU at a time up to maxVUs", async () => {
  const clock = new VirtualClock();
  // Each iteration takes 1 s, so at 10/s the scenario needs 10 VUs; it may grow to 5.
  const pool = new FakePool({ clock, vus: 1, iterationMs: 1000, initMs: 250 });
  const ctx = new FakeContext(pool);
  const cfg = scenario("constant-arrival-rate", {
    rate: 10,
    duration: 3000,
    preAllocatedVUs: 1,
    maxVUs: 5,
  });
  const progress: LiveScenarioProgress = newProgress();
  const seen: number[] = [];
  await clock.run(() => constantArrivalRate.run(cfg, ctx, progress), [
    [1010, () => seen.push(pool.initialized)],
  ]);
  // Growth one at a time, 250 ms each, each started by a drop while none is initialising:
  // drops at 100 (VU 2 ready at 350, runs the 400 start), 500 (VU 3 at 750), 900 (VU 4 at
  // 1150), 1300 (VU 5 at 1550). The drops at 200, 300, 600, ... start no second init.
  assertEquals(pool.grown, [2, 3, 4, 5]);
  assertEquals(seen, [3]);
  assertEquals(pool.initialized, 5);
  const started = pool.iterations.length;
  assertEquals(started + ctx.droppedTotal, 30);
  assert(ctx.dropped.every((d) => d.count === 1 && d.vuId === undefined));
  assertEquals(ctx.warnings, ["Insufficient VUs, reached 5 active VUs and cannot initialize more"]);
  // At most maxVUs iterations ever ran at once.
  assertEquals(pool.peakRunning, 5);
  assertEquals(pool.activeCount, 0);
  assertEquals(progress.detail, "0/5 VUs  3s  10.00 iters/s");
});

Deno.test("constant-arrival-rate: the warning comes at the first drop when maxVUs = preAllocatedVUs", async () => {
  const clock = new VirtualClock();
  const pool = new FakePool({ clock, vus: 2, iterationMs: 1000 });
  const ctx = new FakeContext(pool);
  const cfg = scenario("constant-arrival-rate", { rate: 4, duration: 2000, preAllocatedVUs: 2 });
  await clock.run(() => constantArrivalRate.run(cfg, ctx, newProgress()));
  // Starts due at 0, 250, ..., 1750: VUs free at 0, 0, 1000, 1000 → 4 run, 4 dropped.
  assertEquals(pool.iterations.map((r) => r.start).sort((a, b) => a - b), [0, 250, 1000, 1250]);
  assertEquals(ctx.dropped.map((d) => d.at), [500, 750, 1500, 1750]);
  assertEquals(ctx.warnings, ["Insufficient VUs, reached 2 active VUs and cannot initialize more"]);
  assertEquals(pool.grown, []);
});

Deno.test("constant-arrival-rate: gracefulStop, then in-flight iterations are interrupted", async () => {
  const clock = new VirtualClock();
  const pool = new FakePool({ clock, vus: 3, iterationMs: 2500 });
  const ctx = new FakeContext(pool);
  const cfg = scenario("constant-arrival-rate", {
    rate: 1,
    duration: 3000,
    preAllocatedVUs: 3,
    gracefulStop: 1000,
  });
  await clock.run(() => constantArrivalRate.run(cfg, ctx, newProgress()));
  // Starts at 0, 1, 2 s; ends due at 2.5, 3.5, 4.5 s; hard stop at 4 s.
  assertEquals(
    pool.iterations.map((r) => [r.start, r.end, r.outcome]),
    [[0, 2500, "complete"], [1000, 3500, "complete"], [2000, 4000, "interrupted"]],
  );
  assertEquals(clock.now(), 4000);
  assertEquals(ctx.active, 0);
});

Deno.test("constant-arrival-rate: abort interrupts running iterations and returns at once", async () => {
  const clock = new VirtualClock();
  const pool = new FakePool({ clock, vus: 10, iterationMs: 5000 });
  const abort = new AbortController();
  const ctx = new FakeContext(pool, abort.signal);
  const cfg = scenario("constant-arrival-rate", {
    rate: 2,
    duration: 60_000,
    preAllocatedVUs: 10,
  });
  await clock.run(() => constantArrivalRate.run(cfg, ctx, newProgress()), [
    [1600, () => abort.abort()],
  ]);
  assertEquals(clock.now(), 1600);
  assertEquals(pool.count("default", "interrupted"), 4);
  assertEquals(ctx.active, 0);
  assertEquals(pool.activeCount, 0);
});

Deno.test("constant-arrival-rate: descriptions", () => {
  const cfg = scenario("constant-arrival-rate", {
    rate: 10,
    duration: 60_000,
    preAllocatedVUs: 5,
    maxVUs: 20,
  });
  assertEquals(
    constantArrivalRate.description(cfg),
    "10.00 iterations/s for 1m0s (maxVUs: 5-20, gracefulStop: 30s)",
  );
  assertEquals(
    constantArrivalRate.description({ ...cfg, maxVUs: 5, rate: 1, timeUnit: 60_000 }),
    "0.02 iterations/s for 1m0s (maxVUs: 5, gracefulStop: 30s)",
  );
  assertEquals(constantArrivalRate.maxVUs(cfg), 20);
  assertEquals(constantArrivalRate.initVUs(cfg), 5);
  assertEquals(constantArrivalRate.maxDuration(cfg), 90_000);
});

Deno.test("constant-arrival-rate: real clock, 100/s for 10 s starts 1000 iterations on schedule", async () => {
  const pool = new FakePool({ clock: realClock, vus: 20, iterationMs: 5 });
  const ctx = new FakeContext(pool);
  const cfg = scenario("constant-arrival-rate", {
    rate: 100,
    duration: 10_000,
    preAllocatedVUs: 20,
  });
  const t0 = performance.now();
  const cpu0 = cpuUsage();
  await constantArrivalRate.run(cfg, ctx, newProgress());
  const starts = pool.iterations.map((r) => r.start - t0).sort((a, b) => a - b);
  assertAlmostEquals(starts.length, 1000, 1);
  assertEquals(ctx.droppedTotal, 0);
  let worst = 0;
  let sum = 0;
  starts.forEach((t, i) => {
    const late = t - i * 10;
    assert(late > -2, `iteration ${i} started ${-late} ms early`);
    worst = Math.max(worst, late);
    sum += late;
  });
  const mean = sum / starts.length;
  console.log(`lateness: mean ${mean.toFixed(2)} ms, worst ${worst.toFixed(2)} ms`);
  const cpu = cpuUsage(cpu0);
  console.log(`process CPU for the 10 s run: ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms`);
  // Lateness never accumulates: every start is scheduled against its absolute target time.
  assert(mean < 15, `mean lateness ${mean} ms`);
  assert(worst < 250, `worst lateness ${worst} ms`);
});
