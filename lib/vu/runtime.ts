/**
 * One VU: its own instance of the script (module state, `__VU`, `__ITER`, `__ENV`, its own
 * `globalThis` view), its own k6 modules, and the iteration loop body of runner.md §3.4.
 * A VU host (lib/vu/host_worker.ts) holds many of these in one isolate.
 *
 * @example
 * ```ts
 * const vu = await VU.create(host, 3);
 * const outcome = await vu.runIteration({ name: "default", exec: "default", env: {}, tags: {} });
 * ```
 * @module
 */
import type { HttpConfig } from "../config/types.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Metric, MetricRegistry } from "../metrics/metric.ts";
import { nowMs, wholeNanosMs } from "../metrics/sample.ts";
import type { IterationOutcome } from "../executor/types.ts";
import { type ProgressBasis, scenarioProgress } from "../executor/progress.ts";
import { createK6Module, vuSleep } from "../js/k6.ts";
import { createMetricsModule } from "../js/metrics.ts";
import { createExecutionModule, TestAbortError } from "../js/execution.ts";
import { createDataModule } from "../js/data.ts";
import { encodingModule } from "../js/encoding.ts";
import { cryptoModule } from "../js/crypto.ts";
import { CookieJar, createHttpModule, iterationEnd } from "../js/http.ts";
import { htmlModule, htmlUnavailable, webSocketsModule, wsModule } from "../js/optional.ts";
import { SyncBridge, type SyncChannel } from "./sync_bridge.ts";
import { SharedRpsLimiter } from "../http/rate_limiter.ts";
import { InterruptedError, isThenable, type VUStage, type VUState } from "./state.ts";
import { VUEventLoop, type VUTimers } from "./event_loop.ts";
import { createCsvModule, createFsModule } from "../js/experimental_fs.ts";
import * as x509Module from "../js/x509.ts";
import { createSecretsModule, type SecretSources } from "../secrets.ts";
import type { SourceMapper } from "../script/source_map.ts";
import { absolutePath } from "../script/paths.ts";

/** Settings a VU host receives from the runner (structured-cloneable). */
export interface HostConfig {
  readonly scriptPath: string;
  readonly http: HttpConfig;
  readonly systemTags: readonly string[];
  readonly runTags: Readonly<Record<string, string>>;
  readonly throwErrors: boolean;
  readonly minIterationDuration: number;
  readonly options: Readonly<Record<string, unknown>>;
  readonly scriptEnv: Readonly<Record<string, string>>;
  readonly logLevel: "debug" | "info";
  /** The shared `rps` bucket (present when `rps` > 0). */
  readonly rpsBuffer?: SharedArrayBuffer;
  /** `--console-output`: console lines go to the runner (which writes the file). */
  readonly consoleToRunner?: boolean;
  /** `--secret-source` values for k6/secrets (name → key → value). */
  readonly secrets?: SecretSources;
}

/** What a scenario activation tells a VU. */
export interface Activation {
  readonly name: string;
  readonly executor: string;
  readonly exec: string;
  readonly env: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  /** Unix ms when the scenario started. */
  readonly startTime: number;
  /** What `exec.scenario.progress` measures. */
  readonly progress: ProgressBasis;
}

/** Everything VUs of one host share. */
export interface HostContext {
  /** Replaced once after the options pass, before any VU of the test is created. */
  config: HostConfig;
  readonly registry: MetricRegistry;
  readonly logger: Logger;
  /** The compiled script factory (lib/script/transform.ts). */
  readonly factory: (runtime: ScriptRuntime) => Promise<Record<string, unknown>>;
  /** Whether the script can use k6/html: VUs then load it before the init code runs. */
  readonly usesHtml?: boolean;
  /** Whether the script imports k6/ws (loaded the same way). */
  readonly usesWs?: boolean;
  /** Files opened during the options pass: absolute path → bytes. */
  readonly files: Map<string, Uint8Array>;
  /** Set in the options pass only: open() reads the disk and records here. */
  readonly readFiles: boolean;
  readonly sharedArrays: Map<string, readonly unknown[]>;
  /** Sends samples to the engine. */
  emit(
    tags: Readonly<Record<string, string>>,
    time: number,
    values: ReadonlyArray<readonly [Metric, number]>,
    metadata?: Readonly<Record<string, string>>,
  ): void;
  /** exec.test.fail() */
  markFailed(message: string): void;
  /** Sends a console line to the runner (with `consoleToRunner`). */
  consoleLine(level: "debug" | "info" | "warning" | "error", text: string): void;
  /** Instance-wide counters for k6/execution. */
  instance(): {
    iterationsCompleted: number;
    iterationsInterrupted: number;
    vusActive: number;
    vusInitialized: number;
    currentTestRunDuration: number;
  };
  /** JSON of setup()'s result, or undefined. */
  setupDataJson?: string;
  /** Worker-per-VU mode: the synchronous bridge to the runner (absent in the async mode). */
  syncChannel?: SyncChannel;
}

