import { assert, assertAlmostEquals, assertEquals } from "../_assert.ts";
import { TrendSketch } from "../../lib/metrics/sketch.ts";

/** k6's exact percentile (runner.md §5.1). */
function exactP(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  if (n === 1) return sorted[0];
  const i = q * (n - 1);
  const a = sorted[Math.floor(i)];
  return a + (sorted[Math.ceil(i)] - a) * (i - Math.floor(i));
}

/** A small deterministic PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const qs = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

function checkAccuracy(values: Float64Array, label: string): void {
  const sketch = new TrendSketch();
  let sum = 0;
  for (const v of values) {
    sketch.add(v);
    sum += v;
  }
  const sorted = values.slice().sort();
  assertEquals(sketch.count, values.length);
  assertEquals(sketch.min, sorted[0]);
  assertEquals(sketch.max, sorted[sorted.length - 1]);
  assertAlmostEquals(sketch.sum, sum, Math.abs(sum) * 1e-12);
  for (const q of qs) {
    const want = exactP(sorted, q);
    const got = sketch.percentile(q);
    const err = want === 0 ? Math.abs(got) : Math.abs(got - want) / Math.abs(want);
    assert(err <= 0.01, `${label} p(${q * 100}): got ${got}, want ${want}, rel err ${err}`);
  }
}

Deno.test("sketch: ≤1% relative error vs exact on 1e5 log-normal values", () => {
  const r = rng(1);
  const values = new Float64Array(100_000);
  for (let i = 0; i < values.length; i++) {
    // Box-Muller log-normal around 50 ms with a long tail.
    const z = Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
    values[i] = Math.exp(Math.log(50) + z);
  }
  checkAccuracy(values, "lognormal");
});

Deno.test("sketch: ≤1% relative error on uniform, with zeros and negatives", () => {
  const r = rng(2);
  const values = new Float64Array(100_000);
  for (let i = 0; i < values.length; i++) {
    const x = r();
    values[i] = x < 0.05 ? 0 : x < 0.3 ? -1000 * r() - 1 : 5000 * r() + 0.001;
  }
  checkAccuracy(values, "mixed");
});

Deno.test("sketch: exact k6 numbers up to 1000 values", () => {
  const s = new TrendSketch();
  assertEquals(s.percentile(0.5), 0);
  s.add(7);
  assertEquals(s.percentile(0.95), 7);
  for (let i = 2; i <= 1000; i++) s.add((i * 7919) % 1000 + 0.5);
  assert(s.isExact);
  const vals = [7];
  for (let i = 2; i <= 1000; i++) vals.push((i * 7919) % 1000 + 0.5);
  const sorted = Float64Array.from(vals).sort();
  for (const q of qs) assertEquals(s.percentile(q), exactP(sorted, q));
  s.add(1);
  assert(!s.isExact);
});

Deno.test("sketch: 1..100 median interpolates like k6", () => {
  const s = new TrendSketch();
  for (let i = 1; i <= 100; i++) s.add(i);
  assertEquals(s.percentile(0.5), 50.5);
  assertAlmostEquals(s.percentile(0.9), 90.1, 1e-9);
  assertEquals(s.avg(), 50.5);
});

Deno.test("sketch: memory stays bounded for 1e6 values over 12 orders of magnitude", () => {
  const r = rng(3);
  const s = new TrendSketch();
  for (let i = 0; i < 1_000_000; i++) s.add(Math.pow(10, r() * 12 - 6));
  assert(s.byteSize() <= 2 * 8192 * 8, `sketch holds ${s.byteSize()} bytes`);
  assertEquals(s.count, 1_000_000);
});
