/**
 * `spate inspect`: prints the script's consolidated options as JSON (k6's `inspect`).
 * @module
 */
import type { CliFlags } from "../config/cli.ts";
import { processEnvironment, TestRun } from "./run.ts";

/** Runs `spate inspect SCRIPT`; returns the exit code. */
export async function inspectCommand(cmd: { script: string; flags: CliFlags }): Promise<number> {
  const env = processEnvironment();
  const run = new TestRun(cmd.script, { ...cmd.flags, quiet: true }, env);
  try {
    const { config } = await run.prepare();
    await env.stdout(JSON.stringify(config.options, null, 2) + "\n");
    return 0;
  } finally {
    await run.cleanup();
  }
}
