/**
 * End-to-end harness: runs the real CLI (`deno run -A cli.ts ...`) in a child process against
 * the project's demo target on 127.0.0.1, and gives back exit code and output.
 * @module
 */
import { startDemoServer } from "../../scripts/demo_server.ts";

export const root = new URL("../../", import.meta.url).pathname;

/** What a CLI run produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCli}. */
export interface RunCliOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Send SIGINT after this many ms. */
  interruptAfterMs?: number;
  /** Kill the child after this many ms (a hung run fails the test instead of hanging it). */
  timeoutMs?: number;
}

/** Runs `cli.ts` with `args`. */
export async function runCli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}cli.ts`, ...args],
    cwd: opts.cwd ?? root,
    env: { NO_COLOR: "1", ...opts.env },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const timers: Array<ReturnType<typeof setTimeout>> = [];
  if (opts.interruptAfterMs !== undefined) {
    timers.push(setTimeout(() => child.kill("SIGINT"), opts.interruptAfterMs));
  }
  timers.push(setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000));
  const out = await child.output();
  for (const t of timers) clearTimeout(t);
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: unLogfmt(dec.decode(out.stderr)),
  };
}

/** Log lines are logfmt (`msg="..."` with JSON escapes); tests read the message text. */
function unLogfmt(text: string): string {
  return text.replace(/msg=("(?:[^"\\]|\\.)*")/g, (_m, quoted: string) => {
    try {
      return "msg=" + JSON.parse(quoted);
    } catch {
      return _m;
    }
  });
}

/** A temp folder with the given files; removed by `cleanup()`. */
export async function tempDir(files: Record<string, string> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "spate-e2e-" });
  for (const [name, text] of Object.entries(files)) {
    const path = `${dir}/${name}`;
    await Deno.mkdir(path.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.writeTextFile(path, text);
  }
  return {
    dir,
    path: (name: string) => `${dir}/${name}`,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Runs `fn` with the demo target started (its base URL without trailing slash). */
export async function withTarget<T>(fn: (base: string) => Promise<T>): Promise<T> {
  const server = await startDemoServer({ port: 0, hostname: "127.0.0.1" });
  try {
    return await fn(server.url.replace(/\/$/, ""));
  } finally {
    await server.close();
  }
}

/** What {@link runScript} gives back. */
export interface ScriptRun {
  r: CliResult;
  /** The demo target's base URL the script ran against (its `__ENV.TARGET`). */
  base: string;
  /** The summary export's `metrics`. */
  // deno-lint-ignore no-explicit-any
  metrics: Record<string, any>;
  /** The tags of each `Point` of `metric` in the JSON output (with `json: true`). */
  points(metric: string): Array<Record<string, string>>;
}

/**
 * Runs the script `s.js` of `t` against the demo target (`__ENV.TARGET`), with a summary
 * export and, with `json`, the JSON output; reads both back.
 */
export async function runScript(
  t: Awaited<ReturnType<typeof tempDir>>,
  opts: { json?: boolean; timeoutMs?: number } = {},
): Promise<ScriptRun> {
  const args = ["run", "--summary-export", t.path("e.json")];
  if (opts.json) args.push("--out", `json=${t.path("o.json")}`);
  args.push(t.path("s.js"));
  const [r, base] = await withTarget(async (base) =>
    [await runCli(args, { env: { TARGET: base }, timeoutMs: opts.timeoutMs }), base] as const
  );
  const exported = await Deno.readTextFile(t.path("e.json")).catch(() => "{}");
  const lines = opts.json
    ? (await Deno.readTextFile(t.path("o.json")).catch(() => "")).split("\n")
    : [];
  return {
    r,
    base,
    metrics: JSON.parse(exported).metrics ?? {},
    points: (metric) =>
      lines.filter((l) => l.includes(`"metric":"${metric}","type":"Point"`))
        .map((l) => JSON.parse(l).data.tags),
  };
}

/** Parses a CSV written by the csv output (no quoted commas in our test data). */
export function csvRows(text: string): Array<Record<string, string>> {
  const lines = text.trimEnd().split("\n");
  const header = lines[0].split(",");
  return lines.slice(1).map((line) => {
    const cells = line.split(",");
    return Object.fromEntries(header.map((h, i) => [h, cells[i]]));
  });
}

/** Asserts that the output has no JavaScript stack trace lines. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .*(\.ts|\.js|ext:)/m.test(text);
}
