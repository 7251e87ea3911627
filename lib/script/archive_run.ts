/**
 * `spate run archive.tar`: an archive made by `spate archive` or `k6 archive` is unpacked into
 * a private temporary folder (paths as recorded) and run from there, with the options and
 * environment it carries.
 *
 * @example
 * ```ts
 * const a = await openArchiveIfAny("test.tar", Deno.cwd());
 * if (a) console.log(a.scriptPath);
 * ```
 * @module
 */
import { errorMessage, SpateError } from "../errors.ts";
import { readArchive } from "./archive.ts";
import { cacheModule } from "./remote.ts";

/** An unpacked archive. */
export interface OpenedArchive {
  /** The temporary folder (removed by the caller after the run). */
  dir: string;
  /** The main script's path inside `dir`. */
  scriptPath: string;
  options: Record<string, unknown>;
  env: Record<string, string>;
}

function isTar(bytes: Uint8Array): boolean {
  return bytes.length >= 262 &&
    new TextDecoder().decode(bytes.subarray(257, 262)) === "ustar";
}

/**
 * Unpacks `path` when it is an archive (`--type archive`, or a tar file by its content);
 * returns undefined for a plain script.
 */
export async function openArchiveIfAny(
  path: string,
  cwd: string,
  type?: "js" | "archive",
): Promise<OpenedArchive | undefined> {
  if (type === "js" || path === "-") return undefined;
  const abs = path.startsWith("/") ? path : `${cwd}/${path}`;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(abs);
  } catch {
    return undefined; // the loader reports a missing script with the right message
  }
  if (!isTar(bytes)) {
    if (type === "archive") {
      throw new SpateError("invalid-config", `"${path}" is not an archive (tar) file`);
    }
    return undefined;
  }
  const contents = readArchive(bytes);
  const dir = await Deno.makeTempDir({ prefix: "spate-archive-" });
  try {
    for (const [file, data] of contents.files) {
      if (!file.startsWith("/")) {
        // A remote module: into the module cache, where the loader looks first (offline too).
        if (/^https?:\/\//.test(file)) await cacheModule(file, data);
        continue;
      }
      const target = `${dir}${file}`;
      await Deno.mkdir(target.replace(/\/[^/]*$/, ""), { recursive: true });
      await Deno.writeFile(target, data);
    }
    const scriptPath = `${dir}${contents.scriptPath}`;
    await Deno.mkdir(scriptPath.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.writeTextFile(scriptPath, contents.scriptSource);
    return {
      dir,
      scriptPath,
      options: contents.metadata.options ?? {},
      env: contents.metadata.env ?? {},
    };
  } catch (err) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw new SpateError("io", `can't unpack the archive "${path}": ${errorMessage(err)}`);
  }
}
