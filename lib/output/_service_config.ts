/**
 * Small option readers shared by the service outputs: each turns one raw value (from the
 * config file JSON, an environment variable or a URL query parameter) into a typed value, or
 * throws a {@link SpateError} naming the field and the value.
 *
 * @example
 * ```ts
 * readBool("true", "K6_STATSD_ENABLE_TAGS"); // true
 * readPositiveInt("20", "K6_STATSD_BUFFER_SIZE"); // 20
 * readDurationMs("1s", "K6_STATSD_PUSH_INTERVAL"); // 1000
 * ```
 * @module
 */
import { invalidConfig } from "../errors.ts";
import { parseDuration } from "../config/duration.ts";

/** Reads a boolean the way Go's strconv.ParseBool does (1/t/true/0/f/false, any case). */
export function readBool(value: unknown, field: string): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const v = value.trim().toLowerCase();
    if (v === "1" || v === "t" || v === "true") return true;
    if (v === "0" || v === "f" || v === "false") return false;
  }
  throw invalidConfig(`invalid boolean ${JSON.stringify(value)} for ${field}`);
}

/** Reads an integer > 0. */
export function readPositiveInt(value: unknown, field: string): number {
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : NaN;
  if (!Number.isInteger(n) || n <= 0) {
    throw invalidConfig(`invalid value ${JSON.stringify(value)} for ${field}: want an integer > 0`);
  }
  return n;
}

/** Reads a duration (Go syntax, or a number of ms in JSON) that must be positive. */
export function readDurationMs(value: unknown, field: string): number {
  const ms = parseDuration(value, field);
  if (!(ms > 0)) {
    throw invalidConfig(`invalid duration ${JSON.stringify(value)} for ${field}: must be > 0`);
  }
  return ms;
}

/** Reads a string list: a JSON array, or a comma-separated string (blanks dropped). */
export function readList(value: unknown, field: string): string[] {
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    return value.map((v) => v.trim()).filter((v) => v !== "");
  }
  if (typeof value === "string") return value.split(",").map((v) => v.trim()).filter((v) => v);
  throw invalidConfig(`invalid list ${JSON.stringify(value)} for ${field}`);
}

/** Reads a string. */
export function readString(value: unknown, field: string): string {
  if (typeof value === "string") return value;
  throw invalidConfig(`invalid value ${JSON.stringify(value)} for ${field}: want a string`);
}

/** The `collectors.<name>` JSON block as a plain object (or empty). */
export function jsonObject(json: unknown, name: string): Record<string, unknown> {
  if (json === undefined || json === null) return {};
  if (typeof json === "object" && !Array.isArray(json)) return json as Record<string, unknown>;
  throw invalidConfig(`invalid config for output ${name}: want a JSON object`);
}

/**
 * Replaces the password in URL-like text with `***` (the user name stays, it helps users
 * recognise the target): `postgresql://k6:secret@db/k6` → `postgresql://k6:***@db/k6`.
 */
export function maskCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/gi, "$1:***@");
}
