/**
 * The runner's side of a VU host Worker (lib/vu/host_worker.ts): starts it sandboxed, sends it
 * commands and turns its events back into promises and samples.
 *
 * @example
 * ```ts
 * const host = await VUHost.start({ ...init }, { onSamples, onAbort, onMarkFailed });
 * await host.initVU(1);
 * ```
 * @module
 */
import { SpateError } from "../errors.ts";
import type { IterationOutcome } from "../executor/types.ts";
import type { MetricType, ValueType } from "../metrics/metric.ts";
import type { SampleBatchMessage } from "./_wire.ts";
import type { Activation, HostConfig } from "./runtime.ts";
import type { VUStage } from "./state.ts";
import type { SyncChannel } from "./sync_bridge.ts";

/** Commands from the runner to a host. */
export type HostCommand =
  | {
    t: "init";
    factorySource: string;
    /** The bundle's source map, for error frames (lib/script/source_map.ts). */
    sourceMap?: { json: string; dir: string };
    config: HostConfig;
    metrics: Array<[string, MetricType, ValueType]>;
    files: Array<[string, Uint8Array]>;
    readFiles: boolean;
    logFormat: "text" | "json" | "raw";
    logTty: boolean;
    logColor: boolean;
    /**
     * Whether the Worker has its own narrowed permissions. Only then may it revoke read access
     * after the options pass: an unsandboxed Worker shares the runner's permissions, and
     * revoking there would revoke for the whole process.
     */
    sandboxed?: boolean;
    /** Worker-per-VU mode only. */
    sync?: SyncChannel;
  }
  | { t: "optionsPass" }
  | { t: "configure"; config: HostConfig }
  | { t: "initVU"; id: number }
  | { t: "activate"; id: number; activation: Activation }
  | { t: "run"; id: number; iterationInTest: number }
  | { t: "interrupt"; id: number }
  | { t: "setupData"; json: string | undefined }
  | { t: "call"; callId: number; name: string; argJson?: string; stage: VUStage }
  | { t: "interruptCall" }
  | { t: "flush"; seq: number }
  | { t: "close" };

/** Result of the options pass (runner.md §3.1 step 2). */
export interface OptionsPassResult {
  options: unknown;
  exportTypes: Record<string, string>;
  metrics: Array<[string, MetricType, ValueType]>;
  files: Array<[string, Uint8Array]>;
}

/** Events from a host to the runner. */
export type HostEvent =
  | { t: "ready" }
  | ({ t: "options" } & OptionsPassResult)
  | { t: "vuReady"; id: number }
  | { t: "initError"; id: number; message: string }
  | { t: "done"; id: number; outcome: IterationOutcome }
  | { t: "abort"; message: string; internal?: boolean }
  | { t: "markFailed"; message: string }
  | { t: "console"; level: "debug" | "info" | "warning" | "error"; text: string }
  | {
    t: "result";
    callId: number;
    json?: string;
    summary?: unknown;
    error?: string;
    aborted?: boolean;
  }
  | { t: "flushed"; seq: number }
  | { t: "closed" }
  | SampleBatchMessage;

/** What a host reports back outside request/response pairs. */
export interface HostListener {
  onSamples(batch: SampleBatchMessage): void;
  /** exec.test.abort() in a VU, or an internal failure. */
  onAbort(message: string, internal: boolean): void;
  onMarkFailed(message: string): void;
  /** A script console line, with `--console-output`. */
  onConsole?(level: "debug" | "info" | "warning" | "error", text: string): void;
  /** The Worker died (uncaught error). */
  onCrash(message: string): void;
}

/** Result of setup()/teardown()/handleSummary() in a transient VU. */
export interface CallResult {
  json?: string;
  summary?: unknown;
  error?: string;
  aborted?: boolean;
}

/**
 * Where VU host Workers start. From source: lib/vu/host_worker_main.ts. In a `deno bundle`
 * file everything is one module, so the bundle itself is the Worker entry (cli.ts starts the
 * host when it finds itself in a Worker).
 */
const workerUrl = import.meta.url.endsWith("/lib/vu/host.ts")
  ? new URL("./host_worker_main.ts", import.meta.url)
  : new URL(import.meta.url);

let sandboxCache: boolean | undefined;

/**
 * Whether Workers may be given narrowed permissions. That needs Deno's
 * `--unstable-worker-options`, and asking for it without the flag ends the process (it can't
 * be caught), so we only use it when the flag is known to be on: a deno.json enabling it is in
 * effect (found from the working directory up, as Deno finds it), or this is a binary from
 * `deno task compile`. `SPATE_SANDBOX=1` or `0` forces the choice.
 */
