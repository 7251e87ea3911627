/**
 * Turns a k6 ES module into a VU factory, and (the architecture decision of issue #2) makes
 * k6's blocking calls awaitable so that many VUs share one isolate.
 *
 * k6 scripts call `http.get()` and `sleep()` synchronously. Here those calls return promises;
 * this pass finds every function that (transitively) reaches a blocking call, makes it
 * `async`, and wraps each such call as `(await call)`. Where it cannot prove the rewrite keeps
 * the script's meaning — a blocking function used as a getter, setter, constructor or
 * generator, or handed as a value to code we do not control — it reports `mode: "worker"`
 * with the reason, and the runner uses the exact Worker-per-VU bridge instead.
 *
 * The analysis is by name, not by full scope resolution: it over-approximates (awaiting a
 * call that turns out not to return a promise is harmless), never the other way round for the
 * forms it accepts.
 *
 * @example
 * ```ts
 * const out = transformModule(
 *   "import http from 'k6/http'; export default function () { http.get('http://x/'); }",
 *   { filename: "/tmp/s.js" },
 * );
 * out.mode; // "async"
 * ```
 * @module
 */
import { parse } from "acorn";
import { SpateError } from "../errors.ts";

/** An acorn node, loosely typed: this pass reads only a few well-known fields. */
interface AstNode {
  type: string;
  start: number;
  end: number;
  // deno-lint-ignore no-explicit-any
  [key: string]: any;
}

/** What {@link transformModule} produces. */
export interface TransformResult {
  /** Source of an expression that evaluates to `async (runtime) => exports`. */
  factorySource: string;
  /** "async": many VUs per isolate; "worker": blocking calls need the Worker-per-VU bridge. */
  mode: "async" | "worker";
  /** Why the worker mode is needed (empty in async mode). */
  reason: string;
  /** Names the module exports ("default", "options", "setup", ...). */
  exports: string[];
  /** Built-in module specifiers the module imports. */
  imports: string[];
}

export interface TransformOptions {
  /** Absolute path of the script, for error messages and stack traces. */
  filename: string;
  /** Skip the async rewrite (worker mode): only convert the module shape. */
  syncOnly?: boolean;
}

const httpBlockingMethods = new Set([
  "get",
  "head",
  "post",
  "put",
  "patch",
  "del",
  "options",
  "request",
  "batch",
]);
const k6Blocking = new Set(["sleep", "group"]);
/** Array methods whose callbacks we can await, element by element, with the same result. */
const awaitableArrayMethods = new Set([
  "forEach",
  "map",
  "filter",
  "some",
  "every",
  "find",
  "findIndex",
  "findLast",
  "findLastIndex",
  "flatMap",
  "reduce",
]);
/** Calls that accept an async callback without changing meaning. */
const asyncTolerantCalls = new Set(["setTimeout", "setInterval", "queueMicrotask"]);
const asyncTolerantMethods = new Set(["then", "catch", "finally"]);
/**
 * `throw` arguments worth wrapping (see #wrapThrows): those that can only be primitives, and
 * names (`throw msg`), whose Error, if it is one, was made before this point and keeps its
 * columns. Calls and `new` are left alone: wrapping would shift the columns their frames show.
 */
const primitiveThrows = new Set([
  "Literal",
  "TemplateLiteral",
  "BinaryExpression",
  "Identifier",
  "MemberExpression",
]);
/** Methods of a k6/ws socket that take callbacks it awaits. */
const wsSocketMethods = new Set(["on", "setTimeout", "setInterval"]);

const functionTypes = new Set([
  "FunctionDeclaration",
  "FunctionExpression",
  "ArrowFunctionExpression",
]);

interface FuncInfo {
  node: AstNode;
  /** Binding names this function is known by (declaration, const, method key, alias). */
  names: Set<string>;
  params: string[];
  calls: AstNode[];
  blocking: boolean;
  parentNode?: AstNode;
  /** "method" | "getter" | "setter" | "constructor" | "plain". */
  role: string;
}

interface Edit {
  start: number;
  end: number;
  text: string;
  /** Ordering among edits at the same position: lower first. */
  order: number;
}

