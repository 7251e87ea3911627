/**
 * A small structured logger with k6's text formats (runner.md §8.1): logfmt on a non-TTY
 * (`time="..." level=info msg="hello" source=console`), the short form on a TTY
 * (`INFO[0001] hello    source=console`). Goes to stderr unless told otherwise.
 *
 * @example
 * ```ts
 * const log = new Logger({ level: "info" });
 * log.warn("Request Failed", { error: "connection refused" });
 * ```
 * @module
 */
import { redact } from "./secrets.ts";

export type LogLevel = "debug" | "info" | "warning" | "error";
const levelRank: Record<LogLevel, number> = { debug: 0, info: 1, warning: 2, error: 3 };

/** Where log lines go: a function that takes one finished line (no trailing newline). */
export type LogSink = (line: string) => void;

export interface LoggerOptions {
  level?: LogLevel;
  /** `text` (default: logfmt or TTY short form), `json`, or `raw` (the message only). */
  format?: "text" | "json" | "raw";
  sink?: LogSink;
  /** Use the short TTY form; defaults to whether stderr is a terminal. */
  tty?: boolean;
  /** Colour the level in the TTY form. */
  color?: boolean;
  /** Values (secrets) replaced in every line; the array is shared with child loggers. */
  redact?: string[];
}

const encoder = new TextEncoder();
function stderrSink(line: string): void {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
}

function logfmtValue(value: string): string {
  return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
}

/** Structured logger shared by the runner, the outputs and the script console. */
export class Logger {
  level: LogLevel;
  readonly #format: "text" | "json" | "raw";
  readonly #sink: LogSink;
  readonly #tty: boolean;
  readonly #color: boolean;
  readonly #start = Date.now();
  readonly #fields: Readonly<Record<string, unknown>>;
  /** Secret values to hide (shared with child loggers, so it can be set after they exist). */
  readonly #redact: string[];

  constructor(options: LoggerOptions = {}, fields: Readonly<Record<string, unknown>> = {}) {
    this.level = options.level ?? "info";
    this.#format = options.format ?? "text";
    this.#sink = options.sink ?? stderrSink;
    this.#tty = options.tty ?? safeIsTerminal();
    this.#color = options.color ?? false;
    this.#fields = fields;
    this.#redact = options.redact ?? [];
  }

  /** Hides these values (secrets) in every line this logger and its children write. */
  redactValues(values: readonly string[]): void {
    this.#redact.splice(0, this.#redact.length, ...values);
  }

  /** Hides one more value from now on (a secret read during the run), here and in children. */
  addRedaction(value: string): void {
    if (value === "" || this.#redact.includes(value)) return;
    // Longest first, so a secret that contains another is hidden whole.
    const at = this.#redact.findIndex((v) => v.length < value.length);
    this.#redact.splice(at < 0 ? this.#redact.length : at, 0, value);
  }

  /** `text` with the hidden values replaced (for text another thread logs). */
  hide(text: string): string {
    return this.#redact.length > 0 ? redact(text, this.#redact) : text;
  }

  /** A logger that adds `fields` to every line. */
  with(fields: Record<string, unknown>): Logger {
    const child = new Logger(
      {
        level: this.level,
        format: this.#format,
        sink: this.#sink,
        tty: this.#tty,
        color: this.#color,
        redact: this.#redact,
      },
      { ...this.#fields, ...fields },
    );
    return child;
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.log("debug", msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.log("info", msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log("warning", msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.log("error", msg, fields);
  }

  /** True when a line at `level` would be written. */
  enabled(level: LogLevel): boolean {
    return levelRank[level] >= levelRank[this.level];
  }

  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(level)) return;
    let all = fields ? { ...this.#fields, ...fields } : this.#fields;
    if (this.#redact.length > 0) {
      // Before formatting, so a value is found as it is, not as the format escapes it.
      msg = redact(msg, this.#redact);
      all = Object.fromEntries(
        Object.entries(all).map((
          [k, v],
        ) => [k, typeof v === "string" ? redact(v, this.#redact) : v]),
      );
    }
    this.#sink(this.format(level, msg, all));
  }

  /** Formats one line without writing it. */
  format(level: LogLevel, msg: string, fields: Readonly<Record<string, unknown>>): string {
    if (this.#format === "raw") return msg;
    if (this.#format === "json") {
      return JSON.stringify({ level, msg, time: new Date().toISOString(), ...fields });
    }
    let tail = "";
    for (const [k, v] of Object.entries(fields)) {
      tail += ` ${k}=${logfmtValue(typeof v === "string" ? v : JSON.stringify(v) ?? "")}`;
    }
    if (this.#tty) {
      const secs = Math.floor((Date.now() - this.#start) / 1000).toString().padStart(4, "0");
      const tag = level === "warning" ? "WARN" : level.toUpperCase();
      const coloured = this.#color ? colourLevel(level, tag) : tag;
      return `${coloured}[${secs}] ${msg.padEnd(tail ? 8 : 0)}${tail}`;
    }
    return `time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)}${tail}`;
  }
}

function colourLevel(level: LogLevel, tag: string): string {
  const code = level === "error" ? 31 : level === "warning" ? 33 : level === "info" ? 36 : 37;
  return `\x1b[${code}m${tag}\x1b[0m`;
}

function safeIsTerminal(): boolean {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}
