import { assert, assertEquals, assertStringIncludes, assertThrows } from "../_assert.ts";
import { type Command, parseCommandLine } from "../../lib/config/cli.ts";
import { SpateError } from "../../lib/errors.ts";

function run(...args: string[]) {
  const cmd = parseCommandLine(["run", ...args]);
  if (cmd.command !== "run") throw new Error(`expected run, got ${cmd.command}`);
  return cmd;
}

function usageError(args: string[], message: string, exitCode = 255): void {
  const err = assertThrows(() => parseCommandLine(args), SpateError);
  assertEquals(err.message, message);
  assertEquals(err.exitCode, exitCode);
}

Deno.test("run: script and no flags records nothing", () => {
  assertEquals(run("script.js"), { command: "run", script: "script.js", flags: {} });
  assertEquals(run("-").script, "-");
});

Deno.test("run: value flags in every spelling pflag accepts", () => {
  for (
    const args of [
      ["-u", "10"],
      ["-u10"],
      ["-u=10"],
      ["--vus", "10"],
      ["--vus=10"],
    ]
  ) {
    assertEquals(run(...args, "s.js").flags, { vus: 10 }, args.join(" "));
  }
  assertEquals(run("-u", "-1", "s.js").flags.vus, -1);
  // pflag reads ints with Go's base prefixes (strconv.ParseInt base 0).
  assertEquals(run("-u", "0x10", "s.js").flags.vus, 16);
  assertEquals(run("-u", "010", "s.js").flags.vus, 8);
  assertEquals(run("-u", "1_000", "s.js").flags.vus, 1000);
  assertEquals(run("s.js", "-d", "1m30s").flags, { duration: 90_000 });
  assertEquals(run("-i", "5", "s.js").flags, { iterations: 5 });
  assertEquals(run("--min-iteration-duration=500ms", "s.js").flags.minIterationDuration, 500);
  assertEquals(run("--user-agent", "", "s.js").flags.userAgent, "");
  assertEquals(run("--max-redirects", "3", "--batch=4", "--batch-per-host", "2", "x.js").flags, {
    maxRedirects: 3,
    batch: 4,
    batchPerHost: 2,
  });
});

Deno.test("run: bool flags, grouped shorthands and =false", () => {
  assertEquals(run("-q", "-v", "s.js").flags, { quiet: true, verbose: true });
  assertEquals(run("-qvw", "s.js").flags, { quiet: true, verbose: true, throw: true });
  assertEquals(run("--quiet=false", "s.js").flags, { quiet: false });
  assertEquals(run("-q=false", "s.js").flags, { quiet: false });
  assertEquals(run("--no-thresholds", "--linger", "s.js").flags, {
    noThresholds: true,
    linger: true,
  });
  // A bool flag never consumes the next word: "false" becomes a second positional.
  usageError(
    ["run", "--quiet", "false", "s.js"],
    'accepts 1 arg(s), received 2: arg should either be "-", if reading script from stdin, or a path to a script file',
  );
});

Deno.test("run: --http-debug bare means headers, value only after =", () => {
  assertEquals(run("--http-debug", "s.js").flags, { httpDebug: "headers" });
  assertEquals(run("--http-debug=full", "s.js").flags, { httpDebug: "full" });
  assertEquals(run("s.js", "--http-debug").flags, { httpDebug: "headers" });
});

Deno.test("run: repeatable flags", () => {
  const cmd = run(
    "-e",
    "A=1",
    "--env",
    "B=x=y",
    "-e",
    "C",
    "--tag",
    "team=core",
    "--tag",
    "env=a,b",
    "-o",
    "json=a.json",
    "--out",
    "csv=fileName=a.csv,saveInterval=2s",
    "-s",
    "10s:5,20s:10",
    "-s",
    "5s:0",
    "s.js",
  );
  assertEquals(cmd.flags.env, { A: "1", B: "x=y", C: "" });
  assertEquals(cmd.flags.tags, { team: "core", env: "a,b" });
  assertEquals(cmd.flags.out, ["json=a.json", "csv=fileName=a.csv,saveInterval=2s"]);
  assertEquals(cmd.flags.stages, [
    { duration: 10_000, target: 5 },
    { duration: 20_000, target: 10 },
    { duration: 5_000, target: 0 },
  ]);
  assertEquals(run("-s", "30s", "s.js").flags.stages, [{ duration: 30_000 }]);
  assertEquals(
    run("--system-tags", "status,method", "--system-tags=url", "s.js").flags.systemTags,
    ["status", "method", "url"],
  );
  assertEquals(
    run("--summary-trend-stats", "avg,p(99.9),count", "s.js").flags.summaryTrendStats,
    ["avg", "p(99.9)", "count"],
  );
});

