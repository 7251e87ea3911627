import { assertEquals } from "../_assert.ts";
import {
  csvField,
  formatFixed6,
  formatJSONNumber,
  jsonString,
  LocalTimeFormatter,
  putUint,
  writeFixed6,
  writeJSONNumber,
} from "../../lib/output/_format.ts";
import { ByteSink } from "../../lib/output/_byte_sink.ts";
import { t0, withTZ } from "./_fixtures.ts";

Deno.test("formatFixed6 matches Go's %f", () => {
  const cases: Array<[number, string]> = [
    [1, "1.000000"],
    [221.899, "221.899000"],
    [0, "0.000000"],
    [-0, "-0.000000"],
    [NaN, "NaN"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
    [1e-7, "0.000000"],
    [-2.5, "-2.500000"],
    [0.0000005, "0.000000"], // just below the tie in binary: a float-multiply tie check would be wrong
    [0.0078125, "0.007812"], // exact tie: half to even (JS toFixed gives 0.007813)
    [-0.0078125, "-0.007812"],
    [0.0234375, "0.023438"], // exact tie, odd digit: up
    [1e21, "1000000000000000000000.000000"],
    [1.5e22, "15000000000000000000000.000000"],
    [123456789.123456789, "123456789.123457"],
  ];
  for (const [v, want] of cases) assertEquals(formatFixed6(v), want, `formatFixed6(${v})`);
});

Deno.test("formatJSONNumber matches Go's encoding/json float64 output", () => {
  const cases: Array<[number, string | undefined]> = [
    [1, "1"],
    [5842, "5842"],
    [221.899, "221.899"],
    [1052.771, "1052.771"],
    [1048576, "1048576"],
    [0.000001, "0.000001"],
    [1e-7, "1e-7"],
    [1.5e-10, "1.5e-10"],
    [1e21, "1e+21"],
    [123456789012345680000, "123456789012345680000"],
    [-0, "-0"],
    [NaN, undefined],
    [Infinity, undefined],
  ];
  for (const [v, want] of cases) assertEquals(formatJSONNumber(v), want, `number ${v}`);
});

Deno.test("writeJSONNumber and writeFixed6 write the bytes their string forms have", () => {
  const sink = new ByteSink(64);
  const decoder = new TextDecoder();
  const viaBytes = (write: (s: ByteSink) => unknown) => {
    sink.clear();
    write(sink);
    return decoder.decode(sink.view());
  };
  const check = (v: number) => {
    assertEquals(viaBytes((s) => writeJSONNumber(s, v)), formatJSONNumber(v) ?? "", `json ${v}`);
    assertEquals(viaBytes((s) => writeFixed6(s, v)), formatFixed6(v), `fixed6 ${v}`);
  };
  const edges = [
    0,
    -0,
    1,
    -1,
    0.5,
    1e-6,
    -1e-6,
    9.99e-7,
    1e-7,
    0.000001,
    0.0000015,
    0.1 + 0.2,
    10,
    100,
    999999.999999,
    1000000,
    999999999.999999,
    1e9,
    1e9 + 0.5,
    123456789.123456,
    11.831837000000007,
    10.643304999999998,
    0.0078125,
    0.0234375,
    1e21,
    2 ** 53,
    NaN,
    Infinity,
    -Infinity,
    Number.MIN_VALUE,
    Number.MAX_VALUE,
  ];
  for (const v of edges) check(v);
  // Timings as k6 reports them (whole nanoseconds in ms), integers, and arbitrary doubles.
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < 200_000; i++) {
    const scale = 10 ** Math.floor(random() * 30 - 9);
    check(Math.round(random() * scale * 1e6) / 1e6);
    check(Math.floor(random() * scale));
    check((random() - 0.5) * scale);
  }
});

Deno.test("jsonString escapes like Go's encoder without HTML escaping", () => {
  assertEquals(jsonString("a&b<c>"), '"a&b<c>"');
  assertEquals(jsonString('say "hi" \\ now'), '"say \\"hi\\" \\\\ now"');
  assertEquals(jsonString("\n\r\t\b\f\u0001\u001f"), '"\\n\\r\\t\\b\\f\\u0001\\u001f"');
  assertEquals(jsonString("a\u2028b\u2029"), '"a\\u2028b\\u2029"');
  assertEquals(jsonString("lone \ud800 x"), '"lone \ufffd x"');
  assertEquals(jsonString("pair \ud83d\ude00"), '"pair \ud83d\ude00"');
  assertEquals(jsonString("üñí"), '"üñí"');
});

