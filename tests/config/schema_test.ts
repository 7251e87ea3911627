import { assertEquals, assertThrows } from "../_assert.ts";
import { parseConfigObject, parseScriptOptions } from "../../lib/config/schema.ts";
import { SpateError } from "../../lib/errors.ts";

function optionsError(raw: unknown, message: string): void {
  const err = assertThrows(() => parseScriptOptions(raw), SpateError);
  assertEquals(err.message, message);
  assertEquals(err.exitCode, 104);
}

Deno.test("options: scalars, durations in every form, null = unset", () => {
  const { options, warnings } = parseScriptOptions({
    vus: 10,
    iterations: "20", // k6's nullable ints accept numeric strings
    duration: "1m30s",
    setupTimeout: 1500, // bare number = ms
    teardownTimeout: "2d",
    minIterationDuration: "250",
    noSetup: true,
    userAgent: "ua",
    batch: null,
    httpDebug: "full",
    summaryTimeUnit: "ms",
    func: undefined,
  });
  assertEquals(options, {
    vus: 10,
    iterations: 20,
    duration: 90_000,
    setupTimeout: 1500,
    teardownTimeout: 172_800_000,
    minIterationDuration: 250,
    noSetup: true,
    userAgent: "ua",
    httpDebug: "full",
    summaryTimeUnit: "ms",
  });
  assertEquals(warnings, []);
});

Deno.test("options: stages, tags, thresholds in both forms", () => {
  const { options } = parseScriptOptions({
    stages: [{ duration: "10s", target: 5 }, { duration: 1000 }, { target: 3 }],
    tags: { team: "core", build: 42, canary: false },
    thresholds: {
      http_req_duration: ["p(95)<500", "avg<200"],
      "http_req_duration{status:200}": ["max<1000"],
      checks: [{ threshold: "rate>0.99", abortOnFail: true, delayAbortEval: "10s" }],
      iterations: [{ threshold: "count>1" }],
    },
  });
  assertEquals(options.stages, [{ duration: 10_000, target: 5 }, { duration: 1000 }, {
    target: 3,
  }]);
  assertEquals(options.tags, { team: "core", build: "42", canary: "false" });
  assertEquals(options.thresholds, {
    http_req_duration: [
      { source: "p(95)<500", abortOnFail: false },
      { source: "avg<200", abortOnFail: false },
    ],
    "http_req_duration{status:200}": [{ source: "max<1000", abortOnFail: false }],
    checks: [{
      source: "rate>0.99",
      abortOnFail: true,
      delayAbortEval: 10_000,
      delayAbortEvalText: "10s",
    }],
    iterations: [{ source: "count>1", abortOnFail: false }],
  });
});

Deno.test("options: type errors are one clear line each, exit 104", () => {
  optionsError({ vus: "ten" }, 'invalid options: "vus": expected an integer, got "ten"');
  optionsError({ vus: 1.5 }, 'invalid options: "vus": expected an integer, got 1.5');
  optionsError(
    { duration: "10x" },
    'invalid options: "duration": expected a duration like "30s", "1m30s", "1d" or a number of milliseconds, got "10x"',
  );
  optionsError(
    { noSetup: "yes" },
    'invalid options: "noSetup": expected a boolean (true or false), got "yes"',
  );
  optionsError(
    { thresholds: { checks: "rate>0.9" } },
    'invalid options: "thresholds.checks": expected an array of thresholds, got "rate>0.9"',
  );
  optionsError(
    { thresholds: { checks: [{ threshold: "rate>0.9", delayAbortEval: "soon" }] } },
    'invalid options: "thresholds.checks.0.delayAbortEval": expected a duration like "30s", "1m30s", "1d" or a number of milliseconds, got "soon"',
  );
  optionsError(
    { stages: [{ duration: "1m", target: "x" }] },
    'invalid options: "stages.0.target": expected an integer, got "x"',
  );
  optionsError(
    { tags: { a: { b: 1 } } },
    'invalid options: "tags.a": expected a string, number or boolean, got {"b":1}',
  );
  optionsError(
    { vus: "x", batch: true },
    'invalid options: "vus": expected an integer, got "x"\n' +
      'invalid options: "batch": expected an integer, got true',
  );
  optionsError([1, 2], "invalid options: expected an object, got [1,2]");
});

Deno.test("options: unknown top-level keys only warn", () => {
  const { options, warnings } = parseScriptOptions({ vus: 2, vsu: 3, consoleOutput: "x" });
  assertEquals(options, { vus: 2 });
  assertEquals(warnings, [
    'There were unknown fields in the options exported in the script (unknown fields "vsu", "consoleOutput")',
  ]);
});

Deno.test("scenarios: decoded strictly per executor", () => {
  const { options } = parseScriptOptions({
    scenarios: {
      a: { executor: "shared-iterations", vus: 2, iterations: 10, maxDuration: "30s" },
      b: {
        executor: "constant-arrival-rate",
        rate: 10,
        timeUnit: "1s",
        duration: "1m",
        preAllocatedVUs: 5,
        startTime: "10s",
        exec: "other",
        env: { A: "1" },
        tags: { t: 1 },
      },
      c: { executor: "ramping-vus", stages: [{ duration: "5s", target: 3 }] },
    },
  });
  assertEquals(options.scenarios, {
    a: { executor: "shared-iterations", vus: 2, iterations: 10, maxDuration: 30_000 },
    b: {
      executor: "constant-arrival-rate",
      rate: 10,
      timeUnit: 1000,
      duration: 60_000,
      preAllocatedVUs: 5,
      startTime: 10_000,
      exec: "other",
      env: { A: "1" },
      tags: { t: "1" },
    },
    c: { executor: "ramping-vus", stages: [{ duration: 5000, target: 3 }] },
  });
});

Deno.test("scenarios: unknown field, missing/unknown executor, externally-controlled → 104", () => {
  optionsError(
    { scenarios: { s: { executor: "shared-iterations", duration: "10s" } } },
    'invalid options: "scenarios.s": unknown field "duration" (not valid for executor "shared-iterations")',
  );
  optionsError(
    { scenarios: { s: { vus: 1 } } },
    "invalid options: scenario 's' doesn't have a specified executor type",
  );
  optionsError(
    { scenarios: { s: { executor: "looping-vus" } } },
    "invalid options: unknown executor type 'looping-vus'",
  );
  optionsError(
    { scenarios: { s: { executor: "externally-controlled", vus: 1, duration: "10s" } } },
    'invalid options: "scenarios.s": the externally-controlled executor is not supported ' +
      "(removed in k6 v2); use constant-vus or ramping-vus instead",
  );
  optionsError(
    { scenarios: { s: { executor: "constant-vus", vus: "many", duration: "1m" } } },
    'invalid options: "scenarios.s.vus": expected an integer, got "many"',
  );
});

Deno.test("config file: options plus out/linger/collectors; unknown keys ignored", () => {
  const cfg = parseConfigObject({
    vus: 3,
    out: ["json=a.json"],
    linger: true,
    noUsageReport: true,
    collectors: { cloud: { token: "t" } },
    whatever: 1,
    duration: null,
  }, "/tmp/c.json");
  assertEquals(cfg, {
    vus: 3,
    out: ["json=a.json"],
    linger: true,
    noUsageReport: true,
    collectors: { cloud: { token: "t" } },
  });
  const err = assertThrows(() => parseConfigObject({ out: "json" }, "/tmp/c.json"), SpateError);
  assertEquals(
    err.message,
    'invalid config file "/tmp/c.json": "out": expected an array of strings, got "json"',
  );
  assertEquals(err.exitCode, 104);
});
