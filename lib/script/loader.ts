/**
 * Loads the user's script: reads it, bundles it with esbuild when it has relative imports or
 * is TypeScript, and turns it into a VU factory (lib/script/transform.ts).
 *
 * A plain JavaScript script that imports only k6 modules is not bundled: loading esbuild costs
 * ~110 ms of start-up (measured here), parsing with acorn ~5 ms.
 *
 * @example
 * ```ts
 * const script = await loadScript("examples/quickstart.js", Deno.cwd());
 * script.mode; // "async"
 * ```
 * @module
 */
import { parse } from "acorn";
import { errorMessage, SpateError } from "../errors.ts";
import { absolutePath } from "./paths.ts";
import { remoteModule } from "./remote.ts";
import { transformModule, type TransformResult } from "./transform.ts";

/** A loaded script, ready to be compiled in VU hosts. */
export interface LoadedScript extends TransformResult {
  /** Absolute path (or "-" read from stdin, reported as /dev/stdin). */
  path: string;
  /** The script's own source, as read. */
  source: string;
  /** Every local file the bundle read (for archives): absolute path → contents. */
  modules: Map<string, Uint8Array>;
  /** Whether esbuild bundled it. */
  bundled: boolean;
  /**
   * The bundle's source map (esbuild's JSON, and the folder its paths are relative to), so
   * error frames can name the files the bundle came from.
   */
  sourceMap?: { json: string; dir: string };
}

/** Reads and prepares the script at `path` (relative to `cwd`); "-" reads stdin. */
export async function loadScript(
  path: string,
  cwd: string,
  opts: { forceWorker?: boolean; source?: string } = {},
): Promise<LoadedScript> {
  const abs = path === "-" ? `${cwd}/stdin.js` : absolutePath(path, cwd);
  let source = opts.source;
  if (source === undefined) {
    try {
      source = path === "-"
        ? await new Response(Deno.stdin.readable).text()
        : await Deno.readTextFile(abs);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new SpateError("script", `The script "${path}" does not exist (looked at ${abs})`);
      }
      if (err instanceof Deno.errors.IsADirectory) {
        throw new SpateError("script", `The script "${path}" is a directory, not a file`);
      }
      throw new SpateError("script", `can't read the script "${path}": ${errorMessage(err)}`);
    }
  }
  const modules = new Map<string, Uint8Array>([[abs, new TextEncoder().encode(source)]]);
  let code = source;
  let bundled = false;
  let sourceMap: LoadedScript["sourceMap"];
  if (needsBundling(abs, source)) {
    ({ code, sourceMap } = await bundle(abs, source, modules));
    bundled = true;
  } else {
    // A script bundled elsewhere (webpack, say) may carry its own inline map; k6 reads it.
    const inline = inlineSourceMap(source);
    if (inline) sourceMap = { json: inline.json, dir: abs.replace(/\/[^/]*$/, "") || "/" };
  }
  const result = transformModule(code, { filename: abs, syncOnly: opts.forceWorker });
  if (opts.forceWorker && result.mode === "async") {
    result.mode = "worker";
    result.reason = "the worker mode was requested";
  }
  return { ...result, path: abs, source, modules, bundled, sourceMap };
}

/**
 * The source map a script carries at its end as a base64 `data:` URL (esbuild's and webpack's
 * inline form): its JSON, and where the comment starts. Undefined when there is none.
 */
function inlineSourceMap(text: string): { json: string; at: number } | undefined {
  const m =
    /\/\/# sourceMappingURL=data:application\/json;(?:charset=[\w-]+;)?base64,([A-Za-z0-9+/=]+)\s*$/
      .exec(text);
  if (!m) return undefined;
  try {
    const json = new TextDecoder().decode(Uint8Array.from(atob(m[1]), (c) => c.charCodeAt(0)));
    return { json, at: m.index };
  } catch {
    return undefined; // not a map we can read: frames stay as they are
  }
}

