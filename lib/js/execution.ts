/**
 * `k6/execution` (js-api.md §5): information about the VU, scenario, instance and test, plus
 * `test.abort()` and `test.fail()`.
 *
 * @example
 * ```ts
 * exec.vu.idInTest; exec.scenario.name; exec.test.abort("enough");
 * ```
 * @module
 */
import type { VUState } from "../vu/state.ts";
import { tagValue } from "./_tags.ts";

/** Thrown by `exec.test.abort()`; the VU host turns it into a run abort (exit 108). */
export class TestAbortError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TestAbortError";
  }
}

/** What the execution module reads from its VU host. */
export interface ExecutionInfo {
  readonly state: VUState;
  /** Scenario facts of the VU's current activation. */
  scenario(): {
    name: string;
    executor: string;
    startTime: number;
    progress: number;
    iterationInInstance: number;
    iterationInTest: number;
  } | undefined;
  /** Iterations this VU ran in its current scenario. */
  iterationInScenario(): number;
  instance(): {
    iterationsCompleted: number;
    iterationsInterrupted: number;
    vusActive: number;
    vusInitialized: number;
    currentTestRunDuration: number;
  };
  /** Consolidated options, frozen. */
  readonly options: Readonly<Record<string, unknown>>;
  /** exec.test.fail(): marks the run failed (exit 110) without stopping it. */
  markFailed(message: string): void;
}

/** Builds the `k6/execution` default export for one VU. */
export function createExecutionModule(info: ExecutionInfo) {
  const { state } = info;
  const notInInit = (what: string) => {
    if (state.stage === "init") {
      throw new Error(`getting ${what} information in the init context is not supported`);
    }
  };
  const vuTags = new Proxy({} as Record<string, string>, {
    get: (_t, key) => typeof key === "string" ? state.tags[key] : undefined,
    set: (_t, key, value) => {
      if (typeof key !== "string") return false;
      state.tags = { ...state.tags, [key]: tagValue(key, value) };
      return true;
    },
    deleteProperty: (_t, key) => {
      if (typeof key !== "string") return false;
      const next = { ...state.tags };
      delete next[key];
      state.tags = next;
      return true;
    },
    ownKeys: () => Reflect.ownKeys(state.tags),
    has: (_t, key) => typeof key === "string" && key in state.tags,
    getOwnPropertyDescriptor: (_t, key) =>
      typeof key === "string" && key in state.tags
        ? { value: state.tags[key], enumerable: true, configurable: true, writable: true }
        : undefined,
  });
  const metadata: Record<string, string> = {};
  return {
    vu: {
      get idInInstance() {
        notInInit("VU");
        return state.id;
      },
      get idInTest() {
        notInInit("VU");
        return state.id;
      },
      get iterationInInstance() {
        notInInit("VU");
        return state.iteration;
      },
      get iterationInScenario() {
        notInInit("VU");
        return info.iterationInScenario();
      },
      get tags() {
        notInInit("VU");
        return vuTags;
      },
      get metrics() {
        notInInit("VU");
        return { tags: vuTags, metadata };
      },
    },
    scenario: new Proxy({}, {
      get(_t, key) {
        notInInit("scenario");
        const s = info.scenario();
        if (!s) throw new Error("scenario information is only available inside a scenario");
        return (s as Record<string, unknown>)[key as string];
      },
    }),
    instance: new Proxy({}, {
      get(_t, key) {
        notInInit("instance");
        return (info.instance() as Record<string, unknown>)[key as string];
      },
    }),
    test: {
      abort(message?: unknown): never {
        throw new TestAbortError(
          message === undefined ? "test aborted" : `test aborted: ${String(message)}`,
        );
      },
      fail(message?: unknown): void {
        info.markFailed(message === undefined ? "test marked as failed" : String(message));
      },
      get options() {
        return info.options;
      },
    },
  };
}
