/**
 * `deno task demo`: starts the project's own demo target on 127.0.0.1 and runs
 * examples/quickstart.js against it, with the live progress line and the summary.
 * Extra arguments go to `spate run` (e.g. `deno task demo --out csv=demo.csv`).
 * @module
 */
import { startDemoServer } from "./demo_server.ts";

const root = new URL("..", import.meta.url).pathname;
const server = await startDemoServer({ port: 0, hostname: "127.0.0.1" });
console.log(`demo target listening on ${server.url}`);
const child = new Deno.Command(Deno.execPath(), {
  // The same V8 setting `deno task compile` bakes into the executable (see scripts/bench.ts).
  args: [
    "run",
    "-A",
    "--v8-flags=--max-semi-space-size=4",
    `${root}cli.ts`,
    "run",
    ...Deno.args,
    `${root}examples/quickstart.js`,
  ],
  env: { TARGET: server.url.replace(/\/$/, "") },
  stdin: "inherit",
  stdout: "inherit",
  stderr: "inherit",
}).spawn();
const status = await child.status;
await server.close();
Deno.exit(status.code);
