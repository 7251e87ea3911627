import { assertEquals, assertThrows } from "../_assert.ts";
import { formatDuration, parseDuration } from "../../lib/config/duration.ts";
import { SpateError } from "../../lib/errors.ts";

Deno.test("parseDuration reads Go syntax, days and bare milliseconds", () => {
  assertEquals(parseDuration("1m30s", "duration"), 90_000);
  assertEquals(parseDuration("300ms", "x"), 300);
  assertEquals(parseDuration("1.5s", "x"), 1500);
  assertEquals(parseDuration("2h", "x"), 7_200_000);
  assertEquals(parseDuration("10us", "x"), 0.01);
  assertEquals(parseDuration("1d12h", "x"), 129_600_000);
  assertEquals(parseDuration(250, "x"), 250);
  assertEquals(parseDuration("250", "x"), 250);
  assertEquals(parseDuration("0", "x"), 0);
});

Deno.test("parseDuration rejects malformed values naming the field", () => {
  const err = assertThrows(() => parseDuration("10x", "--duration"), SpateError);
  assertEquals(err.message, 'invalid duration "10x" for --duration');
  assertEquals(err.exitCode, 104);
  assertThrows(() => parseDuration("250", "-d", { goOnly: true }), SpateError);
  assertThrows(() => parseDuration("1d", "-d", { goOnly: true }), SpateError);
  assertThrows(() => parseDuration({}, "x"), SpateError);
});

Deno.test("formatDuration prints as Go does", () => {
  assertEquals(formatDuration(0), "0s");
  assertEquals(formatDuration(500), "500ms");
  assertEquals(formatDuration(1500), "1.5s");
  assertEquals(formatDuration(30_000), "30s");
  assertEquals(formatDuration(60_000), "1m0s");
  assertEquals(formatDuration(600_000), "10m0s");
  assertEquals(formatDuration(3_723_000), "1h2m3s");
});
