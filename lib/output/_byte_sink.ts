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

/** "00" to "99": the digits of 0–99, two bytes each. */
const PAIRS = new Uint8Array(200).map((_, i) => 48 + (i & 1 ? (i >> 1) % 10 : ((i >> 1) / 10) | 0));

/** Decimal digits of an integer in [0, 2^31). */
export function digitCount(n: number): number {
  if (n < 100000) return n < 100 ? (n < 10 ? 1 : 2) : n < 1000 ? 3 : n < 10000 ? 4 : 5;
  return n < 10000000 ? (n < 1000000 ? 6 : 7) : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
}

/**
 * Writes the integer `n` in [0, 2^31) as exactly `count` digits (zero-padded) into
 * `buf[end - count, end)`, two digits per step from a table: int32 division by a constant is a
 * multiplication, where the float `Math.floor(n / 10)` per digit was a division (~a third of
 * the JSON encoder's time).
 */
export function putInt31(buf: Uint8Array, end: number, n: number, count: number): void {
  n |= 0;
  const start = end - count;
  let at = end;
  while (at - start >= 2) {
    const q = (n / 100) | 0;
    const r = (n - q * 100) << 1;
    buf[--at] = PAIRS[r + 1];
    buf[--at] = PAIRS[r];
    n = q;
  }
  if (at > start) buf[--at] = 48 + n;
}

/** Growable byte buffer; `take()` hands the bytes over, `recycle()` hands them back. */
export class ByteSink {
  #buf: Uint8Array<ArrayBuffer>;
  #length = 0;
  readonly #initial: number;
  /** Buffers handed back by {@link ByteSink.recycle}, reused by take(). */
  readonly #spares: ArrayBuffer[] = [];
  readonly #maxSpares: number;
  /** Buffers take() handed out: only these are accepted back. */
  readonly #taken = new WeakSet<ArrayBuffer>();

  /**
   * `maxSpares` bounds how many recycled buffers wait for reuse: as many as the owner has
   * taken and not yet written at once (default 4).
   */
  constructor(initialSize = 1 << 16, opts: { maxSpares?: number } = {}) {
    this.#initial = initialSize;
    this.#buf = new Uint8Array(initialSize);
    this.#maxSpares = opts.maxSpares ?? 4;
  }

  /** Bytes written since the last take(). */
  get length(): number {
    return this.#length;
  }

