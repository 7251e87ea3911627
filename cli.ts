/**
 * The spate command line: `deno run -A cli.ts run script.js`. Thin by design: all logic
 * lives in lib/cmd/.
 * @module
 */
import { main } from "./lib/cmd/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
