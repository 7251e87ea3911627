import { assert, assertEquals, assertRejects, assertStringIncludes } from "../_assert.ts";
import { SpateError } from "../../lib/errors.ts";
import type { Threshold } from "../../lib/output/types.ts";
import timescaledb, {
  CopyEncoder,
  splitThresholdKey,
  timescaleConfig,
} from "../../lib/output/timescaledb.ts";
import { fixedSamples, testParams } from "./_service_fixtures.ts";
import { freePort, startPostgres } from "./_servers.ts";

Deno.test("timescaledb: end to end against a real PostgreSQL", async (t) => {
  const pg = await startPostgres();
  try {
    await t.step("creates the database and schema; rows per metric; thresholds", async () => {
      const p95: { -readonly [K in keyof Threshold]: Threshold[K] } = {
        source: "p(95)<200",
        abortOnFail: true,
        delayAbortEval: "10s",
        lastFailed: false,
      };
      const rate: Threshold = { source: "rate<0.01", abortOnFail: false, lastFailed: true };
      const { params, logs } = testParams("timescaledb", {
        configArgument: pg.url("k6run"),
        env: { K6_TIMESCALEDB_PUSH_INTERVAL: "50ms" },
      });
      const out = await timescaledb(params);
      out.setThresholds!(
        new Map([
          ["http_req_duration{status:200}", [p95]],
          ["http_req_failed", [rate]],
        ]),
      );
      await out.start();
      assertEquals(
        out.description(),
        `TimescaleDB (postgresql://postgres@127.0.0.1:${pg.port}/k6run, plain tables)`,
      );
      out.addMetricSamples(fixedSamples());
      await new Promise((r) => setTimeout(r, 150));
      p95.lastFailed = true; // the engine updates thresholds live
      await out.stop(null);
      assertEquals(out.stats!(), { droppedSamples: 0 });
      assertEquals(logs.filter((l) => l.includes("timescaledb")), []);
      assertEquals(
        await pg.psql("k6run", "SELECT metric, count(*) FROM samples GROUP BY 1 ORDER BY 1"),
        [
          "checks|2",
          "http_req_duration|3",
          "http_req_failed|2",
          "http_reqs|3",
          "my_counter|1",
          "vus|4",
        ].join("\n"),
      );
      assertEquals(
        await pg.psql(
          "k6run",
          "SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), value, tags " +
            "FROM samples WHERE metric = 'my_counter'",
        ),
        '2026-01-01 10:00:00.129456|2.7|{"my tag": "a,b=c d"}',
      );
      assertEquals(
        await pg.psql(
          "k6run",
          "SELECT count(*) FROM samples WHERE metric = 'http_reqs' AND tags->>'status' = '404'",
        ),
        "1",
      );
      assertEquals(
        await pg.psql(
          "k6run",
          "SELECT metric, tags, threshold, abort_on_fail, delay_abort_eval, last_failed " +
            "FROM thresholds ORDER BY id",
        ),
        [
          'http_req_duration|{"status": "200"}|p(95)<200|t|10s|t',
          "http_req_failed||rate<0.01|f||t",
        ].join("\n"),
      );
    });

    await t.step("a second run appends to the existing schema", async () => {
      const { params } = testParams("timescaledb", { configArgument: pg.url("k6run") });
      const out = await timescaledb(params);
      await out.start();
      out.addMetricSamples(fixedSamples());
      await out.stop(null);
      assertEquals(await pg.psql("k6run", "SELECT count(*) FROM samples"), "30");
    });

    await t.step("flushes of several segments arrive whole, in order and uncorrupted", async () => {
      // ~8 MB of rows per flush: several 4 MB segments, whose buffers the second flush reuses.
      // (`value` is `real`, as in the extension: exact for these integers, summed as float8.)
      const { params, logs } = testParams("timescaledb", {
        configArgument: pg.url("segments"),
        env: { K6_TIMESCALEDB_PUSH_INTERVAL: "50ms" },
      });
      const out = await timescaledb(params);
      await out.start();
      const template = fixedSamples().find((s) => s.metric.name === "http_req_duration")!;
      const batch = (from: number) =>
        Array.from({ length: 60_000 }, (_, i) => ({ ...template, value: from + i }));
      // Each batch arrives while the previous flush's COPY is still being written: a buffer
      // reused too early would corrupt rows in flight.
      for (let i = 0; i < 3; i++) {
        out.addMetricSamples(batch(i * 60_000));
        await new Promise((r) => setTimeout(r, 60));
      }
      await out.stop(null);
      assertEquals(out.stats!(), { droppedSamples: 0 });
      assertEquals(logs.filter((l) => l.includes("timescaledb")), []);
      assertEquals(
        await pg.psql(
          "segments",
          "SELECT count(*), count(DISTINCT value), min(value), max(value), sum(value::float8), " +
            "count(*) FILTER (WHERE tags->>'status' = '200') FROM samples",
        ),
        "180000|180000|0|179999|16199910000|180000",
      );
    });

    await t.step("server killed mid-run: run not slowed, undelivered counted", async () => {
      const { params, logs } = testParams("timescaledb", {
        configArgument: pg.url("midrun"),
        env: { K6_TIMESCALEDB_PUSH_INTERVAL: "50ms" },
      });
      const out = await timescaledb(params);
      await out.start();
      out.addMetricSamples(fixedSamples());
      await new Promise((r) => setTimeout(r, 200));
      await pg.kill();
      let worst = 0;
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        out.addMetricSamples(fixedSamples());
        worst = Math.max(worst, performance.now() - t0);
        await new Promise((r) => setTimeout(r, 60));
      }
      const t0 = performance.now();
      await out.stop(null);
      assert(performance.now() - t0 < 8000, `stop took ${performance.now() - t0}ms`);
      assert(worst < 20, `addMetricSamples took ${worst}ms`);
      assertEquals(out.stats!().droppedSamples, 75);
      assert(logs.some((l) => l.includes("couldn't write")), logs.join("\n"));
    });
  } finally {
    await pg.stop();
  }
});

