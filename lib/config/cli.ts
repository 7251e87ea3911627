/**
 * The command line: `spate run|archive|inspect|version|help|cloud login|login cloud`, with k6's
 * flags (runner.md §1). Parsing records only the flags that were given explicitly, because a
 * flag that was not given must never override a lower configuration layer (runner.md §2.1).
 *
 * @example
 * ```ts
 * const cmd = parseCommandLine(["run", "-u", "10", "-d", "30s", "script.js"]);
 * // { command: "run", script: "script.js", flags: { vus: 10, duration: 30000 } }
 * ```
 * @module
 */
import { SpateError } from "../errors.ts";
import {
  goBoolError,
  goDurationError,
  goIntError,
  isCIDR,
  parseDNSText,
  parseFlagDuration,
  parseGoBool,
  parseGoInt,
  parseGoIntBase0,
  splitCommaList,
  trendStatProblem,
} from "./_parse.ts";
import { flagDisplayName, type FlagOccurrence, tokenize } from "./_tokenize.ts";
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
import { helpText, type HelpTopic } from "./help.ts";
import type { DNSSettings, StageInput } from "./schema.ts";

/**
 * Flags given explicitly on the command line, already type-checked. Durations are ms.
 * A key is present only when its flag was given.
 */
export interface CliFlags {
  // Options (runner.md §1.2 table; same keys as script options where one exists).
  vus?: number;
  duration?: number;
  iterations?: number;
  stages?: StageInput[];
  executionSegment?: string;
  executionSegmentSequence?: string;
  paused?: boolean;
  noSetup?: boolean;
  noTeardown?: boolean;
  maxRedirects?: number;
  batch?: number;
  batchPerHost?: number;
  rps?: number;
  userAgent?: string;
  httpDebug?: string;
  insecureSkipTLSVerify?: boolean;
  noConnectionReuse?: boolean;
  noVUConnectionReuse?: boolean;
  minIterationDuration?: number;
  throw?: boolean;
  blacklistIPs?: string[];
  blockHostnames?: string[];
  summaryTrendStats?: string[];
  summaryTimeUnit?: "s" | "ms" | "us";
  /** Names as given; unknown names are dropped during consolidation. */
  systemTags?: string[];
  tags?: Record<string, string>;
  consoleOutput?: string;
  discardResponseBodies?: boolean;
  localIPs?: string;
  dns?: DNSSettings;
  // Config flags of `run`.
  out?: string[];
  linger?: boolean;
  noUsageReport?: boolean;
  features?: string[];
  // Runtime flags.
  includeSystemEnvVars?: boolean;
  compatibilityMode?: "extended" | "base";
  type?: "js" | "archive";
  /** `-e NAME=value` in order; names already validated. */
  env?: Record<string, string>;
  noThresholds?: boolean;
  /** `--summary-mode`, or "disabled" from the v1 alias `--no-summary`. */
  summaryMode?: "compact" | "full" | "disabled";
  summaryExport?: string;
  newMachineReadableSummary?: boolean;
  tracesOutput?: string;
  // Global flags.
  config?: string;
  logOutput?: string;
  logFormat?: string;
  noColor?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  address?: string;
  profilingEnabled?: boolean;
  secretSource?: string[];
  // archive / inspect / version.
  excludeEnvVars?: boolean;
  executionRequirements?: boolean;
  json?: boolean;
}

/** What the user asked for. */
export type Command =
  | { command: "run"; script: string; flags: CliFlags }
  | { command: "archive"; script: string; flags: CliFlags; output: string }
  | { command: "inspect"; script: string; flags: CliFlags }
  | { command: "version"; flags: CliFlags }
  | { command: "help"; text: string }
  | {
    command: "login";
    service: "cloud";
    token?: string;
    /** `--stack` (k6 v2 `cloud login`): URL or slug. */
    stack?: string;
    show: boolean;
    reset: boolean;
    flags: CliFlags;
  };

function usage(message: string): SpateError {
  return new SpateError("usage", message);
}

const scriptArgMsg =
  `arg should either be "-", if reading script from stdin, or a path to a script file`;

const userEnvVarName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Parses `argv` (without the program name). Throws {@link SpateError} kind "usage" (exit 255)
 * for bad usage, with pflag's message (e.g. `invalid argument "abc" for "-u, --vus" flag: ...`).
 *
 * @example
 * ```ts
 * const cmd = parseCommandLine(Deno.args);
 * if (cmd.command === "help") console.log(cmd.text);
 * ```
 */