Deno.test("run: --no-summary is an alias of --summary-mode=disabled", () => {
  assertEquals(run("--no-summary", "s.js").flags, { summaryMode: "disabled" });
  assertEquals(run("--summary-mode", "full", "s.js").flags, { summaryMode: "full" });
  assertEquals(run("--no-summary=false", "s.js").flags, {});
});

Deno.test("run: -- ends flag parsing; global flags before the command", () => {
  assertEquals(run("--", "-weird.js").script, "-weird.js");
  const cmd = parseCommandLine(["-q", "--config", "c.json", "run", "-u", "2", "s.js"]);
  assertEquals(cmd, {
    command: "run",
    script: "s.js",
    flags: { quiet: true, config: "c.json", vus: 2 },
  });
  assertEquals(parseCommandLine(["run", "-c", "x.json", "s.js"]).command, "run");
  assertEquals(
    (parseCommandLine(["run", "--log-output=none", "--log-format", "json", "s.js"]) as {
      flags: unknown;
    }).flags,
    { logOutput: "none", logFormat: "json" },
  );
});

Deno.test("bad usage: exact pflag/k6 messages, exit 255", () => {
  usageError(["run", "--foo", "s.js"], "unknown flag: --foo");
  usageError(["run", "-x", "s.js"], "unknown shorthand flag: 'x' in -x");
  usageError(["run", "-qx", "s.js"], "unknown shorthand flag: 'x' in -x");
  usageError(["run", "s.js", "--vus"], "flag needs an argument: --vus");
  usageError(["run", "s.js", "-u"], "flag needs an argument: 'u' in -u");
  usageError(
    ["run"],
    'accepts 1 arg(s), received 0: arg should either be "-", if reading script from stdin, or a path to a script file',
  );
  usageError(
    ["run", "a.js", "b.js"],
    'accepts 1 arg(s), received 2: arg should either be "-", if reading script from stdin, or a path to a script file',
  );
  usageError(
    ["run", "-u", "abc", "s.js"],
    'invalid argument "abc" for "-u, --vus" flag: strconv.ParseInt: parsing "abc": invalid syntax',
  );
  usageError(
    ["run", "-d", "10x", "s.js"],
    'invalid argument "10x" for "-d, --duration" flag: time: unknown unit "x" in duration "10x"',
  );
  usageError(
    ["run", "-d", "10", "s.js"],
    'invalid argument "10" for "-d, --duration" flag: time: missing unit in duration "10"',
  );
  usageError(
    ["run", "-d", "1d", "s.js"],
    'invalid argument "1d" for "-d, --duration" flag: time: unknown unit "d" in duration "1d"',
  );
  usageError(
    ["run", "--batch", "1.5", "s.js"],
    'invalid argument "1.5" for "--batch" flag: strconv.ParseInt: parsing "1.5": invalid syntax',
  );
  usageError(
    ["run", "--quiet=maybe", "s.js"],
    'invalid argument "maybe" for "-q, --quiet" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
  );
  usageError(["run", "---x", "s.js"], "bad flag syntax: ---x");
  usageError(["frobnicate"], 'unknown command "frobnicate" for "spate"');
});

Deno.test("bad values of structured flags: k6's messages, exit 255", () => {
  usageError(["run", "-e", "1A=x", "s.js"], "invalid environment variable name '1A'");
  usageError(["run", "-e", "=x", "s.js"], "invalid environment variable name ''");
  usageError(["run", "--tag", "", "s.js"], "error parsing tag '': invalid tag, empty string");
  usageError(["run", "--tag", "=v", "s.js"], "error parsing tag '=v': invalid tag, empty name");
  usageError(["run", "--tag", "n=", "s.js"], "error parsing tag 'n=': invalid tag, empty value");
  usageError(["run", "--tag", "n", "s.js"], "error parsing tag 'n': invalid tag, empty value");
  usageError(["run", "-s", ":10", "s.js"], "stage 0 doesn't have a specified duration");
  usageError(
    ["run", "-s", "10s:5,abc:1", "s.js"],
    'error for stage 1: time: invalid duration "abc"',
  );
  usageError(
    ["run", "-s", "10s:x", "s.js"],
    'error for stage 0: strconv.ParseInt: parsing "x": invalid syntax',
  );
  usageError(
    ["run", "--summary-trend-stats", "avg,p(101)", "s.js"],
    "invalid percentile trend stat value 'p(101)', provide a number between 0 and 100",
  );
  usageError(
    ["run", "--summary-trend-stats", "mean", "s.js"],
    "invalid trend stat 'mean', unknown format",
  );
  usageError(
    ["run", "--summary-time-unit", "h", "s.js"],
    "invalid summary time unit 'h', use 's', 'ms' or 'us'",
  );
  usageError(
    ["run", "--summary-mode", "legacy", "s.js"],
    `invalid summary mode 'legacy', use "compact", "full" or "disabled"`,
  );
  usageError(
    ["run", "--blacklist-ip", "10.0.0.1", "s.js"],
    "error parsing blacklist-ip '10.0.0.1': invalid CIDR address: 10.0.0.1",
  );
  assertEquals(run("--blacklist-ip", "10.0.0.0/8,fd00::/8", "s.js").flags.blacklistIPs, [
    "10.0.0.0/8",
    "fd00::/8",
  ]);
});

