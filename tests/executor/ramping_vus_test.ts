import { assertEquals } from "../_assert.ts";
import { rampingVUs, rawSteps } from "../../lib/executor/ramping_vus.ts";
import type { LiveScenarioProgress } from "../../lib/executor/mod.ts";
import { FakeContext, FakePool, newProgress, scenario, VirtualClock } from "./_fake_pool.ts";

const s = 1000;
const steps = (pairs: Array<[number, number]>) =>
  pairs.map(([offset, planned]) => ({ offset: offset * s, planned, unplanned: 0 }));

// The up-down-up example from k6's ramping-vus planning tests.
const example = scenario("ramping-vus", {
  startVUs: 4,
  stages: [
    { duration: 2 * s, target: 6 },
    { duration: 5 * s, target: 1 },
    { duration: 4 * s, target: 5 },
    { duration: 4 * s, target: 1 },
    { duration: 3 * s, target: 4 },
    { duration: 2 * s, target: 4 },
    { duration: 0, target: 1 },
    { duration: 3 * s, target: 1 },
  ],
});

Deno.test("ramping-vus: raw steps follow ⌊line⌋ up and ⌈line⌉ down", () => {
  const raw = steps([
    [0, 4],
    [1, 5],
    [2, 6],
    [3, 5],
    [4, 4],
    [5, 3],
    [6, 2],
    [7, 1],
    [8, 2],
    [9, 3],
    [10, 4],
    [11, 5],
    [12, 4],
    [13, 3],
    [14, 2],
    [15, 1],
    [16, 2],
    [17, 3],
    [18, 4],
    [20, 1],
  ]);
  assertEquals(rawSteps(example, false), raw);
  assertEquals(rawSteps(example, true), [...raw, ...steps([[23, 0]])]);
});

Deno.test("ramping-vus: the plan reserves ramped-down VUs for gracefulRampDown", () => {
  assertEquals(
    rampingVUs.executionSteps(example),
    steps([[0, 4], [1, 5], [2, 6], [33, 5], [42, 4], [50, 1], [53, 0]]),
  );
  assertEquals(
    rampingVUs.executionSteps({ ...example, gracefulStop: 80 * s }),
    steps([[0, 4], [1, 5], [2, 6], [33, 5], [42, 4], [50, 1], [103, 0]]),
  );
  assertEquals(
    rampingVUs.executionSteps({ ...example, gracefulStop: 3 * s }),
    steps([[0, 4], [1, 5], [2, 6], [26, 0]]),
  );
  assertEquals(
    rampingVUs.executionSteps({ ...example, gracefulStop: 0 }),
    steps([[0, 4], [1, 5], [2, 6], [23, 0]]),
  );
  assertEquals(
    rampingVUs.executionSteps({ ...example, gracefulStop: 0, gracefulRampDown: 0 }),
    rawSteps(example, true),
  );
  assertEquals(rampingVUs.maxVUs(example), 6);
  assertEquals(rampingVUs.maxDuration(example), 53 * s);
});

Deno.test("ramping-vus: active VUs sampled over time match the formulas", async () => {
  const clock = new VirtualClock();
  const cfg = scenario("ramping-vus", {
    startVUs: 0,
    stages: [
      { duration: 10 * s, target: 10 },
      { duration: 10 * s, target: 10 },
      { duration: 10 * s, target: 0 },
    ],
  });
  const pool = new FakePool({ clock, vus: 10, iterationMs: 50 });
  const ctx = new FakeContext(pool);
  const progress: LiveScenarioProgress = newProgress();
  const samples: Array<[number, number]> = [];
  const at: Array<[number, () => void]> = [];
  // Sample between the integer crossings, after ramped-down VUs finished their 50 ms iteration.
  for (let t = 250; t < 30_000; t += 500) at.push([t, () => samples.push([t, ctx.active])]);
  let mid = "";
  at.push([12_300, () => (mid = progress.detail)]);
  await clock.run(() => rampingVUs.run(cfg, ctx, progress), at);
  for (const [t, active] of samples) {
    let want: number;
    if (t < 10 * s) want = Math.floor(t / 1000);
    else if (t < 20 * s) want = 10;
    else want = Math.ceil(10 - (t - 20 * s) / 1000);
    assertEquals(active, want, `at ${t} ms`);
  }
  assertEquals(mid, "10/10 VUs  12.3s/30.0s");
  assertEquals(ctx.active, 0);
  assertEquals(pool.activeCount, 0);
  assertEquals(pool.count("default", "interrupted"), 0);
  assertEquals(clock.now(), 30 * s);
  assertEquals(progress.status, "done");
  assertEquals(progress.detail, "00/10 VUs  30.0s/30.0s");
});

