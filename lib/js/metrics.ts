/**
 * `k6/metrics`: Counter, Gauge, Rate, Trend (js-api.md §4). Custom metrics are created in init
 * code; `add()` emits one sample with the VU's current tags plus the given ones.
 *
 * @example
 * ```ts
 * const { Trend } = createMetricsModule(state);
 * const t = new Trend("my_trend", true); // contains time
 * ```
 * @module
 */
import type { MetricType } from "../metrics/metric.ts";
import { nowMs } from "../metrics/sample.ts";
import type { VUState } from "../vu/state.ts";
import { mergeScriptTags } from "./_tags.ts";

/** Builds the `k6/metrics` module for one VU. */
export function createMetricsModule(state: VUState) {
  function make(type: MetricType) {
    return class CustomMetric {
      readonly name: string;
      readonly #metric;
      constructor(name: unknown, isTime?: unknown) {
        if (state.stage !== "init") {
          throw new Error("metrics must be declared in the init context");
        }
        if (typeof name !== "string") throw new TypeError("metric name must be a string");
        const contains = isTime === true && (type === "trend" || type === "gauge")
          ? "time"
          : "default";
        this.#metric = state.registry.register(name, type, contains);
        this.name = name;
      }
      add(value: unknown, tags?: unknown): boolean {
        if (state.stage === "init") {
          throw new Error("Using metrics in the init context is not supported");
        }
        let v: number;
        if (typeof value === "boolean") v = value ? 1 : 0;
        else if (typeof value === "number") v = value;
        else if (value === null || value === undefined) v = NaN;
        else v = Number(value);
        if (Number.isNaN(v)) {
          const msg = `${this.name}: invalid value ${JSON.stringify(value) ?? String(value)} ` +
            `for a metric sample, it must be a number`;
          if (state.throwErrors) throw new TypeError(msg);
          state.logger.warn(msg);
          return false;
        }
        if (type === "rate") v = v !== 0 ? 1 : 0;
        const t = tags === undefined ? state.tags : mergeScriptTags(state.tags, tags);
        state.emit(t, nowMs(), [[this.#metric, v]], state.metadata());
        return true;
      }
    };
  }
  return {
    Counter: make("counter"),
    Gauge: make("gauge"),
    Rate: make("rate"),
    Trend: make("trend"),
  };
}
