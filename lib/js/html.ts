/**
 * `k6/html` (js-api.md §k6/html): `parseHTML(src)` returns a jQuery-like {@link Selection};
 * `Response.html()` and the form and link helpers build on it.
 *
 * k6 parses with Go's HTML5 parser and selects with cascadia through goquery. Here parse5 (the
 * WHATWG parsing algorithm, so the same tree: implied `<html>`, `<head>`, `<body>` and
 * `<tbody>`) builds a domhandler tree, and css-select matches selectors. htmlparser2 parsed
 * ~1.5x faster here (35 vs 23 MB/s on a 56 KB page) but builds a different tree (no implied
 * elements), so `find("body")` would find nothing in a fragment that k6 finds. parse5 and
 * css-select take ~21 ms to load, so a VU host loads this module only when the script can use it
 * (lib/js/optional.ts).
 *
 * Method semantics follow goquery: results in the order goquery builds them (not re-sorted),
 * without duplicates; `text()` concatenates text nodes (script and style content included);
 * `html()` renders the first node's children exactly as Go's `html.Render` does (`<br/>`,
 * `&#39;`, `&#34;`); an invalid selector matches nothing instead of throwing.
 *
 * @example
 * ```ts
 * const doc = parseHTML('<form><input name="csrf" value="t0k"></form>');
 * doc.find('input[name="csrf"]').attr("value"); // "t0k"
 * ```
 * @module
 */
import { parse } from "parse5";
import { adapter } from "parse5-htmlparser2-tree-adapter";
import { compile } from "css-select";
import { encodeQuery } from "./http.ts";

/** The domhandler node shape this module reads (kept structural: no domhandler import). */
interface DomNode {
  type: string;
  parent: DomNode | null;
  prev: DomNode | null;
  next: DomNode | null;
  children?: DomNode[];
  /** Element tag name, lowercase (doctype: "!doctype"). */
  name?: string;
  attribs?: Record<string, string>;
  /** Text and comment content. */
  data?: string;
  namespace?: string;
  "x-attribsPrefix"?: Record<string, string>;
  "x-name"?: string;
  "x-publicId"?: string | null;
  "x-systemId"?: string | null;
}

const HTML_NS = "http://www.w3.org/1999/xhtml";
const SVG_NS = "http://www.w3.org/2000/svg";
const MATHML_NS = "http://www.w3.org/1998/Math/MathML";

function isElement(n: DomNode): boolean {
  return n.type === "tag" || n.type === "script" || n.type === "style";
}

function elementChildren(n: DomNode): DomNode[] {
  return (n.children ?? []).filter(isElement);
}

// ---- selectors ---------------------------------------------------------------------------

type Matcher = (n: DomNode) => boolean;
const never: Matcher = () => false;
const matchers = new Map<string, Matcher>();

/** A compiled selector; an invalid one matches nothing (goquery's behaviour). Cached. */
function matcher(selector: string): Matcher {
  let m = matchers.get(selector);
  if (m !== undefined) return m;
  try {
    const test = compile(selector) as unknown as (n: DomNode) => boolean;
    m = (n) => isElement(n) && test(n);
  } catch {
    m = never;
  }
  if (matchers.size >= 1000) matchers.clear();
  matchers.set(selector, m);
  return m;
}

/** Descendants of `root` (not `root`) that match, in document order. */
function descendants(root: DomNode, m: Matcher, out: DomNode[], seen: Set<DomNode>): void {
  for (const c of root.children ?? []) {
    if (m(c) && !seen.has(c)) {
      seen.add(c);
      out.push(c);
    }
    if (c.children) descendants(c, m, out, seen);
  }
}

function unique(nodes: Iterable<DomNode>): DomNode[] {
  return [...new Set(nodes)];
}

// ---- text and rendering (Go's golang.org/x/net/html Render) --------------------------------

function textOf(n: DomNode): string {
  if (n.type === "text") return n.data ?? "";
  if (!n.children) return "";
  let s = "";
  for (const c of n.children) s += textOf(c);
  return s;
}

const voidElements = new Set([
  "area",
  "base",
  "br",
  "col",
  "embed",
  "hr",
  "img",
  "input",
  "keygen",
  "link",
  "meta",
  "param",
  "source",
  "track",
  "wbr",
]);
const literalTextElements = new Set([
  "iframe",
  "noembed",
  "noframes",
  "noscript",
  "plaintext",
  "script",
  "style",
  "xmp",
]);

function escapeText(s: string): string {
  return s.replace(
    /[&'<>"\r]/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "'"
        ? "&#39;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&#34;"
        : "&#13;",
  );
}

/** Go escapes `&` in comments, and `>` only where it could end the comment. */
function escapeComment(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "&") out += "&amp;";
    else if (c === ">" && (i === 0 || s[i - 1] === "!" || s[i - 1] === "-")) out += "&gt;";
    else out += c;
  }
  return out;
}

function quoteDoctype(s: string): string {
  return s.includes('"') ? `'${s}'` : `"${s}"`;
}

function render(n: DomNode): string {
  switch (n.type) {
    case "text":
      return escapeText(n.data ?? "");
    case "comment":
      return `<!--${escapeComment(n.data ?? "")}-->`;
    case "root":
      return (n.children ?? []).map(render).join("");
    case "directive": {
      if (n.name !== "!doctype") return "";
      let s = `<!DOCTYPE ${escapeText(n["x-name"] ?? "html")}`;
      const pub = n["x-publicId"] ?? "";
      const sys = n["x-systemId"] ?? "";
      if (pub !== "") {
        s += ` PUBLIC ${quoteDoctype(pub)}`;
        if (sys !== "") s += ` ${quoteDoctype(sys)}`;
      } else if (sys !== "") {
        s += ` SYSTEM ${quoteDoctype(sys)}`;
      }
      return s + ">";
    }
  }
  if (!isElement(n)) return "";
  const name = n.name ?? "";
  let s = "<" + name;
  const prefixes = n["x-attribsPrefix"];
  for (const [key, value] of Object.entries(n.attribs ?? {})) {
    const prefix = prefixes?.[key];
    s += ` ${prefix ? prefix + ":" : ""}${key}="${escapeText(value)}"`;
  }
  if (voidElements.has(name)) return s + "/>";
  s += ">";
  const children = n.children ?? [];
  const first = children[0];
  if (
    first?.type === "text" && (first.data ?? "").startsWith("\n") &&
    (name === "pre" || name === "listing" || name === "textarea")
  ) {
    s += "\n";
  }
  const literal = n.namespace === HTML_NS && literalTextElements.has(name);
  for (const c of children) s += literal && c.type === "text" ? c.data ?? "" : render(c);
  return s + `</${name}>`;
}

function innerHTML(n: DomNode): string {
  return (n.children ?? []).map(render).join("");
}

// ---- values ----------------------------------------------------------------------------------

function attrOf(n: DomNode | undefined, name: string): string | undefined {
  const attribs = n?.attribs;
  return attribs !== undefined && Object.hasOwn(attribs, name) ? attribs[name] : undefined;
}

function valueOrHTML(n: DomNode | undefined): string {
  if (n === undefined) return "";
  return attrOf(n, "value") ?? innerHTML(n);
}

