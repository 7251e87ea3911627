/**
 * Write-behind for the file outputs: once a part of a results file is on disk, it leaves the
 * page cache, as `dd oflag=nocache` and PostgreSQL's `backend_flush_after` do.
 *
 * Why: a file output writes 1–3 KB per request, gigabytes in a long test, that nobody reads
 * during the test. Kept in the page cache, it takes memory from everything else on the
 * machine, and the writer stalls when the kernel's dirty-page limit is reached. Dropped
 * behind the writer, the same few megabytes of page cache are reused all test long. On the
 * development VM, which hands freed memory back to its host, it also halves the CPU of a
 * write: writing 1 GB through Deno took 1.7–3.0 s of CPU into new page-cache pages and
 * 0.9–1.0 s with the pages dropped behind it, the writeback included.
 *
 * How: every {@link STEP} bytes, `posix_fadvise(POSIX_FADV_DONTNEED)` through Deno's FFI on a
 * second, read-only descriptor of the file (the page cache is per file, not per descriptor).
 * The call starts the writeback of the dirty pages in its range and drops the clean ones, so
 * each call covers the whole file so far: the pages whose writeback an earlier call started
 * are dropped by a later one (the kernel skips the parts already dropped at little cost). It
 * runs on a thread of its own (`nonblocking`), never on the event loop; a call still running
 * when the next step is due makes that step wait for the following one.
 *
 * It is an optimisation only: where it cannot run (not Linux, no `--allow-ffi`, no libc, a
 * pipe or device rather than a regular file), {@link WriteBehind.open} returns `undefined`
 * and files are written as before.
 * @module
 */
import { fileSymbols, libcLoader, openRegular } from "./_libc.ts";

/** Bytes written between two calls. */
export const STEP = 8 << 20;

const O_RDONLY = 0;
const POSIX_FADV_DONTNEED = 4;

const symbols = {
  ...fileSymbols,
  posix_fadvise: {
    parameters: ["i32", "i64", "i64", "i32"],
    result: "i32",
    nonblocking: true,
  },
} as const;

type Libc = Deno.DynamicLibrary<typeof symbols>["symbols"];

const loadLibc = libcLoader(symbols);

/** See the module documentation. */
export class WriteBehind {
  readonly #libc: Libc;
  readonly #fd: number;
  #written = 0;
  /** File size at the latest call. */
  #lastEnd = 0;
  #inFlight?: Promise<number>;
  #closed = false;
  /** Calls made (for tests and the curious). */
  calls = 0;

  private constructor(lib: Libc, fd: number) {
    this.#libc = lib;
    this.#fd = fd;
  }

  /**
   * Write-behind for the regular file at `path`, or `undefined` where it cannot be had (see
   * the module documentation).
   */
  static open(path: string): WriteBehind | undefined {
    const lib = loadLibc();
    if (!lib) return undefined;
    const fd = openRegular(lib, path, O_RDONLY);
    return fd < 0 ? undefined : new WriteBehind(lib, fd);
  }

  /** Tells that `n` more bytes reached the file (its `write` returned). */
  wrote(n: number): void {
    this.#written += n;
    if (this.#closed || this.#inFlight || this.#written - this.#lastEnd < STEP) return;
    this.#lastEnd = this.#written;
    this.calls++;
    const call = this.#libc.posix_fadvise(
      this.#fd,
      0n,
      BigInt(this.#written),
      POSIX_FADV_DONTNEED,
    );
    this.#inFlight = call;
    const done = () => this.#inFlight = undefined;
    call.then(done, done);
  }

  /** Waits for a call in flight and closes the descriptor. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#inFlight?.catch(() => {});
    this.#libc.close(this.#fd);
  }
}
