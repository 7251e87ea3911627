/**
 * Starts a real Prometheus (Debian package `prometheus`) on 127.0.0.1:<free port> with the
 * remote-write receiver enabled, a temp storage dir and a minimal config; waits until it is ready
 * and stops it (and removes the dir) after. Fails — never skips — when the binary is missing.
 *
 * @example
 * ```ts
 * const prom = await startPrometheus({ nativeHistograms: true });
 * try {
 *   const result = await prom.query("k6_http_reqs_total");
 * } finally {
 *   await prom.stop();
 * }
 * ```
 * @module
 */

/** One element of an instant-vector result. */
export interface PromVectorItem {
  metric: Record<string, string>;
  /** Float samples: [unix seconds, "value"]. */
  value?: [number, string];
  /** Native histograms: [unix seconds, { count, sum, buckets }]. */
  histogram?: [number, { count: string; sum: string; buckets?: unknown[] }];
}

/** A running Prometheus. */
export interface PrometheusServer {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** The remote-write receiver endpoint. */
  readonly writeUrl: string;
  /** Instant query over the HTTP API; throws unless status is success. */
  query(promql: string): Promise<PromVectorItem[]>;
  /** The Prometheus version string (from `prometheus --version`). */
  readonly version: string;
  stop(): Promise<void>;
}

const INSTALL_HINT =
  "install it with scripts/ci/install_services_b.sh (apt-get install prometheus)";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function prometheusVersion(): Promise<string> {
  try {
    const out = await new Deno.Command("prometheus", {
      args: ["--version"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return /version (\S+)/.exec(text)?.[1] ?? "unknown";
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(`the prometheus binary is not on PATH: ${INSTALL_HINT}`);
    }
    throw err;
  }
}

/** Starts Prometheus; `nativeHistograms` enables the feature flag that 2.4x needs. */
export async function startPrometheus(
  opts: { nativeHistograms?: boolean } = {},
): Promise<PrometheusServer> {
  const version = await prometheusVersion();
  const dir = await Deno.makeTempDir({ prefix: "spate-prom-" });
  const port = freePort();
  const config = `${dir}/prometheus.yml`;
  // No scrape jobs: the remote-write receiver is the only source of data.
  await Deno.writeTextFile(config, "global:\n  scrape_interval: 1m\nscrape_configs: []\n");
  const args = [
    `--config.file=${config}`,
    `--storage.tsdb.path=${dir}/data`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--web.enable-remote-write-receiver",
    "--log.level=warn",
  ];
  if (opts.nativeHistograms) args.push("--enable-feature=native-histograms");
  const child = new Deno.Command("prometheus", {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const logDone = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) log += decoder.decode(chunk, { stream: true });
  })();
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await logDone;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };

  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready within 20s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    writeUrl: `${url}/api/v1/write`,
    version,
    async query(promql: string) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = await res.json();
      if (body.status !== "success") {
        throw new Error(`query ${promql} failed: ${JSON.stringify(body)}`);
      }
      return body.data.result as PromVectorItem[];
    },
    stop,
  };
}