/** The object the compiled factory receives as `__spate`. */
export interface ScriptRuntime {
  env: Record<string, string>;
  vu: number;
  open: (path: unknown, mode?: unknown) => string | ArrayBuffer;
  console: Record<string, (...args: unknown[]) => void>;
  require: (specifier: string) => Record<string, unknown>;
  global: Record<string, unknown>;
  onIteration: (hook: (n: number) => void) => void;
  /** The VU's timer functions (its event loop), which the script sees as the globals. */
  timers: VUTimers;
  /** Wraps every thrown value (lib/script/transform.ts): notes where a primitive came from. */
  thrown: (value: unknown) => unknown;
  each: (method: string, target: unknown, cb: unknown, ...rest: unknown[]) => Promise<unknown>;
}

const removedModules: Record<string, string> = {
  "k6/experimental/redis": "k6/experimental/redis has been removed; use the xk6-redis extension",
  "k6/experimental/browser": "k6/experimental/browser has graduated to k6/browser",
  "k6/experimental/grpc": "k6/experimental/grpc has graduated to k6/net/grpc",
  "k6/experimental/timers": "k6/experimental/timers has graduated to k6/timers",
  "k6/experimental/tracing": "k6/experimental/tracing has been removed",
  "k6/experimental/webcrypto": "k6/experimental/webcrypto has graduated to the global crypto",
};

/** Formats console arguments as k6 does: strings as-is, errors as text, objects as JSON. */
export function formatConsoleArgs(args: unknown[]): string {
  return args.map((a) => {
    if (typeof a === "string") return a;
    if (a instanceof Error) return String(a);
    if (typeof a === "function") return "[object Function]";
    if (a === undefined) return "undefined";
    if (typeof a === "object" && a !== null) {
      const seen = new WeakSet<object>();
      try {
        return JSON.stringify(a, (_k, v) => {
          if (typeof v === "object" && v !== null) {
            if (seen.has(v)) return "[Circular]";
            seen.add(v);
          }
          return v;
        }) ?? String(a);
      } catch {
        return String(a);
      }
    }
    return String(a);
  }).join(" ");
}

