import { gunzipSync } from "node:zlib";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../_assert.ts";
import { SpateError } from "../../lib/errors.ts";
import jsonFactory, {
  JsonEncoder,
  type JsonOutput,
  parseSubmetric,
} from "../../lib/output/json.ts";
import type { Threshold } from "../../lib/output/types.ts";
import {
  captureLogger,
  decoder,
  fixedSamples,
  pool,
  registry,
  t0,
  testParams,
  withTZ,
} from "./_fixtures.ts";

const th = (source: string, abortOnFail = false, delayAbortEval?: string): Threshold => ({
  source,
  abortOnFail,
  delayAbortEval,
  lastFailed: false,
});

const thresholds = new Map<string, readonly Threshold[]>([
  ["http_req_duration", [th("p(95)<500"), th("p(99)<1500", true, "90s")]],
  ["http_req_duration{status:200}", [th("avg<200")]],
  ["http_req_duration{ status: '200' }", [th("avg<300")]], // same tags: one submetric
  ["checks", [th("rate>0.9", true)]],
  ["http_reqs{method:GET,name:x}", [th("count>1")]],
]);

const url = "http://127.0.0.1/x?a=1&b=2";
const httpTags = `{"expected_response":"true","group":"","method":"GET","name":"${url}",` +
  `"proto":"HTTP/1.1","scenario":"default","status":"200","testid":"abc","url":"${url}"}`;

const expected = [
  `{"type":"Metric","data":{"name":"http_reqs","type":"counter","contains":"default",` +
  `"thresholds":[],"submetrics":[{"name":"http_reqs{method:GET,name:x}",` +
  `"suffix":"method:GET,name:x","tags":{"method":"GET","name":"x"}}]},"metric":"http_reqs"}`,
  `{"metric":"http_reqs","type":"Point","data":{"time":"2024-05-01T10:00:00.123456Z",` +
  `"value":1,"tags":${httpTags}}}`,
  `{"type":"Metric","data":{"name":"http_req_duration","type":"trend","contains":"time",` +
  `"thresholds":["p(95)<500",{"threshold":"p(99)<1500","abortOnFail":true,` +
  `"delayAbortEval":"1m30s"}],"submetrics":[{"name":"http_req_duration{status:200}",` +
  `"suffix":"status:200","tags":{"status":"200"}},{"name":` +
  `"http_req_duration{expected_response:true}","suffix":"expected_response:true",` +
  `"tags":{"expected_response":"true"}}]},"metric":"http_req_duration"}`,
  `{"metric":"http_req_duration","type":"Point","data":{"time":"2024-05-01T10:00:00.123456Z",` +
  `"value":221.899,"tags":${httpTags},"metadata":{"iter":"12","vu":"3"}}}`,
  `{"type":"Metric","data":{"name":"checks","type":"rate","contains":"default","thresholds":` +
  `[{"threshold":"rate>0.9","abortOnFail":true,"delayAbortEval":null}],"submetrics":null},` +
  `"metric":"checks"}`,
  `{"metric":"checks","type":"Point","data":{"time":"2024-05-01T10:00:00.5Z","value":0,` +
  `"tags":{"check":"status is \\"200\\", really","group":"::setup","scenario":"default"}}}`,
  `{"type":"Metric","data":{"name":"vus","type":"gauge","contains":"default","thresholds":[],` +
  `"submetrics":null},"metric":"vus"}`,
  `{"metric":"vus","type":"Point","data":{"time":"2024-05-01T10:00:01Z","value":10,"tags":{}}}`,
  `{"type":"Metric","data":{"name":"my_trend","type":"trend","contains":"time","thresholds":[],` +
  `"submetrics":null},"metric":"my_trend"}`,
  `{"metric":"my_trend","type":"Point","data":{"time":"2024-05-01T10:00:01.000001Z",` +
  `"value":1e-7,"tags":{" lead":"x"}}}`,
  `{"type":"Metric","data":{"name":"data_sent","type":"counter","contains":"data",` +
  `"thresholds":[],"submetrics":null},"metric":"data_sent"}`,
  `{"metric":"data_sent","type":"Point","data":{"time":"2024-05-01T10:00:02Z",` +
  `"value":1048576,"tags":{}}}`,
].join("\n") + "\n";

Deno.test("JsonEncoder writes Metric lines before first Points, k6 HEAD encoding", async () => {
  await withTZ("UTC", () => {
    const enc = new JsonEncoder(thresholds, {});
    const samples = fixedSamples();
    assertEquals(enc.encode(samples, 0, samples.length), expected);
    // Metric lines are written once per metric.
    assertEquals(
      enc.encode(samples, 3, 4),
      `{"metric":"vus","type":"Point","data":{"time":"2024-05-01T10:00:01Z","value":10,` +
        `"tags":{}}}\n`,
    );
  });
});

Deno.test("JsonEncoder uses the local offset", async () => {
  await withTZ("Asia/Kolkata", () => {
    const enc = new JsonEncoder(new Map(), {});
    const vus = fixedSamples()[3];
    assertStringIncludes(enc.encode([vus], 0, 1), '"time":"2024-05-01T15:30:01+05:30"');
  });
});

