/**
 * The JSON config file (runner.md §2.1, §2.7; DECISIONS.md #6). Path: `--config`/`-c`, else
 * `K6_CONFIG`, else `$XDG_CONFIG_HOME/spate/config.json` (default `~/.config/spate/config.json`).
 * A missing default file is ignored; a missing explicit file or invalid JSON is exit 104 naming
 * the path (and the parse position). When spate's default file is absent, the cloud login state
 * (`collectors.cloud`) is taken from k6's file (`~/.config/k6/config.json`) so k6 users keep
 * their token.
 *
 * @example
 * ```ts
 * const file = loadConfigFile({ env: Deno.env.toObject() });
 * if (file.exists) console.log(file.path, file.config.vus);
 * ```
 * @module
 */
import { SpateError } from "../errors.ts";
import { type ConfigLayer, parseConfigObject } from "./schema.ts";

function configHome(env: Readonly<Record<string, string>>): string {
  if (env.XDG_CONFIG_HOME) return env.XDG_CONFIG_HOME;
  const home = env.HOME ?? env.USERPROFILE ?? ".";
  return `${home}/.config`;
}

/** spate's own default config file: `$XDG_CONFIG_HOME/spate/config.json`. *
 * @example
 * ```ts
 * defaultConfigPath({ HOME: "/home/me" }); // "/home/me/.config/spate/config.json"
 * ```
 */
export function defaultConfigPath(env: Readonly<Record<string, string>>): string {
  return `${configHome(env)}/spate/config.json`;
}

/** k6's default config file (`$XDG_CONFIG_HOME/k6/config.json`), read for the login token. *
 * @example
 * ```ts
 * k6ConfigPath({ XDG_CONFIG_HOME: "/cfg" }); // "/cfg/k6/config.json"
 * ```
 */
export function k6ConfigPath(env: Readonly<Record<string, string>>): string {
  return `${configHome(env)}/k6/config.json`;
}

/** The outcome of looking for the config file. */
export interface LoadedConfigFile {
  /** The path that was (or would have been) read. */
  readonly path: string;
  /** Whether the path came from `--config` or `K6_CONFIG`. */
  readonly explicit: boolean;
  /** Whether the file existed and was read. */
  readonly exists: boolean;
  /** The parsed JSON as written (for `login`, which rewrites the file). */
  readonly raw?: Record<string, unknown>;
  /** The decoded layer ({} when there is no file). */
  readonly config: ConfigLayer;
  /** Set when `collectors.cloud` was taken from k6's config file (DECISIONS.md #6). */
  readonly cloudLoginFrom?: string;
}

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new SpateError(
      "invalid-config",
      `failed to load the configuration file from the local file system: couldn't load the ` +
        `configuration from ${JSON.stringify(path)}: ${err instanceof Error ? err.message : err}`,
    );
  }
}

/** Parses JSON text; on error names the path, the line and the column. */
export function parseConfigJSON(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    let detail = err instanceof Error ? err.message : String(err);
    const pos = /at position (\d+)/.exec(detail);
    if (pos && !/line \d+/.test(detail)) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split("\n").length;
      const col = before.length - before.lastIndexOf("\n");
      detail += ` (line ${line} column ${col})`;
    }
    throw new SpateError(
      "invalid-config",
      `failed to load the configuration file from the local file system: couldn't parse the ` +
        `configuration from ${JSON.stringify(path)}: ${detail}`,
    );
  }
}

/**
 * Finds, reads and decodes the config file. `flagPath` is `--config` (wins over K6_CONFIG).
 * Throws SpateError "invalid-config" (exit 104) for a missing explicit file, invalid JSON or a
 * bad value.
 *
 * @example
 * ```ts
 * const file = loadConfigFile({ flagPath: cmd.flags.config, env: Deno.env.toObject() });
 * ```
 */
export function loadConfigFile(
  opts: { flagPath?: string; env: Readonly<Record<string, string>> },
): LoadedConfigFile {
  const explicitPath = opts.flagPath ?? opts.env.K6_CONFIG;
  const explicit = explicitPath !== undefined && explicitPath !== "";
  const path = explicit ? explicitPath! : defaultConfigPath(opts.env);
  const text = readText(path);
  if (text === undefined) {
    if (explicit) {
      throw new SpateError(
        "invalid-config",
        `failed to load the configuration file from the local file system: open ${path}: ` +
          `no such file or directory`,
      );
    }
    const inherited = k6CloudLogin(opts.env);
    return inherited
      ? { path, explicit, exists: false, config: inherited, cloudLoginFrom: k6ConfigPath(opts.env) }
      : { path, explicit, exists: false, config: {} };
  }
  const raw = parseConfigJSON(text, path);
  const config = parseConfigObject(raw, path);
  return { path, explicit, exists: true, raw: raw as Record<string, unknown>, config };
}

/** `collectors.cloud` from k6's config file, if that file exists and holds one; else undefined. */
function k6CloudLogin(env: Readonly<Record<string, string>>): ConfigLayer | undefined {
  const path = k6ConfigPath(env);
  let text: string | undefined;
  try {
    text = readText(path);
  } catch {
    return undefined; // unreadable k6 file: nothing to inherit
  }
  if (text === undefined) return undefined;
  try {
    const raw = JSON.parse(text) as { collectors?: { cloud?: unknown } };
    const cloud = raw?.collectors?.cloud;
    if (typeof cloud !== "object" || cloud === null || Array.isArray(cloud)) return undefined;
    return { collectors: { cloud } };
  } catch {
    return undefined; // a broken k6 file is k6's business, not a spate error
  }
}

/**
 * Writes a config file as k6 does: pretty JSON (2 spaces), file mode 0600 inside a 0700
 * directory, since it can hold the cloud token.
 *
 * @example
 * ```ts
 * writeConfigFile(defaultConfigPath(env), { collectors: { cloud: { token } } });
 * ```
 */
export function writeConfigFile(path: string, data: Record<string, unknown>): void {
  const slash = path.lastIndexOf("/");
  if (slash > 0) {
    const dir = path.slice(0, slash);
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.chmodSync(dir, 0o700);
  }
  Deno.writeTextFileSync(path, JSON.stringify(data, null, 2), { mode: 0o600 });
  Deno.chmodSync(path, 0o600);
}
