/**
 * `spate run`: the test life cycle of runner.md §3.1, start to exit code.
 *
 * load script → options pass (sandboxed VU host) → consolidate config → validate thresholds
 * → outputs start → banner → init VUs → setup() → scenarios (with the periodic threshold
 * evaluator, progress line and signal handling) → teardown() → flush → final thresholds →
 * outputs stop → summary → exit code (runner.md §7).
 *
 * @example
 * ```ts
 * const code = await runTest({ script: "examples/quickstart.js", flags: {} }, Deno.env.toObject());
 * ```
 * @module
 */
import type { CliFlags } from "../config/cli.ts";
import { loadSecretSources, type SecretSources, secretValues } from "../secrets.ts";
import { consolidate, execTestOptions } from "../config/consolidate.ts";
import { loadConfigFile } from "../config/file.ts";
import { defaultHttpConfig } from "../config/defaults.ts";
import type { RunConfig, ScenarioConfig } from "../config/types.ts";
import { errorMessage, ExitCode, SpateError } from "../errors.ts";
import { describeExecution, executionPlan } from "../executor/mod.ts";
import { renderProgress, Scheduler } from "../executor/scheduler.ts";
import type { ExecutorContext, IterationOutcome } from "../executor/types.ts";
import { Logger, type LogLevel } from "../log.ts";
import { MetricsEngine } from "../metrics/engine.ts";
import { MetricRegistry } from "../metrics/metric.ts";
import { nowMs, type Sample } from "../metrics/sample.ts";
import { TagSetPool } from "../metrics/tags.ts";
import { OutputManager } from "../output/manager.ts";
import { createOutputs } from "../output/registry.ts";
import type { TestRunError } from "../output/types.ts";
import { type LoadedScript, loadScript } from "../script/loader.ts";
import { openArchiveIfAny } from "../script/archive_run.ts";
import { renderTextSummary } from "../summary/text.ts";
import { applyHandleSummaryResult } from "../summary/handle.ts";
import { SampleDecoder } from "../vu/_wire.ts";
import { type HostCommand, type HostListener, VUHost } from "../vu/host.ts";

type HostInit = Omit<Extract<HostCommand, { t: "init" }>, "t">;
import { HostPool } from "../vu/pool.ts";
import type { HostConfig } from "../vu/runtime.ts";
import { IoService, type ShadowStateInit } from "../vu/sync_bridge.ts";
import { SharedRpsLimiter } from "../http/rate_limiter.ts";
import type { Metric } from "../metrics/metric.ts";
import { banner } from "./_banner.ts";

/** What `spate run` needs from the outside world (injectable for tests). */
export interface RunEnvironment {
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Writes to stdout. */
  readonly stdout: (text: string | Uint8Array) => Promise<void>;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
}

const encoder = new TextEncoder();

/** The default environment: the real process. */
export function processEnvironment(): RunEnvironment {
  return {
    env: Deno.env.toObject(),
    cwd: Deno.cwd(),
    stdout: async (text) => {
      const bytes = typeof text === "string" ? encoder.encode(text) : text;
      let off = 0;
      while (off < bytes.length) off += await Deno.stdout.write(bytes.subarray(off));
    },
    stdoutIsTTY: Deno.stdout.isTerminal(),
    stderrIsTTY: Deno.stderr.isTerminal(),
  };
}

/** The result of {@link TestRun.prepare}. */
export interface PreparedTest {
  script: LoadedScript;
  config: RunConfig;
  /** Files opened during the options pass. */
  files: Array<[string, Uint8Array]>;
  /** `-e` values (and an archive's env). */
  cliEnv: Record<string, string>;
}

/** A run's first error decides its exit code (runner.md §3.7). */
type RunError = TestRunError;

/** Runs a test and returns the process exit code. Throws SpateError for pre-run errors. */
export async function runTest(
  cmd: { script: string; flags: CliFlags },
  runEnv: RunEnvironment = processEnvironment(),
): Promise<number> {
  const run = new TestRun(cmd.script, cmd.flags, runEnv);
  try {
    return await run.execute();
  } finally {
    await run.cleanup();
  }
}

