/**
 * Byte-exact formatting shared by the file outputs: Go's `%f`, Go's `encoding/json` numbers
 * and strings (HEAD: no HTML escaping, DECISIONS.md #4), Go's `encoding/csv` field quoting and
 * Go's RFC 3339 timestamps in the local time zone (outputs-files.md §3–§4).
 *
 * These run once per sample, so they avoid regular expressions and allocations on the common
 * path and cache per-second timestamp prefixes.
 * @module
 */
import { sampleMicros } from "../metrics/sample.ts";
import { type ByteSink, digitCount, MAX_TIME_TEXT, putInt31 } from "./_byte_sink.ts";

/**
 * Formats like Go's `fmt.Sprintf("%f", v)`: six decimals, `NaN`, `+Inf`, `-Inf`, `-0.000000`,
 * no exponent, and exact ties rounded half to even (JS `toFixed` rounds them up).
 *
 * @example
 * ```ts
 * formatFixed6(221.899); // "221.899000"
 * ```
 */
export function formatFixed6(v: number): string {
  if (v !== v) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0.000000" : "0.000000";
  const abs = v < 0 ? -v : v;
  if (abs >= 1e21) {
    // toFixed switches to exponent form here; such doubles are integers.
    return BigInt(v).toString() + ".000000";
  }
  const twice = v * 2e6;
  if (Number.isInteger(twice) && twice % 2 !== 0) return tieFixed6(v);
  return v.toFixed(6);
}

// A candidate exact tie at the 7th decimal. toFixed(100) is the exact decimal expansion of any
// double that can have a 7th-decimal tie (their binary exponent is above -100).
function tieFixed6(v: number): string {
  const exact = v.toFixed(100);
  const dot = exact.indexOf(".");
  const tail = exact.slice(dot + 7);
  if (tail[0] !== "5" || !/^50*$/.test(tail)) return v.toFixed(6);
  const truncated = exact.slice(0, dot + 7);
  const last = truncated.charCodeAt(truncated.length - 1) - 48;
  // Half to even: keep the truncated digits when they end even, else JS's rounded-up result.
  return last % 2 === 0 ? truncated : v.toFixed(6);
}

/**
 * Formats a number as Go's `encoding/json` does for float64 (shortest round trip, exponent
 * only below 1e-6 or from 1e21, `-0` kept). NaN and ±Inf cannot be encoded: returns undefined.
 *
 * @example
 * ```ts
 * formatJSONNumber(1); // "1"
 * formatJSONNumber(1e-7); // "1e-7"
 * ```
 */
export function formatJSONNumber(v: number): string | undefined {
  if (v - v !== 0) return undefined; // NaN or ±Inf
  if (v === 0 && Object.is(v, -0)) return "-0";
  // JS Number#toString uses the same shortest digits and the same exponent thresholds.
  return "" + v;
}

/**
 * Values below this with at most six decimals (every timing: k6 measures in whole
 * nanoseconds and reports milliseconds) take the digit-writing fast path. Below 1e9 a double's
 * spacing is under 1.2e-7, so exactly one six-decimal number rounds to it: that number is both
 * the shortest round-trip form and the `%f` form.
 */
const fastLimit = 1e9;

/**
 * Writes `v` when it takes the fast path: +0, or a magnitude in [1e-6, 1e9) with at most six
 * decimals. Writes the shortest decimal (`trim`, e.g. `0.5`), which Go's `'f', -1`, Go's JSON
 * encoder and JS's `String` agree on in this range, or six decimals (`0.500000`, Go's `%f` and
 * JS's `toFixed(6)`). Returns false, writing nothing, for any other value: the caller formats
 * it the slow way.
 */
