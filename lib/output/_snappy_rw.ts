/**
 * Snappy **block** format (not the framing format) for Prometheus remote write, over the pure-JS
 * `snappyjs` package. A native addon would be faster but cannot go into `deno bundle`; remote
 * write compresses one request per push interval, so the pure-JS cost is small (see
 * scripts/bench_services_b.ts).
 *
 * Private to the prometheus-rw output; the integrator may merge it with the cloud output's
 * `_snappy.ts`, which wraps the same library.
 *
 * @example
 * ```ts
 * const packed = snappyCompress(new TextEncoder().encode("hello hello hello"));
 * snappyUncompress(packed); // the original bytes
 * ```
 * @module
 */
// @ts-types="./_snappyjs.d.ts"
import SnappyJS from "snappyjs";

/** Compresses `bytes` into one snappy block. */
export function snappyCompress(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return SnappyJS.compress(bytes) as Uint8Array<ArrayBuffer>;
}

/** Decompresses one snappy block; throws on malformed input. */
export function snappyUncompress(bytes: Uint8Array): Uint8Array {
  return SnappyJS.uncompress(bytes);
}
