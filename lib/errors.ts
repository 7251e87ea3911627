/**
 * Errors as values: every error a user can cause carries a kind and the exit code from k6's
 * table (runner.md §7). The CLI prints `message` on one line and exits with `exitCode`; it never
 * prints a stack trace for a {@link SpateError}.
 *
 * @example
 * ```ts
 * throw new SpateError("invalid-config", "invalid duration \"10x\" for --duration");
 * ```
 * @module
 */

/** k6's exit codes (grafana/k6 errext/exitcodes). */
export const ExitCode = {
  Ok: 0,
  CloudTestRunFailed: 97,
  CloudFailedToGetProgress: 98,
  ThresholdsHaveFailed: 99,
  SetupTimeout: 100,
  TeardownTimeout: 101,
  GenericTimeout: 102,
  InvalidConfig: 104,
  ExternalAbort: 105,
  ScriptException: 107,
  ScriptAborted: 108,
  InternalError: 109,
  MarkedAsFailed: 110,
  Generic: 255,
} as const;
export type ExitCode = typeof ExitCode[keyof typeof ExitCode];

/** What went wrong, in the user's terms. Each kind maps to one default exit code. */
export type ErrorKind =
  | "usage" // bad CLI usage: unknown flag, missing argument
  | "invalid-config" // bad option value from any source
  | "script" // script syntax error, exception in init/setup/teardown
  | "script-abort" // exec.test.abort()
  | "setup-timeout"
  | "teardown-timeout"
  | "threshold" // thresholds crossed
  | "external-abort" // SIGINT/SIGTERM
  | "output" // an output could not be created, started or reached
  | "io" // a file could not be read or written
  | "internal";

const defaultExitCodes: Record<ErrorKind, ExitCode> = {
  "usage": ExitCode.Generic,
  "invalid-config": ExitCode.InvalidConfig,
  "script": ExitCode.ScriptException,
  "script-abort": ExitCode.ScriptAborted,
  "setup-timeout": ExitCode.SetupTimeout,
  "teardown-timeout": ExitCode.TeardownTimeout,
  "threshold": ExitCode.ThresholdsHaveFailed,
  "external-abort": ExitCode.ExternalAbort,
  "output": ExitCode.Generic,
  "io": ExitCode.Generic,
  "internal": ExitCode.InternalError,
};

/** An error the user can act on: one clear message, one exit code. */
export class SpateError extends Error {
  readonly kind: ErrorKind;
  readonly exitCode: ExitCode;
  constructor(
    kind: ErrorKind,
    message: string,
    options?: { exitCode?: ExitCode; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SpateError";
    this.kind = kind;
    this.exitCode = options?.exitCode ?? defaultExitCodes[kind];
  }
}

/** Shorthand for the most common user error: a bad option value. */
export function invalidConfig(message: string): SpateError {
  return new SpateError("invalid-config", message);
}

/** Renders any thrown value as one line (no stack), for logs and error messages. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