/** One test run; `prepare()` alone serves `archive` and `inspect`. */
export class TestRun {
  readonly #scriptArg: string;
  readonly #flags: CliFlags;
  readonly #env: RunEnvironment;
  #logger: Logger;
  readonly #registry = new MetricRegistry();
  readonly #tagPool = new TagSetPool();
  #hosts: VUHost[] = [];
  /** How to start another host with the final settings (set once the config is final). */
  #freshHost?: () => Promise<VUHost>;
  #config!: RunConfig;
  #engine!: MetricsEngine;
  #manager?: OutputManager;
  #pool!: HostPool;
  #runError: RunError | undefined;
  #markedFailed = false;
  readonly #abort = new AbortController();
  #timers: Array<ReturnType<typeof setInterval>> = [];
  #signals: Array<[Deno.Signal, () => void]> = [];
  #testStart = 0;
  #complete = 0;
  #interrupted = 0;
  #setupFailed = false;
  #progressLines = 0;
  #pendingSamples: Sample[] = [];
  /** `--secret-source` values (k6/secrets). */
  #secrets: SecretSources = {};

  constructor(script: string, flags: CliFlags, env: RunEnvironment) {
    this.#scriptArg = script;
    this.#flags = flags;
    this.#env = env;
    this.#logger = this.#makeLogger(flags.verbose ? "debug" : "info");
  }

