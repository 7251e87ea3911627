import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { SpateError } from "../../lib/errors.ts";
import type { Sample } from "../../lib/metrics/sample.ts";
import { PeriodicFlusher, SampleBuffer } from "../../lib/output/helpers.ts";
import { OutputManager } from "../../lib/output/manager.ts";
import type { Output, TestRunError } from "../../lib/output/types.ts";
import { captureLogger, fixedSamples, pool, registry, t0 } from "./_fixtures.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Recorder extends Output {
  readonly batches: (readonly Sample[])[];
  readonly received: Sample[];
}

/** An output that records every call into `events` and every batch it gets. */
function recorder(name: string, events: string[], overrides: Partial<Output> = {}): Recorder {
  const batches: (readonly Sample[])[] = [];
  const received: Sample[] = [];
  return {
    batches,
    received,
    description: () => `rec ${name}`,
    setTestRunStopCallback: () => events.push(`${name}:callback`),
    start: () => {
      events.push(`${name}:start`);
      return Promise.resolve();
    },
    addMetricSamples: (samples) => {
      events.push(`${name}:add`);
      batches.push(samples);
      for (const s of samples) received.push(s);
    },
    stop: (err) => {
      events.push(`${name}:stop:${err?.message ?? "null"}`);
      return Promise.resolve();
    },
    ...overrides,
  };
}

function manySamples(n: number): Sample[] {
  const vus = registry.get("vus")!;
  return Array.from(
    { length: n },
    (_, i) => ({ metric: vus, tags: pool.empty, time: t0, value: i }),
  );
}

Deno.test("OutputManager starts in order with the callback first, fans out one shared batch, stops in order", async () => {
  const events: string[] = [];
  const { logger } = captureLogger();
  const a = recorder("a", events);
  const b = recorder("b", events);
  const consumed: (readonly Sample[])[] = [];
  const manager = new OutputManager([{ name: "a", output: a }, { name: "b", output: b }], {
    logger,
    consumer: (s) => {
      events.push("engine:add");
      consumed.push(s);
    },
  });
  await manager.start();
  assertEquals(manager.descriptions(), ["rec a", "rec b"]);
  const samples = fixedSamples();
  manager.push(samples.slice(0, 2));
  manager.push(samples.slice(2, 5));
  manager.push(samples.slice(5));
  await sleep(80);
  manager.push(samples.slice(0, 1));
  const testError: TestRunError = { message: "thresholds crossed", exitCode: 99 };
  await manager.stop(testError);
  assertEquals(events, [
    "a:callback",
    "a:start",
    "b:callback",
    "b:start",
    "a:add",
    "b:add",
    "engine:add",
    "a:add",
    "b:add",
    "engine:add",
    "a:stop:thresholds crossed",
    "b:stop:thresholds crossed",
  ]);
  // One batch of the three pushes, the very same array for every receiver.
  assertEquals(a.batches[0], samples);
  assert(a.batches[0] === b.batches[0] && b.batches[0] === consumed[0]);
  assertEquals(a.batches[1], samples.slice(0, 1)); // the final dispatch on stop
  assertEquals(manager.dispatchedSamples, 7);
  assertEquals(manager.stats(), [
    { name: "a", droppedSamples: 0 },
    { name: "b", droppedSamples: 0 },
  ]);
});

Deno.test("OutputManager dispatches every 50 ms, not on every push", async () => {
  const events: string[] = [];
  const a = recorder("a", events);
  const manager = new OutputManager([{ name: "a", output: a }], { logger: captureLogger().logger });
  await manager.start();
  const began = performance.now();
  let firstAt = 0;
  const pushes = setInterval(() => manager.push(fixedSamples().slice(0, 1)), 5);
  while (a.batches.length === 0) await sleep(2);
  firstAt = performance.now() - began;
  await sleep(120);
  clearInterval(pushes);
  await manager.stop(null);
  assert(firstAt >= 40, `first dispatch after ${firstAt}ms`);
  const pushed = a.received.length;
  // ~5 ms pushes over ~170+ ms in ~50 ms batches: several pushes per batch.
  assert(a.batches.length <= 6, `${a.batches.length} batches`);
  assert(pushed / a.batches.length >= 2, `${pushed} samples in ${a.batches.length} batches`);
});

