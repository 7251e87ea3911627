import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import { runCli, tempDir } from "./_cli.ts";
import { cachePath } from "../../lib/script/remote.ts";

/** A module server on 127.0.0.1: /lib/util.js imports ./dep.js and k6; other paths 404. */
function serveModules() {
  const files: Record<string, string> = {
    "/lib/util.js": `import { sleep } from "k6";
import { twice } from "./dep.js";
export function greet(n) { sleep(0); return "hi " + twice(n); }`,
    "/lib/dep.js": "export const twice = (n) => n * 2;",
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const body = files[new URL(req.url).pathname];
    return body === undefined
      ? new Response("no", { status: 404, statusText: "Not Found" })
      : new Response(body, { headers: { "content-type": "application/javascript" } });
  });
  return { base: `http://127.0.0.1:${server.addr.port}`, port: server.addr.port, server };
}

Deno.test("remote modules are fetched into the module cache, and run from it without the network", async () => {
  const { base, port, server } = serveModules();
  const t = await tempDir({
    "s.js": `import { greet } from "${base}/lib/util.js";
import { check } from "k6";
export const options = { iterations: 1, thresholds: { checks: ["rate==1"] } };
export default function () { check(null, { "the module ran": () => greet(2) === "hi 4" }); }`,
  });
  const env = { SPATE_MODULE_CACHE: t.path("cache") };
  try {
    const first = await runCli(["run", "-q", t.path("s.js")], { env });
    assertEquals(first.code, 0, first.stderr);
    const cached = await Deno.readTextFile(t.path(`cache/http/127.0.0.1_${port}/lib/dep.js`));
    assertEquals(cached, "export const twice = (n) => n * 2;");
    await server.shutdown();
    const offline = await runCli(["run", "-q", t.path("s.js")], { env });
    assertEquals(offline.code, 0, offline.stderr);
  } finally {
    await server.shutdown().catch(() => {});
    await t.cleanup();
  }
});

Deno.test("a remote module that isn't there, or can't be reached, is a script error naming it", async () => {
  const { base, server } = serveModules();
  const t = await tempDir({
    "missing.js": `import { x } from "${base}/missing.js";\nexport default function () { x(); }`,
    "unreachable.js":
      `import { x } from "http://127.0.0.1:9/lib.js";\nexport default function () {}`,
  });
  const env = { SPATE_MODULE_CACHE: t.path("cache") };
  try {
    const missing = await runCli(["run", "-q", t.path("missing.js")], { env });
    assertEquals(missing.code, 107, missing.stderr);
    assertStringIncludes(
      missing.stderr,
      `remote module "${base}/missing.js" answered 404 Not Found`,
    );
    const unreachable = await runCli(["run", "-q", t.path("unreachable.js")], { env });
    assertEquals(unreachable.code, 107, unreachable.stderr);
    assertStringIncludes(
      unreachable.stderr,
      `remote module "http://127.0.0.1:9/lib.js" can't be loaded: `,
    );
    assertStringIncludes(
      unreachable.stderr,
      `no copy in the module cache either (${t.path("cache")}/http/127.0.0.1_9/lib.js)`,
    );
    assert(!unreachable.stderr.includes("    at "), unreachable.stderr);
    // A cached module with a syntax error names its URL, line and column.
    const broken = cachePath("http://127.0.0.1:9/broken.js", t.path("cache"));
    await Deno.mkdir(broken.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.writeTextFile(broken, "export const x = ;\n");
    await Deno.writeTextFile(
      t.path("broken.js"),
      `import { x } from "http://127.0.0.1:9/broken.js";\nexport default function () {}`,
    );
    const syntax = await runCli(["run", "-q", t.path("broken.js")], { env });
    assertEquals(syntax.code, 107, syntax.stderr);
    assertStringIncludes(syntax.stderr, 'Unexpected ";" at http://127.0.0.1:9/broken.js:1:18');
  } finally {
    await server.shutdown();
    await t.cleanup();
  }
});

Deno.test("an archive carries its https modules, and running it elsewhere needs no network", async () => {
  const url = "https://modules.invalid/m.js"; // never resolves: only caches serve it
  const t = await tempDir({
    "s.js": `import { answer } from "${url}";
import { check } from "k6";
export const options = { iterations: 1, thresholds: { checks: ["rate==1"] } };
export default function () { check(null, { "the module ran": () => answer === 42 }); }`,
  });
  try {
    const first = cachePath(url, t.path("cache1"));
    await Deno.mkdir(first.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.writeTextFile(first, "export const answer = 42;");
    const made = await runCli(["archive", "-O", t.path("a.tar"), t.path("s.js")], {
      env: { SPATE_MODULE_CACHE: t.path("cache1") },
    });
    assertEquals(made.code, 0, made.stderr);
    // Elsewhere: an empty cache, and the module's host unreachable.
    const r = await runCli(["run", "-q", t.path("a.tar")], {
      env: { SPATE_MODULE_CACHE: t.path("cache2") },
    });
    assertEquals(r.code, 0, r.stderr);
    assertEquals(
      await Deno.readTextFile(cachePath(url, t.path("cache2"))),
      "export const answer = 42;",
    );
  } finally {
    await t.cleanup();
  }
});
