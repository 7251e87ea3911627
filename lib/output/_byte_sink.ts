/**
 * A growable byte buffer for outputs that encode rows straight to bytes (the CSV output's hot
 * path): appending cached fragments and ASCII text costs no JS strings and leaves nothing for
 * the GC to trace but the buffer itself.
 *
 * @example
 * ```ts
 * const sink = new ByteSink();
 * sink.ascii("1.000000");
 * sink.byte(0x0a);
 * const bytes = sink.take(); // "1.000000\n"
 * ```
 * @module
 */
import type { Sample } from "../metrics/sample.ts";

/** Growable byte buffer; `take()` hands the bytes over and starts a fresh buffer. */
export class ByteSink {
  #buf: Uint8Array<ArrayBuffer>;
  #length = 0;
  readonly #initial: number;

  constructor(initialSize = 1 << 16) {
    this.#initial = initialSize;
    this.#buf = new Uint8Array(initialSize);
  }

  /** Bytes written since the last take(). */
  get length(): number {
    return this.#length;
  }

  /** Appends bytes. */
  bytes(b: Uint8Array): void {
    const end = this.#length + b.length;
    if (end > this.#buf.length) this.#grow(end);
    this.#buf.set(b, this.#length);
    this.#length = end;
  }

  /** Appends one byte. */
  byte(b: number): void {
    if (this.#length === this.#buf.length) this.#grow(this.#length + 1);
    this.#buf[this.#length++] = b;
  }

  /** Appends a string known to be ASCII (numbers, times), one byte per character. */
  ascii(s: string): void {
    const n = s.length;
    if (this.#length + n > this.#buf.length) this.#grow(this.#length + n);
    const buf = this.#buf;
    let at = this.#length;
    for (let i = 0; i < n; i++) buf[at++] = s.charCodeAt(i);
    this.#length = at;
  }

  /** The bytes written so far, without handing them over (valid until the next write). */
  view(): Uint8Array<ArrayBuffer> {
    return this.#buf.subarray(0, this.#length);
  }

  /** Forgets what was written, keeping the buffer for reuse. */
  clear(): void {
    this.#length = 0;
  }

  /**
   * Returns the bytes written so far and starts a new buffer (the returned view stays valid:
   * its memory is never reused).
   */
  take(): Uint8Array<ArrayBuffer> {
    const out = this.#buf.subarray(0, this.#length);
    this.#buf = new Uint8Array(Math.max(this.#initial, Math.min(this.#buf.length, 64 << 20)));
    this.#length = 0;
    return out;
  }

  #grow(need: number): void {
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#length));
    this.#buf = next;
  }
}

/** What {@link EncodedQueue.take} hands over. */
export interface EncodedBatch {
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** Samples encoded into `bytes` (for the undelivered count when a write fails). */
  readonly samples: number;
}

/**
 * Encoded output waiting for the next write: samples are encoded as they arrive (holding
 * Sample objects until the flush cost more in GC than the encoding), memory is bounded, and
 * what does not fit is counted and warned about once, never dropped silently.
 *
 * @example
 * ```ts
 * const queue = new EncodedQueue("csv", logger);
 * if (queue.add(samples, (s, sink) => encoder.encodeTo(s, 0, s.length, sink))) flushSoon();
 * const batch = queue.take(); // { bytes, samples } or undefined
 * ```
 */
export class EncodedQueue {
  readonly #name: string;
  readonly #logger: { warn(msg: string): void };
  readonly #maxBytes: number;
  readonly #earlyBytes: number;
  #sink = new ByteSink(1 << 20);
  #samples = 0;
  #warned = false;
  /** Samples refused because the queue was full. */
  dropped = 0;

  constructor(
    name: string,
    logger: { warn(msg: string): void },
    opts: { maxBytes?: number; earlyFlushBytes?: number } = {},
  ) {
    this.#name = name;
    this.#logger = logger;
    this.#maxBytes = opts.maxBytes ?? 256 << 20;
    this.#earlyBytes = opts.earlyFlushBytes ?? 16 << 20;
  }

  /** Encodes the batch unless the queue is full; true when an early write is due. */
  add(samples: readonly Sample[], encode: (s: readonly Sample[], sink: ByteSink) => void): boolean {
    if (samples.length === 0) return false;
    if (this.#sink.length >= this.#maxBytes) {
      this.refuse(samples.length);
      return true;
    }
    encode(samples, this.#sink);
    this.#samples += samples.length;
    return this.#sink.length >= this.#earlyBytes;
  }

  /** Counts samples that could not be queued (full, or arriving too early), warning once. */
  refuse(count: number): void {
    this.dropped += count;
    if (this.#warned) return;
    this.#warned = true;
    this.#logger.warn(
      `${this.#name}: ${this.#maxBytes >> 20} MiB of encoded samples are waiting to be ` +
        "written; dropping samples until the output catches up",
    );
  }

  /** Hands over what is queued (undefined when empty). */
  take(): EncodedBatch | undefined {
    if (this.#samples === 0) return undefined;
    const batch = { bytes: this.#sink.take(), samples: this.#samples };
    this.#samples = 0;
    return batch;
  }
}
