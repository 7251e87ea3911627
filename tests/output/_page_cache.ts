/**
 * How much of a file is in the page cache, for the tests of the file outputs' write paths.
 * @module
 */
import { assert, assertEquals } from "../_assert.ts";

const libc = Deno.dlopen("libc.so.6", {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  mincore: { parameters: ["pointer", "usize", "buffer"], result: "i32" },
});

/** Share of the file's pages in the page cache (mmap + mincore, which reads nothing in). */
export function resident(path: string): number {
  const size = Deno.statSync(path).size;
  const fd = libc.symbols.open(new TextEncoder().encode(path + "\0"), 0);
  assert(fd >= 0, "open for mincore");
  try {
    const addr = libc.symbols.mmap(
      null,
      BigInt(size),
      1, /* PROT_READ */
      1, /* MAP_SHARED */
      fd,
      0n,
    );
    assert(addr !== null && Deno.UnsafePointer.value(addr) !== -1n, "mmap");
    const pages = new Uint8Array(Math.ceil(size / 4096));
    try {
      assertEquals(libc.symbols.mincore(addr, BigInt(size), pages), 0);
    } finally {
      libc.symbols.munmap(addr, BigInt(size));
    }
    return pages.reduce((n, p) => n + (p & 1), 0) / pages.length;
  } finally {
    libc.symbols.close(fd);
  }
}
