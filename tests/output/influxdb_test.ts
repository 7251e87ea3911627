import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { SpateError } from "../../lib/errors.ts";
import influxdb, {
  formatFloat,
  influxConfig,
  LineEncoder,
  MAX_LINES_PER_WRITE,
} from "../../lib/output/influxdb.ts";
import { fixedSamples, T0, testParams } from "./_service_fixtures.ts";
import { freePort, type InfluxServer, startInfluxd } from "./_servers.ts";

const EXPECTED_COUNTS: Record<string, number> = {
  checks: 2,
  http_req_duration: 3,
  http_req_failed: 2,
  http_reqs: 3,
  my_counter: 1,
  vus: 4,
};

async function counts(server: InfluxServer, db: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of Object.keys(EXPECTED_COUNTS)) {
    const r = await server.query(`SELECT count("value") FROM "${m}"`, db);
    out[m] = (r.results[0].series?.[0].values[0][1] as number | undefined) ?? 0;
  }
  return out;
}

async function feed(server: InfluxServer, arg: string, env: Record<string, string> = {}) {
  const { params, logs } = testParams("influxdb", { configArgument: arg, env });
  const out = await influxdb(params);
  await out.start();
  out.addMetricSamples(fixedSamples());
  await out.stop(null);
  return { out, logs, server };
}

