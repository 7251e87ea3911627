/**
 * A command-line tokenizer with pflag's semantics (the flag library k6 uses), so every k6
 * invocation parses the same way and bad usage fails with k6's messages.
 *
 * Why hand-written: measured on this machine (Deno 2, 10 runs each) the import alone costs
 * node:util parseArgs ~4 ms (Node-compat start-up), npm cac@6.7.14 ~11 ms, npm
 * commander@14.0.2 ~21 ms; a process that only parses argv took 20 / 28 / 41 ms against 15 ms for
 * an empty script. None of them has pflag's rules that k6 users rely on: optional-value flags
 * (`--http-debug` bare = `headers`, a value only after `=`), `-u=10` meaning 10, bool flags that
 * never swallow the next word, `-u -1` taking "-1" as the value, and k6's error texts. parseArgs
 * came closest, but getting those rules out of it needs an arity-aware pre-pass over argv, which
 * is this tokenizer; so this file is the whole parser: no dependency, no measurable start-up cost.
 * @module
 */
import { SpateError } from "../errors.ts";
import type { FlagDef } from "./flags.ts";

/** One flag occurrence: its definition and the raw value (bool flags get "true"/"false"...). */
export interface FlagOccurrence {
  readonly def: FlagDef;
  readonly value: string;
}

/** The result of tokenizing an argument list against a flag table. */
export interface Tokens {
  readonly flags: FlagOccurrence[];
  readonly positionals: string[];
  /** Arguments after the first positional when `stopAtPositional` was set (the positional included). */
  readonly rest: string[];
}

function usage(message: string): SpateError {
  return new SpateError("usage", message);
}

/**
 * Splits `args` into flag occurrences and positionals. Flags may be interspersed with
 * positionals; `--` ends flag parsing. With `stopAtPositional`, stops at the first positional
 * and returns it and everything after it in `rest` (used to find the sub-command).
 */
export function tokenize(
  args: readonly string[],
  defs: readonly FlagDef[],
  opts: { stopAtPositional?: boolean } = {},
): Tokens {
  const byLong = new Map<string, FlagDef>();
  const byShort = new Map<string, FlagDef>();
  for (const d of defs) {
    byLong.set(d.long, d);
    if (d.short) byShort.set(d.short, d);
  }
  const flags: FlagOccurrence[] = [];
  const positionals: string[] = [];
  const queue = [...args];
  while (queue.length > 0) {
    const arg = queue.shift()!;
    if (arg.length < 2 || arg[0] !== "-") {
      if (opts.stopAtPositional) return { flags, positionals, rest: [arg, ...queue] };
      positionals.push(arg);
      continue;
    }
    if (arg === "--") {
      if (opts.stopAtPositional) return { flags, positionals, rest: queue };
      positionals.push(...queue);
      break;
    }
    if (arg[1] === "-") {
      const body = arg.slice(2);
      if (body === "" || body[0] === "-" || body[0] === "=") {
        throw usage(`bad flag syntax: ${arg}`);
      }
      const eq = body.indexOf("=");
      const name = eq < 0 ? body : body.slice(0, eq);
      const def = byLong.get(name);
      if (!def) throw usage(`unknown flag: --${name}`);
      let value: string;
      if (eq >= 0) value = body.slice(eq + 1);
      else if (def.kind === "bool") value = "true";
      else if (def.kind === "optional") value = def.optionalDefault ?? "";
      else if (queue.length > 0) value = queue.shift()!;
      else throw usage(`flag needs an argument: ${arg}`);
      flags.push({ def, value });
      continue;
    }
    // One or more shorthands: -qv, -u10, -u=10, -u 10.
    let shorts = arg.slice(1);
    while (shorts.length > 0) {
      const c = shorts[0];
      const def = byShort.get(c);
      if (!def) throw usage(`unknown shorthand flag: '${c}' in -${shorts}`);
      let value: string;
      if (shorts.length > 2 && shorts[1] === "=") {
        value = shorts.slice(2);
        shorts = "";
      } else if (def.kind === "bool") {
        value = "true";
        shorts = shorts.slice(1);
      } else if (def.kind === "optional") {
        value = def.optionalDefault ?? "";
        shorts = shorts.slice(1);
      } else if (shorts.length > 1) {
        value = shorts.slice(1);
        shorts = "";
      } else if (queue.length > 0) {
        value = queue.shift()!;
        shorts = "";
      } else {
        throw usage(`flag needs an argument: '${c}' in -${shorts}`);
      }
      flags.push({ def, value });
    }
  }
  return { flags, positionals, rest: [] };
}

/** The name pflag uses for a flag in errors: `-u, --vus` or `--batch`. */
export function flagDisplayName(def: FlagDef): string {
  return def.short ? `-${def.short}, --${def.long}` : `--${def.long}`;
}