/** Awaitable array callbacks for the transform's `__spate.each(...)` (sequential, exact). */
async function each(method: string, target: unknown, cb: unknown, ...rest: unknown[]) {
  const fn = cb as (v: unknown, i: number, a: unknown) => unknown;
  const thisArg = method === "reduce" ? undefined : rest[0];
  const call = (v: unknown, i: number, a: unknown) => fn.call(thisArg, v, i, a);
  if (target instanceof Map || target instanceof Set) {
    if (method !== "forEach") {
      return (target as unknown as Record<string, (...a: unknown[]) => unknown>)[method](
        cb,
        ...rest,
      );
    }
    for (const [k, v] of target.entries()) await fn.call(thisArg, v, k, target);
    return undefined;
  }
  if (!Array.isArray(target) && !ArrayBuffer.isView(target)) {
    return (target as Record<string, (...a: unknown[]) => unknown>)[method](cb, ...rest);
  }
  const arr = target as ArrayLike<unknown>;
  const n = arr.length;
  switch (method) {
    case "forEach":
      for (let i = 0; i < n; i++) if (i in arr) await call(arr[i], i, arr);
      return undefined;
    case "map": {
      const out = new Array(n);
      for (let i = 0; i < n; i++) if (i in arr) out[i] = await call(arr[i], i, arr);
      return out;
    }
    case "flatMap": {
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) {
        const r = await call(arr[i], i, arr);
        if (Array.isArray(r)) out.push(...r);
        else out.push(r);
      }
      return out;
    }
    case "filter": {
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) if (i in arr && await call(arr[i], i, arr)) out.push(arr[i]);
      return out;
    }
    case "some":
      for (let i = 0; i < n; i++) if (i in arr && await call(arr[i], i, arr)) return true;
      return false;
    case "every":
      for (let i = 0; i < n; i++) if (i in arr && !(await call(arr[i], i, arr))) return false;
      return true;
    case "find":
      for (let i = 0; i < n; i++) if (await call(arr[i], i, arr)) return arr[i];
      return undefined;
    case "findIndex":
      for (let i = 0; i < n; i++) if (await call(arr[i], i, arr)) return i;
      return -1;
    case "findLast":
      for (let i = n - 1; i >= 0; i--) if (await call(arr[i], i, arr)) return arr[i];
      return undefined;
    case "findLastIndex":
      for (let i = n - 1; i >= 0; i--) if (await call(arr[i], i, arr)) return i;
      return -1;
    case "reduce": {
      let i = 0;
      let acc: unknown;
      if (rest.length > 0) acc = rest[0];
      else {
        while (i < n && !(i in arr)) i++;
        if (i >= n) throw new TypeError("Reduce of empty array with no initial value");
        acc = arr[i++];
      }
      for (; i < n; i++) {
        if (i in arr) {
          acc = await (cb as (a: unknown, v: unknown, i: number, arr: unknown) => unknown)(
            acc,
            arr[i],
            i,
            arr,
          );
        }
      }
      return acc;
    }
  }
  throw new TypeError(`unsupported array method ${method}`);
}

/** One virtual user. */
export class VU implements VUState {
  readonly id: number;
  iteration = -1;
  stage: VUStage = "init";
  scenario = "";
  group = "";
  tags: Readonly<Record<string, string>>;
  readonly systemTags: ReadonlySet<string>;
  readonly http: HttpConfig;
  readonly throwErrors: boolean;
  readonly registry: MetricRegistry;
  readonly logger: Logger;
  signal: AbortSignal;

  exports: Record<string, unknown> = {};
  readonly #host: HostContext;
  #controller = new AbortController();
  #iterHook: (n: number) => void = () => {};
  #dataSent = 0;
  #dataReceived = 0;
  #activation?: Activation;
  #iterInScenario = 0;
  #setupData: unknown;
  #setupDataParsed = false;
  #httpModule?: Record<string, unknown>;
  #modules = new Map<string, Record<string, unknown>>();
  readonly #metaOn: boolean;
  readonly #vuMeta: boolean;
  readonly #iterMeta: boolean;
  readonly #m: Record<string, Metric>;
  /** The VU's own Math (randomSeed must not reach other VUs). */
  readonly #math: Record<string, unknown>;
  readonly #global: Record<string, unknown>;
  readonly #env: Record<string, string>;
  /** The VU's timers and pending work: an iteration ends when nothing is pending. */
  readonly loop = new VUEventLoop();
  readonly #bridge?: SyncBridge;

