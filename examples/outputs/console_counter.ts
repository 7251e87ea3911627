/**
 * An example custom output: counts samples per metric and prints the counts when the test
 * ends. Use it without rebuilding spate:
 *
 * ```sh
 * spate run --out ./examples/outputs/console_counter.ts script.js
 * spate run --out ./examples/outputs/console_counter.ts=top=3 script.js   # only the 3 largest
 * ```
 *
 * A custom output is a module whose default export is an output factory: a function that
 * receives the output parameters (its `--out` argument, the config-file block, the logger,
 * the options...) and returns an object with `description`, `start`, `addMetricSamples` and
 * `stop` (see lib/output/types.ts). `addMetricSamples` is called every 50 ms with a batch that
 * is shared with the other outputs: read it, never modify it, and do not block.
 * @module
 */
import type { Output, OutputFactory, OutputParams, Sample } from "../../lib/output/types.ts";

/** Parses `top=N` from the `--out` argument (empty: print every metric). */
function parseTop(arg: string): number {
  if (arg === "") return Infinity;
  const m = /^top=(\d+)$/.exec(arg);
  if (!m) throw new Error(`console_counter: unknown argument "${arg}" (expected top=N)`);
  return Number(m[1]);
}

class ConsoleCounter implements Output {
  readonly #params: OutputParams;
  readonly #top: number;
  readonly #counts = new Map<string, number>();
  #total = 0;

  constructor(params: OutputParams) {
    this.#params = params;
    this.#top = parseTop(params.configArgument);
  }

  description(): string {
    return "console counter";
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  addMetricSamples(samples: readonly Sample[]): void {
    // Counting is cheap enough to do inline; heavier work belongs in a periodic flush.
    for (const s of samples) {
      this.#counts.set(s.metric.name, (this.#counts.get(s.metric.name) ?? 0) + 1);
    }
    this.#total += samples.length;
  }

  stop(): Promise<void> {
    const rows = [...this.#counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const log = this.#params.logger;
    log.info(`console counter: ${this.#total} samples`);
    for (const [name, count] of rows.slice(0, this.#top)) {
      log.info(`console counter: ${name} ${count}`);
    }
    return Promise.resolve();
  }
}

const factory: OutputFactory = (params) => new ConsoleCounter(params);
export default factory;
