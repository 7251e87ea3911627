/**
 * `k6/experimental/fs` and `k6/experimental/csv`: files opened in the init context, read and
 * seeked through promises, and CSV records parsed from them, as k6's modules do.
 *
 * - `open(path)` (init only) → `File` with `path`, `stat()` (`{ name, size }`), `read(into)`
 *   (bytes read, `null` at the end) and `seek(offset, whence)`; `SeekMode.Start/Current/End`.
 *   Errors carry k6's names (`NotFoundError`, `TypeError`, ...).
 * - `csv.parse(file, options)` → a `SharedArray` of records; `new csv.Parser(file, options)`
 *   (init only) with `next()` → `{ done, value }`. Options: `delimiter`, `skipFirstLine`,
 *   `fromLine`, `toLine`, `asObjects`, with k6's checks. Parsing follows Go's `encoding/csv`
 *   (quoted fields, `""`, CRLF, blank lines skipped, every record as wide as the first).
 *
 * @example
 * ```ts
 * const file = await fs.open("data.csv");
 * const rows = await csv.parse(file, { skipFirstLine: true });
 * ```
 * @module
 */

/** An error with k6's fs error name (`err.name`) and message. */
export class FsError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** A file opened by `open()`: its bytes (read once) and a read position. */
export class FsFile {
  readonly path: string;
  readonly #data: Uint8Array;
  #offset = 0;

  /** Made by `open()`. */
  constructor(path: string, data: Uint8Array) {
    this.path = path;
    this.#data = data;
  }

