import { gunzipSync } from "node:zlib";
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../_assert.ts";
import { SpateError } from "../../lib/errors.ts";
import csvFactory, {
  csvConfig,
  CsvEncoder,
  type CsvOutput,
  type CsvTimeFormat,
} from "../../lib/output/csv.ts";
import { defaultSystemTags } from "../../lib/output/_options.ts";
import { captureLogger, decoder, fixedSamples, testParams, withTZ } from "./_fixtures.ts";

const header =
  "metric_name,timestamp,metric_value,check,error,error_code,expected_response,group,method," +
  "name,proto,scenario,service,status,subproto,tls_version,url,extra_tags,metadata\n";

const url = "http://127.0.0.1/x?a=1&b=2";
const httpCols = `,,,,true,,GET,${url},HTTP/1.1,default,,200,,,${url},testid=abc,`;

/** The fixed sample set as k6 writes it with the default system tags. */
function expectedRows(ts: [string, string, string, string, string, string]): string {
  return [
    `http_reqs,${ts[0]},1.000000${httpCols}`,
    `http_req_duration,${ts[1]},221.899000${httpCols}vu=3&iter=12`,
    `checks,${ts[2]},0.000000,"status is ""200"", really",,,,::setup,,,,default,,,,,,,`,
    `vus,${ts[3]},10.000000${",".repeat(16)}`,
    `my_trend,${ts[4]},0.000000${",".repeat(15)}" lead=x",`,
    `data_sent,${ts[5]},1048576.000000${",".repeat(16)}`,
  ].join("\n") + "\n";
}

const timestamps: Record<CsvTimeFormat, [string, string, string, string, string, string]> = {
  unix: ["1714557600", "1714557600", "1714557600", "1714557601", "1714557601", "1714557602"],
  unix_milli: [
    "1714557600123",
    "1714557600123",
    "1714557600500",
    "1714557601000",
    "1714557601000",
    "1714557602000",
  ],
  unix_micro: [
    "1714557600123456",
    "1714557600123456",
    "1714557600500000",
    "1714557601000000",
    "1714557601000001",
    "1714557602000000",
  ],
  unix_nano: [
    "1714557600123456000",
    "1714557600123456000",
    "1714557600500000000",
    "1714557601000000000",
    "1714557601000001000",
    "1714557602000000000",
  ],
  rfc3339: [
    "2024-05-01T10:00:00Z",
    "2024-05-01T10:00:00Z",
    "2024-05-01T10:00:00Z",
    "2024-05-01T10:00:01Z",
    "2024-05-01T10:00:01Z",
    "2024-05-01T10:00:02Z",
  ],
  rfc3339_nano: [
    "2024-05-01T10:00:00.123456Z",
    "2024-05-01T10:00:00.123456Z",
    "2024-05-01T10:00:00.5Z",
    "2024-05-01T10:00:01Z",
    "2024-05-01T10:00:01.000001Z",
    "2024-05-01T10:00:02Z",
  ],
};

Deno.test("CsvEncoder writes k6's header and rows in every time format", async () => {
  await withTZ("UTC", () => {
    const samples = fixedSamples();
    for (const [format, ts] of Object.entries(timestamps)) {
      const enc = new CsvEncoder(defaultSystemTags, format as CsvTimeFormat);
      assertEquals(enc.header(), header);
      assertEquals(enc.encode(samples, 0, samples.length), expectedRows(ts), format);
    }
  });
});

Deno.test("CsvEncoder rfc3339 uses the local offset", async () => {
  await withTZ("Asia/Kolkata", () => {
    const enc = new CsvEncoder([], "rfc3339_nano");
    const [first] = fixedSamples();
    assertEquals(
      enc.encode([first], 0, 1),
      "http_reqs,2024-05-01T15:30:00.123456+05:30,1.000000," +
        `expected_response=true&group=&method=GET&name=${url}&proto=HTTP/1.1&scenario=default&` +
        `status=200&testid=abc&url=${url},\n`,
    );
  });
});

Deno.test("CsvEncoder columns follow the enabled system tags; vu/iter stay metadata", () => {
  const enc = new CsvEncoder(["status", "proto", "vu", "iter", "ip"], "unix");
  assertEquals(
    enc.header(),
    "metric_name,timestamp,metric_value,ip,proto,status,extra_tags,metadata\n",
  );
  const samples = fixedSamples();
  assertEquals(
    enc.encode(samples, 1, 2),
    "http_req_duration,1714557600,221.899000,,HTTP/1.1,200," +
      `expected_response=true&group=&method=GET&name=${url}&scenario=default&testid=abc&url=${url},` +
      "vu=3&iter=12\n",
  );
});

Deno.test("csvConfig: defaults, then collectors.csv < env < argument", () => {
  assertEquals(csvConfig(undefined, {}, ""), {
    fileName: "file.csv",
    saveInterval: 1000,
    timeFormat: "unix",
  });
  const json = { file_name: "j.csv", save_interval: "5s", time_format: "rfc3339" };
  assertEquals(csvConfig(json, {}, ""), {
    fileName: "j.csv",
    saveInterval: 5000,
    timeFormat: "rfc3339",
  });
  const env = { K6_CSV_FILENAME: "e.csv", K6_CSV_SAVE_INTERVAL: "250" };
  assertEquals(csvConfig(json, env, ""), {
    fileName: "e.csv",
    saveInterval: 250, // a bare number is milliseconds
    timeFormat: "rfc3339",
  });
  assertEquals(csvConfig(json, env, "a.csv"), {
    fileName: "a.csv",
    saveInterval: 250,
    timeFormat: "rfc3339",
  });
  assertEquals(
    csvConfig(json, { ...env, K6_CSV_TIME_FORMAT: "unix_milli" }, "saveInterval=2s"),
    { fileName: "e.csv", saveInterval: 2000, timeFormat: "unix_milli" },
  );
  assertEquals(
    csvConfig(undefined, {}, "fileName=x.csv,saveInterval=1m30s,timeFormat=RFC3339_NANO"),
    { fileName: "x.csv", saveInterval: 90_000, timeFormat: "rfc3339_nano" },
  );
  assertEquals(csvConfig({ save_interval: 1500 }, {}, "").saveInterval, 1500);
  assertEquals(csvConfig({ save_interval: "1d" }, {}, "").saveInterval, 86_400_000);
  assertEquals(csvConfig({ file_name: null }, {}, "").fileName, "file.csv");
});

