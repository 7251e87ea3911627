import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { parseCommandLine } from "../../lib/config/cli.ts";
import {
  consolidate,
  type ConsolidateInput,
  execTestOptions,
  inspectScriptOptions,
  parseOutputSpec,
  validateExecFunctions,
} from "../../lib/config/consolidate.ts";
import type { ScenarioConfig } from "../../lib/config/types.ts";
import { SpateError } from "../../lib/errors.ts";

function cli(...args: string[]) {
  const cmd = parseCommandLine(["run", ...args, "script.js"]);
  if (cmd.command !== "run") throw new Error("not run");
  return cmd.flags;
}

function build(input: Partial<ConsolidateInput>) {
  return consolidate({ env: {}, cli: {}, ...input });
}

function only(input: Partial<ConsolidateInput>): ScenarioConfig {
  const { config } = build(input);
  assertEquals(config.scenarios.length, 1);
  return config.scenarios[0];
}

function configError(input: Partial<ConsolidateInput>, message: string, exitCode = 104) {
  const err = assertThrows(() => build(input), SpateError);
  assertEquals(err.message, message);
  assertEquals(err.exitCode, exitCode);
}

const base = { startTime: 0, gracefulStop: 30_000, exec: "default", env: {}, tags: {} };

Deno.test("precedence: defaults < file < script < env < CLI, layer by layer", () => {
  const file = { vus: 2, duration: "10s" };
  const script = { vus: 3 };
  const env = { K6_VUS: "4" };
  const flags = cli("-u", "5");
  const vus = (input: Partial<ConsolidateInput>) => {
    const sc = only(input);
    assert(sc.executor === "constant-vus");
    return sc.vus;
  };
  assertEquals(vus({ file, script, env, cli: flags }), 5);
  assertEquals(vus({ file, script, env }), 4);
  assertEquals(vus({ file, script }), 3);
  assertEquals(vus({ file }), 2);
  assertEquals(vus({ file: { duration: "10s" } }), 1);
  // The same for a scalar outside the execution group.
  const ua = (input: Partial<ConsolidateInput>) => build(input).config.http.userAgent;
  assertEquals(
    ua({
      file: { userAgent: "f" },
      script: { userAgent: "s" },
      env: { K6_USER_AGENT: "e" },
      cli: cli("--user-agent", "c"),
    }),
    "c",
  );
  assertEquals(
    ua({ file: { userAgent: "f" }, script: { userAgent: "s" }, env: { K6_USER_AGENT: "e" } }),
    "e",
  );
  assertEquals(ua({ file: { userAgent: "f" }, script: { userAgent: "s" } }), "s");
  assertEquals(ua({ file: { userAgent: "f" } }), "f");
  assertEquals(ua({}), "Grafana k6/2.2.0");
});

Deno.test("execution group: a higher layer wipes duration/iterations/stages/scenarios", () => {
  // script duration + CLI iterations: shared-iterations with the script's VUs, no maxDuration.
  const err = assertThrows(
    () => build({ script: { vus: 10, duration: "30s" }, cli: cli("-i", "5") }),
    SpateError,
  );
  assertEquals(
    err.message,
    "There were problems with the specified script configuration:\n" +
      "\t- scenario default has configuration errors: the number of iterations (5) can't be " +
      "less than the number of VUs (10)",
  );
  assertEquals(err.exitCode, 104);
  // vus is not part of the group: it survives.
  const sc = only({ script: { vus: 3, duration: "30s" }, env: { K6_ITERATIONS: "9" } });
  assertEquals(sc, {
    ...base,
    name: "default",
    executor: "shared-iterations",
    vus: 3,
    iterations: 9,
    maxDuration: 600_000,
  });
});

Deno.test("execution group: overriding scenarios warns with the layer name", () => {
  const script = {
    scenarios: { a: { executor: "constant-vus", vus: 2, duration: "1m" } },
  };
  const res = build({ script, cli: cli("-d", "10s") });
  assertEquals(res.warnings, [
    '"cli" level configuration overrode scenarios configuration entirely',
  ]);
  assertEquals(res.config.scenarios.map((s) => [s.name, s.executor]), [[
    "default",
    "constant-vus",
  ]]);
  const env = build({ script, env: { K6_STAGES: "10s:1" } });
  assertEquals(env.warnings, [
    '"env" level configuration overrode scenarios configuration entirely',
  ]);
  const fromFile = build({ file: script, script: { iterations: 1 } });
  assertEquals(fromFile.warnings, [
    '"script" level configuration overrode scenarios configuration entirely',
  ]);
});

