/**
 * `--out cloud`: streams metrics to the Grafana Cloud k6 ingest (outputs-cloud.md), creating
 * the test run at start (or pushing into `K6_CLOUD_PUSH_REF_ID`), pushing aggregated metrics
 * every `metricPushInterval`, and finishing the run with the threshold results and a run
 * status derived from how the test ended.
 *
 * Beyond k6: pushes that fail after the client's retries are not dropped at once; their
 * encoded bodies stay in a bounded queue (same idempotency key) and are retried on the next
 * interval and at stop. Whatever still is not delivered is counted and reported by `stats()`.
 *
 * @example
 * ```ts
 * import cloudOutput from "./lib/output/cloud/mod.ts";
 * const output = await cloudOutput(params);
 * await output.start();
 * console.log(output.description()); // cloud (https://app.k6.io/runs/123)
 * ```
 * @module
 */
import { defaultConfigPath, readStoredCloudConfig } from "../../cmd/login.ts";
import { ExitCode, invalidConfig, SpateError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import type { Sample } from "../../metrics/sample.ts";
import type { Output, OutputParams, OutputStats, TestRunError, Threshold } from "../types.ts";
import { CloudApiError, CloudClient, type CreateTestRunBody } from "./client.ts";
import {
  applyServerOverride,
  type CloudConfig,
  type CloudConfigLayer,
  finalizeCloudConfig,
  mergeCloudSources,
} from "./config.ts";
import { type MetricsPipeline, type Payload, V2Pipeline } from "./pipeline.ts";
import { V1Pipeline } from "./v1.ts";

export { type CloudConfig, resolveCloudConfig } from "./config.ts";

/** System tags the cloud needs (§1.3). */
const requiredSystemTags = ["name", "method", "status", "error", "check", "group"];

/** `run_status` codes (§6). */
export const RunStatus = {
  Finished: 3,
  TimedOut: 4,
  AbortedUser: 5,
  AbortedSystem: 6,
  AbortedScriptError: 7,
  AbortedThreshold: 8,
  AbortedLimit: 9,
} as const;

/** Maps how the local run ended to the cloud `run_status` (§6). */
export function runStatusFor(err: TestRunError | null): number {
  if (!err) return RunStatus.Finished;
  switch (err.abortReason) {
    case "user":
    case "script-abort":
      return RunStatus.AbortedUser;
    case "threshold":
      return RunStatus.AbortedThreshold;
    case "thresholds-after-end":
      return RunStatus.Finished;
    case "script-error":
      return RunStatus.AbortedScriptError;
    case "timeout":
      return RunStatus.AbortedLimit;
    case "output":
      return RunStatus.AbortedSystem;
    default:
      return err.exitCode === ExitCode.ThresholdsHaveFailed
        ? RunStatus.Finished
        : RunStatus.AbortedSystem;
  }
}

/** Test hooks and tunables; production uses the defaults. */
export interface CloudOutputDeps {
  fetch?: typeof fetch;
  /** Clock for bucket closing (ms since epoch). */
  now?: () => number;
  /** Bound of the queue of encoded-but-undelivered bodies (default 32 MiB). */
  maxPendingBytes?: number;
  /** Pause between attempts of one request (default 500 ms). */
  retryPauseMs?: number;
  /** Stop-time bounds (default 15 s each, §5.8). */
  stopWaitMs?: number;
}

/** Reads the script's thresholds from options when `setThresholds` was not called. */
function thresholdsFromOptions(
  options: Readonly<Record<string, unknown>>,
): Map<string, Threshold[]> {
  const out = new Map<string, Threshold[]>();
  const raw = options.thresholds;
  if (!raw || typeof raw !== "object") return out;
  for (const [name, list] of Object.entries(raw as Record<string, unknown>)) {
    const items = Array.isArray(list) ? list : [list];
    const ths: Threshold[] = [];
    for (const item of items) {
      if (typeof item === "string") {
        ths.push({ source: item, abortOnFail: false, lastFailed: false });
      } else if (item && typeof item === "object") {
        const o = item as Record<string, unknown>;
        const source = typeof o.source === "string"
          ? o.source
          : typeof o.threshold === "string"
          ? o.threshold
          : undefined;
        if (source !== undefined) {
          ths.push({ source, abortOnFail: o.abortOnFail === true, lastFailed: false });
        }
      }
    }
    out.set(name, ths);
  }
  return out;
}

function enabledSystemTags(options: Readonly<Record<string, unknown>>): Set<string> | undefined {
  const st = options.systemTags;
  if (st instanceof Set) return st as Set<string>;
  if (Array.isArray(st)) return new Set(st.map(String));
  return undefined; // k6's default set contains all the required ones
}

/** The cloud output. */
export class CloudOutput implements Output {
  readonly #params: OutputParams;
  readonly #log: Logger;
  readonly #local: CloudConfigLayer;
  #config: CloudConfig;
  readonly #client: CloudClient;
  readonly #now: () => number;
  readonly #maxPendingBytes: number;
  readonly #stopWaitMs: number;
  #thresholds?: ReadonlyMap<string, readonly Threshold[]>;
  #archive?: Uint8Array;
  #stopCallback?: (err: TestRunError) => void;
  #stopRequested = false;

  #runId?: string;
  #finishRun = false;
  #pipeline?: MetricsPipeline;
  #collectTimer?: ReturnType<typeof setInterval>;
  #pushTimer?: ReturnType<typeof setInterval>;
  #flushing?: Promise<void>;
  #inflight = new AbortController();
  #pending: Payload[] = [];
  #pendingBytes = 0;
  #aborted = false;
  #stopped = false;

  // Delivery accounting.
  #deliveredSamples = 0;
  #deliveredRequests = 0;
  #droppedSamples = 0;
  #droppedSeries = 0;
  #failedPushes = 0;
  #lastError?: string;

  constructor(params: OutputParams, deps: CloudOutputDeps = {}) {
    this.#params = params;
    this.#log = params.logger.with({ output: "cloud" });
    this.#now = deps.now ?? (() => Date.now());
    this.#maxPendingBytes = deps.maxPendingBytes ?? 32 * 1024 * 1024;
    this.#stopWaitMs = deps.stopWaitMs ?? 15_000;

    const tags = enabledSystemTags(params.options);
    if (tags) {
      const missing = requiredSystemTags.filter((t) => !tags.has(t));
      if (missing.length > 0) {
        throw invalidConfig(
          `the cloud output needs the following system tags enabled: ${missing.join(", ")}`,
        );
      }
    }
    if (!Number.isFinite(params.executionPlan.maxDurationSec)) {
      throw invalidConfig(
        "tests with unspecified duration are not allowed when outputting data to k6 cloud",
      );
    }
    this.#local = mergeCloudSources({
      fileConfig: params.jsonConfig,
      scriptOptions: params.options,
      env: params.env,
      outArgument: params.configArgument,
      scriptPath: params.scriptPath,
      logger: this.#log,
    });
    this.#config = finalizeCloudConfig(this.#local, { scriptPath: params.scriptPath });
    this.#client = new CloudClient({
      host: this.#config.host,
      token: this.#config.token,
      timeoutMs: this.#config.timeout,
      fetch: deps.fetch,
      retryPauseMs: deps.retryPauseMs,
    });
  }

  /** The resolved configuration (after the server override once started). */
  get config(): Readonly<CloudConfig> {
    return this.#config;
  }

  /** The test run id, once started. */
  get testRunId(): string | undefined {
    return this.#runId;
  }

  /** `cloud (<results URL>)`. */
  description(): string {
    if (this.#config.testRunDetails) return `cloud (${this.#config.testRunDetails})`;
    if (!this.#runId) return "cloud";
    return `cloud (${this.#config.webAppURL.replace(/\/+$/, "")}/runs/${this.#runId})`;
  }

  setThresholds(thresholds: ReadonlyMap<string, readonly Threshold[]>): void {
    this.#thresholds = thresholds;
  }

  setTestRunStopCallback(stop: (err: TestRunError) => void): void {
    this.#stopCallback = stop;
  }

  setArchive(archive: Uint8Array): void {
    this.#archive = archive;
  }

  #thresholdMap(): ReadonlyMap<string, readonly Threshold[]> {
    return this.#thresholds ?? thresholdsFromOptions(this.#params.options);
  }

  async start(): Promise<void> {
    const cfg = this.#config;
    const envRunId = this.#params.scriptEnv["K6_CLOUDRUN_TEST_RUN_ID"];
    if (cfg.pushRefID) {
      this.#runId = cfg.pushRefID;
      this.#finishRun = false;
    } else if (envRunId) {
      this.#runId = envRunId;
      this.#finishRun = true;
    } else {
      const thresholds: Record<string, string[]> = {};
      for (const [name, list] of this.#thresholdMap()) {
        thresholds[name] = list.map((t) => t.source);
      }
      const body: CreateTestRunBody = {
        name: cfg.name,
        project_id: cfg.projectID || undefined,
        vus: this.#params.executionPlan.maxVUs,
        thresholds,
        duration: Math.trunc(this.#params.executionPlan.maxDurationSec),
      };
      const noUpload = /^(1|t|true)$/i.test(this.#params.env["K6_NO_ARCHIVE_UPLOAD"] ?? "");
      let res;
      try {
        res = this.#archive && !noUpload
          ? await this.#client.createTestRunWithArchive(body, this.#archive)
          : await this.#client.createTestRun(body);
      } catch (err) {
        throw new SpateError(
          "output",
          `could not create the cloud test run: ${err instanceof Error ? err.message : err}`,
        );
      }
      this.#runId = res.reference_id;
      this.#finishRun = true;
      if (res.config) {
        this.#config = applyServerOverride(this.#local, res.config, {
          scriptPath: this.#params.scriptPath,
        });
        this.#client.host = this.#config.host.replace(/\/+$/, "");
        this.#client.token = this.#config.token;
        this.#client.timeoutMs = this.#config.timeout;
      }
      for (const entry of res.logs ?? []) this.#serverLog(entry.level, entry.message);
    }
    this.#pipeline = this.#newPipeline();
    this.#collectTimer = setInterval(
      () => this.#pipeline!.collect(this.#now(), false),
      this.#pipeline.collectIntervalMs,
    );
    this.#pushTimer = setInterval(() => void this.#flush(), this.#config.metricPushInterval);
  }

  #newPipeline(): MetricsPipeline {
    const cfg = this.#config;
    const onReservedTag = (name: string) =>
      this.#log.warn(
        `Tag ${name} has been discarded since it is reserved for Cloud operations.`,
      );
    if (cfg.apiVersion === 1) {
      return new V1Pipeline({ config: cfg, now: this.#now });
    }
    return new V2Pipeline({
      periodMs: cfg.aggregationPeriod,
      waitMs: cfg.aggregationWaitPeriod,
      maxSeries: cfg.maxTimeSeriesInBatch,
      testRunId: this.#runId!,
      onReservedTag,
    });
  }

  #serverLog(level: string, message: string): void {
    const fields = { source: "grafana-k6-cloud" };
    switch (level) {
      case "debug":
      case "trace":
        return this.#log.debug(message, fields);
      case "info":
        return this.#log.info(message, fields);
      case "warn":
      case "warning":
        return this.#log.warn(message, fields);
      default:
        return this.#log.error(message, fields);
    }
  }

  addMetricSamples(samples: readonly Sample[]): void {
    if (this.#aborted || this.#stopped || !this.#pipeline || samples.length === 0) return;
    this.#pipeline.add(samples);
  }

  /** One push round: encode what is ready, then send the pending queue in order. */
  #flush(): Promise<void> {
    if (this.#flushing) return this.#flushing;
    this.#flushing = this.#pushPending().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  #enqueue(): void {
    if (!this.#pipeline) return;
    for (const payload of this.#pipeline.takePayloads()) {
      this.#pending.push(payload);
      this.#pendingBytes += payload.body.length;
    }
    // Bounded memory while the network is down: drop the oldest bodies and count them.
    while (this.#pendingBytes > this.#maxPendingBytes && this.#pending.length > 1) {
      this.#drop(this.#pending.shift()!);
    }
  }

  #drop(p: Payload): void {
    this.#pendingBytes -= p.body.length;
    this.#droppedSamples += p.samples;
    this.#droppedSeries += p.series;
  }

  async #pushPending(): Promise<void> {
    if (this.#aborted) return;
    this.#enqueue();
    if (this.#pending.length === 0) return;
    const queue = this.#pending;
    let next = 0;
    let failed = false;
    const sent = new Set<Payload>();
    const worker = async () => {
      while (!failed && !this.#aborted && next < queue.length) {
        const payload = queue[next++];
        try {
          await this.#send(payload);
          sent.add(payload);
          this.#deliveredSamples += payload.samples;
          this.#deliveredRequests++;
        } catch (err) {
          failed = true;
          this.#onPushError(err);
        }
      }
    };
    const workers = Math.min(queue.length, this.#config.metricPushConcurrency);
    await Promise.all(Array.from({ length: workers }, worker));
    const rest: Payload[] = [];
    for (const p of queue) {
      if (sent.has(p)) this.#pendingBytes -= p.body.length;
      else rest.push(p);
    }
    // Nothing else touches #pending during a round: the timer joins the running round.
    this.#pending = rest;
    if (this.#aborted) {
      for (const p of this.#pending) this.#drop(p);
      this.#pending = [];
    }
  }

  #send(p: Payload): Promise<void> {
    const signal = this.#inflight.signal;
    if (p.protocol === 2) {
      return this.#client.pushMetricsV2(this.#runId!, p.body, { idempotencyKey: p.key, signal });
    }
    return this.#client.pushMetricsV1(this.#runId!, p.body, {
      ...p.v1!,
      idempotencyKey: p.key,
      signal,
    });
  }

  #onPushError(err: unknown): void {
    this.#failedPushes++;
    const message = err instanceof Error ? err.message : String(err);
    this.#lastError = message;
    if (err instanceof CloudApiError && err.isAborted) {
      // §5.7: the backend accepts no more metrics (run aborted or limits hit).
      this.#aborted = true;
      this.#clearTimers();
      this.#log.warn("the cloud test run was stopped; no more metrics will be sent", {
        error: message,
      });
      if (this.#config.stopOnError) {
        this.#requestStop(`the cloud aborted the test run: ${message}`);
      }
      return;
    }
    this.#log.error("Failed to push metrics to the cloud", { error: message });
    if (this.#config.stopOnError) {
      this.#requestStop(`failed to push metrics to the cloud: ${message}`);
    }
  }

  #requestStop(message: string): void {
    if (this.#stopRequested || !this.#stopCallback) return;
    this.#stopRequested = true;
    this.#stopCallback({ message, exitCode: ExitCode.ExternalAbort, abortReason: "output" });
  }

  #clearTimers(): void {
    clearInterval(this.#collectTimer);
    clearInterval(this.#pushTimer);
    this.#collectTimer = undefined;
    this.#pushTimer = undefined;
  }

  async stop(testError: TestRunError | null): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#clearTimers();
    let stopError: unknown;
    if (this.#pipeline) {
      // Wait for a push round in progress; cancel it if it is stuck (§5.8).
      const running = this.#flushing;
      if (running && !(await this.#within(running, this.#stopWaitMs))) {
        this.#inflight.abort();
        await running;
      }
      if (!this.#aborted) {
        this.#inflight = new AbortController();
        this.#pipeline.collect(this.#now(), true);
        const final = this.#flush();
        if (!(await this.#within(final, this.#stopWaitMs))) {
          this.#inflight.abort();
          await final;
        }
      }
      // Whatever is still queued or unencoded will never be delivered.
      for (const p of this.#pending) this.#drop(p);
      this.#pending = [];
      this.#droppedSamples += this.#pipeline.pendingSamples();
      if (this.#droppedSamples > 0) {
        this.#log.warn(
          `${this.#droppedSamples} metric samples could not be delivered to the cloud`,
          { error: this.#lastError ?? "" },
        );
      }
    }
    if (this.#runId && this.#finishRun) {
      const thresholds: Record<string, Record<string, boolean>> = {};
      let anyFailed = false;
      for (const [name, list] of this.#thresholdMap()) {
        const results: Record<string, boolean> = {};
        for (const t of list) {
          results[t.source] = t.lastFailed;
          if (t.lastFailed) anyFailed = true;
        }
        thresholds[name] = results;
      }
      try {
        await this.#client.finishTestRun(this.#runId, {
          result_status: anyFailed ? 1 : 0,
          run_status: runStatusFor(testError),
          thresholds,
        });
      } catch (err) {
        stopError = err;
      }
    }
    if (stopError) {
      throw new SpateError(
        "output",
        `could not finish the cloud test run: ${
          stopError instanceof Error ? stopError.message : stopError
        }`,
      );
    }
  }

  async #within(p: Promise<void>, ms: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    try {
      return await Promise.race([p.then(() => true as const), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Delivery accounting: samples (and series values) that could not be delivered. */
  stats(): OutputStats {
    const parts: string[] = [];
    if (this.#droppedSamples > 0) {
      parts.push(
        `${this.#droppedSamples} samples (${this.#droppedSeries} series values) not delivered`,
      );
    }
    if (this.#failedPushes > 0) {
      parts.push(`${this.#failedPushes} pushes failed, last: ${this.#lastError}`);
    }
    if (this.#aborted) parts.push("the cloud stopped accepting metrics");
    return {
      droppedSamples: this.#droppedSamples,
      ...(parts.length > 0 ? { note: parts.join("; ") } : {}),
    };
  }

  /** Detailed counters (tests, summary): delivered and lost. */
  deliveryStats(): {
    deliveredSamples: number;
    deliveredRequests: number;
    droppedSamples: number;
    droppedSeries: number;
    failedPushes: number;
    pendingPayloads: number;
    aborted: boolean;
  } {
    return {
      deliveredSamples: this.#deliveredSamples,
      deliveredRequests: this.#deliveredRequests,
      droppedSamples: this.#droppedSamples,
      droppedSeries: this.#droppedSeries,
      failedPushes: this.#failedPushes,
      pendingPayloads: this.#pending.length,
      aborted: this.#aborted,
    };
  }

  /** Runs one push round now (tests; the timer does this every metricPushInterval). */
  flushNow(): Promise<void> {
    return this.#flush();
  }

  /** Runs one collection now (tests; the timer does this every aggregation period). */
  collectNow(): void {
    this.#pipeline?.collect(this.#now(), false);
  }
}

/**
 * The `--out cloud` factory. When the config file gave no `collectors.cloud`
 * (`params.jsonConfig` undefined), the stored login is read from our config file, or from
 * k6's when ours is absent (DECISIONS.md #6), so `spate cloud login` / `k6 login` users need
 * no token in the environment.
 *
 * @example
 * ```ts
 * const output = await cloudOutput(params); // rejects with SpateError invalid-config on a bad option
 * ```
 */
export default async function cloudOutput(
  params: OutputParams,
  deps: CloudOutputDeps & { configPath?: string } = {},
): Promise<CloudOutput> {
  if (params.jsonConfig === undefined) {
    const stored = await readStoredCloudConfig({
      configPath: deps.configPath ?? defaultConfigPath(params.env),
      env: params.env,
    });
    if (stored) params = { ...params, jsonConfig: stored };
  }
  return new CloudOutput(params, deps);
}
