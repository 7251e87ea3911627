/**
 * The k6-compatible test archive: a tar with
 *
 * - `metadata.json` — `{type:"js", options, filename, pwd, env, compatibilityMode, k6version,
 *   goos}`, pretty-printed with 2 spaces (filename/pwd are `file:///…` URLs);
 * - `data` — the main script's source;
 * - `file/<path>` and `https/<host>/<path>` — every opened file and imported module, preceded by
 *   directory entries; the main script's own entry is a hard link to `data`.
 *
 * Paths under a home directory are anonymised (`/home/alice/x` → `/home/nobody/x`), as k6
 * does, so archives can be shared. Entries are sorted so equal inputs give equal archives
 * (apart from the modification times).
 *
 * The tar format is hand-written (ustar, plus a PAX `path` record for names that ustar cannot
 * hold): the npm tar libraries are built on Node streams and the file system (node-tar) or on
 * Node streams and Buffer (tar-stream), while an in-memory ustar writer/reader is ~150 lines.
 *
 * @example
 * ```ts
 * const tar = writeArchive({
 *   scriptPath: "/home/me/test.js",
 *   scriptSource: "export default function () {}",
 *   files: new Map(),
 *   options: { vus: 1 },
 *   env: {},
 * });
 * readArchive(tar).scriptSource; // "export default function () {}"
 * ```
 * @module
 */
import { SpateError } from "../errors.ts";

/** Input of {@link writeArchive}. */
export interface ArchiveInput {
  /** Absolute path of the main script. */
  scriptPath: string;
  scriptSource: string;
  /** Opened files and imported modules: absolute path (or `https://` URL) → bytes. */
  files: ReadonlyMap<string, Uint8Array>;
  options: Readonly<Record<string, unknown>>;
  env: Readonly<Record<string, string>>;
  k6Version?: string;
  /** Modification time of the entries (default now). */
  mtime?: Date;
}

/** `metadata.json` of an archive. */
export interface ArchiveMetadata {
  type: string;
  options: Record<string, unknown>;
  filename: string;
  pwd: string;
  env: Record<string, string>;
  compatibilityMode: string;
  k6version: string;
  goos: string;
  [key: string]: unknown;
}

/** What {@link readArchive} returns. */
export interface ArchiveContents {
  metadata: ArchiveMetadata;
  /** Path of the main script inside the archive (anonymised), e.g. `/home/nobody/test.js`. */
  scriptPath: string;
  scriptSource: string;
  /** Every file and module: path (`/…` for local files, `https://…` for remote) → bytes. */
  files: Map<string, Uint8Array>;
}

const homeDir = /^(\/[a-zA-Z])?\/(Users|home|Documents and Settings)\/[^/]+/i;

