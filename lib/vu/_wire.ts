/**
 * The compact sample stream from a VU host Worker to the engine. Samples cross the thread
 * boundary as a transferred Float64Array of (metric id, tag-set id, time, value) quadruples;
 * tag sets and metrics are sent once, when first used, and interned again on the main side.
 * Structured-cloning sample objects instead cost several times more CPU per sample.
 * @module
 */
import type { Metric, MetricRegistry, MetricType, ValueType } from "../metrics/metric.ts";
import type { Sample } from "../metrics/sample.ts";
import { type TagSet, TagSetPool } from "../metrics/tags.ts";
import type { EncodedSamples } from "../output/manager.ts";

/** One batch as posted by a host. */
export interface SampleBatchMessage {
  t: "samples";
  count: number;
  data: Float64Array;
  meta?: Array<[number, Readonly<Record<string, string>>]>;
  tags: Array<[number, string]>;
  metrics: Array<[number, string, MetricType, ValueType]>;
}

const QUAD = 4;

/** Host side: collects samples and posts them in batches. */
export class SampleEncoder {
  readonly #pool = new TagSetPool();
  readonly #registry: MetricRegistry;
  readonly #post: (msg: SampleBatchMessage, transfer: Transferable[]) => void;
  readonly #capacity: number;
  readonly #byObject = new WeakMap<object, TagSet>();
  #data: Float64Array<ArrayBuffer>;
  #count = 0;
  #meta: Array<[number, Readonly<Record<string, string>>]> | undefined;
  #sentTags = 1; // the empty set (id 0) is implicit
  #sentMetrics = 0;

  constructor(
    registry: MetricRegistry,
    post: (msg: SampleBatchMessage, transfer: Transferable[]) => void,
    capacity = 8192,
  ) {
    this.#registry = registry;
    this.#post = post;
    this.#capacity = capacity;
    this.#data = new Float64Array(capacity * QUAD);
  }

  /** Appends samples sharing one tag set, time and metadata. */
  add(
    tags: Readonly<Record<string, string>>,
    time: number,
    values: ReadonlyArray<readonly [Metric, number]>,
    metadata?: Readonly<Record<string, string>>,
  ): void {
    let set = this.#byObject.get(tags);
    if (!set) {
      set = this.#pool.intern(tags);
      this.#byObject.set(tags, set);
    }
    for (let i = 0; i < values.length; i++) {
      if (this.#count === this.#capacity) this.flush();
      const at = this.#count * QUAD;
      const d = this.#data;
      d[at] = values[i][0].id;
      d[at + 1] = set.id;
      d[at + 2] = time;
      d[at + 3] = values[i][1];
      if (metadata) (this.#meta ??= []).push([this.#count, metadata]);
      this.#count++;
    }
  }

  /** Posts what is buffered (nothing when empty). */
  flush(): void {
    if (this.#count === 0) return;
    const tags: Array<[number, string]> = [];
    for (let id = this.#sentTags; id < this.#pool.size; id++) {
      tags.push([id, this.#pool.byId(id)!.key]);
    }
    this.#sentTags = this.#pool.size;
    const all = this.#registry.all();
    const metrics: Array<[number, string, MetricType, ValueType]> = [];
    for (let id = this.#sentMetrics; id < all.length; id++) {
      const m = all[id];
      metrics.push([m.id, m.name, m.type, m.contains]);
    }
    this.#sentMetrics = all.length;
    const data = this.#data.subarray(0, this.#count * QUAD);
    const msg: SampleBatchMessage = { t: "samples", count: this.#count, data, tags, metrics };
    if (this.#meta) msg.meta = this.#meta;
    this.#post(msg, [this.#data.buffer as ArrayBuffer]);
    this.#data = new Float64Array(this.#capacity * QUAD);
    this.#count = 0;
    this.#meta = undefined;
  }
}

/** Main side: turns one host's batches back into samples with the engine's interned objects. */
export class SampleDecoder {
  readonly #pool: TagSetPool;
  readonly #registry: MetricRegistry;
  readonly #tags: TagSet[];
  readonly #metrics: Metric[] = [];

  constructor(pool: TagSetPool, registry: MetricRegistry) {
    this.#pool = pool;
    this.#registry = registry;
    this.#tags = [pool.empty];
  }

  /**
   * Appends the batch's samples to `out`. Batches from one host must be decoded in the order
   * they were posted: a batch names only the tag sets and metrics that are new since the last.
   */
  decodeInto(msg: SampleBatchMessage, out: Sample[]): void {
    for (const [id, name, type, contains] of msg.metrics) {
      this.#metrics[id] = this.#registry.register(name, type, contains);
    }
    for (const [id, key] of msg.tags) this.#tags[id] = this.#pool.internKey(key);
    const d = msg.data;
    let meta = msg.meta;
    let metaAt = 0;
    for (let i = 0; i < msg.count; i++) {
      const at = i * QUAD;
      let metadata: Readonly<Record<string, string>> | undefined = undefined;
      if (meta && metaAt < meta.length && meta[metaAt][0] === i) metadata = meta[metaAt++][1];
      else if (meta && metaAt >= meta.length) meta = undefined;
      out.push({
        metric: this.#metrics[d[at]],
        tags: this.#tags[d[at + 1]],
        time: d[at + 2],
        value: d[at + 3],
        metadata,
      });
    }
  }

  /** The batch as {@link EncodedSamples}: decoded by this decoder when the manager asks. */
  deferred(msg: SampleBatchMessage): EncodedSamples {
    return { count: msg.count, decodeInto: (out) => this.decodeInto(msg, out) };
  }
}