Deno.test("csvField quotes like Go's encoding/csv", () => {
  assertEquals(csvField(""), "");
  assertEquals(csvField("plain"), "plain");
  assertEquals(csvField("a,b"), '"a,b"');
  assertEquals(csvField('say "hi"'), '"say ""hi"""');
  assertEquals(csvField(" lead"), '" lead"');
  assertEquals(csvField("\tlead"), '"\tlead"');
  assertEquals(csvField("\u00a0nbsp"), '"\u00a0nbsp"');
  assertEquals(csvField("x\ny"), '"x\ny"');
  assertEquals(csvField("x\ry"), '"x\ry"');
  assertEquals(csvField("\\."), '"\\."');
  assertEquals(csvField("in\tside"), "in\tside");
  assertEquals(csvField("a=1&b=2"), "a=1&b=2");
});

Deno.test("LocalTimeFormatter formats RFC 3339 in UTC with Z", async () => {
  await withTZ("UTC", () => {
    const f = new LocalTimeFormatter();
    assertEquals(f.rfc3339(t0 + 123.456), "2024-05-01T10:00:00Z");
    assertEquals(f.rfc3339Nano(t0 + 123.456), "2024-05-01T10:00:00.123456Z");
    assertEquals(f.rfc3339Nano(t0), "2024-05-01T10:00:00Z");
    assertEquals(f.rfc3339Nano(t0 + 500), "2024-05-01T10:00:00.5Z");
    assertEquals(f.rfc3339Nano(t0 + 1000.001), "2024-05-01T10:00:01.000001Z");
    assertEquals(f.rfc3339Nano(t0 + 999.9997), "2024-05-01T10:00:00.999999Z");
  });
});

Deno.test("LocalTimeFormatter uses the local offset", async () => {
  await withTZ("Asia/Kolkata", () => {
    const f = new LocalTimeFormatter();
    assertEquals(f.rfc3339Nano(t0 + 123.456), "2024-05-01T15:30:00.123456+05:30");
    assertEquals(f.rfc3339(t0), "2024-05-01T15:30:00+05:30");
  });
  await withTZ("America/New_York", () => {
    const f = new LocalTimeFormatter();
    assertEquals(f.rfc3339Nano(t0 + 10.5), "2024-05-01T06:00:00.0105-04:00");
    // Winter time: the offset follows the sample's date, not today's.
    assertEquals(f.rfc3339(Date.UTC(2024, 0, 15, 12)), "2024-01-15T07:00:00-05:00");
  });
});

Deno.test("putUint writes every integer below 2^53, across the int32 boundary", () => {
  const buf = new Uint8Array(32);
  const text = (n: number, at = 0) =>
    new TextDecoder().decode(buf.subarray(at, putUint(buf, at, n)));
  for (
    const n of [
      0,
      7,
      10,
      99,
      100,
      2147483647,
      2147483648,
      999999999999,
      1000000000000,
      1732190112123456,
      2 ** 53 - 1,
    ]
  ) {
    assertEquals(text(n), String(n));
  }
  buf[2] = 0x21;
  assertEquals(text(1000000000, 3), "1000000000"); // writes from `at` and leaves what is before
  assertEquals(buf[2], 0x21);
});

Deno.test("LocalTimeFormatter writes the same bytes as its strings, from the buffer's start", async () => {
  await withTZ("Asia/Kolkata", () => {
    const f = new LocalTimeFormatter();
    const buf = new Uint8Array(64).fill(0x21);
    const n = f.writeRfc3339Nano(t0 + 0.5, buf);
    assertEquals(new TextDecoder().decode(buf.subarray(0, n)), "2024-05-01T15:30:00.0005+05:30");
    assertEquals(buf[n], 0x21);
    const m = f.writeRfc3339(t0 + 0.5, buf);
    assertEquals(new TextDecoder().decode(buf.subarray(0, m)), "2024-05-01T15:30:00+05:30");
  });
});
