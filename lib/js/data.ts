/**
 * `k6/data` SharedArray (js-api.md §6): built once per name (per VU host), deep-frozen,
 * shared read-only by every VU of the host.
 *
 * @example
 * ```ts
 * const users = new SharedArray("users", () => JSON.parse(open("./users.json")));
 * ```
 * @module
 */

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/** Builds the `k6/data` module over a per-host cache of arrays by name. */
export function createDataModule(cache: Map<string, readonly unknown[]>, isInit: () => boolean) {
  class SharedArray {
    constructor(name: unknown, factory: unknown) {
      if (!isInit()) throw new Error("new SharedArray must be called in the init context");
      if (typeof name !== "string" || name === "") {
        throw new Error("empty name provided to SharedArray's constructor");
      }
      if (typeof factory !== "function") {
        throw new Error("a function is expected as the second argument of SharedArray");
      }
      let arr = cache.get(name);
      if (!arr) {
        const made = factory();
        if (!Array.isArray(made)) {
          throw new Error("only arrays can be made into SharedArray");
        }
        // Round-trip through JSON as k6 does: the data is plain, copied once.
        arr = deepFreeze(JSON.parse(JSON.stringify(made)) as unknown[]);
        cache.set(name, arr);
      }
      return arr as unknown as SharedArray;
    }
  }
  return { SharedArray };
}
