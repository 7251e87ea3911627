import { assert, assertEquals, assertMatch, assertStringIncludes } from "../_assert.ts";
import { startFakeIngest } from "../output/cloud/_fake_ingest.ts";
import { startInfluxd } from "../output/_servers.ts";
import { root, runCli, tempDir, withTarget } from "./_cli.ts";

const script = `import http from "k6/http";
import { check, sleep } from "k6";
export const options = { thresholds: { http_req_duration: ["p(95)<5000"] } };
export default function () {
  const res = http.get(__ENV.TARGET + "/get");
  check(res, { "is 200": (r) => r.status === 200 });
  sleep(0.01);
}`;

/** JSON output lines of one metric. */
async function jsonPoints(path: string, metric: string): Promise<Array<Record<string, unknown>>> {
  const lines = (await Deno.readTextFile(path)).trimEnd().split("\n").map((l) => JSON.parse(l));
  return lines.filter((l) => l.type === "Point" && l.metric === metric);
}

Deno.test("--out cloud: the strict fake receives what the run's own JSON output recorded", async () => {
  const t = await tempDir({ "s.js": script });
  const ingest = await startFakeIngest();
  try {
    await withTarget(async (base) => {
      const r = await runCli([
        "run",
        "-u",
        "2",
        "-i",
        "20",
        "--out",
        "cloud",
        "--out",
        `json=${t.path("o.json")}`,
        t.path("s.js"),
      ], {
        env: { TARGET: base, K6_CLOUD_HOST: ingest.url, K6_CLOUD_TOKEN: "test-token" },
      });
      assertEquals(r.code, 0, r.stderr);
      assertMatch(r.stdout, /output: cloud \(\S+\), json \(/);
      assertEquals(ingest.received.errors, []);
      assertEquals(ingest.received.creates.length, 1);
      assertEquals(ingest.received.finishes.length, 1);
      assertEquals(ingest.received.finishes[0].body.run_status, 3);
      assertEquals(ingest.received.finishes[0].body.result_status, 0);

      const reqs = await jsonPoints(t.path("o.json"), "http_reqs");
      assertEquals(reqs.length, 20);
      let counterTotal = 0;
      let histogramCount = 0;
      const labelNames = new Set<string>();
      for (const push of ingest.received.pushes) {
        for (const m of push.metricSet.metrics ?? []) {
          for (const ts of m.timeSeries ?? []) {
            if (m.name === "http_reqs") {
              for (const l of ts.labels ?? []) labelNames.add(l.name ?? "");
              for (const v of ts.counterSamples?.values ?? []) counterTotal += Number(v.value);
            }
            if (m.name === "http_req_duration") {
              for (const v of ts.trendHdrSamples?.values ?? []) histogramCount += Number(v.count);
            }
          }
        }
      }
      assertEquals(counterTotal, reqs.length);
      assertEquals(histogramCount, reqs.length);
      for (const name of ["method", "status", "url", "scenario", "group"]) {
        assert(labelNames.has(name), `series label ${name} (got ${[...labelNames]})`);
      }
    });
  } finally {
    await ingest.close();
    await t.cleanup();
  }
});

Deno.test("--out cloud: SIGINT finishes the run as aborted by the user", async () => {
  const t = await tempDir({
    "s.js": `import http from "k6/http";
import { sleep } from "k6";
export const options = { vus: 2, duration: "30s" };
export default function () { http.get(__ENV.TARGET + "/get"); sleep(0.05); }`,
  });
  const ingest = await startFakeIngest();
  try {
    await withTarget(async (base) => {
      const r = await runCli(["run", "-q", "--out", "cloud", t.path("s.js")], {
        env: { TARGET: base, K6_CLOUD_HOST: ingest.url, K6_CLOUD_TOKEN: "test-token" },
        interruptAfterMs: 2000,
      });
      assertEquals(r.code, 105, r.stderr);
      assertEquals(ingest.received.finishes.length, 1);
      assertEquals(ingest.received.finishes[0].body.run_status, 5);
      assertEquals(ingest.received.errors, []);
    });
  } finally {
    await ingest.close();
    await t.cleanup();
  }
});

Deno.test("--out influxdb: a real influxd stores one point per sample the run emitted", async () => {
  const t = await tempDir({ "s.js": script });
  const influx = await startInfluxd();
  try {
    await withTarget(async (base) => {
      const r = await runCli([
        "run",
        "-q",
        "-i",
        "15",
        "--out",
        `influxdb=${influx.url}/spate_e2e`,
        "--out",
        `json=${t.path("o.json")}`,
        t.path("s.js"),
      ], { env: { TARGET: base } });
      assertEquals(r.code, 0, r.stderr);
      const res = await influx.query('SELECT count("value") FROM "http_reqs"', "spate_e2e");
      const count = res.results[0].series?.[0].values[0][1];
      assertEquals(count, (await jsonPoints(t.path("o.json"), "http_reqs")).length);
      assertEquals(count, 15);
    });
  } finally {
    await influx.stop();
    await t.cleanup();
  }
});

Deno.test("a custom output module loaded by path receives the run's samples", async () => {
  const t = await tempDir({
    "s.js": `export default function () {}`,
    "my_output.ts": `export default (params) => {
  const counts = {};
  return {
    description: () => "mine (" + params.configArgument + ")",
    start: async () => {},
    addMetricSamples: (samples) => {
      for (const s of samples) counts[s.metric.name] = (counts[s.metric.name] ?? 0) + 1;
    },
    stop: async (err) => {
      await Deno.writeTextFile(params.configArgument, JSON.stringify({ counts, err }));
    },
  };
};`,
  });
  try {
    const r = await runCli([
      "run",
      "-i",
      "7",
      "--out",
      `${t.path("my_output.ts")}=${t.path("seen.json")}`,
      t.path("s.js"),
    ]);
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, `output: mine (${t.path("seen.json")})`);
    const seen = JSON.parse(await Deno.readTextFile(t.path("seen.json")));
    assertEquals(seen.counts.iterations, 7);
    assertEquals(seen.err, null);
  } finally {
    await t.cleanup();
  }
});

