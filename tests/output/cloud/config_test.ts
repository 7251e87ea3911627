import { assertEquals, assertThrows } from "../../_assert.ts";
import { SpateError } from "../../../lib/errors.ts";
import {
  applyServerOverride,
  mergeCloudSources,
  resolveCloudConfig,
} from "../../../lib/output/cloud/config.ts";
import { captureLogger } from "./_helpers.ts";

Deno.test("config: defaults (v2) and name from the script path", () => {
  const c = resolveCloudConfig({ env: { K6_CLOUD_TOKEN: "t" }, scriptPath: "/a/b/script.js" });
  assertEquals(c.name, "script.js");
  assertEquals(c.host, "https://ingest.k6.io");
  assertEquals(c.aggregationPeriod, 3000);
  assertEquals(c.aggregationWaitPeriod, 8000);
  assertEquals(c.maxTimeSeriesInBatch, 1000);
  assertEquals(c.metricPushInterval, 1000);
  assertEquals(c.timeout, 60000);
  assertEquals(c.apiVersion, 2);
  assertEquals(c.tracesEnabled, true);
});

Deno.test("config: precedence file < script < env < --out arg", () => {
  const c = resolveCloudConfig({
    fileConfig: {
      token: "file-token",
      projectID: 1,
      name: "file",
      host: "http://file",
      timeout: "5s",
    },
    scriptOptions: {
      cloud: { projectID: 2, name: "script", token: "script-token", host: "http://ignored" },
    },
    env: { K6_CLOUD_PROJECT_ID: "3", K6_CLOUD_TIMEOUT: "2s" },
    outArgument: "from-arg",
    scriptPath: "/x/s.js",
  });
  assertEquals(c.token, "script-token");
  assertEquals(c.projectID, 3);
  assertEquals(c.name, "from-arg");
  // host is not taken from options.cloud (only projectID, name, token, stackID are)
  assertEquals(c.host, "http://file");
  assertEquals(c.timeout, 2000);
});

Deno.test("config: apply semantics (projectID 0, empty name, first stackURL wins)", () => {
  const layer = mergeCloudSources({
    fileConfig: { token: "t", projectID: 5, name: "keep", stackURL: "https://a.grafana.net" },
    env: {
      K6_CLOUD_PROJECT_ID: "0",
      K6_CLOUD_NAME: "",
      K6_CLOUD_STACK_URL: "https://b.grafana.net",
    },
  });
  assertEquals(layer.projectID, 5);
  assertEquals(layer.name, "keep");
  assertEquals(layer.stackURL, "https://a.grafana.net");
});

Deno.test("config: legacy options.ext.loadimpact with a warning", () => {
  const { logger, lines } = captureLogger();
  const c = resolveCloudConfig({
    scriptOptions: { ext: { loadimpact: { projectID: 9, name: "legacy", token: "lt" } } },
    logger,
  });
  assertEquals([c.projectID, c.name, c.token], [9, "legacy", "lt"]);
  assertEquals(lines.length, 1);
  assertEquals(JSON.parse(lines[0]).level, "warning");
});

Deno.test("config: all legacy K6_CLOUD_AGGREGATION_* variables and v1 defaults", () => {
  const v1 = resolveCloudConfig({
    env: { K6_CLOUD_TOKEN: "t", K6_CLOUD_API_VERSION: "1" },
    scriptPath: "s.js",
  });
  assertEquals(v1.aggregationPeriod, 0);
  assertEquals(v1.aggregationWaitPeriod, 5000);
  assertEquals(v1.aggregationMinSamples, 25);
  assertEquals(v1.aggregationOutlierAlgoThreshold, 75);
  assertEquals(v1.aggregationOutlierIqrRadius, 0.25);
  assertEquals(v1.aggregationOutlierIqrCoefLower, 1.5);
  assertEquals(v1.aggregationOutlierIqrCoefUpper, 1.3);
  const c = resolveCloudConfig({
    env: {
      K6_CLOUD_TOKEN: "t",
      K6_CLOUD_API_VERSION: "1",
      K6_CLOUD_AGGREGATION_PERIOD: "5s",
      K6_CLOUD_AGGREGATION_WAIT_PERIOD: "1s",
      K6_CLOUD_AGGREGATION_CALC_INTERVAL: "2s",
      K6_CLOUD_AGGREGATION_MIN_SAMPLES: "10",
      K6_CLOUD_AGGREGATION_SKIP_OUTLIER_DETECTION: "true",
      K6_CLOUD_AGGREGATION_OUTLIER_ALGO_THRESHOLD: "50",
      K6_CLOUD_AGGREGATION_OUTLIER_IQR_RADIUS: "0.3",
      K6_CLOUD_AGGREGATION_OUTLIER_IQR_COEF_LOWER: "2",
      K6_CLOUD_AGGREGATION_OUTLIER_IQR_COEF_UPPER: "2.5",
      K6_CLOUD_MAX_METRIC_SAMPLES_PER_PACKAGE: "7",
      K6_CLOUD_NO_COMPRESS: "1",
    },
    scriptPath: "s.js",
  });
  assertEquals(
    [
      c.aggregationPeriod,
      c.aggregationWaitPeriod,
      c.aggregationCalcInterval,
      c.aggregationMinSamples,
    ],
    [5000, 1000, 2000, 10],
  );
  assertEquals(c.aggregationSkipOutlierDetection, true);
  assertEquals(
    [
      c.aggregationOutlierAlgoThreshold,
      c.aggregationOutlierIqrRadius,
      c.aggregationOutlierIqrCoefLower,
      c.aggregationOutlierIqrCoefUpper,
    ],
    [50, 0.3, 2, 2.5],
  );
  assertEquals([c.maxMetricSamplesPerPackage, c.noCompress], [7, true]);
});

