/**
 * `deno task test`: the one test command (README, .ci/run). Installs the real servers the
 * output tests run against when they are missing (Debian packages, via scripts/ci/*.sh), runs
 * the whole suite, and ends with the line `N passed, N failed`.
 * @module
 */

const root = new URL("..", import.meta.url).pathname;

async function run(cmd: string, args: string[], opts: { capture?: boolean } = {}) {
  const child = new Deno.Command(cmd, {
    args,
    cwd: root,
    stdout: opts.capture ? "piped" : "inherit",
    stderr: opts.capture ? "piped" : "inherit",
  }).spawn();
  return await child.output();
}

// 1. Real servers (PostgreSQL, InfluxDB 1.x, Prometheus) for the output tests.
for await (const entry of Deno.readDir(`${root}scripts/ci`)) {
  if (!entry.name.startsWith("install_") || !entry.name.endsWith(".sh")) continue;
  const r = await run("sh", [`scripts/ci/${entry.name}`]);
  if (!r.success) {
    console.error(`warning: scripts/ci/${entry.name} failed; tests that need it will fail`);
  }
}

// 2. The suite. Output is streamed and also kept to count results.
const args = ["test", "-A", "--parallel", ...Deno.args, "tests/"];
const child = new Deno.Command(Deno.execPath(), {
  args,
  cwd: root,
  stdout: "piped",
  stderr: "inherit",
  env: { NO_COLOR: "1", DENO_JOBS: "2" },
}).spawn();
let tail = "";
const decoder = new TextDecoder();
for await (const chunk of child.stdout) {
  await Deno.stdout.write(chunk);
  tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4000);
}
const status = await child.status;
const m = /(?:ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed/.exec(tail);
const passed = m ? Number(m[1]) : 0;
const failed = m ? Number(m[3]) : (status.success ? 0 : 1);
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(status.code);
