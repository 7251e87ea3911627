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
  args: ["run", "-A", `${root}cli.ts`, "run", ...Deno.args, `${root}examples/quickstart.js`],
  env: { TARGET: server.url.replace(/\/$/, "") },
  stdin: "inherit",
  stdout: "inherit",
  stderr: "inherit",
}).spawn();
const status = await child.status;
await server.close();
Deno.exit(status.code);
