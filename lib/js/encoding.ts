/**
 * `k6/encoding`: base64 in k6's four alphabets (js-api.md §7).
 *
 * @example
 * ```ts
 * encoding.b64encode("hi", "rawurl"); // "aGk"
 * ```
 * @module
 */
import { Buffer } from "node:buffer";

type B64Kind = "std" | "rawstd" | "url" | "rawurl";

function toBytes(input: unknown): Uint8Array {
  if (typeof input === "string") return new TextEncoder().encode(input);
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) {
    return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  }
  throw new TypeError("b64encode: input must be a string or an ArrayBuffer");
}

/** Encodes to base64 (`std` default, `rawstd`, `url`, `rawurl`). */
export function b64encode(input: unknown, encoding: B64Kind = "std"): string {
  const buf = Buffer.from(toBytes(input));
  let out = encoding === "url" || encoding === "rawurl"
    ? buf.toString("base64url")
    : buf.toString("base64");
  if (encoding === "url") { while (out.length % 4) out += "="; }
  if (encoding === "rawstd") out = out.replace(/=+$/, "");
  return out;
}

/** Decodes base64; returns an ArrayBuffer, or a string when `format` is "s". */
export function b64decode(
  input: string,
  encoding: B64Kind = "std",
  format?: string,
): ArrayBuffer | string {
  const url = encoding === "url" || encoding === "rawurl";
  const buf = Buffer.from(String(input), url ? "base64url" : "base64");
  if (format === "s") return buf.toString("utf8");
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

/** The module object. */
export const encodingModule = { b64encode, b64decode };
