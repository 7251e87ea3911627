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
