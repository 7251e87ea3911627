/**
 * `--secret-source` (k6's secret sources) and the `k6/secrets` module. Sources:
 *
 * - `file=<path>` (or `file=filename=<path>`): `key=value` lines.
 * - `mock=key=value,...`: the values given.
 * - `url=urlTemplate=https://.../{key},...`: an HTTP request per `get` (`secrets_url.ts`).
 *
 * Each may add `name=<name>` (default: its type) and `default`; with one source, it is the
 * default. Scripts read values with `await secrets.get(key)` (the default source) or
 * `secrets.source(name).get(key)`. Every configured secret value is replaced by
 * `***SECRET_REDACTED***` in log lines (k6 replaces the values scripts have read; spate
 * replaces them all, so a value can't leak before it is read). A `url` source's values are
 * known once read: from then on, the VU host that read one hides it.
 *
 * @example
 * ```ts
 * const sources = loadSecretSources(["mock=cool=some"], "/tmp");
 * createSecretsModule(sources).get("cool"); // Promise<"some">
 * ```
 * @module
 */
import { errorMessage, SpateError } from "./errors.ts";
import { parseUrlSource, type UrlSecretConfig, UrlSecretSource } from "./secrets_url.ts";

/** One source: its values, or how to ask a URL for them. Plain data (it goes to the hosts). */
export type SecretSource = { values: Record<string, string> } | { url: UrlSecretConfig };

/** Source name → source ("default" names the default source too). */
export type SecretSources = Record<string, SecretSource>;

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

/**
 * Parses the `--secret-source` values; `cwd` resolves relative file paths, `env` has the
 * `K6_SECRET_SOURCE_URL_*` variables.
 */
export function loadSecretSources(
  lines: readonly string[],
  cwd: string,
  env: Readonly<Record<string, string | undefined>> = {},
): SecretSources {
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
    let source: SecretSource;
    if (type === "mock") {
      const values: Record<string, string> = {};
      source = { values };
      for (const kv of rest) {
        const at = kv.indexOf("=");
        if (at < 0) {
          throw new SpateError("invalid-config", `mock secret source: "${kv}" needs key=value`);
        }
        values[kv.slice(0, at)] = kv.slice(at + 1);
      }
    } else if (type === "file") {
      source = { values: readSecretFile(rest, cwd) };
    } else if (type === "url") {
      source = { url: parseUrlSource(rest, env, cwd) };
    } else {
      throw new SpateError(
        "invalid-config",
        `no secret source for type "${type}" for configuration "${line}" ` +
          `(spate has file, mock and url)`,
      );
    }
    if (name in sources) {
      throw new SpateError(
        "invalid-config",
        `secret source for name "${name}" already registered before configuration "${line}"`,
      );
    }
    sources[name] = source;
    if (isDefault) {
      if (hasDefault) {
        throw new SpateError(
          "invalid-config",
          `can't have two secret sources that are default ones, second one was "${line}"`,
        );
      }
      hasDefault = true;
      sources.default = source;
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
  for (const source of Object.values(sources)) {
    if ("values" in source) {
      for (const v of Object.values(source.values)) if (v !== "") all.add(v);
    }
  }
  return [...all].sort((a, b) => b.length - a.length);
}

/** `text` with every secret value replaced by {@link REDACTED}. */
export function redact(text: string, values: readonly string[]): string {
  let out = text;
  for (const v of values) if (out.includes(v)) out = out.split(v).join(REDACTED);
  return out;
}

/** The `url` sources' clients of this isolate (a VU host): one rate limit per source. */
const urlClients = new Map<UrlSecretConfig, UrlSecretSource>();

/**
 * The `k6/secrets` module over `sources`; `onRead` hears every value a `url` source returns
 * (the host hides it in its log lines from then on).
 */
export function createSecretsModule(
  sources: SecretSources,
  onRead?: (value: string) => void,
): Record<string, unknown> {
  const getter = (name: string) => (key: unknown): Promise<string> => {
    const source = sources[name];
    if (!source) {
      return Promise.reject(
        new Error(
          name === "default"
            ? "no secret sources are configured as default (use --secret-source)"
            : `no secret source with name "${name}" is configured`,
        ),
      );
    }
    const k = String(key);
    if ("url" in source) {
      let client = urlClients.get(source.url);
      if (!client) urlClients.set(source.url, client = new UrlSecretSource(source.url));
      return client.get(k).then((value) => {
        onRead?.(value);
        return value;
      });
    }
    return Object.hasOwn(source.values, k)
      ? Promise.resolve(source.values[k])
      : Promise.reject(new Error("no value"));
  };
  return {
    get: getter("default"),
    source: (name: unknown) => ({ get: getter(String(name)) }),
  };
}