export function parseCommandLine(argv: readonly string[]): Command {
  const rootDefs = [...globalFlags, helpFlag, {
    long: "version",
    kind: "bool",
    help: "version for spate",
  } as FlagDef];
  const pre = tokenizeOrHelp(argv, rootDefs, "root", true);
  if ("command" in pre) return pre;
  const preFlags = pre.flags.filter((f) => f.def.long !== "help" && f.def.long !== "version");
  if (pre.flags.some((f) => f.def.long === "help" && f.value !== "false")) {
    // `spate -h run` asks for run's help, as cobra resolves the sub-command first.
    return help(helpTopicFor(pre.rest.filter((a) => !a.startsWith("-")).slice(0, 2).join(" ")));
  }
  if (pre.flags.some((f) => f.def.long === "version" && parseGoBool(f.value))) {
    return { command: "version", flags: buildFlags(preFlags) };
  }
  const [word, ...rest] = pre.rest;
  switch (word) {
    case undefined:
      return help("root");
    case "run":
    case "archive":
    case "inspect":
      return parseScriptCommand(word, preFlags, rest);
    case "version": {
      const t = tokenizeOrHelp(rest, [...globalFlags, ...versionFlags, helpFlag], "version");
      if ("command" in t) return t;
      return { command: "version", flags: buildFlags([...preFlags, ...t.flags]) };
    }
    case "help": {
      const topic = rest.filter((a) => !a.startsWith("-")).join(" ");
      return help(helpTopicFor(topic));
    }
    case "login":
      if (rest[0] !== "cloud") return help("login");
      return parseLogin(preFlags, rest.slice(1), "login cloud");
    case "cloud":
      if (rest[0] !== "login") {
        if (rest.length === 0 || rest[0] === "-h" || rest[0] === "--help") return help("cloud");
        throw usage(
          `unknown command "${rest[0]}" for "spate cloud" (only "cloud login" is supported)`,
        );
      }
      return parseLogin(preFlags, rest.slice(1), "cloud login");
    default:
      throw usage(`unknown command "${word}" for "spate"`);
  }
}

function helpTopicFor(topic: string): HelpTopic {
  switch (topic) {
    case "run":
    case "archive":
    case "inspect":
    case "version":
    case "login":
    case "cloud":
      return topic;
    case "login cloud":
    case "cloud login":
      return "cloud login";
    default:
      if (topic.includes(" ")) return helpTopicFor(topic.split(" ")[0]);
      return "root";
  }
}

function help(topic: HelpTopic): Command {
  return { command: "help", text: helpText(topic) };
}

/**
 * Tokenizes, but turns any usage error into the help text when `-h`/`--help` is present (as
 * cobra does for a help request with otherwise bad flags).
 */
function tokenizeOrHelp(
  args: readonly string[],
  defs: readonly FlagDef[],
  topic: HelpTopic,
  stopAtPositional = false,
): ReturnType<typeof tokenize> | Command {
  try {
    const t = tokenize(args, defs, { stopAtPositional });
    if (!stopAtPositional && t.flags.some((f) => f.def.long === "help" && f.value !== "false")) {
      return help(topic);
    }
    return t;
  } catch (err) {
    const end = args.indexOf("--");
    const head = end < 0 ? args : args.slice(0, end);
    if (head.includes("-h") || head.includes("--help")) return help(topic);
    throw err;
  }
}

function parseScriptCommand(
  word: "run" | "archive" | "inspect",
  preFlags: FlagOccurrence[],
  args: readonly string[],
): Command {
  const defs: FlagDef[] = [...globalFlags, helpFlag];
  if (word === "run") defs.push(...optionFlags, ...runtimeFlags, ...runConfigFlags);
  if (word === "archive") defs.push(...optionFlags, ...runtimeFlags, ...archiveFlags);
  if (word === "inspect") defs.push(...runtimeFlags, ...inspectFlags);
  const t = tokenizeOrHelp(args, defs, word);
  if ("command" in t) return t;
  if (t.positionals.length !== 1) {
    throw usage(
      `accepts 1 arg(s), received ${t.positionals.length}` +
        (word === "run" ? `: ${scriptArgMsg}` : ""),
    );
  }
  const occurrences = [...preFlags, ...t.flags];
  const flags = buildFlags(occurrences);
  const script = t.positionals[0];
  if (word === "archive") {
    const out = occurrences.filter((f) => f.def.long === "archive-out").at(-1)?.value;
    return { command: "archive", script, flags, output: out ?? "archive.tar" };
  }
  return { command: word, script, flags };
}

function parseLogin(
  preFlags: FlagOccurrence[],
  args: readonly string[],
  form: "login cloud" | "cloud login",
): Command {
  const t = tokenizeOrHelp(args, [...globalFlags, ...loginFlags, helpFlag], "cloud login");
  if ("command" in t) return t;
  if (t.positionals.length > 0) {
    throw usage(`unknown command "${t.positionals[0]}" for "spate ${form}"`);
  }
  let token: string | undefined;
  let stack: string | undefined;
  let show = false;
  let reset = false;
  const global: FlagOccurrence[] = [...preFlags];
  for (const f of t.flags) {
    switch (f.def.long) {
      case "token":
        token = f.value;
        break;
      case "stack":
        stack = f.value;
        break;
      case "show":
        show = boolValue(f);
        break;
      case "reset":
        reset = boolValue(f);
        break;
      default:
        global.push(f);
    }
  }
  const cmd: Extract<Command, { command: "login" }> = {
    command: "login",
    service: "cloud",
    show,
    reset,
    flags: buildFlags(global),
  };
  if (token !== undefined) cmd.token = token;
  if (stack !== undefined) cmd.stack = stack;
  return cmd;
}

