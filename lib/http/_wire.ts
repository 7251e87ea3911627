/**
 * One transport connection as the client sees it: chunked reads, whole writes, byte counters
 * and the peer's identity. Plain HTTP uses Deno.connect (the cheapest path Deno has); HTTPS
 * uses node:tls because it is the only TLS API in Deno 2 that can skip certificate
 * verification per connection (`rejectUnauthorized: false`; Deno.startTls cannot, and the
 * `--unsafely-ignore-certificate-errors` flag is process-wide) and that reports the negotiated
 * TLS version and cipher suite (Deno.TlsConn only reports ALPN).
 * @module
 */
import net from "node:net";
import tls from "node:tls";
import { classifyError, HttpError } from "./_errors.ts";
import type { H2Socket } from "./_h2.ts";

/** A connected, ready-to-use socket. */
export interface Wire {
  readonly remoteIP: string;
  readonly remotePort: number;
  /** `tls1.2`/`tls1.3`, or "" for plain TCP. */
  readonly tlsVersion: string;
  readonly tlsCipherSuite: string;
  /**
   * Bytes moved so far on the socket. For TLS, reads are exact socket bytes (records and
   * handshake included); writes are the plaintext plus the 22-byte overhead of each TLS 1.3
   * record, because Deno's node:tls does not count the bytes it writes to the socket (the
   * client's handshake messages are not counted).
   */
  readonly bytesRead: number;
  readonly bytesWritten: number;
  closed: boolean;
  /** Next chunk of bytes, or null at EOF. The view is valid until the next read(). */
  read(): Promise<Uint8Array | null>;
  write(data: Uint8Array): Promise<void>;
  close(): void;
}

const readBufferSize = 64 * 1024;

/** Plain TCP over Deno.connect. */
export class TcpWire implements Wire {
  readonly remoteIP: string;
  readonly remotePort: number;
  readonly tlsVersion = "";
  readonly tlsCipherSuite = "";
  bytesRead = 0;
  bytesWritten = 0;
  closed = false;
  readonly #conn: Deno.TcpConn;
  // One buffer per connection, reused for every read: a read's view is consumed (parsed or
  // copied) before the next read is issued.
  readonly #buf = new Uint8Array(readBufferSize);

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    const addr = conn.remoteAddr;
    this.remoteIP = addr.hostname;
    this.remotePort = addr.port;
  }

  async read(): Promise<Uint8Array | null> {
    const n = await this.#conn.read(this.#buf);
    if (n === null) return null;
    this.bytesRead += n;
    return this.#buf.subarray(0, n);
  }

  async write(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) off += await this.#conn.write(off ? data.subarray(off) : data);
    this.bytesWritten += data.length;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed by the peer
    }
  }
}

const tlsVersionNames: Record<string, string> = {
  "TLSv1": "tls1.0",
  "TLSv1.1": "tls1.1",
  "TLSv1.2": "tls1.2",
  "TLSv1.3": "tls1.3",
};

/** TLS over node:tls; the socket's events are turned into a pull-style read(). */
export class TlsWire implements Wire {
  remoteIP: string;
  remotePort: number;
  readonly tlsVersion: string;
  readonly tlsCipherSuite: string;
  bytesWritten = 0;
  closed = false;
  readonly #sock: tls.TLSSocket;
  readonly #tcp: net.Socket;
  #plainRead = 0;
  readonly #queue: Uint8Array[] = [];
  #ended = false;
  #error: unknown = null;
  #waiter: { resolve(v: Uint8Array | null): void; reject(e: unknown): void } | null = null;

