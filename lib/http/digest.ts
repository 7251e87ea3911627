/**
 * HTTP Digest access authentication (RFC 7616, RFC 2617), for `k6/http`'s `auth: "digest"`:
 * reads a server's `WWW-Authenticate: Digest ...` challenge and builds the `Authorization`
 * header that answers it. Algorithms MD5, SHA-256 and their `-sess` forms; `qop=auth` when
 * offered (`auth-int` alone is answered without qop, as servers that still send RFC 2069
 * challenges expect).
 *
 * @example
 * ```ts
 * const challenge = parseDigestChallenge('Digest realm="r", nonce="n", qop="auth"');
 * digestAuthorization(challenge!, { method: "GET", uri: "/", username: "u", password: "p" });
 * ```
 * @module
 */
import { createHash, randomBytes } from "node:crypto";

/** The parameters of one `Digest` challenge. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  /** `MD5` (default), `MD5-sess`, `SHA-256` or `SHA-256-sess`, as the server spelt it. */
  algorithm?: string;
  /** The qop values offered (`auth`, `auth-int`). */
  qop: string[];
}

/**
 * The `Digest` challenge in a `WWW-Authenticate` header value, or undefined when there is
 * none (a `Basic` challenge, say). Quoted values may contain commas and escaped quotes.
 */
export function parseDigestChallenge(header: string): DigestChallenge | undefined {
  const start = header.search(/(^|[\s,])Digest\s/i);
  if (start < 0) return undefined;
  const params: Record<string, string> = {};
  // `name=value` pairs, comma-separated, from just after `Digest`; a token not followed by
  // `=` starts another scheme's challenge, which ends this one.
  const re = /[\s,]*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/y;
  re.lastIndex = header.indexOf("Digest", start) + "Digest".length;
  for (let m = re.exec(header); m !== null; m = re.exec(header)) {
    params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3];
  }
  if (params.nonce === undefined) return undefined;
  return {
    realm: params.realm ?? "",
    nonce: params.nonce,
    opaque: params.opaque,
    algorithm: params.algorithm,
    qop: (params.qop ?? "").split(",").map((q) => q.trim()).filter((q) => q !== ""),
  };
}

/** What the answer covers. */
export interface DigestRequest {
  method: string;
  /** The request target as sent: path and query. */
  uri: string;
  username: string;
  password: string;
  /** Client nonce; random when absent (tests pass one). */
  cnonce?: string;
  /** Requests answered with this nonce so far, this one included (default 1). */
  nc?: number;
}

/**
 * The `Authorization` header value answering `challenge`, or undefined for an algorithm this
 * module does not know (the request then goes without, and the server's 401 stands).
 */
export function digestAuthorization(
  challenge: DigestChallenge,
  req: DigestRequest,
): string | undefined {
  const algorithm = challenge.algorithm ?? "MD5";
  const upper = algorithm.toUpperCase();
  const hashName = upper.startsWith("SHA-256") ? "sha256" : upper.startsWith("MD5") ? "md5" : "";
  if (hashName === "" || !/^(MD5|SHA-256)(-SESS)?$/.test(upper)) return undefined;
  const h = (s: string) => createHash(hashName).update(s, "utf8").digest("hex");
  const cnonce = req.cnonce ?? randomBytes(8).toString("hex");
  const nc = (req.nc ?? 1).toString(16).padStart(8, "0");
  let ha1 = h(`${req.username}:${challenge.realm}:${req.password}`);
  if (upper.endsWith("-SESS")) ha1 = h(`${ha1}:${challenge.nonce}:${cnonce}`);
  const ha2 = h(`${req.method}:${req.uri}`);
  const qop = challenge.qop.includes("auth") ? "auth" : undefined;
  const response = qop
    ? h(`${ha1}:${challenge.nonce}:${nc}:${cnonce}:${qop}:${ha2}`)
    : h(`${ha1}:${challenge.nonce}:${ha2}`);
  const q = (s: string) => `"${s.replace(/["\\]/g, "\\$&")}"`;
  const parts = [
    `username=${q(req.username)}`,
    `realm=${q(challenge.realm)}`,
    `nonce=${q(challenge.nonce)}`,
    `uri=${q(req.uri)}`,
    `algorithm=${algorithm}`,
    `response=${q(response)}`,
  ];
  if (challenge.opaque !== undefined) parts.push(`opaque=${q(challenge.opaque)}`);
  if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${q(cnonce)}`);
  return "Digest " + parts.join(", ");
}
