/**
 * Test assertions. @std/assert lives on JSR, which our machines cannot reach, so these wrap
 * Node's `node:assert/strict` (part of Deno's Node compatibility) with @std-like names.
 * @module
 */
import nodeAssert from "node:assert/strict";

// Newer @types/node (pulled in by npm packages such as @grpc/grpc-js) declares the message as
// `string | Error | function` without `undefined` under strict overloads; undefined is what
// node:assert takes to mean "default message", so it is passed through unchanged.
type Message = string;

/** Fails unless `actual` deep-equals `expected`. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg as Message);
}

/** Fails when `actual` deep-equals `expected`. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, msg as Message);
}

/** Fails unless `cond` is truthy. */
export function assert(cond: unknown, msg?: string): asserts cond {
  nodeAssert.ok(cond, msg as Message);
}

/** Fails unless `text` contains `part`. */
export function assertStringIncludes(text: string, part: string, msg?: string): void {
  if (!text.includes(part)) {
    throw new nodeAssert.AssertionError({
      message: msg ?? `expected text to include ${JSON.stringify(part)}:\n${text}`,
    });
  }
}

/** Fails unless `text` matches `re`. */
export function assertMatch(text: string, re: RegExp, msg?: string): void {
  nodeAssert.match(text, re, msg as Message);
}

/** Fails unless `a` and `b` differ by at most `tolerance`. */
export function assertAlmostEquals(a: number, b: number, tolerance: number, msg?: string): void {
  if (!(Math.abs(a - b) <= tolerance)) {
    throw new nodeAssert.AssertionError({
      message: msg ?? `expected ${a} to be within ${tolerance} of ${b}`,
    });
  }
}

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/** Runs `fn`, fails unless it throws (an instance of `cls`, when given); returns the error. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  cls?: ErrorClass<E>,
  msgIncludes?: string,
): E {
  try {
    fn();
  } catch (err) {
    checkError(err, cls, msgIncludes);
    return err as E;
  }
  throw new nodeAssert.AssertionError({ message: "expected function to throw" });
}

/** Awaits `fn`, fails unless it rejects (with an instance of `cls`, when given). */
export async function assertRejects<E extends Error = Error>(
  fn: () => Promise<unknown>,
  cls?: ErrorClass<E>,
  msgIncludes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    checkError(err, cls, msgIncludes);
    return err as E;
  }
  throw new nodeAssert.AssertionError({ message: "expected promise to reject" });
}

function checkError<E extends Error>(err: unknown, cls?: ErrorClass<E>, part?: string): void {
  if (cls && !(err instanceof cls)) {
    throw new nodeAssert.AssertionError({
      message: `expected ${cls.name}, got ${err instanceof Error ? err.name : typeof err}: ${err}`,
    });
  }
  if (part !== undefined && !(err instanceof Error && err.message.includes(part))) {
    throw new nodeAssert.AssertionError({
      message: `expected error message to include ${JSON.stringify(part)}, got: ${err}`,
    });
  }
}
