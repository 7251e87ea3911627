import { assertEquals } from "../_assert.ts";
import { SourceMapper } from "../../lib/script/source_map.ts";

Deno.test("source maps: VLQ segments map generated lines and columns to the original files", () => {
  // Line 1: col 0 → a.js 1:1, col 10 → a.js 1:5 ("UAAI" = +10, 0, 0, +4).
  // Line 2: col 2 → b.ts 3:1 ("ECEJ" = +2, +1 source, +2 lines, -4 columns).
  const map = JSON.stringify({
    version: 3,
    sources: ["lib/a.js", "webpack:///./b.ts"],
    mappings: "AAAA,UAAI;ECEJ",
  });
  const m = new SourceMapper(map, "/srv/app");
  assertEquals(m.original(1, 1), { file: "/srv/app/lib/a.js", line: 1, column: 1 });
  assertEquals(m.original(1, 12), { file: "/srv/app/lib/a.js", line: 1, column: 5 });
  assertEquals(m.original(2, 30), { file: "/srv/app/b.ts", line: 3, column: 1 });
  assertEquals(m.original(3, 1), undefined);
});
