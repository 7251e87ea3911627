/**
 * glibc through Deno's FFI, for the outputs' optional fast paths (write-behind, sendmmsg).
 * @module
 */

/**
 * A loader of `symbols` from glibc, run once: `null` where they can't be had (not Linux on
 * x86_64/aarch64, whose LP64 struct layouts the callers assume; no `--allow-ffi`; musl), and
 * the caller then takes its portable path.
 */
export function libcLoader<const S extends Deno.ForeignLibraryInterface>(
  symbols: S,
): () => Deno.DynamicLibrary<S>["symbols"] | null {
  let loaded: Deno.DynamicLibrary<S>["symbols"] | null | undefined;
  return () => {
    if (loaded !== undefined) return loaded;
    loaded = null;
    if (Deno.build.os !== "linux" || !["x86_64", "aarch64"].includes(Deno.build.arch)) {
      return loaded;
    }
    try {
      if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return loaded;
      loaded = Deno.dlopen("libc.so.6", symbols).symbols;
    } catch {
      // musl, or a sandbox without dlopen.
    }
    return loaded;
  };
}

/** `open` and `close`, for the file fast paths' symbol tables. */
export const fileSymbols = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
} as const;

const O_CLOEXEC = 0o2000000;

/**
 * A second descriptor of the regular file at `path`, opened with `flags` (plus `O_CLOEXEC`);
 * -1 when `path` is not a regular file (a pipe, a device, gone) or `open` refuses.
 */
export function openRegular(
  lib: { open: (path: Uint8Array<ArrayBuffer>, flags: number) => number },
  path: string,
  flags: number,
): number {
  try {
    if (!Deno.statSync(path).isFile) return -1;
  } catch {
    return -1;
  }
  return lib.open(new TextEncoder().encode(path + "\0"), flags | O_CLOEXEC);
}