Deno.test("maps replace wholesale; empty tags do not replace", () => {
  const res = build({
    file: { tags: { a: "1", b: "2" }, thresholds: { checks: ["rate>0.5"] } },
    script: { tags: { c: "3" }, thresholds: { iterations: ["count>1"] } },
    env: { K6_TAGS: "" },
  });
  assertEquals(res.config.tags, { c: "3" });
  assertEquals(Object.keys(res.config.thresholds), ["iterations"]);
  assertEquals(build({ file: { tags: { a: "1" } }, script: { tags: {} } }).config.tags, { a: "1" });
  assertEquals(build({ script: { tags: { a: "1" } }, cli: cli("--tag", "b=2") }).config.tags, {
    b: "2",
  });
});

Deno.test("shortcuts → scenarios, one per row of runner.md §2.4", () => {
  // 1: iterations (with duration as maxDuration)
  assertEquals(only({ cli: cli("-i", "10", "-d", "20s", "-u", "2") }), {
    ...base,
    name: "default",
    executor: "shared-iterations",
    vus: 2,
    iterations: 10,
    maxDuration: 20_000,
  });
  // 2: duration
  assertEquals(only({ cli: cli("-d", "30s") }), {
    ...base,
    name: "default",
    executor: "constant-vus",
    vus: 1,
    duration: 30_000,
  });
  // 3: stages; startVUs = vus (default 1)
  assertEquals(only({ cli: cli("-s", "10s:5", "-s", "20s:0") }), {
    ...base,
    name: "default",
    executor: "ramping-vus",
    startVUs: 1,
    stages: [{ duration: 10_000, target: 5 }, { duration: 20_000, target: 0 }],
    gracefulRampDown: 30_000,
  });
  assertEquals(
    (only({ cli: cli("-u", "0", "-s", "10s:5") }) as { startVUs: number }).startVUs,
    0,
  );
  // 4: bare vus from CLI/env: N iterations shared by N VUs (HEAD)
  assertEquals(only({ cli: cli("-u", "4") }), {
    ...base,
    name: "default",
    executor: "shared-iterations",
    vus: 4,
    iterations: 4,
    maxDuration: 600_000,
  });
  // 5: scenarios as-is, ordered by (startTime, name)
  const { config } = build({
    script: {
      scenarios: {
        b: { executor: "per-vu-iterations" },
        a: { executor: "per-vu-iterations", startTime: "5s" },
        c: { executor: "per-vu-iterations" },
      },
    },
  });
  assertEquals(config.scenarios.map((s) => s.name), ["b", "c", "a"]);
  // 6: nothing → 1 VU × 1 iteration
  assertEquals(only({}), {
    ...base,
    name: "default",
    executor: "per-vu-iterations",
    vus: 1,
    iterations: 1,
    maxDuration: 600_000,
  });
  assertEquals(build({ script: { stages: [] } }).warnings, [
    "`stages` was explicitly set to an empty value, running the script with 1 iteration in 1 VU",
  ]);
});

Deno.test("bare vus: CLI/env override scenarios (HEAD); in the same options, scenarios win", () => {
  const scenarios = { s: { executor: "constant-vus", vus: 2, duration: "5s" } };
  const fromCli = build({ script: { scenarios }, cli: cli("-u", "3") });
  assertEquals(fromCli.warnings, ["`vus=3` overrides scenarios configuration"]);
  assertEquals(fromCli.config.scenarios.map((s) => s.name), ["default"]);
  const fromEnv = build({ script: { scenarios }, env: { K6_VUS: "3" } });
  assertEquals(fromEnv.config.scenarios.map((s) => s.name), ["default"]);
  const sameOptions = build({ script: { vus: 10, scenarios } });
  assertEquals(sameOptions.config.scenarios.map((s) => s.name), ["s"]);
  assertEquals(sameOptions.warnings, [
    "the `vus=10` option was ignored because the options also define `scenarios`; " +
    "set `vus` inside a scenario instead",
  ]);
});

Deno.test("shortcut conflicts in one layer are reported individually (104)", () => {
  configError(
    { script: { iterations: 5, stages: [{ duration: "1s", target: 1 }] } },
    "using `iterations` and `stages` options simultaneously is not allowed",
  );
  configError(
    { script: { duration: "5s", scenarios: { a: { executor: "per-vu-iterations" } } } },
    "using `duration` and `scenarios` options simultaneously is not allowed",
  );
  configError(
    { script: { stages: [{ duration: "1s", target: 1 }], scenarios: {} } },
    "using `stages` and `scenarios` options simultaneously is not allowed",
  );
  configError({ script: { duration: 0 } }, "`duration` option should be more than 0");
});

