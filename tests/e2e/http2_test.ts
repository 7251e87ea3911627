import { assertEquals, assertStringIncludes } from "../_assert.ts";
import { startDemoServer } from "../../scripts/demo_server.ts";
import { selfSignedCert } from "../http/_tls.ts";
import { runCli, tempDir } from "./_cli.ts";

// k6's examples/http2.js, plus http.batch over one session and the proto tag in the output.
Deno.test("HTTP/2: k6's http2 example runs, proto is HTTP/2.0 in responses, tags and batches; GODEBUG turns it off", async () => {
  const { cert, key } = await selfSignedCert();
  const server = await startDemoServer({ cert, key, hostname: "127.0.0.1" });
  const t = await tempDir({
    "s.js": `import http from "k6/http";
import { check } from "k6";
export const options = { iterations: 2, thresholds: { checks: ["rate==1"] } };
export default function () {
  const res = http.get(__ENV.TARGET + "/get");
  check(res, {
    "status is 200": (r) => r.status === 200,
    "protocol": (r) => r.proto === __ENV.PROTO,
    "status text": (r) => r.status_text === "200 OK",
  });
  const batch = http.batch([
    ["GET", __ENV.TARGET + "/get?a=1"],
    ["POST", __ENV.TARGET + "/post", "body!"],
  ]);
  check(batch, {
    "batch protocol": (b) => b.every((r) => r.status === 200 && r.proto === __ENV.PROTO),
    "batch body": (b) => b[1].json().data === "body!",
  });
}`,
  });
  try {
    const target = server.url.replace("127.0.0.1", "localhost");
    // GODEBUG=http2client=0 is k6's switch back to HTTP/1.1.
    for (const [proto, godebug] of [["HTTP/2.0", ""], ["HTTP/1.1", "gctrace=0,http2client=0"]]) {
      const r = await runCli([
        "run",
        "--insecure-skip-tls-verify",
        "--out",
        `json=${t.path("o.json")}`,
        t.path("s.js"),
      ], { env: { TARGET: target, PROTO: proto, GODEBUG: godebug }, timeoutMs: 60_000 });
      assertEquals(r.code, 0, r.stderr);
      for (const name of ["protocol", "status text", "batch protocol", "batch body"]) {
        assertStringIncludes(r.stdout, `✓ ${name}`);
      }
      const points = (await Deno.readTextFile(t.path("o.json"))).split("\n")
        .filter((l) => l.includes('"metric":"http_reqs","type":"Point"'))
        .map((l) => JSON.parse(l).data.tags);
      assertEquals(points.length, 6);
      for (const tags of points) {
        assertEquals([tags.proto, tags.tls_version, tags.status], [proto, "tls1.3", "200"]);
      }
    }
  } finally {
    await t.cleanup();
    await server.close();
  }
});