/** Parses `code` (an ES module) and builds the VU factory. Throws a SpateError on syntax errors. */
export function transformModule(code: string, options: TransformOptions): TransformResult {
  let program: AstNode;
  try {
    program = parse(code, {
      ecmaVersion: "latest",
      sourceType: "module",
      allowHashBang: true,
      locations: true,
    }) as unknown as AstNode;
  } catch (err) {
    const e = err as { message?: string; loc?: { line: number; column: number } };
    const where = e.loc
      ? `${options.filename}:${e.loc.line}:${e.loc.column + 1}`
      : options.filename;
    throw new SpateError(
      "script",
      `SyntaxError: ${(e.message ?? String(err)).replace(/ \(\d+:\d+\)$/, "")} at ${where}`,
    );
  }
  return new ModuleTransformer(code, program, options).run();
}

class ModuleTransformer {
  readonly #code: string;
  readonly #program: AstNode;
  readonly #options: TransformOptions;
  readonly #edits: Edit[] = [];
  readonly #exports = new Map<string, string>(); // exported name -> local expression
  readonly #imports: string[] = [];
  // Bindings that reach k6's blocking primitives.
  readonly #httpObjects = new Set<string>(); // `http` in `import http from "k6/http"`
  readonly #k6Objects = new Set<string>(); // `k6` in `import k6 from "k6"`
  readonly #wsObjects = new Set<string>(); // `ws` in `import ws from "k6/ws"`
  readonly #wsConnectNames = new Set<string>(); // `connect` in `import { connect } from "k6/ws"`
  readonly #blockingNames = new Set<string>(); // sleep, group, get, user functions, aliases
  readonly #checkNames = new Set<string>();
  /**
   * Method names awaited on any object. A Response's submitForm() and clickLink() send a
   * request (the receiver's type is unknown here; awaiting a non-promise is harmless).
   */
  readonly #blockingMethodNames = new Set<string>(["submitForm", "clickLink"]);
  readonly #funcs: FuncInfo[] = [];
  readonly #funcByNode = new Map<AstNode, FuncInfo>();
  readonly #parents = new Map<AstNode, AstNode>();
  #unsafe = "";

  constructor(code: string, program: AstNode, options: TransformOptions) {
    this.#code = code;
    this.#program = program;
    this.#options = options;
  }

  run(): TransformResult {
    this.#rewriteModuleSyntax();
    this.#wrapThrows(this.#program);
    let mode: "async" | "worker" = "async";
    if (!this.#options.syncOnly) {
      this.#indexFunctions(this.#program, undefined);
      this.#findBlocking();
      this.#checkSafety();
      if (this.#unsafe) {
        mode = "worker";
      } else {
        this.#emitAsyncEdits();
      }
    }
    const body = this.#applyEdits();
    const getters = [...this.#exports].map(([name, local]) =>
      `get ${JSON.stringify(name)}() { return ${local}; }`
    ).join(", ");
    // What the VU provides, declared for the script unless it declares a name itself (a
    // script may have its own `open()`; `import { setTimeout } from "k6/timers"` gets the
    // same timers). The timers are the VU's own (lib/vu/event_loop.ts).
    const declared = topLevelNames(this.#program);
    const provided = [
      ["__ENV", "__spate.env"],
      ["__VU", "__spate.vu"],
      ["open", "__spate.open"],
      ["console", "__spate.console"],
      ["require", "__spate.require"],
      ...["setTimeout", "clearTimeout", "setInterval", "clearInterval"]
        .map((name) => [name, `__spate.timers.${name}`]),
      ["globalThis", "__spate.global"],
      ["global", "__spate.global"],
    ].filter(([name]) => !declared.has(name)).map(([name, value]) => `${name} = ${value}`);
    const header = `(async function (__spate) { "use strict"; ` +
      (provided.length ? `const ${provided.join(", ")}; ` : "") +
      `let __ITER; __spate.onIteration((n) => { __ITER = n; });\n`;
    const footer = `\n;return { ${getters} };\n})\n//# sourceURL=${
      toFileUrl(this.#options.filename)
    }\n`;
    return {
      factorySource: header + body + footer,
      mode,
      reason: this.#unsafe,
      exports: [...this.#exports.keys()],
      imports: this.#imports,
    };
  }

  // ---- module shape: imports and exports -------------------------------------------------

  #rewriteModuleSyntax(): void {
    for (const stmt of this.#program.body as AstNode[]) {
      switch (stmt.type) {
        case "ImportDeclaration":
          this.#rewriteImport(stmt);
          break;
        case "ExportDefaultDeclaration":
          this.#rewriteExportDefault(stmt);
          break;
        case "ExportNamedDeclaration":
          this.#rewriteExportNamed(stmt);
          break;
        case "ExportAllDeclaration":
          throw new SpateError(
            "script",
            `"export * from" must be bundled first (${this.#options.filename})`,
          );
      }
    }
  }

  #rewriteImport(stmt: AstNode): void {
    const source = stmt.source.value as string;
    if (!this.#imports.includes(source)) this.#imports.push(source);
    const req = `__spate.require(${JSON.stringify(source)})`;
    const parts: string[] = [];
    const named: string[] = [];
    for (const spec of stmt.specifiers as AstNode[]) {
      const local = spec.local.name as string;
      if (spec.type === "ImportDefaultSpecifier") {
        parts.push(`const ${local} = ${req}.default;`);
        this.#noteImportBinding(source, "default", local);
      } else if (spec.type === "ImportNamespaceSpecifier") {
        parts.push(`const ${local} = ${req};`);
        this.#noteImportBinding(source, "*", local);
      } else {
        const imported = spec.imported.type === "Identifier"
          ? spec.imported.name as string
          : spec.imported.value as string;
        named.push(`${JSON.stringify(imported)}: ${local}`);
        this.#noteImportBinding(source, imported, local);
      }
    }
    if (named.length) parts.push(`const { ${named.join(", ")} } = ${req};`);
    if (parts.length === 0) parts.push(`${req};`);
    this.#replaceKeepingLines(stmt.start, stmt.end, parts.join(" "));
  }

  #noteImportBinding(source: string, imported: string, local: string): void {
    if (source === "k6/http") {
      if (imported === "default" || imported === "*") this.#httpObjects.add(local);
      else if (httpBlockingMethods.has(imported)) this.#blockingNames.add(local);
    } else if (source === "k6/ws") {
      if (imported === "default" || imported === "*") this.#wsObjects.add(local);
      else if (imported === "connect") {
        this.#blockingNames.add(local);
        this.#wsConnectNames.add(local);
      }
    } else if (source === "k6") {
      if (imported === "default" || imported === "*") this.#k6Objects.add(local);
      else if (k6Blocking.has(imported)) this.#blockingNames.add(local);
      else if (imported === "check") this.#checkNames.add(local);
    }
  }

