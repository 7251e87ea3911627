/**
 * The flag tables of every sub-command (runner.md §1.2), one place for the parser and the help
 * texts. Names, short forms, kinds and defaults follow k6's pflag definitions; help wording is
 * ours.
 * @module
 */

/**
 * How a flag takes its value, mirroring the pflag types k6 uses:
 * - `bool`: no value (`--x`, `--x=false`); a following word is never consumed.
 * - `optional`: like pflag's NoOptDefVal: bare flag = `optionalDefault`, value only via `=`.
 * - `int`, `duration`, `string`: exactly one value (`--x v`, `--x=v`, `-xv`, `-x=v`).
 * - `slice`: repeatable and comma-split (pflag StringSlice).
 * - `array`: repeatable, never comma-split (pflag StringArray).
 */
export type FlagKind = "bool" | "optional" | "int" | "duration" | "string" | "slice" | "array";

/** One flag definition. */
export interface FlagDef {
  readonly long: string;
  readonly short?: string;
  readonly kind: FlagKind;
  /** Value placeholder in help (`int`, `duration`, `stage`, ...). */
  readonly varName?: string;
  readonly help: string;
  /** Default shown in help, as k6 shows it. */
  readonly defaultText?: string;
  /** Value used when an `optional` flag is given bare. */
  readonly optionalDefault?: string;
  /** Accepted but not listed in help (v1 aliases). */
  readonly hidden?: boolean;
}

/** Global flags, valid on every sub-command and before it (runner.md §1.2). */
export const globalFlags: readonly FlagDef[] = [
  {
    long: "config",
    short: "c",
    kind: "string",
    help: "JSON config file",
    defaultText: `"$XDG_CONFIG_HOME/spate/config.json"`,
  },
  {
    long: "log-output",
    kind: "string",
    help: "change the output for logs, possible values are 'stderr', 'stdout', 'none', " +
      "'file[=./path.fileformat]'",
    defaultText: `"stderr"`,
  },
  { long: "log-format", kind: "string", help: "log output format: 'text', 'json' or 'raw'" },
  { long: "no-color", kind: "bool", help: "disable colored output" },
  { long: "verbose", short: "v", kind: "bool", help: "enable verbose logging" },
  { long: "quiet", short: "q", kind: "bool", help: "disable progress updates" },
  {
    long: "address",
    short: "a",
    kind: "string",
    help: "address for the REST API server (not supported; accepted for compatibility)",
    hidden: true,
  },
  { long: "profiling-enabled", kind: "bool", help: "not supported", hidden: true },
  {
    long: "secret-source",
    kind: "array",
    help:
      "a secret source for k6/secrets: file=<path>, mock=<key>=<value>,... or url=urlTemplate=<url with {key}>,... (name=, default)",
  },
];

/** Option flags shared by `run` and `archive` (k6's optionFlagSet). */
export const optionFlags: readonly FlagDef[] = [
  { long: "vus", short: "u", kind: "int", help: "number of virtual users", defaultText: "1" },
  { long: "duration", short: "d", kind: "duration", help: "test duration limit" },
  {
    long: "iterations",
    short: "i",
    kind: "int",
    help: "script total iteration limit (among all VUs)",
  },
  {
    long: "stage",
    short: "s",
    kind: "slice",
    varName: "stage",
    help: "add a stage, as `[duration]:[target]`",
  },
  {
    long: "execution-segment",
    kind: "string",
    help: "limit execution to the specified segment, e.g. 10%, 1/3, 0.2:2/3",
  },
  { long: "execution-segment-sequence", kind: "string", help: "the execution segment sequence" },
  {
    long: "paused",
    short: "p",
    kind: "bool",
    help: "start the test in a paused state (not supported)",
    hidden: true,
  },
  { long: "no-setup", kind: "bool", help: "don't run setup()" },
  { long: "no-teardown", kind: "bool", help: "don't run teardown()" },
  { long: "max-redirects", kind: "int", help: "follow at most n redirects", defaultText: "10" },
  { long: "batch", kind: "int", help: "max parallel batch reqs", defaultText: "20" },
  {
    long: "batch-per-host",
    kind: "int",
    help: "max parallel batch reqs per host",
    defaultText: "6",
  },
  { long: "rps", kind: "int", help: "limit requests per second" },
  {
    long: "user-agent",
    kind: "string",
    help: "user agent for http requests",
    defaultText: `"Grafana k6/2.2.0"`,
  },
  {
    long: "http-debug",
    kind: "optional",
    optionalDefault: "headers",
    help: "log all HTTP requests and responses; bodies only with '--http-debug=full'",
  },
  {
    long: "insecure-skip-tls-verify",
    kind: "bool",
    help: "skip verification of TLS certificates",
  },
  { long: "no-connection-reuse", kind: "bool", help: "disable keep-alive connections" },
  {
    long: "no-vu-connection-reuse",
    kind: "bool",
    help: "don't reuse connections between iterations",
  },
  {
    long: "min-iteration-duration",
    kind: "duration",
    help: "minimum amount of time a single iteration takes",
  },
  {
    long: "throw",
    short: "w",
    kind: "bool",
    help: "throw warnings (like failed http requests) as errors",
  },
  {
    long: "blacklist-ip",
    kind: "slice",
    varName: "ip range",
    help: "blacklist an ip range (CIDR) from being called",
  },
  {
    long: "block-hostnames",
    kind: "slice",
    varName: "pattern",
    help: "block a case-insensitive hostname pattern, with optional leading wildcard",
  },
  {
    long: "summary-trend-stats",
    kind: "slice",
    varName: "stats",
    help: "define stats for trend metrics (response times), one or more as 'avg,p(95),...' " +
      "(default 'avg, min, med, max, p(90), p(95)')",
  },
  {
    long: "summary-time-unit",
    kind: "string",
    help: "define the time unit used to display the trend stats: 's', 'ms' or 'us'",
  },
  {
    long: "system-tags",
    kind: "slice",
    varName: "strings",
    help: 'only include these system tags in metrics (default "check, error, error_code, ' +
      "expected_response, group, method, name, proto, scenario, service, status, subproto, " +
      'tls_version, url")',
  },
  {
    long: "tag",
    kind: "array",
    varName: "tag",
    help: "add a tag to be applied to all samples, as `[name]=[value]`",
  },
  {
    long: "console-output",
    kind: "string",
    help: "redirects the console logging to the provided output file",
  },
  {
    long: "discard-response-bodies",
    kind: "bool",
    help: "read but don't process or save HTTP response bodies",
  },
  {
    long: "local-ips",
    kind: "string",
    help: "client IP ranges and/or CIDRs from which each VU will be making requests",
  },
  {
    long: "dns",
    kind: "string",
    help: "DNS resolver configuration: ttl ('inf', '0' or a duration), select ('first', " +
      "'random', 'roundRobin'), policy ('preferIPv4', 'preferIPv6', 'onlyIPv4', 'onlyIPv6', 'any')",
    defaultText: `"ttl=5m,select=random,policy=preferIPv4"`,
  },
];

