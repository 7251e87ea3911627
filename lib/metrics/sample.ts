/**
 * A metric sample: one measured value of one metric at one time with one tag set
 * (runner.md §5.1). Samples are what flows from VUs through the engine to every output.
 *
 * Time is Unix epoch **milliseconds** as a float (sub-millisecond precision, as from
 * `performance.timeOrigin + performance.now()`); use {@link sampleTimeParts} to format it with
 * nanosecond fields.
 *
 * @example
 * ```ts
 * const { seconds, nanos } = sampleTimeParts(1767261600123.456);
 * // seconds = 1767261600, nanos = 123456000
 * ```
 * @module
 */
import type { Metric } from "./metric.ts";
import type { TagSet } from "./tags.ts";

/** One measurement. Immutable once emitted; outputs must treat it as read-only. */
export interface Sample {
  readonly metric: Metric;
  readonly tags: TagSet;
  /** Unix epoch milliseconds (fractional). */
  readonly time: number;
  readonly value: number;
  /** High-cardinality values (`vu`, `iter` when enabled); not part of the series identity. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Whole microseconds of a sample time (epoch ms) past its second, `Math.floor(time / 1000)`.
 * Microsecond resolution is what a float of epoch-ms holds exactly; rounding to it keeps
 * formatting stable, and a rounding that reaches the next second is clamped to 999999.
 */
export function sampleMicros(time: number, second: number): number {
  const micros = Math.round((time - second * 1000) * 1000);
  return micros >= 1_000_000 ? 999_999 : micros;
}

/** Splits a sample time into whole Unix seconds and nanoseconds within that second. */
export function sampleTimeParts(time: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(time / 1000);
  return { seconds, nanos: sampleMicros(time, seconds) * 1000 };
}

/**
 * A duration in milliseconds rounded to whole nanoseconds, as k6 reports time metrics (Go
 * measures integer nanoseconds and divides by 1e6): `11.831837`, not `11.831837000000007`.
 * Outputs write such values digit by digit.
 */
export function wholeNanosMs(ms: number): number {
  return Math.round(ms * 1e6) / 1e6;
}

/** The current time in the unit samples use. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
