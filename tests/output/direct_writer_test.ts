import { assert, assertEquals } from "../_assert.ts";
import {
  BLOCK,
  DirectWriter,
  HUGE_PAGE,
  type Pwrite,
  STAGE,
} from "../../lib/output/_direct_writer.ts";
import { FileWriter } from "../../lib/output/_file_writer.ts";
import { resident } from "./_page_cache.ts";

// tmpfs has no disk to write to directly: work on the disk the repository is on.
const root = new URL("../../", import.meta.url).pathname;

/** `n` bytes of numbered text, different at every offset that matters here. */
function text(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = 33 + ((i * 7 + seed * 13 + (i >> 12)) % 90);
  return out;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ dir: root, prefix: ".spate-direct-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes chunks of awkward sizes through `w`, flushing now and then; checks the file each time. */
async function writeAndCheck(w: DirectWriter, path: string, chunks: number): Promise<Uint8Array> {
  const sizes = [1, 4095, 4097, 777_777, BLOCK * 3, 1_234_567, STAGE - 5, 10, STAGE + 3];
  const all: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < chunks; i++) {
    const bytes = text(sizes[i % sizes.length], i);
    all.push(bytes);
    total += bytes.length;
    await w.write(bytes);
    if (i % 3 === 2) {
      await w.flush();
      // The file holds every byte written so far, and nothing more (stat: a read would bring
      // the pages into the cache).
      assertEquals((await Deno.stat(path)).size, total, `size after flush ${i}`);
    }
  }
  const expected = new Uint8Array(total);
  let at = 0;
  for (const bytes of all) {
    expected.set(bytes, at);
    at += bytes.length;
  }
  return expected;
}

Deno.test("DirectWriter: exact bytes across stages and partial blocks, none of them cached", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/out.bin`;
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    const w = DirectWriter.open(path, file);
    assert(w, "a regular file on disk gets direct I/O");
    const expected = await writeAndCheck(w, path, 14);
    await w.close();
    file.close();
    // Only the partial blocks that flushes wrote went through the page cache.
    const share = resident(path);
    assert(share < 0.05, `direct writes leave the page cache alone, ${share} cached`);
    const back = await Deno.readFile(path);
    assertEquals(back.length, expected.length);
    assert(back.every((b, i) => b === expected[i]), "the file holds exactly the bytes written");
    assert(w.directWrites >= 4, `direct writes: ${w.directWrites}`);
    assertEquals(w.buffered, false);
  });
});

Deno.test("DirectWriter: a refused direct write goes through the page cache instead, nothing lost", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/out.bin`;
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    let calls = 0;
    let failedAt = -1;
    // The third direct write fails, as on a full disk or a file system that refuses it.
    const pwrite: Pwrite = (_fd, _buf, length, offset) => {
      if (++calls !== 3) return Promise.resolve(length);
      failedAt = offset;
      return Promise.resolve(-1);
    };
    const w = DirectWriter.open(path, file, pwrite);
    assert(w);
    const expected = await writeAndCheck(w, path, 14);
    await w.close();
    file.close();
    assertEquals(calls, 3, "no direct write after the failure");
    assert(w.buffered);
    const back = await Deno.readFile(path);
    assertEquals(back.length, expected.length);
    // The two writes that "succeeded" wrote nothing here; the rest is real: the range of the
    // failed one and everything after it must be intact.
    assert(failedAt > 0, `the failed write started at ${failedAt}`);
    assert(
      back.subarray(failedAt).every((b, i) => b === expected[failedAt + i]),
      `the failed range (from ${failedAt}) and the rest are in the file`,
    );
  });
});

Deno.test("DirectWriter: not for pipes or missing files; FileWriter then writes as before", async () => {
  await withDir(async (dir) => {
    const other = await Deno.open(`${dir}/x`, { write: true, create: true });
    try {
      const fifo = `${dir}/p.fifo`;
      assert((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
      assertEquals(DirectWriter.open(fifo, other), undefined);
      assertEquals(DirectWriter.open(`${dir}/missing`, other), undefined);
    } finally {
      other.close();
    }
    // A FileWriter on a FIFO (no direct I/O) still delivers every byte.
    const fifo = `${dir}/q.fifo`;
    assert((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    const reader = Deno.open(fifo, { read: true }).then(async (f) => {
      const parts: Uint8Array[] = [];
      const buf = new Uint8Array(65536);
      for (let n; (n = await f.read(buf)) !== null;) parts.push(buf.slice(0, n));
      f.close();
      return parts.reduce((s, p) => s + new TextDecoder().decode(p), "");
    });
    const w = await FileWriter.open(fifo);
    w.append("line 1\n");
    w.append("line 2\n");
    assert(await w.flush());
    await w.close();
    assertEquals(await reader, "line 1\nline 2\n");
  });
});

/** The `/proc/self/smaps` fields of the mapping that holds `address`. */
function smapsAt(address: bigint): Record<string, string> {
  const fields: Record<string, string> = {};
  let inside = false;
  for (const line of Deno.readTextFileSync("/proc/self/smaps").split("\n")) {
    const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (range) {
      inside = BigInt("0x" + range[1]) <= address && address < BigInt("0x" + range[2]);
      continue;
    }
    const field = /^(\w+):\s+(.*)$/.exec(line);
    if (inside && field) fields[field[1]] = field[2];
  }
  return fields;
}

Deno.test("DirectWriter: the staging buffers are aligned to and advised for huge pages", async () => {
  const mode = Deno.readTextFileSync("/sys/kernel/mm/transparent_hugepage/enabled");
  await withDir(async (dir) => {
    const path = `${dir}/out.bin`;
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    const w = DirectWriter.open(path, file);
    assert(w);
    try {
      for (const address of w.stageAddresses) {
        assertEquals(address % BigInt(HUGE_PAGE), 0n, "aligned to a huge page");
      }
      if (mode.includes("[never]")) return; // huge pages are off on this machine
      assertEquals(w.hugePages, true, `THP mode ${mode.trim()}: the advice is taken`);
      for (const address of w.stageAddresses) {
        assertEquals(smapsAt(address).THPeligible, "1", "the stage's mapping may get huge pages");
      }
    } finally {
      await w.close();
      file.close();
    }
  });
});
