/**
 * Request body encoding of k6/http (js-api.md §3.2): strings, bytes, form-urlencoded objects
 * (sorted keys, as Go's url.Values.Encode) and multipart bodies with `http.file()` parts.
 * @module
 */

const encoder = new TextEncoder();
const latin1Decoder = new TextDecoder("utf-8");

/** What `http.file()` returns. */
export class FileData {
  readonly data: string | ArrayBuffer | Uint8Array;
  readonly filename: string;
  readonly content_type: string;
  constructor(data: string | ArrayBuffer | Uint8Array, filename: string, contentType: string) {
    this.data = data;
    this.filename = filename;
    this.content_type = contentType;
  }
}

/** An encoded body. */
export interface EncodedBody {
  bytes: Uint8Array | null;
  /** The automatic Content-Type, if the encoding implies one. */
  contentType: string;
  /** Warnings to log (e.g. nested objects in a form). */
  warnings: string[];
}

/** Go's url.QueryEscape. */
export function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, "+");
}

function formValue(v: unknown, warnings: string[]): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") {
    // Go's %T of the exported JS value, as k6 prints it.
    const type = Array.isArray(v) ? "[]interface {}" : "map[string]interface {}";
    warnings.push(
      `cannot urlencode a nested ${type} value in a request form body; encoding it as an ` +
        "empty value, use JSON.stringify() to send structured data",
    );
    return "";
  }
  return String(v);
}

function toBytes(data: string | ArrayBuffer | Uint8Array): Uint8Array {
  if (typeof data === "string") return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  return new Uint8Array(data);
}

function randomBoundary(): string {
  const b = crypto.getRandomValues(new Uint8Array(30));
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/**
 * Encodes a request body value. Throws an Error for unsupported types.
 *
 * @example
 * ```ts
 * encodeBody({ b: 2, a: 1 }).bytes; // bytes of "a=1&b=2"
 * ```
 */
export function encodeBody(body: unknown): EncodedBody {
  const warnings: string[] = [];
  if (body === null || body === undefined) return { bytes: null, contentType: "", warnings };
  if (typeof body === "string") return { bytes: encoder.encode(body), contentType: "", warnings };
  if (body instanceof ArrayBuffer) {
    return { bytes: new Uint8Array(body), contentType: "", warnings };
  }
  if (body instanceof Uint8Array) return { bytes: body, contentType: "", warnings };
  if (ArrayBuffer.isView(body) || typeof body !== "object" || Array.isArray(body)) {
    const type = ArrayBuffer.isView(body)
      ? body.constructor.name
      : Array.isArray(body)
      ? "[]interface {}"
      : typeof body;
    throw new Error(`unknown request body type ${type}`);
  }
  const obj = body as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.some((k) => obj[k] instanceof FileData)) return multipart(obj, keys, warnings);
  keys.sort();
  let s = "";
  for (const k of keys) {
    const v = obj[k];
    const values = Array.isArray(v) ? v : [v];
    for (const one of values) {
      if (s !== "") s += "&";
      s += queryEscape(k) + "=" + queryEscape(formValue(one, warnings));
    }
  }
  return {
    bytes: encoder.encode(s),
    contentType: "application/x-www-form-urlencoded",
    warnings,
  };
}

function multipart(obj: Record<string, unknown>, keys: string[], warnings: string[]): EncodedBody {
  const boundary = randomBoundary();
  const parts: Uint8Array[] = [];
  const escape = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  for (const k of keys) {
    const v = obj[k];
    if (v instanceof FileData) {
      parts.push(encoder.encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="${escape(k)}"; ` +
          `filename="${escape(v.filename)}"\r\nContent-Type: ${v.content_type}\r\n\r\n`,
      ));
      parts.push(toBytes(v.data));
      parts.push(encoder.encode("\r\n"));
    } else {
      parts.push(encoder.encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="${escape(k)}"\r\n\r\n` +
          formValue(v, warnings) + "\r\n",
      ));
    }
  }
  parts.push(encoder.encode(`--${boundary}--\r\n`));
  let len = 0;
  for (const p of parts) len += p.length;
  const bytes = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    bytes.set(p, off);
    off += p.length;
  }
  return { bytes, contentType: `multipart/form-data; boundary=${boundary}`, warnings };
}

/** The body as k6 reports it in `response.request.body` (a string). */
export function bodyText(bytes: Uint8Array | null): string {
  return bytes === null ? "" : latin1Decoder.decode(bytes);
}
