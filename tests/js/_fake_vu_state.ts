/**
 * A VUState that records what modules do with it: emitted sample groups, byte counters and
 * log lines. For module tests only.
 * @module
 */
import type { HttpConfig } from "../../lib/config/types.ts";
import { Logger } from "../../lib/log.ts";
import { type Metric, MetricRegistry } from "../../lib/metrics/metric.ts";
import type { VUStage, VUState } from "../../lib/vu/state.ts";

export interface Emitted {
  tags: Record<string, string>;
  time: number;
  values: Record<string, number>;
  metadata?: Readonly<Record<string, string>>;
}

export const defaultSystemTags = [
  "proto",
  "subproto",
  "status",
  "method",
  "url",
  "name",
  "group",
  "check",
  "error",
  "error_code",
  "tls_version",
  "scenario",
  "service",
  "expected_response",
];

export const defaultHttpConfig: HttpConfig = {
  userAgent: "Grafana k6/2.2.0",
  maxRedirects: 10,
  batch: 20,
  batchPerHost: 6,
  insecureSkipTLSVerify: false,
  discardResponseBodies: false,
  noConnectionReuse: false,
  noVUConnectionReuse: false,
  noCookiesReset: false,
  hosts: {},
  blockHostnames: [],
  blacklistIPs: [],
  httpDebug: "",
  rps: 0,
  timeout: 60_000,
};

export class FakeVUState implements VUState {
  readonly id = 1;
  iteration = 0;
  stage: VUStage = "iteration";
  scenario = "default";
  group = "";
  tags: Readonly<Record<string, string>> = { scenario: "default", group: "" };
  readonly systemTags: ReadonlySet<string>;
  readonly http: HttpConfig;
  readonly throwErrors: boolean;
  readonly registry = new MetricRegistry();
  readonly logLines: string[] = [];
  readonly logger: Logger;
  signal: AbortSignal = new AbortController().signal;
  readonly emitted: Emitted[] = [];
  sent = 0;
  received = 0;

  constructor(
    opts: { http?: Partial<HttpConfig>; systemTags?: string[]; throwErrors?: boolean } = {},
  ) {
    this.http = { ...defaultHttpConfig, ...opts.http };
    this.systemTags = new Set(opts.systemTags ?? defaultSystemTags);
    this.throwErrors = opts.throwErrors ?? false;
    this.logger = new Logger({ format: "json", sink: (l) => this.logLines.push(l) });
  }

  emit(
    tags: Readonly<Record<string, string>>,
    time: number,
    values: ReadonlyArray<readonly [Metric, number]>,
    metadata?: Readonly<Record<string, string>>,
  ): void {
    const v: Record<string, number> = {};
    for (const [m, n] of values) v[m.name] = n;
    this.emitted.push({ tags: { ...tags }, time, values: v, metadata });
  }
  addDataSent(bytes: number): void {
    this.sent += bytes;
  }
  addDataReceived(bytes: number): void {
    this.received += bytes;
  }
  metadata(): Readonly<Record<string, string>> | undefined {
    return undefined;
  }
  /** Parsed log lines. */
  logs(): { level: string; msg: string; [k: string]: unknown }[] {
    return this.logLines.map((l) => JSON.parse(l));
  }
}