  /** `--log-format` / K6_LOG_FORMAT; anything else is k6's text format. */
  #logFormat(): "text" | "json" | "raw" {
    const fmt = this.#flags.logFormat ?? this.#env.env.K6_LOG_FORMAT;
    return fmt === "json" || fmt === "raw" ? fmt : "text";
  }

  #makeLogger(level: LogLevel): Logger {
    const format = this.#logFormat();
    const output = this.#flags.logOutput ?? this.#env.env.K6_LOG_OUTPUT ?? "stderr";
    let sink: ((line: string) => void) | undefined;
    if (output === "none") sink = () => {};
    else if (output === "stdout") {
      sink = (line) => Deno.stdout.writeSync(encoder.encode(line + "\n"));
    } else if (output.startsWith("file=")) {
      const file = Deno.openSync(output.slice(5), { append: true, create: true });
      sink = (line) => file.writeSync(encoder.encode(line + "\n"));
    }
    const noColor = this.#noColor();
    return new Logger({
      level,
      format,
      sink,
      tty: this.#env.stderrIsTTY && output === "stderr",
      color: this.#env.stderrIsTTY && !noColor,
    });
  }

  #noColor(): boolean {
    return this.#flags.noColor ?? ((this.#env.env.K6_NO_COLOR ?? "") !== "" ||
      "NO_COLOR" in this.#env.env);
  }

  /**
   * Steps 1–3 of the life cycle: load the script (or archive) and the config file, run the
   * options pass in a sandboxed host, consolidate and validate. Used by `run`, `archive` and
   * `inspect`.
   */
  async prepare(): Promise<PreparedTest> {
    const flags = this.#flags;
    const env = this.#env.env;
    // Secret sources first: their values are hidden from every log line from here on.
    this.#secrets = loadSecretSources(flags.secretSource ?? [], this.#env.cwd, env);
    this.#logger.redactValues(secretValues(this.#secrets));
    // 1. Load the script (or the archive) and the config file.
    const file = loadConfigFile({ flagPath: flags.config, env });
    const archive = await openArchiveIfAny(this.#scriptArg, this.#env.cwd, flags.type);
    if (archive) this.#tempDirs.push(archive.dir);
    const script = await loadScript(archive?.scriptPath ?? this.#scriptArg, this.#env.cwd);
    const includeSystemEnv = flags.includeSystemEnvVars ??
      (env.K6_INCLUDE_SYSTEM_ENV_VARS === undefined
        ? true
        : env.K6_INCLUDE_SYSTEM_ENV_VARS !== "false");
    const cliEnv = { ...(archive?.env ?? {}), ...(flags.env ?? {}) };
    const scriptEnv = { ...(includeSystemEnv ? env : {}), ...cliEnv };

    // 2. Options pass in a sandboxed host that may read the script's folder.
    const scriptDir = script.path.replace(/\/[^/]*$/, "") || "/";
    const preConfig = this.#hostConfig(script, scriptEnv, undefined);
    this.#script = script;
    const first = await this.#startHost(this.#hostInit(script, preConfig, [], true), scriptDir);
    this.#hosts.push(first);
    const pass = await first.optionsPass();
    this.#logger.debug(
      `script mode: ${
        script.mode === "async"
          ? "many VUs per isolate (async transform)"
          : `Worker per VU: ${script.reason}`
      }`,
    );
    if (!first.sandboxed) {
      this.#logger.debug("VU sandbox unavailable: run with --unstable-worker-options");
    }
    for (const [name, type, contains] of pass.metrics) {
      this.#registry.register(name, type, contains);
    }

    // 3. Consolidate and validate.
    const exported = Object.keys(pass.exportTypes).filter((k) =>
      pass.exportTypes[k] === "function"
    );
    if (exported.length === 0) throw new SpateError("script", "no exported functions in script");
    const { config, warnings } = consolidate({
      fileConfig: file.config,
      filePath: file.path,
      // An archive carries the options consolidated when it was made (k6 reads them so).
      script: archive ? archive.options : pass.options ?? {},
      env,
      cli: { ...flags, env: cliEnv },
      exportedFunctions: exported,
    });
    this.#config = config;
    this.#configSet = true;
    if (config.consoleOutput !== undefined) this.#consoleLog = this.#openConsoleOutput(config);
    if (config.verbose) this.#logger.level = "debug";
    for (const w of warnings) this.#logger.warn(w);
    this.#validateExports(pass.exportTypes);
    this.#engine = new MetricsEngine({
      registry: this.#registry,
      thresholds: config.thresholds,
      systemTags: config.systemTags,
      noThresholds: config.noThresholds,
      summaryTrendStats: config.summaryTrendStats,
      perGroupAndScenario: config.summaryMode === "full",
      logger: this.#logger,
    });
    return { script, config, files: pass.files, cliEnv };
  }

  async execute(): Promise<number> {
    const env = this.#env.env;
    const { script, config, files } = await this.prepare();
    const plan = executionPlan(config.scenarios);

    // 4. Outputs, banner.
    const outputs = await createOutputs(
      config.out,
      {
        env,
        scriptEnv: config.cliEnv,
        scriptPath: script.path,
        options: config.options,
        executionPlan: { maxVUs: plan.maxVUs, maxDurationSec: plan.maxDurationMs / 1000 },
        metrics: this.#registry.all(),
        runId: crypto.randomUUID(),
        logger: this.#logger,
        stdout: (bytes) => this.#env.stdout(bytes),
      },
      config.collectors,
      { thresholds: this.#engine.thresholdsForOutputs() },
    );
    this.#manager = new OutputManager(outputs, {
      logger: this.#logger,
      consumer: (samples) => this.#engine.addMetricSamples(samples),
      onStopRequest: (err) => this.#fail(err),
    });
    this.#manager.push(this.#pendingSamples);
    this.#pendingSamples = [];
    await this.#manager.start();
    if (!config.quiet) {
      await this.#env.stdout(
        banner({
          color: this.#env.stdoutIsTTY && !config.noColor,
          script: this.#scriptArg,
          outputs: this.#manager.descriptions(),
          execution: describeExecution(config.scenarios),
        }),
      );
    }
    this.#installSignals();

    // 5. Init VUs (more hosts share the work), vus/vus_max sampling.
    const hostConfig = this.#hostConfig(script, config.scriptEnv, config);
    const hostCount = Math.max(1, Math.min(hostsWanted(env), Math.ceil(plan.maxVUs / 50)));
    // The first host did the options pass (its read access now revoked) before the config
    // was final: it gets the final settings before any of the test's VUs is created.
    this.#hosts[0].configure(hostConfig);
    this.#freshHost = () => this.#startHost(this.#hostInit(script, hostConfig, files, false));
    const shadow = this.#shadowInit(config);
    for (const h of this.#hosts) (h.io as IoService | undefined)?.reconfigure(shadow);
    if (script.mode === "worker") {
      this.#logger.warn(
        `running one Worker per VU (slower, exact): ${script.reason}`,
      );
      this.#pool = new HostPool(
        this.#hosts,
        () => this.#startHost(this.#hostInit(script, hostConfig, files, false)),
      );
    } else {
      for (let i = 1; i < hostCount; i++) {
        this.#hosts.push(
          await this.#startHost(this.#hostInit(script, hostConfig, files, false)),
        );
      }
      this.#pool = new HostPool(this.#hosts);
    }
    this.#startVUSampler();
    try {
      await this.#pool.initVUs(plan.initVUs);
    } catch (err) {
      this.#fail({
        message: errorMessage(err),
        exitCode: ExitCode.ScriptException,
        abortReason: "script-error",
      });
      return await this.#finish(undefined);
    }

    // 6-9. setup, scenarios, teardown.
    this.#testStart = performance.now();
    const setupData = await this.#setup();
    if (!this.#runError) {
      for (const h of this.#hosts) h.setSetupData(setupData);
      const scheduler = new Scheduler(config.scenarios, {
        pool: this.#pool,
        makeContext: (s) => this.#executorContext(s),
        abortSignal: this.#abort.signal,
        now: () => performance.now(),
        sleep: (ms, signal) => abortableSleep(ms, signal),
      });
      this.#progressSnapshot = () => scheduler.progress();
      this.#startThresholdEvaluator();
      this.#startProgress();
      this.#timers.push(setTimeout(() => this.#vuTick(), 0));
      try {
        await scheduler.run();
      } catch (err) {
        this.#fail({
          message: `scenario failed: ${errorMessage(err)}`,
          exitCode: ExitCode.InternalError,
          abortReason: "script-error",
        });
      }
      this.#stopProgress();
    }
    if (!this.#setupFailed) await this.#teardown(setupData);
    return await this.#finish(setupData);
  }

  #script?: LoadedScript;
  /** The `rps` bucket every host shares. */
  readonly #rpsBuffer = SharedRpsLimiter.buffer();

  /** Starts a VU host; in the Worker-per-VU mode also its synchronous bridge. */
  async #startHost(
    init: HostInit,
    readDir?: string,
  ): Promise<VUHost> {
    if (this.#script?.mode !== "worker") {
      return await VUHost.start(init, this.#listener(), readDir);
    }
    const channel = new MessageChannel();
    const control = new SharedArrayBuffer(8);
    const io = new IoService(
      { port: channel.port1, control },
      this.#shadowInit(this.#configOrUndefined()),
    );
    const host = await VUHost.start(
      { ...init, sync: { port: channel.port2, control } },
      this.#listener(),
      readDir,
    );
    host.io = io;
    return host;
  }

  #configOrUndefined(): RunConfig | undefined {
    return this.#configSet ? this.#config : undefined;
  }

  #configSet = false;

  /** The runner-side state that serves one worker-mode VU's HTTP calls. */
  #shadowInit(config: RunConfig | undefined): ShadowStateInit {
    const pre = this.#hostConfig(this.#script!, {}, config);
    return {
      id: 0,
      http: pre.http,
      systemTags: new Set(pre.systemTags),
      throwErrors: pre.throwErrors,
      registry: this.#registry,
      logger: this.#logger,
      emit: (tags, time, values, metadata) => this.#emitMain(tags, time, values, metadata),
      rateLimiter: pre.rpsBuffer ? new SharedRpsLimiter(pre.rpsBuffer, pre.http.rps) : undefined,
    };
  }

  /** Emits samples produced on the runner's own thread (worker-mode HTTP). */
  #emitMain(
    tags: Readonly<Record<string, string>>,
    time: number,
    values: ReadonlyArray<readonly [Metric, number]>,
    metadata?: Readonly<Record<string, string>>,
  ): void {
    const set = this.#tagPool.intern(tags);
    const samples: Sample[] = values.map(([metric, value]) => ({
      metric,
      tags: set,
      time,
      value,
      metadata,
    }));
    if (this.#manager) this.#manager.push(samples);
    else this.#pendingSamples.push(...samples);
  }

  /** A listener for one host: each host interns its own tag-set and metric ids. */
  #listener(): HostListener {
    const decoder = new SampleDecoder(this.#tagPool, this.#registry);
    return {
      onSamples: (batch) => {
        // Decoded when dispatched, so the Sample objects die young (see OutputManager).
        if (this.#manager) this.#manager.pushEncoded(decoder.deferred(batch));
        else decoder.decodeInto(batch, this.#pendingSamples);
      },
      onAbort: (message, internal) => {
        this.#fail({
          message,
          exitCode: internal ? ExitCode.InternalError : ExitCode.ScriptAborted,
          abortReason: "script-abort",
        });
      },
      onConsole: (level, text) => this.#consoleLog?.log(level, text, { source: "console" }),
      onMarkFailed: (message) => {
        this.#markedFailed = true;
        this.#logger.error(message);
      },
      onCrash: (message) => {
        this.#fail({
          message: `VU host crashed: ${message}`,
          exitCode: ExitCode.InternalError,
          abortReason: "script-error",
        });
      },
    };
  }

  #hostConfig(
    script: LoadedScript,
    scriptEnv: Record<string, string> | Readonly<Record<string, string>>,
    config: RunConfig | undefined,
  ): HostConfig {
    return {
      scriptPath: script.path,
      http: config?.http ?? defaultHttpConfig,
      systemTags: config ? [...config.systemTags] : [],
      runTags: config?.tags ?? {},
      throwErrors: config?.throw ?? false,
      minIterationDuration: config?.minIterationDuration ?? 0,
      options: config ? execTestOptions(config) : {},
      scriptEnv: { ...scriptEnv },
      logLevel: this.#logger.level === "debug" ? "debug" : "info",
      rpsBuffer: config && config.http.rps > 0 ? this.#rpsBuffer : undefined,
      consoleToRunner: config?.consoleOutput !== undefined,
      secrets: this.#secrets,
    };
  }

  #hostInit(
    script: LoadedScript,
    config: HostConfig,
    files: Array<[string, Uint8Array]>,
    readFiles: boolean,
  ): HostInit {
    return {
      factorySource: script.factorySource,
      sourceMap: script.sourceMap,
      config,
      metrics: this.#registry.all().map((m) =>
        [m.name, m.type, m.contains] as [
          string,
          typeof m.type,
          typeof m.contains,
        ]
      ),
      files,
      readFiles,
      logFormat: this.#logFormat(),
      logTty: this.#env.stderrIsTTY,
      logColor: this.#env.stderrIsTTY && !this.#noColor(),
    };
  }

  /** Lifecycle exports must be functions (exec names were checked by the consolidation). */
  #validateExports(exportTypes: Record<string, string>) {
    for (const name of ["setup", "teardown", "handleSummary"]) {
      if (name in exportTypes && exportTypes[name] !== "function") {
        throw new SpateError("script", `exported ${name} must be a function`);
      }
    }
    this.#hasSetup = exportTypes.setup === "function";
    this.#hasTeardown = exportTypes.teardown === "function";
    this.#hasHandleSummary = exportTypes.handleSummary === "function";
  }

  #hasSetup = false;
  #hasTeardown = false;
  #hasHandleSummary = false;

  #fail(err: RunError): void {
    if (!this.#runError) {
      this.#runError = err;
      if (err.exitCode !== ExitCode.ThresholdsHaveFailed || err.abortReason === "threshold") {
        this.#logger.error(err.message);
      }
    }
    this.#abort.abort();
  }

  #inSetup = false;

  async #setup(): Promise<string | undefined> {
    if (!this.#hasSetup || this.#config.noSetup) return undefined;
    this.#inSetup = true;
    const r = await this.#withTimeout(
      this.#hosts[0].call("setup", undefined, "setup"),
      this.#config.setupTimeout,
      () => this.#hosts[0].interruptCall(),
    ).finally(() => (this.#inSetup = false));
    if (r === "timeout") {
      this.#setupFailed = true;
      this.#fail({
        message: `setup() execution timed out after ${this.#config.setupTimeout / 1000} seconds`,
        exitCode: ExitCode.SetupTimeout,
        abortReason: "timeout",
      });
      return undefined;
    }
    if (r.error !== undefined) {
      this.#setupFailed = true;
      this.#fail({
        message: r.error,
        exitCode: r.aborted ? ExitCode.ScriptAborted : ExitCode.ScriptException,
        abortReason: r.aborted ? "script-abort" : "script-error",
      });
      return undefined;
    }
    return r.json;
  }

  /**
   * The host for teardown and handleSummary: the first one, or a fresh one when the first was
   * ended (a VU stuck in an endless loop takes its host down; teardown still runs, as in k6).
   */
  async #callHost(): Promise<VUHost> {
    const first = this.#hosts[0];
    if (!first.dead || !this.#freshHost) return first;
    const fresh = await this.#freshHost();
    this.#hosts[0] = fresh;
    this.#hosts.push(first); // still closed at the end
    return fresh;
  }

  async #teardown(setupData: string | undefined): Promise<void> {
    if (!this.#hasTeardown || this.#config.noTeardown) return;
    const host = await this.#callHost();
    const r = await this.#withTimeout(
      host.call("teardown", setupData, "teardown"),
      this.#config.teardownTimeout,
      () => host.interruptCall(),
    );
    if (r === "timeout") {
      this.#fail({
        message: `teardown() execution timed out after ${
          this.#config.teardownTimeout / 1000
        } seconds`,
        exitCode: ExitCode.TeardownTimeout,
        abortReason: "timeout",
      });
    } else if (r.error !== undefined) {
      this.#fail({
        message: r.error,
        exitCode: r.aborted ? ExitCode.ScriptAborted : ExitCode.ScriptException,
        abortReason: r.aborted ? "script-abort" : "script-error",
      });
    }
  }

  async #withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T | "timeout"> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => {
        onTimeout();
        resolve("timeout");
      }, ms);
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #executorContext(scenario: ScenarioConfig): ExecutorContext {
    const warned = new Set<string>();
    const dropped = this.#registry.get("dropped_iterations")!;
    const baseTags: Record<string, string> = { ...this.#config.tags, ...scenario.tags };
    if (this.#config.systemTags.has("scenario")) baseTags.scenario = scenario.name;
    return {
      pool: this.#pool,
      abortSignal: this.#abort.signal,
      emitDropped: (count, vuId) => {
        const tags = this.#tagPool.intern(baseTags);
        const metadata = vuId !== undefined && this.#config.systemTags.has("vu")
          ? { vu: String(vuId) }
          : undefined;
        this.#manager!.push([{ metric: dropped, tags, time: nowMs(), value: count, metadata }]);
      },
      activeVUsChanged: () => {},
      iterationEnded: (outcome: IterationOutcome) => {
        if (outcome === "complete") this.#complete++;
        else this.#interrupted++;
      },
      warn: (message) => {
        if (warned.has(message)) return;
        warned.add(message);
        this.#logger.warn(message);
      },
      now: () => performance.now(),
      sleep: abortableSleep,
    };
  }

  #startVUSampler(): void {
    const vus = this.#registry.get("vus")!;
    const vusMax = this.#registry.get("vus_max")!;
    const tags = this.#tagPool.intern(this.#config.tags);
    const tick = () => {
      const time = nowMs();
      this.#manager?.push([
        { metric: vus, tags, time, value: this.#pool.running, metadata: undefined },
        { metric: vusMax, tags, time, value: this.#pool.initialized, metadata: undefined },
      ]);
    };
    this.#timers.push(setInterval(tick, 1000));
    this.#vuTick = tick;
  }

  /**
   * One `vus`/`vus_max` sample right after the scenarios start, so that runs shorter than the
   * 1 s period have one too. There is no sample after the run: k6's summary shows the last
   * active count (`vus: 10 min=10 max=10`), not the zero left once every VU has stopped.
   */
  #vuTick: () => void = () => {};

  #startThresholdEvaluator(): void {
    if (this.#config.noThresholds) return;
    this.#timers.push(setInterval(() => {
      const r = this.#engine.evaluateThresholds({
        final: false,
        elapsedMs: performance.now() - this.#testStart,
      });
      if (r.abort) {
        this.#fail({
          message: r.abort.message,
          exitCode: ExitCode.ThresholdsHaveFailed,
          abortReason: "threshold",
        });
      }
    }, 2000));
  }

  #progressTimer?: ReturnType<typeof setInterval>;

  #startProgress(): void {
    if (this.#config.quiet) return;
    const tty = this.#env.stdoutIsTTY;
    const draw = () => {
      if (!this.#progressSnapshot) return;
      const lines = renderProgress(this.#progressSnapshot(), {
        vus: this.#pool.running,
        vusMax: this.#pool.initialized,
        complete: this.#complete,
        interrupted: this.#interrupted,
        elapsedMs: performance.now() - this.#testStart,
        bar: tty,
      });
      let text = "";
      if (tty && this.#progressLines > 0) text += `\x1b[${this.#progressLines}A\x1b[J`;
      text += lines.join("\n") + "\n";
      this.#progressLines = tty ? lines.length : 0;
      Deno.stdout.writeSync(encoder.encode(text));
    };
    this.#drawProgress = draw;
    this.#progressTimer = setInterval(draw, tty ? 100 : 1000);
  }

  #drawProgress: () => void = () => {};
  #progressSnapshot?: () => ReturnType<Scheduler["progress"]>;

  #stopProgress(): void {
    if (this.#progressTimer !== undefined) {
      clearInterval(this.#progressTimer);
      this.#progressTimer = undefined;
      this.#drawProgress();
    }
  }

  /**
   * First SIGINT/SIGTERM: a graceful stop (issue #3). No new iterations start; the running
   * ones get up to the scenarios' longest `gracefulStop` to finish, then the rest are
   * interrupted; teardown and the summary run and the exit code is 105. A second signal ends
   * the process at once.
   */
  #installSignals(): void {
    let count = 0;
    const handler = () => {
      if (this.#lingering) {
        // --linger: the run is over; this signal only lets the summary through.
        const release = this.#lingering;
        this.#lingering = undefined;
        return release();
      }
      count++;
      if (count === 1) {
        this.#logger.info(
          "Stopping the test run gracefully: running iterations may finish (press Ctrl+C " +
            "again to stop at once)...",
        );
        void this.#gracefulStop();
      } else {
        for (const h of this.#hosts) h.terminate();
        Deno.exit(ExitCode.ExternalAbort);
      }
    };
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      try {
        Deno.addSignalListener(sig, handler);
        this.#signals.push([sig, handler]);
      } catch { /* not supported here */ }
    }
  }

  async #gracefulStop(): Promise<void> {
    const stop = () =>
      this.#fail({
        message: "test run was aborted because k6 received a 'interrupt' signal",
        exitCode: ExitCode.ExternalAbort,
        abortReason: "user",
      });
    const pool = this.#pool as HostPool | undefined;
    if (this.#inSetup) {
      // setup() is interrupted; teardown does not run after a failed setup (runner.md §3.5).
      stop();
      this.#hosts[0].interruptCall();
      return;
    }
    if (!pool || this.#abort.signal.aborted) return stop();
    const aborted = new Promise<void>((resolve) =>
      this.#abort.signal.addEventListener("abort", () => resolve(), { once: true })
    );
    pool.stopStarting(aborted);
    const grace = Math.max(0, ...this.#config.scenarios.map((s) => s.gracefulStop));
    const until = performance.now() + grace;
    while (pool.running > 0 && performance.now() < until && !this.#abort.signal.aborted) {
      await abortableSleep(50, this.#abort.signal);
    }
    stop();
  }

  #lingering?: () => void;
  #consoleLog?: Logger;
  #consoleFile?: Deno.FsFile;

  /** `--console-output`: the script's console lines go to this file, in k6's logfmt form. */
  #openConsoleOutput(config: RunConfig): Logger {
    const path = config.consoleOutput!;
    try {
      this.#consoleFile = Deno.openSync(path, { write: true, create: true, truncate: true });
    } catch (err) {
      throw new SpateError(
        "io",
        `could not create the console output file "${path}": ${errorMessage(err)}`,
      );
    }
    const file = this.#consoleFile;
    return new Logger({
      level: this.#logger.level,
      tty: false,
      sink: (line) => file.writeSync(encoder.encode(line + "\n")),
    });
  }

  /** `--linger` (runner.md §1.2): after teardown, wait for Ctrl+C before the summary. */
  async #linger(): Promise<void> {
    this.#logger.info(
      "The test is done, but --linger was enabled, so spate is waiting for Ctrl+C to continue...",
    );
    await new Promise<void>((resolve) => (this.#lingering = resolve));
  }

  async #finish(setupData: string | undefined): Promise<number> {
    this.#stopProgress();
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await Promise.all(this.#hosts.map((h) => h.flush()));
    this.#manager?.flush();
    const testRunDurationMs = this.#testStart ? performance.now() - this.#testStart : 0;
    if (!this.#config.noThresholds) {
      const r = this.#engine.evaluateThresholds({ final: true, elapsedMs: testRunDurationMs });
      if (r.failedMetrics.length > 0 && !this.#runError) {
        this.#runError = {
          message: `thresholds on metrics '${r.failedMetrics.join(", ")}' have been crossed`,
          exitCode: ExitCode.ThresholdsHaveFailed,
          abortReason: "thresholds-after-end",
        };
        this.#logger.error(this.#runError.message);
      }
    }
    if (!this.#runError && this.#markedFailed) {
      this.#runError = { message: "test marked as failed", exitCode: ExitCode.MarkedAsFailed };
    }
    await this.#manager?.stop(this.#runError ?? null);
    for (const s of this.#manager?.stats() ?? []) {
      if (s.droppedSamples > 0) {
        this.#logger.warn(
          `output ${s.name} could not deliver ${s.droppedSamples} samples${
            s.note ? `: ${s.note}` : ""
          }`,
        );
      }
    }
    if (this.#config.linger && !this.#runError) await this.#linger();
    if (this.#config.summaryMode !== "disabled") {
      await this.#summary(testRunDurationMs, setupData);
    }
    return this.#runError?.exitCode ?? 0;
  }

  async #summary(testRunDurationMs: number, setupData: string | undefined): Promise<void> {
    const config = this.#config;
    const color = this.#env.stdoutIsTTY && !config.noColor;
    const data = this.#engine.summaryData({
      testRunDurationMs,
      setupData: setupData === undefined ? undefined : JSON.parse(setupData),
      isStdOutTTY: this.#env.stdoutIsTTY,
      isStdErrTTY: this.#env.stderrIsTTY,
      noColor: config.noColor,
      summaryTimeUnit: config.summaryTimeUnit,
    });
    const defaultText = () =>
      renderTextSummary(data, {
        mode: config.summaryMode === "full" ? "full" : "compact",
        color,
        trendStats: config.summaryTrendStats,
        timeUnit: config.summaryTimeUnit,
      }) + this.#deliveryNote();
    const summaryExport = config.summaryExport ? { path: config.summaryExport, data } : undefined;
    let result: unknown = undefined;
    if (this.#hasHandleSummary) {
      const host = await this.#callHost();
      const r = await this.#withTimeout(
        host.call("handleSummary", JSON.stringify(data), "summary"),
        config.handleSummaryTimeout,
        () => host.interruptCall(),
      );
      if (r === "timeout") {
        this.#logger.error("handleSummary() execution timed out");
      } else if (r.error !== undefined) {
        this.#logger.error(r.error, { hint: "failed to handle the end-of-test summary" });
      } else {
        result = r.summary;
      }
    }
    let writes;
    try {
      writes = applyHandleSummaryResult(result, { summaryExport, defaultText });
    } catch (err) {
      this.#logger.error(`failed to handle the end-of-test summary: ${errorMessage(err)}`);
      writes = applyHandleSummaryResult(undefined, { summaryExport, defaultText });
    }
    for (const w of writes) {
      try {
        if (w.dest === "stdout") await this.#env.stdout(w.content);
        else if (w.dest === "stderr") {
          const bytes = typeof w.content === "string" ? encoder.encode(w.content) : w.content;
          Deno.stderr.writeSync(bytes);
        } else {
          const path = w.dest.startsWith("/") ? w.dest : `${this.#env.cwd}/${w.dest}`;
          if (typeof w.content === "string") await Deno.writeTextFile(path, w.content);
          else await Deno.writeFile(path, w.content);
        }
      } catch (err) {
        this.#logger.error(
          `failed to handle the end-of-test summary: could not write ${w.dest}: ${
            errorMessage(err)
          }`,
        );
      }
    }
  }

  #deliveryNote(): string {
    const lines = (this.#manager?.stats() ?? []).filter((s) => s.droppedSamples > 0).map((s) =>
      `    ${s.name}: ${s.droppedSamples} samples not delivered${s.note ? ` (${s.note})` : ""}`
    );
    return lines.length ? `\n\n  █ OUTPUTS \n\n${lines.join("\n")}` : "";
  }

  readonly #tempDirs: string[] = [];

  async cleanup(): Promise<void> {
    for (const dir of this.#tempDirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
    for (const t of this.#timers) clearInterval(t);
    if (this.#progressTimer !== undefined) clearInterval(this.#progressTimer);
    for (const [sig, h] of this.#signals) Deno.removeSignalListener(sig, h);
    await Promise.all(this.#hosts.map((h) => h.close().catch(() => h.terminate())));
    this.#hosts = [];
    // After the hosts: their last console lines arrive while they close.
    this.#consoleFile?.close();
    this.#consoleFile = undefined;
  }
}

function hostsWanted(env: Readonly<Record<string, string>>): number {
  const fromEnv = Number(env.SPATE_VU_HOSTS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener("abort", done, { once: true });
  });
}
