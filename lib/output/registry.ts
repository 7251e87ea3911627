/**
 * Output names → factories (outputs-files.md §1.3), and the creation of the outputs of a run
 * in `--out` order. Built-in outputs are loaded with a lazy `import()`, so an output that is
 * not used costs nothing at start-up.
 *
 * A user's own output needs no rebuild: `--out ./my_output.ts=arg` (any name starting with
 * `./`, `../`, `/` or `file:`, or ending in `.ts`, `.js` or `.mjs`) imports that module and
 * uses its default export as the {@link OutputFactory}.
 *
 * @example
 * ```ts
 * const outputs = await createOutputs(config.out, baseParams, config.collectors, { thresholds });
 * const manager = new OutputManager(outputs, { logger });
 * ```
 * @module
 */
import type { OutputSpec } from "../config/types.ts";
import { errorMessage, SpateError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Output, OutputFactory, OutputParams, Threshold } from "./types.ts";
import type { NamedOutput } from "./manager.ts";

/** Loads a built-in output module (its default export is the factory). */
export type OutputLoader = () => Promise<{ default: OutputFactory }>;

interface BuiltinEntry {
  readonly load: OutputLoader;
  /** Logged when the name is used (deprecated aliases). */
  readonly warning?: string;
  /** Left out of the "available types" list (names that only exist to explain an error). */
  readonly hidden?: boolean;
}

const removed = (message: string): OutputLoader => () =>
  Promise.resolve({
    default: () => {
      throw new SpateError("output", message);
    },
  });

// String-literal specifiers keep the modules visible to `deno check` and `deno compile`.
const builtins: ReadonlyMap<string, BuiltinEntry> = new Map<string, BuiltinEntry>([
  ["cloud", { load: () => import("./cloud/mod.ts") }],
  ["csv", { load: () => import("./csv.ts") }],
  // k6 removed its datadog output; here it is the StatsD output with DogStatsD tags on.
  ["datadog", { load: () => import("./statsd.ts") }],
  [
    "experimental-opentelemetry",
    {
      load: () => import("./opentelemetry.ts"),
      warning: "OpenTelemetry output has been graduated as a stable output. " +
        'You can now use just "opentelemetry" instead of "experimental-opentelemetry". ' +
        "The experimental version will be removed in future versions.",
    },
  ],
  ["experimental-prometheus-rw", { load: () => import("./prometheus_rw.ts") }],
  ["influxdb", { load: () => import("./influxdb.ts") }],
  ["json", { load: () => import("./json.ts") }],
  [
    "kafka",
    {
      hidden: true,
      load: removed(
        "the kafka output was deprecated in k6 v0.32.0 and removed in k6 v0.34.0; " +
          "use a custom output module (--out ./my_output.ts) instead",
      ),
    },
  ],
  ["opentelemetry", { load: () => import("./opentelemetry.ts") }],
  // The name k6 users know from the xk6-output-statsd extension (k6 ≥ v0.55).
  ["output-statsd", { load: () => import("./statsd.ts") }],
  ["statsd", { load: () => import("./statsd.ts") }],
  ["timescaledb", { load: () => import("./timescaledb.ts") }],
]);

/**
 * The output types listed in the unknown-type error: every built-in name, sorted, without
 * names that only explain a removal.
 *
 * @example
 * ```ts
 * availableOutputTypes(); // ["cloud", "csv", "datadog", ...]
 * ```
 */
export function availableOutputTypes(): string[] {
  return [...builtins].filter(([, e]) => !e.hidden).map(([name]) => name).sort();
}

/** True for the built-in output names (including hidden ones). */
export function isBuiltinOutput(name: string): boolean {
  return builtins.has(name);
}

/**
 * True when an `--out` name designates a module file to load: it starts with `./`, `../`,
 * `/` or `file:`, or ends in `.ts`, `.js` or `.mjs`.
 */
export function isModuleOutput(name: string): boolean {
  return name.startsWith("./") || name.startsWith("../") || name.startsWith("/") ||
    name.startsWith("file:") || /\.(?:ts|js|mjs)$/.test(name);
}