/** Numbers, booleans and JSON in `data-*` attributes, as k6 converts them. */
function convertData(val: string): unknown {
  if (val === "") return undefined;
  if (val[0] === "{" || val[0] === "[") {
    try {
      return JSON.parse(val);
    } catch {
      return val;
    }
  }
  if (val === "true") return true;
  if (val === "false") return false;
  if (val === "null" || val === "undefined") return undefined;
  // A number only when it prints back unchanged ("101.00" and "1E02" stay strings).
  if (/^-?\d+(\.\d+)?$/.test(val)) {
    const n = Number(val);
    if (String(n) === val) return n;
  }
  return val;
}

/** `data-foo-bar` → `fooBar`. */
function attrToProperty(s: string): string {
  return s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `fooBar` → `foo-bar`. */
function propertyToAttr(s: string): string {
  return s.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

function resolveURL(base: string, ref: string): string | undefined {
  try {
    return new URL(ref, base).href;
  } catch {
    return undefined;
  }
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

// ---- Selection -------------------------------------------------------------------------------

/** What selection methods accept as a selector. */
type Selector = string | Selection | Element;
type SelCallback = (index: number, sel: Selection) => unknown;

/** Where a Selection exposes its nodes to this module (hidden from scripts). */
const NODES = Symbol("nodes");

/** A set of nodes, with goquery's (and k6's) jQuery-like methods. */
export class Selection {
  /** The response URL relative links resolve against ("" for parseHTML). */
  readonly url: string;
  readonly #nodes: DomNode[];
  readonly #root: DomNode;
  readonly #prev: Selection | undefined;

  /** @internal use {@link parseHTML}. */
  constructor(nodes: DomNode[], root: DomNode, url: string, prev?: Selection) {
    this.#nodes = nodes;
    this.#root = root;
    this.url = url;
    this.#prev = prev;
  }

  /** The nodes (hidden from scripts). */
  get [NODES](): readonly DomNode[] {
    return this.#nodes;
  }

  #with(nodes: DomNode[]): Selection {
    return new Selection(nodes, this.#root, this.url, this);
  }

  #nodesOf(arg: unknown, method: string): DomNode[] | Matcher {
    if (typeof arg === "string") return matcher(arg);
    if (arg instanceof Selection) return [...arg.#nodes];
    if (arg instanceof Element) return [arg[NODE]];
    throw new Error(`invalid argument, cannot use a '${typeName(arg)}' as a selector (${method})`);
  }

  #filterBy(nodes: DomNode[], filter: string | undefined): DomNode[] {
    if (filter === undefined || filter === null) return nodes;
    const m = matcher(String(filter));
    return nodes.filter(m);
  }

  #callMatcher(fn: SelCallback): (n: DomNode, i: number) => boolean {
    return (n, i) => Boolean(fn.call(undefined, i, this.#with([n])));
  }

  /** Adds nodes: a selector searches the whole document. */
  add(arg: Selector): Selection {
    const extra = this.#nodesOf(arg, "add");
    const nodes = typeof extra === "function" ? this.#findIn([this.#root], extra) : extra;
    return this.#with(unique([...this.#nodes, ...nodes]));
  }

  #findIn(roots: readonly DomNode[], m: Matcher): DomNode[] {
    const out: DomNode[] = [];
    const seen = new Set<DomNode>();
    for (const r of roots) descendants(r, m, out, seen);
    return out;
  }

  /** Descendants matching a selector, or those of a Selection/Element under these nodes. */
  find(arg: Selector): Selection {
    const target = this.#nodesOf(arg, "find");
    if (typeof target === "function") return this.#with(this.#findIn(this.#nodes, target));
    return this.#with(target.filter((t) => this.#nodes.some((n) => n !== t && contains(n, t))));
  }

  /** The first node that matches, searching the descendants (k6's `single`). */
  single(selector: string): Selection {
    return this.#with(this.#findIn(this.#nodes, matcher(String(selector))).slice(0, 1));
  }

  /** For each node, itself or its closest ancestor that matches. */
  closest(arg: Selector): Selection {
    const target = this.#nodesOf(arg, "closest");
    const test = typeof target === "function" ? target : (n: DomNode) => target.includes(n);
    const out: DomNode[] = [];
    for (const n of this.#nodes) {
      for (let p: DomNode | null = n; p && isElement(p); p = p.parent) {
        if (test(p)) {
          out.push(p);
          break;
        }
      }
    }
    return this.#with(unique(out));
  }

  /** Nodes with a descendant that matches. */
  has(arg: Selector): Selection {
    const target = this.#nodesOf(arg, "has");
    if (typeof target === "function") {
      return this.#with(this.#nodes.filter((n) => this.#findIn([n], target).length > 0));
    }
    return this.#with(this.#nodes.filter((n) => target.some((t) => t !== n && contains(n, t))));
  }

  /** Nodes that do not match (a selector, a Selection, an Element or a function). */
  not(arg: Selector | SelCallback): Selection {
    if (typeof arg === "function") {
      const keep = this.#callMatcher(arg);
      return this.#with(this.#nodes.filter((n, i) => !keep(n, i)));
    }
    const target = this.#nodesOf(arg, "not");
    const test = typeof target === "function" ? target : (n: DomNode) => target.includes(n);
    return this.#with(this.#nodes.filter((n) => !test(n)));
  }

  next(filter?: string): Selection {
    return this.#sibling((n) => n.next, false, filter);
  }

  nextAll(filter?: string): Selection {
    return this.#sibling((n) => n.next, true, filter);
  }

  prev(filter?: string): Selection {
    return this.#sibling((n) => n.prev, false, filter);
  }

  prevAll(filter?: string): Selection {
    return this.#sibling((n) => n.prev, true, filter);
  }

  #sibling(step: (n: DomNode) => DomNode | null, all: boolean, filter?: string): Selection {
    const out: DomNode[] = [];
    for (const n of this.#nodes) {
      for (let s = step(n); s; s = step(s)) {
        if (!isElement(s)) continue;
        out.push(s);
        if (!all) break;
      }
    }
    return this.#with(this.#filterBy(unique(out), filter));
  }

  siblings(filter?: string): Selection {
    const out: DomNode[] = [];
    for (const n of this.#nodes) {
      for (const s of n.parent ? elementChildren(n.parent) : []) if (s !== n) out.push(s);
    }
    return this.#with(this.#filterBy(unique(out), filter));
  }

  parent(filter?: string): Selection {
    const out: DomNode[] = [];
    for (const n of this.#nodes) if (n.parent && isElement(n.parent)) out.push(n.parent);
    return this.#with(this.#filterBy(unique(out), filter));
  }

  parents(filter?: string): Selection {
    return this.#with(this.#filterBy(unique(this.#ancestors(() => false)), filter));
  }

  #ancestors(stop: (n: DomNode) => boolean): DomNode[] {
    const out: DomNode[] = [];
    for (const n of this.#nodes) {
      for (let p = n.parent; p && isElement(p) && !stop(p); p = p.parent) out.push(p);
    }
    return out;
  }

  parentsUntil(selector?: Selector | null, filter?: string | null): Selection {
    const stop = this.#untilTest(selector, "parentsUntil");
    return this.#with(this.#filterBy(unique(this.#ancestors(stop)), filter ?? undefined));
  }

  nextUntil(selector?: Selector | null, filter?: string | null): Selection {
    return this.#siblingUntil((n) => n.next, selector, filter, "nextUntil");
  }

  prevUntil(selector?: Selector | null, filter?: string | null): Selection {
    return this.#siblingUntil((n) => n.prev, selector, filter, "prevUntil");
  }

  #untilTest(selector: Selector | null | undefined, method: string): Matcher {
    if (selector === undefined || selector === null || selector === "") return never;
    if (selector instanceof Element) {
      throw new Error(`invalid argument, cannot use a 'object' as a selector (${method})`);
    }
    const target = this.#nodesOf(selector, method);
    return typeof target === "function" ? target : (n) => target.includes(n);
  }

  #siblingUntil(
    step: (n: DomNode) => DomNode | null,
    selector: Selector | null | undefined,
    filter: string | null | undefined,
    method: string,
  ): Selection {
    const stop = this.#untilTest(selector, method);
    const out: DomNode[] = [];
    for (const n of this.#nodes) {
      for (let s = step(n); s; s = step(s)) {
        if (!isElement(s)) continue;
        if (stop(s)) break;
        out.push(s);
      }
    }
    return this.#with(this.#filterBy(unique(out), filter ?? undefined));
  }

  /** Number of nodes. */
  size(): number {
    return this.#nodes.length;
  }

  /** The selection this one was made from (an empty one at the start of the chain). */
  end(): Selection {
    return this.#prev ?? new Selection([], this.#root, this.url);
  }

  /** The node at `index` (negative counts from the end), or an empty selection. */
  eq(index: number): Selection {
    const i = Math.trunc(Number(index));
    const at = i < 0 ? this.#nodes.length + i : i;
    const n = this.#nodes[at];
    return this.#with(n === undefined ? [] : [n]);
  }

  first(): Selection {
    return this.eq(0);
  }

  last(): Selection {
    return this.eq(-1);
  }

  /** Children of every node, text and comments included. */
  contents(): Selection {
    return this.#with(this.#nodes.flatMap((n) => n.children ?? []));
  }

  /** Element children, optionally filtered. */
  children(filter?: string): Selection {
    return this.#with(this.#filterBy(this.#nodes.flatMap(elementChildren), filter));
  }

  /** The text of every node, concatenated. */
  text(): string {
    let s = "";
    for (const n of this.#nodes) s += textOf(n);
    return s;
  }

  /** The first node's attribute, or `defaultValue` (undefined) when it has none. */
  attr(name: string, defaultValue?: unknown): unknown {
    return attrOf(this.#nodes[0], String(name)) ?? defaultValue;
  }

  /** The first node's inner HTML ("" when empty). */
  html(): string {
    const n = this.#nodes[0];
    return n === undefined ? "" : innerHTML(n);
  }

  /** The value of a form field, as k6 reads it from the markup. */
  val(): unknown {
    const n = this.#nodes[0];
    switch (n === undefined || !isElement(n) ? "" : n.name) {
      case "input": {
        const v = attrOf(n, "value");
        if (v !== undefined) return v;
        const type = attrOf(n, "type");
        return type === "radio" || type === "checkbox" ? "on" : "";
      }
      case "button":
        return attrOf(n, "value") ?? "";
      case "textarea":
        return this.html();
      case "option":
        return valueOrHTML(n);
      case "select": {
        const selected = this.#findIn([n!], matcher("option[selected]"));
        if (attrOf(n, "multiple") !== undefined) return selected.map(valueOrHTML);
        return valueOrHTML(selected[0]);
      }
      default:
        return undefined;
    }
  }

  /** Calls `fn(index, element)` for every node; returns this selection. */
  each(fn: (index: number, element: unknown) => unknown): Selection {
    if (typeof fn !== "function") throw new Error("the argument to each() must be a function");
    this.#nodes.forEach((n, i) => {
      try {
        fn(i, toElement(n, this.#with([n])));
      } catch (err) {
        throw new Error(
          `the function passed to each() failed: ${err instanceof Error ? err.message : err}`,
        );
      }
    });
    return this;
  }

  /** Nodes matching a selector, in a Selection, or for which `fn(index, selection)` is true. */
  filter(arg: string | Selection | SelCallback): Selection {
    if (typeof arg === "string") return this.#with(this.#nodes.filter(matcher(arg)));
    if (arg instanceof Selection) return this.#with(this.#nodes.filter((n) => arg.#has(n)));
    if (typeof arg !== "function") {
      throw new Error("the argument to filter() must be a function, a selector or a selection");
    }
    const keep = this.#callMatcher(arg);
    return this.#with(this.#nodes.filter((n, i) => keep(n, i)));
  }

  #has(n: DomNode): boolean {
    return this.#nodes.includes(n);
  }

  /** Whether any node matches. */
  is(arg: string | Selection | SelCallback): boolean {
    if (typeof arg === "string") return this.#nodes.some(matcher(arg));
    if (arg instanceof Selection) return this.#nodes.some((n) => arg.#has(n));
    if (typeof arg !== "function") {
      throw new Error("the argument to is() must be a function, a selector or a selection");
    }
    const test = this.#callMatcher(arg);
    return this.#nodes.some((n, i) => test(n, i));
  }

  /**
   * `fn(index, selection)` for every node; returns the results. As in k6, a call that throws
   * leaves its result out.
   */
  map(fn: SelCallback): unknown[] {
    if (typeof fn !== "function") throw new Error("the argument to map() must be a function");
    const out: unknown[] = [];
    this.#nodes.forEach((n, i) => {
      try {
        out.push(fn(i, this.#with([n])));
      } catch { /* k6 drops the value */ }
    });
    return out;
  }

  /** Nodes from `start` (negative: from the end) up to `end` (past the length: all). */
  slice(start: number, end?: number): Selection {
    const len = this.#nodes.length;
    let s = Math.trunc(Number(start));
    if (s < 0) s += len;
    let e = end === undefined || end >= len ? len : Math.trunc(Number(end));
    if (e < 0) e += len;
    if (s < 0 || s > len || e < s) {
      throw new Error(`slice bounds out of range [${start}:${end ?? len}]`);
    }
    return this.#with(this.#nodes.slice(s, e));
  }

  /** All nodes as Elements, or the one at `index` (negative counts from the end). */
  get(index?: number): unknown {
    if (index === undefined) return this.#nodes.map((n) => toElement(n, this.#with([n])));
    const len = this.#nodes.length;
    if (!(index < len && index > -len)) return undefined;
    const n = this.#nodes[index < 0 ? len + index : index];
    return toElement(n, this.#with([n]));
  }

  /** One Selection per node. */
  toArray(): Selection[] {
    return this.#nodes.map((n) => this.#with([n]));
  }

  /**
   * Without an argument: the first node's position among its element siblings. With a
   * selector: its position among the document's matches; with a Selection or Element: that
   * one's position in this selection. -1 when not found.
   */
  index(arg?: unknown): number {
    if (arg === undefined) {
      const n = this.#nodes[0];
      if (n === undefined) return -1;
      let i = 0;
      for (let p = n.prev; p; p = p.prev) if (isElement(p)) i++;
      return i;
    }
    if (typeof arg === "string") {
      const n = this.#nodes[0];
      if (n === undefined) return -1;
      return this.#findIn([this.#root], matcher(arg)).indexOf(n);
    }
    if (arg instanceof Selection) {
      const n = arg.#nodes[0];
      return n === undefined ? -1 : this.#nodes.indexOf(n);
    }
    if (arg instanceof Element) return this.#nodes.indexOf(arg[NODE]);
    return -1;
  }

  /** `data-*` attributes of the first node: all as an object, or one by camelCase key. */
  data(key?: string): unknown {
    const attribs = this.#nodes[0]?.attribs;
    if (attribs === undefined || Object.keys(attribs).length === 0) return undefined;
    if (key !== undefined) {
      const v = attribs["data-" + propertyToAttr(String(key))];
      return v === undefined ? undefined : convertData(v);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(attribs)) {
      if (k.startsWith("data-") && k.length > 5) out[attrToProperty(k.slice(5))] = convertData(v);
    }
    return out;
  }

  /** Successful form fields as `{name, value}` (a form's fields, or the fields selected). */
  serializeArray(): Array<{ name: string; value: unknown }> {
    const fieldSelector = matcher("input,select,textarea,keygen");
    const fields = this.#nodes.some(matcher("form"))
      ? this.#findIn(this.#nodes, fieldSelector)
      : this.#nodes.filter(fieldSelector);
    const out: Array<{ name: string; value: unknown }> = [];
    for (const n of fields) {
      const name = attrOf(n, "name") ?? "";
      const type = attrOf(n, "type") ?? "";
      if (name === "" || attrOf(n, "disabled") === "disabled") continue;
      if (["submit", "button", "reset", "image", "file"].includes(type)) continue;
      if ((type === "checkbox" || type === "radio") && attrOf(n, "checked") !== "checked") {
        continue;
      }
      out.push({ name, value: this.#with([n]).val() });
    }
    return out;
  }

  /** {@link Selection.serializeArray} as an object (a later field of a name wins). */
  serializeObject(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const { name, value } of this.serializeArray()) out[name] = value;
    return out;
  }

  /** The fields URL-encoded, keys sorted (Go's `url.Values.Encode`). */
  serialize(): string {
    const values = new Map<string, string[]>();
    for (const { name, value } of this.serializeArray()) {
      if (typeof value === "string") values.set(name, [value]);
      else if (Array.isArray(value)) values.set(name, value.map(String));
    }
    return encodeQuery(values);
  }
}

function contains(ancestor: DomNode, n: DomNode): boolean {
  for (let p = n.parent; p; p = p.parent) if (p === ancestor) return true;
  return false;
}

// ---- Element ---------------------------------------------------------------------------------

const nodeTypes: Record<string, number> = {
  tag: 1,
  script: 1,
  style: 1,
  text: 3,
  comment: 8,
  root: 9,
  directive: 10,
};

/** Where an Element keeps its node and its one-node selection (hidden from scripts). */
const NODE = Symbol("node");
const SEL = Symbol("selection");

/** One node with k6's DOM-like methods; per-tag subclasses add the element's properties. */
export class Element {
  readonly [NODE]: DomNode;
  readonly [SEL]: Selection;

  /** Made by Selection#get() and #each(), not by scripts. */
  constructor(node: DomNode, sel: Selection) {
    this[NODE] = node;
    this[SEL] = sel;
  }

  getAttribute(name: string): unknown {
    return attrOf(this[NODE], String(name));
  }

  getAttributeNode(name: string): unknown {
    const v = attrOf(this[NODE], String(name));
    return v === undefined ? undefined : attribute(this, String(name), v);
  }

  hasAttribute(name: string): boolean {
    return attrOf(this[NODE], String(name)) !== undefined;
  }

  hasAttributes(): boolean {
    return Object.keys(this[NODE].attribs ?? {}).length > 0;
  }

  attributes(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this[NODE].attribs ?? {})) out[k] = attribute(this, k, v);
    return out;
  }

  toString(): string {
    return isElement(this[NODE]) ? "[object html.Node]" : `[object ${this.nodeName()}]`;
  }

  hasChildNodes(): boolean {
    return (this[NODE].children?.length ?? 0) > 0;
  }

  textContent(): string {
    return textOf(this[NODE]);
  }

  id(): string {
    return attrString(this, "id");
  }

  isEqualNode(other: unknown): boolean {
    return other instanceof Element && innerHTML(this[NODE]) === innerHTML(other[NODE]);
  }

  isSameNode(other: unknown): boolean {
    return other instanceof Element && other[NODE] === this[NODE];
  }

  selection(): Selection {
    return this[SEL];
  }

  getElementsByClassName(name: string): unknown[] {
    return elements(this[SEL].find("." + name));
  }

  getElementsByTagName(name: string): unknown[] {
    return elements(this[SEL].find(name));
  }

  querySelector(selector: string): unknown {
    return elements(this[SEL].find(selector))[0];
  }

  querySelectorAll(selector: string): unknown[] {
    return elements(this[SEL].find(selector));
  }

  /** Lowercase tag name; `#text`, `#comment`, `#document` for other nodes. */
  nodeName(): string {
    return nodeName(this[NODE]);
  }

  firstChild(): unknown {
    return near(this, this[NODE].children?.[0]);
  }

  lastChild(): unknown {
    const c = this[NODE].children;
    return near(this, c?.[c.length - 1]);
  }

  firstElementChild(): unknown {
    return near(this, elementChildren(this[NODE])[0]);
  }

  lastElementChild(): unknown {
    const c = elementChildren(this[NODE]);
    return near(this, c[c.length - 1]);
  }

  previousSibling(): unknown {
    return near(this, this[NODE].prev);
  }

  nextSibling(): unknown {
    return near(this, this[NODE].next);
  }

  previousElementSibling(): unknown {
    let p = this[NODE].prev;
    while (p && !isElement(p)) p = p.prev;
    return near(this, p);
  }

  nextElementSibling(): unknown {
    let p = this[NODE].next;
    while (p && !isElement(p)) p = p.next;
    return near(this, p);
  }

  parentNode(): unknown {
    return near(this, this[NODE].parent);
  }

  parentElement(): unknown {
    const p = this[NODE].parent;
    return p && isElement(p) ? near(this, p) : undefined;
  }

  childNodes(): unknown[] {
    return elements(this[SEL].contents());
  }

  children(): unknown[] {
    return elements(this[SEL].children());
  }

  childElementCount(): number {
    return elementChildren(this[NODE]).length;
  }

  classList(): string[] | undefined {
    const cls = attrOf(this[NODE], "class");
    return cls === undefined ? undefined : cls.split(/\s+/).filter((s) => s !== "");
  }

  className(): unknown {
    return attrOf(this[NODE], "class");
  }

  lang(): unknown {
    if (this[NODE]["x-attribsPrefix"]?.lang) return undefined;
    return attrOf(this[NODE], "lang");
  }

  ownerDocument(): unknown {
    let n: DomNode | null = this[NODE];
    while (n && n.type !== "root") n = n.parent;
    return near(this, n);
  }

  namespaceURI(): string {
    return this[NODE].namespace ?? HTML_NS;
  }

  isDefaultNamespace(): boolean {
    return (this[NODE].namespace ?? HTML_NS) === HTML_NS;
  }

  innerHTML(): string {
    return innerHTML(this[NODE]);
  }

  nodeType(): number | undefined {
    return nodeTypes[this[NODE].type];
  }

  nodeValue(): unknown {
    const n = this[NODE];
    return n.type === "text" || n.type === "comment" ? textOf(n) : undefined;
  }

  contains(other: unknown): boolean {
    return other instanceof Element && other[NODE] !== this[NODE] &&
      contains(this[NODE], other[NODE]);
  }

  matches(selector: string): boolean {
    return this[SEL].is(selector);
  }
}

