/**
 * Direct I/O for the file outputs: results go from a staging buffer straight to the disk
 * (`O_DIRECT`), not through the page cache, as databases write their logs.
 *
 * Why: a file output writes 1–3 KB per request that nobody reads during the test. Through the
 * page cache, every byte is copied into a cache page first, and each page is allocated,
 * written back and freed again (see `_write_behind.ts`, which keeps that cache small). With
 * direct I/O the disk reads the bytes from the staging buffer itself: the kernel copies
 * nothing and allocates no cache. Measured with `dd bs=4M` on the development VM: writing
 * 800 MB cost 1.96 s of CPU through the page cache with the pages dropped behind
 * (`oflag=nocache`), and 0.04 s direct (`oflag=direct`).
 *
 * How:
 * - Two staging buffers of {@link STAGE} bytes (`posix_memalign`). Bytes are copied into one
 *   while the other is being written, so the copy and the disk overlap; a full buffer goes
 *   out with one `pwrite` on Deno's FFI thread (`nonblocking`).
 * - The buffers are aligned to {@link HUGE_PAGE} and asked for transparent huge pages
 *   (`madvise(MADV_HUGEPAGE)`, which Linux's default THP mode `madvise` honours): for each
 *   direct write the kernel pins the buffer's pages, and pinning two 2 MiB pages instead of
 *   1024 small ones cut the CPU of a 4 MiB write from 167–170 µs to 33–52 µs (python3's
 *   `os.pwrite` from an `mmap` on the development VM, both ways in one run). Where huge pages
 *   can't be had the advice fails quietly and the small pages work as before.
 * - Direct writes must start, end and sit in memory on block boundaries. So a flush writes
 *   the whole blocks directly and the last, partial block through the ordinary descriptor
 *   (page cache), where a reader sees it at once; the partial block stays staged and goes
 *   out again, direct, once it is full. Linux keeps the two coherent: a direct write first
 *   writes back and drops any cached page in its range.
 * - The file size is always exactly the bytes written: direct writes cover whole blocks of
 *   data only, the tail is written with its own length.
 * - Any failed or short direct write (a full disk, a file system that refuses it) switches
 *   the file to the ordinary descriptor for good: the failed range is written again there,
 *   so the error the caller sees is Deno's usual one ("No space left on device (os error
 *   28)"), and nothing already accepted is skipped.
 *
 * It is an optimisation only: where it cannot run (not Linux, no `--allow-ffi`, no glibc, not
 * a regular file, a file system without `O_DIRECT` such as older tmpfs), {@link DirectWriter.open}
 * returns `undefined` and the file is written through the page cache, behind
 * (`_write_behind.ts`).
 * @module
 */
import { fileSymbols, libcLoader, openRegular } from "./_libc.ts";

/** Alignment of direct writes: file offsets, lengths and buffer addresses. */
export const BLOCK = 4096;
/** Size of each of the two staging buffers. */
export const STAGE = 4 << 20;
/** Alignment of the staging buffers: x86_64's and aarch64's (4 KiB granule) huge page. */
export const HUGE_PAGE = 2 << 20;
const MADV_HUGEPAGE = 14;

const O_WRONLY = 0o1;
/** `O_DIRECT` differs between the two architectures `libcLoader` allows. */
const O_DIRECT = Deno.build.arch === "aarch64" ? 0o200000 : 0o40000;

const symbols = {
  ...fileSymbols,
  posix_memalign: { parameters: ["buffer", "usize", "usize"], result: "i32" },
  free: { parameters: ["pointer"], result: "void" },
  madvise: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  pwrite: {
    parameters: ["i32", "pointer", "usize", "i64"],
    result: "isize",
    nonblocking: true,
  },
} as const;

type Libc = Deno.DynamicLibrary<typeof symbols>["symbols"];

/** The direct write: bytes written, or -1. Tests replace it to make it fail. */
export type Pwrite = (
  fd: number,
  buf: Deno.PointerObject,
  length: number,
  offset: number,
) => Promise<number>;

const loadLibc = libcLoader(symbols);

interface Stage {
  readonly ptr: Deno.PointerObject;
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** The kernel took the huge-page advice. */
  readonly huge: boolean;
}

function allocStage(lib: Libc): Stage | undefined {
  const out = new BigUint64Array(1);
  if (lib.posix_memalign(out, BigInt(HUGE_PAGE), BigInt(STAGE)) !== 0) return undefined;
  const ptr = Deno.UnsafePointer.create(out[0]);
  if (ptr === null) return undefined;
  // Before the first touch, so the pages are huge from the start.
  const huge = lib.madvise(ptr, BigInt(STAGE), MADV_HUGEPAGE) === 0;
  return { ptr, bytes: new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(ptr, STAGE)), huge };
}

