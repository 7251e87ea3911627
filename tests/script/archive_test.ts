import { assertEquals, assertThrows } from "../_assert.ts";
import { SpateError } from "../../lib/errors.ts";
import { anonymizePath, readArchive, writeArchive } from "../../lib/script/archive.ts";

const enc = new TextEncoder();
const longDir = "/srv/" + "deep/".repeat(40);

function sample(): Uint8Array {
  return writeArchive({
    scriptPath: "/home/alice/tests/script.js",
    scriptSource: "import x from './lib.js';\nexport default function () {}\n",
    files: new Map([
      ["/home/alice/tests/lib.js", enc.encode("export default 1;")],
      ["/home/alice/tests/data/users.json", enc.encode('[{"u":"a&b"}]')],
      ["https://jslib.k6.io/k6-utils/1.4.0/index.js", enc.encode("export const a = 1;")],
      [longDir + "file.bin", new Uint8Array([0, 1, 2, 255])],
    ]),
    options: { vus: 2, thresholds: { http_req_duration: ["p(95)<500"] } },
    env: { BASE: "http://localhost" },
    k6Version: "2.2.0",
    mtime: new Date("2024-05-01T10:00:00Z"),
  });
}

Deno.test("archive: round trip keeps script, files, options, env (paths anonymised)", () => {
  const arc = readArchive(sample());
  assertEquals(arc.scriptPath, "/home/nobody/tests/script.js");
  assertEquals(arc.scriptSource, "import x from './lib.js';\nexport default function () {}\n");
  assertEquals(arc.metadata.filename, "file:///home/nobody/tests/script.js");
  assertEquals(arc.metadata.pwd, "file:///home/nobody/tests/");
  assertEquals(arc.metadata.type, "js");
  assertEquals(arc.metadata.k6version, "2.2.0");
  assertEquals(arc.metadata.options, {
    vus: 2,
    thresholds: { http_req_duration: ["p(95)<500"] },
  });
  assertEquals(arc.metadata.env, { BASE: "http://localhost" });
  assertEquals(
    [...arc.files.keys()].sort(),
    [
      "/home/nobody/tests/data/users.json",
      "/home/nobody/tests/lib.js",
      "/home/nobody/tests/script.js",
      longDir + "file.bin",
      "https://jslib.k6.io/k6-utils/1.4.0/index.js",
    ].sort(),
  );
  assertEquals(arc.files.get(longDir + "file.bin"), new Uint8Array([0, 1, 2, 255]));
  assertEquals(
    new TextDecoder().decode(arc.files.get("/home/nobody/tests/data/users.json")),
    '[{"u":"a&b"}]',
  );
});

Deno.test("archive: the system tar reads it with k6's layout", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/a.tar`, sample());
    const out = await new Deno.Command("tar", { args: ["-tvf", `${dir}/a.tar`] }).output();
    assertEquals(new TextDecoder().decode(out.stderr), "");
    const names = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) =>
      l.replace(/^.*\d\d:\d\d /, "")
    );
    assertEquals(names.slice(0, 9), [
      "metadata.json",
      "data",
      "file",
      "file/home",
      "file/home/nobody",
      "file/home/nobody/tests",
      "file/home/nobody/tests/data",
      "file/srv",
      "file/srv/deep",
    ]);
    assertEquals(names.includes("file/home/nobody/tests/script.js link to data"), true);
    assertEquals(names.includes("https/jslib.k6.io/k6-utils/1.4.0/index.js"), true);
    assertEquals(names.includes(`file${longDir}file.bin`), true);
    const x = await new Deno.Command("tar", { args: ["-xf", `${dir}/a.tar`, "-C", dir] }).output();
    assertEquals(x.code, 0);
    assertEquals(
      await Deno.readTextFile(`${dir}/file/home/nobody/tests/script.js`),
      "import x from './lib.js';\nexport default function () {}\n",
    );
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/metadata.json`));
    assertEquals(Object.keys(meta), [
      "type",
      "options",
      "filename",
      "pwd",
      "env",
      "compatibilityMode",
      "k6version",
      "goos",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("archive: reads a tar made by the system tar (k6-style names)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/src/file/tmp/t`, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/src/metadata.json`,
      JSON.stringify({
        type: "js",
        filename: "file:///tmp/t/s.js",
        pwd: "file:///tmp/t/",
        options: {},
        env: {},
      }),
    );
    await Deno.writeTextFile(`${dir}/src/data`, "export default () => {}");
    await Deno.writeTextFile(`${dir}/src/file/tmp/t/lib.js`, "1");
    const c = await new Deno.Command("tar", {
      args: ["-cf", `${dir}/b.tar`, "-C", `${dir}/src`, "metadata.json", "data", "file"],
    }).output();
    assertEquals(c.code, 0);
    const arc = readArchive(await Deno.readFile(`${dir}/b.tar`));
    assertEquals(arc.scriptPath, "/tmp/t/s.js");
    assertEquals([...arc.files.keys()].sort(), ["/tmp/t/lib.js", "/tmp/t/s.js"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("archive: errors and anonymisation", () => {
  assertEquals(anonymizePath("/Users/bob/x.js"), "/Users/nobody/x.js");
  assertEquals(anonymizePath("C:\\Users\\bob\\x.js"), "/C/Users/nobody/x.js");
  assertEquals(anonymizePath("/srv/x.js"), "/srv/x.js");
  const bad = sample();
  bad[0] ^= 1;
  assertThrows(() => readArchive(bad), SpateError, "checksum mismatch");
  assertThrows(() => readArchive(new Uint8Array(1024)), SpateError, "metadata.json is missing");
});
