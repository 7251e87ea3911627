/**
 * `deno task bench`: spate's performance, measured in one run against peers on this machine.
 *
 * Target: nginx on 127.0.0.1 when installed (Debian `nginx-light`), else the demo target in a
 * child process. Scenarios (each a separate `spate run` process, CPU and peak RSS from
 * /usr/bin/time, requests from --summary-export):
 *   - 50 VUs looping `http.get` for DURATION (default 10 s), with no output, then with each
 *     output (csv, json, json.gz, cloud against the local fake ingest; influxdb, prometheus-rw,
 *     timescaledb, statsd when their servers are installed);
 *   - 1000 VUs each `http.get` + `sleep(1)` (peak RSS, time to initialise);
 *   - time from launch to the first request reaching the target;
 *   - influxdb and timescaledb also at a fixed rate (--rate, default 10000 req/s) that their
 *     servers absorb while sharing the CPUs, each paired with a no-output run at that rate;
 *   - the same 50-connection load from `wrk` and `k6` when they are on PATH;
 *   - with nginx, HTTPS: spate over HTTP/2 and over HTTP/1.1, against h2load and wrk.
 * Prints one table with ratios against the no-output run and against the peers, and each spate
 * run's CPU split by thread (main, VU workers, others).
 *
 * Usage: deno task bench [--duration 10] [--repeat 3] [--only base,control,csv,...] [--skip-services]
 *        [--rate 10000] [--v8-default]
 * @module
 */

const root = new URL("..", import.meta.url).pathname;
const args = Deno.args;
const argValue = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const durationSec = Number(argValue("--duration") ?? 10);
/**
 * spate runs with the V8 flag `deno task compile` bakes into the executable: a 4 MB young
 * generation per isolate cut peak RSS at 50 VUs from ~280 MB to ~170 MB at no CPU cost
 * (measured here). `--v8-default` measures V8's defaults instead.
 */
const v8Flags = args.includes("--v8-default") ? [] : ["--v8-flags=--max-semi-space-size=4"];
const repeat = Math.max(1, Number(argValue("--repeat") ?? 3));
/** `deno` arguments for a quiet `spate run` with the bench's V8 flags, then `rest`. */
const spateRun = (
  ...rest: string[]
) => ["run", "-A", ...v8Flags, `${root}cli.ts`, "run", "-q", ...rest];
/** Requests per second of the fixed-rate runs (see `rateScript`). */
const rate = String(Number(argValue("--rate") ?? 10000));
const baseName = "spate 50 VUs, no output";
const only = argValue("--only")?.split(",");
const skipServices = args.includes("--skip-services");
const want = (name: string) => !only || only.includes(name);

interface Row {
  name: string;
  requests: number;
  wallSec: number;
  cpuSec: number;
  rssMB: number;
  /** spate's CPU seconds by thread kind (see {@link ThreadSampler}). */
  threads?: ThreadCpu;
  note?: string;
}

/** CPU seconds of the main thread, the VU worker threads and all other threads. */
interface ThreadCpu {
  main: number;
  vus: number;
  other: number;
}

/** Clock ticks per second of /proc/<pid>/task/<tid>/stat times. */
const clockTicks = await (async () => {
  try {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"] }).output();
    return Number(new TextDecoder().decode(out.stdout).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * Splits a running spate process's CPU by thread, reading /proc/<pid>/task/<tid>/stat every
 * 200 ms and keeping each thread's last reading: `deno` is the main thread (outputs, metrics),
 * `worker-N` the VU threads, the rest Deno's I/O threads (file writes) and V8's GC helpers. A
 * thread that ends between two readings loses at most 200 ms; /usr/bin/time's total stays the
 * reference. Linux only: elsewhere it reports nothing.
 */
class ThreadSampler {
  readonly #last = new Map<string, { comm: string; ticks: number }>();
  #stopped = false;
  readonly #done: Promise<void>;

  constructor(launcherPid: number, viaTime: boolean) {
    this.#done = this.#run(launcherPid, viaTime);
  }

  async #run(launcherPid: number, viaTime: boolean): Promise<void> {
    let pid = viaTime ? 0 : launcherPid;
    while (!this.#stopped) {
      try {
        if (!pid) {
          pid = Number(
            Deno.readTextFileSync(`/proc/${launcherPid}/task/${launcherPid}/children`).trim()
              .split(" ")[0],
          ) || 0;
        }
        if (pid) this.#read(pid);
      } catch { /* not started yet, already gone, or no /proc */ }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  #read(pid: number): void {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        const stat = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/stat`);
        const close = stat.lastIndexOf(")");
        const comm = stat.slice(stat.indexOf("(") + 1, close);
        const fields = stat.slice(close + 2).split(" ");
        // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after "<pid> (<comm>) ".
        this.#last.set(task.name, { comm, ticks: Number(fields[11]) + Number(fields[12]) });
      } catch { /* the thread ended */ }
    }
  }

  async stop(): Promise<ThreadCpu | undefined> {
    this.#stopped = true;
    await this.#done;
    if (this.#last.size === 0) return undefined;
    const cpu = { main: 0, vus: 0, other: 0 };
    for (const { comm, ticks } of this.#last.values()) {
      const kind = comm === "deno" ? "main" : comm.startsWith("worker-") ? "vus" : "other";
      cpu[kind] += ticks / clockTicks;
    }
    return cpu;
  }
}

const rows: Row[] = [];
const tmp = await Deno.makeTempDir({ prefix: "spate-bench-" });
const cleanups: Array<() => Promise<void> | void> = [];

function which(cmd: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      const p = `${dir}/${cmd}`;
      if (Deno.statSync(p).isFile) return p;
    } catch { /* next */ }
  }
  for (const p of [`/usr/sbin/${cmd}`, `/usr/bin/${cmd}`]) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* next */ }
  }
  return undefined;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts the load target; returns its base URL (and an HTTPS one, HTTP/2 by ALPN, with nginx). */
