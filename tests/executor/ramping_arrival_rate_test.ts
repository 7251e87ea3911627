import { assert, assertAlmostEquals, assertEquals } from "../_assert.ts";
import { arrivalOffsets, rampingArrivalRate } from "../../lib/executor/ramping_arrival_rate.ts";
import type { LiveScenarioProgress } from "../../lib/executor/mod.ts";
import { FakeContext, FakePool, newProgress, scenario, VirtualClock } from "./_fake_pool.ts";

const s = 1000;
// Ramp 0 → 1/s over 5 s, hold 1 s, ramp down to 0 over 5 s: 6 iterations in all.
const upHoldDown = [
  { duration: 5 * s, target: 1 },
  { duration: 1 * s, target: 1 },
  { duration: 5 * s, target: 0 },
];

function drain(next: () => number | undefined): number[] {
  const out: number[] = [];
  for (let t = next(); t !== undefined; t = next()) out.push(t);
  return out;
}

Deno.test("ramping-arrival-rate: the n-th start is where the rate's integral reaches n", () => {
  const got = drain(arrivalOffsets({ startRate: 0, timeUnit: s, stages: upHoldDown }));
  const want = [3162, 4472, 5500, 6527, 7837, 11000];
  assertEquals(got.length, want.length);
  got.forEach((t, i) => assertAlmostEquals(t, want[i], want[i] * 0.001));
  // Closed forms: on the first ramp r(t) = t/5 per s, ∫ = t²/10, so t_n = √(10 n) s.
  assertAlmostEquals(got[0], Math.sqrt(10) * s, 1e-6);
  assertAlmostEquals(got[1], Math.sqrt(20) * s, 1e-6);
  assertAlmostEquals(got[2], 5.5 * s, 1e-6);

  const fast = drain(arrivalOffsets({ startRate: 0, timeUnit: s / 3, stages: upHoldDown }));
  const fastWant = [
    1825,
    2581,
    3162,
    3651,
    4082,
    4472,
    4830,
    5166,
    5499,
    5833,
    6169,
    6527,
    6917,
    7348,
    7837,
    8418,
    9174,
    10999,
  ];
  assertEquals(fast.length, fastWant.length);
  fast.forEach((t, i) => assertAlmostEquals(t, fastWant[i], fastWant[i] * 0.001));
});

Deno.test("ramping-arrival-rate: a constant rate r starts at 1/r, 2/r, … (unlike constant-arrival-rate)", () => {
  const got = drain(arrivalOffsets({
    startRate: 10,
    timeUnit: s,
    stages: [{ duration: 1 * s, target: 10 }, { duration: 1 * s, target: 0 }],
  }));
  // 10 in the first second at 100..1000 ms, then 5 during the ramp down.
  assertEquals(got.length, 15);
  got.slice(0, 10).forEach((t, i) => assertAlmostEquals(t, (i + 1) * 100, 1e-6));
  // Ramp 10 → 0 /s over 1 s: ∫ = 10 t − 5 t²; n = 1..5 → t = 1 − √(1 − n/5).
  got.slice(10).forEach((t, i) =>
    assertAlmostEquals(t, 1000 + (1 - Math.sqrt(1 - (i + 1) / 5)) * 1000, 1e-6)
  );
  assertEquals(
    drain(arrivalOffsets({ startRate: 0, timeUnit: s, stages: [{ duration: 5 * s, target: 0 }] })),
    [],
  );
});

Deno.test("ramping-arrival-rate: runs start on the formula's offsets (virtual clock)", async () => {
  const clock = new VirtualClock();
  const pool = new FakePool({ clock, vus: 2, iterationMs: 100 });
  const ctx = new FakeContext(pool);
  const cfg = scenario("ramping-arrival-rate", {
    startRate: 0,
    stages: upHoldDown,
    preAllocatedVUs: 2,
  });
  const progress: LiveScenarioProgress = newProgress();
  await clock.run(() => rampingArrivalRate.run(cfg, ctx, progress));
  const offsets = drain(arrivalOffsets(cfg));
  // The 6th lands exactly on the 11 s regular end and is not started.
  assertEquals(pool.iterations.map((r) => r.start), offsets.slice(0, 5));
  assertEquals(ctx.dropped, []);
  assertEquals(clock.now(), 11 * s);
  assertEquals(progress.status, "done");
  assert(progress.detail.startsWith("0/2 VUs  11.0s/11s  "), progress.detail);
});

Deno.test("ramping-arrival-rate: drops when VUs are slow, grows to maxVUs, warns once", async () => {
  const clock = new VirtualClock();
  const pool = new FakePool({ clock, vus: 1, iterationMs: 3000, initMs: 100 });
  const ctx = new FakeContext(pool);
  const cfg = scenario("ramping-arrival-rate", {
    startRate: 5,
    stages: [{ duration: 2 * s, target: 5 }],
    preAllocatedVUs: 1,
    maxVUs: 3,
  });
  await clock.run(() => rampingArrivalRate.run(cfg, ctx, newProgress()));
  // Due at 200, 400, ..., 1800 (2000 is the end). VU 1 takes 200; drop at 400 starts VU 2
  // (ready 500) which takes 600; drop at 800 starts VU 3 (ready 900) which takes 1000.
  assertEquals(pool.iterations.map((r) => r.start).sort((a, b) => a - b), [200, 600, 1000]);
  assertEquals(ctx.dropped.map((d) => d.at), [400, 800, 1200, 1400, 1600, 1800]);
  assertEquals(pool.grown, [2, 3]);
  assertEquals(ctx.warnings, ["Insufficient VUs, reached 3 active VUs and cannot initialize more"]);
  // gracefulStop 30 s lets the 3 s iterations finish.
  assertEquals(pool.count("default", "complete"), 3);
  assertEquals(clock.now(), 4000);
});

Deno.test("ramping-arrival-rate: progress shows the current rate", async () => {
  const clock = new VirtualClock();
  const pool = new FakePool({ clock, vus: 5, iterationMs: 10 });
  const ctx = new FakeContext(pool);
  const cfg = scenario("ramping-arrival-rate", {
    startRate: 10,
    stages: [{ duration: 2 * s, target: 10 }, { duration: 2 * s, target: 50 }],
    preAllocatedVUs: 5,
  });
  const progress: LiveScenarioProgress = newProgress();
  const seen: string[] = [];
  await clock.run(() => rampingArrivalRate.run(cfg, ctx, progress), [
    [1050, () => seen.push(progress.detail)],
  ]);
  assertEquals(seen, ["0/5 VUs  1.1s/4s  10.00 iters/s"]);
});

Deno.test("ramping-arrival-rate: description and plan", () => {
  const cfg = scenario("ramping-arrival-rate", {
    startRate: 10,
    stages: [
      { duration: 60 * s, target: 50 },
      { duration: 60 * s, target: 50 },
      { duration: 60 * s, target: 0 },
    ],
    preAllocatedVUs: 10,
    maxVUs: 100,
  });
  assertEquals(
    rampingArrivalRate.description(cfg),
    "Up to 50.00 iterations/s for 3m0s over 3 stages (maxVUs: 10-100, gracefulStop: 30s)",
  );
  assertEquals(rampingArrivalRate.maxVUs(cfg), 100);
  assertEquals(rampingArrivalRate.initVUs(cfg), 10);
  assertEquals(rampingArrivalRate.maxDuration(cfg), 210 * s);
});
