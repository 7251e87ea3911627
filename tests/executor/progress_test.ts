import { assertEquals } from "../_assert.ts";
import { progressBasis } from "../../lib/executor/plan.ts";
import { scenarioProgress } from "../../lib/executor/progress.ts";
import { scenario } from "./_fake_pool.ts";

const s = 1000;

Deno.test("progressBasis: iterations for the iteration executors, regular duration for the rest", () => {
  assertEquals(progressBasis(scenario("shared-iterations", { vus: 2, iterations: 10 })), {
    iterations: 10,
  });
  assertEquals(progressBasis(scenario("per-vu-iterations", { vus: 3, iterations: 4 })), {
    iterations: 12,
  });
  assertEquals(progressBasis(scenario("constant-vus", { vus: 1, duration: 30 * s })), {
    durationMs: 30 * s,
  });
  const stages = [{ duration: 10 * s, target: 5 }, { duration: 20 * s, target: 0 }];
  assertEquals(progressBasis(scenario("ramping-vus", { startVUs: 0, stages })), {
    durationMs: 30 * s,
  });
  assertEquals(
    progressBasis(scenario("constant-arrival-rate", { rate: 5, duration: 45 * s, maxVUs: 1 })),
    { durationMs: 45 * s },
  );
  assertEquals(
    progressBasis(scenario("ramping-arrival-rate", { stages, maxVUs: 1 })),
    { durationMs: 30 * s },
  );
});

Deno.test("scenarioProgress: the fraction, clamped to 0..1", () => {
  const t0 = 1_767_261_600_000;
  assertEquals(scenarioProgress({ durationMs: 10 * s }, t0, 0, t0), 0);
  assertEquals(scenarioProgress({ durationMs: 10 * s }, t0, 0, t0 + 2.5 * s), 0.25);
  assertEquals(scenarioProgress({ durationMs: 10 * s }, t0, 0, t0 + 12 * s), 1); // graceful stop
  assertEquals(scenarioProgress({ durationMs: 10 * s }, t0, 0, t0 - 5), 0); // clock skew
  assertEquals(scenarioProgress({ iterations: 4 }, t0, 0, t0), 0);
  assertEquals(scenarioProgress({ iterations: 4 }, t0, 3, t0), 0.75);
  assertEquals(scenarioProgress({ iterations: 0 }, t0, 0, t0), 1);
  assertEquals(scenarioProgress({ durationMs: 0 }, t0, 0, t0), 1);
});
