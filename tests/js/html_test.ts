import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { Element, parseHTML, type Selection } from "../../lib/js/html.ts";

const page = `<!DOCTYPE html><html lang="en"><head><title>T &amp; t</title></head><body>
<div id="top" class="a  b" data-user-id="42" data-cfg='{"x":1}' data-ver="1.10" data-on="true"><h1>Hi</h1><p>One <b>two</b></p><p title='say "hi"'>It's &lt;3</p><br>
<a href="/x/y%20z?q=1#frag">link</a><!-- note --></div>
<form id="f" action="/submit" method="post"><input name="csrf" value="t0k"><input type="checkbox" name="c" checked="checked"><input type="checkbox" name="u"><select name="s" multiple><option value="1" selected>One</option><option selected>Two</option><option>Three</option></select><textarea name="t">a &amp; b</textarea><input name="off" disabled="disabled" value="x"><input type="submit" name="go" value="Go"></form>
<input form="f" id="outside" name="o" value="1"><label for="outside">L</label>
<table><tr><th>h</th><td>1</td><td>2</td></tr></table><script>if (a < b) {}</script></body></html>`;

// Any element's own Selection and an Element's methods are exercised through the public API.
const el = (sel: Selection, i = 0) => sel.get(i) as Record<string, (...a: unknown[]) => unknown>;
const names = (sel: Selection) => sel.map((_i, s) => (s.get(0) as Element).nodeName());

Deno.test("k6/html: the HTML5 tree (implied elements) and text", () => {
  const doc = parseHTML("<p>a<td>b</p>x");
  // As Go's parser: html > head + body, and a stray <td> is dropped.
  assertEquals(names(doc.find("*")), ["html", "head", "body", "p"]);
  assertEquals(doc.find("body").html(), "<p>ab</p>x");
  const full = parseHTML(page);
  assertEquals(full.find("title").text(), "T & t");
  assertEquals(full.find("tr").parent().get(0) && names(full.find("tr").parent()), ["tbody"]);
  // text() concatenates every node's text, script content included.
  assertEquals(full.find("p").text(), "One twoIt's <3");
  assertEquals(full.find("script").text(), "if (a < b) {}");
});

Deno.test("k6/html: html() renders as Go's html.Render does", () => {
  const doc = parseHTML(page);
  assertEquals(
    doc.find("#top").html(),
    `<h1>Hi</h1><p>One <b>two</b></p><p title="say &#34;hi&#34;">It&#39;s &lt;3</p><br/>
<a href="/x/y%20z?q=1#frag">link</a><!-- note -->`,
  );
  // Children of script are literal when the script element is rendered, escaped on their own.
  assertEquals(
    doc.find("body").children().last().parent().find("script").html(),
    "if (a &lt; b) {}",
  );
  assertEquals(
    doc.find("table").parent().children("script").parent().html().endsWith(
      "<script>if (a < b) {}</script>",
    ),
    true,
  );
  assertEquals(
    parseHTML("<textarea>\n\nx</textarea>").find("body").html(),
    "<textarea>\n\nx</textarea>",
  );
  assertEquals(doc.find("nothing").html(), "");
  assertEquals(
    parseHTML("<!DOCTYPE html><p>x").html(),
    "<!DOCTYPE html><html><head></head><body><p>x</p></body></html>",
  );
});

