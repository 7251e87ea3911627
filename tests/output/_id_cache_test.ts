import { assertEquals } from "../_assert.ts";
import { IdCache } from "../../lib/output/_id_cache.ts";
import { TagSetPool } from "../../lib/metrics/tags.ts";

Deno.test("IdCache finds values by identity, not by id alone", () => {
  const a = new TagSetPool();
  const b = new TagSetPool();
  const setA = a.intern({ url: "/a" });
  const setB = b.intern({ url: "/b" });
  assertEquals(setA.id, setB.id); // same id, different pools
  const cache = new IdCache<{ readonly id: number }, string>();
  assertEquals(cache.get(setA), undefined);
  assertEquals(cache.set(setA, "a"), "a");
  assertEquals(cache.get(setA), "a");
  assertEquals(cache.get(setB), undefined); // another pool's set with that id is a miss
  cache.set(setB, "b");
  assertEquals(cache.get(setB), "b");
  assertEquals(cache.get(setA), undefined); // and replaced it
  // Ids far apart are fine.
  cache.set({ id: 5000 }, "far");
  assertEquals(cache.get(setB), "b");
});

Deno.test("IdCache starts over beyond its bound", () => {
  const cache = new IdCache<{ readonly id: number }, number>(3);
  const keys = Array.from({ length: 5 }, (_, id) => ({ id }));
  for (const k of keys.slice(0, 3)) cache.set(k, k.id);
  assertEquals(keys.map((k) => cache.get(k)), [0, 1, 2, undefined, undefined]);
  cache.set(keys[1], 11); // replacing an entry does not count
  cache.set(keys[3], 3); // the fourth distinct key: the cache starts over
  assertEquals(keys.map((k) => cache.get(k)), [undefined, undefined, undefined, 3, undefined]);
});
