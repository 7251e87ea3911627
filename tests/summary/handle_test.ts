import { assertEquals, assertThrows } from "../_assert.ts";
import type { SummaryData } from "../../lib/summary/data.ts";
import { applyHandleSummaryResult } from "../../lib/summary/handle.ts";

const defaultText = () => "TEXT";
const data: SummaryData = {
  root_group: {
    name: "",
    path: "",
    id: "d41d8cd98f00b204e9800998ecf8427e",
    groups: [],
    checks: [],
  },
  options: { summaryTrendStats: ["avg"], summaryTimeUnit: "", noColor: false },
  state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 1 },
  metrics: {
    checks: { type: "rate", contains: "default", values: { rate: 1, passes: 1, fails: 0 } },
  },
};

Deno.test("handleSummary: undefined/null → default text on stdout", () => {
  for (const r of [undefined, null]) {
    assertEquals(applyHandleSummaryResult(r, { defaultText }), [
      { dest: "stdout", content: "\nTEXT\n\n" },
    ]);
  }
});

Deno.test("handleSummary: object → its destinations only, strings and ArrayBuffers", () => {
  const bytes = new Uint8Array([1, 2, 3]);
  const writes = applyHandleSummaryResult(
    { stderr: "err", "out/file.json": "{}", "b.bin": bytes.buffer },
    { defaultText },
  );
  assertEquals(writes, [
    { dest: "stderr", content: "err" },
    { dest: "out/file.json", content: "{}" },
    { dest: "b.bin", content: new Uint8Array([1, 2, 3]) },
  ]);
  assertEquals(applyHandleSummaryResult({}, { defaultText }), []);
  assertEquals(applyHandleSummaryResult({ stdout: "mine" }, { defaultText }), [
    { dest: "stdout", content: "mine" },
  ]);
});

Deno.test("handleSummary: error texts", () => {
  for (const bad of [1, "x", true, [1]]) {
    const err = assertThrows(() => applyHandleSummaryResult(bad, { defaultText }));
    assertEquals(err.message, "handleSummary() should return a map with string keys");
  }
  const cases: Array<[unknown, string]> = [
    [1, "int64"],
    [1.5, "float64"],
    [false, "bool"],
    [{ a: 1 }, "map[string]interface {}"],
    [null, "<nil>"],
  ];
  for (const [value, type] of cases) {
    const err = assertThrows(() => applyHandleSummaryResult({ "f.txt": value }, { defaultText }));
    assertEquals(
      err.message,
      `error handling summary object f.txt: invalid type ${type}, it needs to be a string or ArrayBuffer`,
    );
  }
});

Deno.test("handleSummary: --summary-export is added as one more destination", () => {
  const withDefault = applyHandleSummaryResult(undefined, {
    defaultText,
    summaryExport: { path: "export.json", data },
  });
  assertEquals(withDefault.map((w) => w.dest), ["stdout", "export.json"]);
  assertEquals(
    JSON.parse(withDefault[1].content as string).metrics.checks,
    { passes: 1, fails: 0, value: 1 },
  );
  const withObject = applyHandleSummaryResult({ "a.txt": "A" }, {
    defaultText,
    summaryExport: { path: "export.json", data },
  });
  assertEquals(withObject.map((w) => w.dest), ["a.txt", "export.json"]);
});
