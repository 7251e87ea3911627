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
    const vault = await runCli(["run", "-q", "--secret-source=vault=x", t.path("s.js")]);
    assertEquals(vault.code, 104, vault.stderr);
    assertStringIncludes(vault.stderr, 'no secret source for type "vault"');
    const url = await runCli([
      "run",
      "-q",
      "--secret-source=url=http://127.0.0.1:9",
      t.path("s.js"),
    ]);
    assertEquals(url.code, 104, url.stderr);
    assertStringIncludes(
      url.stderr,
      'url secret source: missing or invalid config: invalid config format "http://127.0.0.1:9", ' +
        "expected key=value",
    );
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

/** A secrets API like k6's examples/secrets/mock_server.go, plus a key that fails once. */
function secretsServer() {
  const seen: string[] = [];
  const values: Record<string, string> = { "api-key": "super-secret-api-key-12345" };
  let flaky = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    seen.push(`${req.method} ${path} ${req.headers.get("authorization")}`);
    if (req.headers.get("authorization") !== "Bearer T0KEN") {
      return new Response("unauthorized", { status: 401 });
    }
    const key = /^\/secrets\/([^/]+)\/decrypt$/.exec(path)?.[1] ?? "";
    if (key === "flaky" && flaky++ === 0) return new Response("busy", { status: 503 });
    const value = key === "flaky" ? "steady-now" : values[key];
    if (value === undefined) return new Response("not found", { status: 404 });
    return Response.json({ plaintext: value, name: key });
  });
  return { seen, url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

Deno.test("k6/secrets: the url source asks the API per key, retries a 503 and hides what it read", async () => {
  const api = secretsServer();
  const t = await tempDir({
    "url.json": JSON.stringify({
      urlTemplate: `${api.url}/secrets/{key}/decrypt`,
      headers: { Authorization: "Bearer wrong" },
      responsePath: "name",
      maxRetries: 0,
    }),
    "s.js": `import secrets from "k6/secrets";
import { check } from "k6";
export const options = { iterations: 1, thresholds: { checks: ["rate==1"] } };
export default async function () {
  const key = await secrets.get("api-key");
  const flaky = await secrets.get("flaky");
  let missing = "";
  try {
    await secrets.get("nope");
  } catch (e) {
    missing = e.message;
  }
  console.log("key is " + key + ", flaky is " + flaky);
  check(null, {
    "values": () => key === "super-secret-api-key-12345" && flaky === "steady-now",
    "a missing key": () => missing === "status code 404: failed to get secret",
  });
}`,
  });
  try {
    // The file overrides the environment, the inline pairs override the file (k6's order).
    const r = await runCli([
      "run",
      "-q",
      "--secret-source=url=config=url.json,responsePath=plaintext,maxRetries=1,retryBackoff=1ms," +
      "headers.Authorization=Bearer T0KEN",
      t.path("s.js"),
    ], {
      cwd: t.dir,
      env: {
        K6_SECRET_SOURCE_URL_URL_TEMPLATE: "http://127.0.0.1:9/{key}",
        K6_SECRET_SOURCE_URL_TIMEOUT: "5s",
      },
      timeoutMs: 30_000,
    });
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stderr, "key is ***SECRET_REDACTED***, flaky is ***SECRET_REDACTED***");
    assert(!r.stderr.includes("super-secret") && !r.stderr.includes("steady-now"), r.stderr);
    assertStringIncludes(r.stdout, "✓ values");
    assertStringIncludes(r.stdout, "✓ a missing key");
    assertEquals(api.seen, [
      "GET /secrets/api-key/decrypt Bearer T0KEN",
      "GET /secrets/flaky/decrypt Bearer T0KEN",
      "GET /secrets/flaky/decrypt Bearer T0KEN",
      "GET /secrets/nope/decrypt Bearer T0KEN",
    ]);
  } finally {
    await t.cleanup();
    await api.close();
  }
});

Deno.test("k6/secrets: the url source from K6_SECRET_SOURCE_URL_* alone; bad values are config errors", async () => {
  const api = secretsServer();
  const t = await tempDir({
    "s.js": `import secrets from "k6/secrets";
export default async function () {
  const v = await secrets.get("api-key");
  if (v !== '{"plaintext":"super-secret-api-key-12345","name":"api-key"}') throw new Error("got " + v);
}`,
  });
  try {
    const env = {
      K6_SECRET_SOURCE_URL_URL_TEMPLATE: `${api.url}/secrets/{key}/decrypt`,
      K6_SECRET_SOURCE_URL_HEADER_AUTHORIZATION: "Bearer T0KEN",
    };
    const ok = await runCli(["run", "-q", "-i", "1", "--secret-source=url", t.path("s.js")], {
      env,
      timeoutMs: 30_000,
    });
    assertEquals(ok.code, 0, ok.stderr);
    assertEquals(api.seen, ["GET /secrets/api-key/decrypt Bearer T0KEN"]);

    const bad: Array<[string, string]> = [
      ["url=urlTemplate=http://h/x", "urlTemplate must contain {key} placeholder"],
      ["url=timeout=abc", 'invalid timeout: time: invalid duration "abc"'],
      ["url=maxRetries=-1", "maxRetries must be non-negative"],
      ["url=token=x", 'unknown configuration key: "token"'],
      ["url=config=none.json", "failed to open config file: open none.json"],
    ];
    for (const [source, message] of bad) {
      const r = await runCli(["run", "-q", `--secret-source=${source}`, t.path("s.js")], {
        env,
        cwd: t.dir,
      });
      assertEquals(r.code, 104, `${source}: ${r.stderr}`);
      assertStringIncludes(r.stderr, `url secret source: missing or invalid config: ${message}`);
    }
    const none = await runCli(["run", "-q", "--secret-source=url", t.path("s.js")]);
    assertEquals(none.code, 104, none.stderr);
    assertStringIncludes(none.stderr, "urlTemplate is required");
  } finally {
    await t.cleanup();
    await api.close();
  }
});
