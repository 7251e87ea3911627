/**
 * Interned, immutable tag sets. Two samples with equal tags share one {@link TagSet} object,
 * so (metric, tags) works as a time-series key without hashing (output-extension-api.md §1.1).
 *
 * @example
 * ```ts
 * const pool = new TagSetPool();
 * const a = pool.intern({ method: "GET", status: "200" });
 * const b = pool.intern({ status: "200", method: "GET" });
 * a === b; // true
 * ```
 * @module
 */

/** An immutable set of string tags. `key` is canonical (sorted) and unique per pool. */
export interface TagSet {
  /** Dense id within its pool: stable for the run, usable as an array index. */
  readonly id: number;
  /** Canonical key: tags sorted by name, joined as `name\u0001value\u0002...`. */
  readonly key: string;
  /** The tags as a frozen plain object with keys in sorted order. */
  readonly tags: Readonly<Record<string, string>>;
}

const empty: Readonly<Record<string, string>> = Object.freeze({});

/** Builds the canonical key of a tag object. */
export function tagKey(tags: Readonly<Record<string, string>>): string {
  const names = Object.keys(tags);
  if (names.length > 1) names.sort();
  let key = "";
  for (const name of names) key += name + "\u0001" + tags[name] + "\u0002";
  return key;
}

/** Interns tag sets. One pool per process side (a VU host has its own; the engine has one). */
export class TagSetPool {
  readonly #byKey = new Map<string, TagSet>();
  readonly #byId: TagSet[] = [];

  constructor() {
    this.#add("", empty);
  }

  /** The empty tag set (id 0). */
  get empty(): TagSet {
    return this.#byId[0];
  }

  /** Returns the interned tag set equal to `tags`. */
  intern(tags: Readonly<Record<string, string>>): TagSet {
    const key = tagKey(tags);
    const found = this.#byKey.get(key);
    if (found) return found;
    const names = Object.keys(tags).sort();
    const sorted: Record<string, string> = {};
    for (const name of names) sorted[name] = tags[name];
    return this.#add(key, Object.freeze(sorted));
  }

  /** Interns a tag set given by its canonical key (as produced by {@link tagKey}). */
  internKey(key: string): TagSet {
    const found = this.#byKey.get(key);
    if (found) return found;
    const tags: Record<string, string> = {};
    for (const pair of key.split("\u0002")) {
      if (pair === "") continue;
      const at = pair.indexOf("\u0001");
      tags[pair.slice(0, at)] = pair.slice(at + 1);
    }
    return this.#add(key, Object.freeze(tags));
  }

  /** The tag set with this id. */
  byId(id: number): TagSet | undefined {
    return this.#byId[id];
  }

  /** How many distinct tag sets were interned. */
  get size(): number {
    return this.#byId.length;
  }

  #add(key: string, tags: Readonly<Record<string, string>>): TagSet {
    const set: TagSet = Object.freeze({ id: this.#byId.length, key, tags });
    this.#byKey.set(key, set);
    this.#byId.push(set);
    return set;
  }
}