/** Runtime flags of `run`, `archive` and `inspect` (k6's runtimeOptionFlagSet). */
export const runtimeFlags: readonly FlagDef[] = [
  {
    long: "include-system-env-vars",
    kind: "bool",
    help: "pass the real system environment variables to the runtime",
  },
  {
    long: "compatibility-mode",
    kind: "string",
    help: `JavaScript compatibility mode, "extended" or "base"`,
    defaultText: `"extended"`,
  },
  { long: "type", short: "t", kind: "string", help: `override test type, "js" or "archive"` },
  {
    long: "env",
    short: "e",
    kind: "array",
    varName: "VAR=value",
    help: "add/override environment variable with VAR=value",
  },
  { long: "no-thresholds", kind: "bool", help: "don't run thresholds" },
  {
    long: "summary-mode",
    kind: "string",
    help: `determine the summary mode, "compact", "full" or "disabled"`,
    defaultText: `"compact"`,
  },
  { long: "no-summary", kind: "bool", help: "alias of --summary-mode=disabled", hidden: true },
  {
    long: "summary-export",
    kind: "string",
    help: "output the end-of-test summary report to JSON file",
  },
  {
    long: "new-machine-readable-summary",
    kind: "bool",
    help: "enables the new machine-readable summary (not supported)",
    hidden: true,
  },
  {
    long: "traces-output",
    kind: "string",
    help: "set the output for traces, possible values are none,otel[=host:port]",
    defaultText: `"none"`,
    hidden: true,
  },
];

/** Config flags of `run` only (k6's configFlagSet). */
export const runConfigFlags: readonly FlagDef[] = [
  {
    long: "out",
    short: "o",
    kind: "array",
    varName: "uri",
    help: "uri for an external metrics database",
  },
  {
    long: "linger",
    short: "l",
    kind: "bool",
    help: "wait for Ctrl+C after the test ends before printing the summary",
  },
  {
    long: "no-usage-report",
    kind: "bool",
    help: "accepted for compatibility; spate never reports",
  },
  { long: "features", kind: "array", help: "enable feature flags (comma-separated)" },
];

/** Flags of `archive` beyond option and runtime flags. */
export const archiveFlags: readonly FlagDef[] = [
  {
    long: "archive-out",
    short: "O",
    kind: "string",
    help: "archive output filename; '-' writes the archive to stdout",
    defaultText: `"archive.tar"`,
  },
  {
    long: "exclude-env-vars",
    kind: "bool",
    help: "do not embed any environment variables in the archive metadata",
  },
];

/** Flags of `inspect` beyond runtime flags. */
export const inspectFlags: readonly FlagDef[] = [
  {
    long: "execution-requirements",
    kind: "bool",
    help: "include calculations of execution requirements for the test",
  },
];

/** Flags of `cloud login` / `login cloud`. */
export const loginFlags: readonly FlagDef[] = [
  { long: "token", short: "t", kind: "string", varName: "token", help: "specify token to use" },
  {
    long: "show",
    short: "s",
    kind: "bool",
    help: "display saved token, stack info and exit",
  },
  { long: "reset", short: "r", kind: "bool", help: "reset stored token and stack info" },
  {
    long: "stack",
    kind: "string",
    help: "specify the stack (URL or slug) where commands will run by default",
  },
];

/** Flags of `version`. */
export const versionFlags: readonly FlagDef[] = [
  { long: "json", kind: "bool", help: "output version information in JSON format" },
];

/** The help flag, accepted by every command. */
export const helpFlag: FlagDef = { long: "help", short: "h", kind: "bool", help: "help" };
