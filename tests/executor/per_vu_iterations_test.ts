import { assertEquals } from "../_assert.ts";
import { perVUIterations } from "../../lib/executor/per_vu_iterations.ts";
import type { LiveScenarioProgress } from "../../lib/executor/mod.ts";
import { FakeContext, FakePool, newProgress, scenario, VirtualClock } from "./_fake_pool.ts";

Deno.test("per-vu-iterations: 5 VUs × 3 iterations = 15, three on each VU", async () => {
  const clock = new VirtualClock();
  const pool = new FakePool({ clock, vus: 5, iterationMs: (vu, n) => 10 + vu * 7 + n * 3 });
  const ctx = new FakeContext(pool);
  const cfg = scenario("per-vu-iterations", { vus: 5, iterations: 3 });
  const progress: LiveScenarioProgress = newProgress();
  await clock.run(() => perVUIterations.run(cfg, ctx, progress));
  assertEquals(pool.count("default", "complete"), 15);
  for (let vu = 1; vu <= 5; vu++) {
    assertEquals(pool.iterations.filter((r) => r.vu === vu).length, 3);
  }
  assertEquals(ctx.complete, 15);
  assertEquals(ctx.dropped, []);
  assertEquals(ctx.active, 0);
  assertEquals(progress.fraction, 1);
  assertEquals(progress.status, "done");
});

Deno.test("per-vu-iterations: at maxDuration each VU drops its remaining count, tagged with its id", async () => {
  const clock = new VirtualClock();
  const pool = new FakePool({ clock, vus: 3, iterationMs: (vu) => (vu === 3 ? 4000 : 1500) });
  const ctx = new FakeContext(pool);
  const cfg = scenario("per-vu-iterations", {
    vus: 3,
    iterations: 10,
    maxDuration: 10_000,
    gracefulStop: 1000,
  });
  await clock.run(() => perVUIterations.run(cfg, ctx, newProgress()));
  // VUs 1, 2: starts at 0..9 s every 1.5 s (7), last ends at 10.5 s. VU 3: starts at 0, 4,
  // 8 s; the third would end at 12 s and is interrupted at 11 s.
  assertEquals(pool.count("default", "complete"), 16);
  assertEquals(pool.count("default", "interrupted"), 1);
  assertEquals(
    ctx.dropped.sort((a, b) => a.vuId! - b.vuId!),
    [
      { count: 3, vuId: 1, at: 10_500 },
      { count: 3, vuId: 2, at: 10_500 },
      { count: 7, vuId: 3, at: 11_000 },
    ],
  );
  assertEquals(clock.now(), 11_000);
});

Deno.test("per-vu-iterations: description", () => {
  const cfg = scenario("per-vu-iterations", {
    vus: 5,
    iterations: 3,
    exec: "api",
    startTime: 10_000,
  });
  assertEquals(
    perVUIterations.description(cfg),
    "3 iterations for each of 5 VUs (maxDuration: 10m0s, exec: api, startTime: 10s, gracefulStop: 30s)",
  );
});
