/**
 * Entry point of a VU host Worker: holds many VUs in one isolate (issue #2's default mode),
 * runs their iterations on the runner's command and streams their samples back in compact
 * batches (lib/vu/_wire.ts). Runs with network permission only (plus read access to the
 * script's folder until the options pass is over), as set by lib/vu/host.ts.
 * @module
 */
/// <reference lib="deno.worker" />
import { errorMessage } from "../errors.ts";
import { Logger } from "../log.ts";
import { MetricRegistry, type MetricType, type ValueType } from "../metrics/metric.ts";
import { TestAbortError } from "../js/execution.ts";
import { SampleEncoder } from "./_wire.ts";
import { scriptUsesHtml, scriptUsesWs } from "../js/optional.ts";
import { secretValues } from "../secrets.ts";
import {
  type Activation,
  type HostContext,
  isOwnFrame,
  scriptFrame,
  setScriptSourceMap,
  VU,
} from "./runtime.ts";
import { SourceMapper } from "../script/source_map.ts";
import type { HostCommand, HostEvent } from "./host.ts";

let host: HostContext | undefined;
let encoder: SampleEncoder | undefined;
const vus = new Map<number, VU>();
const counters = { completed: 0, interrupted: 0, active: 0 };
let testStart = 0;
let flushTimer: ReturnType<typeof setInterval> | undefined;

function post(event: HostEvent, transfer: Transferable[] = []): void {
  self.postMessage(event, transfer);
}

let sandboxed = false;

function setup(msg: Extract<HostCommand, { t: "init" }>): void {
  sandboxed = msg.sandboxed === true;
  const registry = new MetricRegistry();
  for (const [name, type, contains] of msg.metrics) registry.register(name, type, contains);
  const logger = new Logger({
    redact: secretValues(msg.config.secrets ?? {}),
    level: msg.config.logLevel,
    format: msg.logFormat,
    tty: msg.logTty,
    color: msg.logColor,
  });
  if (msg.sourceMap) {
    try {
      setScriptSourceMap(new SourceMapper(msg.sourceMap.json, msg.sourceMap.dir));
    } catch { /* a map we can't read only costs exact frames */ }
  }
  // The factory is compiled once per host and instantiated once per VU.
  const factory = (0, eval)(msg.factorySource) as HostContext["factory"];
  encoder = new SampleEncoder(registry, (batch, transfer) => post(batch, transfer));
  testStart = Date.now();
  host = {
    config: msg.config,
    registry,
    logger,
    factory,
    usesHtml: scriptUsesHtml(msg.factorySource),
    usesWs: scriptUsesWs(msg.factorySource),
    files: new Map(msg.files),
    readFiles: msg.readFiles,
    sharedArrays: new Map(),
    emit: (tags, time, values, metadata) => encoder!.add(tags, time, values, metadata),
    markFailed: (message) => post({ t: "markFailed", message }),
    consoleLine: (level, text) => post({ t: "console", level, text }),
    syncChannel: msg.sync,
    instance: () => ({
      iterationsCompleted: counters.completed,
      iterationsInterrupted: counters.interrupted,
      vusActive: counters.active,
      vusInitialized: vus.size,
      currentTestRunDuration: Date.now() - testStart,
    }),
  };
  flushTimer = setInterval(() => encoder!.flush(), 50);
}

/** Why setup() failed (the script's factory didn't compile), reported by the options pass. */
let setupError: unknown;

async function optionsPass(): Promise<void> {
  if (setupError !== undefined) throw setupError;
  const vu = await VU.create(host!, 0);
  let options: unknown = undefined;
  const raw = vu.exports.options;
  if (raw !== undefined) {
    try {
      options = JSON.parse(JSON.stringify(raw));
    } catch (err) {
      throw new Error(`the exported options can't be serialised: ${errorMessage(err)}`);
    }
  }
  const exportTypes: Record<string, string> = {};
  for (const name of Object.keys(vu.exports)) exportTypes[name] = typeof vu.exports[name];
  post({
    t: "options",
    options,
    exportTypes,
    metrics: host!.registry.all().map((m) =>
      [m.name, m.type, m.contains] as [
        string,
        MetricType,
        ValueType,
      ]
    ),
    files: [...host!.files],
  });
}

/**
 * Starts serving commands. Called by the Worker entry module (lib/vu/host_worker_main.ts), or
 * by cli.ts when a `deno bundle` file is started as its own VU host Worker.
 */