Deno.test("timescaledb: server down at start is a clear error without the password", async () => {
  const port = freePort();
  const { params } = testParams("timescaledb", {
    configArgument: `postgresql://k6:pa55word@127.0.0.1:${port}/k6`,
  });
  const out = await timescaledb(params);
  const err = await assertRejects(() => out.start(), SpateError);
  assertStringIncludes(
    err.message,
    `timescaledb: can't connect to postgresql://k6:***@127.0.0.1:${port}/k6`,
  );
  assert(!err.message.includes("pa55word"), err.message);
  assert(!out.description().includes("pa55word"));
  await out.stop(null);
});

Deno.test("timescaledb: config, threshold keys and COPY rows", () => {
  assertEquals(timescaleConfig({ configArgument: "", env: {} }), {
    url: "postgresql://localhost/myk6timescaleDB",
    pushIntervalMs: 1000,
  });
  assertEquals(
    timescaleConfig({
      configArgument: "",
      env: { K6_TIMESCALEDB_PUSH_INTERVAL: "2s" },
      jsonConfig: { url: "postgresql://j/db", pushInterval: "5s" },
    }),
    { url: "postgresql://j/db", pushIntervalMs: 2000 },
  );
  assertEquals(splitThresholdKey("http_req_duration{status:200, method:GET}"), {
    metric: "http_req_duration",
    tags: { status: "200", method: "GET" },
  });
  assertEquals(splitThresholdKey("checks"), { metric: "checks", tags: null });
  const rows = fixedSamples().map((s) => new CopyEncoder().row(s));
  assertEquals(rows[0], "2026-01-01T10:00:00.123456Z\tvus\t10\t{}\n");
  assertEquals(rows[14], '2026-01-01T10:00:00.129456Z\tmy_counter\t2.7\t{"my tag":"a,b=c d"}\n');
});
