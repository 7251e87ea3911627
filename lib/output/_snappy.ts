/**
 * Snappy **block** compression (the raw format: varint uncompressed length + elements), as the
 * Grafana Cloud k6 ingest (`Content-Encoding: snappy`, outputs-cloud.md §5.1) and Prometheus
 * remote write expect. Not the framed/stream format.
 *
 * Backed by npm `snappyjs` (pure JS, MIT): native snappy addons cannot go into `deno bundle`,
 * and snappyjs produces the block format directly. Shared by every output that needs snappy.
 *
 * @example
 * ```ts
 * const packed = snappyCompress(new TextEncoder().encode("hello hello hello"));
 * snappyUncompress(packed); // the original bytes
 * ```
 * @module
 */
import SnappyJS from "snappyjs";

// snappyjs ships no type declarations; this is the part of its API we use.
interface SnappyApi {
  compress(input: Uint8Array): Uint8Array;
  uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
}
const snappy = SnappyJS as unknown as SnappyApi;

/** Compresses `input` into one snappy block. */
export function snappyCompress(input: Uint8Array): Uint8Array {
  return snappy.compress(input);
}

/**
 * Decompresses one snappy block. Throws on malformed input, or when the declared length is
 * larger than `maxLength` (guards a server or fake against decompression bombs).
 */
export function snappyUncompress(input: Uint8Array, maxLength?: number): Uint8Array {
  return snappy.uncompress(input, maxLength);
}
