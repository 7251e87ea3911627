/**
 * The `k6` module: check, group, sleep, fail, randomSeed (js-api.md §2).
 *
 * `group` and `sleep` are blocking in k6; here they return promises and the script transform
 * (lib/script/transform.ts) awaits them. `check` stays synchronous unless a check function
 * returns a promise (a check that itself makes blocking calls), then it returns a promise too.
 *
 * @example
 * ```ts
 * const k6 = createK6Module(state, { Math: perVuMath });
 * k6.check(res, { "status is 200": (r) => r.status === 200 });
 * ```
 * @module
 */
import { nowMs, wholeNanosMs } from "../metrics/sample.ts";
import { InterruptedError, interruptibleDelay, isThenable, type VUState } from "../vu/state.ts";
import { mergeScriptTags } from "./_tags.ts";

/** A deterministic Math.random replacement (mulberry32), for randomSeed(). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sleeps `ms` on the VU's clock; rejects with InterruptedError when the iteration is stopped. */
export function vuSleep(state: VUState, ms: number): Promise<void> {
  return interruptibleDelay(ms, state.signal);
}

/** Builds the `k6` module for one VU. `perVuMath` is the VU's own Math (for randomSeed). */
export function createK6Module(
  state: VUState,
  perVuMath: { random: () => number },
  syncSleep?: (ms: number) => void,
) {
  const checksMetric = state.registry.get("checks")!;
  const groupDuration = state.registry.get("group_duration")!;
  const checkTagOn = state.systemTags.has("check");
  const groupTagOn = state.systemTags.has("group");

  function emitCheck(name: string, ok: boolean, extra: unknown): void {
    let tags = extra === undefined ? state.tags : mergeScriptTags(state.tags, extra);
    if (checkTagOn) tags = { ...tags, check: name };
    state.emit(tags, nowMs(), [[checksMetric, ok ? 1 : 0]], state.metadata());
  }

  function check(value: unknown, checks: unknown, tags?: unknown): boolean | Promise<boolean> {
    if (state.stage === "init") {
      throw new Error("Using check() in the init context is not supported");
    }
    if (checks === null || typeof checks !== "object") {
      throw new Error("no checks provided to `check`");
    }
    const entries = Object.entries(checks as Record<string, unknown>);
    let all = true;
    const step = (i: number): boolean | Promise<boolean> => {
      for (; i < entries.length; i++) {
        const [name, entry] = entries[i];
        if (name.includes("::")) throw new Error("group and check names may not contain '::'");
        let result: unknown = entry;
        if (typeof entry === "function") {
          try {
            result = entry(value);
          } catch (err) {
            emitCheck(name, false, tags);
            throw err;
          }
        }
        if (isThenable(result)) {
          const at = i;
          return Promise.resolve(result).then((r) => {
            const ok = Boolean(r);
            emitCheck(name, ok, tags);
            all &&= ok;
            return step(at + 1);
          }, (err) => {
            emitCheck(name, false, tags);
            throw err;
          });
        }
        const ok = Boolean(result);
        emitCheck(name, ok, tags);
        all &&= ok;
      }
      return all;
    };
    return step(0);
  }

  function group(name: string, fn: unknown): unknown {
    if (state.stage === "init") {
      throw new Error("Using group() in the init context is not supported");
    }
    if (typeof fn !== "function") {
      throw new Error("group() requires a callback as a second argument");
    }
    if (String(name).includes("::")) throw new Error("group and check names may not contain '::'");
    const prevTags = state.tags;
    const prevGroup = state.group;
    const path = `${prevGroup}::${name}`;
    state.group = path;
    if (groupTagOn) state.tags = { ...prevTags, group: path };
    const start = performance.now();
    const finish = () => {
      const tags = state.tags;
      state.tags = prevTags;
      state.group = prevGroup;
      state.emit(
        tags,
        nowMs(),
        [[groupDuration, wholeNanosMs(performance.now() - start)]],
        state.metadata(),
      );
    };
    let result: unknown;
    try {
      result = fn();
    } catch (err) {
      finish();
      throw err;
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then((r) => {
        finish();
        return r;
      }, (err) => {
        if (!(err instanceof InterruptedError)) finish();
        throw err;
      });
    }
    finish();
    return result;
  }

  function sleep(seconds: unknown): Promise<void> | void {
    const s = Number(seconds);
    if (syncSleep) {
      if (Number.isFinite(s) && s > 0) syncSleep(s * 1000);
      return;
    }
    if (!Number.isFinite(s) || s <= 0) return Promise.resolve();
    return vuSleep(state, s * 1000);
  }

  function fail(message?: unknown): never {
    throw new Error(message === undefined ? "" : String(message));
  }

  function randomSeed(seed: unknown): void {
    perVuMath.random = seededRandom(Number(seed));
  }

  return { check, group, sleep, fail, randomSeed };
}