export function startHostWorker(): void {
  self.onmessage = onCommand;
  // Interrupted iterations keep running in the background until their next blocking call
  // throws; their rejections are expected and must not end the Worker.
  self.addEventListener("unhandledrejection", (e) => e.preventDefault());
}

async function onCommand(e: MessageEvent<HostCommand>): Promise<void> {
  const msg = e.data;
  try {
    switch (msg.t) {
      case "init":
        try {
          setup(msg);
        } catch (err) {
          // The script's factory didn't compile: the options pass reports it as an init error.
          setupError = err;
        }
        post({ t: "ready" });
        break;
      case "optionsPass":
        try {
          await optionsPass();
        } catch (err) {
          post({ t: "initError", id: 0, message: describeInitError(err) });
        }
        // Init is over: from here on the VUs may only use what the options pass opened.
        // (Only a sandboxed Worker has permissions of its own to revoke.)
        if (sandboxed) Deno.permissions.revokeSync({ name: "read" });
        break;
      case "configure":
        host!.config = msg.config;
        break;
      case "initVU":
        try {
          vus.set(msg.id, await VU.create(host!, msg.id));
          post({ t: "vuReady", id: msg.id });
        } catch (err) {
          post({ t: "initError", id: msg.id, message: describeInitError(err) });
        }
        break;
      case "activate":
        vus.get(msg.id)!.activate(msg.activation as Activation);
        break;
      case "run": {
        const vu = vus.get(msg.id)!;
        counters.active++;
        vu.runIteration(msg.iterationInTest).then((outcome) => {
          counters.active--;
          if (outcome === "complete") counters.completed++;
          else counters.interrupted++;
          post({ t: "done", id: msg.id, outcome });
        }, (err) => {
          counters.active--;
          counters.interrupted++;
          if (err instanceof TestAbortError) post({ t: "abort", message: err.message });
          else {post({
              t: "abort",
              message: `internal error: ${errorMessage(err)}`,
              internal: true,
            });}
          post({ t: "done", id: msg.id, outcome: "interrupted" });
        });
        break;
      }
      case "interrupt":
        vus.get(msg.id)?.interrupt();
        break;
      case "setupData":
        host!.setupDataJson = msg.json;
        break;
      case "call":
        await callLifecycle(msg);
        break;
      case "interruptCall":
        callVU?.interrupt();
        break;
      case "flush":
        encoder?.flush();
        post({ t: "flushed", seq: msg.seq });
        break;
      case "close":
        encoder?.flush();
        clearInterval(flushTimer);
        post({ t: "closed" });
        self.close();
        break;
    }
  } catch (err) {
    post({ t: "abort", message: `internal error: ${errorMessage(err)}`, internal: true });
  }
}

let callVU: VU | undefined;

async function callLifecycle(msg: Extract<HostCommand, { t: "call" }>): Promise<void> {
  try {
    callVU = await VU.create(host!, 0);
    const arg = msg.argJson === undefined ? undefined : JSON.parse(msg.argJson);
    const value = await callVU.call(msg.name, arg, msg.stage);
    let json: string | undefined;
    if (msg.name === "handleSummary") {
      post({ t: "result", callId: msg.callId, summary: summaryValue(value) });
    } else {
      json = value === undefined ? undefined : JSON.stringify(value);
      post({ t: "result", callId: msg.callId, json });
    }
  } catch (err) {
    const aborted = err instanceof TestAbortError;
    post({
      t: "result",
      callId: msg.callId,
      error: aborted ? err.message : describeInitError(err),
      aborted,
    });
  } finally {
    encoder?.flush();
  }
}

/** handleSummary results cross the boundary as structured-cloneable values. */
function summaryValue(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = v instanceof ArrayBuffer ? new Uint8Array(v) : v;
  }
  return out;
}

function describeInitError(err: unknown): string {
  if (err instanceof Error) {
    const frame = (err.stack ?? "").split("\n").find((l) => /file:\/\//.test(l) && !isOwnFrame(l));
    // The script's top level runs inside spate's factory function: show only the place, as k6
    // does (`at file:///s.js:1:22`), not the wrapper's name.
    const where = frame
      ? scriptFrame(frame.trim().replace(/^at\s+/, "")).replace(
        /^Object\.eval \[as factory\] \((.*)\)$/,
        "$1",
      )
      : "";
    return where ? `${err.name}: ${err.message}\n\tat ${where}` : `${err.name}: ${err.message}`;
  }
  return String(err);
}
