import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import { runCli, tempDir } from "./_cli.ts";

Deno.test("k6/secrets: file and mock sources, default and named, hidden in every log line", async () => {
  const t = await tempDir({
    "app.secret": "token=t0ps3cret\nuser=alice\n",
    "s.js": `import secrets from "k6/secrets";
import { check } from "k6";
export const options = { iterations: 1, thresholds: { checks: ["rate==1"] } };
export default async function () {
  const token = await secrets.get("token");
  const other = await secrets.source("vault").get("key");
  let missing = "";
  try {
    await secrets.get("nope");
  } catch (e) {
    missing = e.message;
  }
  console.log("token is " + token + ", other is " + other);
  check(null, {
    "values": () => token === "t0ps3cret" && other === "v a l",
    "a missing key": () => missing === "no value",
  });
  throw new Error("failing with " + token);
}`,
  });
  try {
    const r = await runCli([
      "run",
      "-q",
      "--secret-source=file=default,app.secret",
      '--secret-source=mock=name=vault,key="v a l"',
      t.path("s.js"),
    ], { cwd: t.dir });
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(
      r.stderr,
      "token is ***SECRET_REDACTED***, other is ***SECRET_REDACTED***",
    );
    assertStringIncludes(r.stderr, "failing with ***SECRET_REDACTED***");
    assert(!r.stderr.includes("t0ps3cret") && !r.stderr.includes("v a l"), r.stderr);
    assertStringIncludes(r.stdout, "✓ values");
  } finally {
    await t.cleanup();
  }
});

Deno.test("--secret-source: bad sources are config errors naming them", async () => {
  const t = await tempDir({ "s.js": "export default function () {}" });
  try {
    const url = await runCli([
      "run",
      "-q",
      "--secret-source=url=http://127.0.0.1:9",
      t.path("s.js"),
    ]);
    assertEquals(url.code, 104, url.stderr);
    assertStringIncludes(url.stderr, 'no secret source for type "url"');
    const file = await runCli(["run", "-q", "--secret-source=file=none.secret", t.path("s.js")], {
      cwd: t.dir,
    });
    assertEquals(file.code, 104, file.stderr);
    assertStringIncludes(
      file.stderr,
      `file secret source: can't read "none.secret": no such file`,
    );
  } finally {
    await t.cleanup();
  }
});
