import { assertEquals } from "../_assert.ts";
import { ByteSink, EncodedQueue } from "../../lib/output/_byte_sink.ts";
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