Deno.test("k6/html: traversal keeps goquery's order and drops duplicates", () => {
  const doc = parseHTML(page);
  assertEquals(doc.find("p, h1").size(), 3);
  assertEquals(names(doc.find("p, h1")), ["h1", "p", "p"]); // document order within a node
  assertEquals(names(doc.find("b").parents()), ["p", "div", "body", "html"]);
  assertEquals(names(doc.find("b").parentsUntil("body")), ["p", "div"]);
  assertEquals(names(doc.find("b, p").parent()), ["div", "p"]); // p, b, p: their parents
  assertEquals(names(doc.find("p").last().prevAll()), ["p", "h1"]); // nearest first
  assertEquals(names(doc.find("h1").nextAll()), ["p", "p", "br", "a"]);
  assertEquals(names(doc.find("h1").nextUntil("br")), ["p", "p"]);
  assertEquals(names(doc.find("h1").nextUntil("a", "p")), ["p", "p"]);
  assertEquals(names(doc.find("br").prevUntil("h1")), ["p", "p"]);
  assertEquals(names(doc.find("h1").siblings("p")), ["p", "p"]);
  assertEquals(names(doc.find("h1").next()), ["p"]);
  assertEquals(names(doc.find("p").first().prev()), ["h1"]);
  assertEquals(doc.find("b").closest("div").attr("id"), "top");
  assertEquals(doc.find("div").closest("div").attr("id"), "top"); // itself
  assertEquals(names(doc.find("#top").children()), ["h1", "p", "p", "br", "a"]);
  assertEquals(doc.find("#top").contents().size(), 7); // a text node and the comment too
  assertEquals(names(doc.find("div").has("b")), ["div"]);
  assertEquals(doc.find("p").has("i").size(), 0);
  assertEquals(names(doc.find("#top").find(doc.find("b"))), ["b"]);
  assertEquals(names(doc.find("h1").add("b")), ["h1", "b"]);
  assertEquals(names(doc.find("p").add(doc.find("p"))), ["p", "p"]);
  assertEquals(doc.find("p").end().size(), 1); // back to the document
  assertEquals(doc.end().size(), 0);
});

Deno.test("k6/html: selectors: css-select's syntax, invalid ones match nothing", () => {
  const doc = parseHTML(page);
  assertEquals(doc.find('input[name="csrf"]').attr("value"), "t0k");
  assertEquals(doc.find("p:contains(One)").text(), "One two");
  assertEquals(doc.find("td:nth-child(2)").text(), "1");
  assertEquals(doc.find("[[[").size(), 0);
  assertEquals(doc.find("p").is("[title]"), true);
  assertEquals(doc.find("p").filter("[title]").text(), "It's <3");
  assertEquals(doc.find("p").not("[title]").text(), "One two");
  assertEquals(doc.single("p").text(), "One two");
});

Deno.test("k6/html: eq, first, last, slice, get, toArray, index, size", () => {
  const doc = parseHTML(page);
  const ps = doc.find("#top").children();
  assertEquals(ps.eq(1).html(), "One <b>two</b>");
  assertEquals(ps.eq(-1).text(), "link");
  assertEquals(ps.eq(9).size(), 0);
  assertEquals(ps.first().text(), "Hi");
  assertEquals(ps.last().text(), "link");
  assertEquals(names(ps.slice(1, 3)), ["p", "p"]);
  assertEquals(names(ps.slice(-2)), ["br", "a"]);
  assertEquals(names(ps.slice(3, 99)), ["br", "a"]);
  assertEquals((ps.get(-1) as Element).nodeName(), "a");
  assertEquals(ps.get(5), undefined);
  assertEquals((ps.get() as Element[]).length, 5);
  assertEquals(ps.toArray().map((s) => s.size()), [1, 1, 1, 1, 1]);
  assertEquals(doc.find("a").index(), 4); // among its element siblings
  assertEquals(doc.find("b").index("p, b"), 1);
  assertEquals(ps.index(doc.find("br")), 3);
  assertEquals(ps.index(ps.get(2)), 2);
  assertEquals(ps.index("nope"), -1);
});

