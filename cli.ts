/**
 * The spate command line: `deno run -A cli.ts run script.js`. Thin by design: all logic
 * lives in lib/cmd/.
 * @module
 */
import { main } from "./lib/cmd/main.ts";
import { startHostWorker } from "./lib/vu/host_worker.ts";

// A `deno bundle` file is also its own VU host Worker entry (see lib/vu/host.ts).
const inWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !==
  "undefined";
if (inWorker) {
  startHostWorker();
} else if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
