/**
 * Durations as k6 reads and prints them (runner.md §0): Go syntax (`300ms`, `1m30s`, `2h`,
 * `1.5s`, `10us`), k6's day extension (`1d12h`) and bare numbers meaning milliseconds in
 * options. CLI flags accept only Go syntax. Everything internal is milliseconds.
 *
 * @example
 * ```ts
 * parseDuration("1m30s", "duration"); // 90000
 * formatDuration(90000); // "1m30s"
 * ```
 * @module
 */
import { invalidConfig } from "../errors.ts";

const unitMs: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const goPart = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Parses Go duration syntax; returns undefined when malformed. */
export function parseGoDuration(text: string): number | undefined {
  let s = text.trim();
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") return undefined;
  let total = 0;
  goPart.lastIndex = 0;
  let at = 0;
  while (at < s.length) {
    goPart.lastIndex = at;
    const m = goPart.exec(s);
    if (!m) return undefined;
    total += parseFloat(m[1]) * unitMs[m[2]];
    at = goPart.lastIndex;
  }
  return sign * total;
}

/**
 * Parses a duration from an option value. Accepts Go syntax, `<N>d[rest]` and (unless
 * `goOnly`) a bare number or numeric string meaning milliseconds. Throws a
 * {@link SpateError} naming `field` and the value when malformed.
 */
export function parseDuration(
  value: unknown,
  field: string,
  opts: { goOnly?: boolean } = {},
): number {
  if (typeof value === "number" && !opts.goOnly) {
    if (Number.isFinite(value)) return value;
  } else if (typeof value === "string") {
    const text = value.trim();
    if (!opts.goOnly && /^-?\d+(\.\d+)?$/.test(text)) return parseFloat(text);
    const days = /^(-?)(\d+)d(.*)$/.exec(text);
    if (days && !opts.goOnly) {
      const rest = days[3] === "" ? 0 : parseGoDuration(days[3]);
      if (rest !== undefined && rest >= 0) {
        const ms = parseInt(days[2], 10) * 86_400_000 + rest;
        return days[1] === "-" ? -ms : ms;
      }
    } else {
      const ms = parseGoDuration(text);
      if (ms !== undefined) return ms;
    }
  }
  throw invalidConfig(`invalid duration ${JSON.stringify(value)} for ${field}`);
}

/**
 * Formats milliseconds as Go's `time.Duration.String()` does (which k6 prints in
 * descriptions): `0s`, `500ms`, `1.5s`, `1m0s`, `1h2m3s`.
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  const neg = ms < 0;
  let rest = Math.abs(ms);
  let out: string;
  if (rest < 1000) {
    if (rest < 1e-3) out = `${round(rest * 1e6)}ns`;
    else if (rest < 1) out = `${round(rest * 1e3)}µs`;
    else out = `${round(rest)}ms`;
  } else {
    const h = Math.floor(rest / 3_600_000);
    rest -= h * 3_600_000;
    const m = Math.floor(rest / 60_000);
    rest -= m * 60_000;
    const s = `${round(rest / 1000)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? "-" + out : out;
}

function round(n: number): string {
  // Go prints up to 9 significant fractional digits without trailing zeros.
  return String(parseFloat(n.toFixed(9)));
}
