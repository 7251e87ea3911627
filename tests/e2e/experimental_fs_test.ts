import { assertEquals } from "../_assert.ts";
import { runScript, tempDir } from "./_cli.ts";

Deno.test("k6/experimental/fs and csv: files opened in init, records shared by the VUs", async () => {
  const t = await tempDir({
    "data/users.csv": 'user,pass\nann,"p,1"\nbob,p2\ncid,p3\n',
    "s.js": `import { open, SeekMode } from "k6/experimental/fs";
import csv from "k6/experimental/csv";
import exec from "k6/execution";
import { check } from "k6";
export const options = { vus: 3, iterations: 3, thresholds: { checks: ["rate==1"] } };
const file = await open("./data/users.csv");
const users = await csv.parse(file, { asObjects: true });
const raw = await open("./data/users.csv");
export default async function () {
  const user = users[exec.scenario.iterationInTest];
  const info = await raw.stat();
  const head = new Uint8Array(4);
  await raw.seek(0, SeekMode.Start);
  await raw.read(head);
  check(user, {
    "a record per iteration": (u) => ["ann", "bob", "cid"].includes(u.user),
    "quoted fields": (u) => u.user !== "ann" || u.pass === "p,1",
    "the file itself": () => info.name === "users.csv" && info.size === 34 &&
      new TextDecoder().decode(head) === "user",
  });
}`,
  });
  try {
    const { r, metrics: m } = await runScript(t);
    assertEquals(r.code, 0, r.stderr + r.stdout);
    assertEquals([m.checks.passes, m.checks.fails], [9, 0]);
  } finally {
    await t.cleanup();
  }
});

Deno.test("k6/experimental/streams: readable and writable streams, fed by timers", async () => {
  const t = await tempDir({
    "s.js": `import { ReadableStream, WritableStream } from "k6/experimental/streams";
import { setTimeout } from "k6/timers";
import { check } from "k6";
export const options = { iterations: 1, thresholds: { checks: ["rate==1"] } };
export default async function () {
  let n = 0;
  const stream = new ReadableStream({
    pull(controller) {
      return new Promise((resolve) => setTimeout(() => {
        if (++n > 3) controller.close();
        else controller.enqueue(n);
        resolve();
      }, 10));
    },
  });
  const seen = [];
  const written = [];
  const sink = new WritableStream({ write(chunk) { written.push(chunk * 10); } });
  const writer = sink.getWriter();
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    seen.push(value);
    await writer.write(value);
  }
  await writer.close();
  check(null, { "chunks": () => seen.join() === "1,2,3" && written.join() === "10,20,30" });
}`,
  });
  try {
    const { r, metrics: m } = await runScript(t);
    assertEquals(r.code, 0, r.stderr + r.stdout);
    assertEquals([m.checks.passes, m.checks.fails], [1, 0]);
  } finally {
    await t.cleanup();
  }
});
