/**
 * Command dispatch and the one place user errors become output: a {@link SpateError} is
 * printed as one log line and its exit code returned; anything else is an internal error
 * (exit 109), with the stack only under --verbose.
 *
 * @example
 * ```ts
 * Deno.exit(await main(["run", "script.js"]));
 * ```
 * @module
 */
import { parseCommandLine } from "../config/cli.ts";
import { errorMessage, ExitCode, SpateError } from "../errors.ts";
import { Logger } from "../log.ts";
import { k6Compat, version } from "../version.ts";
import { runTest } from "./run.ts";

const encoder = new TextEncoder();

/** Runs the CLI with `argv` (without the program name) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const verbose = argv.includes("-v") || argv.includes("--verbose");
  const logger = new Logger({ color: Deno.stderr.isTerminal() });
  try {
    const cmd = parseCommandLine(argv);
    switch (cmd.command) {
      case "help":
        Deno.stdout.writeSync(encoder.encode(cmd.text.endsWith("\n") ? cmd.text : cmd.text + "\n"));
        return 0;
      case "version":
        Deno.stdout.writeSync(
          encoder.encode(
            `spate v${version} (k6-compatible: k6 v${k6Compat}; deno ${Deno.version.deno}, ` +
              `${Deno.build.os}/${Deno.build.arch})\n`,
          ),
        );
        return 0;
      case "run":
        return await runTest({ script: cmd.script, flags: cmd.flags });
      case "archive": {
        const { archiveCommand } = await import("./archive.ts");
        return await archiveCommand(cmd);
      }
      case "inspect": {
        const { inspectCommand } = await import("./inspect.ts");
        return await inspectCommand(cmd);
      }
      case "login": {
        const { loginCommand } = await import("./login_cmd.ts");
        return await loginCommand(cmd);
      }
    }
    return ExitCode.Generic;
  } catch (err) {
    if (err instanceof SpateError) {
      logger.error(err.message);
      return err.exitCode;
    }
    logger.error(`internal error: ${errorMessage(err)}`);
    if (verbose && err instanceof Error && err.stack) {
      Deno.stderr.writeSync(encoder.encode(err.stack + "\n"));
    }
    return ExitCode.InternalError;
  }
}
