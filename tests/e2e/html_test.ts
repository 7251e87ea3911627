import { assertEquals, assertStringIncludes } from "../_assert.ts";
import { runCli, runScript, tempDir, withTarget } from "./_cli.ts";

/**
 * A k6 script using k6/html against the demo target's index page (a link to /get and a form
 * posting `q=1` to /post). `forceWorker` adds a blocking call in a sort comparator, which
 * the async rewrite can't keep, so the run uses the Worker-per-VU mode.
 */
function script(forceWorker: boolean): string {
  return `import http from "k6/http";
import { check } from "k6";
import html, { parseHTML } from "k6/html";
export const options = { iterations: 1, thresholds: { checks: ["rate==1"] } };
export default function () {
  ${forceWorker ? '[1, 2].sort(() => http.get(__ENV.TARGET + "/get").status - 200);' : ""}
  const res = http.get(__ENV.TARGET + "/");
  const doc = parseHTML(res.body);
  const posted = res.submitForm({
    formSelector: 'form[action="/post"]',
    fields: { extra: "x y" },
    params: { tags: { name: "form" } },
  });
  const asGet = res.submitForm({ formSelector: "#search", fields: { extra: "1" } });
  const clicked = res.clickLink({ selector: 'a[href="/get"]' });
  let missing = "";
  try {
    res.clickLink({ selector: "a.none" });
  } catch (e) {
    missing = String(e.message);
  }
  check(res, {
    "default and named exports": () => html.parseHTML("<p>x</p>").find("p").text() === "x",
    "res.html(selector)": (r) => r.html("title").text() === "spate demo target",
    "parseHTML": () => doc.find("a").attr("href") === "/get" && doc.find("form").serialize() === "q=a+b&s=x", // a later field of a name wins, as in k6
    "element": () => doc.find("form").get(0).action() === "/post",
    "element resolved against the response": () =>
      res.html("form").get(0).action() === __ENV.TARGET + "/post",
    "submitForm posts the form and the fields": () =>
      posted.status === 200 && posted.url === __ENV.TARGET + "/post" &&
      JSON.stringify(posted.json().form) === '{"extra":"x y","q":"1"}',
    "clickLink follows the link": () =>
      clicked.status === 200 && clicked.url === __ENV.TARGET + "/get",
    "a missing link is an error": () =>
      missing === "no element found for selector 'a.none' in response '" + __ENV.TARGET + "/'",
    "a GET form replaces the action's query with its fields and the submit button": () =>
      asGet.url === __ENV.TARGET + "/get?extra=1&go=Go&q=a+b&s=x" &&
      JSON.stringify(asGet.json().args) === '{"extra":"1","go":"Go","q":"a b","s":"x"}',
  });
}`;
}

for (const forceWorker of [false, true]) {
  const mode = forceWorker ? "Worker-per-VU" : "async";
  Deno.test(`k6/html: parseHTML, res.html(), submitForm() and clickLink() (${mode} mode)`, async () => {
    const t = await tempDir({ "s.js": script(forceWorker) });
    try {
      const { r, base, metrics: m, points } = await runScript(t, { json: true });
      assertEquals(r.code, 0, r.stderr);
      if (forceWorker) assertStringIncludes(r.stderr, "running one Worker per VU");
      assertEquals([m.checks.passes, m.checks.fails], [9, 0], r.stdout);
      // The form post carries the tag given in params; the link click is a GET of /get.
      const reqs = points("http_reqs").map((tags) =>
        `${tags.method} ${tags.name.replace(base, "")}`
      );
      assertEquals(reqs, [
        ...(forceWorker ? ["GET /get"] : []),
        "GET /",
        "POST form",
        "GET /get?extra=1&go=Go&q=a+b&s=x",
        "GET /get",
      ]);
    } finally {
      await t.cleanup();
    }
  });
}

Deno.test("k6/html: a script that reaches res.html() in a way its source doesn't show gets a clear error", async () => {
  const t = await tempDir({
    "s.js": `import http from "k6/http";
export const options = { iterations: 1 };
export default function () {
  const res = http.get(__ENV.TARGET + "/");
  res["ht" + "ml"]();
}`,
  });
  try {
    await withTarget(async (base) => {
      const r = await runCli(["run", "-q", t.path("s.js")], { env: { TARGET: base } });
      assertEquals(r.code, 0, r.stderr); // an iteration error, as in k6
      assertStringIncludes(
        r.stderr,
        "Response.html() needs k6/html, which spate loads only for scripts that mention html, " +
          'submitForm or clickLink; add `import "k6/html";` to the script',
      );
    });
  } finally {
    await t.cleanup();
  }
});