Deno.test("encoded samples are decoded at the tick, one batch each, in order with plain pushes", async () => {
  const events: string[] = [];
  const a = recorder("a", events);
  const consumed: (readonly Sample[])[] = [];
  const manager = new OutputManager([{ name: "a", output: a }], {
    logger: captureLogger().logger,
    consumer: (s) => consumed.push(s),
  });
  await manager.start();
  const samples = fixedSamples();
  const encoded = (from: number, to: number) => ({
    count: to - from,
    decodeInto(out: Sample[]) {
      events.push(`decode ${from}-${to}`);
      for (let i = from; i < to; i++) out.push(samples[i]);
    },
  });
  manager.push(samples.slice(0, 1));
  manager.pushEncoded(encoded(1, 3));
  manager.push(samples.slice(3, 4));
  manager.push(samples.slice(4, 5));
  manager.pushEncoded(encoded(5, samples.length));
  manager.pushEncoded({ count: 0, decodeInto: () => events.push("decoded an empty batch") });
  // Nothing is decoded while the batch waits for its tick.
  assertEquals(events, ["a:callback", "a:start"]);
  while (a.batches.length === 0) await sleep(5);
  // One batch per host message or run of plain pushes, each decoded just before it goes out.
  assertEquals(events.slice(2), [
    "a:add",
    "decode 1-3",
    "a:add",
    "a:add",
    `decode 5-${samples.length}`,
    "a:add",
  ]);
  assertEquals(a.batches, [
    samples.slice(0, 1),
    samples.slice(1, 3),
    samples.slice(3, 5),
    samples.slice(5),
  ]);
  assertEquals(consumed.length, 4);
  assert(consumed.every((batch, i) => batch === a.batches[i]), "the engine gets the same arrays");
  // The final dispatch on stop decodes what is left; later pushes are ignored.
  manager.pushEncoded(encoded(0, 2));
  await manager.stop(null);
  manager.pushEncoded(encoded(2, 4));
  assertEquals(a.batches.slice(4), [samples.slice(0, 2)]);
  assertEquals(events.at(-1), "a:stop:null");
  assertEquals(manager.dispatchedSamples, samples.length + 2);
});

Deno.test("OutputManager dispatches at once when a batch reaches maxBatchSamples", async () => {
  const a = recorder("a", []);
  const manager = new OutputManager([{ name: "a", output: a }], {
    logger: captureLogger().logger,
    maxBatchSamples: 10,
  });
  await manager.start();
  manager.push(manySamples(25));
  assertEquals(a.batches.length, 1);
  assertEquals(a.batches[0].length, 25);
  // Encoded samples count towards the limit before they are decoded.
  const more = manySamples(12);
  manager.push(more.slice(0, 4));
  manager.pushEncoded({ count: 8, decodeInto: (out) => out.push(...more.slice(4)) });
  assertEquals(a.batches.slice(1), [more.slice(0, 4), more.slice(4)]);
  await manager.stop(null);
});

Deno.test("a slow output drops (counted in stats) while the others receive everything", async () => {
  const { logger, lines } = captureLogger();
  const fast = recorder("fast", []);
  // A typical output with a small buffer and a flush far slower than the sample rate.
  const buffer = new SampleBuffer({ maxSamples: 100, logger, name: "slow" });
  let flushed = 0;
  let flusher: PeriodicFlusher | undefined;
  const slow: Output = {
    description: () => "slow",
    start: () => {
      flusher = new PeriodicFlusher(20, async () => {
        const batch = buffer.drain();
        await sleep(150);
        flushed += batch.length;
      });
      return Promise.resolve();
    },
    addMetricSamples: (s) => buffer.add(s),
    stop: async () => await flusher?.stop(),
    stats: () => ({ droppedSamples: buffer.dropped, note: "slow on purpose" }),
  };
  const manager = new OutputManager([{ name: "slow", output: slow }, {
    name: "fast",
    output: fast,
  }], {
    logger,
  });
  await manager.start();
  const began = performance.now();
  for (let i = 0; i < 10; i++) {
    manager.push(manySamples(100));
    await sleep(10);
  }
  const pushTime = performance.now() - began;
  await manager.stop(null);
  assertEquals(fast.received.length, 1000);
  const [slowStats, fastStats] = manager.stats();
  assertEquals(fastStats, { name: "fast", droppedSamples: 0 });
  assertEquals(slowStats.name, "slow");
  assertEquals(slowStats.note, "slow on purpose");
  assert(slowStats.droppedSamples > 0, "drops counted");
  assertEquals(flushed + slowStats.droppedSamples, 1000, "every sample delivered or counted");
  assert(pushTime < 500, `pushing was not slowed down (${pushTime}ms)`);
  assert(lines.some((l) => l.startsWith("slow: sample buffer is full")), lines.join("\n"));
});

