/**
 * `spate archive`: writes a k6-compatible archive (tar) of a script, its modules, the files it
 * opens and its consolidated options; `spate run archive.tar` (or `k6 run`) runs it.
 * @module
 */
import type { CliFlags } from "../config/cli.ts";
import { errorMessage, SpateError } from "../errors.ts";
import { writeArchive } from "../script/archive.ts";
import { k6Compat } from "../version.ts";
import { withoutShortcuts } from "../config/consolidate.ts";
import { processEnvironment, TestRun } from "./run.ts";

/** Runs `spate archive SCRIPT [-O out.tar]`; returns the exit code. */
export async function archiveCommand(
  cmd: { script: string; flags: CliFlags; output: string },
): Promise<number> {
  const env = processEnvironment();
  const run = new TestRun(cmd.script, { ...cmd.flags, quiet: true }, env);
  try {
    const { script, config, files, cliEnv } = await run.prepare();
    const all = new Map(script.modules);
    for (const [path, bytes] of files) all.set(path, bytes);
    const bytes = writeArchive({
      scriptPath: script.path,
      scriptSource: script.source,
      files: all,
      // The derived scenarios carry vus/duration/iterations/stages already.
      options: withoutShortcuts(config.options),
      env: cliEnv,
      k6Version: k6Compat,
    });
    try {
      await Deno.writeFile(cmd.output, bytes);
    } catch (err) {
      throw new SpateError("io", `can't write the archive to ${cmd.output}: ${errorMessage(err)}`);
    }
    return 0;
  } finally {
    await run.cleanup();
  }
}
