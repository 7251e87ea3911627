/**
 * Remote modules (`import { randomString } from "https://jslib.k6.io/k6-utils/1.4.0/index.js"`),
 * which k6 fetches at every start. spate keeps a copy of each in a module cache and reads that
 * copy first, so a script runs the same on a machine without network once its modules have been
 * fetched (or copied there): the cache is `$SPATE_MODULE_CACHE`, else
 * `$XDG_CACHE_HOME/spate/modules`, else `~/.cache/spate/modules`, one file per URL
 * (`<cache>/<scheme>/<host>/<path>`). Modules at versioned URLs never change; delete a file to
 * fetch it again.
 *
 * @example
 * ```ts
 * const source = await remoteModule("https://jslib.k6.io/k6-utils/1.4.0/index.js");
 * ```
 * @module
 */
import { errorMessage, SpateError } from "../errors.ts";

/** How long one fetch may take. */
const fetchTimeoutMs = 30_000;

/** The module cache folder (see the module documentation). */
export function moduleCacheDir(): string {
  const env = (name: string) => {
    try {
      return Deno.env.get(name) || undefined;
    } catch {
      return undefined;
    }
  };
  const own = env("SPATE_MODULE_CACHE");
  if (own) return own;
  const xdg = env("XDG_CACHE_HOME") ?? `${env("HOME") ?? "/tmp"}/.cache`;
  return `${xdg}/spate/modules`;
}

/** Where the copy of `url` lives in the cache. */
export function cachePath(url: string, dir = moduleCacheDir()): string {
  const u = new URL(url);
  const path = decodeURIComponent(u.pathname).split("/").filter((p) => p !== "" && p !== "..");
  const file = (path.join("/") || "index") + (u.search ? encodeURIComponent(u.search) : "");
  return `${dir}/${u.protocol.slice(0, -1)}/${u.host.replace(/:/g, "_")}/${file}`;
}

/** Seeds the cache with a module's source (running an archive that carries it). */
export async function cacheModule(url: string, bytes: Uint8Array): Promise<void> {
  const path = cachePath(url);
  try {
    await Deno.stat(path);
    return; // already there
  } catch { /* write it */ }
  await store(path, bytes);
}

async function store(path: string, data: Uint8Array | string): Promise<void> {
  await Deno.mkdir(path.replace(/\/[^/]*$/, ""), { recursive: true });
  if (typeof data === "string") await Deno.writeTextFile(path, data);
  else await Deno.writeFile(path, data);
}

/** The source of the module at `url`: the cached copy, else fetched (and then cached). */
export async function remoteModule(url: string): Promise<string> {
  const path = cachePath(url);
  try {
    return await Deno.readTextFile(path);
  } catch { /* not cached yet */ }
  let text: string;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(fetchTimeoutMs) });
    if (!res.ok) {
      await res.body?.cancel();
      throw new SpateError(
        "script",
        `remote module "${url}" answered ${res.status} ${res.statusText}`,
      );
    }
    text = await res.text();
  } catch (err) {
    if (err instanceof SpateError) throw err;
    // fetch says only "fetch failed"; the reason (DNS, refused, TLS) is its cause.
    const cause = (err as { cause?: unknown }).cause;
    const why = errorMessage(err) + (cause ? ` (${errorMessage(cause)})` : "");
    throw new SpateError(
      "script",
      `remote module "${url}" can't be loaded: ${why}; no copy in the module ` +
        `cache either (${path}). Fetch it once on a machine that reaches it, or put the file there`,
    );
  }
  await store(path, text).catch(() => {}); // a read-only cache only costs a fetch next time
  return text;
}
