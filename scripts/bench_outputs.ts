/**
 * How many samples per second each file writer sustains in isolation: the CSV and JSON
 * encoders' byte path feeding the shared file writer, as the outputs do (batches of 10,000
 * samples encoded into the reused queue buffer, written out every 4 MB), plain and gzipped. Targets: ≥ 1M samples/s uncompressed,
 * ≥ 0.8M/s gzipped.
 *
 * ```sh
 * deno run -A scripts/bench_outputs.ts [samples=1000000] [rounds=3]
 * BENCH_DIR=/dev/shm deno run -A scripts/bench_outputs.ts   # tmpfs: the writer's CPU cost only
 * ```
 *
 * Each writer runs `rounds` times on a fresh file; the best round is reported (the machines
 * this runs on are shared, so the best round is the least disturbed one).
 * @module
 */
import { MetricRegistry } from "../lib/metrics/metric.ts";
import type { Sample } from "../lib/metrics/sample.ts";
import { TagSetPool } from "../lib/metrics/tags.ts";
import { CsvEncoder } from "../lib/output/csv.ts";
import { JsonEncoder } from "../lib/output/json.ts";
import { FileWriter } from "../lib/output/_file_writer.ts";
import { type ByteSink, EncodedQueue } from "../lib/output/_byte_sink.ts";
import { defaultSystemTags } from "../lib/output/_options.ts";

const total = Number(Deno.args[0] ?? 1_000_000);
const rounds = Number(Deno.args[1] ?? 3);
const chunk = 10_000;

/** HTTP trails (9 samples each) over 20 URLs, plus iteration samples: a typical mix. */
function makeSamples(n: number): Sample[] {
  const registry = new MetricRegistry();
  const pool = new TagSetPool();
  const m = (name: string) => registry.get(name)!;
  const trail = [
    "http_reqs",
    "http_req_duration",
    "http_req_blocked",
    "http_req_connecting",
    "http_req_tls_handshaking",
    "http_req_sending",
    "http_req_waiting",
    "http_req_receiving",
    "http_req_failed",
  ].map(m);
  const tagSets = Array.from({ length: 20 }, (_, i) =>
    pool.intern({
      expected_response: "true",
      group: "",
      method: "GET",
      name: `http://127.0.0.1:8080/items/${i}?page=2&sort=asc`,
      proto: "HTTP/1.1",
      scenario: "default",
      status: "200",
      url: `http://127.0.0.1:8080/items/${i}?page=2&sort=asc`,
    }));
  const out: Sample[] = [];
  let time = Date.UTC(2026, 0, 1, 10);
  // Timings with microsecond digits, as real ones have (a fixed LCG keeps runs comparable).
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; out.length < n; i++) {
    time += Math.round(random() * 300) / 1000;
    const tags = tagSets[i % tagSets.length];
    for (const metric of trail) {
      const value = metric.type === "counter"
        ? 1
        : metric.type === "rate"
        ? 0
        : Math.round(random() * 200_000_000) / 1_000_000; // whole ns, as k6 reports
      out.push({ metric, tags, time, value });
    }
  }
  out.length = n;
  return out;
}

type Encode = (samples: readonly Sample[], sink: ByteSink) => void;

async function run(name: string, encode: Encode, path: string, samples: readonly Sample[]) {
  const writer = await FileWriter.open(path, { gzip: path.endsWith(".gz") });
  const queue = new EncodedQueue(name, console);
  const write = async () => {
    await queue.drain((bytes) => {
      writer.appendBytes(bytes);
      return writer.flush();
    });
    if (queue.lost > 0) throw new Error(`write failed: ${writer.errors.last}`);
  };
  const began = performance.now();
  for (let from = 0; from < samples.length; from += chunk) {
    const batch = samples.slice(from, Math.min(from + chunk, samples.length));
    if (queue.add(batch, encode)) await write();
  }
  await write();
  await writer.close();
  const seconds = (performance.now() - began) / 1000;
  const bytes = (await Deno.stat(path)).size;
  await Deno.remove(path);
  return { name, seconds, rate: samples.length / seconds, bytes };
}

const samples = makeSamples(total);
const dir = await Deno.makeTempDir({
  prefix: "spate-bench-outputs-",
  dir: Deno.env.get("BENCH_DIR"),
});
try {
  const best = new Map<string, Awaited<ReturnType<typeof run>>>();
  for (let round = 0; round < rounds; round++) {
    for (const name of ["csv", "json", "csv.gz", "json.gz"]) {
      // A fresh encoder per run: its caches start cold, as in a real test.
      const encode: Encode = name.startsWith("csv")
        ? ((e) => (s, sink) => e.encodeTo(s, 0, s.length, sink))(
          new CsvEncoder(defaultSystemTags, "unix"),
        )
        : ((e) => (s, sink) => e.encodeTo(s, 0, s.length, sink))(new JsonEncoder(new Map(), {}));
      const result = await run(name, encode, `${dir}/o.${name}`, samples);
      const prev = best.get(name);
      if (!prev || result.rate > prev.rate) best.set(name, result);
    }
  }
  const results = [...best.values()];
  console.log(`${total} samples per writer, best of ${rounds} rounds, in ${dir}`);
  console.log("writer     samples/s    seconds   file MB");
  for (const r of results) {
    console.log(
      `${r.name.padEnd(9)} ${Math.round(r.rate).toLocaleString("en-US").padStart(10)} ` +
        `${r.seconds.toFixed(2).padStart(9)} ${(r.bytes / 1e6).toFixed(1).padStart(9)}`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
