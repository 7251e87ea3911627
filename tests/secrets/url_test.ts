import { assert, assertEquals, assertRejects, assertThrows } from "../_assert.ts";
import { SpateError } from "../../lib/errors.ts";
import { parseUrlSource, UrlSecretSource } from "../../lib/secrets_url.ts";

Deno.test("url secret source: defaults < env < config file < inline, as k6", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/c.json`,
      JSON.stringify({ urlTemplate: "https://file/{key}", timeout: "10s", maxRetries: 5 }),
    );
    const env = {
      K6_SECRET_SOURCE_URL_URL_TEMPLATE: "https://env/{key}",
      K6_SECRET_SOURCE_URL_TIMEOUT: "2s",
      K6_SECRET_SOURCE_URL_METHOD: "POST",
      K6_SECRET_SOURCE_URL_HEADER_X_TOKEN: "env-token",
    };
    assertEquals(parseUrlSource(["config=c.json", "maxRetries=1", "headers.A=b"], env, dir), {
      urlTemplate: "https://file/{key}",
      headers: { A: "b" }, // the inline headers replace the others, as k6's Apply does
      method: "POST",
      responsePath: "",
      requestsPerMinuteLimit: 300,
      requestsBurst: 10,
      timeoutMs: 10_000,
      maxRetries: 1,
      retryBackoffMs: 1000,
    });
    assertEquals(parseUrlSource([], env, dir).headers, { X_TOKEN: "env-token" });
    const e = assertThrows(() => parseUrlSource(["requestsBurst=0"], env, dir), SpateError);
    assertEquals(e.kind, "invalid-config");
    assertEquals(
      e.message,
      "url secret source: missing or invalid config: requestsBurst must be greater than 0",
    );
    assertThrows(
      () => parseUrlSource(["urlTemplate=/relative/{key}"], {}, dir),
      SpateError,
      "urlTemplate must be an absolute URL with a scheme",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * A source against `handler` on 127.0.0.1 whose waits are recorded, and skipped unless `sleep`.
 */
async function withSource(
  cfg: Record<string, string>,
  handler: (req: Request) => Response,
  fn: (src: UrlSecretSource, waits: number[], hits: () => number) => Promise<void>,
  sleep = false,
) {
  let hits = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    hits++;
    return handler(req);
  });
  const parts = Object.entries(cfg).map(([k, v]) => `${k}=${v}`);
  const url = `http://127.0.0.1:${server.addr.port}/s/{key}`;
  const waits: number[] = [];
  const src = new UrlSecretSource(
    parseUrlSource([`urlTemplate=${url}`, ...parts], {}, "/"),
    (ms) => {
      waits.push(ms);
      return sleep ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
    },
  );
  try {
    await fn(src, waits, () => hits);
  } finally {
    await server.shutdown();
  }
}

Deno.test("url secret source: retries 5xx and 429 with k6's backoff, not 4xx", async () => {
  let status = 503;
  await withSource(
    { maxRetries: "2", retryBackoff: "2s" },
    () => new Response("x", { status }),
    async (src, waits, hits) => {
      await assertRejects(() => src.get("k"), Error, "status code 503: failed to get secret");
      assertEquals(hits(), 3);
      // 2^1 and 2^2 whole seconds, each plus up to a second of jitter.
      assertEquals(waits.length, 2);
      assertEquals([Math.floor(waits[0] / 1000), Math.floor(waits[1] / 1000)], [2, 4]);
      status = 429;
      await assertRejects(() => src.get("k"), Error, "status code 429");
      assertEquals(hits(), 6);
      status = 403;
      await assertRejects(() => src.get("k"), Error, "status code 403: failed to get secret");
      assertEquals(hits(), 7);
    },
  );
});

Deno.test("url secret source: responsePath must name a string; bodies over 24 KiB are refused", async () => {
  let body = '{"data":{"v":"s3cret","n":1,"o":{}}}';
  await withSource({ responsePath: "data.v" }, () => new Response(body), async (src) => {
    assertEquals(await src.get("k"), "s3cret");
  });
  await withSource({ responsePath: "data.n" }, () => new Response(body), async (src) => {
    await assertRejects(
      () => src.get("k"),
      Error,
      'failed to extract secret: secret value at path "data.n" is not a string (got Number)',
    );
  });
  await withSource({ responsePath: "data.x" }, () => new Response(body), async (src) => {
    await assertRejects(() => src.get("k"), Error, 'path "data.x" not found in response');
  });
  body = "x".repeat(24 * 1024 + 1);
  await withSource({}, () => new Response(body), async (src) => {
    await assertRejects(
      () => src.get("k"),
      Error,
      "secret response exceeds maximum size of 24576 bytes",
    );
  });
});

Deno.test("url secret source: requestsBurst at once, then requestsPerMinuteLimit", async () => {
  await withSource(
    { requestsBurst: "2", requestsPerMinuteLimit: "60" },
    (req) => new Response(new URL(req.url).pathname),
    async (src, waits) => {
      assertEquals(await src.get("a"), "/s/a");
      assertEquals(await src.get("b"), "/s/b");
      assertEquals(waits, []);
      // The bucket is empty: the third waits for the token refilled at one per second.
      assertEquals(await src.get("c"), "/s/c");
      assertEquals(waits.length, 1);
      assert(waits[0] > 900 && waits[0] <= 1000, `wait ${waits[0]}`);
    },
    true,
  );
});