Deno.test("influxdb: end to end against a real influxd", async (t) => {
  const server = await startInfluxd();
  try {
    await t.step("creates the database; per-measurement counts; url is a field", async () => {
      const { out, logs } = await feed(server, `${server.url}/k6test?pushInterval=100ms`);
      assertEquals(out.stats?.(), { droppedSamples: 0 });
      assertEquals(logs.filter((l) => /Couldn't|not reachable/.test(l)), []);
      assertEquals(await counts(server, "k6test"), EXPECTED_COUNTS);
      const tagKeys = await server.query("SHOW TAG KEYS FROM http_reqs", "k6test");
      assertEquals(tagKeys.results[0].series?.[0].values.map((v) => v[0]), [
        "expected_response",
        "method",
        "name",
        "scenario",
        "status",
      ]);
      const fieldKeys = await server.query("SHOW FIELD KEYS FROM http_reqs", "k6test");
      assertEquals(fieldKeys.results[0].series?.[0].values, [["url", "string"], [
        "value",
        "float",
      ]]);
      const rows = await server.query(
        `SELECT "url", "value", "method" FROM http_req_duration WHERE "status" = '404'`,
        "k6test",
      );
      assertEquals(rows.results[0].series?.[0].values.map((v) => v.slice(1)), [
        ["http://127.0.0.1/b", 12, "POST"],
      ]);
      // Escaping round trip: a space in the key, a comma, '=' and a space in the value.
      const custom = await server.query(`SELECT * FROM my_counter`, "k6test");
      const s = custom.results[0].series![0];
      assertEquals(s.columns, ["time", "my tag", "value"]);
      assertEquals(s.values[0].slice(1), ["a,b=c d", 2.7]);
      // Nanosecond timestamps (microsecond-exact from the float ms time).
      const ts = await fetch(
        `${server.url}/query?db=k6test&epoch=ns&q=${encodeURIComponent("SELECT * FROM vus")}`,
      ).then((r) => r.json());
      assertEquals(ts.results[0].series[0].values[0], [1767261600123456000, 10]);
    });

    await t.step("tagsAsFields with types, precision=ms, db from env", async () => {
      await feed(server, "", {
        K6_INFLUXDB_ADDR: server.url,
        K6_INFLUXDB_DB: "typed",
        K6_INFLUXDB_TAGS_AS_FIELDS: "status:int,expected_response:bool,method",
        K6_INFLUXDB_PRECISION: "ms",
      });
      const fieldKeys = await server.query("SHOW FIELD KEYS FROM http_reqs", "typed");
      assertEquals(fieldKeys.results[0].series?.[0].values, [
        ["expected_response", "boolean"],
        ["method", "string"],
        ["status", "integer"],
        ["value", "float"],
      ]);
      const tagKeys = await server.query("SHOW TAG KEYS FROM http_reqs", "typed");
      assertEquals(tagKeys.results[0].series?.[0].values.map((v) => v[0]), [
        "name",
        "scenario",
        "url",
      ]);
      const ts = await fetch(
        `${server.url}/query?db=typed&epoch=ns&q=${encodeURIComponent("SELECT * FROM vus")}`,
      ).then((r) => r.json());
      assertEquals(ts.results[0].series[0].values[0][0], 1767261600123000000);
    });

    await t.step("a large flush is split into several writes (InfluxDB body limit)", async () => {
      const { params } = testParams("influxdb", {
        configArgument: `${server.url}/big?concurrentWrites=1&pushInterval=1h`,
      });
      const out = await influxdb(params);
      await out.start();
      const [vus] = fixedSamples();
      const n = MAX_LINES_PER_WRITE * 2 + 500;
      out.addMetricSamples(Array.from({ length: n }, (_, i) => ({ ...vus, time: T0 + i * 0.001 })));
      await out.stop(null); // the final flush sends everything
      assertEquals(out.stats!(), { droppedSamples: 0 });
      const r = await server.query(`SELECT count("value") FROM vus`, "big");
      assertEquals(r.results[0].series?.[0].values[0][1], n);
    });

    await t.step("bodies reused across flushes arrive whole and uncorrupted", async () => {
      const { params } = testParams("influxdb", {
        configArgument: `${server.url}/reuse?pushInterval=50ms`,
      });
      const out = await influxdb(params);
      await out.start();
      const [vus] = fixedSamples();
      // Each batch (several bodies) arrives while the previous flush's writes are in flight: a
      // body buffer reused too early would corrupt lines in flight.
      for (let b = 0; b < 3; b++) {
        out.addMetricSamples(
          Array.from({ length: 25_000 }, (_, i) => {
            const n = b * 25_000 + i;
            return { ...vus, time: T0 + n * 0.001, value: n };
          }),
        );
        await new Promise((r) => setTimeout(r, 60));
      }
      await out.stop(null);
      assertEquals(out.stats!(), { droppedSamples: 0 });
      const r = await server.query(`SELECT count("value"), sum("value") FROM vus`, "reuse");
      assertEquals(r.results[0].series?.[0].values[0].slice(1), [75_000, 2_812_462_500]);
    });

    await t.step("with a proxy, every request goes through it (fetch's proxy client)", async () => {
      // A forwarding proxy: HTTP requests to it carry the absolute URL as their target. The
      // address is a port nobody listens on, so a request that skipped the proxy would fail.
      const seen: string[] = [];
      const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
        const url = new URL(req.url);
        seen.push(`${req.method} ${url.pathname} ${req.headers.get("authorization")}`);
        const res = await fetch(`${server.url}${url.pathname}${url.search}`, {
          method: req.method,
          headers: req.headers,
          body: await req.arrayBuffer(),
        });
        const body = res.status === 204 ? null : await res.arrayBuffer();
        return new Response(body, { status: res.status });
      });
      try {
        const { out, logs } = await feed(server, `http://u:pw@127.0.0.1:${freePort()}/viaproxy`, {
          K6_INFLUXDB_PROXY: `http://127.0.0.1:${proxy.addr.port}`,
        });
        assertEquals(out.stats?.(), { droppedSamples: 0 });
        assertEquals(logs.filter((l) => /Couldn't|not reachable/.test(l)), []);
        assertEquals(seen, ["POST /query Basic dTpwdw==", "POST /write Basic dTpwdw=="]);
        assertEquals(await counts(server, "viaproxy"), EXPECTED_COUNTS);
      } finally {
        await proxy.shutdown();
      }
    });

    await t.step("server killed mid-run: run not slowed, undelivered samples counted", async () => {
      const { params, logs } = testParams("influxdb", {
        configArgument: `http://writer:s3cret@127.0.0.1:${server.port}/midrun?pushInterval=50ms`,
      });
      const out = await influxdb(params);
      await out.start();
      let delivered = 0;
      for (let i = 0; i < 4; i++) {
        out.addMetricSamples(fixedSamples());
        delivered += 15;
        await new Promise((r) => setTimeout(r, 60));
      }
      await new Promise((r) => setTimeout(r, 100));
      await server.kill();
      let worst = 0;
      for (let i = 0; i < 6; i++) {
        const t0 = performance.now();
        out.addMetricSamples(fixedSamples());
        worst = Math.max(worst, performance.now() - t0);
        await new Promise((r) => setTimeout(r, 60));
      }
      const t0 = performance.now();
      await out.stop(null);
      assert(performance.now() - t0 < 2000, "stop waited too long");
      assert(worst < 20, `addMetricSamples took ${worst}ms`);
      const stats = out.stats!();
      assertEquals(stats.droppedSamples, 90);
      assert(delivered === 60);
      assert(logs.some((l) => l.includes("Couldn't write stats")));
      for (const text of [...logs, stats.note ?? "", out.description()]) {
        assert(!text.includes("s3cret"), `password leaked: ${text}`);
      }
      assertEquals(out.description(), `InfluxDBv1 (http://127.0.0.1:${server.port})`);
    });
  } finally {
    await server.stop();
  }
});

Deno.test("influxdb: insecure=true writes to a real influxd with a self-signed certificate", async () => {
  const dir = new URL("../fixtures/tls/", import.meta.url).pathname;
  const server = await startInfluxd({
    tls: { certFile: `${dir}selfsigned.crt`, keyFile: `${dir}selfsigned.key` },
  });
  try {
    // Default: the certificate is not trusted, nothing is written, the failure is reported.
    const refused = testParams("influxdb", { configArgument: `${server.url}/tlsdb` });
    const strict = await influxdb(refused.params);
    await strict.start();
    strict.addMetricSamples(fixedSamples());
    await strict.stop(null);
    assertEquals(strict.stats!().droppedSamples, 15);
    assert(refused.logs.some((l) => l.includes("Couldn't write stats")), refused.logs.join("\n"));
    const databases = async () =>
      ((await server.query("SHOW DATABASES")).results[0].series?.[0].values ?? []).flat();
    assertEquals(await databases(), []); // not even CREATE DATABASE got through

    // insecure=true (query key here; K6_INFLUXDB_INSECURE and the config block are parsed by
    // the same reader): the database is created and every sample arrives.
    // A proxy can't be combined with it: a warning says so (without the proxy's password).
    const { params, logs } = testParams("influxdb", {
      configArgument: `${server.url}/tlsdb?insecure=true`,
      env: { K6_INFLUXDB_PROXY: "http://pu:proxysecret@127.0.0.1:9" },
    });
    const out = await influxdb(params);
    await out.start();
    out.addMetricSamples(fixedSamples());
    await out.stop(null);
    assertEquals(out.stats!(), { droppedSamples: 0 });
    const told = logs.filter((l) => l.includes("influxdb") || l.includes("Couldn't"));
    assertEquals(told.length, 1, told.join("\n"));
    assert(told[0].includes("proxy http://pu:***@127.0.0.1:9 is not used"), told[0]);
    assertEquals(await databases(), ["tlsdb"]);
    const r = await server.query(`SELECT count("value") FROM http_reqs`, "tlsdb");
    assertEquals(r.results[0].series?.[0].values[0][1], 3);
  } finally {
    await server.stop();
  }
});

Deno.test("influxdb: server down at start: warning, run continues, all samples counted", async () => {
  const port = freePort();
  const { params, logs } = testParams("influxdb", {
    configArgument: `http://u:hunter2@127.0.0.1:${port}/k6?pushInterval=50ms`,
  });
  const out = await influxdb(params);
  await out.start();
  out.addMetricSamples(fixedSamples());
  await out.stop(null);
  assert(logs.some((l) => l.includes(`InfluxDB http://127.0.0.1:${port} is not reachable`)));
  assertEquals(out.stats!().droppedSamples, 15);
  for (const text of [...logs, out.stats!().note ?? "", out.description()]) {
    assert(!text.includes("hunter2"), `password leaked: ${text}`);
  }
});

Deno.test("influxdb: config from URL, env and JSON", () => {
  const c = influxConfig({
    configArgument:
      "https://us%40r:p%3Ass@h.example:8087/pre/fix/mydb?precision=s&retention=rp1&consistency=all&concurrentWrites=2&tagsAsFields=url&tagsAsFields=vu:int",
    env: { K6_INFLUXDB_PUSH_INTERVAL: "3s", K6_INFLUXDB_DB: "ignored" },
    jsonConfig: { concurrentWrites: 9, insecure: true },
  });
  assertEquals(c.addr, "https://h.example:8087/pre/fix");
  assertEquals([c.db, c.username, c.password], ["mydb", "us@r", "p:ss"]);
  assertEquals([c.precision, c.retention, c.consistency], ["s", "rp1", "all"]);
  assertEquals([c.concurrentWrites, c.pushIntervalMs, c.insecure], [2, 3000, true]);
  assertEquals([...c.tagsAsFields], [["url", "string"], ["vu", "int"]]);
  const d = influxConfig({ configArgument: "", env: {} });
  assertEquals([d.addr, d.db, d.pushIntervalMs, d.concurrentWrites], [
    "http://localhost:8086",
    "k6",
    1000,
    4,
  ]);
  assertEquals([...d.tagsAsFields.keys()], ["vu", "iter", "url"]);
  assertEquals(influxConfig({ configArgument: "http://h/pre/", env: {} }).addr, "http://h/pre");
  const env = influxConfig({ configArgument: "", env: { K6_INFLUXDB_ADDR: "http://a:b@h:1" } });
  assertEquals([env.addr, env.username, env.password], ["http://h:1", "a", "b"]);
  assertThrows(
    () => influxConfig({ configArgument: "http://h/db?bogus=1", env: {} }),
    SpateError,
    'unknown query parameter "bogus"',
  );
  assertThrows(
    () => influxConfig({ configArgument: "", env: { K6_INFLUXDB_CONCURRENT_WRITES: "0" } }),
    SpateError,
    "K6_INFLUXDB_CONCURRENT_WRITES",
  );
  assertThrows(
    () => influxConfig({ configArgument: "", env: { K6_INFLUXDB_TAGS_AS_FIELDS: "vu:number" } }),
    SpateError,
    "vu:number",
  );
  const e = assertThrows(
    () => influxConfig({ configArgument: "ftp://u:topsecret@h/db", env: {} }),
    SpateError,
  );
  assert(!e.message.includes("topsecret"));
});

Deno.test("influxdb: line protocol text, escaping and float formatting", () => {
  const enc = new LineEncoder(new Map([["url", "string"], ["status", "int"]]), "");
  const lines = fixedSamples().map((s) => enc.line(s));
  assertEquals(lines[0], "vus value=10 1767261600123456000");
  assertEquals(
    lines[6],
    "http_reqs,expected_response=false,method=POST,name=http://127.0.0.1/b,scenario=default " +
      'status=404i,url="http://127.0.0.1/b",value=1 1767261600126456000',
  );
  assertEquals(lines[14], "my_counter,my\\ tag=a\\,b\\=c\\ d value=2.7 1767261600129456000");
  assertEquals(enc.line({ ...fixedSamples()[0], value: NaN }), undefined);
  assertEquals(new LineEncoder(new Map(), "u").timestamp(T0), "1767261600123456");
  assertEquals(new LineEncoder(new Map(), "h").timestamp(T0), "490906");
  assertEquals(
    [formatFloat(1e21), formatFloat(1.5e-7), formatFloat(-2.5e22), formatFloat(0.1)],
    ["1000000000000000000000", "0.00000015", "-25000000000000000000000", "0.1"],
  );
});

Deno.test("influxdb: udp:// sends line protocol datagrams within payload_size", async () => {
  const { default: dgram } = await import("node:dgram");
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
  const port = (socket.address() as { port: number }).port;
  const datagrams: string[] = [];
  socket.on("message", (m) => datagrams.push(m.toString()));
  const { params } = testParams("influxdb", {
    configArgument: `udp://127.0.0.1:${port}?payload_size=300`,
  });
  const out = await influxdb(params);
  await out.start();
  out.addMetricSamples(fixedSamples());
  await out.stop(null);
  const end = Date.now() + 2000;
  const lineCount = () => datagrams.join("").split("\n").filter((l) => l).length;
  while (lineCount() < 15 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  await new Promise<void>((r) => socket.close(() => r()));
  assertEquals(lineCount(), 15);
  assert(datagrams.length > 1);
  for (const d of datagrams) assert(new TextEncoder().encode(d).length <= 300, d);
  assertEquals(datagrams[0].split("\n")[0], "vus value=10 1767261600123456000");
  assertEquals(out.description(), `InfluxDBv1 (udp://127.0.0.1:${port})`);
});
