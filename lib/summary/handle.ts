/**
 * What to write after `handleSummary(data)` returned (runner.md §3.6). The integrator runs the
 * script's function (awaiting a promise, catching its exceptions) and passes the result here;
 * this decides the destinations with k6's rules and error texts, and the integrator writes them
 * (`stdout`, `stderr`, or a file path created/truncated with mode 0666).
 *
 * @example
 * ```ts
 * const writes = applyHandleSummaryResult(result, {
 *   defaultText: () => renderTextSummary(data, { mode: "compact", color: false }),
 *   summaryExport: config.summaryExport ? { path: config.summaryExport, data } : undefined,
 * });
 * ```
 * @module
 */
import type { SummaryData } from "./data.ts";
import { toSummaryExport } from "./export.ts";

/** One destination and its content. */
export interface SummaryWrite {
  /** `stdout`, `stderr` or a file path relative to the working directory. */
  readonly dest: "stdout" | "stderr" | string;
  readonly content: string | Uint8Array;
}

/** Options of {@link applyHandleSummaryResult}. */
export interface HandleSummaryOptions {
  /** `--summary-export`: its path and the data to export (added as one more destination). */
  readonly summaryExport?: { readonly path: string; readonly data: SummaryData };
  /** The default text summary (without the surrounding newlines). */
  readonly defaultText: () => string;
}

/** Go's %T for a value a script returned, as k6's error text shows it. */
function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  switch (typeof v) {
    case "number":
      return Number.isInteger(v) ? "int64" : "float64";
    case "boolean":
      return "bool";
    case "bigint":
      return "*big.Int";
    case "function":
      return "func(sobek.FunctionCall) sobek.Value";
    case "object":
      return Array.isArray(v) ? "[]interface {}" : "map[string]interface {}";
    default:
      return "string";
  }
}

/**
 * Turns `handleSummary`'s return value into writes. `undefined`/`null` → the default summary on
 * stdout. An object → one write per key (no default summary unless it has `stdout`). Anything
 * else, or a value that is neither a string nor an ArrayBuffer (or Uint8Array), throws an Error
 * with k6's text; the caller logs it (and falls back to the default summary, as k6 does when
 * the function itself throws).
 */
export function applyHandleSummaryResult(
  result: unknown,
  opts: HandleSummaryOptions,
): SummaryWrite[] {
  const writes: SummaryWrite[] = [];
  if (result === undefined || result === null) {
    writes.push({ dest: "stdout", content: "\n" + opts.defaultText() + "\n\n" });
  } else {
    if (
      typeof result !== "object" || Array.isArray(result) || result instanceof ArrayBuffer ||
      ArrayBuffer.isView(result)
    ) {
      throw new Error("handleSummary() should return a map with string keys");
    }
    for (const [dest, value] of Object.entries(result as Record<string, unknown>)) {
      if (typeof value === "string") {
        writes.push({ dest, content: value });
      } else if (value instanceof ArrayBuffer) {
        writes.push({ dest, content: new Uint8Array(value.slice(0)) });
      } else if (value instanceof Uint8Array) {
        writes.push({ dest, content: value });
      } else {
        throw new Error(
          `error handling summary object ${dest}: invalid type ${
            goTypeName(value)
          }, it needs to be a string or ArrayBuffer`,
        );
      }
    }
  }
  if (opts.summaryExport && opts.summaryExport.path !== "") {
    const content = JSON.stringify(toSummaryExport(opts.summaryExport.data), null, 4);
    const at = writes.findIndex((w) => w.dest === opts.summaryExport!.path);
    const w = { dest: opts.summaryExport.path, content };
    if (at >= 0) writes[at] = w; // the export replaces a same-named key, as in k6
    else writes.push(w);
  }
  return writes;
}
