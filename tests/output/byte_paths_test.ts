/**
 * The statsd, influxdb and timescaledb outputs encode straight to bytes on their hot path;
 * their string encoders are the reference the other tests pin down. Both must agree exactly,
 * escaping cases included.
 */
import { assertEquals } from "../_assert.ts";
import { MetricRegistry } from "../../lib/metrics/metric.ts";
import type { Sample } from "../../lib/metrics/sample.ts";
import { TagSetPool } from "../../lib/metrics/tags.ts";
import { ByteSink } from "../../lib/output/_byte_sink.ts";
import { StatsdEncoder } from "../../lib/output/statsd.ts";
import { LineEncoder } from "../../lib/output/influxdb.ts";
import { CopyEncoder } from "../../lib/output/timescaledb.ts";

const registry = new MetricRegistry();
registry.register("my_gauge", "gauge");
const pool = new TagSetPool();
const tagSets = [
  pool.intern({}),
  pool.intern({ method: "GET", status: "200", url: "http://x/a b,c=d", group: "::g" }),
  pool.intern({ check: "is:ok|yes", scenario: "s\\1", name: "ünïcode\tname" }),
];
const metrics = ["http_reqs", "http_req_duration", "checks", "my_gauge", "http_req_failed"];
const samples: Sample[] = [];
let i = 0;
for (const m of metrics) {
  for (const tags of tagSets) {
    // Digit-written values (k6-style timings, whole numbers, 0) and the slow path's.
    const values = [0, 1, 2.5, 1234.5678901, -3, 1e-7, -0, 0.123456, 11.831837, -0.5];
    for (const value of [...values, 999999999.999999, 123456789012.5, 2 ** 60]) {
      samples.push({
        metric: registry.get(m)!,
        tags,
        // Runs of three samples share a time, as a request's samples do (cached times).
        time: 1767261600123.456 + Math.floor(i++ / 3) * 1.001,
        value,
        metadata: undefined,
      });
    }
  }
}
const utf8 = new TextDecoder();

Deno.test("statsd: the byte path writes exactly the string encoder's lines", () => {
  for (const enableTags of [false, true]) {
    const enc = new StatsdEncoder({ namespace: "k6.", enableTags, tagBlocklist: ["vu"] });
    const sink = new ByteSink(16);
    for (const s of samples) {
      sink.clear();
      enc.lineTo(s, sink);
      assertEquals(utf8.decode(sink.view()), enc.line(s));
    }
  }
});

Deno.test("influxdb: the byte path writes exactly the string encoder's lines", () => {
  const enc = new LineEncoder(
    new Map([["url", "string" as const], ["status", "int" as const]]),
    "",
  );
  const sink = new ByteSink(16);
  const expected: string[] = [];
  for (const s of samples) {
    const line = enc.line(s);
    if (enc.lineTo(s, sink)) expected.push(line! + "\n");
    else assertEquals(line, undefined);
  }
  assertEquals(utf8.decode(sink.take()), expected.join(""));
});

Deno.test("timescaledb: the byte path writes exactly the string encoder's COPY rows", () => {
  const enc = new CopyEncoder();
  const sink = new ByteSink(16);
  let expected = "";
  for (const s of samples) {
    expected += enc.row(s);
    enc.rowTo(s, sink);
  }
  assertEquals(utf8.decode(sink.take()), expected);
});
