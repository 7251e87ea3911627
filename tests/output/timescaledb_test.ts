import { assert, assertEquals, assertRejects, assertStringIncludes } from "../_assert.ts";
import { SpateError } from "../../lib/errors.ts";
import type { Threshold } from "../../lib/output/types.ts";
import { ByteSink } from "../../lib/output/_byte_sink.ts";
import { MetricRegistry } from "../../lib/metrics/metric.ts";
import { TagSetPool } from "../../lib/metrics/tags.ts";
import timescaledb, {
  BinaryCopyEncoder,
  CopyEncoder,
  splitThresholdKey,
  timescaleConfig,
} from "../../lib/output/timescaledb.ts";
import { fixedSamples, T0, testParams } from "./_service_fixtures.ts";
import { freePort, startPostgres, timescaledbInstalled } from "./_servers.ts";

/**
 * The output's log lines, less the warning that every start against these servers gives
 * where TimescaleDB is installed: they don't preload it (its own test covers that warning).
 */
function outputLogs(logs: string[]): string[] {
  const installed = timescaledbInstalled();
  return logs.filter((l) =>
    l.includes("timescaledb") && !(installed && l.includes("does not preload it"))
  );
}

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
      assertEquals(outputLogs(logs), []);
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
      assertEquals(outputLogs(logs), []);
      assertEquals(
        await pg.psql(
          "segments",
          "SELECT count(*), count(DISTINCT value), min(value), max(value), sum(value::float8), " +
            "count(*) FILTER (WHERE tags->>'status' = '200') FROM samples",
        ),
        "180000|180000|0|179999|16199910000|180000",
      );
    });

    await t.step(
      "a samples table created elsewhere: binary COPY if its types allow, else text",
      async () => {
        // Values a float4 would round, tags with NUL characters (jsonb refuses \u0000) and with
        // a literal backslash before "u0000" (must stay as it is).
        const registry = new MetricRegistry();
        const pool = new TagSetPool();
        const tags = pool.intern({ "a\0b": "x\0y", path: "C:\\u0000dir" });
        const samples = [0.1, 123.456789012345].map((value, i) => ({
          metric: registry.get("http_req_duration")!,
          tags,
          time: T0 + i,
          value,
        }));
        const run = async (db: string, valueType: string, tagsType: string) => {
          await pg.psql("postgres", `CREATE DATABASE ${db}`);
          await pg.psql(
            db,
            `CREATE TABLE samples (ts timestamptz NOT NULL, metric text NOT NULL, ` +
              `tags ${tagsType}, value ${valueType})`,
          );
          const { params, logs } = testParams("timescaledb", { configArgument: pg.url(db) });
          const out = await timescaledb(params);
          await out.start();
          out.addMetricSamples(samples);
          await out.stop(null);
          assertEquals(out.stats!(), { droppedSamples: 0 });
          const rows = await pg.psql(
            db,
            "SELECT to_char(ts AT TIME ZONE 'UTC', 'HH24:MI:SS.US'), value::text, tags::text " +
              "FROM samples ORDER BY ts",
          );
          return { rows, logs: logs.filter((l) => l.includes("text COPY")) };
        };
        const tagsText = String.raw`{"ab": "xy", "path": "C:\\u0000dir"}`;
        // double precision: binary float8 keeps every digit.
        assertEquals(await run("float8", "double precision", "jsonb"), {
          rows: `10:00:00.123456|0.1|${tagsText}\n10:00:00.124456|123.456789012345|${tagsText}`,
          logs: [],
        });
        // numeric has no binary encoder here: text COPY, and the server parses the digits.
        const text = await run("numeric", "numeric", "jsonb");
        assertEquals(
          text.rows,
          `10:00:00.123456|0.1|${tagsText}\n10:00:00.124456|123.456789012345|${tagsText}`,
        );
        assertEquals(text.logs.length, 1);
        assertStringIncludes(text.logs[0], "value numeric");
      },
    );

    await t.step("rows the server rejects: its error at once, every sample counted", async () => {
      await pg.psql("postgres", "CREATE DATABASE rejects");
      await pg.psql(
        "rejects",
        "CREATE TABLE samples (ts timestamptz NOT NULL, metric text NOT NULL, tags jsonb, " +
          "value real CONSTRAINT value_below_100 CHECK (value < 100))",
      );
      const { params, logs } = testParams("timescaledb", { configArgument: pg.url("rejects") });
      const out = await timescaledb(params);
      await out.start();
      out.addMetricSamples(fixedSamples()); // an http_req_duration of 105.322 breaks the check
      const t0 = performance.now();
      await out.stop(null);
      // Without the hook on the query's reject() the flush waited for its 10 s deadline and
      // reported "no answer" instead of the server's reason.
      assert(performance.now() - t0 < 5000, `stop took ${performance.now() - t0}ms`);
      const stats = out.stats!();
      assertEquals(stats.droppedSamples, 15);
      assertStringIncludes(stats.note!, "value_below_100");
      const line = logs.find((l) => l.includes("couldn't write 15 samples")) ?? "";
      assertStringIncludes(line, "value_below_100");
      assertEquals(await pg.psql("rejects", "SELECT count(*) FROM samples"), "0");
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

Deno.test({
  name: "timescaledb: samples is a hypertable where the extension is installed",
  // No Debian package ships TimescaleDB; see timescaledbInstalled().
  ignore: !timescaledbInstalled(),
  async fn() {
    const pg = await startPostgres({ timescaledb: true });
    try {
      for (const expected of [15, 30]) { // the second run finds the hypertable in place
        const { params, logs } = testParams("timescaledb", { configArgument: pg.url("hyper") });
        const out = await timescaledb(params);
        await out.start();
        assertEquals(
          out.description(),
          `TimescaleDB (postgresql://postgres@127.0.0.1:${pg.port}/hyper, hypertable)`,
        );
        out.addMetricSamples(fixedSamples());
        await out.stop(null);
        assertEquals(out.stats!(), { droppedSamples: 0 });
        assertEquals(outputLogs(logs), []);
        assertEquals(
          await pg.psql("hyper", "SELECT count(*), count(DISTINCT metric) FROM samples"),
          `${expected}|6`,
        );
      }
      assertEquals(
        await pg.psql("hyper", "SELECT hypertable_name FROM timescaledb_information.hypertables"),
        "samples",
      );
      // The rows are in the hypertable's chunks, not in its (empty) parent table.
      assertEquals(await pg.psql("hyper", "SELECT count(*) FROM ONLY samples"), "0");
      assertEquals(
        await pg.psql(
          "hyper",
          "SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), value, tags " +
            "FROM samples WHERE metric = 'my_counter' LIMIT 1",
        ),
        '2026-01-01 10:00:00.129456|2.7|{"my tag": "a,b=c d"}',
      );
    } finally {
      await pg.stop();
    }
  },
});

Deno.test({
  name: "timescaledb: extension installed but not preloaded: one warning, plain tables",
  ignore: !timescaledbInstalled(),
  async fn() {
    // CREATE EXTENSION there ends the session (FATAL "must be preloaded"): the output must
    // not try, and must say why samples is not a hypertable.
    const pg = await startPostgres();
    try {
      const { params, logs } = testParams("timescaledb", { configArgument: pg.url("plain") });
      const out = await timescaledb(params);
      await out.start();
      assertEquals(
        out.description(),
        `TimescaleDB (postgresql://postgres@127.0.0.1:${pg.port}/plain, plain tables)`,
      );
      out.addMetricSamples(fixedSamples());
      await out.stop(null);
      assertEquals(out.stats!(), { droppedSamples: 0 });
      const lines = logs.filter((l) => l.includes("timescaledb"));
      assertEquals(lines.length, 1, lines.join("\n"));
      assertStringIncludes(
        lines[0],
        "the server has the timescaledb extension but does not preload it " +
          "(shared_preload_libraries); samples stays a plain table",
      );
      assertEquals(await pg.psql("plain", "SELECT count(*) FROM samples"), "15");
      assertEquals(
        await pg.psql("plain", "SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'"),
        "0",
      );
    } finally {
      await pg.stop();
    }
  },
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
  const samples = fixedSamples();
  const rows = samples.map((s) => new CopyEncoder().row(s));
  assertEquals(rows[0], "2026-01-01T10:00:00.123456Z\tvus\t10\t{}\n");
  assertEquals(rows[14], '2026-01-01T10:00:00.129456Z\tmy_counter\t2.7\t{"my tag":"a,b=c d"}\n');
});

Deno.test("timescaledb: binary COPY tuples", () => {
  const samples = fixedSamples();
  const expected = (s: (typeof samples)[number], float8: boolean) => {
    const metric = new TextEncoder().encode(s.metric.name);
    const tags = new TextEncoder().encode(JSON.stringify(s.tags.tags));
    const valueBytes = float8 ? 8 : 4;
    const out = new Uint8Array(2 + 12 + 4 + metric.length + 4 + valueBytes + 5 + tags.length);
    const view = new DataView(out.buffer);
    let at = 0;
    view.setInt16(at, 4), at += 2;
    view.setInt32(at, 8), at += 4;
    // µs since 2000-01-01T00:00:00Z
    view.setBigInt64(at, BigInt(Math.round(s.time * 1000)) - 946_684_800_000_000n), at += 8;
    view.setInt32(at, metric.length), at += 4;
    out.set(metric, at), at += metric.length;
    view.setInt32(at, valueBytes), at += 4;
    if (float8) view.setFloat64(at, s.value);
    else view.setFloat32(at, s.value);
    at += valueBytes;
    view.setInt32(at, tags.length + 1), at += 4;
    out[at++] = 1; // jsonb version
    out.set(tags, at);
    return [...out];
  };
  for (const valueType of ["real", "double precision"] as const) {
    const encoder = new BinaryCopyEncoder(valueType);
    const sink = new ByteSink(16);
    const want: number[] = [];
    for (const s of samples) {
      encoder.rowTo(s, sink);
      want.push(...expected(s, valueType !== "real"));
    }
    assertEquals([...sink.view()], want, valueType);
  }
});