Deno.test("an output that throws in addMetricSamples does not affect the others", async () => {
  const { logger, lines } = captureLogger();
  const events: string[] = [];
  const bad = recorder("bad", events, {
    addMetricSamples: () => {
      throw new Error("boom");
    },
  });
  const good = recorder("good", events);
  const manager = new OutputManager(
    [{ name: "bad", output: bad }, { name: "good", output: good }],
    {
      logger,
    },
  );
  await manager.start();
  manager.push(manySamples(3));
  await sleep(70);
  manager.push(manySamples(4));
  await manager.stop(null);
  assertEquals(good.received.length, 7);
  assertEquals(manager.stats(), [
    { name: "bad", droppedSamples: 7, note: "addMetricSamples failed 2 times: boom" },
    { name: "good", droppedSamples: 0 },
  ]);
  assertEquals(lines, ["output 'bad' failed to accept samples; they are dropped and counted"]);
  assert(events.includes("bad:stop:null"), "the failing output is still stopped");
});

Deno.test("a start failure stops the outputs already started, with that error", async () => {
  const events: string[] = [];
  const a = recorder("a", events);
  const b = recorder("b", events);
  const c = recorder("c", events, { start: () => Promise.reject(new Error("disk full")) });
  const d = recorder("d", events);
  const manager = new OutputManager(
    [{ name: "a", output: a }, { name: "b", output: b }, { name: "c", output: c }, {
      name: "d",
      output: d,
    }],
    { logger: captureLogger().logger },
  );
  const err = await assertRejects(() => manager.start(), SpateError);
  assertEquals(err.message, "could not start the 'c' output: disk full");
  assertEquals(err.kind, "output");
  assertEquals(err.exitCode, 255);
  assertEquals(events, [
    "a:callback",
    "a:start",
    "b:callback",
    "b:start",
    "c:callback",
    "a:stop:could not start the 'c' output: disk full",
    "b:stop:could not start the 'c' output: disk full",
  ]);
  await manager.stop(null); // nothing more happens
  assertEquals(events.length, 7);
});

Deno.test("stop errors are logged, not thrown, and later outputs are still stopped", async () => {
  const { logger, lines } = captureLogger();
  const events: string[] = [];
  const a = recorder("a", events, { stop: () => Promise.reject(new Error("close failed")) });
  const b = recorder("b", events);
  const manager = new OutputManager([{ name: "a", output: a }, { name: "b", output: b }], {
    logger,
  });
  await manager.start();
  await manager.stop(null);
  await manager.stop(null); // idempotent
  assertEquals(lines, ["Stopping output 0 failed"]);
  assertEquals(events.filter((e) => e.startsWith("b:stop")), ["b:stop:null"]);
});

Deno.test("an output can ask to stop the run through its callback", async () => {
  const { logger, lines } = captureLogger();
  let stopRun: ((err: TestRunError) => void) | undefined;
  const out = recorder("a", [], { setTestRunStopCallback: (fn) => (stopRun = fn) });
  const requests: TestRunError[] = [];
  const manager = new OutputManager([{ name: "a", output: out }], {
    logger,
    onStopRequest: (err) => requests.push(err),
  });
  await manager.start();
  stopRun!({ message: "quota exceeded", exitCode: 105, abortReason: "output" });
  await manager.stop(null);
  assertEquals(requests, [{ message: "quota exceeded", exitCode: 105, abortReason: "output" }]);
  assertEquals(lines, ["Received error to stop from output"]);
});

Deno.test("a blocking addMetricSamples is reported once", async () => {
  const { logger, lines } = captureLogger();
  const out = recorder("hog", [], {
    addMetricSamples: () => {
      const until = performance.now() + 30;
      while (performance.now() < until) { /* busy */ }
    },
  });
  const manager = new OutputManager([{ name: "hog", output: out }], {
    logger,
    slowCallWarnMs: 10,
    maxBatchSamples: 1,
  });
  await manager.start();
  manager.push(manySamples(1));
  manager.push(manySamples(1));
  await manager.stop(null);
  assertEquals(lines.length, 1);
  assert(lines[0].startsWith("output 'hog' blocked the sample pipeline for "), lines[0]);
});
