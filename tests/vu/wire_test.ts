import { assertEquals } from "../_assert.ts";
import { MetricRegistry } from "../../lib/metrics/metric.ts";
import type { Sample } from "../../lib/metrics/sample.ts";
import { TagSetPool } from "../../lib/metrics/tags.ts";
import { type SampleBatchMessage, SampleDecoder, SampleEncoder } from "../../lib/vu/_wire.ts";

/** What a sample says, with its metric and tag set spelled out (the ids differ per side). */
function plain(s: Sample) {
  return [s.metric.name, s.metric.type, s.tags.tags, s.time, s.value, s.metadata];
}

Deno.test("samples cross the wire and are decoded later, in order, into the main side's objects", () => {
  // The host side registers its metrics in its own order.
  const hostRegistry = new MetricRegistry();
  const reqs = hostRegistry.register("http_reqs", "counter", "default");
  const posted: SampleBatchMessage[] = [];
  const encoder = new SampleEncoder(hostRegistry, (msg) => posted.push(msg), 2);
  encoder.add({ method: "GET" }, 1000.5, [[reqs, 1]]);
  encoder.add({ method: "GET" }, 1001.25, [[reqs, 1]]);
  const mine = hostRegistry.register("my_trend", "trend", "time");
  // Full at 2: the first batch goes before this one's first sample.
  encoder.add({ method: "POST", status: "201" }, 1002, [[mine, 3.5], [reqs, 1]], { vu: "7" });
  encoder.add({ method: "GET" }, 1003, [[reqs, 1]]);
  encoder.flush();
  assertEquals(posted.map((m) => m.count), [2, 2, 1]);
  // Tag sets and metrics travel once, with the first batch posted after they appeared (the
  // POST set was interned before that sample's batch filled up): the later ones name none.
  const all = hostRegistry.all().length;
  assertEquals(posted.map((m) => [m.tags.length, m.metrics.length]), [[2, all], [0, 0], [0, 0]]);

  // The main side already knows other metrics and tag sets, so every id is remapped.
  const registry = new MetricRegistry();
  registry.register("vus", "gauge", "default");
  const pool = new TagSetPool();
  pool.intern({ scenario: "default" });
  const decoder = new SampleDecoder(pool, registry);
  const later = posted.map((msg) => decoder.deferred(msg));
  assertEquals(later.map((d) => d.count), [2, 2, 1]);
  assertEquals(registry.get("my_trend"), undefined, "nothing is decoded before it is asked for");
  const out: Sample[] = [];
  for (const d of later) d.decodeInto(out);
  assertEquals(out.map(plain), [
    ["http_reqs", "counter", { method: "GET" }, 1000.5, 1, undefined],
    ["http_reqs", "counter", { method: "GET" }, 1001.25, 1, undefined],
    ["my_trend", "trend", { method: "POST", status: "201" }, 1002, 3.5, { vu: "7" }],
    ["http_reqs", "counter", { method: "POST", status: "201" }, 1002, 1, { vu: "7" }],
    ["http_reqs", "counter", { method: "GET" }, 1003, 1, undefined],
  ]);
  // The objects are the main side's interned ones.
  assertEquals(out[2].metric, registry.get("my_trend"));
  assertEquals(out[0].tags, pool.intern({ method: "GET" }));
  const again: Sample[] = [];
  decoder.decodeInto(posted[0], again);
  assertEquals(again.map(plain), out.slice(0, 2).map(plain));
});
