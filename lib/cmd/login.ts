/**
 * `spate cloud login` (alias `login cloud`): validates a Grafana Cloud k6 token against the
 * service and stores it in our config file (outputs-cloud.md §2, DECISIONS.md #6).
 *
 * - With a stack (`--stack <url-or-slug>`): `GET {hostv6}/cloud/v6/auth` with `Bearer` auth and
 *   `X-Stack-Url` (HEAD behaviour); stores token, stackID, stackURL, defaultProjectID.
 * - Without a stack: `POST {host}/v1/validate-token` (the v1.x check); stores the token.
 * - `show` prints what is stored, the token masked; `reset` clears the four login keys.
 *
 * The file is `collectors.cloud` inside `$XDG_CONFIG_HOME/spate/config.json`, written with mode
 * 0600 in a 0700 directory, other keys preserved. When our file is absent, k6's config file
 * (`$XDG_CONFIG_HOME/k6/config.json`) is read instead, so k6 users keep their token.
 *
 * @example
 * ```ts
 * await loginCloud({ token: "abc…", show: false, reset: false }, {
 *   configPath: defaultConfigPath(Deno.env.toObject()),
 *   env: Deno.env.toObject(),
 *   print: console.log,
 * });
 * ```
 * @module
 */
import { SpateError } from "../errors.ts";
import { USER_AGENT } from "../output/cloud/client.ts";

/** Input of {@link loginCloud} (the parsed flags). */
export interface LoginCloudInput {
  /** `-t/--token`. */
  token?: string;
  /** `-s/--show`. */
  show: boolean;
  /** `-r/--reset`. */
  reset: boolean;
  /** Legacy API host (default `K6_CLOUD_HOST` or https://ingest.k6.io). */
  host?: string;
  /** `--stack <url-or-slug>`: validate against the v6 API and store the stack too. */
  stack?: string;
}

/** Side effects of {@link loginCloud}, injected. */
export interface LoginCloudDeps {
  /** Our config file. */
  configPath: string;
  /** Process environment (K6_CLOUD_HOST, K6_CLOUD_HOST_V6, XDG_CONFIG_HOME, HOME). */
  env: Readonly<Record<string, string>>;
  fetch?: typeof fetch;
  /** Writes one line for the user. */
  print: (line: string) => void;
  /** k6's config file, read when ours is absent (default from the environment). */
  k6ConfigPath?: string;
}

/** `$XDG_CONFIG_HOME/spate/config.json` (default `~/.config/spate/config.json`). */
export function defaultConfigPath(env: Readonly<Record<string, string>>): string {
  return `${configHome(env)}/spate/config.json`;
}

/** k6's own config file location (`K6_CONFIG` or `<UserConfigDir>/k6/config.json`). */
export function k6ConfigPath(env: Readonly<Record<string, string>>): string {
  return env.K6_CONFIG || `${configHome(env)}/k6/config.json`;
}

function configHome(env: Readonly<Record<string, string>>): string {
  if (env.XDG_CONFIG_HOME) return env.XDG_CONFIG_HOME;
  return `${env.HOME ?? "."}/.config`;
}

/** Masks a token: first and last 4 characters kept when it has at least 12, else all. */
export function maskToken(token: string): string {
  if (token.length < 12) return "*".repeat(token.length);
  return token.slice(0, 4) + "*".repeat(token.length - 8) + token.slice(-4);
}

/** Normalises `--stack`: a URL → scheme://host; a slug → https://<slug>.grafana.net. */
export function normalizeStackURL(stack: string): string {
  const s = stack.trim();
  if (/^https?:\/\//i.test(s)) {
    const u = new URL(s);
    return `${u.protocol}//${u.host}`;
  }
  return `https://${s.replace(/\.grafana\.net$/i, "")}.grafana.net`;
}