export function writeMillionths(sink: ByteSink, v: number, trim: boolean): boolean {
  if (v === 0) {
    if (1 / v < 0) return false; // -0: each format has its own spelling
    if (trim) sink.byte(0x30);
    else sink.ascii("0.000000");
    return true;
  }
  const abs = v < 0 ? -v : v;
  if (!(abs < fastLimit)) return false;
  const micros = Math.round(abs * 1e6);
  if (micros === 0 || micros / 1e6 !== abs) return false;
  if (v < 0) sink.byte(0x2d);
  // abs is exactly micros / 1e6, so its integer part is micros's millions: both parts exact.
  const whole = Math.floor(abs);
  sink.decimal6(whole, micros - whole * 1e6, trim);
  return true;
}

/**
 * Writes `v` to `sink` exactly as {@link formatJSONNumber} formats it; false (and nothing
 * written) for NaN and ±Inf.
 */
export function writeJSONNumber(sink: ByteSink, v: number): boolean {
  if (writeMillionths(sink, v, true)) return true;
  const text = formatJSONNumber(v);
  if (text === undefined) return false;
  sink.ascii(text);
  return true;
}

/** Writes `v` to `sink` exactly as {@link formatFixed6} formats it. */
export function writeFixed6(sink: ByteSink, v: number): void {
  if (!writeMillionths(sink, v, false)) sink.ascii(formatFixed6(v));
}

// Characters a JSON string can carry verbatim in Go's encoder with HTML escaping off:
// everything but `"`, `\`, control characters, U+2028/2029 and lone surrogates.
function isPlainJSON(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x2028 || c === 0x2029) return false;
    if (c >= 0xd800 && c <= 0xdfff) {
      // A valid pair is fine; a lone surrogate is not.
      if (c <= 0xdbff) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          i++;
          continue;
        }
      }
      return false;
    }
  }
  return true;
}

/**
 * Quotes a string as Go's `encoding/json` encoder (HTML escaping off) does: `\"`, `\\`,
 * `\n`, `\r`, `\t`, `\b`, `\f`, other control characters as `\u00xx`, U+2028/U+2029 escaped,
 * and lone surrogates replaced by U+FFFD (Go strings are UTF-8).
 *
 * @example
 * ```ts
 * jsonString("a&b"); // "\"a&b\""
 * ```
 */
export function jsonString(s: string): string {
  if (isPlainJSON(s)) return '"' + s + '"';
  // JSON.stringify already escapes like Go for everything else (lower-case hex, \b and \f).
  return JSON.stringify(s.toWellFormed())
    .replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}

// Go's unicode.IsSpace for the first rune (encoding/csv quotes a field that starts with one).
function isGoSpace(c: number): boolean {
  return (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0x85 || c === 0xa0 ||
    c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 ||
    c === 0x202f || c === 0x205f || c === 0x3000;
}

/**
 * One CSV field as Go's `encoding/csv` writes it (comma separator, `\n` records): quoted
 * only when it contains `,`, `"`, `\r` or `\n`, starts with a space character, or is `\.`;
 * quotes inside are doubled.
 *
 * @example
 * ```ts
 * csvField('say "hi", ok'); // "\"say \"\"hi\"\", ok\""
 * ```
 */
export function csvField(s: string): string {
  if (s.length === 0) return s;
  let quote = isGoSpace(s.charCodeAt(0)) || s === "\\.";
  if (!quote) {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x2c || c === 0x22 || c === 0x0a || c === 0x0d) {
        quote = true;
        break;
      }
    }
  }
  if (!quote) return s;
  return '"' + s.replaceAll('"', '""') + '"';
}

function pad2(n: number): string {
  return n < 10 ? "0" + n : "" + n;
}

function pad4(n: number): string {
  if (n >= 1000) return "" + n;
  return ("000" + n).slice(-4);
}

/** Go's `Z07:00`: `Z` for a zero offset, else `+hh:mm` / `-hh:mm`. */
function offsetText(offsetMinutes: number): string {
  if (offsetMinutes === 0) return "Z";
  const sign = offsetMinutes > 0 ? "+" : "-";
  const abs = Math.abs(offsetMinutes);
  return sign + pad2(Math.floor(abs / 60)) + ":" + pad2(abs % 60);
}

