/**
 * Maps network failures to k6's error codes and messages (runner.md §5.7). Each error has two
 * texts, as in k6: `message` is k6's short, low-cardinality text (the Response's `error` and
 * the `error` tag: "dial: connection refused"), `detail` the full Go-style text that k6 logs
 * in the "Request Failed" warning ("dial tcp 127.0.0.1:1: connect: connection refused").
 * @module
 */

/** k6 error codes used by the client. */
export const ErrorCode = {
  Generic: 1000,
  NonTCPNetwork: 1010,
  InvalidURL: 1020,
  RequestTimeout: 1050,
  DNSGeneric: 1100,
  NoSuchHost: 1101,
  BlacklistedIP: 1110,
  BlockedHostname: 1111,
  TCPGeneric: 1200,
  BrokenPipe: 1201,
  DialGeneric: 1210,
  DialTimeout: 1211,
  ConnectionRefused: 1212,
  ConnectionReset: 1220,
  TLSGeneric: 1300,
  X509UnknownAuthority: 1310,
  X509HostnameMismatch: 1311,
  Decompression: 1701,
} as const;

/** A failure with its k6 code; thrown inside the client, turned into a result at the edge. */
export class HttpError extends Error {
  readonly code: number;
  readonly detail: string;
  constructor(code: number, message: string, detail?: string) {
    super(message);
    this.name = "HttpError";
    this.code = code;
    this.detail = detail ?? message;
  }
}

const unknownAuthority = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
]);

/** Where in the round trip a failure happened: it changes the Go-style message prefix. */
export type Phase = "dial" | "tls" | "write" | "read";

/**
 * Classifies an error thrown by Deno.connect / node:net / node:tls / a read or write.
 * `addr` is `host:port` for messages.
 */
export function classifyError(err: unknown, phase: Phase, host: string, addr: string): HttpError {
  if (err instanceof HttpError) return err;
  const e = err as { name?: string; code?: string; message?: string };
  const code = typeof e?.code === "string" ? e.code : "";
  const name = typeof e?.name === "string" ? e.name : "";
  const msg = typeof e?.message === "string" ? e.message : String(err);
  const op = phase === "dial" ? `dial tcp ${addr}: connect` : phase === "write" ? "write" : "read";
  const goOp = phase === "write" ? "write" : "read";
  if (code === "ECONNREFUSED" || name === "ConnectionRefused") {
    return new HttpError(
      ErrorCode.ConnectionRefused,
      "dial: connection refused",
      `${op}: connection refused`,
    );
  }
  if (code === "ECONNRESET" || name === "ConnectionReset") {
    return new HttpError(
      ErrorCode.ConnectionReset,
      `${goOp}: connection reset by peer`,
      `${op}: connection reset by peer`,
    );
  }
  if (code === "EPIPE" || name === "BrokenPipe") {
    return new HttpError(ErrorCode.BrokenPipe, "write: broken pipe", `${op}: broken pipe`);
  }
  if (
    code === "ENOTFOUND" || code === "EAI_NONAME" ||
    msg.includes("failed to lookup address") || msg.includes("Name or service not known")
  ) {
    return new HttpError(
      ErrorCode.NoSuchHost,
      "lookup: no such host",
      `dial tcp: lookup ${host}: no such host`,
    );
  }
  if (code === "EAI_AGAIN" || code === "EAI_FAIL") {
    return new HttpError(
      ErrorCode.DNSGeneric,
      `lookup ${host}: ${msg}`,
      `dial tcp: lookup ${host}: ${msg}`,
    );
  }
  if (code === "ETIMEDOUT" || name === "TimedOut") {
    return new HttpError(ErrorCode.DialTimeout, "dial: i/o timeout", `${op}: i/o timeout`);
  }
  if (unknownAuthority.has(code) || msg.includes("UnknownIssuer")) {
    return new HttpError(
      ErrorCode.X509UnknownAuthority,
      "x509: unknown authority",
      "tls: failed to verify certificate: x509: certificate signed by unknown authority",
    );
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID" || msg.includes("NotValidForName")) {
    return new HttpError(
      ErrorCode.X509HostnameMismatch,
      "x509: certificate doesn't match hostname",
      `tls: failed to verify certificate: x509: certificate is not valid for ${host}`,
    );
  }
  if (phase === "tls" || code.startsWith("ERR_SSL") || code.startsWith("ERR_TLS")) {
    return new HttpError(ErrorCode.TLSGeneric, `tls: ${msg}`);
  }
  if (phase === "dial") return new HttpError(ErrorCode.DialGeneric, `${op}: ${msg}`);
  return new HttpError(ErrorCode.Generic, msg);
}
