import { assertEquals, assertStringIncludes } from "../_assert.ts";
import { startDemoServer } from "../../scripts/demo_server.ts";

Deno.test("demo server: httpbin-like endpoints", async () => {
  const server = await startDemoServer();
  try {
    const root = await fetch(server.url + "/");
    assertStringIncludes(await root.text(), "spate demo target");
    const get = await (await fetch(server.url + "/get?a=1&a=2&b=x")).json();
    assertEquals(get.args, { a: ["1", "2"], b: "x" });
    const put = await (await fetch(server.url + "/put", { method: "PUT", body: '{"k":1}' })).json();
    assertEquals([put.json, put.method], [{ k: 1 }, "PUT"]);
    const form = await (await fetch(server.url + "/anything/x", {
      method: "POST",
      body: new URLSearchParams({ q: "1" }),
    })).json();
    assertEquals(form.form, { q: "1" });
    const teapot = await fetch(server.url + "/status/418");
    await teapot.body?.cancel();
    assertEquals(teapot.status, 418);
    const json = await (await fetch(server.url + "/json")).json();
    assertEquals(json.slideshow.title, "Sample Slide Show");
    const bytes = await (await fetch(server.url + "/bytes/16")).arrayBuffer();
    assertEquals(bytes.byteLength, 16);
    const redirect = await fetch(server.url + "/redirect/2", { redirect: "manual" });
    await redirect.body?.cancel();
    assertEquals([redirect.status, redirect.headers.get("location")], [302, "/redirect/1"]);
    const set = await fetch(server.url + "/cookies/set?a=1", { redirect: "manual" });
    await set.body?.cancel();
    assertEquals(set.headers.get("set-cookie"), "a=1; Path=/");
    const cookies =
      await (await fetch(server.url + "/cookies", { headers: { cookie: "a=1; b=2" } }))
        .json();
    assertEquals(cookies.cookies, { a: "1", b: "2" });
    const auth = await fetch(server.url + "/basic-auth/u/p", {
      headers: { authorization: "Basic " + btoa("u:p") },
    });
    assertEquals((await auth.json()).authenticated, true);
    const t0 = performance.now();
    const delayed = await fetch(server.url + "/delay/0.2");
    await delayed.body?.cancel();
    assertEquals(performance.now() - t0 >= 190, true);
    const missing = await fetch(server.url + "/nope");
    await missing.body?.cancel();
    assertEquals(missing.status, 404);
  } finally {
    await server.close();
  }
});

Deno.test("demo server: close() does not wait for pending /delay requests", async () => {
  const server = await startDemoServer();
  const pending = fetch(server.url + "/delay/10").then((r) => r.text()).catch(() => "");
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  await server.close();
  await pending;
  assertEquals(performance.now() - t0 < 2000, true);
});
