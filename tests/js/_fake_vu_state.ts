/**
 * A VUState that records what modules do with it: emitted sample groups, byte counters and
 * log lines. For module tests only.
 * @module
 */
import type { HttpConfig } from "../../lib/config/types.ts";
import { defaultHttpConfig, defaultSystemTags } from "../../lib/config/defaults.ts";
import { Logger } from "../../lib/log.ts";
import { type Metric, MetricRegistry } from "../../lib/metrics/metric.ts";
import type { VUStage, VUState } from "../../lib/vu/state.ts";

export interface Emitted {
  tags: Record<string, string>;
  time: number;
  values: Record<string, number>;
  metadata?: Readonly<Record<string, string>>;
}

export { defaultHttpConfig, defaultSystemTags };

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