/** Normalises separators and replaces the user name of home directories by `nobody`. */
export function anonymizePath(path: string): string {
  let p = path.replace(/\\/g, "/");
  p = p.replace(/^\/?([a-zA-Z]):(.*)/, "/$1$2");
  p = p.replace(/\/+/g, "/");
  return p.replace(homeDir, "$1/$2/nobody");
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Splits a key of `files` into the archive's (scheme, path). */
function locate(key: string): { scheme: "file" | "https"; path: string } {
  if (key.startsWith("https://")) return { scheme: "https", path: "/" + key.slice(8) };
  if (key.startsWith("file://")) {
    return { scheme: "file", path: anonymizePath(decodeURIComponent(new URL(key).pathname)) };
  }
  return { scheme: "file", path: anonymizePath(key) };
}

function dirsOf(path: string): string[] {
  const out: string[] = ["/"];
  const parts = path.split("/").filter(Boolean);
  for (let i = 1; i < parts.length; i++) out.push("/" + parts.slice(0, i).join("/"));
  return out;
}

function joinEntry(scheme: string, path: string): string {
  return path === "/" ? scheme : scheme + path;
}

/** Builds the archive. */
export function writeArchive(input: ArchiveInput): Uint8Array {
  const mtime = Math.floor((input.mtime ?? new Date()).getTime() / 1000);
  const main = locate(input.scriptPath);
  if (main.scheme !== "file") {
    throw new SpateError("invalid-config", `archive: the main script must be a local file`);
  }
  const pwd = main.path.slice(0, main.path.lastIndexOf("/") + 1);
  const metadata = {
    type: "js",
    options: input.options,
    filename: `file://${encodeURI(main.path)}`,
    pwd: `file://${encodeURI(pwd)}`,
    env: input.env,
    compatibilityMode: "extended",
    k6version: input.k6Version ?? "2.2.0",
    goos: Deno.build.os === "windows" ? "windows" : Deno.build.os === "darwin" ? "darwin" : "linux",
  };
  const w = new TarWriter();
  w.file("metadata.json", encoder.encode(JSON.stringify(metadata, null, 2) + "\n"), mtime);
  w.file("data", encoder.encode(input.scriptSource), mtime);

  const byScheme = new Map<string, Map<string, Uint8Array>>([["file", new Map()], [
    "https",
    new Map(),
  ]]);
  byScheme.get("file")!.set(main.path, new Uint8Array());
  for (const [key, bytes] of input.files) {
    const { scheme, path } = locate(key);
    byScheme.get(scheme)!.set(path, bytes);
  }
  for (const [scheme, files] of byScheme) {
    if (files.size === 0) continue;
    const dirs = new Set<string>();
    for (const path of files.keys()) for (const d of dirsOf(path)) dirs.add(d);
    for (const d of [...dirs].sort()) w.dir(joinEntry(scheme, d), mtime);
    for (const path of [...files.keys()].sort()) {
      const name = joinEntry(scheme, path);
      if (scheme === "file" && path === main.path) w.link(name, "data");
      else w.file(name, files.get(path)!, mtime);
    }
  }
  return w.finish();
}

/** Parses an archive written by k6 or {@link writeArchive}. */
export function readArchive(bytes: Uint8Array): ArchiveContents {
  let metadata: ArchiveMetadata | undefined;
  let data: Uint8Array | undefined;
  const files = new Map<string, Uint8Array>();
  for (const entry of readTar(bytes)) {
    if (entry.type !== "0") continue;
    if (entry.name === "metadata.json") {
      try {
        metadata = JSON.parse(decoder.decode(entry.data));
      } catch {
        throw new SpateError("invalid-config", "archive: metadata.json is not valid JSON");
      }
      continue;
    }
    if (entry.name === "data") {
      data = entry.data;
      continue;
    }
    const name = anonymizePath(entry.name);
    const slash = name.indexOf("/");
    if (slash < 0) continue;
    const prefix = name.slice(0, slash);
    const rest = name.slice(slash);
    if (prefix === "file") files.set(rest, entry.data);
    else if (prefix === "https") files.set("https:/" + rest, entry.data);
    else {
      throw new SpateError("invalid-config", `archive: unknown file prefix ${prefix} for ${name}`);
    }
  }
  if (!metadata) throw new SpateError("invalid-config", "archive: metadata.json is missing");
  if (!data) throw new SpateError("invalid-config", "archive: the main script (data) is missing");
  const filename = String(metadata.filename ?? "");
  const scriptPath = filename.startsWith("file://")
    ? decodeURI(filename.slice("file://".length))
    : filename;
  files.set(scriptPath, data);
  return { metadata, scriptPath, scriptSource: decoder.decode(data), files };
}

// ---- ustar ----

interface TarEntry {
  name: string;
  type: string;
  data: Uint8Array;
}

class TarWriter {
  #chunks: Uint8Array[] = [];

  file(name: string, data: Uint8Array, mtime: number): void {
    this.#entry(name, "0", 0o644, data, mtime, "");
  }
  dir(name: string, mtime: number): void {
    this.#entry(name, "5", 0o755, new Uint8Array(), mtime, "");
  }
  link(name: string, target: string): void {
    this.#entry(name, "1", 0, new Uint8Array(), 0, target);
  }

  #entry(
    name: string,
    type: string,
    mode: number,
    data: Uint8Array,
    mtime: number,
    linkname: string,
  ): void {
    let split = splitUstarName(name);
    if (!split) {
      // PAX extended header with the full path; the ustar name is a truncated fallback.
      const record = paxRecord("path", name);
      this.#chunks.push(
        header(`PaxHeaders.0/${name.slice(-80)}`, "x", 0o644, record.length, mtime, ""),
      );
      this.#chunks.push(padded(record));
      split = { prefix: "", name: name.slice(-100) };
    }
    this.#chunks.push(header(split.name, type, mode, data.length, mtime, linkname, split.prefix));
    if (data.length > 0) this.#chunks.push(padded(data));
  }

  finish(): Uint8Array {
    this.#chunks.push(new Uint8Array(1024));
    let n = 0;
    for (const c of this.#chunks) n += c.length;
    const out = new Uint8Array(n);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

function splitUstarName(name: string): { prefix: string; name: string } | undefined {
  // ustar names are bytes; anything non-ASCII goes into a PAX record instead.
  if (encoder.encode(name).length !== name.length) return undefined;
  if (name.length <= 100) return { prefix: "", name };
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== "/") continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (prefix.length <= 155 && rest.length <= 100 && rest.length > 0) {
      return { prefix, name: rest };
    }
    if (rest.length > 100) break;
  }
  return undefined;
}

