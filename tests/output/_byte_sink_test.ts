import { assert, assertEquals, assertThrows } from "../_assert.ts";
import {
  ByteSink,
  CachedTime,
  EncodedQueue,
  MAX_TIME_TEXT,
  textTimeWriter,
} from "../../lib/output/_byte_sink.ts";
import type { Sample } from "../../lib/metrics/sample.ts";

const fake = (n: number) => new Array(n).fill(null) as unknown as Sample[];
const ascii = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("ByteSink grows, takes and reuses", () => {
  const sink = new ByteSink(2);
  sink.ascii("hello");
  sink.byte(0x2c);
  sink.bytes(new TextEncoder().encode("wörld"));
  assertEquals(ascii(sink.view()), "hello,wörld");
  const taken = sink.take();
  sink.ascii("next");
  assertEquals(ascii(taken), "hello,wörld"); // the taken bytes are never overwritten
  assertEquals(ascii(sink.take()), "next");
  sink.ascii("x");
  sink.clear();
  assertEquals(sink.length, 0);
});

Deno.test("ByteSink.uint and decimal6 write every digit count, padding and trim", () => {
  const sink = new ByteSink(1);
  const write = (f: (s: ByteSink) => void) => {
    sink.clear();
    f(sink);
    return ascii(sink.view());
  };
  // Both sides of each digit-count boundary, the int32 limit and beyond it.
  for (let p = 1; p <= 2 ** 53; p *= 10) {
    for (const n of [p - 1, p, p + 1, 2 * p + 7]) {
      assertEquals(write((s) => s.uint(n)), String(n), `uint ${n}`);
    }
  }
  for (const n of [2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1]) {
    assertEquals(write((s) => s.uint(n)), String(n), `uint ${n}`);
  }
  for (const whole of [0, 7, 99, 100, 123456789, 2 ** 31 - 1]) {
    for (const frac of [0, 1, 10, 500, 50000, 100000, 123456, 999999]) {
      const six = String(frac).padStart(6, "0");
      assertEquals(write((s) => s.decimal6(whole, frac, false)), `${whole}.${six}`);
      const trimmed = six.replace(/0+$/, "");
      assertEquals(
        write((s) => s.decimal6(whole, frac, true)),
        trimmed === "" ? `${whole}` : `${whole}.${trimmed}`,
      );
    }
  }
});

Deno.test("ByteSink.recycle: take() reuses only buffers it handed out and got back", () => {
  const sink = new ByteSink(16);
  sink.ascii("first");
  const first = sink.take();
  sink.ascii("second");
  const second = sink.take();
  assertEquals([ascii(first), ascii(second)], ["first", "second"]); // not reused unasked
  sink.recycle(new Uint8Array(16)); // not the sink's: ignored
  sink.recycle(first);
  sink.recycle(first); // twice: kept once
  sink.ascii("third"); // the buffer in use since the last take
  const third = sink.take();
  assert(third.buffer !== first.buffer);
  sink.ascii("fourth"); // the recycled buffer
  const fourth = sink.take();
  assert(fourth.buffer === first.buffer, "take() continues in the recycled buffer");
  assertEquals([ascii(third), ascii(fourth)], ["third", "fourth"]);
  sink.ascii("fifth");
  assert(sink.take().buffer !== first.buffer, "a recycled buffer is handed out once");
  // At most four spares are kept.
  const taken = [third, second];
  for (let i = 0; i < 4; i++) {
    sink.ascii(`b${i}`);
    taken.push(sink.take());
  }
  for (const t of taken) sink.recycle(t);
  const reused = new Set<ArrayBufferLike>();
  for (let i = 0; i < 6; i++) reused.add(sink.take().buffer);
  assertEquals(taken.filter((t) => reused.has(t.buffer)).length, 4);
});

Deno.test("EncodedQueue.drain writes, counts failed writes and reuses the written buffer", async () => {
  const q = new EncodedQueue("out", { warn() {} });
  const encode = (s: readonly Sample[], sink: ByteSink) => sink.ascii("x".repeat(s.length));
  const seen: { text: string; buffer: ArrayBufferLike }[] = [];
  const write = (ok: boolean) => (bytes: Uint8Array) => {
    seen.push({ text: ascii(bytes), buffer: bytes.buffer });
    return Promise.resolve(ok);
  };
  q.add(fake(3), encode);
  await q.drain(write(false));
  q.add(fake(2), encode);
  await q.drain(write(true)); // a new buffer: the first one is recycled only after its write
  q.add(fake(1), encode);
  await q.drain(write(true));
  await q.drain(write(true)); // nothing queued: no write
  assertEquals(seen.map((s) => s.text), ["xxx", "xx", "x"]);
  assertEquals(q.lost, 3);
  assert(seen[2].buffer === seen[0].buffer, "the third batch reuses the first's buffer");
  assert(seen[1].buffer !== seen[0].buffer);
});

Deno.test("EncodedQueue bounds memory, counts and warns once about what it refuses", () => {
  const warnings: string[] = [];
  const q = new EncodedQueue("out", { warn: (m) => warnings.push(m) }, {
    maxBytes: 8,
    earlyFlushBytes: 6,
  });
  const encode = (s: readonly Sample[], sink: ByteSink) => sink.ascii("ab".repeat(s.length));
  assertEquals(q.add(fake(2), encode), false); // 4 bytes
  assertEquals(q.add(fake(1), encode), true); // 6 bytes: early write due
  assertEquals(q.add(fake(1), encode), true); // 8 bytes: now full
  assertEquals(q.add(fake(3), encode), true); // refused
  q.refuse(2);
  assertEquals(q.dropped, 5);
  assertEquals(warnings.length, 1);
  const batch = q.take()!;
  assertEquals([ascii(batch.bytes), batch.samples], ["abababab", 4]);
  assertEquals(q.take(), undefined);
});

Deno.test("CachedTime writes the time and suffix, formatting only when the time changes", () => {
  let calls = 0;
  const time = new CachedTime((t, buf) => {
    calls++;
    buf[0] = 0x30 + (t % 10);
    return 1;
  }, new TextEncoder().encode(","));
  const sink = new ByteSink(4);
  time.write(sink, 3);
  time.write(sink, 3);
  time.write(sink, 4);
  assertEquals(ascii(sink.view()), "3,3,4,");
  assertEquals(calls, 2);
});

Deno.test("textTimeWriter copies the text and refuses text the buffer cannot hold", () => {
  const time = new CachedTime(textTimeWriter((t) => "t" + t));
  const sink = new ByteSink();
  time.write(sink, 12.5);
  assertEquals(ascii(sink.view()), "t12.5");
  const long = new CachedTime(textTimeWriter(() => "x".repeat(MAX_TIME_TEXT + 1)));
  assertThrows(() => long.write(sink, 1), RangeError, "time text too long");
});