Deno.test("config: durations accept Go syntax, days and bare milliseconds", () => {
  const c = resolveCloudConfig({
    fileConfig: { token: "t", metricPushInterval: 250, timeout: "1m30s" },
    env: { K6_CLOUD_AGGREGATION_WAIT_PERIOD: "1d", K6_CLOUD_TRACES_PUSH_INTERVAL: "1500" },
    scriptPath: "s.js",
  });
  assertEquals([c.metricPushInterval, c.timeout, c.aggregationWaitPeriod, c.tracesPushInterval], [
    250,
    90000,
    86400000,
    1500,
  ]);
});

Deno.test("config: server override applies on top, field by field", () => {
  const local = mergeCloudSources({
    env: { K6_CLOUD_TOKEN: "t", K6_CLOUD_METRIC_PUSH_INTERVAL: "2s" },
  });
  const c = applyServerOverride(local, {
    aggregationPeriod: "5s",
    maxTimeSeriesInBatch: 10,
    webAppURL: "https://app.example",
    projectID: 0,
    name: null,
  }, { scriptPath: "s.js" });
  assertEquals([c.aggregationPeriod, c.maxTimeSeriesInBatch, c.metricPushInterval], [
    5000,
    10,
    2000,
  ]);
  assertEquals(c.webAppURL, "https://app.example");
});

function configError(src: Parameters<typeof resolveCloudConfig>[0]): string {
  const err = assertThrows(() => resolveCloudConfig({ scriptPath: "s.js", ...src }), SpateError);
  assertEquals(err.kind, "invalid-config");
  return err.message;
}

Deno.test("config: validation errors name the field and value, never the token", () => {
  assertEquals(
    configError({ env: { K6_CLOUD_TOKEN: "t", K6_CLOUD_METRIC_PUSH_INTERVAL: "-1s" } }),
    "invalid cloud option metricPushInterval: -1000ms must not be negative",
  );
  assertEquals(
    configError({ env: { K6_CLOUD_TOKEN: "t", K6_CLOUD_PROJECT_ID: "abc" } }),
    'invalid value "abc" for cloud option K6_CLOUD_PROJECT_ID: expected int',
  );
  assertEquals(
    configError({ env: {} }),
    'cloud output: no token configured (token): set K6_CLOUD_TOKEN, options.cloud.token or run "spate cloud login"',
  );
  assertEquals(
    configError({ env: { K6_CLOUD_TOKEN: "t", K6_CLOUD_AGGREGATION_PERIOD: "1500ms" } }),
    "invalid cloud option aggregationPeriod: 1500ms must be a positive whole number of seconds",
  );
  assertEquals(
    configError({ env: { K6_CLOUD_TOKEN: "t", K6_CLOUD_MAX_TIME_SERIES_IN_BATCH: "0" } }),
    "invalid cloud option maxTimeSeriesInBatch: 0 must be at least 1",
  );
  assertEquals(
    configError({ env: { K6_CLOUD_TOKEN: "t", K6_CLOUD_METRIC_PUSH_CONCURRENCY: "0" } }),
    "invalid cloud option metricPushConcurrency: 0 must be at least 1",
  );
  assertEquals(
    configError({ env: { K6_CLOUD_TOKEN: "t", K6_CLOUD_STOP_ON_ERROR: "yes" } }),
    'invalid value "yes" for cloud option K6_CLOUD_STOP_ON_ERROR: expected bool',
  );
  assertEquals(
    configError({ fileConfig: { token: 12345 } }),
    "invalid value (hidden) for cloud option config file collectors.cloud token: expected string",
  );
  assertEquals(
    configError({ env: { K6_CLOUD_TOKEN: "t", K6_CLOUD_TIMEOUT: "soon" } }),
    'invalid duration "soon" for cloud option K6_CLOUD_TIMEOUT',
  );
});

Deno.test("config: name '-' becomes 'k6 test'; missing script path is an error", () => {
  assertEquals(
    resolveCloudConfig({ env: { K6_CLOUD_TOKEN: "t" }, scriptPath: "-" }).name,
    "k6 test",
  );
  const err = assertThrows(() => resolveCloudConfig({ env: { K6_CLOUD_TOKEN: "t" } }), SpateError);
  assertEquals(
    err.message,
    "script name not set, please specify K6_CLOUD_NAME or options.cloud.name",
  );
});