/** Resolves a module output name against `cwd` to a `file:` URL. */
export function moduleOutputURL(name: string, cwd: string = Deno.cwd()): string {
  if (name.startsWith("file:")) return new URL(name).href;
  const base = new URL(`file://${cwd.endsWith("/") ? cwd : cwd + "/"}`);
  return new URL(encodeURI(name).replaceAll("?", "%3F").replaceAll("#", "%23"), base).href;
}

async function loadModuleFactory(name: string): Promise<OutputFactory> {
  const url = moduleOutputURL(name);
  let mod: Record<string, unknown>;
  try {
    mod = await import(url);
  } catch (err) {
    throw new SpateError(
      "output",
      `could not load the output module '${name}': ${firstLine(errorMessage(err))}`,
      { cause: err },
    );
  }
  const factory = mod.default;
  if (typeof factory !== "function") {
    throw new SpateError(
      "output",
      `the output module '${name}' has no default export of an output factory ` +
        "(export default (params) => ({ description, start, addMetricSamples, stop }))",
    );
  }
  return factory as OutputFactory;
}

function firstLine(text: string): string {
  const nl = text.indexOf("\n");
  return nl < 0 ? text : text.slice(0, nl);
}

/**
 * The factory for an `--out` name: a built-in (loaded on first use) or a module path.
 * Unknown names fail with k6's message listing the available types. Logs the deprecation
 * warning of deprecated aliases.
 */
export async function resolveOutputFactory(name: string, logger?: Logger): Promise<OutputFactory> {
  const entry = builtins.get(name);
  if (entry) {
    if (entry.warning) logger?.warn(entry.warning);
    return (await entry.load()).default;
  }
  if (isModuleOutput(name)) return await loadModuleFactory(name);
  throw new SpateError(
    "output",
    `invalid output type '${name}', available types are: ${availableOutputTypes().join(", ")}`,
  );
}

/** What {@link createOutputs} hands each output besides its own argument and JSON config. */
export type BaseOutputParams = Omit<OutputParams, "outputType" | "configArgument" | "jsonConfig">;

/** Optional capabilities set right after each output is constructed (k6 order). */
export interface CreateOutputsExtras {
  /** The script's thresholds (objects shared with the engine, `lastFailed` live). */
  readonly thresholds?: ReadonlyMap<string, readonly Threshold[]>;
  /** The test archive, when archive upload is on. */
  readonly archive?: Uint8Array;
}

/**
 * Constructs the outputs of a run in `--out` order. Each receives its argument, the
 * `collectors.<name>` block and the shared parameters; then `setThresholds` (and
 * `setArchive`) are called on it. Fails with a {@link SpateError} (kind "output", exit code
 * 255 as in k6, whatever the factory threw): `invalid output type '<name>', ...` or
 * `could not create the '<name>' output: ...`.
 *
 * @example
 * ```ts
 * const outputs = await createOutputs([{ name: "csv", arg: "out.csv" }], base, {});
 * ```
 */
export async function createOutputs(
  specs: readonly OutputSpec[],
  base: BaseOutputParams,
  collectors: Readonly<Record<string, unknown>>,
  extras: CreateOutputsExtras = {},
): Promise<NamedOutput[]> {
  const result: NamedOutput[] = [];
  for (const spec of specs) {
    const factory = await resolveOutputFactory(spec.name, base.logger);
    const params: OutputParams = {
      ...base,
      outputType: spec.name,
      configArgument: spec.arg,
      jsonConfig: Object.hasOwn(collectors, spec.name) ? collectors[spec.name] : undefined,
    };
    let output: Output;
    try {
      output = await factory(params);
      checkOutput(output);
    } catch (err) {
      throw new SpateError(
        "output",
        `could not create the '${spec.name}' output: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    if (extras.thresholds) output.setThresholds?.(extras.thresholds);
    if (extras.archive) output.setArchive?.(extras.archive);
    result.push({ name: spec.name, output });
  }
  return result;
}

const requiredMethods = ["description", "start", "addMetricSamples", "stop"] as const;

/** A user's factory may return anything: say clearly what is missing. */
function checkOutput(output: unknown): asserts output is Output {
  if (typeof output !== "object" || output === null) {
    throw new Error("the factory did not return an output object");
  }
  const o = output as Record<string, unknown>;
  const missing = requiredMethods.filter((m) => typeof o[m] !== "function");
  if (missing.length > 0) {
    throw new Error(`the output has no ${missing.join(", ")} method`);
  }
}
