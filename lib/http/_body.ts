/**
 * Response bodies, shared by the HTTP/1.1 reader and the HTTP/2 streams: collecting the bytes
 * and undoing Content-Encoding.
 * @module
 */
import zlib from "node:zlib";
import { ErrorCode, HttpError } from "./_errors.ts";

/** Collects body bytes: one preallocated array when the length is known, else parts. */
export class BodySink {
  readonly discard: boolean;
  fixed: Uint8Array | null = null;
  fixedLen = 0;
  parts: Uint8Array[] = [];
  total = 0;

  constructor(discard: boolean) {
    this.discard = discard;
  }

  preallocate(n: number): void {
    this.fixed = new Uint8Array(n);
  }

  add(buf: Uint8Array, start: number, n: number): void {
    this.total += n;
    if (this.discard) return;
    if (this.fixed !== null) {
      this.fixed.set(buf.subarray(start, start + n), this.fixedLen);
      this.fixedLen += n;
    } else {
      this.parts.push(buf.slice(start, start + n));
    }
  }

  bytes(): Uint8Array {
    if (this.fixed !== null) return this.fixed;
    if (this.parts.length === 1) return this.parts[0];
    const out = new Uint8Array(this.total);
    let off = 0;
    for (const p of this.parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }
}

/** Undoes Content-Encoding (k6 decompresses gzip, deflate, br, zstd); failure is 1701. */
export function decode(body: Uint8Array, encoding: string): Uint8Array {
  if (encoding === "" || encoding === "identity" || body.length === 0) return body;
  const codings = encoding.split(",");
  let out: Uint8Array = body;
  try {
    for (let i = codings.length - 1; i >= 0; i--) {
      const c = codings[i].trim();
      if (c === "gzip" || c === "x-gzip") out = zlib.gunzipSync(out);
      else if (c === "deflate") {
        // "deflate" is zlib-wrapped per RFC 9110, but some servers send raw deflate.
        try {
          out = zlib.inflateSync(out);
        } catch {
          out = zlib.inflateRawSync(out);
        }
      } else if (c === "br") out = zlib.brotliDecompressSync(out);
      else if (c === "zstd") out = zlib.zstdDecompressSync(out);
      else if (c === "identity" || c === "") continue;
      // Unknown codings are skipped, like k6 does.
    }
  } catch (err) {
    throw new HttpError(
      ErrorCode.Decompression,
      `error decompressing response body (${encoding}): ${(err as Error).message}`,
    );
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
