import { assertEquals } from "../_assert.ts";
import {
  describeExecution,
  executionPlan,
  executionSteps,
  executors,
  hasWork,
  sortScenarios,
} from "../../lib/executor/mod.ts";
import { scenario } from "./_fake_pool.ts";

const s = 1000;

Deno.test("describeExecution: k6's lines for the default scenario", () => {
  const cfg = scenario("constant-vus", { vus: 10, duration: 30 * s });
  assertEquals(describeExecution([cfg]), [
    "scenarios: (100.00%) 1 scenario, 10 max VUs, 1m0s max duration (incl. graceful stop):",
    "* default: 10 looping VUs for 30s (gracefulStop: 30s)",
  ]);
  const shared = scenario("shared-iterations", { vus: 1, iterations: 1 });
  assertEquals(describeExecution([shared]), [
    "scenarios: (100.00%) 1 scenario, 1 max VUs, 10m30s max duration (incl. graceful stop):",
    "* default: 1 iterations shared among 1 VUs (maxDuration: 10m0s, gracefulStop: 30s)",
  ]);
});

Deno.test("describeExecution: several scenarios, (startTime, name) order, exec and startTime facts", () => {
  const news = scenario("ramping-vus", {
    name: "news",
    startVUs: 0,
    stages: [{ duration: 20 * s, target: 10 }, { duration: 10 * s, target: 0 }],
    startTime: 30 * s,
    exec: "news",
  });
  const contacts = scenario("constant-arrival-rate", {
    name: "contacts",
    rate: 10,
    duration: 60 * s,
    preAllocatedVUs: 5,
    maxVUs: 20,
  });
  const zeta = scenario("per-vu-iterations", { name: "zeta", vus: 2, iterations: 3 });
  assertEquals(describeExecution([news, zeta, contacts]), [
    "scenarios: (100.00%) 3 scenarios, 32 max VUs, 10m30s max duration (incl. graceful stop):",
    "* contacts: 10.00 iterations/s for 1m0s (maxVUs: 5-20, gracefulStop: 30s)",
    "* zeta: 3 iterations for each of 2 VUs (maxDuration: 10m0s, gracefulStop: 30s)",
    "* news: Up to 10 looping VUs for 30s over 2 stages " +
    "(gracefulRampDown: 30s, exec: news, startTime: 30s, gracefulStop: 30s)",
  ]);
  assertEquals(sortScenarios([news, zeta, contacts]).map((c) => c.name), [
    "contacts",
    "zeta",
    "news",
  ]);
});

Deno.test("executionPlan: peaks follow startTimes and each scenario's reservation window", () => {
  const a = scenario("constant-vus", { name: "a", vus: 10, duration: 30 * s });
  // b starts when a's reservation (30 s + 30 s gracefulStop) ends: no overlap.
  const b = scenario("constant-vus", { name: "b", vus: 5, duration: 10 * s, startTime: 60 * s });
  assertEquals(executionPlan([a, b]), { maxVUs: 10, initVUs: 10, maxDurationMs: 100 * s });
  // Starting inside a's graceful-stop window, the two add up.
  const b2 = { ...b, startTime: 45 * s };
  assertEquals(executionPlan([a, b2]), { maxVUs: 15, initVUs: 15, maxDurationMs: 85 * s });
  assertEquals(executionSteps([a, b2]), [
    { offset: 0, planned: 10, unplanned: 0 },
    { offset: 45 * s, planned: 15, unplanned: 0 },
    { offset: 60 * s, planned: 5, unplanned: 0 },
    { offset: 85 * s, planned: 0, unplanned: 0 },
  ]);
});

Deno.test("executionPlan: arrival-rate growth counts in maxVUs, not in initVUs; ramps reserve over time", () => {
  const contacts = scenario("constant-arrival-rate", {
    name: "contacts",
    rate: 10,
    duration: 60 * s,
    preAllocatedVUs: 5,
    maxVUs: 20,
  });
  const news = scenario("ramping-vus", {
    name: "news",
    startVUs: 0,
    stages: [{ duration: 20 * s, target: 10 }, { duration: 10 * s, target: 0 }],
    startTime: 30 * s,
  });
  // news peaks at 10 VUs 50 s in, while contacts holds 5 planned + 15 growable.
  assertEquals(executionPlan([contacts, news]), {
    maxVUs: 30,
    initVUs: 15,
    maxDurationMs: 90 * s,
  });
  // Starting at 75 s, news has ramped to 7 VUs when contacts' window (0–90 s) closes.
  assertEquals(executionPlan([contacts, { ...news, startTime: 75 * s }]), {
    maxVUs: 27,
    initVUs: 12,
    maxDurationMs: 135 * s,
  });
  // Starting at 90 s, the two never overlap.
  assertEquals(executionPlan([contacts, { ...news, startTime: 90 * s }]), {
    maxVUs: 20,
    initVUs: 10,
    maxDurationMs: 150 * s,
  });
});

Deno.test("describeExecution: max duration is rounded to 100 ms", () => {
  const cfg = scenario("constant-vus", { vus: 1, duration: 1000, gracefulStop: 50 });
  assertEquals(
    describeExecution([cfg])[0],
    "scenarios: (100.00%) 1 scenario, 1 max VUs, 1.1s max duration (incl. graceful stop):",
  );
  assertEquals(
    describeExecution([{ ...cfg, gracefulStop: 0 }])[1],
    "* default: 1 looping VUs for 1s",
  );
});

Deno.test("hasWork: scenarios with nothing to do are skipped", () => {
  assertEquals(
    hasWork(scenario("constant-arrival-rate", { rate: 1, duration: s, preAllocatedVUs: 0 })),
    false,
  );
  assertEquals(
    hasWork(scenario("constant-arrival-rate", { rate: 1, duration: s, maxVUs: 1 })),
    true,
  );
  assertEquals(
    hasWork(scenario("ramping-vus", { startVUs: 0, stages: [{ duration: s, target: 0 }] })),
    false,
  );
  assertEquals(Object.keys(executors).sort(), [
    "constant-arrival-rate",
    "constant-vus",
    "per-vu-iterations",
    "ramping-arrival-rate",
    "ramping-vus",
    "shared-iterations",
  ]);
});
