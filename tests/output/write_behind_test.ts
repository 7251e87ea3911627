import { assert, assertEquals } from "../_assert.ts";
import { FileWriter } from "../../lib/output/_file_writer.ts";
import { STEP, WriteBehind } from "../../lib/output/_write_behind.ts";
import { resident } from "./_page_cache.ts";

// The page cache of a file on tmpfs cannot be dropped: work on the disk the repository is on.
const root = new URL("../../", import.meta.url).pathname;

/** Writes `mb` MiB of numbered lines through `write`, in 1 MiB chunks. */
function chunks(mb: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < mb; i++) {
    const line = `chunk ${String(i).padStart(6, "0")} `;
    out.push(new TextEncoder().encode(line.repeat((1 << 20) / line.length)));
  }
  return out;
}

Deno.test("FileWriter keeps what is on disk out of the page cache; the file stays exact", async () => {
  const dir = await Deno.makeTempDir({ dir: root, prefix: ".spate-write-behind-" });
  try {
    const data = chunks(5 * (STEP >> 20));
    const size = data.reduce((n, c) => n + c.length, 0);

    // Control: the same bytes through a plain file keep their pages cached.
    const plain = `${dir}/plain.bin`;
    const f = await Deno.open(plain, { write: true, create: true });
    for (const c of data) await f.write(c);
    f.close();
    assert(resident(plain) > 0.9, `the control keeps its pages (${resident(plain)})`);

    const path = `${dir}/out.bin`;
    const w = await FileWriter.open(path);
    for (const c of data) {
      w.appendBytes(c);
      assert(await w.flush());
    }
    await w.close();
    const share = resident(path);
    assert(share < 0.5, `at most the latest steps stay cached, got ${share}`);

    const back = await Deno.readFile(path);
    assertEquals(back.length, size);
    let at = 0;
    for (const c of data) {
      assertEquals(back.subarray(at, at + c.length), c);
      at += c.length;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WriteBehind: one call per step, none for a pipe", async () => {
  const dir = await Deno.makeTempDir({ dir: root, prefix: ".spate-write-behind-" });
  try {
    const path = `${dir}/f.bin`;
    await Deno.writeFile(path, new Uint8Array(0));
    const wb = WriteBehind.open(path);
    assert(wb, "a regular file gets write-behind");
    wb.wrote(STEP - 1);
    assertEquals(wb.calls, 0);
    wb.wrote(1);
    assertEquals(wb.calls, 1);
    wb.wrote(STEP); // the first call may still be running: then this step waits
    await wb.close();
    assert(wb.calls === 1 || wb.calls === 2, `calls: ${wb.calls}`);
    wb.wrote(STEP * 2);
    assert(wb.calls <= 2, "no call after close");

    const fifo = `${dir}/p.fifo`;
    assert((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    assertEquals(WriteBehind.open(fifo), undefined);
    assertEquals(WriteBehind.open(`${dir}/missing`), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