Deno.test("csvConfig: stdout for '-' and an empty file name", () => {
  assertEquals(csvConfig(undefined, {}, "-").fileName, "-");
  assertEquals(csvConfig(undefined, { K6_CSV_FILENAME: "" }, "").fileName, "-");
});

Deno.test("csvConfig: errors name the bad key or value", () => {
  const cases: Array<[unknown, Record<string, string>, string, string]> = [
    [undefined, {}, "fileName=", `couldn't parse "fileName=" as argument for csv output`],
    [
      undefined,
      {},
      "fileName=x.csv,c",
      `couldn't parse "fileName=x.csv,c" as argument for csv output`,
    ],
    [undefined, {}, "file=x.csv", `unknown key "file" as argument for csv output`],
    [
      undefined,
      {},
      "timeFormat=iso",
      `csv output: timeFormat "iso" does not belong to TimeFormat values (unix, unix_milli, ` +
      "unix_micro, unix_nano, rfc3339, rfc3339_nano)",
    ],
    [
      undefined,
      { K6_CSV_SAVE_INTERVAL: "10x" },
      "",
      `invalid duration "10x" for K6_CSV_SAVE_INTERVAL`,
    ],
    [{ save_interval: true }, {}, "", "invalid duration true for collectors.csv.save_interval"],
    ["x.csv", {}, "", 'collectors.csv must be an object, got "x.csv"'],
  ];
  for (const [json, env, arg, message] of cases) {
    const err = assertThrows(() => csvConfig(json, env, arg), SpateError);
    assertEquals(err.message, message);
  }
});

async function runCsv(arg: string, env: Record<string, string> = {}) {
  const { logger, lines } = captureLogger();
  const output = await csvFactory(testParams({ configArgument: arg, env, logger })) as CsvOutput;
  await output.start();
  const samples = fixedSamples();
  output.addMetricSamples(samples.slice(0, 3));
  output.addMetricSamples(samples.slice(3));
  await output.stop(null);
  return { output, lines };
}

Deno.test("csv output writes the exact file, and the same content gzipped", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withTZ("UTC", async () => {
      const plain = `${dir}/out.csv`;
      const { output } = await runCsv(`fileName=${plain},timeFormat=rfc3339_nano`);
      assertEquals(output.description(), `csv (${plain})`);
      assertEquals(await Deno.readTextFile(plain), header + expectedRows(timestamps.rfc3339_nano));
      assertEquals(output.stats(), { droppedSamples: 0 });

      const gz = `${dir}/out.csv.gz`;
      await runCsv(gz, { K6_CSV_TIME_FORMAT: "unix_micro" });
      const bytes = await Deno.readFile(gz);
      assertEquals([bytes[0], bytes[1]], [0x1f, 0x8b]);
      assertEquals(decoder.decode(gunzipSync(bytes)), header + expectedRows(timestamps.unix_micro));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("csv output to stdout with '-'", async () => {
  const chunks: Uint8Array[] = [];
  const output = await csvFactory(testParams({
    configArgument: "-",
    stdout: (b) => {
      chunks.push(b.slice());
      return Promise.resolve();
    },
  }));
  assertEquals(output.description(), "csv (stdout)");
  await output.start();
  output.addMetricSamples(fixedSamples());
  await output.stop(null);
  const text = chunks.map((c) => decoder.decode(c)).join("");
  assertEquals(text, header + expectedRows(timestamps.unix));
});

Deno.test("csv output flushes every saveInterval", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/periodic.csv`;
    const output = await csvFactory(
      testParams({ configArgument: `fileName=${file},saveInterval=30ms` }),
    );
    await output.start();
    output.addMetricSamples(fixedSamples().slice(0, 1));
    await new Promise((r) => setTimeout(r, 120));
    const mid = await Deno.readTextFile(file);
    assert(mid.startsWith(header + "http_reqs,"), "flushed before stop");
    await output.stop(null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("csv output: unwritable path fails at start with the path in the message", async () => {
  const output = await csvFactory(testParams({ configArgument: "/nonexistent-dir/sub/out.csv" }));
  const err = await assertRejects(() => output.start(), SpateError);
  assertEquals(
    err.message,
    'could not create the file "/nonexistent-dir/sub/out.csv": No such file or directory (os error 2)',
  );
});

Deno.test("csv output: a full disk is detected at start (header write)", async () => {
  const output = await csvFactory(testParams({ configArgument: "/dev/full" }));
  const err = await assertRejects(() => output.start(), SpateError);
  assertStringIncludes(err.message, 'could not write to "/dev/full"');
});

Deno.test("csv output: a zero saveInterval fails at start", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const output = await csvFactory(
      testParams({ configArgument: `fileName=${dir}/x.csv,saveInterval=0` }),
    );
    await assertRejects(
      () => output.start(),
      SpateError,
      "metric flush period should be positive but was 0s",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
