import { assertEquals, assertRejects, assertThrows } from "../_assert.ts";
import { createCsvModule, createFsModule, FsFile, parseCsv } from "../../lib/js/experimental_fs.ts";

Deno.test("csv: records as Go's encoding/csv reads them", () => {
  assertEquals(parseCsv('a,b\r\n"x, ""y""",z\n\n"multi\nline",2\n'), [
    ["a", "b"],
    ['x, "y"', "z"],
    ["multi\nline", "2"],
  ]);
  assertEquals(parseCsv("a;b\n1;2", ";"), [["a", "b"], ["1", "2"]]);
  assertEquals(parseCsv(",\n"), [["", ""]]);
  assertThrows(() => parseCsv("a,b\n1,2,3\n"), Error, "record on line 2: wrong number of fields");
  assertThrows(() => parseCsv('a,b"c\n'), Error, 'bare " in non-quoted-field');
  assertThrows(() => parseCsv('"a"b,c\n'), Error, 'extraneous or missing " in quoted-field');
});

const text = "name,age\nann,31\nbob,42\ncid,53\n";
const file = () => new FsFile("/data/people.csv", new TextEncoder().encode(text));
const arrays = new Map<string, unknown[]>();
const csv = createCsvModule({
  inInit: () => true,
  sharedArray: (name, fn) => arrays.get(name) ?? arrays.set(name, fn()).get(name),
});

Deno.test("csv.parse: the options, with k6's checks", async () => {
  const parse = csv.parse as (f: unknown, o?: unknown) => Promise<unknown>;
  assertEquals(await parse(file()), [["name", "age"], ["ann", "31"], ["bob", "42"], ["cid", "53"]]);
  assertEquals(await parse(file(), { skipFirstLine: true, toLine: 2 }), [["ann", "31"], [
    "bob",
    "42",
  ]]);
  assertEquals(await parse(file(), { fromLine: 2 }), [["bob", "42"], ["cid", "53"]]);
  assertEquals(await parse(file(), { asObjects: true }), [
    { name: "ann", age: "31" },
    { name: "bob", age: "42" },
    { name: "cid", age: "53" },
  ]);
  await assertRejects(
    () => parse(file(), { asObjects: true, skipFirstLine: true }),
    Error,
    "the 'header' option cannot be enabled when 'skipFirstLine' is true",
  );
  await assertRejects(
    () => parse(file(), { delimiter: ";;" }),
    Error,
    "failed to interpret the provided Parser options; reason: delimiter must be a single character",
  );
  await assertRejects(() => parse("nope"), Error, "first argument expected to be a fs.File");
});

Deno.test("csv.Parser: next() until done", async () => {
  const Parser = csv.Parser as new (f: unknown, o?: unknown) => { next(): Promise<unknown> };
  const p = new Parser(file(), { asObjects: true, toLine: 2 });
  assertEquals(await p.next(), { done: false, value: { name: "ann", age: "31" } });
  assertEquals(await p.next(), { done: false, value: { name: "bob", age: "42" } });
  assertEquals(await p.next(), { done: true, value: [] });
});

Deno.test("fs: open, stat, read, seek with k6's errors", async () => {
  let init = true;
  const fs = createFsModule({
    inInit: () => init,
    read: (path) => ({ bytes: new TextEncoder().encode("bonjour"), path: `/scripts/${path}` }),
  });
  const open = fs.open as (p: unknown) => Promise<FsFile>;
  const f = await open("bonjour.txt");
  assertEquals(f.path, "/scripts/bonjour.txt");
  assertEquals(await f.stat(), { name: "bonjour.txt", size: 7 });
  const buf = new Uint8Array(4);
  assertEquals([await f.read(buf), new TextDecoder().decode(buf)], [4, "bonj"]);
  assertEquals(await f.read(buf), 3);
  assertEquals(await f.read(buf), null);
  assertEquals(await f.seek(-2, 2), 5);
  assertEquals(await f.seek(1, 1), 6);
  await assertRejects(() => f.seek(-1, 0), Error, "offset cannot be negative");
  await assertRejects(() => f.seek(1, 7), Error, "the whence argument must be a SeekMode");
  await assertRejects(() => f.read([]), Error, "into argument must be a Uint8Array");
  await assertRejects(() => open(""), Error, "open() failed; reason: path cannot be empty");
  init = false;
  const err = await assertRejects(() => open("x.txt"));
  assertEquals([err.name, err.message], [
    "ForbiddenError",
    "open() failed; reason: opening a file is allowed only in the Init context",
  ]);
});
