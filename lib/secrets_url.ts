/**
 * k6's `url` secret source: `--secret-source=url=urlTemplate=https://vault/.../{key},...`.
 * Each `secrets.get(key)` requests the template with `{key}` replaced and returns the body, or
 * the string at `responsePath` in a JSON body.
 *
 * Configuration, lowest precedence first, as in k6: defaults; `K6_SECRET_SOURCE_URL_*`
 * variables (`..._URL_TEMPLATE`, `..._METHOD`, `..._RESPONSE_PATH`, `..._TIMEOUT`,
 * `..._MAX_RETRIES`, `..._RETRY_BACKOFF`, `..._REQUESTS_PER_MINUTE_LIMIT`,
 * `..._REQUESTS_BURST`, `..._HEADER_<NAME>`); a JSON file named by `config=<path>`; the
 * inline `key=value` pairs (`headers.<Name>=` for headers).
 *
 * Behaviour matches k6's: a token bucket of `requestsPerMinuteLimit` with `requestsBurst`;
 * `maxRetries` more attempts after a network error, a 5xx or a 429, waiting
 * `retryBackoff`-seconds to the power of the attempt number, in whole seconds (k6's formula),
 * plus up to 1 s of jitter; other statuses fail at once; bodies over 24 KiB are refused. The
 * requests are made in the VU hosts (the limiter is per host), and a value read is hidden in
 * that host's log lines from then on.
 * @module
 */
import { parseGoDuration } from "./config/duration.ts";
import { errorMessage, SpateError } from "./errors.ts";
import { gjsonGet } from "./js/_gjson.ts";

/** The resolved configuration (plain data: it travels to the VU hosts). */
export interface UrlSecretConfig {
  readonly urlTemplate: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly method: string;
  readonly responsePath: string;
  readonly requestsPerMinuteLimit: number;
  readonly requestsBurst: number;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly retryBackoffMs: number;
}

/** One layer of the configuration (environment, file, inline): the fields it sets. */
type Layer = { -readonly [K in keyof UrlSecretConfig]?: UrlSecretConfig[K] };

const MAX_SECRET_BYTES = 24 * 1024;

function configError(why: string): SpateError {
  return new SpateError("invalid-config", `url secret source: missing or invalid config: ${why}`);
}

function int(value: string, field: string): number {
  // Go's Sscanf("%d"): an optional sign and digits at the start.
  const m = /^\s*([+-]?\d+)/.exec(value);
  if (!m) throw configError(`invalid ${field}: expected integer`);
  return Number(m[1]);
}

function duration(value: string, field: string): number {
  const ms = parseGoDuration(value);
  if (ms === undefined) throw configError(`invalid ${field}: time: invalid duration "${value}"`);
  return ms;
}

/** Applies one `key=value` of the inline form (or a file's field, as text). */
function setOption(cfg: Layer, key: string, value: string): void {
  switch (key) {
    case "urlTemplate":
      cfg.urlTemplate = value;
      return;
    case "method":
      cfg.method = value;
      return;
    case "responsePath":
      cfg.responsePath = value;
      return;
    case "timeout":
      cfg.timeoutMs = duration(value, key);
      return;
    case "requestsPerMinuteLimit":
      cfg.requestsPerMinuteLimit = int(value, key);
      return;
    case "requestsBurst":
      cfg.requestsBurst = int(value, key);
      return;
    case "maxRetries":
      cfg.maxRetries = int(value, key);
      return;
    case "retryBackoff":
      cfg.retryBackoffMs = duration(value, key);
      return;
  }
  if (!key.startsWith("headers.")) throw configError(`unknown configuration key: "${key}"`);
  cfg.headers = { ...cfg.headers, [key.slice("headers.".length)]: value };
}