function attribute(el: Element, name: string, value: string): Record<string, unknown> {
  const prefix = el[NODE]["x-attribsPrefix"]?.[name] ?? "";
  return {
    owner_element: el,
    name,
    value,
    prefix: () => prefix,
    namespaceURI: () => namespaceOf(prefix),
    localName: () => name,
  };
}

/** The Element for a node near `el` (a child, sibling, parent). */
function near(el: Element, n: DomNode | null | undefined): unknown {
  return n ? toElement(n, new Selection([n], rootOf(n), el[SEL].url)) : undefined;
}

/** Elements for the nodes of a selection. */
function elements(sel: Selection): unknown[] {
  return sel[NODES].map((n) => toElement(n, sel));
}

function attrString(el: Element, name: string): string {
  return attrOf(el[NODE], name) ?? "";
}

function attrURL(el: Element, name: string, fallback: string): string {
  const v = attrOf(el[NODE], name);
  const base = el[SEL].url;
  if (base === "") return v ?? "";
  if (v === undefined) return fallback;
  return resolveURL(base, v) ?? fallback;
}

function attrInt(el: Element, name: string, fallback: number): number {
  const v = attrOf(el[NODE], name);
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return fallback;
  return Number(v);
}

function attrPresent(el: Element, name: string): boolean {
  return attrOf(el[NODE], name) !== undefined;
}