Deno.test("scenario validation: all problems in one error (104)", () => {
  configError(
    {
      script: {
        scenarios: {
          "bad name": { executor: "per-vu-iterations", exec: "" },
          car: { executor: "constant-arrival-rate", duration: "500ms", timeUnit: 0 },
          rar: { executor: "ramping-arrival-rate", preAllocatedVUs: 2, maxVUs: 1 },
          rv: { executor: "ramping-vus", startVUs: 0, stages: [{ duration: "1s" }] },
          si: { executor: "shared-iterations", vus: 0, maxDuration: "100ms" },
          cv: { executor: "constant-vus", gracefulStop: "-1s" },
        },
      },
    },
    [
      "There were problems with the specified script configuration:",
      "scenario bad name has configuration errors: the scenario name should contain only " +
      "numbers, latin letters, underscores, and dashes, exec value cannot be empty",
      "scenario car has configuration errors: the iteration rate isn't specified, the timeUnit " +
      "must be more than 0, the duration must be at least 1s, but is 500ms, the number of " +
      "preAllocatedVUs isn't specified",
      "scenario cv has configuration errors: the gracefulStop timeout can't be negative, the " +
      "duration is unspecified",
      "scenario rar has configuration errors: at least one stage has to be specified, maxVUs " +
      "can't be less than preAllocatedVUs",
      "scenario rv has configuration errors: either startVUs or one of the stages' target values " +
      "must be greater than 0, stage 1 doesn't have a target",
      "scenario si has configuration errors: the number of VUs must be more than 0, the " +
      "maxDuration must be at least 1s, but is 100ms",
    ].join("\n\t- "),
  );
  // -u -1 parses, then fails validation like k6.
  configError(
    { cli: cli("-u", "-1") },
    "There were problems with the specified script configuration:\n\t- scenario default has " +
      "configuration errors: the number of VUs must be more than 0",
  );
  // -s without a target (startVUs defaults to 1, so only the target is missing).
  configError(
    { cli: cli("-s", "30s") },
    "There were problems with the specified script configuration:\n\t- scenario default has " +
      "configuration errors: stage 1 doesn't have a target",
  );
  configError(
    { script: { setupTimeout: "0s" } },
    "There were problems with the specified script configuration:\n\t- setupTimeout must be positive",
  );
});

Deno.test("strict scenario decoding: unknown key is fatal (104)", () => {
  configError(
    { script: { scenarios: { s: { executor: "per-vu-iterations", rate: 5 } } } },
    'invalid options: "scenarios.s": unknown field "rate" (not valid for executor "per-vu-iterations")',
  );
  configError(
    { script: { scenarios: { s: { executor: "externally-controlled" } } } },
    'invalid options: "scenarios.s": the externally-controlled executor is not supported ' +
      "(removed in k6 v2); use constant-vus or ramping-vus instead",
  );
});

Deno.test("scenario defaults per executor", () => {
  const { config } = build({
    script: {
      scenarios: {
        car: { executor: "constant-arrival-rate", rate: 10, duration: "1m", preAllocatedVUs: 5 },
        rar: {
          executor: "ramping-arrival-rate",
          preAllocatedVUs: 1,
          maxVUs: 4,
          stages: [{ duration: "10s", target: 20 }],
          exec: "api",
          env: { X: "1" },
          tags: { t: "v" },
        },
      },
    },
  });
  assertEquals(config.scenarios, [
    {
      ...base,
      name: "car",
      executor: "constant-arrival-rate",
      rate: 10,
      timeUnit: 1000,
      duration: 60_000,
      preAllocatedVUs: 5,
      maxVUs: 5,
    },
    {
      ...base,
      name: "rar",
      exec: "api",
      env: { X: "1" },
      tags: { t: "v" },
      executor: "ramping-arrival-rate",
      startRate: 0,
      timeUnit: 1000,
      stages: [{ duration: 10_000, target: 20 }],
      preAllocatedVUs: 1,
      maxVUs: 4,
    },
  ]);
});

Deno.test("exec functions: checked when exports are known", () => {
  const script = {
    scenarios: {
      a: { executor: "per-vu-iterations", exec: "api" },
      b: { executor: "per-vu-iterations" },
    },
  };
  const { config } = build({ script });
  assertEquals(validateExecFunctions(config, ["default"]), [
    "executor a: function 'api' not found in exports",
  ]);
  assertEquals(validateExecFunctions(config, ["default", "api"]), []);
  configError(
    { script, exportedFunctions: ["api"] },
    "There were problems with the specified script configuration:\n" +
      "\t- executor b: function 'default' not found in exports",
  );
});

