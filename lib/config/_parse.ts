/**
 * Scalar parsers that accept what k6's Go code accepts (strconv.ParseInt, strconv.ParseBool,
 * time.ParseDuration) and describe a rejection the way Go does, so CLI and env errors read like
 * k6's. Private to lib/config.
 * @module
 */
import { parseGoDuration } from "./duration.ts";

/** Parses a base-10 integer as Go's strconv.ParseInt does; undefined when malformed. */
export function parseGoInt(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const n = parseInt(text, 10);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Parses an integer flag value as pflag does (strconv.ParseInt with base 0): `0x1f`, `0b101`,
 * `0o17`, a leading-zero octal `017`, and `_` digit separators after a base prefix.
 */
export function parseGoIntBase0(text: string): number | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO]?[0-7_]+|[1-9][0-9_]*|0)$/.exec(text);
  if (!m) return undefined;
  let body = m[2];
  if (body.includes("_")) {
    // Go allows "_" only between digits (or right after the base prefix).
    if (!/^0[xXbBoO]?(_?[0-9a-fA-F])+$/.test(body) && !/^[1-9](_?\d)*$/.test(body)) {
      return undefined;
    }
    body = body.replaceAll("_", "");
  }
  let n: number;
  if (/^0[xX]/.test(body)) n = parseInt(body.slice(2), 16);
  else if (/^0[bB]/.test(body)) n = parseInt(body.slice(2), 2);
  else if (/^0[oO]/.test(body)) n = parseInt(body.slice(2), 8);
  else if (body.length > 1 && body[0] === "0") n = parseInt(body.slice(1), 8);
  else n = parseInt(body, 10);
  if (m[1] === "-") n = -n;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Go's strconv.ParseInt error text for `text`. */
export function goIntError(text: string): string {
  return `strconv.ParseInt: parsing ${goQuote(text)}: invalid syntax`;
}

const goTrue = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const goFalse = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** Parses a boolean as Go's strconv.ParseBool does; undefined when malformed. */
export function parseGoBool(text: string): boolean | undefined {
  if (goTrue.has(text)) return true;
  if (goFalse.has(text)) return false;
  return undefined;
}

/** Go's strconv.ParseBool error text for `text`. */
export function goBoolError(text: string): string {
  return `strconv.ParseBool: parsing ${goQuote(text)}: invalid syntax`;
}

/** Go's time.ParseDuration error text for a string it rejects. */
export function goDurationError(text: string): string {
  const q = goQuote(text);
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text)) return `time: missing unit in duration ${q}`;
  const unit =
    /^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))*(?:\d+(?:\.\d*)?|\.\d+)([^\d.]+)/
      .exec(text);
  if (unit) {
    const u = /^[^\d.]+/.exec(unit[1])?.[0] ?? unit[1];
    return `time: unknown unit ${goQuote(u)} in duration ${q}`;
  }
  return `time: invalid duration ${q}`;
}

/** Parses a Go duration (CLI flags accept only this syntax); ms, or undefined when malformed. */
export function parseFlagDuration(text: string): number | undefined {
  return parseGoDuration(text);
}

/** Quotes like Go's %q for the plain strings we deal with. */
export function goQuote(text: string): string {
  return JSON.stringify(text);
}

/** Splits a comma list as pflag's StringSlice does (CSV, trimmed of nothing, empty → []). */
export function splitCommaList(text: string): string[] {
  if (text === "") return [];
  return text.split(",");
}

/** `p(N)` / avg / min / med / max / count; returns the problem or undefined. */
export function trendStatProblem(stat: string): string | undefined {
  if (["avg", "min", "med", "max", "count"].includes(stat)) return undefined;
  if (!stat.startsWith("p(") || !stat.endsWith(")")) {
    return `invalid trend stat '${stat}', unknown format`;
  }
  const inner = stat.slice(2, -1);
  const p = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(inner) ? parseFloat(inner) : NaN;
  if (!(p >= 0 && p <= 100)) {
    return `invalid percentile trend stat value '${stat}', provide a number between 0 and 100`;
  }
  return undefined;
}

/** Names k6 knows as system tags (runner.md §5.3). */
export const allSystemTags: readonly string[] = [
  "proto",
  "subproto",
  "status",
  "method",
  "url",
  "name",
  "group",
  "check",
  "error",
  "error_code",
  "tls_version",
  "scenario",
  "service",
  "expected_response",
  "iter",
  "vu",
  "ocsp_status",
  "ip",
];

/** System tags enabled when nothing says otherwise (runner.md §5.3). */
export const defaultSystemTags: readonly string[] = allSystemTags.filter(
  (t) => !["iter", "vu", "ocsp_status", "ip"].includes(t),
);

/** Default trend columns (runner.md §2.3). */
export const defaultSummaryTrendStats: readonly string[] = [
  "avg",
  "min",
  "med",
  "max",
  "p(90)",
  "p(95)",
];

/** Keeps the known system tag names of `names` (unknown ones are silently ignored, as in k6). */
export function knownSystemTags(names: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of names) {
    const name = raw.trim();
    if (allSystemTags.includes(name) && !out.includes(name)) out.push(name);
  }
  return out;
}

const cidr4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Whether `text` is an IPv4 or IPv6 CIDR (`10.0.0.0/8`, `fd00::/8`). */
export function isCIDR(text: string): boolean {
  const m = cidr4.exec(text);
  if (m) {
    return m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
  }
  const slash = text.lastIndexOf("/");
  if (slash < 0) return false;
  const bits = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > 128) return false;
  const addr = text.slice(0, slash);
  if (!/^[0-9a-fA-F:.]+$/.test(addr) || !addr.includes(":")) return false;
  try {
    new URL(`http://[${addr}]/`);
    return true;
  } catch {
    return false;
  }
}

/** Parses k6's `--dns` text form (`ttl=5m,select=random,policy=preferIPv4`). */
export function parseDNSText(text: string): DNSSettings | string {
  const out: DNSSettings = {};
  for (const part of text.split(",")) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    const key = (eq < 0 ? part : part.slice(0, eq)).trim();
    const value = eq < 0 ? "" : part.slice(eq + 1).trim();
    const problem = dnsFieldProblem(key, value);
    if (problem) return problem;
    out[key as keyof DNSSettings] = value;
  }
  return out;
}

/** DNS resolver settings as strings (runner.md §2.5 `dns`). */
export interface DNSSettings {
  ttl?: string;
  select?: string;
  policy?: string;
}

/** Checks one DNS setting; returns the problem or undefined. */
export function dnsFieldProblem(key: string, value: string): string | undefined {
  switch (key) {
    case "ttl":
      if (value === "inf" || value === "0" || /^\d+$/.test(value)) return undefined;
      return parseGoDuration(value) !== undefined && parseGoDuration(value)! >= 0
        ? undefined
        : `invalid DNS ttl ${goQuote(value)}`;
    case "select":
      return ["first", "random", "roundRobin"].includes(value)
        ? undefined
        : `unsupported DNS select: ${goQuote(value)}, use one of first, random, roundRobin`;
    case "policy":
      return ["preferIPv4", "preferIPv6", "onlyIPv4", "onlyIPv6", "any"].includes(value)
        ? undefined
        : `unsupported DNS policy: ${
          goQuote(
            value,
          )
        }, use one of preferIPv4, preferIPv6, onlyIPv4, onlyIPv6, any`;
    default:
      return `unknown DNS configuration field: ${key}`;
  }
}
