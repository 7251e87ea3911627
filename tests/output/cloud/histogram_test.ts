import { assertEquals } from "../../_assert.ts";
import { bucketIndex, TrendHistogram } from "../../../lib/output/cloud/histogram.ts";

Deno.test("bucketIndex matches the spec's test vectors", () => {
  const vectors: Array<[number, number]> = [
    [0, 0],
    [0.12, 1],
    [12.5, 13],
    [255, 255],
    [256, 256],
    [282.29, 269],
    [1029, 512],
    [39751, 1179],
    [100000, 1347],
    [184000, 1459],
    [2 ** 30 - 1, 3071],
    [2 ** 30, 3072],
  ];
  for (const [x, index] of vectors) assertEquals(bucketIndex(x), index, `x=${x}`);
});

Deno.test("bucketIndex above 2^31 and near 2^63 stays exact", () => {
  // s = 40 - 7 = 33; u >> 33 = 128 → 33*128 + 128
  assertEquals(bucketIndex(2 ** 40), 33 * 128 + 128);
  assertEquals(bucketIndex(2 ** 40 - 1), 32 * 128 + 255);
  assertEquals(bucketIndex(2 ** 31), 24 * 128 + 128);
  assertEquals(bucketIndex(2 ** 63), 56 * 128 + 128);
});

Deno.test("TrendHistogram: 6 ms → bucket 827 (worked example)", () => {
  const h = new TrendHistogram();
  h.add(6);
  assertEquals(h.toWire(), {
    counters: [1],
    spans: [{ offset: 827, length: 1 }],
    sum: 6,
    count: 1,
    minValue: 6,
    maxValue: 6,
    minResolution: 0.001,
  });
});

Deno.test("TrendHistogram: spans, extra low/high counters", () => {
  const h = new TrendHistogram();
  for (const v of [0.001, 0.002, 0.002, 0.005, -1, 2 ** 63]) h.add(v);
  const w = h.toWire();
  // indices 1, 2, 2, 5 → counters [1,2,1], spans (1,2), (2,1)
  assertEquals(w.counters, [1, 2, 1]);
  assertEquals(w.spans, [{ offset: 1, length: 2 }, { offset: 2, length: 1 }]);
  assertEquals(w.count, 6);
  assertEquals(w.extraLowValuesCounter, 1);
  assertEquals(w.extraHighValuesCounter, 1);
  assertEquals(w.minValue, -1);
});