function invalidArg(f: FlagOccurrence, detail: string): SpateError {
  return usage(
    `invalid argument ${JSON.stringify(f.value)} for "${flagDisplayName(f.def)}" flag: ${detail}`,
  );
}

function boolValue(f: FlagOccurrence): boolean {
  const b = parseGoBool(f.value);
  if (b === undefined) throw invalidArg(f, goBoolError(f.value));
  return b;
}

function intValue(f: FlagOccurrence): number {
  const n = parseGoIntBase0(f.value);
  if (n === undefined) throw invalidArg(f, goIntError(f.value));
  return n;
}

function durationValue(f: FlagOccurrence): number {
  const ms = parseFlagDuration(f.value);
  if (ms === undefined) throw invalidArg(f, goDurationError(f.value));
  return ms;
}

/** Parses one `-s` entry like k6's Stage text form: `[duration]:[target]`. */
function parseStage(text: string, index: number): StageInput {
  const colon = text.indexOf(":");
  const durText = colon < 0 ? text : text.slice(0, colon);
  const targetText = colon < 0 ? "" : text.slice(colon + 1);
  const stage: StageInput = {};
  if (durText !== "") {
    const ms = parseFlagDuration(durText);
    if (ms === undefined) throw usage(`error for stage ${index}: ${goDurationError(durText)}`);
    stage.duration = ms;
  }
  if (targetText !== "") {
    const n = parseGoInt(targetText);
    if (n === undefined) throw usage(`error for stage ${index}: ${goIntError(targetText)}`);
    stage.target = n;
  }
  if (stage.duration === undefined) {
    throw usage(`stage ${index} doesn't have a specified duration`);
  }
  return stage;
}