const ENV: ReadonlyArray<[string, string]> = [
  ["URL_TEMPLATE", "urlTemplate"],
  ["METHOD", "method"],
  ["RESPONSE_PATH", "responsePath"],
  ["TIMEOUT", "timeout"],
  ["MAX_RETRIES", "maxRetries"],
  ["RETRY_BACKOFF", "retryBackoff"],
  ["REQUESTS_PER_MINUTE_LIMIT", "requestsPerMinuteLimit"],
  ["REQUESTS_BURST", "requestsBurst"],
];

function fromEnv(env: Readonly<Record<string, string | undefined>>): Layer {
  const cfg: Layer = {};
  for (const [suffix, key] of ENV) {
    const value = env[`K6_SECRET_SOURCE_URL_${suffix}`];
    if (value) setOption(cfg, key, value);
  }
  const prefix = "K6_SECRET_SOURCE_URL_HEADER_";
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith(prefix) && value !== undefined) {
      cfg.headers = { ...cfg.headers, [name.slice(prefix.length)]: value };
    }
  }
  return cfg;
}

function fromFile(path: string, cwd: string): Layer {
  let data: unknown;
  try {
    data = JSON.parse(Deno.readTextFileSync(path.startsWith("/") ? path : `${cwd}/${path}`));
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound
      ? `failed to open config file: open ${path}: no such file or directory`
      : err instanceof SyntaxError
      ? `failed to parse JSON config: ${err.message}`
      : `failed to read config file: ${errorMessage(err)}`;
    throw configError(why);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw configError(`failed to parse JSON config: "${path}" is not a JSON object`);
  }
  const cfg: Layer = {};
  for (const [key, value] of Object.entries(data)) {
    if (key === "headers") {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw configError(`failed to parse JSON config: "headers" must be an object`);
      }
      cfg.headers = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
      continue;
    }
    const isNumber = ["requestsPerMinuteLimit", "requestsBurst", "maxRetries"].includes(key);
    if (isNumber ? typeof value !== "number" : typeof value !== "string") {
      throw configError(
        `failed to parse JSON config: "${key}" must be a ${isNumber ? "number" : "string"}`,
      );
    }
    // Unknown fields are ignored, as Go's json.Unmarshal ignores them.
    if (ENV.some(([, k]) => k === key)) setOption(cfg, key, String(value));
  }
  return cfg;
}

/**
 * The configuration of one `url` source from its inline parts (`key=value`, `config=<file>`),
 * the environment and the defaults; a config error (exit 104) naming the field otherwise.
 */
export function parseUrlSource(
  parts: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): UrlSecretConfig {
  let file: Layer = {};
  const inline: Layer = {};
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq < 0) throw configError(`invalid config format "${part}", expected key=value`);
    const key = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (key === "config") file = fromFile(value, cwd);
    else setOption(inline, key, value);
  }
  const cfg: UrlSecretConfig = {
    urlTemplate: "",
    headers: {},
    method: "GET",
    responsePath: "",
    requestsPerMinuteLimit: 300,
    requestsBurst: 10,
    timeoutMs: 30_000,
    maxRetries: 3,
    retryBackoffMs: 1000,
    ...fromEnv(env),
    ...file,
    ...inline,
  };
  validate(cfg);
  return cfg;
}

function validate(cfg: UrlSecretConfig): void {
  if (cfg.urlTemplate === "") throw configError("urlTemplate is required");
  if (!cfg.urlTemplate.includes("{key}")) {
    throw configError("urlTemplate must contain {key} placeholder");
  }
  // WHATWG URL parsing fails on a relative or scheme-less URL, as Go's check does.
  if (!URL.canParse(cfg.urlTemplate.replaceAll("{key}", "test"))) {
    throw configError("urlTemplate must be an absolute URL with a scheme (e.g., https://...)");
  }
  if (cfg.timeoutMs <= 0) throw configError("timeout must be greater than 0");
  if (cfg.requestsPerMinuteLimit <= 0) {
    throw configError("requestsPerMinuteLimit must be greater than 0");
  }
  if (cfg.requestsBurst <= 0) throw configError("requestsBurst must be greater than 0");
  if (cfg.maxRetries < 0) throw configError("maxRetries must be non-negative");
  if (cfg.retryBackoffMs <= 0) throw configError("retryBackoff must be greater than 0");
}

