import { assert, assertEquals, assertRejects, assertThrows } from "../_assert.ts";
import { SpateError } from "../../lib/errors.ts";
import { PeriodicFlusher, SampleBuffer } from "../../lib/output/helpers.ts";
import { captureLogger, fixedSamples } from "./_fixtures.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("SampleBuffer keeps order, drains everything and starts empty again", () => {
  const samples = fixedSamples();
  const buffer = new SampleBuffer();
  buffer.add(samples.slice(0, 2));
  buffer.add([]);
  buffer.add(samples.slice(2));
  assertEquals(buffer.length, samples.length);
  assertEquals(buffer.drain(), samples);
  assertEquals(buffer.drain(), []);
  assertEquals(buffer.dropped, 0);
});

Deno.test("SampleBuffer drops and counts samples beyond maxSamples, warning once", () => {
  const { logger, lines } = captureLogger();
  const samples = fixedSamples();
  const buffer = new SampleBuffer({ maxSamples: 4, logger, name: "slowpoke" });
  buffer.add(samples); // 6 into room for 4
  buffer.add(samples.slice(0, 1)); // full
  assertEquals(buffer.drain(), samples.slice(0, 4));
  assertEquals(buffer.dropped, 3);
  buffer.add(samples.slice(0, 2)); // room again after the drain
  assertEquals(buffer.length, 2);
  assertEquals(buffer.dropped, 3);
  assertEquals(lines.length, 1);
  assert(lines[0].startsWith("slowpoke: sample buffer is full (4 samples)"), lines[0]);
});

Deno.test("SampleBuffer rejects a non-positive size", () => {
  assertThrows(() => new SampleBuffer({ maxSamples: 0 }), SpateError, "should be positive");
});

Deno.test("PeriodicFlusher rejects a non-positive period with k6's message", () => {
  const err = assertThrows(() => new PeriodicFlusher(0, () => {}), SpateError);
  assertEquals(err.message, "metric flush period should be positive but was 0s");
  assertThrows(
    () => new PeriodicFlusher(-1500, () => {}),
    SpateError,
    "metric flush period should be positive but was -1.5s",
  );
});

Deno.test("PeriodicFlusher flushes periodically, once more on stop, and stop is idempotent", async () => {
  let calls = 0;
  const flusher = new PeriodicFlusher(20, () => {
    calls++;
  });
  await sleep(75);
  const periodic = calls;
  assert(periodic >= 1 && periodic <= 4, `periodic calls: ${periodic}`);
  const a = flusher.stop();
  const b = flusher.stop();
  assert(a === b);
  await a;
  assertEquals(calls, periodic + 1);
  await sleep(40);
  assertEquals(calls, periodic + 1, "no call after stop");
  assert(flusher.stopped);
});

Deno.test("PeriodicFlusher never overlaps async callbacks, even when stopped mid-run", async () => {
  let running = 0;
  let maxRunning = 0;
  let calls = 0;
  const flusher = new PeriodicFlusher(5, async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    calls++;
    await sleep(30);
    running--;
  });
  await sleep(20); // the first run is in progress
  await flusher.stop(); // waits for it, then the final run
  assertEquals(maxRunning, 1);
  assertEquals(running, 0);
  assertEquals(calls, 2);
});

Deno.test("PeriodicFlusher reports periodic errors and rejects on a failing final flush", async () => {
  const errors: unknown[] = [];
  let n = 0;
  const flusher = new PeriodicFlusher(10, () => {
    n++;
    throw new Error(`boom ${n}`);
  }, { onError: (err) => errors.push(err) });
  await sleep(35);
  assert(errors.length >= 1);
  await assertRejects(() => flusher.stop(), Error, "boom");
});

Deno.test("PeriodicFlusher logs periodic errors through the logger by default", async () => {
  const { logger, lines } = captureLogger();
  let first = true;
  const flusher = new PeriodicFlusher(10, () => {
    if (first) {
      first = false;
      throw new Error("disk on fire");
    }
  }, { logger });
  await sleep(30);
  await flusher.stop();
  assertEquals(lines, ["periodic flush failed: disk on fire"]);
});

Deno.test("PeriodicFlusher.requestFlush flushes early, never overlapping a running flush", async () => {
  let calls = 0;
  let running = 0;
  let maxRunning = 0;
  const flusher = new PeriodicFlusher(10_000, async () => {
    calls++;
    running++;
    maxRunning = Math.max(maxRunning, running);
    await sleep(20);
    running--;
  });
  flusher.requestFlush();
  await sleep(5); // the early flush is running
  flusher.requestFlush(); // queued right after it
  flusher.requestFlush(); // coalesced with the queued one
  await sleep(80);
  assertEquals(calls, 2);
  assertEquals(maxRunning, 1);
  await flusher.stop();
  assertEquals(calls, 3);
  flusher.requestFlush(); // no effect once stopped
  await sleep(10);
  assertEquals(calls, 3);
});