/** The enclosing form, or the one the `form` attribute names. */
function ownerForm(el: Element): Selection | undefined {
  const closest = el[SEL].closest("form");
  if (closest.size() > 0) return closest;
  const id = attrString(el, "form");
  if (id === "") return undefined;
  const found = el[SEL].parents().last().find("#" + cssEscape(id));
  return found.size() > 0 ? found : undefined;
}

function ownerFormElement(el: Element): unknown {
  const form = ownerForm(el);
  return form === undefined ? undefined : elements(form.eq(0))[0];
}

/** Labels wrapping the element or pointing at its id. */
function labelsOf(el: Element): unknown[] {
  const wrapper = el[SEL].closest("label");
  const id = attrString(el, "id");
  if (id === "") return elements(wrapper);
  const byId = el[SEL].parents().last().find(`label[for="${cssString(id)}"]`);
  return elements(byId.size() === 0 ? wrapper : wrapper.add(byId));
}

function rootOf(n: DomNode): DomNode {
  let r = n;
  while (r.parent) r = r.parent;
  return r;
}

function nodeName(n: DomNode): string {
  if (isElement(n)) return n.name ?? "";
  switch (n.type) {
    case "text":
      return "#text";
    case "comment":
      return "#comment";
    case "root":
      return "#document";
    case "directive":
      return n["x-name"] ?? "html";
  }
  return "";
}