  constructor(sock: tls.TLSSocket, tcp: net.Socket, remoteIP: string, remotePort: number) {
    this.#sock = sock;
    this.#tcp = tcp;
    this.remoteIP = sock.remoteAddress ?? remoteIP;
    this.remotePort = sock.remotePort ?? remotePort;
    this.tlsVersion = tlsVersionNames[sock.getProtocol() ?? ""] ?? "";
    this.tlsCipherSuite = sock.getCipher()?.standardName ?? "";
    sock.on("data", (chunk: Uint8Array) => {
      this.#plainRead += chunk.length;
      const w = this.#waiter;
      if (w) {
        this.#waiter = null;
        w.resolve(chunk);
      } else {
        this.#queue.push(chunk);
        sock.pause();
      }
    });
    sock.on("end", () => this.#finish(null));
    sock.on("close", () => this.#finish(null));
    sock.on("error", (err: unknown) => this.#finish(err));
  }

  get bytesRead(): number {
    // Socket bytes when the runtime counts them, else the plaintext.
    return Math.max(this.#tcp.bytesRead ?? 0, this.#plainRead);
  }

  #finish(err: unknown): void {
    if (err !== null && this.#error === null) this.#error = err;
    this.#ended = true;
    const w = this.#waiter;
    if (!w) return;
    this.#waiter = null;
    if (this.#error !== null) w.reject(this.#error);
    else w.resolve(null);
  }

  read(): Promise<Uint8Array | null> {
    if (this.#queue.length > 0) {
      const chunk = this.#queue.shift()!;
      if (this.#queue.length === 0) this.#sock.resume();
      return Promise.resolve(chunk);
    }
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#ended || this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  write(data: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#sock.write(data, (err?: Error | null) => {
        if (err) reject(err);
        else {
          this.bytesWritten += data.length + 22 * Math.ceil(data.length / 16384);
          resolve();
        }
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#sock.destroy();
    this.#finish(new HttpError(1000, "use of closed network connection"));
  }
}

/** Cancels a dial in progress (set by the dialers, called on timeout or interrupt). */
export interface DialCancel {
  cancelDial: (() => void) | null;
}

/** Timings of a dial, ms. */
export interface DialTimes {
  connecting: number;
  tlsHandshaking: number;
}

/** Opens a plain TCP connection. `ip` may be a hostname (then the OS resolves it). */
export async function dialTcp(
  ip: string,
  port: number,
  host: string,
  cancel: DialCancel,
  times: DialTimes,
): Promise<Wire> {
  const ac = new AbortController();
  cancel.cancelDial = () => ac.abort();
  const t0 = performance.now();
  try {
    const conn = await Deno.connect({ hostname: ip, port, transport: "tcp", signal: ac.signal });
    times.connecting = performance.now() - t0;
    return new TcpWire(conn);
  } catch (err) {
    throw classifyError(err, "dial", host, `${ip}:${port}`);
  } finally {
    cancel.cancelDial = null;
  }
}

/** TLS options for {@link dialTls}. */
export interface TlsDialOptions {
  servername: string;
  insecureSkipVerify: boolean;
  /** Extra PEM roots; when given they replace the default roots (node:tls semantics). */
  caCerts?: readonly string[];
  /** Offer `h2` by ALPN (k6's default), besides `http/1.1`. */
  h2?: boolean;
}

/**
 * Opens TCP then TLS, measuring each step. ALPN offers `h2` and `http/1.1`, as Go's transport
 * does; when the server picks `h2`, the socket comes back untouched for an HTTP/2 session.
 */
export function dialTls(
  ip: string,
  port: number,
  host: string,
  opts: TlsDialOptions,
  cancel: DialCancel,
  times: DialTimes,
): Promise<Wire | H2Socket> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let t1 = 0;
    let phase: "dial" | "tls" = "dial";
    let settled = false;
    const tcp = net.connect({ host: ip, port, noDelay: true });
    let sock: tls.TLSSocket | null = null;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      cancel.cancelDial = null;
      sock?.destroy();
      tcp.destroy();
      reject(classifyError(err, phase, host, `${ip}:${port}`));
    };
    cancel.cancelDial = () => fail(new HttpError(1000, "dial cancelled"));
    tcp.once("error", fail);
    tcp.once("connect", () => {
      if (settled) return;
      t1 = performance.now();
      times.connecting = t1 - t0;
      phase = "tls";
      const servername = net.isIP(opts.servername) ? undefined : opts.servername;
      const s = tls.connect({
        socket: tcp,
        servername,
        rejectUnauthorized: !opts.insecureSkipVerify,
        ALPNProtocols: opts.h2 === false ? ["http/1.1"] : ["h2", "http/1.1"],
        ...(opts.caCerts ? { ca: [...opts.caCerts] } : {}),
      });
      sock = s;
      s.once("error", fail);
      s.once("secureConnect", () => {
        if (settled) return;
        settled = true;
        cancel.cancelDial = null;
        s.removeListener("error", fail);
        tcp.removeListener("error", fail);
        // Errors of the TCP layer now surface on the TLS socket; keep Node from throwing.
        tcp.on("error", () => {});
        times.tlsHandshaking = performance.now() - t1;
        if (s.alpnProtocol === "h2") {
          resolve({
            h2: true,
            socket: s,
            tcp,
            remoteIP: s.remoteAddress ?? ip,
            remotePort: s.remotePort ?? port,
            tlsVersion: tlsVersionNames[s.getProtocol() ?? ""] ?? "",
            tlsCipherSuite: s.getCipher()?.standardName ?? "",
          });
        } else resolve(new TlsWire(s, tcp, ip, port));
      });
    });
  });
}