Deno.test("k6/html: each, map, filter and is with functions", () => {
  const doc = parseHTML(page);
  const seen: string[] = [];
  const ret = doc.find("p").each((i, e) => seen.push(`${i}:${(e as Element).textContent()}`));
  assertEquals(seen, ["0:One two", "1:It's <3"]);
  assertEquals(ret.size(), 2);
  // map gets a Selection; a callback that throws leaves its value out, as in k6.
  assertEquals(
    doc.find("p").map((i, s) => {
      if (i === 0) throw new Error("skip");
      return s.text();
    }),
    ["It's <3"],
  );
  assertEquals(doc.find("p").filter((_i, s) => s.is("[title]")).size(), 1);
  assertEquals(doc.find("p").is((i) => i === 1), true);
  assertEquals(doc.find("p").not((i) => i === 1).text(), "One two");
  const err = assertThrows(() =>
    doc.find("p").each(() => {
      throw new Error("boom");
    })
  );
  assertEquals(err.message, "the function passed to each() failed: boom");
  assertThrows(() => doc.find("p").each(1 as never), Error, "must be a function");
  assertThrows(() => doc.find(5 as never), Error, "cannot use a 'number' as a selector");
});

Deno.test("k6/html: attr, data, val and the form serializers", () => {
  const doc = parseHTML(page);
  assertEquals(doc.find("div").attr("id"), "top");
  assertEquals(doc.find("div").attr("nope"), undefined);
  assertEquals(doc.find("div").attr("nope", "dflt"), "dflt");
  assertEquals(doc.find("div").data(), { userId: 42, cfg: { x: 1 }, ver: "1.10", on: true });
  assertEquals(doc.find("div").data("userId"), 42);
  assertEquals(doc.find("h1").data(), undefined);
  assertEquals(doc.find("select").val(), ["1", "Two"]);
  assertEquals(doc.find("textarea").val(), "a &amp; b"); // k6 returns the inner HTML
  assertEquals(doc.find('input[name="c"]').val(), "on");
  assertEquals(doc.find("form").serializeArray(), [
    { name: "csrf", value: "t0k" },
    { name: "c", value: "on" },
    { name: "s", value: ["1", "Two"] },
    { name: "t", value: "a &amp; b" },
  ]);
  assertEquals(doc.find("form").serializeObject(), {
    csrf: "t0k",
    c: "on",
    s: ["1", "Two"],
    t: "a &amp; b",
  });
  // Go's url.Values.Encode: keys sorted, QueryEscape.
  assertEquals(doc.find("form").serialize(), "c=on&csrf=t0k&s=1&s=Two&t=a+%26amp%3B+b");
  assertEquals(doc.find("input").serialize(), "c=on&csrf=t0k&o=1");
});

Deno.test("k6/html: Element DOM methods", () => {
  const doc = parseHTML(page, "http://example.com/dir/page");
  const div = el(doc.find("div"));
  assertEquals(div.nodeName(), "div");
  assertEquals(div.nodeType(), 1);
  assertEquals(div.id(), "top");
  assertEquals(div.classList(), ["a", "b"]);
  assertEquals(div.className(), "a  b");
  assertEquals(div.childElementCount(), 5);
  assertEquals((div.firstElementChild() as Element).textContent(), "Hi");
  assertEquals((div.lastChild() as Element).nodeType(), 8);
  assertEquals((div.lastChild() as Element).nodeValue(), "");
  assertEquals(((div.firstChild() as Element).nextSibling() as Element).nodeName(), "p");
  assertEquals((el(doc.find("html")).parentNode() as Element).nodeName(), "#document");
  assertEquals(el(doc.find("html")).parentElement(), undefined);
  assertEquals(el(doc.find("html")).lang(), "en");
  assertEquals((div.ownerDocument() as Element).nodeName(), "#document");
  assertEquals(div.hasAttribute("data-on"), true);
  assertEquals(div.getAttribute("data-ver"), "1.10");
  assertEquals((div.getAttributeNode("id") as Record<string, unknown>).value, "top");
  assertEquals(Object.keys(div.attributes() as object), [
    "id",
    "class",
    "data-user-id",
    "data-cfg",
    "data-ver",
    "data-on",
  ]);
  assertEquals(div.toString(), "[object html.Node]");
  assertEquals((div.firstChild() as Element).toString(), "[object html.Node]");
  assertEquals((div.previousSibling() as Element).toString(), "[object #text]");
  assertEquals((div.lastChild() as Element).toString(), "[object #comment]");
  assertEquals((div.querySelector("b") as Element).textContent(), "two");
  assertEquals((div.querySelectorAll("p") as unknown[]).length, 2);
  assertEquals((div.getElementsByTagName("b") as unknown[]).length, 1);
  assertEquals(div.contains(doc.find("b").get(0)), true);
  assertEquals(div.contains(div), false);
  assertEquals(div.matches("#top"), true);
  assertEquals(div.isSameNode(doc.find("div").get(0)), true);
  assertEquals(div.namespaceURI(), "http://www.w3.org/1999/xhtml");
  assertEquals((div.selection() as Selection).find("h1").text(), "Hi");
  assert(doc.find("div").get(0) instanceof Element);
});

