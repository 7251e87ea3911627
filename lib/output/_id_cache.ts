/**
 * A cache keyed by object identity for objects with a dense `id` (metrics, tag sets), looked
 * up by array index instead of a `Map`: the file encoders look up two fragments per sample,
 * and `Map#get` with object keys was the larger part of their per-sample cost (`perf` on the
 * json output, 2026-11-21: ~0.7 µs per request in V8 builtins).
 *
 * Ids are dense within one pool, but an output may see objects from several pools (a test,
 * a custom output): a slot holds its key too, and a different object with the same id is a
 * miss that replaces it.
 *
 * @example
 * ```ts
 * const cache = new IdCache<TagSet, Uint8Array>();
 * cache.get(set) ?? cache.set(set, encode(set));
 * ```
 * @module
 */

/**
 * Entries a cache holds before it starts over: distinct tag sets are unbounded (a URL tag per
 * request), and each cached fragment is a few hundred bytes.
 */
const MAX_CACHED = 100_000;

/** See the module documentation. */
export class IdCache<K extends { readonly id: number }, V> {
  readonly #max: number;
  #keys: (K | undefined)[] = [];
  #values: (V | undefined)[] = [];
  #size = 0;

  /** Beyond `max` entries the cache starts over. */
  constructor(max = MAX_CACHED) {
    this.#max = max;
  }

  /** The value stored for this very object, if any. */
  get(key: K): V | undefined {
    const id = key.id;
    return this.#keys[id] === key ? this.#values[id] : undefined;
  }

  /** Stores `value` for `key` and returns it. */
  set(key: K, value: V): V {
    const id = key.id;
    if (this.#keys[id] === undefined && this.#size >= this.#max) {
      this.#keys = [];
      this.#values = [];
      this.#size = 0;
    }
    // Fill up to the id so the arrays stay dense (V8 turns sparse ones into dictionaries).
    while (this.#keys.length < id) {
      this.#keys.push(undefined);
      this.#values.push(undefined);
    }
    if (this.#keys[id] === undefined) this.#size++;
    this.#keys[id] = key;
    this.#values[id] = value;
    return value;
  }
}