/** Copies `bytes` into `buf` at `at`; returns the index after them (short copies: a loop). */
function put(buf: Uint8Array, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) buf[at++] = bytes[i];
  return at;
}

/**
 * Writes the integer `n` in [0, 2^53) at `buf[at]`; returns the index after its digits.
 */
export function putUint(buf: Uint8Array, at: number, n: number): number {
  if (n < 2147483648) {
    const count = digitCount(n | 0);
    putInt31(buf, at + count, n, count);
    return at + count;
  }
  // Below 2^53 both halves are exact: at most 7 digits, then exactly 9.
  const high = Math.floor(n / 1e9);
  at = putUint(buf, at, high);
  putInt31(buf, at + 9, n - high * 1e9, 9);
  return at + 9;
}

const latin1 = new TextDecoder("latin1");
const utf8 = new TextEncoder();

/**
 * Formats sample times (Unix epoch ms, microsecond resolution) as RFC 3339 in the process's
 * local time zone, like Go's `time.RFC3339` / `time.RFC3339Nano`. Caches the bytes of the last
 * whole second, since consecutive samples almost always share it, and writes the fraction
 * digit by digit: the file outputs format a time per request, and building it as strings
 * made up a third of the JSON encoder's time and most of its garbage.
 *
 * @example
 * ```ts
 * const f = new LocalTimeFormatter();
 * f.rfc3339Nano(1714557600123.456); // "2024-05-01T10:00:00.123456Z" when TZ=UTC
 * ```
 */
export class LocalTimeFormatter {
  #second = NaN;
  #prefix = new Uint8Array(0);
  #offset = new Uint8Array(0);
  readonly #scratch = new Uint8Array(MAX_TIME_TEXT);

  #load(second: number): void {
    const d = new Date(second * 1000);
    const offsetMinutes = -d.getTimezoneOffset();
    const prefix = pad4(d.getFullYear()) + "-" + pad2(d.getMonth() + 1) + "-" +
      pad2(d.getDate()) + "T" + pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" +
      pad2(d.getSeconds());
    this.#prefix = utf8.encode(prefix);
    this.#offset = utf8.encode(offsetText(offsetMinutes));
    this.#second = second;
  }

  /** `2006-01-02T15:04:05Z07:00` (whole seconds), written to `buf` (a {@link TimeWriter}). */
  writeRfc3339(time: number, buf: Uint8Array): number {
    const second = Math.floor(time / 1000);
    if (second !== this.#second) this.#load(second);
    return put(buf, put(buf, 0, this.#prefix), this.#offset);
  }

  /**
   * `2006-01-02T15:04:05.999999999Z07:00`, the fraction without trailing zeros and none if
   * zero, written to `buf` (a {@link TimeWriter}).
   */
  writeRfc3339Nano(time: number, buf: Uint8Array): number {
    const second = Math.floor(time / 1000);
    let micros = sampleMicros(time, second) | 0;
    if (second !== this.#second) this.#load(second);
    let at = put(buf, 0, this.#prefix);
    if (micros !== 0) {
      let digits = 6;
      while (micros % 10 === 0) {
        micros = (micros / 10) | 0;
        digits--;
      }
      buf[at++] = 0x2e;
      putInt31(buf, at + digits, micros, digits);
      at += digits;
    }
    return put(buf, at, this.#offset);
  }

  /** {@link LocalTimeFormatter.writeRfc3339} as a string. */
  rfc3339(time: number): string {
    return latin1.decode(this.#scratch.subarray(0, this.writeRfc3339(time, this.#scratch)));
  }

  /** {@link LocalTimeFormatter.writeRfc3339Nano} as a string. */
  rfc3339Nano(time: number): string {
    return latin1.decode(this.#scratch.subarray(0, this.writeRfc3339Nano(time, this.#scratch)));
  }
}