async function startTarget(): Promise<{ url: string; kind: string; https?: string }> {
  const nginx = which("nginx");
  if (nginx) {
    const port = freePort();
    const tlsPort = freePort();
    const dir = `${tmp}/nginx`;
    await Deno.mkdir(dir, { recursive: true });
    const { selfSignedCert } = await import("../tests/http/_tls.ts");
    const { cert, key } = await selfSignedCert();
    await Deno.writeTextFile(`${dir}/cert.pem`, cert);
    await Deno.writeTextFile(`${dir}/key.pem`, key);
    await Deno.writeTextFile(
      `${dir}/nginx.conf`,
      `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port};
    location / { default_type text/plain; return 200 "hello from nginx\\n"; }
  }
  server {
    listen 127.0.0.1:${tlsPort} ssl http2;
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;
    location / { default_type text/plain; return 200 "hello from nginx\\n"; }
  }
}
`,
    );
    const child = new Deno.Command(nginx, {
      args: ["-c", `${dir}/nginx.conf`, "-p", dir, "-g", "daemon off;"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    cleanups.push(async () => {
      child.kill("SIGTERM");
      await child.status;
    });
    for (let i = 0; i < 50; i++) {
      try {
        await (await fetch(`http://127.0.0.1:${port}/`)).text();
        return {
          url: `http://127.0.0.1:${port}/`,
          kind: "nginx",
          https: `https://127.0.0.1:${tlsPort}/`,
        };
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error("nginx did not start");
  }
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}scripts/demo_server.ts`, "--port", String(port)],
    stdout: "null",
    stderr: "null",
  }).spawn();
  cleanups.push(async () => {
    child.kill("SIGTERM");
    await child.status;
  });
  for (let i = 0; i < 50; i++) {
    try {
      await (await fetch(`http://127.0.0.1:${port}/`)).text();
      return {
        url: `http://127.0.0.1:${port}/`,
        kind: "demo target (install nginx for the real one)",
      };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error("demo target did not start");
}

/**
 * Runs a command under /usr/bin/time; returns wall, CPU seconds and peak RSS (MB), and with
 * `threads` the CPU split by thread kind.
 */
async function timed(
  cmd: string,
  cmdArgs: string[],
  env: Record<string, string> = {},
  threads = false,
) {
  const timeFile = `${tmp}/time.txt`;
  const time = which("time");
  const start = performance.now();
  const child = new Deno.Command(time ?? cmd, {
    args: time ? ["-f", "%U %S %M", "-o", timeFile, cmd, ...cmdArgs] : cmdArgs,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
    cwd: root,
  }).spawn();
  const sampler = threads ? new ThreadSampler(child.pid, time !== undefined) : undefined;
  const out = await child.output();
  const threadCpu = await sampler?.stop();
  const wallSec = (performance.now() - start) / 1000;
  let cpuSec = NaN;
  let rssMB = NaN;
  if (time) {
    const [u, s, m] = (await Deno.readTextFile(timeFile)).trim().split("\n").pop()!.split(" ");
    cpuSec = Number(u) + Number(s);
    rssMB = Number(m) / 1024;
  }
  const dec = new TextDecoder();
  return {
    wallSec,
    cpuSec,
    rssMB,
    threads: threadCpu,
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

const loopScript = `${tmp}/loop.js`;
await Deno.writeTextFile(
  loopScript,
  `import http from "k6/http";
export default function () { http.get(__ENV.TARGET); }
`,
);
/**
 * A fixed request rate for outputs whose local server shares the 2 CPUs and can't absorb a
 * full-speed run's samples (PostgreSQL, influxd): runs without a backlog show the output's own
 * cost. RATE is set per run. 100 VUs: with 50, main-thread pauses of a few ms left no idle VU
 * for ~2% of the starts (dropped_iterations), with 100 for ~0.4%.
 */
const rateScript = `${tmp}/rate.js`;
await Deno.writeTextFile(
  rateScript,
  `import http from "k6/http";
export const options = { scenarios: { rate: {
  executor: "constant-arrival-rate", rate: Number(__ENV.RATE), timeUnit: "1s",
  duration: "${durationSec}s", preAllocatedVUs: 100, maxVUs: 100 } } };
export default function () { http.get(__ENV.TARGET); }
`,
);
const sleepScript = `${tmp}/sleep.js`;
await Deno.writeTextFile(
  sleepScript,
  `import http from "k6/http";
import { sleep } from "k6";
export default function () { http.get(__ENV.TARGET); sleep(1); }
`,
);

/** Where {@link measure} has a run named `name` write its summary (each run overwrites it). */
function exportPath(name: string): string {
  return `${tmp}/${name.replace(/\W+/g, "_")}.json`;
}

async function measure(
  name: string,
  vus: number,
  script: string,
  extra: string[],
  env: Record<string, string> = {},
): Promise<Row> {
  const exportFile = exportPath(name);
  const r = await timed(
    Deno.execPath(),
    spateRun(
      // The rate script has its own scenario, which -u/-d would replace.
      ...(script === rateScript ? [] : ["-u", String(vus), "-d", `${durationSec}s`]),
      "--summary-export",
      exportFile,
      ...extra,
      script,
    ),
    { TARGET: target.url, ...env },
    true,
  );
  if (r.code !== 0) {
    return {
      name,
      requests: 0,
      wallSec: r.wallSec,
      cpuSec: r.cpuSec,
      rssMB: r.rssMB,
      note: `exit ${r.code}: ${r.stderr.trim().split("\n").pop()}`,
    };
  }
  const exp = JSON.parse(await Deno.readTextFile(exportFile));
  return {
    name,
    requests: exp.metrics.http_reqs?.count ?? 0,
    wallSec: r.wallSec,
    cpuSec: r.cpuSec,
    rssMB: r.rssMB,
    threads: r.threads,
  };
}

const baseRuns: Row[] = [];
const overheads = new Map<string, number>();
const controlName = "spate 50 VUs, no output (control: paired with itself)";
/** Every paired ratio of a row, printed under the table: the spread shows what the median hides. */
const pairRatios = new Map<string, number[]>();
/** Median paired differences in µs/req by thread kind. */
const overheadSplits = new Map<string, ThreadCpu>();
const cpuPerReq = (r: Row) => r.cpuSec / r.requests;
/**
 * A distribution-free confidence interval for the median of `xs`: from the k-th smallest to the
 * k-th largest value, with the largest k for which the chance that the median lies beyond
 * either end is at most 5% (so at least 90% in all; the level returned is the exact one).
 * Undefined below 5 values.
 */
function medianInterval(xs: number[]): { low: number; high: number; level: number } | undefined {
  const n = xs.length;
  // term = P(Binomial(n, 1/2) = j), cdf = P(... <= j).
  let j = 0;
  let term = 0.5 ** n;
  let cdf = term;
  let k = 0;
  let tail = 0;
  while (cdf <= 0.05) {
    k = j + 1;
    tail = cdf;
    j++;
    term = (term * (n - j + 1)) / j;
    cdf += term;
  }
  if (k === 0) return undefined;
  const sorted = [...xs].sort((x, y) => x - y);
  return { low: sorted[k - 1], high: sorted[n - k], level: Math.floor((1 - 2 * tail) * 100) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The run with the median CPU per request of those that made requests (else the last run). */
function medianRun(runs: Row[]): Row {
  const ok = runs.filter((r) => r.requests > 0);
  if (ok.length === 0) return runs[runs.length - 1];
  const mid = median(ok.map(cpuPerReq));
  return ok.find((r) => cpuPerReq(r) === mid) ?? ok[0];
}

/** A wrk run of 50 connections against `url`, as a peer row. */
async function wrkRow(name: string, url: string): Promise<Row> {
  const r = await timed(which("wrk")!, ["-t1", "-c50", `-d${durationSec}s`, url]);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  const total = /(\d+) requests in/.exec(r.stdout);
  return {
    name,
    requests: total ? Number(total[1]) : Number(m?.[1] ?? 0) * durationSec,
    wallSec: r.wallSec,
    cpuSec: r.cpuSec,
    rssMB: r.rssMB,
  };
}

/**
 * Runs a configuration `--repeat` times (default 3), each right after a no-output run of its
 * own, so that slow drifts in machine load hit both alike. The row is the median run; the
 * overhead is the median of the paired CPU-per-request ratios. Single runs on this 2-core
 * machine vary by ±10%, the size of the effects measured.
 */
async function spate(
  name: string,
  vus: number,
  script: string,
  extra: string[],
  env: Record<string, string> = {},
): Promise<void> {
  const runs: Row[] = [];
  const ratios: number[] = [];
  const deltas: Record<keyof ThreadCpu, number[]> = { main: [], vus: [], other: [] };
  // Fixed-rate runs pair with a no-output run at the same rate.
  const rated = script === rateScript;
  for (let i = 0; i < repeat; i++) {
    const base = vus !== 50
      ? undefined
      : rated
      ? await measure(`spate ${env.RATE} req/s, no output`, 50, rateScript, [], { RATE: env.RATE })
      : await measure(baseName, 50, loopScript, []);
    const run = await measure(name, vus, script, extra, env);
    runs.push(run);
    if (base && !rated) baseRuns.push(base);
    if (base && base.requests && run.requests && vus === 50) {
      ratios.push(cpuPerReq(run) / cpuPerReq(base));
      if (base.threads && run.threads) {
        for (const kind of ["main", "vus", "other"] as const) {
          deltas[kind].push(
            (run.threads[kind] / run.requests - base.threads[kind] / base.requests) * 1e6,
          );
        }
      }
    }
  }
  rows.push(medianRun(runs));
  if (ratios.length) {
    overheads.set(name, median(ratios) - 1);
    pairRatios.set(name, ratios);
  }
  if (deltas.main.length) {
    overheadSplits.set(name, {
      main: median(deltas.main),
      vus: median(deltas.vus),
      other: median(deltas.other),
    });
  }
}

/** Lines printed under the table: what the kernel charges any program for the outputs' I/O. */
const ioPeers: string[] = [];

/**
 * The file outputs' peer: `dd` writing as many bytes as the last run of `name` wrote to `file`
 * into a new file beside it, its CPU spread over that run's requests: how much of an output's
 * extra CPU ("other": Deno's I/O thread) any program writing those bytes pays.
 *
 * It runs four times. The first `dd` gets the page-cache pages a new file gets during a run. The
 * second starts right after the first file is deleted, so the kernel hands it the pages just
 * freed. On a VM that returns freed memory to its host within seconds (free page reporting,
 * as on the machines this project is developed on), new pages cost a fault on the host each
 * and the first copy runs at ~0.4 GB/s; the second shows the cost on a machine whose memory
 * is already backed (~5 GB/s here). The third, `oflag=nocache`, drops what it wrote from the
 * page cache as it goes, as spate's file writer does where it can't write directly
 * (lib/output/_write_behind.ts). The fourth, `oflag=direct`, bypasses the page cache, as
 * spate's file writer does on a local disk (lib/output/_direct_writer.ts).
 */
async function writePeer(label: string, file: string, name: string): Promise<void> {
  try {
    const bytes = (await Deno.stat(file)).size;
    const exp = JSON.parse(await Deno.readTextFile(exportPath(name)));
    const requests: number = exp.metrics.http_reqs.count;
    const mb = Math.max(1, Math.round(bytes / 2 ** 20));
    const perReq = (cpuSec: number) => (cpuSec * (bytes / (mb * 2 ** 20)) / requests) * 1e6;
    const dd = async (out: string, ...extra: string[]) => {
      const args = ["if=/dev/zero", `of=${out}`, "bs=1M", `count=${mb}`, ...extra];
      const r = await timed("dd", args);
      await Deno.remove(out).catch(() => {});
      return r.cpuSec;
    };
    const fresh = await dd(`${tmp}/dd.bin`);
    const reused = await dd(`${tmp}/dd2.bin`);
    await new Promise((r) => setTimeout(r, 5000)); // the freed pages go back to the host
    const behind = await dd(`${tmp}/dd3.bin`, "oflag=nocache");
    const direct = await dd(`${tmp}/dd4.bin`, "oflag=direct");
    ioPeers.push(
      `${label}: ${(bytes / requests / 1024).toFixed(2)} KB per request; dd writing the same ` +
        `${mb} MB to a new file: ${fresh.toFixed(2)} s CPU = ${perReq(fresh).toFixed(1)} µs ` +
        `per request; again at once, into the pages just freed: ${reused.toFixed(2)} s = ` +
        `${perReq(reused).toFixed(1)} µs; dropping the pages behind it (oflag=nocache, spate's ` +
        `fallback): ${behind.toFixed(2)} s = ${perReq(behind).toFixed(1)} µs; direct ` +
        `(oflag=direct, as spate writes): ${direct.toFixed(2)} s = ${perReq(direct).toFixed(1)} µs`,
    );
  } catch (err) {
    ioPeers.push(`${label}: no dd measurement (${(err as Error).message})`);
  }
}

/**
 * The statsd output's peer: Python sending as many datagrams as the last run of `name` sent,
 * of the size the listener saw, to the same listener; its CPU (less Python's start-up) spread
 * over that run's requests: what `sendto` on loopback costs any sender here. The count comes
 * from the run's summary (each iteration of the loop script is one request: 9 samples per
 * request and 4 per iteration, 20 lines per datagram), because the listener, which shares the
 * CPUs, loses datagrams when its socket buffer fills.
 */
async function sendPeer(name: string, port: number, received: number, bytes: number) {
  if (!which("python3") || received === 0) return;
  try {
    const exp = JSON.parse(await Deno.readTextFile(exportPath(name)));
    const requests: number = exp.metrics.http_reqs.count;
    const iterations: number = exp.metrics.iterations.count;
    const datagrams = Math.ceil((9 * requests + 4 * iterations) / 20);
    const size = Math.round(bytes / received);
    const send = (count: number) =>
      timed("python3", [
        "-c",
        "import socket\n" +
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n" +
        `b=b'x'*${size}\n` +
        `for _ in range(${count}): s.sendto(b,('127.0.0.1',${port}))\n`,
      ]);
    const idle = await send(0);
    const r = await send(datagrams);
    const cpu = r.cpuSec - idle.cpuSec;
    ioPeers.push(
      `statsd: ${(datagrams / requests).toFixed(2)} datagrams of ~${size} bytes per request ` +
        `(the listener got ${Math.round((received / datagrams) * 100)}% of them); python3 ` +
        `sending ${datagrams}: ${cpu.toFixed(2)} s CPU = ${(cpu / requests * 1e6).toFixed(1)} ` +
        "µs per request",
    );
  } catch (err) {
    ioPeers.push(`statsd: no sendto measurement (${(err as Error).message})`);
  }
}

/**
 * The statsd output's local server: a python3 `recv` loop (~1.9 µs of CPU per datagram here),
 * else node:dgram in this process (~7.8 µs: at ~20,000 datagrams/s it took a tenth of the two
 * CPUs the measured run needs). Counts the datagrams and bytes of the last run: a pause of
 * 3 s (the paired no-output run) starts a new count; the output sends every second.
 */
async function statsdListener(): Promise<{
  port: number;
  counts(): Promise<{ datagrams: number; bytes: number }>;
  close(): Promise<void>;
}> {
  const dgram = await import("node:dgram");
  const python = which("python3");
  if (python) {
    // Answers a datagram "?" from the bench with "datagrams bytes" of the last run.
    const code = "import socket,sys,time\n" +
      "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n" +
      "s.bind(('127.0.0.1',0))\n" +
      "print(s.getsockname()[1],flush=True)\n" +
      "n=b=0;last=0.0\n" +
      "while True:\n" +
      " m,a=s.recvfrom(65536)\n" +
      " if m==b'?':\n" +
      "  s.sendto(b'%d %d'%(n,b),a);continue\n" +
      " t=time.monotonic()\n" +
      " if t-last>3:n=b=0\n" +
      " last=t;n+=1;b+=len(m)\n";
    const child = new Deno.Command(python, { args: ["-c", code], stdout: "piped" }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const port = Number((await reader.read()).value?.trim());
    const ask = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => ask.bind(0, "127.0.0.1", resolve));
    return {
      port,
      counts: () =>
        new Promise((resolve) => {
          ask.once("message", (msg: Uint8Array) => {
            const [datagrams, bytes] = new TextDecoder().decode(msg).split(" ").map(Number);
            resolve({ datagrams, bytes });
          });
          ask.send(new TextEncoder().encode("?"), port, "127.0.0.1");
        }),
      async close() {
        ask.close();
        reader.releaseLock();
        child.kill("SIGTERM");
        await child.stdout.cancel().catch(() => {});
        await child.status;
      },
    };
  }
  const sock = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => sock.bind(0, "127.0.0.1", resolve));
  let last = 0;
  let datagrams = 0;
  let bytes = 0;
  sock.on("message", (msg: Uint8Array) => {
    const now = performance.now();
    if (now - last > 3000) datagrams = bytes = 0;
    last = now;
    datagrams++;
    bytes += msg.length;
  });
  return {
    port: sock.address().port,
    counts: () => Promise.resolve({ datagrams, bytes }),
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}

/** Milliseconds from launching spate until the first request reaches a local listener. */
async function timeToFirstRequest(): Promise<number> {
  let first = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    if (!first) first = performance.now();
    return new Response("ok");
  });
  const script = `${tmp}/first.js`;
  await Deno.writeTextFile(
    script,
    `import http from "k6/http";\nexport default function () { http.get(__ENV.TARGET); }\n`,
  );
  const start = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: spateRun("--summary-mode=disabled", script),
    cwd: root,
    env: { TARGET: `http://127.0.0.1:${server.addr.port}/` },
    stdout: "null",
    stderr: "null",
  }).output();
  await server.shutdown();
  if (!out.success || !first) return NaN;
  return first - start;
}

const target = await startTarget();
console.log(`target: ${target.kind} at ${target.url}; ${durationSec} s per run\n`);

try {
  if (want("base")) {
    for (let i = 0; i < repeat; i++) baseRuns.push(await measure(baseName, 50, loopScript, []));
  }
  // The control: no output against no output, paired exactly as the outputs are. Its pairs
  // show how far two identical runs drift apart on this machine, the yardstick for the others.
  if (want("control")) await spate(controlName, 50, loopScript, []);
  if (want("csv")) {
    await spate("spate 50 VUs --out csv", 50, loopScript, ["--out", `csv=${tmp}/o.csv`]);
    await writePeer("csv", `${tmp}/o.csv`, "spate 50 VUs --out csv");
  }
  if (want("json")) {
    await spate("spate 50 VUs --out json", 50, loopScript, ["--out", `json=${tmp}/o.json`]);
    await writePeer("json", `${tmp}/o.json`, "spate 50 VUs --out json");
  }
  // The same outputs into a pipe (a FIFO that `cat` drains): no page cache, so what is left
  // is spate's own encoding and writing. Set against the file rows, it shows the kernel's
  // page-cache share, which the dd peer below measures too.
  for (const kind of ["csv", "json"] as const) {
    if (!want(`${kind}pipe`)) continue;
    const fifo = `${tmp}/o.${kind}.fifo`;
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output().catch(() => undefined);
    if (!made?.success) {
      console.log(`(no ${kind} pipe run: mkfifo failed)`);
      continue;
    }
    // The reader: this process drains every run's writes (its CPU is not spate's).
    let stop = false;
    const reader = (async () => {
      const buf = new Uint8Array(1 << 20);
      while (!stop) {
        const f = await Deno.open(fifo, { read: true }); // waits for a writer
        while ((await f.read(buf)) !== null) { /* drain */ }
        f.close();
      }
    })();
    cleanups.push(async () => {
      stop = true;
      // Opening a FIFO read-write never blocks; it releases the reader's pending open.
      (await Deno.open(fifo, { read: true, write: true })).close();
      await reader;
    });
    await spate(`spate 50 VUs --out ${kind} into a pipe`, 50, loopScript, [
      "--out",
      `${kind}=${fifo}`,
    ]);
  }
  if (want("jsongz")) {
    await spate("spate 50 VUs --out json=x.json.gz", 50, loopScript, [
      "--out",
      `json=${tmp}/o.json.gz`,
    ]);
  }
  if (want("cloud")) {
    const { startFakeIngest } = await import("../tests/output/cloud/_fake_ingest.ts");
    const fake = await startFakeIngest();
    cleanups.push(() => fake.close());
    await spate("spate 50 VUs --out cloud (local fake)", 50, loopScript, ["--out", "cloud"], {
      K6_CLOUD_HOST: fake.url,
      K6_CLOUD_TOKEN: "test-token",
    });
  }
  if (!skipServices) {
    await serviceRuns().catch((err) => {
      rows.push({
        name: "service outputs",
        requests: 0,
        wallSec: 0,
        cpuSec: NaN,
        rssMB: NaN,
        note: `failed: ${err}`,
      });
    });
  }
  if (want("1000")) await spate("spate 1000 VUs get+sleep(1)", 1000, sleepScript, []);
  if (want("init1000")) {
    // Launch → exit for 1000 VUs running one no-op iteration each: bounds the time to
    // initialise 1000 VUs (the issue's "< 2 s").
    const noop = `${tmp}/noop.js`;
    await Deno.writeTextFile(noop, "export default function () {}\n");
    const r = await timed(
      Deno.execPath(),
      spateRun("--summary-mode=disabled", "-u", "1000", "-i", "1000", noop),
    );
    rows.push({
      name: "spate: 1000 VUs launch → exit (init + 1 no-op iteration each)",
      requests: NaN,
      wallSec: r.wallSec,
      cpuSec: r.cpuSec,
      rssMB: r.rssMB,
      note: `${(r.wallSec * 1000).toFixed(0)} ms${r.code ? `, exit ${r.code}` : ""}`,
    });
  }
  if (want("first")) {
    const ms = await timeToFirstRequest();
    rows.push({
      name: "spate: launch → first request",
      requests: NaN,
      wallSec: ms / 1000,
      cpuSec: NaN,
      rssMB: NaN,
      note: `${ms.toFixed(0)} ms`,
    });
  }
  if (want("https") && target.https) await httpsRuns(target.https);
  if (want("wrk") && which("wrk")) rows.push(await wrkRow("wrk -t1 -c50 (peer)", target.url));
  if (want("k6") && which("k6")) {
    const exportFile = `${tmp}/k6.json`;
    const r = await timed(which("k6")!, [
      "run",
      "-q",
      "-u",
      "50",
      "-d",
      `${durationSec}s`,
      "--summary-export",
      exportFile,
      loopScript,
    ], { TARGET: target.url });
    const exp = r.code === 0 ? JSON.parse(await Deno.readTextFile(exportFile)) : undefined;
    rows.push({
      name: "k6 50 VUs (peer)",
      requests: exp?.metrics.http_reqs.count ?? 0,
      wallSec: r.wallSec,
      cpuSec: r.cpuSec,
      rssMB: r.rssMB,
    });
  }
} finally {
  for (const c of cleanups.reverse()) await c();
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}

/**
 * HTTPS against nginx's TLS server (HTTP/2 by ALPN): spate over HTTP/2 (k6's default) and over
 * HTTP/1.1 (`GODEBUG=http2client=0`), each the median of `--repeat` runs, with the matching
 * peers: h2load (Debian `nghttp2-client`) and wrk, 50 connections each.
 */
async function httpsRuns(url: string): Promise<void> {
  const insecure = ["--insecure-skip-tls-verify"];
  for (
    const [name, env] of [
      ["spate 50 VUs https, HTTP/2", {}],
      ["spate 50 VUs https, HTTP/1.1 (GODEBUG=http2client=0)", { GODEBUG: "http2client=0" }],
    ] as const
  ) {
    const runs: Row[] = [];
    for (let i = 0; i < repeat; i++) {
      runs.push(await measure(name, 50, loopScript, insecure, { TARGET: url, ...env }));
    }
    rows.push(medianRun(runs));
  }
  const h2load = which("h2load");
  if (h2load) {
    const r = await timed(h2load, ["-c50", "-m1", "-t1", `-D${durationSec}`, url]);
    const done = /requests: \d+ total, \d+ started, (\d+) done/.exec(r.stdout);
    rows.push({
      name: "h2load -c50 -m1 https, HTTP/2 (peer)",
      requests: Number(done?.[1] ?? 0),
      wallSec: r.wallSec,
      cpuSec: r.cpuSec,
      rssMB: r.rssMB,
    });
  }
  if (which("wrk")) rows.push(await wrkRow("wrk -t1 -c50 https, HTTP/1.1 (peer)", url));
}

async function serviceRuns(): Promise<void> {
  // Outputs whose real server is installed (the test suite's helpers start them).
  if (want("influxdb") && which("influxd")) {
    const { startInfluxd } = await import("../tests/output/_servers.ts");
    const influx = await startInfluxd();
    cleanups.push(() => influx.stop());
    const out = ["--out", `influxdb=${influx.url}/bench`];
    await spate("spate 50 VUs --out influxdb", 50, loopScript, out);
    await spate(`spate ${rate} req/s --out influxdb`, 50, rateScript, out, { RATE: rate });
  }
  if (want("prometheus") && which("prometheus")) {
    const { startPrometheus } = await import("../tests/output/_prometheus.ts");
    const prom = await startPrometheus();
    cleanups.push(() => prom.stop());
    await spate("spate 50 VUs --out experimental-prometheus-rw", 50, loopScript, [
      "--out",
      "experimental-prometheus-rw",
    ], {
      K6_PROMETHEUS_RW_SERVER_URL: prom.writeUrl,
    });
  }
  if (want("timescaledb")) {
    try {
      const { startPostgres } = await import("../tests/output/_servers.ts");
      const pg = await startPostgres();
      cleanups.push(() => pg.stop());
      const out = ["--out", `timescaledb=${pg.url("bench")}`];
      await spate("spate 50 VUs --out timescaledb", 50, loopScript, out);
      await spate(`spate ${rate} req/s --out timescaledb`, 50, rateScript, out, { RATE: rate });
    } catch (err) {
      rows.push({
        name: "spate 50 VUs --out timescaledb",
        requests: 0,
        wallSec: 0,
        cpuSec: NaN,
        rssMB: NaN,
        note: `skipped: ${(err as Error).message}`,
      });
    }
  }
  if (want("opentelemetry")) {
    const { startFakeOtlp } = await import("../tests/output/_fake_otlp.ts");
    const otlp = await startFakeOtlp();
    cleanups.push(() => otlp.stop());
    await spate("spate 50 VUs --out opentelemetry (local fake)", 50, loopScript, [
      "--out",
      "opentelemetry",
    ], {
      K6_OTEL_EXPORTER_PROTOCOL: "http/protobuf",
      K6_OTEL_HTTP_EXPORTER_ENDPOINT: otlp.httpEndpoint,
      K6_OTEL_HTTP_EXPORTER_INSECURE: "true",
    });
  }
  if (want("statsd")) {
    const listener = await statsdListener();
    cleanups.push(() => listener.close());
    const name = "spate 50 VUs --out statsd";
    await spate(name, 50, loopScript, ["--out", "statsd"], {
      K6_STATSD_ADDR: `127.0.0.1:${listener.port}`,
    });
    const { datagrams, bytes } = await listener.counts();
    await sendPeer(name, listener.port, datagrams, bytes);
  }
}

// ---- report -------------------------------------------------------------------------------
if (baseRuns.length) {
  const ok = baseRuns.filter((r) => r.requests > 0).length;
  rows.unshift({ ...medianRun(baseRuns), note: `median of ${ok} runs` });
}
const wrk = rows.find((r) => r.name === "wrk -t1 -c50 (peer)");
const k6 = rows.find((r) => r.name.startsWith("k6"));
const perReqUs = (r: Row) => (r.cpuSec / r.requests) * 1e6;
const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : "-");
const signed = (n: number) => `${n >= 0 ? "+" : "−"}${fmt(Math.abs(n), 1)}`;
const header = [
  "run",
  "req/s",
  "CPU µs/req",
  "main · VUs · other",
  "peak RSS MB",
  "vs no output",
  "vs wrk req/s",
  "vs k6",
];
const table: string[][] = [header];
for (const r of rows) {
  const rps = r.requests / durationSec;
  const cpu = perReqUs(r);
  table.push([
    r.name,
    fmt(rps),
    fmt(cpu, 1),
    r.threads && r.requests
      ? [r.threads.main, r.threads.vus, r.threads.other]
        .map((sec) => fmt((sec / r.requests) * 1e6, 1)).join(" · ")
      : "",
    fmt(r.rssMB, 0),
    overheads.has(r.name)
      ? `${signed(overheads.get(r.name)! * 100)}% CPU/req` +
        (overheadSplits.has(r.name)
          ? ` (${
            Object.values(overheadSplits.get(r.name)!).map((us) => signed(us)).join(" · ")
          } µs)`
          : "")
      : "",
    wrk && r.requests && r !== wrk ? `${fmt(rps / (wrk.requests / durationSec), 2)}x` : "",
    k6 && r.requests && r !== k6
      ? `${fmt(rps / (k6.requests / durationSec), 2)}x req/s, ${fmt(cpu / perReqUs(k6), 2)}x CPU`
      : "",
  ]);
  if (r.note) table[table.length - 1][0] += ` (${r.note})`;
}
const widths = header.map((_, i) => Math.max(...table.map((row) => row[i].length)));
for (const [i, row] of table.entries()) {
  console.log("| " + row.map((c, j) => c.padEnd(widths[j])).join(" | ") + " |");
  if (i === 0) console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
}
console.log(
  "\nmain · VUs · other: the same CPU µs/req by thread (main: outputs and metrics; VUs: the " +
    "worker threads; other: Deno's I/O threads, e.g. file writes, and V8's GC helpers); in " +
    "'vs no output', the median paired difference of each.",
);
if (pairRatios.size) {
  console.log("\nEach pair's CPU/req against its own no-output run, in run order:");
  for (const [name, ratios] of pairRatios) {
    const pct = (r: number) => `${signed((r - 1) * 100)}%`;
    const over = ratios.filter((r) => r > 1.1).length;
    const ci = medianInterval(ratios);
    console.log(
      `  ${name}: ${ratios.map(pct).join(", ")} (${over} of ${ratios.length} over +10%` +
        (ci ? `; the median is within ${pct(ci.low)}…${pct(ci.high)} at ${ci.level}%)` : ")"),
    );
  }
}
if (ioPeers.length) {
  console.log("\nThe kernel's share (peers in the same run: dd for files, python3 for UDP):");
  for (const line of ioPeers) console.log(`  ${line}`);
  const reported = await Deno.readTextFile("/sys/module/page_reporting/parameters/reported_kib")
    .catch(() => undefined);
  if (reported !== undefined) {
    console.log(
      `  This VM reports freed memory to its host (free page reporting: ` +
        `${(Number(reported) / 2 ** 20).toFixed(0)} GiB since boot), so memory a run ` +
        "touches for the first time, such as a new file's page cache, costs a host fault.",
    );
  }
}
if (!k6) {
  console.log(
    "\nk6 is not on PATH: no k6 column (the issue's k6 v0.49 figures: ~160 µs CPU/req, 4.5–9k req/s).",
  );
}