/** Writes all of `bytes` to `w`, however many `write` calls it takes. */
export async function writeAll(
  w: { write(p: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await w.write(bytes.subarray(off));
}

async function writeAt(file: Deno.FsFile, bytes: Uint8Array, offset: number): Promise<void> {
  await file.seek(offset, Deno.SeekMode.Start);
  await writeAll(file, bytes);
}

/** See the module documentation. */
export class DirectWriter {
  readonly #lib: Libc;
  readonly #pwrite: Pwrite;
  readonly #fd: number;
  /** The ordinary descriptor: partial blocks, and everything once direct writes failed. */
  readonly #file: Deno.FsFile;
  #stages: [Stage, Stage];
  /** The stage being filled, and how much of it is. */
  #current = 0;
  #fill = 0;
  /** File offset of the current stage's first byte (a multiple of {@link BLOCK}). */
  #offset = 0;
  /** The direct write of the other stage, if one is running. */
  #inFlight?: Promise<void>;
  /** Set once a direct write failed: from then on everything goes through {@link #file}. */
  #buffered = false;
  #closed = false;
  /** write, flush and close run one after another, in call order. */
  #turn: Promise<unknown> = Promise.resolve();
  /** Direct writes made (for tests and the curious). */
  directWrites = 0;

  private constructor(
    lib: Libc,
    pwrite: Pwrite,
    fd: number,
    file: Deno.FsFile,
    stages: [Stage, Stage],
  ) {
    this.#lib = lib;
    this.#pwrite = pwrite;
    this.#fd = fd;
    this.#file = file;
    this.#stages = stages;
  }

  /**
   * Direct I/O for the empty regular file at `path`, which `file` has open for writing, or
   * `undefined` where it cannot be had (see the module documentation). `pwrite` replaces the
   * direct write (tests).
   */
  static open(path: string, file: Deno.FsFile, pwrite?: Pwrite): DirectWriter | undefined {
    const lib = loadLibc();
    if (!lib) return undefined;
    const fd = openRegular(lib, path, O_WRONLY | O_DIRECT);
    if (fd < 0) return undefined;
    const a = allocStage(lib);
    const b = a && allocStage(lib);
    if (!a || !b) {
      if (a) lib.free(a.ptr);
      lib.close(fd);
      return undefined;
    }
    const direct: Pwrite = async (fd, buf, length, offset) =>
      Number(await lib.pwrite(fd, buf, BigInt(length), BigInt(offset)));
    return new DirectWriter(lib, pwrite ?? direct, fd, file, [a, b]);
  }

  /** True when both staging buffers were given huge pages (see the module documentation). */
  get hugePages(): boolean {
    return this.#stages[0].huge && this.#stages[1].huge;
  }

  /** The staging buffers' addresses (tests look them up in `/proc/self/smaps`). */
  get stageAddresses(): bigint[] {
    return this.#stages.map((s) => BigInt(Deno.UnsafePointer.value(s.ptr)));
  }

  /** True once a direct write failed and the file is written through the page cache. */
  get buffered(): boolean {
    return this.#buffered;
  }

  /**
   * Appends `bytes` (copied: the caller may reuse them once this resolves). Resolves when they
   * are staged; waits for the disk only when both stages are busy.
   */
  write(bytes: Uint8Array): Promise<void> {
    return this.#inTurn(() => this.#append(bytes));
  }

  /**
   * Puts everything written so far in the file: the whole blocks directly, the partial last
   * block through the page cache. Rejects with the write's error.
   */
  flush(): Promise<void> {
    return this.#inTurn(() => this.#flush());
  }

  #inTurn(op: () => Promise<void>): Promise<void> {
    const run = this.#turn.then(op);
    this.#turn = run.catch(() => {});
    return run;
  }

  async #append(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      const stage = this.#stages[this.#current].bytes;
      const n = Math.min(STAGE - this.#fill, bytes.length - at);
      stage.set(bytes.subarray(at, at + n), this.#fill);
      this.#fill += n;
      at += n;
      if (this.#fill === STAGE) await this.#submit(STAGE);
    }
  }

  async #flush(): Promise<void> {
    const whole = this.#fill - (this.#fill % BLOCK);
    if (whole > 0) await this.#submit(whole);
    await this.#settle();
    if (this.#fill > 0) {
      const stage = this.#stages[this.#current].bytes;
      await writeAt(this.#file, stage.subarray(0, this.#fill), this.#offset);
    }
  }

  /**
   * Starts writing the first `length` bytes of the current stage (a multiple of
   * {@link BLOCK}), after the previous write is done; the rest moves to the other stage,
   * which becomes current.
   */
  async #submit(length: number): Promise<void> {
    await this.#settle();
    const stage = this.#stages[this.#current];
    const offset = this.#offset;
    const rest = this.#fill - length;
    const next = this.#stages[1 - this.#current];
    if (rest > 0) next.bytes.set(stage.bytes.subarray(length, this.#fill));
    this.#current = 1 - this.#current;
    this.#fill = rest;
    this.#offset += length;
    this.#inFlight = this.#writeStage(stage, length, offset);
    // A failure is reported by whoever awaits it next (write, flush or close).
    this.#inFlight.catch(() => {});
  }

  /** Waits for the write in flight; its error, if any, is thrown here once. */
  async #settle(): Promise<void> {
    const write = this.#inFlight;
    this.#inFlight = undefined;
    await write;
  }

  async #writeStage(stage: Stage, length: number, offset: number): Promise<void> {
    if (!this.#buffered) {
      this.directWrites++;
      if (await this.#pwrite(this.#fd, stage.ptr, length, offset) === length) return;
      // Refused or short: from here on the page cache, starting again with this range.
      this.#buffered = true;
    }
    await writeAt(this.#file, stage.bytes.subarray(0, length), offset);
  }

  /**
   * Flushes, then releases the staging buffers and the direct descriptor (the caller closes
   * its own). Rejects with the last write's error. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return this.#inTurn(async () => {
      try {
        await this.#flush();
      } finally {
        await this.#settle().catch(() => {});
        this.#lib.close(this.#fd);
        for (const stage of this.#stages) this.#lib.free(stage.ptr);
      }
    });
  }
}
