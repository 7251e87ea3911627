/**
 * `--secret-source` (k6's secret sources) and the `k6/secrets` module. Sources:
 *
 * - `file=<path>` (or `file=filename=<path>`): `key=value` lines.
 * - `mock=key=value,...`: the values given.
 *
 * Each may add `name=<name>` (default: its type) and `default`; with one source, it is the
 * default. Scripts read values with `await secrets.get(key)` (the default source) or
 * `secrets.source(name).get(key)`. Every configured secret value is replaced by
 * `***SECRET_REDACTED***` in log lines (k6 replaces the values scripts have read; spate
 * replaces them all, so a value can't leak before it is read).
 *
 * @example
 * ```ts
 * const sources = loadSecretSources(["mock=cool=some"], "/tmp");
 * createSecretsModule(sources).get("cool"); // Promise<"some">
 * ```
 * @module
 */
import { errorMessage, SpateError } from "./errors.ts";

/** Source name → key → value ("default" names the default source too). */
export type SecretSources = Record<string, Record<string, string>>;

/** What log lines carry instead of a secret. */
export const REDACTED = "***SECRET_REDACTED***";

/** Splits a source's configuration on commas, keeping quoted values (`cool="a, b"`) whole. */
function splitConfig(config: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (const c of config) {
    if (c === '"') quoted = !quoted;
    else if (c === "," && !quoted) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur !== "" || out.length > 0) out.push(cur);
  return out;
}

/** Parses the `--secret-source` values; `cwd` resolves relative file paths. */
export function loadSecretSources(lines: readonly string[], cwd: string): SecretSources {
  const sources: SecretSources = {};
  let hasDefault = false;
  for (const line of lines) {
    const eq = line.indexOf("=");
    const type = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (type === "") {
      throw new SpateError(
        "invalid-config",
        `couldn't parse secret source configuration "${line}"`,
      );
    }
    let name = "";
    let isDefault = false;
    const rest: string[] = [];
    for (const part of splitConfig(eq < 0 ? "" : line.slice(eq + 1))) {
      if (part === "default") isDefault = true;
      else if (part.startsWith("name=")) name = part.slice(5);
      else rest.push(part);
    }
    name ||= type;
    let values: Record<string, string>;
    if (type === "mock") {
      values = {};
      for (const kv of rest) {
        const at = kv.indexOf("=");
        if (at < 0) {
          throw new SpateError("invalid-config", `mock secret source: "${kv}" needs key=value`);
        }
        values[kv.slice(0, at)] = kv.slice(at + 1);
      }
    } else if (type === "file") {
      values = readSecretFile(rest, cwd);
    } else {
      throw new SpateError(
        "invalid-config",
        `no secret source for type "${type}" for configuration "${line}" (spate has file and mock)`,
      );
    }
    if (name in sources) {
      throw new SpateError(
        "invalid-config",
        `secret source for name "${name}" already registered before configuration "${line}"`,
      );
    }
    sources[name] = values;
    if (isDefault) {
      if (hasDefault) {
        throw new SpateError(
          "invalid-config",
          `can't have two secret sources that are default ones, second one was "${line}"`,
        );
      }
      hasDefault = true;
      sources.default = values;
    }
  }
  const names = Object.keys(sources);
  if (names.length === 1) sources.default = sources[names[0]];
  return sources;
}

function readSecretFile(config: string[], cwd: string): Record<string, string> {
  let filename = "";
  for (const kv of config) {
    const at = kv.indexOf("=");
    if (at < 0) filename = kv;
    else if (kv.slice(0, at) === "filename") filename = kv.slice(at + 1);
    else {
      throw new SpateError(
        "invalid-config",
        `unknown configuration key for file secret source "${kv.slice(0, at)}"`,
      );
    }
  }
  const path = filename.startsWith("/") ? filename : `${cwd}/${filename}`;
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound ? "no such file" : errorMessage(err);
    throw new SpateError("invalid-config", `file secret source: can't read "${filename}": ${why}`);
  }
  const values: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (line === "") continue;
    const at = line.indexOf("=");
    if (at < 0) {
      throw new SpateError("invalid-config", `file secret source: parsing "${line}", needs =`);
    }
    values[line.slice(0, at)] = line.slice(at + 1);
  }
  return values;
}

/** Every secret value, longest first (for redaction). */
export function secretValues(sources: SecretSources): string[] {
  const all = new Set<string>();
  for (const values of Object.values(sources)) {
    for (const v of Object.values(values)) if (v !== "") all.add(v);
  }
  return [...all].sort((a, b) => b.length - a.length);
}

/** `text` with every secret value replaced by {@link REDACTED}. */
export function redact(text: string, values: readonly string[]): string {
  let out = text;
  for (const v of values) if (out.includes(v)) out = out.split(v).join(REDACTED);
  return out;
}

/** The `k6/secrets` module over `sources`. */
export function createSecretsModule(sources: SecretSources): Record<string, unknown> {
  const getter = (name: string) => (key: unknown): Promise<string> => {
    const values = sources[name];
    if (!values) {
      return Promise.reject(
        new Error(
          name === "default"
            ? "no secret sources are configured as default (use --secret-source)"
            : `no secret source with name "${name}" is configured`,
        ),
      );
    }
    const k = String(key);
    return Object.hasOwn(values, k)
      ? Promise.resolve(values[k])
      : Promise.reject(new Error("no value"));
  };
  return {
    get: getter("default"),
    source: (name: unknown) => ({ get: getter(String(name)) }),
  };
}