  #rewriteExportDefault(stmt: AstNode): void {
    const decl = stmt.declaration as AstNode;
    const isDecl = decl.type === "FunctionDeclaration" || decl.type === "ClassDeclaration";
    if (isDecl && decl.id) {
      this.#remove(stmt.start, decl.start);
      this.#exports.set("default", decl.id.name);
      return;
    }
    // `({ default: <expr> }).default` names an anonymous function "default", as k6 shows it in
    // stack traces.
    const local = "__spate_default_export";
    this.#edit(stmt.start, decl.start, `const ${local} = ({ default: `);
    this.#edit(decl.end, decl.end, " }).default" + (isDecl ? ";" : ""), 4);
    this.#exports.set("default", local);
  }

  #rewriteExportNamed(stmt: AstNode): void {
    if (stmt.source) {
      throw new SpateError(
        "script",
        `"export ... from" must be bundled first (${this.#options.filename})`,
      );
    }
    if (stmt.declaration) {
      const decl = stmt.declaration as AstNode;
      this.#remove(stmt.start, decl.start);
      if (decl.type === "VariableDeclaration") {
        for (const d of decl.declarations as AstNode[]) {
          for (const name of patternNames(d.id)) this.#exports.set(name, name);
        }
      } else {
        this.#exports.set(decl.id.name, decl.id.name);
      }
      return;
    }
    for (const spec of stmt.specifiers as AstNode[]) {
      const exported = spec.exported.type === "Identifier"
        ? spec.exported.name
        : spec.exported.value;
      this.#exports.set(exported, spec.local.name);
    }
    this.#replaceKeepingLines(stmt.start, stmt.end, "");
  }

  // ---- analysis ---------------------------------------------------------------------------

  /** Records every function, its calls and parent links; resolves names functions go by. */
  #indexFunctions(node: AstNode, current: FuncInfo | undefined): void {
    let inner = current;
    if (functionTypes.has(node.type)) {
      const info: FuncInfo = {
        node,
        names: new Set(),
        params: (node.params as AstNode[]).map((p) => (p.type === "Identifier" ? p.name : "")),
        calls: [],
        blocking: false,
        role: "plain",
      };
      if (node.type === "FunctionDeclaration" && node.id) info.names.add(node.id.name);
      const parent = this.#parents.get(node);
      if (parent) {
        if (parent.type === "VariableDeclarator" && parent.id.type === "Identifier") {
          info.names.add(parent.id.name);
        } else if (parent.type === "Property" && parent.value === node) {
          const key = propertyName(parent);
          if (key) info.names.add(key);
          if (parent.kind === "get") info.role = "getter";
          else if (parent.kind === "set") info.role = "setter";
          else if (parent.method) info.role = "method";
        } else if (parent.type === "MethodDefinition") {
          const key = propertyName(parent);
          if (key) info.names.add(key);
          info.role = parent.kind === "constructor"
            ? "constructor"
            : parent.kind === "get"
            ? "getter"
            : parent.kind === "set"
            ? "setter"
            : "method";
        } else if (parent.type === "PropertyDefinition") {
          const key = propertyName(parent);
          if (key) info.names.add(key);
        } else if (
          parent.type === "AssignmentExpression" && parent.right === node
        ) {
          if (parent.left.type === "Identifier") info.names.add(parent.left.name);
          else if (parent.left.type === "MemberExpression" && !parent.left.computed) {
            info.names.add(parent.left.property.name);
          }
        }
      }
      info.parentNode = parent;
      this.#funcs.push(info);
      this.#funcByNode.set(node, info);
      inner = info;
    }
    if (node.type === "CallExpression" && current) current.calls.push(node);
    if (node.type === "CallExpression" && !current) this.#topLevelCalls.push(node);
    if (node.type === "VariableDeclarator" && node.init) {
      this.#noteAlias(node.id, node.init);
    }
    for (const key of Object.keys(node)) {
      if (key === "type" || key === "start" || key === "end" || key === "loc") continue;
      const value = node[key];
      if (Array.isArray(value)) {
        for (const child of value) {
          if (child && typeof child.type === "string") {
            this.#parents.set(child, node);
            this.#indexFunctions(child, inner);
          }
        }
      } else if (value && typeof value.type === "string") {
        this.#parents.set(value, node);
        this.#indexFunctions(value, inner);
      }
    }
  }

  readonly #topLevelCalls: AstNode[] = [];
  readonly #aliases: Array<{ pattern: AstNode; init: AstNode }> = [];

  #noteAlias(pattern: AstNode, init: AstNode): void {
    this.#aliases.push({ pattern, init });
  }

  /** Propagates aliases (`const s = sleep`, `const { get } = http`) into the blocking sets. */
  #resolveAliases(): boolean {
    let changed = false;
    for (const { pattern, init } of this.#aliases) {
      if (init.type !== "Identifier") continue;
      if (pattern.type === "Identifier") {
        const name = pattern.name as string;
        if (this.#blockingNames.has(init.name) && !this.#blockingNames.has(name)) {
          this.#blockingNames.add(name);
          changed = true;
        }
        if (this.#httpObjects.has(init.name) && !this.#httpObjects.has(name)) {
          this.#httpObjects.add(name);
          changed = true;
        }
        if (this.#wsObjects.has(init.name) && !this.#wsObjects.has(name)) {
          this.#wsObjects.add(name);
          changed = true;
        }
      } else if (pattern.type === "ObjectPattern") {
        const fromHttp = this.#httpObjects.has(init.name);
        const fromK6 = this.#k6Objects.has(init.name);
        const fromWs = this.#wsObjects.has(init.name);
        for (const prop of pattern.properties as AstNode[]) {
          if (prop.type !== "Property" || prop.value.type !== "Identifier") continue;
          const key = propertyName(prop);
          const local = prop.value.name as string;
          const blocking = (fromHttp && key !== undefined && httpBlockingMethods.has(key)) ||
            (fromK6 && key !== undefined && k6Blocking.has(key)) || (fromWs && key === "connect");
          if (blocking && !this.#blockingNames.has(local)) {
            this.#blockingNames.add(local);
            changed = true;
          }
        }
      }
    }
    return changed;
  }

  #isBlockingFunctionNode(node: AstNode | undefined): boolean {
    if (!node) return false;
    if (functionTypes.has(node.type)) return this.#funcByNode.get(node)?.blocking ?? false;
    if (node.type === "Identifier") return this.#blockingNames.has(node.name);
    return false;
  }

  /** Whether this call must be awaited. Also notes array-method and parameter flows. */
  #isBlockingCall(call: AstNode, owner: FuncInfo | undefined): boolean {
    const callee = call.callee as AstNode;
    if (callee.type === "Identifier") {
      const name = callee.name as string;
      if (this.#blockingNames.has(name)) return true;
      for (let f = owner; f; f = this.#ownerOf(f.node)) {
        if (this.#blockingParams.get(f)?.has(name)) return true;
      }
      if (this.#checkNames.has(name)) return this.#checkArgBlocking(call);
      return false;
    }
    if (functionTypes.has(callee.type)) return this.#isBlockingFunctionNode(callee);
    const member = callee.type === "ChainExpression" ? callee.expression : callee;
    if (member.type !== "MemberExpression") return false;
    const obj = member.object as AstNode;
    const prop = member.computed ? undefined : member.property.name as string | undefined;
    if (obj.type === "Identifier") {
      if (this.#httpObjects.has(obj.name)) {
        return prop === undefined || httpBlockingMethods.has(prop);
      }
      if (this.#k6Objects.has(obj.name)) {
        if (prop === "check") return this.#checkArgBlocking(call);
        return prop === undefined || k6Blocking.has(prop);
      }
      if (this.#wsObjects.has(obj.name)) return prop === undefined || prop === "connect";
    }
    if (prop && this.#blockingMethodNames.has(prop)) return true;
    if (prop && awaitableArrayMethods.has(prop)) {
      const cb = call.arguments[0] as AstNode | undefined;
      if (this.#isBlockingFunctionNode(cb)) return true;
    }
    return false;
  }

  #checkArgBlocking(call: AstNode): boolean {
    const checks = call.arguments[1] as AstNode | undefined;
    if (!checks) return false;
    if (checks.type !== "ObjectExpression") return true;
    return (checks.properties as AstNode[]).some((p) =>
      p.type === "Property" && this.#isBlockingFunctionNode(p.value)
    );
  }

  readonly #blockingParams = new Map<FuncInfo, Set<string>>();

  #findBlocking(): void {
    let changed = true;
    while (changed) {
      changed = this.#resolveAliases();
      for (const f of this.#funcs) {
        // A blocking function passed to a user function makes that parameter blocking.
        for (const call of f.calls) this.#propagateParams(call) && (changed = true);
        if (f.blocking) continue;
        if (f.calls.some((c) => this.#isBlockingCall(c, this.#ownerOf(c) ?? f))) {
          f.blocking = true;
          changed = true;
          for (const name of f.names) {
            if (f.role === "method" || f.role === "getter" || f.role === "setter") {
              this.#blockingMethodNames.add(name);
            } else {
              this.#blockingNames.add(name);
              // Object-literal and assigned-member functions are called as `obj.name()`.
              this.#blockingMethodNames.add(name);
            }
          }
        }
      }
      for (const call of this.#topLevelCalls) this.#propagateParams(call) && (changed = true);
    }
  }

  /** The innermost function containing `node`. */
  #ownerOf(node: AstNode): FuncInfo | undefined {
    let at = this.#parents.get(node);
    while (at) {
      const f = this.#funcByNode.get(at);
      if (f) return f;
      at = this.#parents.get(at);
    }
    return undefined;
  }

  #propagateParams(call: AstNode): boolean {
    const callee = call.callee as AstNode;
    if (callee.type !== "Identifier") return false;
    let changed = false;
    for (const target of this.#funcs) {
      if (!target.names.has(callee.name)) continue;
      (call.arguments as AstNode[]).forEach((arg, i) => {
        const param = target.params[i];
        if (!param || !this.#isBlockingFunctionNode(arg)) return;
        let set = this.#blockingParams.get(target);
        if (!set) this.#blockingParams.set(target, set = new Set());
        if (!set.has(param)) {
          set.add(param);
          changed = true;
        }
      });
    }
    return changed;
  }

  /** Decides whether every use of every blocking function is one the rewrite keeps exact. */
  #checkSafety(): void {
    for (const f of this.#funcs) {
      if (!f.blocking) continue;
      const line = this.#line(f.node.start);
      if (f.node.generator) {
        return this.#fallback(`a generator function makes blocking calls (${line})`);
      }
      if (f.role === "getter" || f.role === "setter" || f.role === "constructor") {
        return this.#fallback(`a ${f.role} makes blocking calls (${line})`);
      }
      if (f.node.type !== "FunctionDeclaration") {
        const why = this.#unsafeUse(f.node);
        if (why) return this.#fallback(`${why} (${line})`);
      }
    }
    // Named blocking functions used as values elsewhere (`arr.sort(fetchAll)`).
    this.#walkIdentifiers(this.#program, (id) => {
      if (this.#unsafe || !this.#blockingNames.has(id.name)) return;
      if (this.#httpObjects.has(id.name)) return;
      const why = this.#unsafeUse(id);
      if (why) this.#fallback(`${why} (${this.#line(id.start)})`);
    });
  }

  /** Why using this function value (node) is not provably safe, or "" when it is. */
  #unsafeUse(node: AstNode): string {
    const parent = this.#parents.get(node);
    if (!parent) return "";
    switch (parent.type) {
      case "CallExpression":
        if (parent.callee === node) return "";
        return this.#unsafeArgument(parent, node);
      case "NewExpression":
        if (parent.callee.type === "Identifier" && parent.callee.name === "Promise") return "";
        return "a function that makes blocking calls is passed to a constructor";
      // Aliases and object members: calls through them are matched by name.
      case "VariableDeclarator":
      case "AssignmentExpression":
      case "Property":
      case "MethodDefinition":
      case "PropertyDefinition":
      case "ExportDefaultDeclaration":
      case "ExportSpecifier":
        return "";
      case "ParenthesizedExpression":
        return this.#unsafeUse(parent);
      case "MemberExpression":
        // `fn.call(...)`, `fn.apply(...)`, `fn.bind(...)`: the result is no longer tracked.
        if (parent.object === node) {
          return "a function that makes blocking calls is used through .call/.apply/.bind";
        }
        return "";
      case "ReturnStatement":
      case "ArrowFunctionExpression":
        return "a function that makes blocking calls is returned as a value";
      case "ArrayExpression":
        return "a function that makes blocking calls is stored in an array";
      default:
        return `a function that makes blocking calls is used in a ${parent.type}`;
    }
  }

  /** Whether `call` is k6/ws's `connect(...)` (through the module object or a named import). */
  #isWsConnect(call: AstNode | undefined): boolean {
    if (call?.type !== "CallExpression") return false;
    const callee = call.callee as AstNode;
    if (callee.type === "Identifier") return this.#wsConnectNames.has(callee.name);
    return callee.type === "MemberExpression" && !callee.computed &&
      callee.property.name === "connect" && callee.object.type === "Identifier" &&
      this.#wsObjects.has(callee.object.name);
  }

  /**
   * Whether `name` at `node` is the socket of a k6/ws `connect` callback: the first parameter
   * of a function passed to `connect()`, whose handlers and timers k6/ws awaits.
   */
  #isWsSocket(name: string, node: AstNode): boolean {
    for (let at = this.#parents.get(node); at; at = this.#parents.get(at)) {
      if (!functionTypes.has(at.type)) continue;
      const first = (at.params as AstNode[])[0];
      if (first?.type === "Identifier" && first.name === name) {
        return this.#isWsConnect(this.#parents.get(at));
      }
    }
    return false;
  }

  #unsafeArgument(call: AstNode, arg: AstNode): string {
    const callee = call.callee as AstNode;
    const index = (call.arguments as AstNode[]).indexOf(arg);
    // k6/ws awaits its connect callback, the socket's handlers and its timers (lib/js/ws.ts).
    if (this.#isWsConnect(call) && index === call.arguments.length - 1) return "";
    if (callee.type === "Identifier") {
      const name = callee.name as string;
      if (this.#blockingNames.has(name) && index === 1) return ""; // group(name, fn)
      if (asyncTolerantCalls.has(name)) return "";
      if (this.#funcs.some((f) => f.names.has(name) && f.params[index])) return "";
      return `a function that makes blocking calls is passed to ${name}()`;
    }
    const member = callee.type === "ChainExpression" ? callee.expression : callee;
    if (member.type === "MemberExpression" && !member.computed) {
      const prop = member.property.name as string;
      if (asyncTolerantMethods.has(prop)) return "";
      if (awaitableArrayMethods.has(prop) && index === 0) return "";
      if (
        wsSocketMethods.has(prop) && member.object.type === "Identifier" &&
        this.#isWsSocket(member.object.name, call)
      ) return "";
      if (
        member.object.type === "Identifier" && this.#k6Objects.has(member.object.name) &&
        prop === "group"
      ) return "";
      return `a function that makes blocking calls is passed to .${prop}()`;
    }
    return "a function that makes blocking calls is passed to a computed callee";
  }

  #walkIdentifiers(node: AstNode, visit: (id: AstNode) => void): void {
    if (node.type === "Identifier") {
      const parent = this.#parents.get(node);
      if (!parent) return visit(node);
      // Skip declarations, property keys and member property names.
      if (parent.type === "FunctionDeclaration" && parent.id === node) return;
      if (parent.type === "VariableDeclarator" && parent.id === node) return;
      if (
        (parent.type === "Property" || parent.type === "MethodDefinition") && parent.key === node &&
        !parent.computed
      ) {
        if (parent.type === "Property" && parent.shorthand) return visit(node);
        return;
      }
      if (parent.type === "MemberExpression" && parent.property === node && !parent.computed) {
        return;
      }
      if (parent.type === "ImportSpecifier" || parent.type === "ImportDefaultSpecifier") return;
      if (parent.type === "CallExpression" && parent.callee === node) return;
      if (functionTypes.has(parent.type) && (parent.params as AstNode[]).includes(node)) return;
      return visit(node);
    }
    for (const key of Object.keys(node)) {
      if (key === "type" || key === "start" || key === "end" || key === "loc") continue;
      const value = node[key];
      if (Array.isArray(value)) {
        for (const child of value) {
          if (child && typeof child.type === "string") this.#walkIdentifiers(child, visit);
        }
      } else if (value && typeof value.type === "string") {
        this.#walkIdentifiers(value, visit);
      }
    }
  }

  #fallback(reason: string): void {
    if (!this.#unsafe) this.#unsafe = reason;
  }

  // ---- edits ------------------------------------------------------------------------------

  #emitAsyncEdits(): void {
    for (const f of this.#funcs) {
      if (!f.blocking || f.node.async) continue;
      this.#edit(this.#asyncPosition(f), this.#asyncPosition(f), "async ", 0);
    }
    const allCalls: Array<[AstNode, FuncInfo | undefined]> = [];
    for (const f of this.#funcs) for (const c of f.calls) allCalls.push([c, f]);
    for (const c of this.#topLevelCalls) allCalls.push([c, undefined]);
    for (const [call, owner] of allCalls) {
      if (this.#ownerOf(call) !== owner) continue; // counted in its innermost function
      if (!this.#isBlockingCall(call, owner)) continue;
      const member = call.callee.type === "ChainExpression" ? call.callee.expression : call.callee;
      const prop = member.type === "MemberExpression" && !member.computed
        ? member.property.name as string
        : "";
      const cb = call.arguments[0] as AstNode | undefined;
      if (
        prop && awaitableArrayMethods.has(prop) && !this.#blockingMethodNames.has(prop) &&
        this.#isBlockingFunctionNode(cb)
      ) {
        // `xs.map(cb, ...)` -> `(await __spate.each("map", xs, cb, ...))`
        const open = this.#code.indexOf("(", member.property.end);
        this.#edit(call.start, call.start, `(await __spate.each(${JSON.stringify(prop)}, `, 1);
        this.#edit(member.object.end, open + 1, call.arguments.length ? ", " : "", 2);
        this.#edit(call.end, call.end, ")", 3);
        continue;
      }
      this.#edit(call.start, call.start, "(await ", 1);
      this.#edit(call.end, call.end, ")", 3);
    }
  }

  #asyncPosition(f: FuncInfo): number {
    const parent = f.parentNode;
    if (
      parent && (parent.type === "MethodDefinition" ||
        (parent.type === "Property" && (parent.method || parent.kind !== "init")))
    ) {
      if (!parent.computed) return parent.key.start;
      let at = parent.key.start - 1;
      while (at > 0 && this.#code[at] !== "[") at--;
      return at;
    }
    return f.node.start;
  }

  /**
   * `throw "x"` → `throw __spate.thrown("x")`: the VU notes where a thrown string or number
   * came from (V8 gives a primitive no stack), so its error log can show the script's frames
   * as k6 does. The value thrown is unchanged.
   */
  #wrapThrows(node: AstNode): void {
    // Not calls or `new`: wrapping shifts the columns after it (see primitiveThrows).
    if (node.type === "ThrowStatement" && primitiveThrows.has(node.argument.type)) {
      const arg = node.argument as AstNode;
      // The space: minified code writes `throw"x"`.
      this.#edit(arg.start, arg.start, " __spate.thrown(", 0);
      this.#edit(arg.end, arg.end, ")", 4);
    }
    for (const key of Object.keys(node)) {
      if (key === "type" || key === "start" || key === "end" || key === "loc") continue;
      const value = node[key];
      if (Array.isArray(value)) {
        for (const child of value) {
          if (child && typeof child.type === "string") this.#wrapThrows(child);
        }
      } else if (value && typeof value.type === "string") {
        this.#wrapThrows(value);
      }
    }
  }

  #edit(start: number, end: number, text: string, order = 0): void {
    this.#edits.push({ start, end, text, order });
  }

  #remove(start: number, end: number): void {
    this.#edit(start, end, "");
  }

  #replaceKeepingLines(start: number, end: number, text: string): void {
    const lines = this.#code.slice(start, end).split("\n").length - 1;
    this.#edit(start, end, text + "\n".repeat(lines));
  }

  #applyEdits(): string {
    const edits = this.#edits;
    edits.sort((a, b) => a.start - b.start || a.order - b.order || b.end - a.end);
    let out = "";
    let at = 0;
    for (const e of edits) {
      if (e.start < at) continue; // inside a replaced range (never for well-formed edits)
      out += this.#code.slice(at, e.start) + e.text;
      at = Math.max(at, e.end);
    }
    return out + this.#code.slice(at);
  }

  #line(pos: number): string {
    let line = 1;
    for (let i = 0; i < pos && i < this.#code.length; i++) if (this.#code[i] === "\n") line++;
    return `${this.#options.filename}:${line}`;
  }
}