function namespaceOf(prefix: string): string {
  return prefix === "svg" ? SVG_NS : prefix === "math" ? MATHML_NS : HTML_NS;
}

/** An id or name inside a `#...` selector. */
function cssEscape(s: string): string {
  return s.replace(/[^\w-]/g, (c) => "\\" + c);
}

/** A value inside a double-quoted selector string. */
function cssString(s: string): string {
  return s.replace(/["\\]/g, (c) => "\\" + c);
}

// ---- per-tag element classes -----------------------------------------------------------------

/**
 * Attribute-backed properties of each element family, as k6's generated accessors define them:
 * `s` string, `u` URL resolved against the response URL (`base`: default is that URL), `b`
 * present, `i` integer with a default, `e` one of the values (the first is the default), `n`
 * one of the values or undefined, `c` a constant.
 */
type PropSpec =
  | [name: string, attr: string, kind: "s" | "b"]
  | [name: string, attr: string, kind: "u", base?: true]
  | [name: string, attr: string, kind: "i", fallback: number]
  | [name: string, attr: string, kind: "e" | "n", values: readonly string[]]
  | [name: string, attr: "", kind: "c", value: string];

const referrer = [
  "",
  "no-referrer",
  "no-referrer-when-downgrade",
  "origin",
  "origin-when-cross-origin",
  "unsafe-url",
];
const autocomplete = ["on", "off"];
const crossOrigin = ["anonymous", "use-credentials"];
const encTypes = ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"];
const inputTypes = [
  "text",
  "button",
  "checkbox",
  "color",
  "date",
  "datetime-local",
  "email",
  "file",
  "hidden",
  "image",
  "month",
  "number",
  "password",
  "radio",
  "range",
  "reset",
  "search",
  "submit",
  "tel",
  "time",
  "url",
  "week",
];

const hrefProps: PropSpec[] = [
  ["download", "download", "s"],
  ["referrerPolicy", "referrerpolicy", "e", referrer],
  ["rel", "rel", "s"],
  ["href", "href", "u"],
  ["target", "target", "s"],
  ["type", "type", "s"],
  ["accessKey", "accesskey", "s"],
  ["hrefLang", "hreflang", "s"],
  ["toString", "href", "u"],
];
const mediaProps: PropSpec[] = [
  ["autoplay", "autoplay", "b"],
  ["controls", "controls", "b"],
  ["loop", "loop", "b"],
  ["muted", "muted", "b"],
  ["preload", "preload", "e", ["auto", "metadata", "none"]],
  ["src", "src", "u"],
  ["crossOrigin", "crossorigin", "n", crossOrigin],
  ["currentSrc", "src", "s"],
  ["defaultMuted", "muted", "b"],
  ["mediaGroup", "mediagroup", "s"],
];
const modProps: PropSpec[] = [["cite", "cite", "s"], ["datetime", "datetime", "s"]];
const cellProps: PropSpec[] = [
  ["colSpan", "colspan", "i", 1],
  ["rowSpan", "rowspan", "i", 1],
  ["headers", "headers", "s"],
];

const tagProps: Record<string, PropSpec[]> = {
  a: hrefProps,
  area: hrefProps,
  audio: mediaProps,
  video: mediaProps,
  del: modProps,
  ins: modProps,
  td: cellProps,
  th: [
    ...cellProps,
    ["abbr", "abbr", "s"],
    ["scope", "scope", "e", ["", "row", "col", "colgroup", "rowgroup"]],
    ["sorted", "sorted", "b"],
  ],
  base: [["href", "href", "u", true], ["target", "target", "s"]],
  button: [
    ["accessKey", "accesskey", "s"],
    ["autofocus", "autofocus", "b"],
    ["disabled", "disabled", "b"],
    ["tabIndex", "tabindex", "i", 0],
    ["type", "type", "e", ["submit", "button", "menu", "reset"]],
  ],
  data: [["value", "value", "s"]],
  embed: [
    ["height", "height", "s"],
    ["width", "width", "s"],
    ["src", "src", "s"],
    ["type", "type", "s"],
  ],
  fieldset: [["disabled", "disabled", "b"], ["name", "name", "s"]],
  form: [
    ["action", "action", "u"],
    ["name", "name", "s"],
    ["target", "target", "s"],
    ["enctype", "enctype", "e", encTypes],
    ["encoding", "enctype", "e", encTypes],
    ["acceptCharset", "accept-charset", "s"],
    ["autocomplete", "autocomplete", "e", autocomplete],
    ["noValidate", "novalidate", "b"],
  ],
  iframe: [
    ["allowfullscreen", "allowfullscreen", "b"],
    ["referrerPolicy", "referrerpolicy", "e", referrer],
    ["height", "height", "s"],
    ["width", "width", "s"],
    ["name", "name", "s"],
    ["src", "src", "u"],
  ],
  img: [
    ["currentSrc", "src", "u"],
    ["sizes", "sizes", "s"],
    ["srcset", "srcset", "s"],
    ["alt", "alt", "s"],
    ["crossOrigin", "crossorigin", "n", crossOrigin],
    ["height", "height", "i", 0],
    ["width", "width", "i", 0],
    ["isMap", "ismap", "b"],
    ["name", "name", "s"],
    ["src", "src", "u"],
    ["useMap", "usemap", "s"],
    ["referrerPolicy", "referrerpolicy", "e", referrer],
  ],
  input: [
    ["name", "name", "s"],
    ["tabIndex", "tabindex", "i", 0],
    ["type", "type", "e", inputTypes],
    ["disabled", "disabled", "b"],
    ["autofocus", "autofocus", "b"],
    ["required", "required", "b"],
    ["value", "value", "s"],
    ["checked", "checked", "b"],
    ["defaultChecked", "checked", "b"],
    ["alt", "alt", "s"],
    ["src", "src", "u"],
    ["height", "height", "s"],
    ["width", "width", "s"],
    ["accept", "accept", "s"],
    ["autocomplete", "autocomplete", "e", autocomplete],
    ["maxLength", "maxlength", "i", -1],
    ["size", "size", "i", 0],
    ["pattern", "pattern", "s"],
    ["placeholder", "placeholder", "s"],
    ["readonly", "readonly", "b"],
    ["min", "min", "s"],
    ["max", "max", "s"],
    ["defaultValue", "value", "s"],
    ["dirName", "dirname", "s"],
    ["accessKey", "accesskey", "s"],
    ["multiple", "multiple", "b"],
    ["step", "step", "s"],
  ],
  keygen: [
    ["autofocus", "autofocus", "b"],
    ["challenge", "challenge", "s"],
    ["disabled", "disabled", "b"],
    ["keytype", "keytype", "e", ["RSA", "DSA", "EC"]],
    ["name", "name", "s"],
    ["type", "", "c", "keygen"],
  ],
  label: [["htmlFor", "for", "s"]],
  legend: [["accessKey", "accesskey", "s"]],
  li: [
    ["value", "value", "i", 0],
    ["type", "type", "e", ["", "1", "a", "A", "i", "I", "disc", "square", "circle"]],
  ],
  link: [
    ["crossOrigin", "crossorigin", "n", crossOrigin],
    ["referrerPolicy", "referrerpolicy", "e", referrer],
    ["href", "href", "u"],
    ["hreflang", "hreflang", "s"],
    ["media", "media", "s"],
    ["rel", "rel", "s"],
    ["target", "target", "s"],
    ["type", "type", "s"],
  ],
  map: [["name", "name", "s"]],
  meta: [
    ["content", "content", "s"],
    ["name", "name", "s"],
    ["httpEquiv", "http-equiv", "e", ["content-type", "default-style", "refresh"]],
  ],
  meter: [
    ["min", "min", "i", 0],
    ["max", "max", "i", 0],
    ["high", "high", "i", 0],
    ["low", "low", "i", 0],
    ["optimum", "optimum", "i", 0],
  ],
  object: [
    ["data", "data", "u"],
    ["height", "height", "s"],
    ["name", "name", "s"],
    ["type", "type", "s"],
    ["tabIndex", "tabindex", "i", 0],
    ["typeMustMatch", "typemustmatch", "b"],
    ["useMap", "usemap", "s"],
    ["width", "width", "s"],
  ],
  ol: [
    ["reversed", "reversed", "b"],
    ["start", "start", "i", 0],
    ["type", "type", "e", ["1", "a", "A", "i", "I"]],
  ],
  optgroup: [["disabled", "disabled", "b"], ["label", "label", "s"]],
  option: [["defaultSelected", "selected", "b"], ["selected", "selected", "b"]],
  output: [["htmlFor", "for", "s"], ["name", "name", "s"], ["type", "", "c", "output"]],
  param: [["name", "name", "s"], ["value", "value", "s"]],
  pre: [["name", "name", "s"], ["value", "value", "s"]],
  quote: [["cite", "cite", "s"]],
  script: [
    ["crossOrigin", "crossorigin", "s"],
    ["type", "type", "s"],
    ["src", "src", "u"],
    ["charset", "charset", "s"],
    ["async", "async", "b"],
    ["defer", "defer", "b"],
    ["noModule", "nomodule", "b"],
  ],
  select: [
    ["autofocus", "autofocus", "b"],
    ["disabled", "disabled", "b"],
    ["multiple", "multiple", "b"],
    ["name", "name", "s"],
    ["required", "required", "b"],
    ["tabIndex", "tabindex", "i", 0],
  ],
  source: [
    ["keySystem", "keysystem", "s"],
    ["media", "media", "s"],
    ["sizes", "sizes", "s"],
    ["src", "src", "u"],
    ["srcset", "srcset", "s"],
    ["type", "type", "s"],
  ],
  style: [["media", "media", "s"]],
  table: [["sortable", "sortable", "b"]],
  textarea: [
    ["type", "", "c", "textarea"],
    ["value", "value", "s"],
    ["defaultValue", "value", "s"],
    ["placeholder", "placeholder", "s"],
    ["rows", "rows", "i", 0],
    ["cols", "cols", "i", 0],
    ["maxLength", "maxlength", "i", 0],
    ["tabIndex", "tabindex", "i", 0],
    ["accessKey", "accesskey", "s"],
    ["readOnly", "readonly", "b"],
    ["required", "required", "b"],
    ["autocomplete", "autocomplete", "e", autocomplete],
    ["autocapitalize", "autocapitalize", "e", [
      "sentences",
      "none",
      "off",
      "characters",
      "words",
    ]],
    ["wrap", "wrap", "e", ["soft", "hard", "off"]],
  ],
  time: [["datetime", "datetime", "s"]],
  track: [
    ["kind", "kind", "e", ["subtitle", "captions", "descriptions", "chapters", "metadata"]],
    ["src", "src", "u"],
    ["srclang", "srclang", "s"],
    ["label", "label", "s"],
    ["default", "default", "b"],
  ],
  ul: [["type", "type", "s"]],
};

type Methods = Record<string, (this: Element) => unknown>;

function accessor(spec: PropSpec): (this: Element) => unknown {
  const attr = spec[1];
  switch (spec[2]) {
    case "s":
      return function () {
        return attrString(this, attr);
      };
    case "b":
      return function () {
        return attrPresent(this, attr);
      };
    case "u": {
      const useBase = spec[3] === true;
      return function () {
        return attrURL(this, attr, useBase ? this[SEL].url : "");
      };
    }
    case "i": {
      const fallback = spec[3];
      return function () {
        return attrInt(this, attr, fallback);
      };
    }
    case "e": {
      const values = spec[3];
      return function () {
        const v = attrString(this, attr);
        return values.includes(v) ? v : values[0];
      };
    }
    case "n": {
      const values = spec[3];
      return function () {
        const v = attrOf(this[NODE], attr);
        return v !== undefined && values.includes(v) ? v : undefined;
      };
    }
    case "c": {
      const value = spec[3];
      return () => value;
    }
  }
}

/** The parts of a URL as Go's `url.Parse` splits them (RFC 3986's regular expression). */
interface URLParts {
  scheme: string;
  user?: string;
  password?: string;
  host: string;
  path: string;
  rawQuery: string;
  fragment: string;
}

function splitURL(s: string): URLParts {
  const m = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/
    .exec(s)!;
  let authority = m[2] ?? "";
  let user: string | undefined;
  let password: string | undefined;
  const at = authority.lastIndexOf("@");
  if (at >= 0) {
    const info = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const colon = info.indexOf(":");
    user = safeDecode(colon < 0 ? info : info.slice(0, colon));
    if (colon >= 0) password = safeDecode(info.slice(colon + 1));
  }
  return {
    scheme: (m[1] ?? "").toLowerCase(),
    user,
    password,
    host: authority,
    path: safeDecode(m[3] ?? ""),
    rawQuery: m[4] ?? "",
    fragment: safeDecode(m[5] ?? ""),
  };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Host and port as Go's `net.SplitHostPort` splits them (undefined: no port). */
function splitHostPort(host: string): [string, string] | undefined {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d*)$/.exec(host);
  return m ? [m[1] ?? m[2], m[3]] : undefined;
}

const defaultPorts: Record<string, string> = { http: "80", https: "443", ftp: "21" };

/** The element's href resolved against the response URL, split (empty without one). */
function hrefParts(self: Element): URLParts {
  const href = attrOf(self[NODE], "href");
  if (href === undefined) return splitURL("");
  const base = self[SEL].url;
  return splitURL(base === "" ? href : resolveURL(base, href) ?? href);
}

const hrefMethods: Methods = {
  hash() {
    const f = hrefParts(this).fragment;
    return f === "" ? "" : "#" + f;
  },
  host() {
    const u = hrefParts(this);
    const hp = splitHostPort(u.host);
    if (hp && defaultPorts[u.scheme] === hp[1]) return hp[0];
    return u.host;
  },
  hostname() {
    const host = hrefParts(this).host;
    return splitHostPort(host)?.[0] ?? host;
  },
  port() {
    return splitHostPort(hrefParts(this).host)?.[1] ?? "";
  },
  username() {
    return hrefParts(this).user ?? "";
  },
  password() {
    return hrefParts(this).password ?? "";
  },
  origin() {
    const u = hrefParts(this);
    if (u.scheme === "") return "";
    if (u.scheme === "file") return attrURL(this, "href", "");
    return `${u.scheme}://${u.host}`;
  },
  pathname() {
    return hrefParts(this).path;
  },
  protocol() {
    return hrefParts(this).scheme || ":";
  },
  relList() {
    const rel = attrString(this, "rel");
    return rel === "" ? [] : rel.split(" ");
  },
  search() {
    const q = hrefParts(this).rawQuery;
    return q === "" ? "" : "?" + q;
  },
  text() {
    return this.textContent();
  },
};

function formAttr(self: Element, name: string): string | undefined {
  const own = attrOf(self[NODE], "form" + name);
  if (own !== undefined) return own;
  const form = ownerForm(self);
  return form === undefined ? undefined : attrOf(form[NODES][0], name);
}

const formFieldMethods: Methods = {
  form() {
    return ownerFormElement(this);
  },
  formAction() {
    const action = formAttr(this, "action");
    if (this[SEL].url === "") return action ?? "";
    if (action === undefined || action === "") return this[SEL].url;
    return resolveURL(this[SEL].url, action) ?? action;
  },
  formEnctype() {
    const v = formAttr(this, "enctype");
    return v === "multipart/form-data" || v === "text/plain"
      ? v
      : "application/x-www-form-urlencoded";
  },
  formMethod() {
    return (formAttr(this, "method") ?? "").toLowerCase() === "post" ? "post" : "get";
  },
  formNoValidate() {
    return formAttr(this, "novalidate") !== undefined;
  },
  formTarget() {
    return formAttr(this, "target") ?? "";
  },
  labels() {
    return labelsOf(this);
  },
  name() {
    return attrString(this, "name");
  },
};

const formOwner: Methods = {
  form() {
    return ownerFormElement(this);
  },
};
const labelled: Methods = {
  labels() {
    return labelsOf(this);
  },
};
const textMethod: Methods = {
  text() {
    return this.textContent();
  },
};

function findList(self: Element, selector: string): unknown[] {
  return elements(self[SEL].find(selector));
}

function valueOf(sel: Selection): string {
  return valueOrHTML(sel[NODES][0]);
}

const tagMethods: Record<string, Methods> = {
  a: hrefMethods,
  area: hrefMethods,
  button: {
    ...formFieldMethods,
    value() {
      return valueOf(this[SEL]);
    },
  },
  input: {
    ...formFieldMethods,
    list() {
      const id = attrString(this, "list");
      const type = attrString(this, "type");
      if (id === "" || ["hidden", "checkbox", "radio", "file", "button"].includes(type)) {
        return undefined;
      }
      const found = this[SEL].parents().last().find(`datalist[id="${cssString(id)}"]`);
      return found.size() === 0 ? undefined : elements(found.eq(0))[0];
    },
  },
  canvas: {
    width() {
      return attrInt(this, "width", 150);
    },
    height() {
      return attrInt(this, "height", 150);
    },
  },
  datalist: {
    options() {
      return findList(this, "option");
    },
  },
  fieldset: {
    form() {
      const form = ownerForm(this);
      return form === undefined ? undefined : elements(form)[0];
    },
    type() {
      return "fieldset";
    },
    elements() {
      return findList(this, "input,select,button,textarea");
    },
    validity() {
      return undefined;
    },
  },
  form: {
    elements() {
      return findList(this, "input,select,button,textarea,fieldset");
    },
    length() {
      return this[SEL].find("input,select,button,textarea,fieldset").size();
    },
    method() {
      return attrString(this, "method") === "post" ? "post" : "get";
    },
  },
  keygen: { ...formOwner, ...labelled },
  label: {
    ...formOwner,
    control() {
      const id = attrOf(this[NODE], "for");
      if (id === undefined) return undefined;
      const found = this[SEL].parents().last().find("#" + cssEscape(id));
      return found.size() === 0 ? undefined : elements(found.eq(0))[0];
    },
  },
  legend: formOwner,
  link: { relList: hrefMethods.relList },
  map: {
    areas() {
      return findList(this, "area");
    },
    images() {
      const name = attrOf(this[NODE], "id");
      if (name === undefined) return [];
      const q = cssString("#" + name);
      return elements(this[SEL].parents().last().find(`img[usemap="${q}"],object[usemap="${q}"]`));
    },
  },
  meter: labelled,
  object: formOwner,
  option: {
    disabled() {
      if (attrPresent(this, "disabled")) return true;
      const group = this[SEL].parents("optgroup");
      return group.size() > 0 && group.attr("disabled") !== undefined;
    },
    form() {
      const form = this[SEL].parents("form");
      if (form.size() > 0) return elements(form.first())[0];
      const select = this[SEL].parents("select");
      const id = select.attr("form");
      if (id === undefined) return undefined;
      const owner = select.parents().last().find("form#" + cssEscape(String(id)));
      return owner.size() === 0 ? undefined : elements(owner.first())[0];
    },
    index() {
      const holder = this[SEL].parents("select,datalist");
      return holder.size() === 0 ? 0 : holder.find("option").index(this[SEL]);
    },
    label() {
      return attrOf(this[NODE], "label") ?? this.textContent();
    },
    text() {
      return this.textContent();
    },
    value() {
      return valueOf(this[SEL]);
    },
  },
  output: {
    ...formOwner,
    ...labelled,
    value() {
      return this.textContent();
    },
    defaultValue() {
      return this.textContent();
    },
  },
  progress: {
    max() {
      return progressMax(this);
    },
    value() {
      return progressValue(this, 0);
    },
    position() {
      return progressValue(this, -1);
    },
    ...labelled,
  },
  script: textMethod,
  select: {
    ...formOwner,
    ...labelled,
    length() {
      return this[SEL].find("option").size();
    },
    options() {
      return findList(this, "option");
    },
    selectedIndex() {
      const selected = this[SEL].find("option[selected]");
      return selected.size() === 0 ? -1 : this[SEL].find("option").index(selected);
    },
    selectedOptions() {
      return findList(this, "option[selected]");
    },
    size() {
      return attrPresent(this, "multiple") ? 4 : 1;
    },
    type() {
      return attrPresent(this, "multiple") ? "select-multiple" : "select";
    },
    value() {
      const selected = this[SEL].find("option[selected]");
      return selected.size() === 0 ? "" : valueOf(selected.first());
    },
  },
  style: {
    type() {
      return attrString(this, "type") || "text/css";
    },
  },
  table: {
    caption() {
      return firstChild(this, "caption");
    },
    tHead() {
      return firstChild(this, "thead");
    },
    tFoot() {
      return firstChild(this, "tfoot");
    },
    rows() {
      return findList(this, "tr");
    },
    tBodies() {
      return findList(this, "tbody");
    },
  },
  tr: {
    cells() {
      return findList(this, "th,td");
    },
    rowIndex() {
      const table = this[SEL].parents("table");
      return table.size() === 0 ? -1 : table.find("tr").index(this[SEL]);
    },
    sectionRowIndex() {
      const section = this[SEL].parents("thead,tbody,tfoot");
      return section.size() === 0 ? -1 : section.find("tr").index(this[SEL]);
    },
  },
  textarea: {
    ...formOwner,
    ...labelled,
    length() {
      return attrString(this, "value").length;
    },
  },
  col: {
    span() {
      const span = attrInt(this, "span", 1);
      return span < 1 ? 1 : span;
    },
  },
  title: textMethod,
};
const sectionMethods: Methods = {
  rows() {
    return findList(this, "tr");
  },
};
const cellMethods: Methods = {
  cellIndex() {
    const row = this[SEL].parents("tr");
    return row.size() === 0 ? -1 : row.find("th,td").index(this[SEL]);
  },
};
const mediaMethods: Methods = {
  textTracks() {
    return findList(this, "track");
  },
};
for (const tag of ["thead", "tbody", "tfoot"]) tagMethods[tag] = sectionMethods;
for (const tag of ["td", "th"]) tagMethods[tag] = cellMethods;
for (const tag of ["audio", "video"]) tagMethods[tag] = mediaMethods;

function firstChild(self: Element, tag: string): unknown {
  const child = self[SEL].children(tag);
  return child.size() === 0 ? undefined : elements(child)[0];
}

function progressMax(self: Element): number {
  const v = attrOf(self[NODE], "max");
  const n = v === undefined || v.trim() === "" ? NaN : Number(v);
  return Number.isNaN(n) || n < 0 ? 1 : n;
}

function progressValue(self: Element, fallback: number): number {
  const v = attrOf(self[NODE], "value");
  const n = v === undefined || v.trim() === "" ? NaN : Number(v);
  return Number.isNaN(n) || n < 0 ? fallback : n / progressMax(self);
}

/** One subclass of Element per tag that has properties (tag → class). */
const elementClasses = new Map<string, typeof Element>();
for (const tag of new Set([...Object.keys(tagProps), ...Object.keys(tagMethods)])) {
  const cls = class extends Element {};
  // The generated accessors first, then the hand-written methods (k6: the outer type wins).
  const methods: Record<string, unknown> = { ...tagMethods[tag] };
  for (const spec of tagProps[tag] ?? []) methods[spec[0]] = accessor(spec);
  for (const [name, fn] of Object.entries(methods)) {
    Object.defineProperty(cls.prototype, name, { value: fn, writable: true, configurable: true });
  }
  elementClasses.set(tag, cls);
}

/** The Element (or tag subclass) for `node`, whose selection is `sel`. */
function toElement(node: DomNode, sel: Selection): Element {
  const cls = isElement(node) && node.namespace === HTML_NS
    ? elementClasses.get(node.name ?? "")
    : undefined;
  const own = sel[NODES].length === 1 && sel[NODES][0] === node
    ? sel
    : new Selection([node], rootOf(node), sel.url);
  return new (cls ?? Element)(node, own);
}

// ---- module ----------------------------------------------------------------------------------

/** Parses an HTML document (as a browser would) into a Selection of the document node. */
export function parseHTML(src: unknown, url = ""): Selection {
  const text = typeof src === "string"
    ? src
    : src instanceof ArrayBuffer
    ? new TextDecoder().decode(src)
    : String(src ?? "");
  const doc = parse(text, { treeAdapter: adapter }) as unknown as DomNode;
  return new Selection([doc], doc, url);
}

/** The `k6/html` module's exports. */
export function createHtmlModule(): Record<string, unknown> {
  return { parseHTML: (src: unknown) => parseHTML(src) };
}