/** TypeScript, relative or remote imports, `export ... from` and CommonJS need esbuild. */
function needsBundling(path: string, source: string): boolean {
  if (/\.(ts|mts|cts|tsx)$/.test(path)) return true;
  let program;
  try {
    program = parse(source, { ecmaVersion: "latest", sourceType: "module", allowHashBang: true });
  } catch {
    return false; // let the transform report the syntax error with its location
  }
  let hasModuleSyntax = false;
  for (const stmt of program.body) {
    if (stmt.type === "ImportDeclaration") {
      hasModuleSyntax = true;
      const src = String(stmt.source.value);
      if (src !== "k6" && !src.startsWith("k6/")) return true;
    } else if (stmt.type === "ExportAllDeclaration") {
      return true;
    } else if (stmt.type === "ExportNamedDeclaration") {
      hasModuleSyntax = true;
      if (stmt.source) return true;
    } else if (stmt.type === "ExportDefaultDeclaration") {
      hasModuleSyntax = true;
    }
  }
  // `require("./lib.js")` of a file (k6 allows it in init code) needs its file bundled in.
  if (/\brequire\s*\(\s*["'`](?!k6["'`/])/.test(source)) return true;
  // No import/export at all: CommonJS (module.exports) goes through esbuild's conversion.
  return !hasModuleSyntax && /\b(module\.exports|exports\.|require\s*\()/.test(source);
}

async function bundle(
  path: string,
  source: string,
  modules: Map<string, Uint8Array>,
): Promise<{ code: string; sourceMap?: { json: string; dir: string } }> {
  let esbuild: typeof import("esbuild");
  try {
    esbuild = await import("esbuild");
  } catch (err) {
    throw new SpateError(
      "script",
      `this script needs bundling (TypeScript or relative imports) but esbuild is not ` +
        `available: ${errorMessage(err)}`,
    );
  }
  const dir = path.replace(/\/[^/]*$/, "") || "/";
  try {
    const result = await esbuild.build({
      stdin: {
        contents: source,
        sourcefile: path,
        resolveDir: dir,
        loader: /\.(ts|mts|cts)$/.test(path) ? "ts" : "js",
      },
      bundle: true,
      write: false,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      external: ["k6", "k6/*"],
      metafile: true,
      // Inline (write: false gives no separate map file); taken off the code below.
      sourcemap: "inline",
      logLevel: "silent",
      mainFields: ["module", "main"],
      plugins: [{
        // Remote modules come from the module cache, or are fetched into it (remote.ts);
        // their relative imports resolve against their URL.
        name: "spate-remote",
        setup(build) {
          build.onResolve({ filter: /^https?:\/\// }, (args) => ({
            path: args.path,
            namespace: "remote",
          }));
          build.onResolve({ filter: /.*/, namespace: "remote" }, (args) => {
            if (args.path === "k6" || args.path.startsWith("k6/")) {
              return { path: args.path, external: true };
            }
            try {
              return { path: new URL(args.path, args.importer).href, namespace: "remote" };
            } catch {
              return { errors: [{ text: `can't resolve "${args.path}" from ${args.importer}` }] };
            }
          });
          build.onLoad({ filter: /.*/, namespace: "remote" }, async (args) => {
            try {
              const contents = await remoteModule(args.path);
              if (args.path.startsWith("https://")) {
                modules.set(args.path, new TextEncoder().encode(contents));
              }
              return { contents, loader: /\.ts$/.test(new URL(args.path).pathname) ? "ts" : "js" };
            } catch (err) {
              return { errors: [{ text: errorMessage(err) }] };
            }
          });
        },
      }],
    });
    for (const input of Object.keys(result.metafile?.inputs ?? {})) {
      if (input === "<stdin>" || input.startsWith("remote:")) continue;
      const abs = input.startsWith("/") ? input : absolutePath(input, Deno.cwd());
      try {
        modules.set(abs, await Deno.readFile(abs));
      } catch { /* best effort: only needed for archives */ }
    }
    const text = result.outputFiles[0].text;
    const inline = inlineSourceMap(text);
    if (!inline) return { code: text };
    // The map's paths are relative to esbuild's working directory, this process's cwd.
    return { code: text.slice(0, inline.at), sourceMap: { json: inline.json, dir: Deno.cwd() } };
  } catch (err) {
    const failure = err as {
      errors?: Array<{ text: string; location?: { file: string; line: number; column: number } }>;
    };
    const first = failure.errors?.[0];
    if (first) {
      const loc = first.location;
      const where = loc
        ? ` at ${loc.file === "<stdin>" ? path : loc.file.replace(/^remote:/, "")}:${loc.line}:${
          loc.column + 1
        }`
        : "";
      throw new SpateError("script", `${first.text}${where}`);
    }
    throw new SpateError("script", `can't bundle the script: ${errorMessage(err)}`);
  } finally {
    await esbuild.stop();
  }
}
