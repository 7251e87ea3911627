import { assertEquals } from "../_assert.ts";
import type { SummaryData } from "../../lib/summary/data.ts";
import { toSummaryExport } from "../../lib/summary/export.ts";

function data(): SummaryData {
  return {
    root_group: {
      name: "",
      path: "",
      id: "d41d8cd98f00b204e9800998ecf8427e",
      groups: [{
        name: "login",
        path: "::login",
        id: "g1",
        groups: [],
        checks: [{ name: "ok", path: "::login::ok", id: "c2", passes: 1, fails: 0 }],
      }],
      checks: [{ name: "status is 200", path: "::status is 200", id: "c1", passes: 98, fails: 2 }],
    },
    options: { summaryTrendStats: ["avg"], summaryTimeUnit: "", noColor: false },
    state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 1000 },
    metrics: {
      http_reqs: { type: "counter", contains: "default", values: { count: 100, rate: 3.33 } },
      checks: {
        type: "rate",
        contains: "default",
        values: { rate: 0.98, passes: 98, fails: 2 },
        thresholds: { "rate>0.99": { ok: false } },
      },
      http_req_duration: {
        type: "trend",
        contains: "time",
        values: { avg: 12.5 },
        thresholds: { "p(95)<500": { ok: true } },
      },
    },
  };
}

Deno.test("summary export: flat metrics, rate→value, inverted thresholds, keyed groups", () => {
  const out = toSummaryExport(data());
  assertEquals(JSON.parse(JSON.stringify(out)), {
    root_group: {
      name: "",
      path: "",
      id: "d41d8cd98f00b204e9800998ecf8427e",
      groups: {
        login: {
          name: "login",
          path: "::login",
          id: "g1",
          groups: {},
          checks: { ok: { name: "ok", path: "::login::ok", id: "c2", passes: 1, fails: 0 } },
        },
      },
      checks: {
        "status is 200": {
          name: "status is 200",
          path: "::status is 200",
          id: "c1",
          passes: 98,
          fails: 2,
        },
      },
    },
    metrics: {
      http_reqs: { count: 100, rate: 3.33 },
      checks: { passes: 98, fails: 2, thresholds: { "rate>0.99": true }, value: 0.98 },
      http_req_duration: { avg: 12.5, thresholds: { "p(95)<500": false } },
    },
  });
  assertEquals(Object.keys(out), ["root_group", "metrics"]);
});

Deno.test("summary export: setup_data kept; 4-space pretty print", () => {
  const d = data();
  d.setup_data = { a: 1 };
  d.metrics = { http_reqs: d.metrics.http_reqs };
  d.root_group.groups = [];
  d.root_group.checks = [];
  assertEquals(
    JSON.stringify(toSummaryExport(d), null, 4),
    [
      "{",
      '    "root_group": {',
      '        "name": "",',
      '        "path": "",',
      '        "id": "d41d8cd98f00b204e9800998ecf8427e",',
      '        "groups": {},',
      '        "checks": {}',
      "    },",
      '    "metrics": {',
      '        "http_reqs": {',
      '            "count": 100,',
      '            "rate": 3.33',
      "        }",
      "    },",
      '    "setup_data": {',
      '        "a": 1',
      "    }",
      "}",
    ].join("\n"),
  );
});