Deno.test("--out: CLI > K6_OUT > file out, split at the first =", () => {
  const file = { out: ["json=file.json"] };
  const env = { K6_OUT: "csv=env.csv,json" };
  const outs = (input: Partial<ConsolidateInput>) => build(input).config.out;
  assertEquals(outs({ file, env, cli: cli("-o", "csv=fileName=a.csv,saveInterval=2s") }), [
    { name: "csv", arg: "fileName=a.csv,saveInterval=2s" },
  ]);
  assertEquals(outs({ file, env }), [{ name: "csv", arg: "env.csv" }, { name: "json", arg: "" }]);
  assertEquals(outs({ file }), [{ name: "json", arg: "file.json" }]);
  assertEquals(outs({}), []);
  assertEquals(parseOutputSpec("influxdb=http://u:p@h:8086/k6?x=1"), {
    name: "influxdb",
    arg: "http://u:p@h:8086/k6?x=1",
  });
  assertEquals(outs({ env: { K6_WEB_DASHBOARD: "true" } }), [{ name: "web-dashboard", arg: "" }]);
});

Deno.test("__ENV: process env unless --include-system-env-vars=false, plus -e", () => {
  const env = { HOME: "/h", K6_VUS: "1" };
  const a = build({ env, cli: cli("-e", "A=1", "-e", "HOME=/x") }).config;
  assertEquals(a.scriptEnv, { HOME: "/x", K6_VUS: "1", A: "1" });
  assertEquals(a.cliEnv, { A: "1", HOME: "/x" });
  const b = build({ env, cli: cli("--include-system-env-vars=false", "-e", "A=1") }).config;
  assertEquals(b.scriptEnv, { A: "1" });
  const c = build({ env: { ...env, K6_INCLUDE_SYSTEM_ENV_VARS: "false" } }).config;
  assertEquals(c.scriptEnv, {});
  // -e K6_VUS=5 does not configure spate.
  const d = only({ cli: cli("-e", "K6_VUS=5", "-d", "10s") });
  assertEquals((d as { vus: number }).vus, 1);
});

Deno.test("defaults, runtime options and the http block", () => {
  const { config, extras } = build({});
  assertEquals(config.summaryTrendStats, ["avg", "min", "med", "max", "p(90)", "p(95)"]);
  assertEquals([...config.systemTags].sort(), [
    "check",
    "error",
    "error_code",
    "expected_response",
    "group",
    "method",
    "name",
    "proto",
    "scenario",
    "service",
    "status",
    "subproto",
    "tls_version",
    "url",
  ]);
  assertEquals(config.setupTimeout, 60_000);
  assertEquals(config.teardownTimeout, 60_000);
  assertEquals(config.handleSummaryTimeout, 120_000);
  assertEquals(config.summaryMode, "compact");
  assertEquals(config.logFormat, "text");
  assertEquals(config.logOutput, "stderr");
  assertEquals(config.metricSamplesBufferSize, 1000);
  assertEquals(config.http, {
    userAgent: "Grafana k6/2.2.0",
    maxRedirects: 10,
    batch: 20,
    batchPerHost: 6,
    insecureSkipTLSVerify: false,
    discardResponseBodies: false,
    noConnectionReuse: false,
    noVUConnectionReuse: false,
    noCookiesReset: false,
    hosts: {},
    blockHostnames: [],
    blacklistIPs: [],
    httpDebug: "",
    rps: 0,
    timeout: 60_000,
    http1Only: false,
  });
  assertEquals(extras.dns, { ttl: "5m", select: "random", policy: "preferIPv4" });
  assertEquals(extras.includeSystemEnvVars, true);

  const tuned = build({
    script: { hosts: { "Test.K6.io": "1.2.3.4" }, systemTags: ["status", "vu", "nope"] },
    env: { K6_SUMMARY_MODE: "full", K6_NO_THRESHOLDS: "1" },
    cli: cli("--no-summary", "--http-debug", "--log-format=json", "-q"),
  }).config;
  assertEquals(tuned.summaryMode, "disabled");
  assertEquals(tuned.noThresholds, true);
  assertEquals(tuned.http.httpDebug, "headers");
  assertEquals(tuned.http.hosts, { "test.k6.io": "1.2.3.4" });
  assertEquals(tuned.http.http1Only, false);
  // Go's switch, which k6 reads to turn HTTP/2 off: any GODEBUG entry http2client=0.
  for (const [godebug, only] of [["gctrace=1,http2client=0", true], ["http2client=1", false]]) {
    assertEquals(build({ env: { GODEBUG: godebug as string } }).config.http.http1Only, only);
  }
  assertEquals([...tuned.systemTags], ["status", "vu"]);
  assertEquals(tuned.logFormat, "json");
  assertEquals(tuned.quiet, true);
});

