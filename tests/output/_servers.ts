/**
 * Starts real InfluxDB 1.x and PostgreSQL servers for the service-output tests: each on
 * 127.0.0.1, on a free port, with a throw-away data directory, stopped (and the directory
 * removed) by `stop()`. A missing binary is a test failure telling how to install it.
 *
 * @example
 * ```ts
 * const influx = await startInfluxd();
 * try {
 *   // influx.url === "http://127.0.0.1:<port>"
 * } finally {
 *   await influx.stop();
 * }
 * ```
 * @module
 */
import { httpsPost } from "../../lib/output/_https_post.ts";

const INSTALL_HINT = "run scripts/ci/install_services_a.sh (as root) to install it";

/** A running server started by a test. */
export interface TestServer {
  readonly port: number;
  /** Kills the server (if still running) and removes its data directory. */
  stop(): Promise<void>;
  /** Kills the server abruptly (data directory kept until stop()). */
  kill(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (picked by the kernel, then released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, logFile: string) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  let log = "";
  try {
    log = Deno.readTextFileSync(logFile).slice(-2000);
  } catch { /* no log */ }
  throw new Error(`${what} did not become ready within 20s; log tail:\n${log}`);
}

function spawnLogged(argv: string[], logFile: string, asUser?: string): Deno.ChildProcess {
  // `exec` keeps the server as the direct child so that kill() reaches it.
  const quoted = argv.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  const sh = ["sh", "-c", `exec ${quoted} >'${logFile}' 2>&1`];
  const cmd = asUser
    ? ["setpriv", `--reuid=${asUser}`, `--regid=${asUser}`, "--init-groups", ...sh]
    : sh;
  return new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

function managed(
  child: Deno.ChildProcess,
  port: number,
  dir: string,
  stopSignal: Deno.Signal,
): TestServer {
  let exited = false;
  const status = child.status.then(() => {
    exited = true;
  });
  const kill = async (signal: Deno.Signal) => {
    if (!exited) {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
    }
    await status;
  };
  return {
    port,
    kill: () => kill("SIGKILL"),
    stop: async () => {
      await kill(stopSignal);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** A running InfluxDB 1.x. */
export interface InfluxServer extends TestServer {
  readonly url: string;
  /** Runs an InfluxQL query through the server's HTTP API and returns the parsed JSON. */
  query(q: string, db?: string): Promise<InfluxQueryResult>;
}

/** The JSON shape of InfluxDB 1.x `/query` responses. */
export interface InfluxQueryResult {
  results: Array<{
    statement_id?: number;
    error?: string;
    series?: Array<{ name: string; columns: string[]; values: unknown[][] }>;
  }>;
}

/**
 * Starts `influxd` with a generated config in a temp dir; with `tls` (PEM files whose
 * certificate names 127.0.0.1) it serves https.
 */
export async function startInfluxd(
  opts: { tls?: { certFile: string; keyFile: string } } = {},
): Promise<InfluxServer> {
  const bin = "/usr/bin/influxd";
  if (!exists(bin)) throw new Error(`InfluxDB server (${bin}) is not installed: ${INSTALL_HINT}`);
  const dir = await Deno.makeTempDir({ prefix: "spate-influxd-" });
  const port = freePort();
  const rpcPort = freePort();
  const config = `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${port}"
  log-enabled = false
${
    opts.tls
      ? `  https-enabled = true
  https-certificate = "${opts.tls.certFile}"
  https-private-key = "${opts.tls.keyFile}"`
      : ""
  }
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
`;
  await Deno.writeTextFile(`${dir}/influxdb.conf`, config);
  const log = `${dir}/influxd.log`;
  const child = spawnLogged([bin, "-config", `${dir}/influxdb.conf`], log);
  const server = managed(child, port, dir, "SIGTERM");
  const url = `${opts.tls ? "https" : "http"}://127.0.0.1:${port}`;
  // fetch can't trust a self-signed leaf certificate (rustls wants a CA), so https goes
  // through node:https without verification: the helper only needs to reach its own server.
  const query = async (q: string, db?: string): Promise<InfluxQueryResult> => {
    const body = new URLSearchParams({ q, ...(db ? { db } : {}) });
    if (!opts.tls) {
      return await (await fetch(`${url}/query`, { method: "POST", body })).json();
    }
    const res = await httpsPost(new URL(`${url}/query`), body.toString(), {
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      rejectUnauthorized: false,
      timeoutMs: 5000,
    });
    return JSON.parse(res.text);
  };
  try {
    await waitFor("influxd", async () => {
      try {
        return (await query("SHOW DATABASES")).results.length === 1;
      } catch {
        return false;
      }
    }, log);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { ...server, url, query };
}

/** A running PostgreSQL. */
export interface PostgresServer extends TestServer {
  /** `postgresql://postgres@127.0.0.1:<port>/<db>` */
  url(db: string): string;
  /** Runs SQL through `psql` and returns its unaligned, tuples-only output. */
  psql(db: string, sql: string): Promise<string>;
}

function postgresBinDir(): string | undefined {
  let best: { v: number; dir: string } | undefined;
  try {
    for (const e of Deno.readDirSync("/usr/lib/postgresql")) {
      const dir = `/usr/lib/postgresql/${e.name}/bin`;
      const v = Number(e.name);
      if (exists(`${dir}/initdb`) && exists(`${dir}/postgres`) && (!best || v > best.v)) {
        best = { v, dir };
      }
    }
  } catch { /* not installed */ }
  return best?.dir;
}

/**
 * Whether the TimescaleDB extension is installed for the newest PostgreSQL here. No Debian
 * package ships it: a developer who builds it (github.com/timescale/timescaledb, any release
 * supporting that PostgreSQL) and runs `make install` gets the hypertable tests too.
 */
export function timescaledbInstalled(): boolean {
  const bin = postgresBinDir();
  if (!bin) return false;
  const version = bin.split("/").at(-2);
  return exists(`/usr/share/postgresql/${version}/extension/timescaledb.control`);
}

/**
 * Starts a throw-away PostgreSQL cluster (initdb + postgres) with trust auth; `timescaledb`
 * preloads that extension (it refuses CREATE EXTENSION otherwise), with telemetry off.
 */
export async function startPostgres(
  opts: { timescaledb?: boolean } = {},
): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) {
    throw new Error(
      `PostgreSQL server (/usr/lib/postgresql/*/bin/postgres) is not installed: ${INSTALL_HINT}`,
    );
  }
  // initdb refuses to run as root: drop to the package's `postgres` user then.
  const asUser = Deno.uid() === 0 ? "postgres" : undefined;
  const dir = await Deno.makeTempDir({ prefix: "spate-postgres-" });
  if (asUser) {
    const out = await new Deno.Command("chown", { args: ["-R", `${asUser}:`, dir] }).output();
    if (!out.success) throw new Error(`chown ${dir} failed`);
  }
  const initLog = `${dir}/initdb.log`;
  const init = spawnLogged(
    [
      `${bin}/initdb`,
      "-D",
      `${dir}/data`,
      "-U",
      "postgres",
      "--auth=trust",
      "-E",
      "UTF8",
      "--no-sync",
    ],
    initLog,
    asUser,
  );
  if (!(await init.status).success) {
    const log = await Deno.readTextFile(initLog).catch(() => "");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw new Error(`initdb failed:\n${log}`);
  }
  const port = freePort();
  const log = `${dir}/postgres.log`;
  const child = spawnLogged(
    [
      `${bin}/postgres`,
      "-D",
      `${dir}/data`,
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
      ...(opts.timescaledb
        ? ["-c", "shared_preload_libraries=timescaledb", "-c", "timescaledb.telemetry_level=off"]
        : []),
    ],
    log,
    asUser,
  );
  // SIGINT = fast shutdown: disconnect clients, no waiting.
  const server = managed(child, port, dir, "SIGINT");
  const psql = async (db: string, sql: string) => {
    const out = await new Deno.Command(`${bin}/psql`, {
      args: ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", db, "-XAtq", "-c", sql],
      stdin: "null",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    if (!out.success) throw new Error(`psql failed: ${new TextDecoder().decode(out.stderr)}`);
    return text;
  };
  try {
    await waitFor("postgres", async () => {
      const out = await new Deno.Command(`${bin}/pg_isready`, {
        args: ["-h", "127.0.0.1", "-p", String(port), "-q"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).output();
      return out.success;
    }, log);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    ...server,
    url: (db) => `postgresql://postgres@127.0.0.1:${port}/${db}`,
    psql,
  };
}
