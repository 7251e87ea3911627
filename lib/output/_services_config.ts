/**
 * Small parsing and redaction helpers shared by the services outputs (prometheus-rw,
 * opentelemetry): Go-style booleans, comma lists, and a redactor that keeps credentials out of
 * descriptions, logs and errors.
 *
 * @example
 * ```ts
 * parseGoBool("T", "K6_X"); // true
 * const secrets = new Redactor(["s3cret"]);
 * secrets.redact("auth s3cret failed"); // "auth *** failed"
 * ```
 * @module
 */
import { invalidConfig } from "../errors.ts";

/** Parses a boolean the way Go's strconv.ParseBool does (k6 reads env booleans with it). */
export function parseGoBool(value: unknown, field: string): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const v = value.trim();
    if (["1", "t", "T", "true", "TRUE", "True"].includes(v)) return true;
    if (["0", "f", "F", "false", "FALSE", "False"].includes(v)) return false;
  }
  throw invalidConfig(`invalid boolean ${JSON.stringify(value)} for ${field}`);
}

/** A JSON-config string field, or an error naming it. */
export function jsonString(value: unknown, field: string): string {
  if (typeof value === "string") return value;
  throw invalidConfig(`invalid value ${JSON.stringify(value)} for ${field}: expected a string`);
}

/** The JSON config block as an object ({} when absent). */
export function jsonObject(value: unknown, field: string): Readonly<Record<string, unknown>> {
  if (value === undefined || value === null) return {};
  if (typeof value === "object" && !Array.isArray(value)) {
    return value as Record<string, unknown>;
  }
  throw invalidConfig(`invalid ${field}: expected a JSON object`);
}

/** A JSON object of string values (headers), or an error naming the field. */
export function jsonStringMap(value: unknown, field: string): Record<string, string> {
  const obj = jsonObject(value, field);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = jsonString(v, `${field}.${k}`);
  return out;
}

/** Replaces every known secret (and its basic-auth base64 form) with `***`. */
export class Redactor {
  readonly #secrets: string[] = [];

  constructor(secrets: readonly (string | undefined)[] = []) {
    for (const s of secrets) this.add(s);
  }

  /** Adds a secret; empty values are ignored. */
  add(secret: string | undefined): void {
    if (!secret) return;
    this.#secrets.push(secret);
    // Longest first so that a secret containing another is removed whole.
    this.#secrets.sort((a, b) => b.length - a.length);
  }

  /** Adds `user:password` in the base64 form used by `Authorization: Basic`. */
  addBasicAuth(username: string, password: string): void {
    this.add(basicAuthToken(username, password));
  }

  /** The text with every secret replaced. */
  redact(text: string): string {
    let out = text;
    for (const s of this.#secrets) out = out.split(s).join("***");
    return out;
  }
}

/** The URL without user info (for descriptions and messages). */
export function urlWithoutCredentials(url: URL): string {
  if (!url.username && !url.password) return url.href;
  const copy = new URL(url.href);
  copy.username = "";
  copy.password = "";
  return copy.href;
}

/** `base64(user:password)` for an `Authorization: Basic` header (UTF-8, as Go encodes it). */
export function basicAuthToken(username: string, password: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(`${username}:${password}`)) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary);
}

/**
 * One line for an error and its causes (`fetch failed: Connection refused (os error 111)`):
 * fetch puts the useful part in `cause`.
 */
export function errorChain(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 5; depth++) {
    const msg = cur instanceof Error ? cur.message : String(cur);
    if (msg && !parts.includes(msg)) parts.push(msg);
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join(": ");
}