Deno.test("summaryTrendStats from options/env is validated after merging (exit 255)", () => {
  configError(
    { script: { summaryTrendStats: ["avg", "p(150)"] } },
    "invalid percentile trend stat value 'p(150)', provide a number between 0 and 100",
    255,
  );
  configError(
    { env: { K6_SUMMARY_TREND_STATS: "avg,mean" } },
    "invalid trend stat 'mean', unknown format",
    255,
  );
});

Deno.test("cloud block: options.cloud, else legacy ext.loadimpact; collectors pass through", () => {
  assertEquals(build({ script: { cloud: { projectID: 1 } } }).config.cloud, { projectID: 1 });
  assertEquals(build({ script: { ext: { loadimpact: { name: "x" } } } }).config.cloud, {
    name: "x",
  });
  assertEquals(build({}).config.cloud, undefined);
  assertEquals(
    build({ file: { collectors: { csv: { fileName: "a.csv" } } } }).config.collectors,
    { csv: { fileName: "a.csv" } },
  );
});

Deno.test("options JSON in k6's shape; exec.test.options view", () => {
  const { config } = build({
    script: {
      vus: 2,
      duration: "90s",
      thresholds: { checks: [{ threshold: "rate>0.9", abortOnFail: true }], x: ["count>0"] },
    },
  });
  const o = config.options;
  assertEquals(o.vus, 2);
  assertEquals(o.duration, "1m30s");
  assertEquals(o.iterations, null);
  assertEquals(o.scenarios, {
    default: {
      executor: "constant-vus",
      startTime: null,
      gracefulStop: null,
      env: null,
      exec: null,
      tags: null,
      vus: 2,
      duration: "1m30s",
    },
  });
  assertEquals(o.setupTimeout, "1m0s");
  assertEquals(o.handleSummaryTimeout, "2m0s");
  assertEquals(o.thresholds, {
    checks: [{ threshold: "rate>0.9", abortOnFail: true, delayAbortEval: null }],
    x: ["count>0"],
  });
  assertEquals(o.summaryTrendStats, ["avg", "min", "med", "max", "p(90)", "p(95)"]);
  assertEquals(o.maxRedirects, null);
  const view = execTestOptions(config);
  assert(!("vus" in view) && !("duration" in view) && !("stages" in view));
  assertEquals(view.consoleOutput, null);
  assertEquals(view.localIPs, null);
});

Deno.test("features: CLI > K6_FEATURES > config file; merge-run-tags merges tags per key", () => {
  const file = { features: ["freeze-env"], tags: { a: "1", b: "1" } };
  assertEquals(build({ file }).extras.features, ["freeze-env"]);
  assertEquals(build({ file, env: { K6_FEATURES: "native-histograms" } }).extras.features, [
    "native-histograms",
  ]);
  const res = build({
    file,
    env: { K6_FEATURES: "native-histograms" },
    script: { tags: { b: "2", c: "2" } },
    cli: cli("--features", "merge-run-tags,bogus", "--tag", "d=4"),
  });
  assertEquals(res.extras.features, ["merge-run-tags"]);
  assertEquals(res.warnings, ['Unknown feature flag "bogus"']);
  assertEquals(res.config.tags, { a: "1", b: "2", c: "2", d: "4" });
  assertEquals(build({ script: { features: ["merge-run-tags"] } }).warnings, [
    "Feature flags in script options are not supported; use --features, K6_FEATURES, or the JSON config",
  ]);
});

Deno.test("inspect: the script's own options in k6's JSON shape", () => {
  const { options, warnings } = inspectScriptOptions({
    vus: 2,
    scenarios: { s: { executor: "constant-vus", duration: "30s" } },
    nope: 1,
  });
  assertEquals(options.vus, 2);
  assertEquals(options.setupTimeout, null);
  assertEquals(options.systemTags, null);
  assertEquals(options.dns, { ttl: null, select: null, policy: null });
  assertEquals(options.scenarios, {
    s: {
      executor: "constant-vus",
      startTime: null,
      gracefulStop: null,
      env: null,
      exec: null,
      tags: null,
      vus: null,
      duration: "30s",
    },
  });
  assertEquals(warnings.length, 1);
});