  /** Appends bytes. */
  bytes(b: Uint8Array): void {
    const n = b.length;
    const end = this.#length + n;
    if (end > this.#buf.length) this.#grow(end);
    if (n > 24) {
      this.#buf.set(b, this.#length);
    } else {
      // Short fragments (`}}\n`, `|ms`, a CSV metric name) copy faster in a loop than
      // through TypedArray#set's call. The crossover is near 24 bytes: the JSON encoder,
      // whose cached time is ~38 bytes, measured 74.5 ns/sample with the limit at 48 and
      // 58.8 at 24; CSV measured the same at 8, 16, 24 and 48 (57–61 ns).
      const buf = this.#buf;
      let at = this.#length;
      for (let i = 0; i < n; i++) buf[at++] = b[i];
    }
    this.#length = end;
  }

  /** Appends the first `n` bytes of `b`. */
  bytesN(b: Uint8Array, n: number): void {
    const end = this.#length + n;
    if (end > this.#buf.length) this.#grow(end);
    const buf = this.#buf;
    let at = this.#length;
    for (let i = 0; i < n; i++) buf[at++] = b[i];
    this.#length = end;
  }

  /** Appends the decimal digits of a non-negative integer below 2^53. */
  uint(n: number): void {
    if (n < 2147483648) return this.#int31(n | 0, digitCount(n | 0));
    let digits = 1;
    for (let p = 10; p <= n; p *= 10) digits++;
    const end = this.#length + digits;
    if (end > this.#buf.length) this.#grow(end);
    const buf = this.#buf;
    for (let at = end - 1; at >= this.#length; at--) {
      const q = Math.floor(n / 10);
      buf[at] = 48 + (n - q * 10); // 48 + n would round above 2^53
      n = q;
    }
    this.#length = end;
  }

  /**
   * Appends `whole.frac` with `frac` as six decimals (`frac` in [0, 1e6), `whole` in
   * [0, 2^31), both integers): all six, or with `trim` only the significant ones (no point
   * when `frac` is 0).
   */
  decimal6(whole: number, frac: number, trim: boolean): void {
    // `| 0` tells the JIT these are int32, so the divisions below become multiplications.
    whole |= 0;
    frac |= 0;
    this.#int31(whole, digitCount(whole));
    let digits = 6;
    if (trim) {
      if (frac === 0) return;
      while (frac % 10 === 0) {
        frac = (frac / 10) | 0;
        digits--;
      }
    }
    this.byte(0x2e);
    this.#int31(frac, digits);
  }

  /** Appends the integer `n` in [0, 2^31) as exactly `count` digits (zero-padded). */
  #int31(n: number, count: number): void {
    const end = this.#length + count;
    if (end > this.#buf.length) this.#grow(end);
    putInt31(this.#buf, end, n, count);
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
   * Returns the bytes written so far and starts a new buffer: a recycled one when
   * {@link ByteSink.recycle} handed one back, else fresh memory. The returned view stays valid
   * until the caller recycles it.
   */
  take(): Uint8Array<ArrayBuffer> {
    const out = this.#buf.subarray(0, this.#length);
    this.#taken.add(out.buffer);
    const spare = this.#spares.pop();
    this.#buf = spare
      ? new Uint8Array(spare)
      : new Uint8Array(Math.max(this.#initial, Math.min(this.#buf.length, 64 << 20)));
    this.#length = 0;
    return out;
  }

  /**
   * Hands back bytes from {@link ByteSink.take} once nothing reads them any more, so a later
   * take() reuses their memory. A fresh multi-MB buffer per flush page-faults on every first
   * touch: the timescaledb output spent a quarter of its main thread zeroing new pages
   * (`perf`, 2026-11-21). Keeps at most `maxSpares`; bytes from elsewhere are ignored.
   */
  recycle(bytes: Uint8Array<ArrayBuffer>): void {
    const buffer = bytes.buffer;
    if (buffer === this.#buf.buffer || this.#spares.length >= this.#maxSpares) return;
    if (this.#spares.includes(buffer) || !this.#taken.has(buffer)) return;
    this.#taken.delete(buffer);
    this.#spares.push(buffer);
  }

  #grow(need: number): void {
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#length));
    this.#buf = next;
  }
}

/**
 * Writes the ASCII text of a sample time (Unix epoch ms) into `buf` from index 0 and returns
 * its length, at most {@link MAX_TIME_TEXT} bytes.
 */
export type TimeWriter = (time: number, buf: Uint8Array) => number;

/** The longest text a {@link TimeWriter} may write. */
export const MAX_TIME_TEXT = 64;

/**
 * A {@link TimeWriter} from a function returning the text (ASCII, at most
 * {@link MAX_TIME_TEXT} characters), for formats that are not on a hot path.
 *
 * @example
 * ```ts
 * const write = textTimeWriter((t) => "" + Math.floor(t / 1000));
 * ```
 */
export function textTimeWriter(format: (time: number) => string): TimeWriter {
  return (time, buf) => {
    const text = format(time);
    if (text.length > MAX_TIME_TEXT) throw new RangeError(`time text too long: ${text}`);
    for (let i = 0; i < text.length; i++) buf[i] = text.charCodeAt(i);
    return text.length;
  };
}

/**
 * Writes sample times through a {@link TimeWriter}, keeping the bytes of the last time: the
 * samples of one request (nine) share a time, so most samples copy ~30 cached bytes instead
 * of formatting.
 *
 * @example
 * ```ts
 * const time = new CachedTime(textTimeWriter((t) => "" + Math.floor(t / 1000)));
 * time.write(sink, 1767261600123.456); // "1767261600"
 * ```
 */
export class CachedTime {
  readonly #format: TimeWriter;
  readonly #suffix: Uint8Array;
  #last = NaN;
  readonly #buf: Uint8Array;
  #length = 0;
  /** Views of {@link CachedTime.#buf}'s first n bytes, made once per length. */
  readonly #views: Uint8Array[] = [];
  #text: Uint8Array = new Uint8Array(0);

  /**
   * `suffix` is written after every time (JSON's `","value":`): one copy instead of two per
   * sample.
   */
  constructor(format: TimeWriter, suffix: Uint8Array = new Uint8Array(0)) {
    this.#format = format;
    this.#suffix = suffix;
    this.#buf = new Uint8Array(MAX_TIME_TEXT + suffix.length);
  }

  /** Appends the formatted `time`, then the suffix, to `sink`. */
  write(sink: ByteSink, time: number): void {
    if (time !== this.#last) {
      const length = this.#format(time, this.#buf);
      this.#buf.set(this.#suffix, length);
      this.#length = length + this.#suffix.length;
      this.#text = this.#views[this.#length] ??= this.#buf.subarray(0, this.#length);
      this.#last = time;
    }
    sink.bytes(this.#text);
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
 * await queue.drain((bytes) => writeSomewhere(bytes)); // resolves false: counted in `lost`
 * ```
 */
export class EncodedQueue {
  readonly #name: string;
  readonly #logger: { warn(msg: string): void };
  readonly #maxBytes: number;
  readonly #earlyBytes: number;
  readonly #sink = new ByteSink(1 << 20);
  #samples = 0;
  #warned = false;
  /** Samples refused because the queue was full. */
  dropped = 0;
  /** Samples whose write failed (see {@link EncodedQueue.drain}). */
  lost = 0;

  constructor(
    name: string,
    logger: { warn(msg: string): void },
    opts: { maxBytes?: number; earlyFlushBytes?: number } = {},
  ) {
    this.#name = name;
    this.#logger = logger;
    this.#maxBytes = opts.maxBytes ?? 256 << 20;
    this.#earlyBytes = opts.earlyFlushBytes ?? 4 << 20;
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

  /**
   * Hands over what is queued (undefined when empty). The bytes stay valid: only
   * {@link EncodedQueue.drain} reuses a buffer, once it has written it.
   */
  take(): EncodedBatch | undefined {
    if (this.#samples === 0) return undefined;
    const batch = { bytes: this.#sink.take(), samples: this.#samples };
    this.#samples = 0;
    return batch;
  }

  /**
   * Writes what is queued through `write`, which resolves false when the write failed: those
   * samples are then counted in {@link EncodedQueue.lost}. The buffer is reused afterwards.
   */
  async drain(write: (bytes: Uint8Array) => Promise<boolean>): Promise<void> {
    const batch = this.take();
    if (!batch) return;
    try {
      if (!(await write(batch.bytes))) this.lost += batch.samples;
    } finally {
      this.#sink.recycle(batch.bytes);
    }
  }
}