export function sandboxAvailable(): boolean {
  if (sandboxCache !== undefined) return sandboxCache;
  let forced: string | undefined;
  try {
    forced = Deno.env.get("SPATE_SANDBOX");
  } catch { /* no env permission */ }
  if (forced === "1" || forced === "0") return sandboxCache = forced === "1";
  if (import.meta.url.includes("/deno-compile-")) return sandboxCache = true;
  try {
    let dir = Deno.cwd();
    for (;;) {
      for (const name of ["deno.json", "deno.jsonc"]) {
        let text: string | undefined;
        try {
          text = Deno.readTextFileSync(`${dir}/${name}`);
        } catch { /* not here */ }
        if (text !== undefined) {
          return sandboxCache = /"unstable"\s*:\s*\[[^\]]*"worker-options"/.test(text);
        }
      }
      const parent = dir.replace(/\/[^/]*$/, "");
      if (parent === dir || parent === "") break;
      dir = parent;
    }
  } catch { /* no read permission: assume no flag */ }
  return sandboxCache = false;
}

/** One VU host Worker. */
export class VUHost {
  readonly #worker: Worker;
  readonly #listener: HostListener;
  readonly #pendingRuns = new Map<number, (o: IterationOutcome) => void>();
  readonly #pendingInits = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  readonly #pendingCalls = new Map<number, (r: CallResult) => void>();
  readonly #pendingFlush = new Map<number, () => void>();
  #ready?: () => void;
  #options?: { resolve: (r: OptionsPassResult) => void; reject: (e: Error) => void };
  #closed?: () => void;
  #seq = 0;
  /** Set when the Worker died: every later call settles at once instead of waiting forever. */
  #dead?: SpateError;
  /** VUs this host holds (for balancing). */
  vuCount = 0;
  /** Whether the Worker runs sandboxed (needs --unstable-worker-options). */
  readonly sandboxed: boolean;
  /** Worker-per-VU mode: wakes a VU blocked in the bridge (it can't read messages then). */
  io?: { interrupt(): void; close(): void };

