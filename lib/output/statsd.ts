/**
 * PLACEHOLDER so the output registry type-checks on the `files` branch: the real output
 * lives on its own branch and replaces this file when merged.
 * @module
 */
import { SpateError } from "../errors.ts";
import type { OutputFactory } from "./types.ts";

/** Fails: the statsd output is not built yet. */
const factory: OutputFactory = () => {
  throw new SpateError("output", "output statsd is not built yet");
};

export default factory;
