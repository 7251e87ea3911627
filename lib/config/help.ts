/**
 * Help texts in k6's (cobra's) layout: description, Usage, Examples, Flags, Global Flags, with
 * flag columns aligned as pflag aligns them. Generated from the flag tables in flags.ts so help
 * and parser cannot drift apart.
 *
 * @example
 * ```ts
 * console.log(helpText("run"));
 * ```
 * @module
 */
import {
  archiveFlags,
  type FlagDef,
  globalFlags,
  helpFlag,
  inspectFlags,
  loginFlags,
  optionFlags,
  runConfigFlags,
  runtimeFlags,
  versionFlags,
} from "./flags.ts";

/** Which help page. */
export type HelpTopic =
  | "root"
  | "run"
  | "archive"
  | "inspect"
  | "version"
  | "login"
  | "cloud"
  | "cloud login";

const typeNames: Record<FlagDef["kind"], string> = {
  bool: "",
  optional: "string",
  int: "int",
  duration: "duration",
  string: "string",
  slice: "strings",
  array: "stringArray",
};

/** Renders a flag table like pflag's FlagUsages. */
export function flagUsages(defs: readonly FlagDef[]): string {
  const rows: [string, string][] = [];
  for (const d of defs) {
    if (d.hidden) continue;
    let left = d.short ? `  -${d.short}, --${d.long}` : `      --${d.long}`;
    const type = d.varName ?? typeNames[d.kind];
    if (type) left += ` ${type}`;
    if (d.kind === "optional") left += `[="${d.optionalDefault ?? ""}"]`;
    let right = d.help;
    if (d.defaultText) right += ` (default ${d.defaultText})`;
    rows.push([left, right]);
  }
  const width = Math.max(0, ...rows.map(([l]) => l.length));
  return rows.map(([l, r]) => `${l.padEnd(width)}   ${r}`).join("\n") + "\n";
}

function page(
  parts: {
    description: string;
    usage: string;
    examples?: string;
    flags?: readonly FlagDef[];
    commands?: string;
  },
): string {
  let out = `${parts.description}\n\nUsage:\n  ${parts.usage}\n`;
  if (parts.commands) out += `\nAvailable Commands:\n${parts.commands}`;
  if (parts.examples) out += `\nExamples:\n${parts.examples}`;
  if (parts.flags) out += `\nFlags:\n${flagUsages([...parts.flags, helpFlagFor(parts.usage)])}`;
  out += `\nGlobal Flags:\n${flagUsages(globalFlags)}`;
  return out;
}

function helpFlagFor(usage: string): FlagDef {
  const name = usage.split(" ").slice(1).filter((w) => !w.startsWith("[") && !w.startsWith("<"))
    .join(" ");
  return { ...helpFlag, help: `help for ${name || "spate"}` };
}

const runExamples = `  # Run a single VU, once.
  spate run script.js

  # Run a single VU, 10 times.
  spate run -i 10 script.js

  # Run 5 VUs, splitting 10 iterations between them.
  spate run -u 5 -i 10 script.js

  # Run 5 VUs for 10s.
  spate run -u 5 -d 10s script.js

  # Ramp VUs from 0 to 100 over 10s, stay there for 60s, then 10s down to 0.
  spate run -u 0 -s 10s:100 -s 60s:100 -s 10s:0 script.js

  # Write every metric sample to a JSON file.
  spate run -o json=results.json script.js
`;

/** The help page for `topic`. *
 * @example
 * ```ts
 * console.log(helpText("archive"));
 * ```
 */
export function helpText(topic: HelpTopic): string {
  switch (topic) {
    case "run":
      return page({
        description: "Start a test: run a k6 script and report its metrics.",
        usage: "spate run [flags] <script>",
        examples: runExamples,
        flags: [...optionFlags, ...runtimeFlags, ...runConfigFlags],
      });
    case "archive":
      return page({
        description: "Create an archive.\n\n" +
          "An archive is a fully self-contained test run, and can be executed identically elsewhere.",
        usage: "spate archive [flags] <script>",
        examples: `  # Archive a test run.
  spate archive -u 10 -d 10s -O myarchive.tar script.js

  # Run the resulting archive.
  spate run myarchive.tar
`,
        flags: [...optionFlags, ...runtimeFlags, ...archiveFlags],
      });
    case "inspect":
      return page({
        description: "Inspect a script or archive: print its options as JSON.",
        usage: "spate inspect [flags] <file>",
        flags: [...runtimeFlags, ...inspectFlags],
      });
    case "version":
      return page({
        description: "Show application version.",
        usage: "spate version [flags]",
        flags: versionFlags,
      });
    case "cloud login":
      return page({
        description: "Authenticate with Grafana Cloud. Required before running cloud tests.",
        usage: "spate cloud login [flags]",
        examples: `  # Store a token and set the stack
  $ spate cloud login -t <YOUR_TOKEN> --stack <YOUR_STACK_URL_OR_SLUG>

  # Display the stored token and stack info
  $ spate cloud login -s

  # Reset the stored token and stack info
  $ spate cloud login -r
`,
        flags: loginFlags,
      });
    case "cloud":
    case "login":
      return page({
        description: "Authenticate with a service (k6 v1 spelling: `login cloud`).",
        usage: topic === "cloud" ? "spate cloud [command]" : "spate login [service]",
        commands: topic === "cloud"
          ? "  login       Authenticate with Grafana Cloud\n"
          : "  cloud       Authenticate with Grafana Cloud\n",
      });
    case "root":
      return page({
        description: "spate: a load-testing tool that runs k6 scripts unchanged.",
        usage: "spate [command]",
        commands: `  archive     Create an archive
  cloud       Authenticate with Grafana Cloud (cloud login)
  help        Help about any command
  inspect     Inspect a script or archive
  run         Start a test
  version     Show application version
`,
        flags: [{ long: "version", kind: "bool", help: "version for spate" }],
      }) + `\nUse "spate [command] --help" for more information about a command.\n`;
  }
}
