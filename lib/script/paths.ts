/**
 * Script paths: a `file://` URL's path, an absolute path as it is, or a relative one resolved
 * against a folder with `.` and `..` taken out. Shared by the loader (the script, bundled
 * files), the VUs' `open()` and source maps (no other imports, so VU hosts load it cheaply).
 *
 * @example
 * ```ts
 * absolutePath("../data/users.csv", "/tests/load"); // "/tests/data/users.csv"
 * ```
 * @module
 */

/** `path` as an absolute path, relative ones resolved against `dir`. */
export function absolutePath(path: string, dir: string): string {
  if (path.startsWith("file://")) return decodeURIComponent(new URL(path).pathname);
  if (path.startsWith("/")) return path;
  const out: string[] = [];
  for (const part of `${dir}/${path}`.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}