/** Parses `--tag name=value`; empty string, empty name or empty value are errors (k6). */
function parseTag(text: string): [string, string] {
  const fail = (why: string) => usage(`error parsing tag '${text}': invalid tag, ${why}`);
  if (text === "") throw fail("empty string");
  const eq = text.indexOf("=");
  if (eq === 0) throw fail("empty name");
  if (eq < 0 || eq === text.length - 1) throw fail("empty value");
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/** Turns flag occurrences into {@link CliFlags}, validating values as k6's getOptions does. */
function buildFlags(occurrences: readonly FlagOccurrence[]): CliFlags {
  const flags: CliFlags = {};
  // Slices: the first occurrence replaces the default, later ones append (pflag).
  const appendList = (key: keyof CliFlags, items: string[]) => {
    const current = flags[key] as string[] | undefined;
    (flags as Record<string, unknown>)[key] = current ? [...current, ...items] : items;
  };
  for (const f of occurrences) {
    switch (f.def.long) {
      case "vus":
        flags.vus = intValue(f);
        break;
      case "duration":
        flags.duration = durationValue(f);
        break;
      case "iterations":
        flags.iterations = intValue(f);
        break;
      case "stage": {
        const base = flags.stages?.length ?? 0;
        const stages = splitCommaList(f.value).map((s, i) => parseStage(s, base + i));
        flags.stages = [...(flags.stages ?? []), ...stages];
        break;
      }
      case "execution-segment":
        flags.executionSegment = f.value;
        break;
      case "execution-segment-sequence":
        flags.executionSegmentSequence = f.value;
        break;
      case "paused":
        flags.paused = boolValue(f);
        break;
      case "no-setup":
        flags.noSetup = boolValue(f);
        break;
      case "no-teardown":
        flags.noTeardown = boolValue(f);
        break;
      case "max-redirects":
        flags.maxRedirects = intValue(f);
        break;
      case "batch":
        flags.batch = intValue(f);
        break;
      case "batch-per-host":
        flags.batchPerHost = intValue(f);
        break;
      case "rps":
        flags.rps = intValue(f);
        break;
      case "user-agent":
        flags.userAgent = f.value;
        break;
      case "http-debug":
        flags.httpDebug = f.value;
        break;
      case "insecure-skip-tls-verify":
        flags.insecureSkipTLSVerify = boolValue(f);
        break;
      case "no-connection-reuse":
        flags.noConnectionReuse = boolValue(f);
        break;
      case "no-vu-connection-reuse":
        flags.noVUConnectionReuse = boolValue(f);
        break;
      case "min-iteration-duration":
        flags.minIterationDuration = durationValue(f);
        break;
      case "throw":
        flags.throw = boolValue(f);
        break;
      case "blacklist-ip": {
        const items = splitCommaList(f.value);
        for (const ip of items) {
          if (!isCIDR(ip)) {
            throw usage(`error parsing blacklist-ip '${ip}': invalid CIDR address: ${ip}`);
          }
        }
        appendList("blacklistIPs", items);
        break;
      }
      case "block-hostnames":
        appendList("blockHostnames", splitCommaList(f.value));
        break;
      case "summary-trend-stats": {
        const items = splitCommaList(f.value);
        for (const s of items) {
          const problem = trendStatProblem(s);
          if (problem) throw usage(problem);
        }
        appendList("summaryTrendStats", items);
        break;
      }
      case "summary-time-unit":
        if (f.value === "") break; // k6 treats an empty unit as unset
        if (f.value !== "s" && f.value !== "ms" && f.value !== "us") {
          throw usage(`invalid summary time unit '${f.value}', use 's', 'ms' or 'us'`);
        }
        flags.summaryTimeUnit = f.value;
        break;
      case "system-tags":
        appendList("systemTags", splitCommaList(f.value));
        break;
      case "tag": {
        const [name, value] = parseTag(f.value);
        flags.tags = { ...(flags.tags ?? {}), [name]: value };
        break;
      }
      case "console-output":
        if (f.value !== "") flags.consoleOutput = f.value;
        break;
      case "discard-response-bodies":
        flags.discardResponseBodies = boolValue(f);
        break;
      case "local-ips":
        flags.localIPs = f.value;
        break;
      case "dns": {
        const dns = parseDNSText(f.value);
        if (typeof dns === "string") throw usage(dns);
        flags.dns = dns;
        break;
      }
      case "out":
        appendList("out", [f.value]);
        break;
      case "linger":
        flags.linger = boolValue(f);
        break;
      case "no-usage-report":
        flags.noUsageReport = boolValue(f);
        break;
      case "features":
        appendList("features", splitCommaList(f.value).map((s) => s.trim()).filter(Boolean));
        break;
      case "include-system-env-vars":
        flags.includeSystemEnvVars = boolValue(f);
        break;
      case "compatibility-mode":
        if (f.value !== "extended" && f.value !== "base") {
          throw usage(
            `invalid compatibility mode "${f.value}". Use: "extended", "base"`,
          );
        }
        flags.compatibilityMode = f.value;
        break;
      case "type":
        if (f.value !== "js" && f.value !== "archive") {
          throw usage(`unknown test type '${f.value}', use "js" or "archive"`);
        }
        flags.type = f.value;
        break;
      case "env": {
        const eq = f.value.indexOf("=");
        const name = eq < 0 ? f.value : f.value.slice(0, eq);
        const value = eq < 0 ? "" : f.value.slice(eq + 1);
        if (!userEnvVarName.test(name)) {
          throw usage(`invalid environment variable name '${name}'`);
        }
        flags.env = { ...(flags.env ?? {}), [name]: value };
        break;
      }
      case "no-thresholds":
        flags.noThresholds = boolValue(f);
        break;
      case "summary-mode":
        if (f.value !== "compact" && f.value !== "full" && f.value !== "disabled") {
          throw usage(
            `invalid summary mode '${f.value}', use "compact", "full" or "disabled"`,
          );
        }
        flags.summaryMode = f.value;
        break;
      case "no-summary":
        // v1 alias (DECISIONS.md #1); an explicit --no-summary=false changes nothing.
        if (boolValue(f)) flags.summaryMode = "disabled";
        break;
      case "summary-export":
        flags.summaryExport = f.value;
        break;
      case "new-machine-readable-summary":
        flags.newMachineReadableSummary = boolValue(f);
        break;
      case "traces-output":
        flags.tracesOutput = f.value;
        break;
      case "config":
        flags.config = f.value;
        break;
      case "log-output":
        flags.logOutput = f.value;
        break;
      case "log-format":
        flags.logFormat = f.value;
        break;
      case "no-color":
        flags.noColor = boolValue(f);
        break;
      case "verbose":
        flags.verbose = boolValue(f);
        break;
      case "quiet":
        flags.quiet = boolValue(f);
        break;
      case "address":
        flags.address = f.value;
        break;
      case "profiling-enabled":
        flags.profilingEnabled = boolValue(f);
        break;
      case "secret-source":
        appendList("secretSource", [f.value]);
        break;
      case "exclude-env-vars":
        flags.excludeEnvVars = boolValue(f);
        break;
      case "execution-requirements":
        flags.executionRequirements = boolValue(f);
        break;
      case "json":
        flags.json = boolValue(f);
        break;
      case "archive-out":
        break; // returned as Command.output
    }
  }
  return flags;
}