function propertyName(node: AstNode): string | undefined {
  if (node.computed) return undefined;
  const key = node.key as AstNode;
  if (key.type === "Identifier") return key.name;
  if (key.type === "Literal") return String(key.value);
  if (key.type === "PrivateIdentifier") return "#" + key.name;
  return undefined;
}

function patternNames(pattern: AstNode): string[] {
  switch (pattern.type) {
    case "Identifier":
      return [pattern.name];
    case "ObjectPattern":
      return (pattern.properties as AstNode[]).flatMap((p) =>
        p.type === "RestElement" ? patternNames(p.argument) : patternNames(p.value)
      );
    case "ArrayPattern":
      return (pattern.elements as AstNode[]).flatMap((e) => (e ? patternNames(e) : []));
    case "AssignmentPattern":
      return patternNames(pattern.left);
    case "RestElement":
      return patternNames(pattern.argument);
  }
  return [];
}

function toFileUrl(path: string): string {
  if (/^[a-z]+:/.test(path)) return path;
  return "file://" +
    path.split("/").map(encodeURIComponent).join("/").replace(/^file:\/\/\//, "file:///");
}

/** Names the module declares at its top level (imports, variables, functions, classes). */
function topLevelNames(program: AstNode): Set<string> {
  const names = new Set<string>();
  const addPattern = (p: AstNode | null | undefined): void => {
    if (!p) return;
    switch (p.type) {
      case "Identifier":
        names.add(p.name);
        break;
      case "ObjectPattern":
        for (const prop of p.properties as AstNode[]) {
          addPattern(prop.type === "RestElement" ? prop.argument : prop.value);
        }
        break;
      case "ArrayPattern":
        for (const el of p.elements as (AstNode | null)[]) addPattern(el);
        break;
      case "RestElement":
        addPattern(p.argument);
        break;
      case "AssignmentPattern":
        addPattern(p.left);
        break;
    }
  };
  const addDeclaration = (d: AstNode | null | undefined): void => {
    if (!d) return;
    if (d.type === "VariableDeclaration") {
      for (const v of d.declarations as AstNode[]) addPattern(v.id);
    } else if ((d.type === "FunctionDeclaration" || d.type === "ClassDeclaration") && d.id) {
      names.add(d.id.name);
    }
  };
  for (const stmt of program.body as AstNode[]) {
    if (stmt.type === "ImportDeclaration") {
      for (const spec of stmt.specifiers as AstNode[]) names.add(spec.local.name);
    } else if (stmt.type === "ExportNamedDeclaration" || stmt.type === "ExportDefaultDeclaration") {
      addDeclaration(stmt.declaration);
    } else {
      addDeclaration(stmt);
    }
  }
  return names;
}