Deno.test("JsonEncoder: no expected_response submetric when that tag is off or both thresholds and summary are off", () => {
  const reqs = registry.get("http_req_duration")!;
  const noTag = new JsonEncoder(new Map(), { systemTags: ["status"] });
  assertStringIncludes(noTag.metricLine(reqs), '"submetrics":null');
  const off = new JsonEncoder(thresholds, { noThresholds: true, summaryMode: "disabled" });
  assertStringIncludes(off.metricLine(reqs), '"thresholds":["p(95)<500",');
  assertStringIncludes(off.metricLine(reqs), '"submetrics":null');
  const on = new JsonEncoder(new Map(), { noThresholds: true });
  assertStringIncludes(on.metricLine(reqs), '"suffix":"expected_response:true"');
});

Deno.test("parseSubmetric trims spaces and quotes like k6", () => {
  assertEquals(parseSubmetric("m", " status: '200' , url:\"a:b\" "), {
    name: "m{status: '200' , url:\"a:b\"}",
    suffix: "status: '200' , url:\"a:b\"",
    tags: { status: "200", url: "a:b" },
  });
  assertEquals(parseSubmetric("m", "flag").tags, { flag: "" });
});

Deno.test("JsonEncoder skips NaN/Inf values and counts them", async () => {
  await withTZ("UTC", () => {
    const enc = new JsonEncoder(new Map(), {});
    const vus = registry.get("vus")!;
    const text = enc.encode(
      [
        { metric: vus, tags: pool.empty, time: t0, value: NaN },
        { metric: vus, tags: pool.empty, time: t0, value: 2 },
        { metric: vus, tags: pool.empty, time: t0, value: -Infinity },
      ],
      0,
      3,
    );
    assertEquals(text.split("\n").length - 1, 2); // the Metric line and one Point
    assertStringIncludes(text, '"value":2,');
    assertEquals(enc.skipped, 2);
  });
});

async function runJson(arg: string) {
  const { logger, lines } = captureLogger();
  const output = await jsonFactory(testParams({ configArgument: arg, logger })) as JsonOutput;
  output.setThresholds(thresholds);
  await output.start();
  const samples = fixedSamples();
  output.addMetricSamples(samples.slice(0, 2));
  output.addMetricSamples(samples.slice(2));
  await output.stop(null);
  return { output, lines };
}

Deno.test("json output writes the exact file, and the same content gzipped", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withTZ("UTC", async () => {
      const { output } = await runJson(`${dir}/out.json`);
      assertEquals(output.description(), `json (${dir}/out.json)`);
      assertEquals(await Deno.readTextFile(`${dir}/out.json`), expected);
      assertEquals(output.stats(), { droppedSamples: 0 });
      await runJson(`${dir}/out.json.gz`);
      const text = decoder.decode(gunzipSync(await Deno.readFile(`${dir}/out.json.gz`)));
      assertEquals(text, expected);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("json output: `json` and `json=-` write to stdout", async () => {
  for (const arg of ["", "-"]) {
    const chunks: string[] = [];
    const output = await jsonFactory(testParams({
      configArgument: arg,
      stdout: (b) => {
        chunks.push(decoder.decode(b));
        return Promise.resolve();
      },
    }));
    assertEquals(output.description(), "json(stdout)");
    await output.start();
    output.addMetricSamples(fixedSamples().slice(3, 4));
    await output.stop(null);
    assertStringIncludes(chunks.join(""), '{"metric":"vus","type":"Point"');
  }
});

Deno.test("json output: unwritable path fails at start with the path in the message", async () => {
  const output = await jsonFactory(testParams({ configArgument: "/nonexistent-dir/o.json" }));
  const err = await assertRejects(() => output.start(), SpateError);
  assertStringIncludes(err.message, '"/nonexistent-dir/o.json"');
});

Deno.test("json output: a write error mid-run is logged once and counted, never silent", async () => {
  const { logger, lines } = captureLogger();
  const output = await jsonFactory(testParams({ configArgument: "/dev/full", logger }));
  await output.start(); // JSON writes nothing at start
  output.addMetricSamples(fixedSamples());
  await new Promise((r) => setTimeout(r, 260)); // one periodic flush (200 ms)
  output.addMetricSamples(fixedSamples());
  await output.stop(null);
  const stats = output.stats!();
  assertEquals(stats.droppedSamples, 12);
  assertStringIncludes(stats.note ?? "", "to /dev/full failed");
  assertEquals(lines.filter((l) => l === "JSON: Error writing to file").length, 1);
});

Deno.test("json output: stop after many partial writes leaves whole lines only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const name of ["big.json", "big.json.gz"]) {
      const file = `${dir}/${name}`;
      const output = await jsonFactory(testParams({ configArgument: file }));
      await output.start();
      const vus = registry.get("vus")!;
      const tags = pool.intern({ scenario: "default" });
      let n = 0;
      for (let batch = 0; batch < 5; batch++) {
        const samples = Array.from({ length: 7001 }, () => ({
          metric: vus,
          tags,
          time: t0 + n,
          value: n++,
        }));
        output.addMetricSamples(samples);
        await new Promise((r) => setTimeout(r, 60));
      }
      await output.stop(null);
      const bytes = await Deno.readFile(file);
      const text = decoder.decode(name.endsWith(".gz") ? gunzipSync(bytes) : bytes);
      assert(text.endsWith("}\n"), "last line is whole");
      const lines = text.slice(0, -1).split("\n");
      assertEquals(lines.length, n + 1);
      const values = lines.slice(1).map((l) => JSON.parse(l).data.value);
      assertEquals(values, Array.from({ length: n }, (_, i) => i));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
