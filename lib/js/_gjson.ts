/**
 * The subset of GJSON paths that `Response.json(selector)` scripts use: dotted keys, array
 * indexes, `#` (array length), `arr.#.key` (collect a key over an array), `*`/`?` wildcards
 * in keys and `\` escapes. Anything else simply matches nothing (→ undefined).
 * @module
 */

function splitPath(path: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === "\\" && i + 1 < path.length) {
      cur += path[++i];
    } else if (c === ".") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function wildcard(pattern: string): RegExp | null {
  if (!/[*?]/.test(pattern)) return null;
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp("^" + re + "$");
}

function step(value: unknown, key: string): unknown {
  if (Array.isArray(value)) {
    if (key === "#") return value.length;
    if (/^\d+$/.test(key)) return value[Number(key)];
    return undefined;
  }
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (Object.hasOwn(obj, key)) return obj[key];
    const re = wildcard(key);
    if (re) {
      for (const k of Object.keys(obj)) if (re.test(k)) return obj[k];
    }
  }
  return undefined;
}

/**
 * Evaluates a GJSON-style path on parsed JSON; undefined when nothing matches.
 *
 * @example
 * ```ts
 * gjsonGet({ items: [{ id: 1 }, { id: 2 }] }, "items.#.id"); // [1, 2]
 * gjsonGet({ items: [1, 2, 3] }, "items.#"); // 3
 * ```
 */
export function gjsonGet(doc: unknown, path: string): unknown {
  const keys = splitPath(path);
  let cur: unknown = doc;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (key === "#" && Array.isArray(cur) && i + 1 < keys.length) {
      const rest = keys.slice(i + 1).map((k) => k.replace(/\./g, "\\.")).join(".");
      const out: unknown[] = [];
      for (const el of cur) {
        const v = gjsonGet(el, rest);
        if (v !== undefined) out.push(v);
      }
      return out;
    }
    cur = step(cur, key);
    if (cur === undefined) return undefined;
  }
  return cur;
}