Deno.test("deno bundle output runs a script with an empty DENO_DIR and no registry access", async () => {
  const t = await tempDir({
    "s.js": `import http from "k6/http";
import { check } from "k6";
import ws from "k6/ws";
export default function () {
  const r = http.get(__ENV.TARGET + "/");
  // k6/html and k6/ws are dynamic imports (npm packages) the bundle must carry.
  const w = ws.connect(__ENV.TARGET.replace("http", "ws") + "/ws", (s) => s.on("open", () => s.close()));
  check(r, { ok: (r) => r.status === 200 && r.html("h1").text() === "spate demo target" && w.status === 101 });
}`,
  });
  try {
    const bundle = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--platform", "deno", "-o", t.path("spate.js"), `${root}cli.ts`],
      cwd: root,
      stdout: "null",
      stderr: "piped",
    }).output();
    assert(bundle.success, new TextDecoder().decode(bundle.stderr));
    const denoDir = await Deno.makeTempDir({ prefix: "spate-empty-deno-dir-" });
    try {
      await withTarget(async (base) => {
        const out = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "--cached-only",
            "--no-config",
            "spate.js",
            "run",
            "-q",
            "-i",
            "3",
            "--out",
            "csv=o.csv",
            "s.js",
          ],
          cwd: t.dir,
          env: {
            DENO_DIR: denoDir,
            TARGET: base,
            NO_COLOR: "1",
            NPM_CONFIG_REGISTRY: "http://127.0.0.1:9/",
          },
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stdout = new TextDecoder().decode(out.stdout);
        assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
        assertStringIncludes(stdout, "✓ ok");
        const csv = await Deno.readTextFile(t.path("o.csv"));
        assertEquals(csv.split("\n").filter((l) => l.startsWith("http_reqs,")).length, 3);
      });
    } finally {
      await Deno.remove(denoDir, { recursive: true });
    }
  } finally {
    await t.cleanup();
  }
});

Deno.test("samples an output could not deliver are reported in a warning and in the summary", async () => {
  const t = await tempDir({
    "s.js": `export default function () {}`,
    "lossy.ts": `export default () => ({
  description: () => "lossy",
  start: async () => {},
  addMetricSamples: () => {},
  stop: async () => {},
  stats: () => ({ droppedSamples: 7, note: "the sink went away" }),
});`,
  });
  try {
    const r = await runCli(["run", "-i", "2", "--out", t.path("lossy.ts"), t.path("s.js")]);
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(
      r.stderr,
      `output ${t.path("lossy.ts")} could not deliver 7 samples: the sink went away`,
    );
    assertStringIncludes(r.stdout, "█ OUTPUTS");
    assertStringIncludes(r.stdout, "7 samples not delivered (the sink went away)");
  } finally {
    await t.cleanup();
  }
});

Deno.test("spate login cloud stores the token (0600) and --out cloud uses it", async () => {
  const t = await tempDir({
    "s.js": `export default function () {}`,
  });
  const ingest = await startFakeIngest();
  try {
    const env = { XDG_CONFIG_HOME: t.path("cfg"), K6_CLOUD_HOST: ingest.url };
    const login = await runCli(["login", "cloud", "--token", "test-token"], { env });
    assertEquals(login.code, 0, login.stderr);
    assert(!login.stdout.includes("test-token"), "the token is not printed without --show");
    const path = t.path("cfg/spate/config.json");
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    const stored = JSON.parse(await Deno.readTextFile(path));
    assertEquals(stored.collectors.cloud.token, "test-token");
    assertEquals(ingest.received.authChecks.length, 1);

    const run = await runCli(["run", "-q", "-i", "1", "--out", "cloud", t.path("s.js")], { env });
    assertEquals(run.code, 0, run.stderr);
    assertEquals(ingest.received.creates.length, 1);
    assertEquals(ingest.received.creates[0].headers.authorization, "Token test-token");

    const bad = await runCli(["login", "cloud", "--token", "wrong"], { env });
    assertEquals(bad.code, 104, bad.stderr);
    assertStringIncludes(bad.stderr, "invalid token");
  } finally {
    await ingest.close();
    await t.cleanup();
  }
});
