import dgram from "node:dgram";
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../_assert.ts";
import { SpateError } from "../../lib/errors.ts";
import { UdpBatchSocket } from "../../lib/output/_udp_batch.ts";
import statsd, {
  datagramSender,
  MAX_DATAGRAM_BYTES,
  packDatagrams,
  statsdConfig,
  StatsdEncoder,
} from "../../lib/output/statsd.ts";
import { MetricRegistry } from "../../lib/metrics/metric.ts";
import { TagSetPool } from "../../lib/metrics/tags.ts";
import type { Sample } from "../../lib/metrics/sample.ts";
import { fixedSamples, testParams } from "./_service_fixtures.ts";

/** The StatsD line grammar (with DogStatsD tags); anything else is a protocol error. */
const LINE =
  /^([^:|#\n]+):(-?\d+(?:\.\d+)?)\|(c|g|ms|h|s|d)(?:\|@\d+(?:\.\d+)?)?(?:\|#([^|\n]+))?$/;

interface Received {
  datagrams: string[];
  lines: string[];
}

/** A strict StatsD listener on 127.0.0.1: rejects (records) malformed lines. */
async function statsdListener(port = 0) {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((r) => socket.bind(port, "127.0.0.1", () => r()));
  port = (socket.address() as { port: number }).port;
  const got: Received = { datagrams: [], lines: [] };
  const malformed: string[] = [];
  socket.on("message", (msg) => {
    const text = msg.toString("utf8");
    got.datagrams.push(text);
    for (const line of text.split("\n")) {
      if (!LINE.test(line)) malformed.push(line);
      const m = LINE.exec(line);
      if (m?.[4]) {
        for (const tag of m[4].split(",")) if (!/^[^:,]+:[^,]*$/.test(tag)) malformed.push(line);
      }
      got.lines.push(line);
    }
  });
  return {
    port,
    got,
    malformed,
    /** Waits until `n` lines arrived (UDP on loopback: no loss expected) or 2 s passed. */
    async waitLines(n: number) {
      const end = Date.now() + 2000;
      while (got.lines.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    },
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

async function run(outputType: string, env: Record<string, string>, json?: unknown) {
  const server = await statsdListener();
  const { params, logs } = testParams(outputType, {
    env: { K6_STATSD_ADDR: `127.0.0.1:${server.port}`, ...env },
    jsonConfig: json,
  });
  const out = await statsd(params);
  await out.start();
  const samples = fixedSamples();
  out.addMetricSamples(samples);
  await out.stop(null);
  await server.waitLines(samples.length);
  await server.close();
  return { ...server, logs, out, description: out.description() };
}

Deno.test("statsd: default config sends exact untagged lines", async () => {
  const r = await run("statsd", {});
  assertEquals(r.malformed, []);
  assertEquals(r.got.lines, [
    "k6.vus:10.000000|g",
    "k6.vus:11.000000|g",
    "k6.vus:12.000000|g",
    "k6.vus:13.000000|g",
    "k6.http_reqs:1|c",
    "k6.http_reqs:1|c",
    "k6.http_reqs:1|c",
    "k6.http_req_duration:105.322000|ms",
    "k6.http_req_duration:0.500000|ms",
    "k6.http_req_duration:12.000000|ms",
    "k6.check.status is 200.pass:1|c",
    "k6.check.body ok.fail:1|c",
    "k6.http_req_failed:0|c",
    "k6.http_req_failed:1|c",
    "k6.my_counter:2|c",
  ]);
  // Default bufferSize 20: all 15 lines fit one datagram.
  assertEquals(r.got.datagrams.length, 1);
  assertEquals(r.description, `statsd (127.0.0.1:${r.port})`);
  assertEquals(r.out.stats?.(), { droppedSamples: 0 });
});

Deno.test("statsd: tags, namespace and bufferSize from env; datagrams respect the limits", async () => {
  const r = await run("statsd", {
    K6_STATSD_ENABLE_TAGS: "true",
    K6_STATSD_NAMESPACE: "app.",
    K6_STATSD_BUFFER_SIZE: "4",
  });
  assertEquals(r.malformed, []);
  assertEquals(r.got.lines.length, 15);
  assertEquals(r.got.datagrams.length, 4); // 15 lines, at most 4 per datagram
  for (const d of r.got.datagrams) {
    assert(d.split("\n").length <= 4, d);
    assert(new TextEncoder().encode(d).length <= MAX_DATAGRAM_BYTES);
  }
  assertEquals(r.got.lines[0], "app.vus:10.000000|g");
  assertEquals(
    r.got.lines[4],
    "app.http_reqs:1|c|#expected_response:true,method:GET,name:http://127.0.0.1/a," +
      "scenario:default,status:200",
  );
  // Empty tag values are left out (group:"").
  assertEquals(
    r.got.lines[9],
    "app.http_req_duration:12.000000|ms|#expected_response:false,method:POST," +
      "name:http://127.0.0.1/b,scenario:default,status:404",
  );
  assertEquals(
    r.got.lines[10],
    "app.check.status is 200.pass:1|c|#check:status is 200,scenario:default",
  );
  // A comma would split the DogStatsD tag: it becomes "_".
  assertEquals(r.got.lines[14], "app.my_counter:2|c|#my tag:a_b=c d");
});

Deno.test("statsd: datadog alias has DogStatsD tags on; JSON config and blocklist apply", async () => {
  const r = await run("datadog", {}, { namespace: "dd.", tagBlocklist: ["url", "name", "status"] });
  assertEquals(
    r.got.lines[4],
    "dd.http_reqs:1|c|#expected_response:true,method:GET,scenario:default",
  );
  assertStringIncludes(r.description, "datadog (127.0.0.1:");
});

Deno.test("statsd: env beats JSON config; bad values name the field", () => {
  const cfg = statsdConfig({
    outputType: "statsd",
    jsonConfig: { addr: "json:1", pushInterval: "5s", enableTags: true },
    env: { K6_STATSD_ADDR: "env:2", K6_STATSD_TAG_BLOCKLIST: "a, b" },
  });
  assertEquals(cfg, {
    addr: "env:2",
    namespace: "k6.",
    pushIntervalMs: 5000,
    bufferSize: 20,
    enableTags: true,
    tagBlocklist: ["a", "b"],
  });
  const e = assertThrows(
    () => statsdConfig({ outputType: "statsd", env: { K6_STATSD_BUFFER_SIZE: "0" } }),
    SpateError,
  );
  assertStringIncludes(e.message, "K6_STATSD_BUFFER_SIZE");
  assertThrows(
    () => statsdConfig({ outputType: "statsd", env: { K6_STATSD_PUSH_INTERVAL: "soon" } }),
    SpateError,
    "K6_STATSD_PUSH_INTERVAL",
  );
});

Deno.test("statsd: empty or malformed addr fails at start", async () => {
  for (const addr of ["", "nohostport", "unix:///tmp/x.sock"]) {
    const { params } = testParams("statsd", { env: { K6_STATSD_ADDR: addr } });
    const out = await statsd(params);
    const e = await assertRejects(() => out.start(), SpateError);
    assertStringIncludes(e.message, "addr");
  }
});

Deno.test("statsd: nobody listening: UDP loss is silent and the run is not slowed", async () => {
  const { params } = testParams("statsd", {
    env: { K6_STATSD_ADDR: "127.0.0.1:9", K6_STATSD_PUSH_INTERVAL: "20ms" },
  });
  const out = await statsd(params);
  await out.start();
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) {
    out.addMetricSamples(fixedSamples());
    await new Promise((r) => setTimeout(r, 5));
  }
  await out.stop(null);
  assert(performance.now() - t0 < 1000);
});

Deno.test("statsd: packDatagrams caps lines and bytes; an oversized line goes alone", () => {
  const long = "x".repeat(2000) + ":1|c";
  assertEquals(packDatagrams(["a:1|c", long, "b:1|c", "c:1|c"], 2, 1432), [
    { payload: "a:1|c", lines: 1 },
    { payload: long, lines: 1 },
    { payload: "b:1|c\nc:1|c", lines: 2 },
  ]);
  // Bytes, not UTF-16 units: "é:1|c" is 6 bytes, so two of them + "\n" = 13 > 12.
  assertEquals(packDatagrams(["é:1|c", "é:2|c"], 20, 12).length, 2);
  assertEquals(packDatagrams(["e:1|c", "e:2|c"], 20, 12).length, 1);
  const many = Array.from({ length: 200 }, (_, i) => `metric_${i}:${i}|c`);
  const packed = packDatagrams(many, 1000, 100);
  for (const d of packed) assert(d.payload.length <= 100);
  assertEquals(packed.reduce((n, d) => n + d.lines, 0), 200);
});

Deno.test("statsd: the output packs the datagrams packDatagrams packs, cutting by lines and bytes", async () => {
  const registry = new MetricRegistry();
  const pool = new TagSetPool();
  const trend = registry.get("http_req_duration")!;
  const counter = registry.get("http_reqs")!;
  const samples: Sample[] = [];
  // Tag lengths from 0 to ~600 bytes: datagrams end on the 20-line limit and on the byte limit,
  // and one 2,000-byte line goes alone. (Few enough datagrams for the listener's default
  // receive buffer: loopback drops what does not fit.)
  for (let i = 0; i < 45; i++) {
    samples.push({ metric: counter, tags: pool.empty, time: 1767261600000, value: i }); // short
  }
  for (let i = 0; i < 120; i++) {
    const tags = pool.intern({ name: "u".repeat((i * 37) % 600), status: String(200 + i % 3) });
    samples.push({ metric: i % 2 ? trend : counter, tags, time: 1767261600000 + i, value: i });
  }
  // Two lines filling a datagram exactly, then two one byte too many, each pair after a line
  // that goes alone: the first pair shares a datagram, the second does not.
  const alone = {
    metric: counter,
    tags: pool.intern({ name: "y".repeat(1500) }),
    time: 0,
    value: 1,
  };
  const withName = (n: number): Sample => ({
    metric: counter,
    tags: pool.intern({ name: "z".repeat(n) }),
    time: 0,
    value: 1,
  });
  const base = new StatsdEncoder({ namespace: "k6.", enableTags: true, tagBlocklist: [] })
    .line(withName(1)).length - 1; // the line without the name's characters
  const half = 700 - base;
  samples.push(alone, withName(half), withName(MAX_DATAGRAM_BYTES - 1 - 2 * base - half));
  samples.push(alone, withName(half), withName(MAX_DATAGRAM_BYTES - 2 * base - half), alone);
  samples.splice(60, 0, {
    metric: counter,
    tags: pool.intern({ name: "x".repeat(2000) }),
    time: 0,
    value: 1,
  });
  const server = await statsdListener();
  const { params } = testParams("statsd", {
    env: { K6_STATSD_ADDR: `127.0.0.1:${server.port}`, K6_STATSD_ENABLE_TAGS: "true" },
  });
  const out = await statsd(params);
  await out.start();
  // In batches of uneven size, as the manager hands them over.
  for (let from = 0; from < samples.length; from += 47) {
    out.addMetricSamples(samples.slice(from, from + 47));
  }
  await out.stop(null);
  await server.waitLines(samples.length);
  await server.close();
  const encoder = new StatsdEncoder({ namespace: "k6.", enableTags: true, tagBlocklist: [] });
  const want = packDatagrams(samples.map((s) => encoder.line(s)), 20, MAX_DATAGRAM_BYTES);
  assert(want.some((d) => d.lines < 20 && d.payload.length > 1000), "some datagrams cut by bytes");
  assertEquals(want.filter((d) => d.payload.length === MAX_DATAGRAM_BYTES).length, 1);
  assertEquals(want.slice(0, 2).map((d) => d.lines), [20, 20]);
  assertEquals(server.got.datagrams, want.map((d) => d.payload));
});

Deno.test("statsd: all three datagram senders deliver every payload in order, byte for byte", async () => {
  const kinds = { ffi: undefined, deno: "deno", node: "node" } as const;
  for (const [kind, prefer] of Object.entries(kinds)) {
    const server = await statsdListener();
    const sender = datagramSender("127.0.0.1", server.port, 4, prefer);
    // `deno test -A` allows FFI; deno.json enables --unstable-net for Deno's own socket.
    assertEquals(sender.kind, kind);
    const sent = Array.from({ length: 300 }, (_, i) => `k6.seq:${i}|c\nk6.pad:${"x".repeat(i)}|g`);
    // One buffer framed by bytes that must not go out, 50 datagrams per call, as the output
    // sends; the listener shares this thread, so it drains its socket between calls.
    for (let first = 0; first < sent.length; first += 50) {
      const texts = sent.slice(first, first + 50);
      const bytes = new TextEncoder().encode(`[${texts.join("][")}]`);
      const ranges: [number, number, number][] = [];
      let at = 1;
      for (const t of texts) {
        ranges.push([at, at + t.length, 2]);
        at += t.length + 2;
      }
      assertEquals(await sender.sendAll(bytes, ranges), { failed: 0 });
      await server.waitLines((first + texts.length) * 2);
    }
    await sender.close();
    await server.close();
    assertEquals(server.got.datagrams, sent, kind);
  }
});

Deno.test("statsd: sendmmsg batches in order, and a refused datagram is counted with its error", async () => {
  const server = await statsdListener();
  const socket = UdpBatchSocket.open("127.0.0.1", server.port, 7);
  assert(socket, "FFI batching under deno test -A");
  const texts = Array.from({ length: 40 }, (_, i) => `k6.n:${i}|c`);
  const huge = "x".repeat(70_000); // over UDP's 65,507-byte limit: EMSGSIZE
  const all = [...texts.slice(0, 10), huge, ...texts.slice(10)];
  const bytes = new TextEncoder().encode(all.join(""));
  const ranges: [number, number, number][] = [];
  let at = 0;
  for (const t of all) {
    ranges.push([at, at + t.length, t === huge ? 5 : 1]);
    at += t.length;
  }
  const result = await socket.send(bytes, ranges);
  assertEquals(result, { failed: 5, error: "Message too long" });
  await server.waitLines(texts.length);
  assertEquals(server.got.datagrams, texts);
  await socket.close();
  assertEquals(await socket.send(bytes, ranges.slice(0, 2)), {
    failed: 2,
    error: "socket closed",
  });
  await server.close();
  assertEquals(UdpBatchSocket.open("::1", server.port), undefined, "IPv4 only");
});

Deno.test("statsd: sendmmsg to a port nobody listens on is silent, and connects again once somebody does", async () => {
  const gone = await statsdListener();
  const port = gone.port;
  await gone.close();
  const socket = UdpBatchSocket.open("127.0.0.1", port, 7);
  assert(socket, "FFI batching under deno test -A");
  assert(socket.connected);
  const texts = Array.from({ length: 40 }, (_, i) => `k6.n:${i}|c`);
  const bytes = new TextEncoder().encode(texts.join(""));
  const ranges: [number, number, number][] = [];
  let at = 0;
  for (const t of texts) ranges.push([at, at += t.length, 1]);
  // Each datagram's "port unreachable" would refuse the next one on a connected socket.
  assertEquals(await socket.send(bytes, ranges), { failed: 0 });
  assertEquals(socket.connected, false);
  const server = await statsdListener(port);
  assertEquals(await socket.send(bytes, ranges), { failed: 0 });
  assertEquals(socket.connected, true);
  await server.waitLines(texts.length);
  assertEquals(server.got.datagrams, texts);
  await socket.close();
  await server.close();
});

Deno.test("statsd: a Deno UDP socket that can't bind falls back to node:dgram", async () => {
  const deno = Deno as unknown as { listenDatagram?: unknown };
  const original = deno.listenDatagram;
  deno.listenDatagram = () => {
    throw new Error("Address family not supported by protocol");
  };
  try {
    const server = await statsdListener();
    const sender = datagramSender("127.0.0.1", server.port, 4, "deno");
    assertEquals(sender.kind, "node");
    const bytes = new TextEncoder().encode("k6.fallback:1|c");
    assertEquals(await sender.sendAll(bytes, [[0, bytes.length, 1]]), { failed: 0 });
    await sender.close();
    await server.waitLines(1);
    await server.close();
    assertEquals(server.got.datagrams, ["k6.fallback:1|c"]);
  } finally {
    deno.listenDatagram = original;
  }
});