async function readJSON(path: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new SpateError("io", `could not read ${path}: ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed;
  } catch {
    // fall through
  }
  throw new SpateError("invalid-config", `invalid config file ${path}: not a JSON object`);
}

/**
 * The stored cloud login (`collectors.cloud`): from our config file, or from k6's when ours
 * does not exist. Undefined when neither has one.
 */
export async function readStoredCloudConfig(
  deps: Pick<LoginCloudDeps, "configPath" | "env" | "k6ConfigPath">,
): Promise<Record<string, unknown> | undefined> {
  const ours = await readJSON(deps.configPath);
  const file = ours ?? await readJSON(deps.k6ConfigPath ?? k6ConfigPath(deps.env));
  const cloud = (file?.collectors as Record<string, unknown> | undefined)?.cloud;
  return cloud && typeof cloud === "object" ? cloud as Record<string, unknown> : undefined;
}

async function writeConfig(path: string, update: (cloud: Record<string, unknown>) => void) {
  const file = (await readJSON(path)) ?? {};
  const collectors =
    (file.collectors && typeof file.collectors === "object" ? file.collectors : {}) as Record<
      string,
      unknown
    >;
  const cloud =
    (collectors.cloud && typeof collectors.cloud === "object" ? collectors.cloud : {}) as Record<
      string,
      unknown
    >;
  update(cloud);
  collectors.cloud = cloud;
  file.collectors = collectors;
  const dir = path.replace(/[/\\][^/\\]*$/, "");
  if (dir && dir !== path) await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const text = JSON.stringify(file, null, 2) + "\n";
  // The file holds a secret: create it 0600 and tighten an existing file too.
  await Deno.writeTextFile(path, text, { mode: 0o600 });
  await Deno.chmod(path, 0o600);
}

async function validate(
  input: LoginCloudInput,
  deps: LoginCloudDeps,
  token: string,
): Promise<Record<string, unknown>> {
  const doFetch = deps.fetch ?? fetch;
  const headers: Record<string, string> = { "User-Agent": USER_AGENT, Accept: "application/json" };
  let url: string;
  let init: RequestInit;
  if (input.stack) {
    const hostv6 = (deps.env.K6_CLOUD_HOST_V6 || "https://api.k6.io").replace(/\/+$/, "");
    url = `${hostv6}/cloud/v6/auth`;
    headers["Authorization"] = `Bearer ${token}`;
    headers["X-Stack-Url"] = normalizeStackURL(input.stack);
    init = { method: "GET", headers };
  } else {
    const host = (input.host || deps.env.K6_CLOUD_HOST || "https://ingest.k6.io").replace(
      /\/+$/,
      "",
    );
    url = `${host}/v1/validate-token`;
    headers["Content-Type"] = "application/json";
    init = { method: "POST", headers, body: JSON.stringify({ token }) };
  }
  let res: Response;
  try {
    res = await doFetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
  } catch (err) {
    throw new SpateError(
      "output",
      `could not validate the token at ${url}: ${(err as Error).message}`,
    );
  }
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    // handled below
  }
  if (res.status === 401 || res.status === 403) {
    throw new SpateError(
      "invalid-config",
      "invalid token: the cloud rejected it (HTTP " + res.status + ")",
    );
  }
  if (!res.ok) {
    throw new SpateError("output", `could not validate the token at ${url}: HTTP ${res.status}`);
  }
  if (!input.stack && body.is_valid !== true) {
    const why = typeof body.message === "string" && body.message ? `: ${body.message}` : "";
    throw new SpateError("invalid-config", `invalid token${why}`);
  }
  return body;
}

/**
 * Runs the login command. Throws a {@link SpateError} on an invalid token, a missing token,
 * or an unreadable config file. The token is printed (masked) only with `show`.
 */
export async function loginCloud(input: LoginCloudInput, deps: LoginCloudDeps): Promise<void> {
  if (input.reset) {
    await writeConfig(deps.configPath, (cloud) => {
      delete cloud.token;
      delete cloud.stackID;
      delete cloud.stackURL;
      delete cloud.defaultProjectID;
    });
    deps.print(`Cloud login reset in ${deps.configPath}`);
    return;
  }
  if (input.token === undefined) {
    if (input.show) return show(deps);
    throw new SpateError(
      "usage",
      "a token is required: spate cloud login --token <token> [--stack <stack>]",
    );
  }
  const token = input.token.trim();
  if (token === "") throw new SpateError("usage", "the token given with --token is empty");
  const body = await validate(input, deps, token);
  await writeConfig(deps.configPath, (cloud) => {
    cloud.token = token;
    if (input.stack) {
      cloud.stackURL = normalizeStackURL(input.stack);
      if (typeof body.stack_id === "number") cloud.stackID = body.stack_id;
      if (typeof body.default_project_id === "number") {
        cloud.defaultProjectID = body.default_project_id;
      }
    }
  });
  deps.print(`Logged in successfully, token saved in ${deps.configPath}`);
  if (input.show) await show(deps);
}

async function show(deps: LoginCloudDeps): Promise<void> {
  const cloud = await readStoredCloudConfig(deps);
  if (!cloud || typeof cloud.token !== "string") {
    deps.print("not logged in (no token stored)");
    return;
  }
  deps.print(`  token: ${maskToken(cloud.token)}`);
  if (cloud.stackID !== undefined && cloud.stackID !== null) {
    deps.print(`  stack-id: ${cloud.stackID}`);
  }
  if (typeof cloud.stackURL === "string") deps.print(`  stack-url: ${cloud.stackURL}`);
  if (cloud.defaultProjectID !== undefined && cloud.defaultProjectID !== null) {
    deps.print(`  default-project-id: ${cloud.defaultProjectID}`);
  }
}