function paxRecord(key: string, value: string): Uint8Array {
  const body = ` ${key}=${value}\n`;
  const bodyLen = encoder.encode(body).length;
  let len = bodyLen + String(bodyLen).length;
  if (String(len).length !== String(bodyLen).length) len = bodyLen + String(len).length;
  return encoder.encode(`${len}${body}`);
}

function padded(data: Uint8Array): Uint8Array {
  const size = Math.ceil(data.length / 512) * 512;
  if (size === data.length) return data;
  const out = new Uint8Array(size);
  out.set(data);
  return out;
}

function putString(buf: Uint8Array, at: number, len: number, s: string): void {
  const bytes = encoder.encode(s);
  buf.set(bytes.subarray(0, len), at);
}

function putOctal(buf: Uint8Array, at: number, len: number, v: number): void {
  // len-1 zero-padded octal digits and a NUL, as Go's archive/tar writes them.
  putString(buf, at, len - 1, v.toString(8).padStart(len - 1, "0"));
}

function header(
  name: string,
  type: string,
  mode: number,
  size: number,
  mtime: number,
  linkname: string,
  prefix = "",
): Uint8Array {
  const h = new Uint8Array(512);
  putString(h, 0, 100, name);
  putOctal(h, 100, 8, mode);
  putOctal(h, 108, 8, 0);
  putOctal(h, 116, 8, 0);
  putOctal(h, 124, 12, size);
  putOctal(h, 136, 12, mtime);
  h.fill(0x20, 148, 156); // checksum field counts as spaces
  putString(h, 156, 1, type);
  putString(h, 157, 100, linkname);
  putString(h, 257, 6, "ustar");
  putString(h, 263, 2, "00");
  putString(h, 345, 155, prefix);
  let sum = 0;
  for (const b of h) sum += b;
  putString(h, 148, 7, sum.toString(8).padStart(6, "0"));
  h[154] = 0;
  h[155] = 0x20;
  return h;
}

function cString(buf: Uint8Array, at: number, len: number): string {
  let end = at;
  while (end < at + len && buf[end] !== 0) end++;
  return decoder.decode(buf.subarray(at, end));
}

function octal(buf: Uint8Array, at: number, len: number): number {
  const s = cString(buf, at, len).trim();
  return s === "" ? 0 : parseInt(s, 8);
}

function* readTar(bytes: Uint8Array): Generator<TarEntry> {
  let at = 0;
  let longName: string | undefined;
  const bad = (why: string) => new SpateError("invalid-config", `archive: not a valid tar: ${why}`);
  while (at + 512 <= bytes.length) {
    const h = bytes.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
    if (sum !== octal(h, 148, 8)) throw bad(`checksum mismatch at offset ${at}`);
    const type = String.fromCharCode(h[156] || 0x30);
    const size = octal(h, 124, 12);
    const dataStart = at + 512;
    if (dataStart + size > bytes.length) throw bad("truncated entry");
    const data = bytes.subarray(dataStart, dataStart + size);
    at = dataStart + Math.ceil(size / 512) * 512;
    if (type === "x") {
      const text = decoder.decode(data);
      for (const rec of text.split("\n")) {
        const m = /^\d+ path=(.*)$/s.exec(rec);
        if (m) longName = m[1];
      }
      continue;
    }
    if (type === "L") {
      longName = cString(data, 0, data.length);
      continue;
    }
    if (type === "g") continue;
    const magic = cString(h, 257, 6);
    const prefix = magic.startsWith("ustar") ? cString(h, 345, 155) : "";
    let name = cString(h, 0, 100);
    if (prefix) name = `${prefix}/${name}`;
    if (longName !== undefined) {
      name = longName;
      longName = undefined;
    }
    yield { name, type, data: data.slice() };
  }
}
