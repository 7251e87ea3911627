/**
 * The start-of-run banner and execution description (runner.md §8.1), with spate's own logo.
 * @module
 */

const logo = [
  "   ___ _ __   __ _| |_ ___ ",
  "  / __| '_ \\ / _` | __/ _ \\",
  "  \\__ \\ |_) | (_| | ||  __/",
  "  |___/ .__/ \\__,_|\\__\\___|",
  "      |_|   k6-compatible   ",
];

/** Renders the banner block printed before the run (unless --quiet). */
export function banner(opts: {
  color: boolean;
  script: string;
  outputs: readonly string[];
  /** describeExecution() lines: the `scenarios:` line first, then one per scenario. */
  execution: readonly string[];
}): string {
  const paint = (s: string) => (opts.color ? `\x1b[36m${s}\x1b[0m` : s);
  const lines = ["", ...logo.map(paint), ""];
  lines.push(`     execution: local`);
  lines.push(`        script: ${opts.script}`);
  lines.push(`        output: ${opts.outputs.length ? opts.outputs.join(", ") : "-"}`);
  lines.push("");
  const [head, ...scenarios] = opts.execution;
  if (head) lines.push(`     ${head.trimStart()}`);
  for (const s of scenarios) lines.push(`              ${s.trimStart()}`);
  lines.push("");
  return lines.join("\n") + "\n";
}