const GJSON_TYPES: Record<string, string> = {
  number: "Number",
  boolean: "True",
  object: "JSON",
};

/** A source the VU hosts ask: rate-limited, retried, k6's error texts. */
export class UrlSecretSource {
  readonly #cfg: UrlSecretConfig;
  readonly #sleep: (ms: number) => Promise<void>;
  #tokens: number;
  #refilledAt = performance.now();

  constructor(
    cfg: UrlSecretConfig,
    sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.#cfg = cfg;
    this.#sleep = sleep;
    this.#tokens = cfg.requestsBurst;
  }

  /** The secret for `key`; rejects with k6's error text. */
  async get(key: string): Promise<string> {
    await this.#take();
    const cfg = this.#cfg;
    const attempts = cfg.maxRetries + 1;
    let last: Error = new Error("failed to get secret");
    for (let i = 0; i < attempts; i++) {
      if (i > 0) {
        // k6: whole seconds of backoff-seconds to the power i, plus up to 1 s of jitter.
        const wait = Math.trunc((cfg.retryBackoffMs / 1000) ** i) * 1000 +
          Math.floor(Math.random() * 1000);
        await this.#sleep(wait);
      }
      const outcome = await this.#attempt(key);
      if (typeof outcome === "string") return outcome;
      last = outcome.error;
      if (!outcome.retry) break;
    }
    throw last;
  }

  async #attempt(key: string): Promise<string | { error: Error; retry: boolean }> {
    const cfg = this.#cfg;
    let res: Response;
    try {
      res = await fetch(cfg.urlTemplate.replaceAll("{key}", key), {
        method: cfg.method,
        headers: cfg.headers,
        signal: AbortSignal.timeout(cfg.timeoutMs),
      });
    } catch (err) {
      const why = err instanceof DOMException && err.name === "TimeoutError"
        ? `request timed out after ${cfg.timeoutMs}ms`
        : errorMessage(err);
      return { error: new Error(`failed to get secret: ${why}`), retry: true };
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      return {
        error: new Error(`status code ${res.status}: failed to get secret`),
        retry: res.status >= 500 || res.status === 429,
      };
    }
    const body = new Uint8Array(await res.arrayBuffer());
    const fail = (why: string) => ({
      error: new Error(`failed to extract secret: ${why}`),
      retry: false,
    });
    if (body.length > MAX_SECRET_BYTES) {
      return fail(`secret response exceeds maximum size of ${MAX_SECRET_BYTES} bytes`);
    }
    const text = new TextDecoder().decode(body);
    if (cfg.responsePath === "") return text;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return fail(`path "${cfg.responsePath}" not found in response`);
    }
    const value = gjsonGet(doc, cfg.responsePath);
    if (value === undefined) return fail(`path "${cfg.responsePath}" not found in response`);
    if (typeof value !== "string") {
      const type = value === null
        ? "Null"
        : value === false
        ? "False"
        : GJSON_TYPES[typeof value] ?? "JSON";
      return fail(`secret value at path "${cfg.responsePath}" is not a string (got ${type})`);
    }
    return value;
  }

  /** Waits for a token of the bucket (refilled at requestsPerMinuteLimit per minute). */
  async #take(): Promise<void> {
    const every = 60_000 / this.#cfg.requestsPerMinuteLimit;
    for (;;) {
      const now = performance.now();
      const refill = (now - this.#refilledAt) / every;
      if (refill > 0) {
        this.#tokens = Math.min(this.#cfg.requestsBurst, this.#tokens + refill);
        this.#refilledAt = now;
      }
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await this.#sleep((1 - this.#tokens) * every);
    }
  }
}
