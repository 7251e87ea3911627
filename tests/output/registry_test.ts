import { assert, assertEquals, assertRejects, assertStringIncludes } from "../_assert.ts";
import { SpateError } from "../../lib/errors.ts";
import { OutputManager } from "../../lib/output/manager.ts";
import {
  availableOutputTypes,
  type BaseOutputParams,
  createOutputs,
  isModuleOutput,
  moduleOutputURL,
  resolveOutputFactory,
} from "../../lib/output/registry.ts";
import type { CsvOutput } from "../../lib/output/csv.ts";
import { JsonOutput } from "../../lib/output/json.ts";
import type { Threshold } from "../../lib/output/types.ts";
import { captureLogger, fixedSamples, testParams } from "./_fixtures.ts";

function base(logger = captureLogger().logger): BaseOutputParams {
  const { outputType: _t, configArgument: _c, jsonConfig: _j, ...rest } = testParams({ logger });
  return rest;
}

const available = "cloud, csv, datadog, experimental-opentelemetry, experimental-prometheus-rw, " +
  "influxdb, json, opentelemetry, output-statsd, statsd, timescaledb";

Deno.test("available output types are sorted and leave out removed names", () => {
  assertEquals(availableOutputTypes().join(", "), available);
});

Deno.test("an unknown output type fails with k6's message and exit code 255", async () => {
  const err = await assertRejects(
    () => createOutputs([{ name: "nope", arg: "" }], base(), {}),
    SpateError,
  );
  assertEquals(err.message, `invalid output type 'nope', available types are: ${available}`);
  assertEquals(err.kind, "output");
  assertEquals(err.exitCode, 255);
});

Deno.test("createOutputs builds outputs in order with argument, collectors block and thresholds", async () => {
  const thresholds = new Map<string, readonly Threshold[]>([["checks", []]]);
  const outputs = await createOutputs(
    [{ name: "json", arg: "a.json" }, { name: "csv", arg: "" }, { name: "json", arg: "" }],
    base(),
    { csv: { file_name: "from-config.csv", save_interval: "3s" } },
    { thresholds },
  );
  assertEquals(outputs.map((o) => o.name), ["json", "csv", "json"]);
  assert(outputs[0].output instanceof JsonOutput);
  assertEquals(outputs[0].output.description(), "json (a.json)");
  const csv = outputs[1].output as CsvOutput;
  assertEquals(csv.config, { fileName: "from-config.csv", saveInterval: 3000, timeFormat: "unix" });
  assertEquals(outputs[2].output.description(), "json(stdout)");
});

Deno.test("factory errors read `could not create the '<name>' output: ...`", async () => {
  const err = await assertRejects(
    () => createOutputs([{ name: "csv", arg: "file=x.csv" }], base(), {}),
    SpateError,
  );
  assertEquals(
    err.message,
    `could not create the 'csv' output: unknown key "file" as argument for csv output`,
  );
  assertEquals(err.exitCode, 255);
  const kafka = await assertRejects(
    () => createOutputs([{ name: "kafka", arg: "" }], base(), {}),
    SpateError,
  );
  assertStringIncludes(kafka.message, "could not create the 'kafka' output: the kafka output was");
});

Deno.test("the experimental-opentelemetry alias logs a deprecation warning", async () => {
  const { logger, lines } = captureLogger();
  const factory = await resolveOutputFactory("experimental-opentelemetry", logger);
  assertEquals(typeof factory, "function");
  assertEquals(lines.length, 1);
  assertStringIncludes(lines[0], 'You can now use just "opentelemetry"');
});

Deno.test("module output names: paths and script extensions", () => {
  for (const name of ["./o.ts", "../o.js", "/abs/o.mjs", "file:///x/o.ts", "o.ts", "dir/o.js"]) {
    assert(isModuleOutput(name), name);
  }
  for (const name of ["json", "csv", "experimental-prometheus-rw", "my.out"]) {
    assert(!isModuleOutput(name), name);
  }
  assertEquals(moduleOutputURL("./o.ts", "/work/dir"), "file:///work/dir/o.ts");
  assertEquals(moduleOutputURL("../o.ts", "/work/dir/"), "file:///work/o.ts");
  assertEquals(moduleOutputURL("/abs/my output.ts", "/w"), "file:///abs/my%20output.ts");
  assertEquals(moduleOutputURL("file:///x/o.ts", "/w"), "file:///x/o.ts");
});

Deno.test("a custom output module loaded by path runs end to end", async () => {
  const { logger, lines } = captureLogger();
  const path = new URL("../../examples/outputs/console_counter.ts", import.meta.url).pathname;
  const outputs = await createOutputs([{ name: path, arg: "top=2" }], base(logger), {});
  assertEquals(outputs[0].name, path);
  const manager = new OutputManager(outputs, { logger });
  await manager.start();
  assertEquals(manager.descriptions(), ["console counter"]);
  const samples = fixedSamples();
  manager.push(samples);
  manager.push(samples.slice(0, 2));
  await manager.stop(null);
  assertEquals(lines, [
    "console counter: 8 samples",
    "console counter: http_req_duration 2",
    "console counter: http_reqs 2",
  ]);
});

Deno.test("a relative module path resolves against the working directory", async () => {
  const dir = await Deno.makeTempDir();
  const cwd = Deno.cwd();
  try {
    await Deno.writeTextFile(
      `${dir}/mine.ts`,
      `export default (p) => ({ description: () => "mine " + p.configArgument,
        start: async () => {}, addMetricSamples: () => {}, stop: async () => {} });`,
    );
    await Deno.writeTextFile(`${dir}/nodefault.js`, "export const x = 1;");
    await Deno.writeTextFile(`${dir}/notanoutput.js`, "export default () => 42;");
    Deno.chdir(dir);
    const [mine] = await createOutputs([{ name: "./mine.ts", arg: "x=1" }], base(), {});
    assertEquals(mine.output.description(), "mine x=1");

    const noDefault = await assertRejects(
      () => createOutputs([{ name: "./nodefault.js", arg: "" }], base(), {}),
      SpateError,
    );
    assertStringIncludes(
      noDefault.message,
      "the output module './nodefault.js' has no default export of an output factory",
    );
    const notOutput = await assertRejects(
      () => createOutputs([{ name: "notanoutput.js", arg: "" }], base(), {}),
      SpateError,
    );
    assertEquals(
      notOutput.message,
      "could not create the 'notanoutput.js' output: the factory did not return an output object",
    );
    const missing = await assertRejects(
      () => createOutputs([{ name: "./missing.ts", arg: "" }], base(), {}),
      SpateError,
    );
    assertStringIncludes(missing.message, "could not load the output module './missing.ts': ");
  } finally {
    Deno.chdir(cwd);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unwritable --out csv path stops the run at start with one clear line", async () => {
  const outputs = await createOutputs(
    [{ name: "json", arg: "" }, { name: "csv", arg: "/nonexistent-dir/r.csv" }],
    base(),
    {},
  );
  const manager = new OutputManager(outputs, { logger: captureLogger().logger });
  const err = await assertRejects(() => manager.start(), SpateError);
  assertEquals(
    err.message,
    "could not start the 'csv' output: could not create the file " +
      '"/nonexistent-dir/r.csv": No such file or directory (os error 2)',
  );
  assertEquals(err.exitCode, 255);
});