  private constructor(
    listener: HostListener,
    readDir: string | undefined,
    sandbox: boolean,
  ) {
    this.#listener = listener;
    let worker: Worker;
    let sandboxed = sandbox;
    try {
      if (!sandbox) throw new Error("no sandbox");
      worker = new Worker(workerUrl, {
        type: "module",
        deno: {
          permissions: {
            net: true,
            read: readDir ? [readDir] : false,
            write: false,
            // Only the two switches the npm ws client (k6/ws) reads when it loads.
            env: ["WS_NO_BUFFER_UTIL", "WS_NO_UTF_8_VALIDATE"],
            run: false,
            ffi: false,
            sys: false,
            import: false,
          },
        },
      } as WorkerOptions);
    } catch {
      // Without --unstable-worker-options (deno.json enables it) Workers inherit our permissions.
      sandboxed = false;
      worker = new Worker(workerUrl, { type: "module" });
    }
    this.sandboxed = sandboxed;
    this.#worker = worker;
    worker.onmessage = (e: MessageEvent<HostEvent>) => this.#onEvent(e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      listener.onCrash(e.message);
      this.#failAll(new SpateError("internal", `VU host crashed: ${e.message}`));
    };
  }

  /** Starts a host and initialises it with the compiled script. */
  static async start(
    init: Omit<Extract<HostCommand, { t: "init" }>, "t">,
    listener: HostListener,
    readDir?: string,
  ): Promise<VUHost> {
    const host = new VUHost(listener, readDir, sandboxAvailable());
    const ready = new Promise<void>((resolve) => (host.#ready = resolve));
    host.#worker.postMessage(
      { t: "init", ...init, sandboxed: host.sandboxed },
      init.sync ? [init.sync.port] : [],
    );
    await ready;
    if (host.#dead) throw host.#dead;
    return host;
  }

  /** Whether the Worker is gone (it crashed, or {@link VUHost.kill} ended it). */
  get dead(): boolean {
    return this.#dead !== undefined;
  }

  /** Runs the options pass (init code with __VU = 0). */
  optionsPass(): Promise<OptionsPassResult> {
    if (this.#dead) return Promise.reject(this.#dead);
    return new Promise((resolve, reject) => {
      this.#options = { resolve, reject };
      this.#send({ t: "optionsPass" });
    });
  }

  /** Replaces the host's settings (after the options pass, with the final config). */
  configure(config: HostConfig): void {
    this.#send({ t: "configure", config });
  }

  /** Initialises VU `id` (runs the init code). Rejects with a script error. */
  initVU(id: number): Promise<void> {
    this.vuCount++;
    if (this.#dead) return Promise.reject(this.#dead);
    return new Promise((resolve, reject) => {
      this.#pendingInits.set(id, { resolve, reject });
      this.#send({ t: "initVU", id });
    });
  }

  activate(id: number, activation: Activation): void {
    this.#send({ t: "activate", id, activation });
  }

  run(id: number, iterationInTest: number): Promise<IterationOutcome> {
    if (this.#dead) return Promise.resolve("interrupted");
    return new Promise((resolve) => {
      this.#pendingRuns.set(id, resolve);
      this.#send({ t: "run", id, iterationInTest });
    });
  }

  interrupt(id: number): void {
    this.io?.interrupt();
    this.#send({ t: "interrupt", id });
  }

  /**
   * Ends the Worker at once, for a VU that doesn't hear interrupts because it never yields:
   * whatever is pending resolves as failed (runs as "interrupted"), and later calls fail.
   */
  kill(reason: string): void {
    if (this.#dead) return;
    this.io?.close();
    this.#worker.terminate();
    this.#failAll(new SpateError("script", reason));
  }

  /** Whether the Worker answers a flush within `ms` (its thread isn't stuck in script code). */
  async responsive(ms: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), ms));
    try {
      return await Promise.race([this.flush().then(() => true), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  setSetupData(json: string | undefined): void {
    this.#send({ t: "setupData", json });
  }

  /** Calls setup/teardown/handleSummary in a fresh transient VU. */
  call(name: string, argJson: string | undefined, stage: VUStage): Promise<CallResult> {
    const callId = ++this.#seq;
    if (this.#dead) return Promise.resolve({ error: this.#dead.message });
    return new Promise((resolve) => {
      this.#pendingCalls.set(callId, resolve);
      this.#send({ t: "call", callId, name, argJson, stage });
    });
  }

  interruptCall(): void {
    this.io?.interrupt();
    this.#send({ t: "interruptCall" });
  }

  /** Resolves once every sample emitted so far has been posted. */
  flush(): Promise<void> {
    const seq = ++this.#seq;
    if (this.#dead) return Promise.resolve();
    return new Promise((resolve) => {
      this.#pendingFlush.set(seq, resolve);
      this.#send({ t: "flush", seq });
    });
  }

  /** Flushes and ends the Worker. */
  async close(): Promise<void> {
    if (this.#dead) {
      this.terminate();
      return;
    }
    const closed = new Promise<void>((resolve) => (this.#closed = resolve));
    this.#send({ t: "close" });
    const timer = setTimeout(() => this.#closed?.(), 2000);
    await closed;
    clearTimeout(timer);
    this.io?.close();
    this.#worker.terminate();
  }

  /** Ends the Worker at once (second Ctrl+C, crash). */
  terminate(): void {
    this.io?.close();
    this.#worker.terminate();
  }

  #send(cmd: HostCommand): void {
    this.#worker.postMessage(cmd);
  }

  #onEvent(ev: HostEvent): void {
    switch (ev.t) {
      case "samples":
        this.#listener.onSamples(ev);
        break;
      case "ready":
        this.#ready?.();
        break;
      case "options":
        this.#options?.resolve(ev);
        this.#options = undefined;
        break;
      case "vuReady":
        this.#pendingInits.get(ev.id)?.resolve();
        this.#pendingInits.delete(ev.id);
        break;
      case "initError": {
        const err = new SpateError("script", ev.message);
        if (ev.id === 0 && this.#options) {
          this.#options.reject(err);
          this.#options = undefined;
        } else {
          this.#pendingInits.get(ev.id)?.reject(err);
          this.#pendingInits.delete(ev.id);
        }
        break;
      }
      case "done": {
        const resolve = this.#pendingRuns.get(ev.id);
        this.#pendingRuns.delete(ev.id);
        resolve?.(ev.outcome);
        break;
      }
      case "abort":
        this.#listener.onAbort(ev.message, ev.internal ?? false);
        break;
      case "markFailed":
        this.#listener.onMarkFailed(ev.message);
        break;
      case "console":
        this.#listener.onConsole?.(ev.level, ev.text);
        break;
      case "result":
        this.#pendingCalls.get(ev.callId)?.(ev);
        this.#pendingCalls.delete(ev.callId);
        break;
      case "flushed":
        this.#pendingFlush.get(ev.seq)?.();
        this.#pendingFlush.delete(ev.seq);
        break;
      case "closed":
        this.#closed?.();
        break;
    }
  }

  #failAll(err: SpateError): void {
    this.#dead = err;
    for (const r of this.#pendingRuns.values()) r("interrupted");
    this.#pendingRuns.clear();
    for (const p of this.#pendingInits.values()) p.reject(err);
    this.#pendingInits.clear();
    for (const c of this.#pendingCalls.values()) c({ error: err.message });
    this.#pendingCalls.clear();
    for (const f of this.#pendingFlush.values()) f();
    this.#pendingFlush.clear();
    this.#options?.reject(err);
    this.#ready?.();
    this.#closed?.();
  }
}
