/**
 * The metric model shared by every box: a {@link Metric} has a name, a type and the kind of
 * value it contains (runner.md §5.1). Metrics are interned in a {@link MetricRegistry}, so a
 * metric object can be compared by identity and carries a small numeric id that the VU hosts
 * use on the wire.
 *
 * @example
 * ```ts
 * const registry = new MetricRegistry();
 * const m = registry.register("my_counter", "counter");
 * m.name; // "my_counter"
 * ```
 * @module
 */
import { invalidConfig } from "../errors.ts";

/** How samples of a metric are aggregated. */
export type MetricType = "counter" | "gauge" | "rate" | "trend";
/** What the values mean: affects formatting only. `time` is milliseconds, `data` bytes. */
export type ValueType = "default" | "time" | "data";

/** A registered metric. Immutable; identity-comparable. */
export interface Metric {
  readonly id: number;
  readonly name: string;
  readonly type: MetricType;
  readonly contains: ValueType;
}

const metricNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]{1,128}$/;

/** Built-in metrics of k6 (runner.md §5.2), in registration order. */
export const builtinMetrics: ReadonlyArray<readonly [string, MetricType, ValueType]> = [
  ["vus", "gauge", "default"],
  ["vus_max", "gauge", "default"],
  ["iterations", "counter", "default"],
  ["iteration_duration", "trend", "time"],
  ["dropped_iterations", "counter", "default"],
  ["data_sent", "counter", "data"],
  ["data_received", "counter", "data"],
  ["checks", "rate", "default"],
  ["group_duration", "trend", "time"],
  ["http_reqs", "counter", "default"],
  ["http_req_failed", "rate", "default"],
  ["http_req_duration", "trend", "time"],
  ["http_req_blocked", "trend", "time"],
  ["http_req_connecting", "trend", "time"],
  ["http_req_tls_handshaking", "trend", "time"],
  ["http_req_sending", "trend", "time"],
  ["http_req_waiting", "trend", "time"],
  ["http_req_receiving", "trend", "time"],
  ["ws_sessions", "counter", "default"],
  ["ws_msgs_sent", "counter", "default"],
  ["ws_msgs_received", "counter", "default"],
  ["ws_ping", "trend", "time"],
  ["ws_session_duration", "trend", "time"],
  ["ws_connecting", "trend", "time"],
  ["grpc_req_duration", "trend", "time"],
];

const builtinNames = new Set(builtinMetrics.map(([name]) => name));

/** True for the names of k6's built-in metrics. */
export function isBuiltinMetric(name: string): boolean {
  return builtinNames.has(name);
}

/**
 * Holds every metric of a run. Registering an existing name with the same type returns the
 * existing metric; a different type or value type is an error, as in k6.
 */
export class MetricRegistry {
  readonly #byName = new Map<string, Metric>();
  readonly #byId: Metric[] = [];

  constructor(withBuiltins = true) {
    if (withBuiltins) {
      for (const [name, type, contains] of builtinMetrics) this.register(name, type, contains);
    }
  }

  /** Registers (or returns the existing) metric. Throws on an invalid name or a type clash. */
  register(name: string, type: MetricType, contains: ValueType = "default"): Metric {
    const existing = this.#byName.get(name);
    if (existing) {
      if (existing.type !== type || existing.contains !== contains) {
        throw invalidConfig(
          `metric "${name}" already exists as ${existing.type}(${existing.contains}), ` +
            `can't register it as ${type}(${contains})`,
        );
      }
      return existing;
    }
    if (!metricNamePattern.test(name)) {
      throw invalidConfig(
        `invalid metric name "${name}": it must match ${metricNamePattern.source}`,
      );
    }
    const metric: Metric = Object.freeze({ id: this.#byId.length, name, type, contains });
    this.#byName.set(name, metric);
    this.#byId.push(metric);
    return metric;
  }

  /** The metric with this name, if registered. */
  get(name: string): Metric | undefined {
    return this.#byName.get(name);
  }

  /** The metric with this id (ids are dense, starting at 0). */
  byId(id: number): Metric | undefined {
    return this.#byId[id];
  }

  /** All metrics in registration order. */
  all(): readonly Metric[] {
    return this.#byId;
  }
}