  private constructor(host: HostContext, id: number) {
    this.#host = host;
    this.id = id;
    this.systemTags = new Set(host.config.systemTags);
    this.http = host.config.http;
    this.throwErrors = host.config.throwErrors;
    this.registry = host.registry;
    this.logger = host.logger;
    this.signal = this.#controller.signal;
    this.tags = host.config.runTags;
    this.#vuMeta = this.systemTags.has("vu");
    this.#iterMeta = this.systemTags.has("iter");
    this.#metaOn = this.#vuMeta || this.#iterMeta;
    const m = (name: string) => host.registry.get(name)!;
    this.#m = {
      iterations: m("iterations"),
      iteration_duration: m("iteration_duration"),
      data_sent: m("data_sent"),
      data_received: m("data_received"),
    };
    this.#math = Object.create(Math);
    this.#global = Object.create(globalThis);
    this.#env = { ...host.config.scriptEnv };
    if (host.syncChannel) this.#bridge = new SyncBridge(host.syncChannel, this);
  }

  /** Creates the VU and runs the script's init code in it. Throws on init errors. */
  static async create(host: HostContext, id: number): Promise<VU> {
    const vu = new VU(host, id);
    vu.#global.Math = vu.#math;
    Object.assign(vu.#global, vu.loop.timers);
    const runtime: ScriptRuntime = {
      env: vu.#env,
      vu: id,
      open: (path, mode) => vu.#open(path, mode),
      console: vu.#console(),
      require: (spec) => vu.#require(spec),
      global: vu.#global,
      onIteration: (hook) => {
        vu.#iterHook = hook;
      },
      each,
      timers: vu.loop.timers,
      thrown: (value) => {
        if (value === null || (typeof value !== "object" && typeof value !== "function")) {
          vu.#lastThrown = { value, stack: new Error().stack ?? "" };
        }
        return value;
      },
    };
    if (host.usesHtml) await htmlModule.load();
    if (host.usesWs) await Promise.all([wsModule.load(), webSocketsModule.load()]);
    vu.exports = await host.factory(runtime);
    vu.stage = "setup";
    return vu;
  }

  emit(
    tags: Readonly<Record<string, string>>,
    time: number,
    values: ReadonlyArray<readonly [Metric, number]>,
    metadata?: Readonly<Record<string, string>>,
  ): void {
    this.#host.emit(tags, time, values, metadata);
  }

  addDataSent(bytes: number): void {
    this.#dataSent += bytes;
  }

  addDataReceived(bytes: number): void {
    this.#dataReceived += bytes;
  }

  metadata(): Readonly<Record<string, string>> | undefined {
    if (!this.#metaOn) return undefined;
    const meta: Record<string, string> = {};
    if (this.#iterMeta && this.iteration >= 0) meta.iter = String(this.iteration);
    if (this.#vuMeta) meta.vu = String(this.id);
    return meta;
  }

  /** Hard-stops the running iteration. */
  interrupt(): void {
    this.#controller.abort();
  }

  /** Activates the VU for a scenario (runner.md §4.1): tags and __ENV are rebuilt. */
  activate(activation: Activation): void {
    if (this.#activation?.name !== activation.name) this.#iterInScenario = 0;
    this.#activation = activation;
    this.scenario = activation.name;
    const tags: Record<string, string> = { ...this.#host.config.runTags, ...activation.tags };
    if (this.systemTags.has("scenario")) tags.scenario = activation.name;
    if (this.systemTags.has("group")) tags.group = "";
    this.tags = tags;
    for (const key of Object.keys(this.#env)) delete this.#env[key];
    Object.assign(this.#env, this.#host.config.scriptEnv, activation.env);
  }

  /** Runs one iteration of the activated scenario (runner.md §3.4). */
  async runIteration(iterationInTest: number): Promise<IterationOutcome> {
    const activation = this.#activation!;
    this.stage = "iteration";
    const fn = this.exports[activation.exec];
    if (!this.#setupDataParsed) {
      this.#setupDataParsed = true;
      const json = this.#host.setupDataJson;
      this.#setupData = json === undefined ? undefined : JSON.parse(json);
    }
    this.#bridge?.reset();
    this.iteration++;
    this.#iterInScenario++;
    this.#iterationInTest = iterationInTest;
    this.#iterHook(this.iteration);
    this.#controller = new AbortController();
    const signal = this.signal = this.#controller.signal;
    const baseTags = this.tags;
    this.group = "";
    const start = performance.now();
    let outcome: IterationOutcome = "complete";
    try {
      const result = (fn as (data: unknown) => unknown)(this.#setupData);
      if (isThenable(result)) await raceAbort(result, signal);
      // k6 ends an iteration when its event loop is empty: timers and sockets still pending
      // keep it going.
      if (this.loop.pending) await raceAbort(this.loop.idle(), signal);
    } catch (err) {
      if (signal.aborted || err instanceof InterruptedError) outcome = "interrupted";
      else if (err instanceof TestAbortError) throw err;
      else this.#logException(err);
    } finally {
      this.loop.clear();
    }
    const end = nowMs();
    const duration = wholeNanosMs(performance.now() - start);
    this.tags = baseTags;
    this.group = "";
    this.#flushData(end);
    if (outcome === "complete") {
      this.emit(this.tags, end, [
        [this.#m.iterations, 1],
        [this.#m.iteration_duration, duration],
      ], this.metadata());
      const min = this.#host.config.minIterationDuration;
      if (min > duration) {
        await vuSleep(this, min - duration).catch(() => {});
      }
    }
    this.#httpIterationEnd();
    return outcome;
  }

  #iterationInTest = 0;

  /** Runs setup/teardown/handleSummary-style calls in this (transient, id 0) VU. */
  async call(name: string, arg: unknown, stage: VUStage): Promise<unknown> {
    this.stage = stage;
    const tags: Record<string, string> = { ...this.#host.config.runTags };
    if (this.systemTags.has("group") && (stage === "setup" || stage === "teardown")) {
      tags.group = `::${stage}`;
    }
    this.tags = tags;
    this.group = stage === "setup" || stage === "teardown" ? `::${stage}` : "";
    this.#controller = new AbortController();
    this.signal = this.#controller.signal;
    this.#bridge?.reset();
    try {
      const fn = this.exports[name] as (a: unknown) => unknown;
      const result = fn(arg);
      const value = isThenable(result) ? await raceAbort(result, this.signal) : result;
      if (this.loop.pending) await raceAbort(this.loop.idle(), this.signal);
      return value;
    } finally {
      this.loop.clear();
      this.#flushData(nowMs());
    }
  }

  /** Emits data_sent/data_received accumulated since the last emission. */
  #flushData(time: number): void {
    if (this.#dataSent === 0 && this.#dataReceived === 0) return;
    this.emit(this.tags, time, [
      [this.#m.data_sent, this.#dataSent],
      [this.#m.data_received, this.#dataReceived],
    ], this.metadata());
    this.#dataSent = 0;
    this.#dataReceived = 0;
  }

  /** Where the last thrown primitive came from (see ScriptRuntime.thrown). */
  #lastThrown: { value: unknown; stack: string } | undefined;

  #logException(err: unknown): void {
    const last = this.#lastThrown;
    this.#lastThrown = undefined;
    if (last && Object.is(last.value, err)) {
      // The script's frames under the value itself, as k6 shows a thrown string.
      const frames = last.stack.split("\n").slice(1).filter((l) => !isOwnFrame(l)).map(
        scriptFrame,
      );
      this.logger.error([String(err), ...frames].join("\n"), { source: "stacktrace" });
      return;
    }
    const text = err instanceof Error && err.stack ? userStack(err) : errorMessage(err);
    this.logger.error(text, { source: "stacktrace" });
  }

  /** Cookie jar reset and idle-connection close between iterations (k6/http's hook). */
  #httpIterationEnd(): void {
    const fn = (this.#httpModule as Record<symbol, unknown> | undefined)?.[iterationEnd];
    if (typeof fn === "function") (fn as () => void).call(this.#httpModule);
  }

  #require(spec: string): Record<string, unknown> {
    const cached = this.#modules.get(spec);
    if (cached) return cached;
    const mod = this.#makeModule(spec);
    this.#modules.set(spec, mod);
    return mod;
  }

  /** Namespace objects with both `default` and named members (js-api.md §0 interop). */
  #makeModule(spec: string): Record<string, unknown> {
    const ns = (named: Record<string, unknown>) => ({ ...named, default: named });
    switch (spec) {
      case "k6": {
        const bridge = this.#bridge;
        const syncSleep = bridge ? (ms: number) => bridge.sleep(ms) : undefined;
        return ns(createK6Module(this, this.#math as { random: () => number }, syncSleep));
      }
      case "k6/http": {
        const rps = this.#host.config.rpsBuffer;
        const rateLimiter = rps && this.http.rps > 0
          ? new SharedRpsLimiter(rps, this.http.rps)
          : undefined;
        const http = (this.#bridge?.httpModule() ??
          createHttpModule(this, { rateLimiter })) as unknown as Record<
            string,
            unknown
          >;
        this.#httpModule = http;
        return ns(http);
      }
      case "k6/metrics":
        return ns(createMetricsModule(this));
      case "k6/execution":
        return ns(createExecutionModule({
          state: this,
          scenario: () => {
            const a = this.#activation;
            if (!a) return undefined;
            return {
              name: a.name,
              executor: a.executor,
              startTime: a.startTime,
              progress: scenarioProgress(
                a.progress,
                a.startTime,
                this.#iterationInTest,
                Date.now(),
              ),
              iterationInInstance: this.#iterInScenario - 1,
              iterationInTest: this.#iterationInTest,
            };
          },
          iterationInScenario: () => this.#iterInScenario - 1,
          instance: () => this.#host.instance(),
          options: this.#host.config.options,
          markFailed: (msg) => this.#host.markFailed(msg),
        }));
      case "k6/data":
        return ns(createDataModule(this.#host.sharedArrays, () => this.stage === "init"));
      case "k6/encoding":
        return ns(encodingModule);
      case "k6/crypto":
        return ns(cryptoModule);
      case "k6/crypto/x509":
        return ns(x509Module);
      case "k6/timers":
        return ns({ ...this.loop.timers });
      case "k6/ws": {
        if (this.#bridge) {
          throw new Error(
            "k6/ws is not supported in the Worker-per-VU mode yet; the warning above says " +
              "which part of the script needs that mode",
          );
        }
        const api = wsModule.get();
        if (!api) throw new Error("k6/ws was not loaded"); // usesWs is set for every importer
        return ns(api.createWsModule(this, () => this.#vuJar()));
      }
      case "k6/websockets": {
        const api = webSocketsModule.get();
        if (!api) throw new Error("k6/websockets was not loaded"); // usesWs covers its importers
        return ns(api.createWebSocketsModule(this, this.loop, () => this.#vuJar()));
      }
      case "k6/secrets":
        return ns(
          createSecretsModule(this.#host.config.secrets ?? {}, (v) => this.logger.addRedaction(v)),
        );
      case "k6/experimental/streams":
        // k6 implements the WHATWG Streams standard; Deno's own classes are that standard.
        return ns({
          ReadableStream,
          CountQueuingStrategy,
          ReadableStreamDefaultReader,
          WritableStream,
          WritableStreamDefaultWriter,
        });
      case "k6/experimental/fs":
        return ns(createFsModule({
          inInit: () => this.stage === "init",
          read: (path) => ({
            bytes: new Uint8Array(this.#open(path, "b") as ArrayBuffer),
            path: this.#absolutePath(path),
          }),
        }));
      case "k6/experimental/csv":
        return ns(createCsvModule({
          inInit: () => this.stage === "init",
          sharedArray: (name, fn) => {
            const { SharedArray } = this.#require("k6/data") as {
              SharedArray: new (name: string, fn: () => unknown[]) => unknown;
            };
            return new SharedArray(name, fn);
          },
        }));
      case "k6/html": {
        const html = htmlModule.get();
        if (!html) throw htmlUnavailable("k6/html");
        return ns(html.createHtmlModule());
      }
    }
    if (removedModules[spec]) throw new Error(removedModules[spec]);
    if (spec.startsWith("k6/")) {
      throw new Error(`the module "${spec}" is not supported by spate yet`);
    }
    throw new Error(
      `unknown module "${spec}": only k6 built-in modules can be imported at run time ` +
        `(relative imports are bundled before the run)`,
    );
  }

  /** The VU's k6/http cookie jar, which WebSocket handshakes use too (not in Worker mode). */
  #vuJar(): CookieJar | undefined {
    const http = this.#require("k6/http").default as { cookieJar?: () => unknown };
    const jar = http.cookieJar?.();
    return jar instanceof CookieJar ? jar : undefined;
  }

  /** A script's file path as open() resolves it: relative to the script's folder. */
  #absolutePath(path: string): string {
    return absolutePath(path, this.#host.config.scriptPath.replace(/\/[^/]*$/, ""));
  }

  #open(path: unknown, mode?: unknown): string | ArrayBuffer {
    if (this.stage !== "init") {
      throw new Error(
        'The "open()" function is only available in the init stage (i.e. the global scope), ' +
          "see https://grafana.com/docs/k6/latest/using-k6/test-lifecycle for more information",
      );
    }
    if (typeof path !== "string" || path === "") throw new Error("open() requires a file name");
    const abs = this.#absolutePath(path);
    let bytes = this.#host.files.get(abs);
    if (!bytes) {
      if (!this.#host.readFiles) {
        throw new Error(
          `open() can't be used with files that weren't previously opened during ` +
            `initialization (__VU==0), path: "${path}"`,
        );
      }
      try {
        if (Deno.statSync(abs).isDirectory) {
          throw new Error(`open() can't open a directory: ${abs}`);
        }
        bytes = Deno.readFileSync(abs);
      } catch (err) {
        if (err instanceof Deno.errors.NotCapable) {
          throw new Error(
            `open("${path}"): the sandbox only lets scripts read files in the script's folder`,
          );
        }
        if (err instanceof Deno.errors.NotFound) {
          throw new Error(`open("${path}"): no such file or directory (${abs})`);
        }
        throw err;
      }
      this.#host.files.set(abs, bytes);
    }
    if (mode === "b") return bytes.slice().buffer;
    return new TextDecoder().decode(bytes);
  }

  #console(): Record<string, (...args: unknown[]) => void> {
    const log = this.logger;
    const host = this.#host;
    const line = (level: "debug" | "info" | "warning" | "error") => (...args: unknown[]) => {
      if (host.config.consoleToRunner) {
        if (log.enabled(level)) host.consoleLine(level, log.hide(formatConsoleArgs(args)));
      } else log.log(level, formatConsoleArgs(args), { source: "console" });
    };
    return {
      log: line("info"),
      info: line("info"),
      debug: line("debug"),
      warn: line("warning"),
      error: line("error"),
      trace: line("debug"),
    };
  }
}

/** Awaits `p`, but settles as soon as `signal` aborts (the iteration is interrupted). */
function raceAbort<T>(p: PromiseLike<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new InterruptedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new InterruptedError());
    signal.addEventListener("abort", onAbort, { once: true });
    Promise.resolve(p).then((v) => {
      signal.removeEventListener("abort", onAbort);
      resolve(v);
    }, (e) => {
      signal.removeEventListener("abort", onAbort);
      reject(e);
    });
  });
}

/** The error text plus only the stack frames that point into the user's script. */
function userStack(err: Error): string {
  const lines = (err.stack ?? "").split("\n");
  const head = lines[0];
  const frames = lines.slice(1).filter((l) => !isOwnFrame(l)).map(scriptFrame);
  return [head, ...frames].join("\n");
}

/**
 * A stack frame in the user's script as the user knows it: the script is evaluated with
 * `//# sourceURL`, which V8 prints as `file:///s.js, <anonymous>:L:C`, and the factory's
 * header takes line 1, so lines are one further down than in the file.
 */
export function scriptFrame(line: string): string {
  // esbuild names a bundled `export default function` `<file>_default`; k6 says `default`.
  if (sourceMap) line = line.replace(/^(\s*at )[A-Za-z0-9_$]+_default \(/, "$1default (");
  return line.replace(
    /(file:\/\/[^\s,()]*), <anonymous>:(\d+):(\d+)/,
    (_m, url: string, l: string, c: string) => {
      const scriptLine = Math.max(1, Number(l) - 1);
      // A bundled script: the file and line the bundle took this code from.
      const at = sourceMap?.original(scriptLine, Number(c));
      return at ? `file://${at.file}:${at.line}:${at.column}` : `${url}:${scriptLine}:${c}`;
    },
  );
}

/** The source map of this host's bundled script, if it was bundled. */
let sourceMap: SourceMapper | undefined;

/** Sets the source map {@link scriptFrame} maps frames through (a VU host sets it at init). */
export function setScriptSourceMap(map: SourceMapper | undefined): void {
  sourceMap = map;
}

/**
 * spate's own code: its lib/ folder when run from source, the whole file when bundled. (A
 * path test like "/lib/" would also hide frames of user scripts kept in a lib folder.)
 */
const ownCode = import.meta.url.endsWith("/lib/vu/runtime.ts")
  ? new URL("../", import.meta.url).href
  : import.meta.url;

/** Whether a stack-trace line points into spate's own code (not the user's script). */
export function isOwnFrame(line: string): boolean {
  return line.includes(ownCode) || /\(ext:|\(node:|at ext:|at node:/.test(line);
}
