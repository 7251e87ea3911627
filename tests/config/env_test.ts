import { assertEquals, assertThrows } from "../_assert.ts";
import { readEnvConfig } from "../../lib/config/env.ts";
import { SpateError } from "../../lib/errors.ts";

Deno.test("env: every kind of K6_* variable", () => {
  const { options, runtime } = readEnvConfig({
    K6_VUS: "4",
    K6_DURATION: "1m",
    K6_ITERATIONS: "8",
    K6_STAGES: "30s:10,1m:0",
    K6_OUT: "json=a.json,csv",
    K6_TAGS: "team:core,env:ci",
    K6_SYSTEM_TAGS: "status, method,bogus",
    K6_SUMMARY_TREND_STATS: "avg,p(99)",
    K6_SUMMARY_TIME_UNIT: "ms",
    K6_USER_AGENT: "ua/1",
    K6_MAX_REDIRECTS: "3",
    K6_BATCH: "7",
    K6_BATCH_PER_HOST: "2",
    K6_INSECURE_SKIP_TLS_VERIFY: "true",
    K6_THROW: "1",
    K6_HTTP_DEBUG: "full",
    K6_DISCARD_RESPONSE_BODIES: "t",
    K6_SETUP_TIMEOUT: "2m",
    K6_TEARDOWN_TIMEOUT: "1500",
    K6_CONSOLE_OUTPUT: "console.log",
    K6_BLACKLIST_IPS: "10.0.0.0/8",
    K6_BLOCK_HOSTNAMES: "*.example.com",
    K6_LINGER: "false",
    K6_DNS: "ttl=1m,policy=onlyIPv4",
  });
  assertEquals(options, {
    vus: 4,
    duration: 60_000,
    iterations: 8,
    stages: [{ duration: 30_000, target: 10 }, { duration: 60_000, target: 0 }],
    out: ["json=a.json", "csv"],
    tags: { team: "core", env: "ci" },
    systemTags: ["status", "method", "bogus"],
    summaryTrendStats: ["avg", "p(99)"],
    summaryTimeUnit: "ms",
    userAgent: "ua/1",
    maxRedirects: 3,
    batch: 7,
    batchPerHost: 2,
    insecureSkipTLSVerify: true,
    throw: true,
    httpDebug: "full",
    discardResponseBodies: true,
    setupTimeout: 120_000,
    teardownTimeout: 1500,
    consoleOutput: "console.log",
    blacklistIPs: ["10.0.0.0/8"],
    blockHostnames: ["*.example.com"],
    linger: false,
    dns: { ttl: "1m", policy: "onlyIPv4" },
  });
  assertEquals(runtime, { noColor: false });
});

Deno.test("env: runtime and global variables", () => {
  const { runtime } = readEnvConfig({
    K6_NO_THRESHOLDS: "true",
    K6_SUMMARY_MODE: "full",
    K6_SUMMARY_EXPORT: "s.json",
    K6_INCLUDE_SYSTEM_ENV_VARS: "false",
    K6_CONFIG: "/x.json",
    K6_LOG_OUTPUT: "stdout",
    K6_LOG_FORMAT: "json",
    NO_COLOR: "",
  });
  assertEquals(runtime, {
    noThresholds: true,
    summaryMode: "full",
    summaryExport: "s.json",
    includeSystemEnvVars: false,
    config: "/x.json",
    logOutput: "stdout",
    logFormat: "json",
    noColor: true,
  });
  assertEquals(readEnvConfig({ K6_NO_COLOR: "" }).runtime.noColor, false);
  assertEquals(readEnvConfig({ K6_NO_COLOR: "1" }).runtime.noColor, true);
  assertEquals(readEnvConfig({ K6_NO_SUMMARY: "true" }).runtime.summaryMode, "disabled");
  assertEquals(readEnvConfig({ K6_HTTP_DEBUG: "yes" }).options.httpDebug, "headers");
  assertEquals(readEnvConfig({ K6_VUS: "" }).options, {}, "empty means unset");
});

Deno.test("env: bad option values name the variable and value, exit 104", () => {
  const cases: [Record<string, string>, string][] = [
    [
      { K6_VUS: "abc" },
      'invalid environment variable K6_VUS="abc": expected an integer (strconv.ParseInt: parsing "abc": invalid syntax)',
    ],
    [
      { K6_DURATION: "10x" },
      'invalid environment variable K6_DURATION="10x": expected a duration like "30s" or a number of milliseconds',
    ],
    [
      { K6_THROW: "yes" },
      'invalid environment variable K6_THROW="yes": expected a boolean (strconv.ParseBool: parsing "yes": invalid syntax)',
    ],
    [
      { K6_STAGES: "30s:10,1x:0" },
      'invalid environment variable K6_STAGES="30s:10,1x:0": time: unknown unit "x" in duration "1x"',
    ],
    [
      { K6_TAGS: "team=core" },
      'invalid environment variable K6_TAGS="team=core": invalid map item "team=core", expected key:value',
    ],
  ];
  for (const [env, message] of cases) {
    const err = assertThrows(() => readEnvConfig(env), SpateError);
    assertEquals(err.message, message);
    assertEquals(err.exitCode, 104);
  }
});

Deno.test("env: bad runtime values fail like k6 (exit 255)", () => {
  const err = assertThrows(() => readEnvConfig({ K6_NO_THRESHOLDS: "maybe" }), SpateError);
  assertEquals(
    err.message,
    "env var 'K6_NO_THRESHOLDS' is not a valid boolean value: strconv.ParseBool: parsing \"maybe\": invalid syntax",
  );
  assertEquals(err.exitCode, 255);
  const mode = assertThrows(() => readEnvConfig({ K6_SUMMARY_MODE: "legacy" }), SpateError);
  assertEquals(mode.exitCode, 255);
});