Deno.test("help: --help/-h on every command, help <cmd>, bare spate", () => {
  const isHelp = (c: Command, part: string) => {
    assertEquals(c.command, "help");
    if (c.command === "help") assertStringIncludes(c.text, part);
  };
  isHelp(parseCommandLine([]), "Available Commands:");
  isHelp(parseCommandLine(["--help"]), "Available Commands:");
  isHelp(parseCommandLine(["run", "--help"]), "spate run [flags] <script>");
  isHelp(parseCommandLine(["run", "-h", "--bogus"]), "spate run [flags] <script>");
  isHelp(parseCommandLine(["help", "run"]), "  -u, --vus int");
  isHelp(parseCommandLine(["archive", "-h"]), "-O, --archive-out string");
  isHelp(parseCommandLine(["inspect", "-h"]), "--execution-requirements");
  isHelp(parseCommandLine(["cloud", "login", "-h"]), "--stack string");
  isHelp(parseCommandLine(["version", "--help"]), "--json");
  isHelp(parseCommandLine(["-h", "run", "s.js"]), "spate run [flags] <script>");
  isHelp(parseCommandLine(["help", "cloud", "login"]), "--stack string");
  const text = (parseCommandLine(["help", "run"]) as { text: string }).text;
  assertStringIncludes(text, '      --http-debug string[="headers"]');
  assertStringIncludes(text, "Global Flags:");
  assert(!text.includes("--no-summary"), "v1 aliases stay out of help");
});

Deno.test("archive, inspect, version", () => {
  assertEquals(parseCommandLine(["archive", "-u", "3", "s.js"]), {
    command: "archive",
    script: "s.js",
    flags: { vus: 3 },
    output: "archive.tar",
  });
  const a = parseCommandLine(["archive", "-O", "x.tar", "--exclude-env-vars", "s.js"]);
  assertEquals(a, {
    command: "archive",
    script: "s.js",
    flags: { excludeEnvVars: true },
    output: "x.tar",
  });
  // --out is a run-only flag.
  usageError(["archive", "-o", "json", "s.js"], "unknown shorthand flag: 'o' in -o");
  assertEquals(parseCommandLine(["inspect", "--execution-requirements", "s.js"]), {
    command: "inspect",
    script: "s.js",
    flags: { executionRequirements: true },
  });
  usageError(["inspect", "-u", "1", "s.js"], "unknown shorthand flag: 'u' in -u");
  assertEquals(parseCommandLine(["version"]), { command: "version", flags: {} });
  assertEquals(parseCommandLine(["--version"]), { command: "version", flags: {} });
  assertEquals(parseCommandLine(["version", "--json"]), {
    command: "version",
    flags: { json: true },
  });
});

Deno.test("login: k6 v2 `cloud login` and v1 `login cloud`", () => {
  assertEquals(parseCommandLine(["cloud", "login", "-t", "abc", "--stack", "my-stack"]), {
    command: "login",
    service: "cloud",
    token: "abc",
    stack: "my-stack",
    show: false,
    reset: false,
    flags: {},
  });
  assertEquals(parseCommandLine(["login", "cloud", "--show"]), {
    command: "login",
    service: "cloud",
    show: true,
    reset: false,
    flags: {},
  });
  assertEquals(parseCommandLine(["login", "cloud", "-r", "-c", "x.json"]), {
    command: "login",
    service: "cloud",
    show: false,
    reset: true,
    flags: { config: "x.json" },
  });
  usageError(["cloud", "login", "extra"], 'unknown command "extra" for "spate cloud login"');
  usageError(
    ["cloud", "run", "s.js"],
    'unknown command "run" for "spate cloud" (only "cloud login" is supported)',
  );
});