Deno.test("ramping-vus: a ramped-down VU finishes its iteration, or is cut at gracefulRampDown", async () => {
  for (
    const [gracefulRampDown, outcome, end] of [[1 * s, "interrupted", 3 * s], [
      3 * s,
      "complete",
      4 * s,
    ]] as const
  ) {
    const clock = new VirtualClock();
    const cfg = scenario("ramping-vus", {
      startVUs: 4,
      gracefulRampDown,
      stages: [
        { duration: 2 * s, target: 4 },
        { duration: 0, target: 1 },
        { duration: 5 * s, target: 1 },
      ],
    });
    const pool = new FakePool({ clock, vus: 4, iterationMs: 4 * s });
    const ctx = new FakeContext(pool);
    await clock.run(() => rampingVUs.run(cfg, ctx, newProgress()));
    const stopped = pool.iterations.filter((r) => r.vu > 1).sort((a, b) => a.vu - b.vu);
    assertEquals(stopped.map((r) => [r.vu, r.outcome, r.end]), [
      [2, outcome, end],
      [3, outcome, end],
      [4, outcome, end],
    ]);
    // VU 1 keeps looping: iterations at 0 and 4 s, the one started at 4 s ends at 8 s
    // (inside gracefulStop after the 7 s regular end).
    assertEquals(
      pool.iterations.filter((r) => r.vu === 1).map((r) => [r.start, r.outcome]),
      [[0, "complete"], [4 * s, "complete"]],
    );
    assertEquals(ctx.activeAt(end), 1);
    assertEquals(clock.now(), 8 * s);
  }
});

Deno.test("ramping-vus: a VU ramped down and back up keeps its iteration going", async () => {
  const clock = new VirtualClock();
  const cfg = scenario("ramping-vus", {
    startVUs: 2,
    stages: [
      { duration: 1 * s, target: 2 },
      { duration: 0, target: 1 },
      { duration: 1 * s, target: 1 },
      { duration: 0, target: 2 },
      { duration: 1 * s, target: 2 },
    ],
    gracefulStop: 0,
  });
  const pool = new FakePool({ clock, vus: 2, iterationMs: 2500 });
  const ctx = new FakeContext(pool);
  await clock.run(() => rampingVUs.run(cfg, ctx, newProgress()));
  // Both VUs stay active the whole time; VU 2's first iteration was never cut.
  assertEquals(ctx.activeSeries.map(([, n]) => n), [1, 2, 1, 0]);
  assertEquals(
    pool.iterations.map((r) => [r.vu, r.start, r.end, r.outcome]).sort((a, b) =>
      (a[1] as number) - (b[1] as number) || (a[0] as number) - (b[0] as number)
    ),
    [[1, 0, 2500, "complete"], [2, 0, 2500, "complete"], [1, 2500, 3000, "interrupted"], [
      2,
      2500,
      3000,
      "interrupted",
    ]],
  );
});

Deno.test("ramping-vus: abort stops everything at once", async () => {
  const clock = new VirtualClock();
  const cfg = scenario("ramping-vus", {
    startVUs: 0,
    stages: [{ duration: 10 * s, target: 10 }],
  });
  const pool = new FakePool({ clock, vus: 10, iterationMs: 5 * s });
  const abort = new AbortController();
  const ctx = new FakeContext(pool, abort.signal);
  await clock.run(() => rampingVUs.run(cfg, ctx, newProgress()), [[3500, () => abort.abort()]]);
  assertEquals(clock.now(), 3500);
  assertEquals(pool.count("default", "interrupted"), 3);
  assertEquals(ctx.active, 0);
  assertEquals(pool.activeCount, 0);
});

Deno.test("ramping-vus: description", () => {
  const cfg = scenario("ramping-vus", {
    startVUs: 0,
    stages: [
      { duration: 20 * s, target: 20 },
      { duration: 20 * s, target: 20 },
      { duration: 20 * s, target: 0 },
    ],
  });
  assertEquals(
    rampingVUs.description(cfg),
    "Up to 20 looping VUs for 1m0s over 3 stages (gracefulRampDown: 30s, gracefulStop: 30s)",
  );
});