Deno.test("k6/html: per-tag properties, resolved against the response URL", () => {
  const doc = parseHTML(page, "http://user:pw@example.com:8080/dir/page");
  const a = el(doc.find("a"));
  assertEquals(a.href(), "http://user:pw@example.com:8080/x/y%20z?q=1#frag");
  assertEquals(a.toString(), "http://user:pw@example.com:8080/x/y%20z?q=1#frag");
  assertEquals(
    [a.protocol(), a.host(), a.hostname(), a.port(), a.pathname(), a.search(), a.hash()],
    ["http", "example.com:8080", "example.com", "8080", "/x/y z", "?q=1", "#frag"],
  );
  assertEquals([a.username(), a.password(), a.origin()], ["user", "pw", "http://example.com:8080"]);
  assertEquals(a.text(), "link");
  // Without a URL (parseHTML), the attribute as written.
  assertEquals(el(parseHTML(page).find("a")).href(), "/x/y%20z?q=1#frag");
  assertEquals(el(parseHTML(page).find("a")).protocol(), ":");
  const form = el(doc.find("form"));
  assertEquals(form.action(), "http://user:pw@example.com:8080/submit");
  assertEquals([form.method(), form.enctype(), form.length()], [
    "post",
    "application/x-www-form-urlencoded",
    7,
  ]);
  const csrf = el(doc.find("input"));
  assertEquals([csrf.name(), csrf.value(), csrf.type(), csrf.maxLength()], [
    "csrf",
    "t0k",
    "text",
    -1,
  ]);
  assertEquals((csrf.form() as Element).getAttribute("id"), "f");
  assertEquals(csrf.formMethod(), "post");
  const outside = el(doc.find("#outside"));
  assertEquals((outside.form() as Element).getAttribute("id"), "f"); // by the form attribute
  assertEquals((outside.labels() as Element[]).map((l) => l.textContent()), ["L"]);
  assertEquals((el(doc.find("label")).control() as Element).getAttribute("name"), "o");
  const select = el(doc.find("select"));
  assertEquals([select.type(), select.value(), select.selectedIndex(), select.length()], [
    "select-multiple",
    "1",
    0,
    3,
  ]);
  assertEquals(
    (select.options() as Element[]).map((o) => (o as unknown as { value(): string }).value()),
    [
      "1",
      "Two",
      "Three",
    ],
  );
  const option = el(doc.find("option"), 2);
  assertEquals([option.index(), option.label(), option.selected()], [2, "Three", false]);
  assertEquals([el(doc.find("td"), 1).cellIndex(), el(doc.find("tr")).rowIndex()], [2, 0]);
  assertEquals((el(doc.find("table")).rows() as unknown[]).length, 1);
  assertEquals(el(doc.find("table")).tHead(), undefined);
  assertEquals(el(doc.find("textarea")).type(), "textarea");
  assertEquals(el(doc.find("title")).text(), "T & t");
  assertEquals(el(doc.find("script")).text(), "if (a < b) {}");
});