  /** `{ name, size }`: the base name and the size in bytes. */
  stat(): Promise<{ name: string; size: number }> {
    return Promise.resolve({ name: this.path.replace(/^.*\//, ""), size: this.#data.length });
  }

  /** Reads into `into` from the current position: the bytes read, or null at the end. */
  read(into: unknown): Promise<number | null> {
    if (into === null || into === undefined) {
      return Promise.reject(
        new FsError(
          "TypeError",
          "read() failed; reason: into argument cannot be null or undefined",
        ),
      );
    }
    if (!(into instanceof Uint8Array)) {
      return Promise.reject(
        new FsError("TypeError", "read() failed; reason: into argument must be a Uint8Array"),
      );
    }
    if (this.#offset >= this.#data.length) return Promise.resolve(null);
    const n = Math.min(into.length, this.#data.length - this.#offset);
    into.set(this.#data.subarray(this.#offset, this.#offset + n));
    this.#offset += n;
    return Promise.resolve(n);
  }

  /** Moves the position; resolves with the new one. */
  seek(offset: unknown, whence: unknown = 0): Promise<number> {
    const fail = (msg: string) => Promise.reject(new FsError("TypeError", msg));
    if (typeof offset !== "number") {
      return fail(`seek() failed; reason: the offset argument ${argProblem(offset)}`);
    }
    if (typeof whence !== "number") {
      return fail(`seek() failed; reason: the whence argument ${argProblem(whence)}`);
    }
    let next: number;
    switch (whence) {
      case 0:
        if (offset < 0) return fail("offset cannot be negative when using SeekModeStart");
        next = offset;
        break;
      case 1:
        next = this.#offset + offset;
        break;
      case 2:
        if (offset > 0) return fail("offset cannot be positive when using SeekModeEnd");
        next = this.#data.length + offset;
        break;
      default:
        return fail("seek() failed; reason: the whence argument must be a SeekMode");
    }
    if (next < 0) return fail("seeking before start of file");
    if (next > this.#data.length) return fail("seeking beyond end of file");
    this.#offset = Math.trunc(next);
    return Promise.resolve(this.#offset);
  }

  /** @internal The bytes from the current position to the end, consumed (csv reads them). */
  takeRest(): Uint8Array {
    const rest = this.#data.subarray(this.#offset);
    this.#offset = this.#data.length;
    return rest;
  }
}

function argProblem(v: unknown): string {
  return v === null || v === undefined ? "cannot be null or undefined" : "must be a number";
}

/** What the fs module needs from its VU. */
export interface FsHost {
  /** Whether the VU is running its init code. */
  inInit(): boolean;
  /** The file's bytes and absolute path (init only); throws when it can't be read. */
  read(path: string): { bytes: Uint8Array; path: string };
}

/** The `k6/experimental/fs` module of one VU. */
export function createFsModule(host: FsHost): Record<string, unknown> {
  return {
    SeekMode: { Start: 0, Current: 1, End: 2 },
    open(path: unknown): Promise<FsFile> {
      if (!host.inInit()) {
        return Promise.reject(
          new FsError(
            "ForbiddenError",
            "open() failed; reason: opening a file is allowed only in the Init context",
          ),
        );
      }
      if (path === null || path === undefined) {
        return Promise.reject(
          new FsError("TypeError", "open() failed; reason: path cannot be null or undefined"),
        );
      }
      if (String(path) === "") {
        return Promise.reject(
          new FsError("TypeError", "open() failed; reason: path cannot be empty"),
        );
      }
      try {
        const { bytes, path: abs } = host.read(String(path));
        return Promise.resolve(new FsFile(abs, bytes));
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };
}

// ---- k6/experimental/csv ---------------------------------------------------------------------

interface CsvOptions {
  delimiter: string;
  skipFirstLine: boolean;
  fromLine?: number;
  toLine?: number;
  asObjects: boolean;
}

function csvOptions(raw: unknown): CsvOptions {
  const o: CsvOptions = { delimiter: ",", skipFirstLine: false, asObjects: false };
  if (raw === null || raw === undefined) return o;
  const r = raw as Record<string, unknown>;
  if (r.delimiter !== undefined) {
    const d = String(r.delimiter);
    if (d.length !== 1) throw new Error("delimiter must be a single character");
    o.delimiter = d;
  }
  if (r.skipFirstLine !== undefined) o.skipFirstLine = Boolean(r.skipFirstLine);
  if (r.fromLine !== undefined && r.fromLine !== null) o.fromLine = Math.trunc(Number(r.fromLine));
  if (r.toLine !== undefined && r.toLine !== null) o.toLine = Math.trunc(Number(r.toLine));
  if (r.asObjects !== undefined) o.asObjects = Boolean(r.asObjects);
  if (o.fromLine !== undefined && o.toLine !== undefined && o.fromLine >= o.toLine) {
    throw new Error("fromLine must be less than or equal to toLine");
  }
  return o;
}

function validate(o: CsvOptions): void {
  if (o.asObjects && o.skipFirstLine) {
    throw new Error("the 'header' option cannot be enabled when 'skipFirstLine' is true");
  }
  if (o.asObjects && o.fromLine !== undefined && o.fromLine > 0) {
    throw new Error(
      "the 'header' option cannot be enabled when 'fromLine' is set to a value greater than 0",
    );
  }
  if (o.fromLine !== undefined && o.fromLine < 0) {
    throw new Error(`the 'fromLine' option must be greater than or equal to 0; got ${o.fromLine}`);
  }
  if (o.toLine !== undefined && o.toLine < 0) {
    throw new Error(`the 'toLine' option must be greater than or equal to 0; got ${o.toLine}`);
  }
}

/**
 * Splits CSV text into records as Go's `encoding/csv` Reader does (`Comma` = `delimiter`,
 * strict quotes, blank lines skipped, every record as wide as the first).
 */
export function parseCsv(text: string, delimiter = ","): string[][] {
  const records: string[][] = [];
  let width = -1;
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    // Blank lines (and a final newline) are not records.
    if (text[i] === "\n" || (text[i] === "\r" && text[i + 1] === "\n")) {
      i += text[i] === "\r" ? 2 : 1;
      line++;
      continue;
    }
    const startLine = line;
    const record: string[] = [];
    for (;;) {
      let field = "";
      if (text[i] === '"') {
        i++;
        const quoteLine = line;
        for (;;) {
          if (i >= n) {
            throw new Error(
              `record on line ${startLine}; parse error on line ${quoteLine + 0}, column ` +
                `${i}: extraneous or missing " in quoted-field`,
            );
          }
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === "\n") line++;
          if (c === "\r" && text[i + 1] === "\n") {
            i++;
            continue; // a quoted CRLF is read as LF
          }
          field += c;
          i++;
        }
        const next = text[i];
        if (i < n && next !== delimiter && next !== "\n" && next !== "\r") {
          throw new Error(
            `record on line ${startLine}; parse error on line ${line}: extraneous or missing " ` +
              "in quoted-field",
          );
        }
      } else {
        while (i < n && text[i] !== delimiter && text[i] !== "\n" && text[i] !== "\r") {
          if (text[i] === '"') {
            throw new Error(
              `record on line ${startLine}; parse error on line ${line}: bare " in ` +
                "non-quoted-field",
            );
          }
          field += text[i];
          i++;
        }
      }
      record.push(field);
      if (i < n && text[i] === delimiter) {
        i++;
        continue;
      }
      // End of record: \n, \r\n, a lone \r (kept as part of the line end), or the end.
      if (text[i] === "\r") i++;
      if (text[i] === "\n") i++;
      line++;
      break;
    }
    if (width < 0) width = record.length;
    else if (record.length !== width) {
      throw new Error(`record on line ${startLine}: wrong number of fields`);
    }
    records.push(record);
  }
  return records;
}

/** Reads records the way k6's csv Reader does: header, skipped lines, a last line. */
class CsvReader {
  readonly #records: string[][];
  readonly #options: CsvOptions;
  #at = 0;
  #line = 0;
  #columns: string[] | undefined;

  constructor(file: FsFile, options: CsvOptions) {
    validate(options);
    this.#options = options;
    this.#records = parseCsv(new TextDecoder().decode(file.takeRest()), options.delimiter);
    const take = (why: string) => {
      if (this.#at >= this.#records.length) throw new Error(`${why}; reason: EOF`);
      this.#line++;
      return this.#records[this.#at++];
    };
    if (options.asObjects) this.#columns = take("failed to read the first line");
    if (options.skipFirstLine && !(options.fromLine !== undefined && options.fromLine !== 0)) {
      take("failed to skip the first line");
    }
    if (options.fromLine !== undefined && options.fromLine > 0) {
      while (this.#line < options.fromLine) {
        take(`failed to skip lines until line ${options.fromLine}`);
      }
    }
  }

  /** The next record (an array, or an object with `asObjects`), or undefined at the end. */
  read(): string[] | Record<string, string> | undefined {
    const to = this.#options.toLine;
    if (to !== undefined && to > 0 && this.#line > to) return undefined;
    if (this.#at >= this.#records.length) return undefined;
    const record = this.#records[this.#at++];
    this.#line++;
    if (!this.#columns) return record;
    if (record.length !== this.#columns.length) {
      throw new Error(
        `record length (${record.length}) doesn't match header length (${this.#columns.length})`,
      );
    }
    const out: Record<string, string> = {};
    this.#columns.forEach((name, i) => out[name] = record[i]);
    return out;
  }
}

/** What the csv module needs from its VU. */
export interface CsvHost {
  inInit(): boolean;
  /** `new SharedArray(name, fn)` of the VU's k6/data. */
  sharedArray(name: string, fn: () => unknown[]): unknown;
}

function asFile(v: unknown): FsFile {
  if (!(v instanceof FsFile)) {
    throw new Error(
      `first argument expected to be a fs.File instance, got ${
        v === null ? "null" : typeof v
      } instead`,
    );
  }
  return v;
}

/** The `k6/experimental/csv` module of one VU. */
export function createCsvModule(host: CsvHost): Record<string, unknown> {
  const parse = (file: unknown, options?: unknown): Promise<unknown> => {
    try {
      const f = asFile(file);
      let opts: CsvOptions;
      try {
        opts = csvOptions(options);
      } catch (err) {
        throw new Error(
          `failed to interpret the provided Parser options; reason: ${(err as Error).message}`,
        );
      }
      // One SharedArray per file and options, as k6 names it.
      const name = JSON.stringify({ path: f.path, options: opts });
      return Promise.resolve(host.sharedArray(name, () => {
        const reader = new CsvReader(f, opts);
        const rows: unknown[] = [];
        for (let r = reader.read(); r !== undefined; r = reader.read()) rows.push(r);
        return rows;
      }));
    } catch (err) {
      return Promise.reject(err);
    }
  };
  const Parser = function Parser(this: unknown, file: unknown, options?: unknown) {
    if (!new.target) throw new TypeError("Parser must be called with new");
    if (!host.inInit()) {
      throw new Error("csv Parser constructor must be called in the init context");
    }
    if (file === null || file === undefined) {
      throw new Error("csv Parser constructor takes at least one non-nil source argument");
    }
    let opts: CsvOptions;
    try {
      opts = csvOptions(options);
    } catch (err) {
      throw new Error(
        `encountered an error while interpreting Parser options; reason: ${(err as Error).message}`,
      );
    }
    let reader: CsvReader;
    try {
      reader = new CsvReader(asFile(file), opts);
    } catch (err) {
      throw new Error(`failed to create a new parser; reason: ${(err as Error).message}`);
    }
    return {
      next(): Promise<{ done: boolean; value: unknown }> {
        try {
          const value = reader.read();
          return Promise.resolve(
            value === undefined ? { done: true, value: [] } : { done: false, value },
          );
        } catch (err) {
          return Promise.reject(err);
        }
      },
    };
  };
  return { parse, Parser };
}
