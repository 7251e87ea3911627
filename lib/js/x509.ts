/**
 * `k6/crypto/x509`: `parse`, `getAltNames`, `getIssuer`, `getSubject` of a PEM certificate,
 * with the shapes and texts k6 gives (its Go structs through k6's snake_case field mapper).
 *
 * The certificate is read by a small DER reader here: node:crypto's X509Certificate gives the
 * subject and issuer as text only, and k6 shows every attribute with its OID, in order
 * (`names`), which needs the ASN.1. Only what k6 reports is read.
 *
 * @example
 * ```ts
 * const cert = parse(pem);
 * cert.subject.commonName; // "example.com"
 * cert.altNames; // ["example.com", "admin@example.com", "192.0.2.1", "https://example.com/"]
 * ```
 * @module
 */
import { createHash } from "node:crypto";

/** One DER element: tag byte, contents [start, end) in `der`. */
interface Tlv {
  tag: number;
  start: number;
  end: number;
}

class Der {
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** The element at `at`, and where the next one starts. */
  read(at: number, limit: number): Tlv & { next: number } {
    const b = this.bytes;
    if (at + 2 > limit) throw new Error("x509: malformed certificate");
    const tag = b[at];
    let len = b[at + 1];
    let start = at + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || start + n > limit) throw new Error("x509: malformed certificate");
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + b[start + i];
      start += n;
    }
    const end = start + len;
    if (end > limit) throw new Error("x509: malformed certificate");
    return { tag, start, end, next: end };
  }

  /** The children of a constructed element. */
  children(of: Tlv): Tlv[] {
    const out: Tlv[] = [];
    for (let at = of.start; at < of.end;) {
      const t = this.read(at, of.end);
      out.push(t);
      at = t.next;
    }
    return out;
  }

  oid(t: Tlv): string {
    const b = this.bytes;
    const parts: number[] = [];
    let v = 0;
    for (let i = t.start; i < t.end; i++) {
      v = v * 128 + (b[i] & 0x7f);
      if (!(b[i] & 0x80)) {
        if (parts.length === 0) {
          parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
        } else parts.push(v);
        v = 0;
      }
    }
    return parts.join(".");
  }

  bigint(t: Tlv): bigint {
    let v = 0n;
    for (let i = t.start; i < t.end; i++) v = v * 256n + BigInt(this.bytes[i]);
    return v;
  }

  text(t: Tlv): string {
    const raw = this.bytes.subarray(t.start, t.end);
    if (t.tag === 0x1e) { // BMPString: UTF-16BE
      let s = "";
      for (let i = 0; i + 1 < raw.length; i += 2) {
        s += String.fromCharCode(raw[i] << 8 | raw[i + 1]);
      }
      return s;
    }
    return new TextDecoder().decode(raw);
  }
}

export interface Rdn {
  type: string;
  value: string;
}

export interface Subject {
  commonName: string;
  country: string;
  postalCode: string;
  stateOrProvinceName: string;
  localityName: string;
  streetAddress: string;
  organizationName: string;
  organizationalUnitName: string[];
  names: Rdn[];
}

export type Issuer = Pick<
  Subject,
  | "commonName"
  | "country"
  | "stateOrProvinceName"
  | "localityName"
  | "organizationName"
  | "names"
>;

export interface Certificate {
  subject: Subject;
  issuer: Issuer;
  notBefore: string;
  notAfter: string;
  altNames: string[];
  signatureAlgorithm: string;
  fingerPrint: number[];
  publicKey: { algorithm: string; key: Record<string, unknown> };
}

/** Go's x509.SignatureAlgorithm names by OID. */
const SIGNATURE_ALGORITHMS: Record<string, string> = {
  "1.2.840.113549.1.1.2": "MD2-RSA",
  "1.2.840.113549.1.1.4": "MD5-RSA",
  "1.2.840.113549.1.1.5": "SHA1-RSA",
  "1.3.14.3.2.29": "SHA1-RSA",
  "1.2.840.113549.1.1.11": "SHA256-RSA",
  "1.2.840.113549.1.1.12": "SHA384-RSA",
  "1.2.840.113549.1.1.13": "SHA512-RSA",
  "1.2.840.10040.4.3": "DSA-SHA1",
  "2.16.840.1.101.3.4.3.2": "DSA-SHA256",
  "1.2.840.10045.4.1": "ECDSA-SHA1",
  "1.2.840.10045.4.3.2": "ECDSA-SHA256",
  "1.2.840.10045.4.3.3": "ECDSA-SHA384",
  "1.2.840.10045.4.3.4": "ECDSA-SHA512",
  "1.3.101.112": "Ed25519",
};

/** RSASSA-PSS: Go names it by the hash in its parameters. */
const PSS_HASHES: Record<string, string> = {
  "2.16.840.1.101.3.4.2.1": "SHA256-RSAPSS",
  "2.16.840.1.101.3.4.2.2": "SHA384-RSAPSS",
  "2.16.840.1.101.3.4.2.3": "SHA512-RSAPSS",
};

/** The NIST curves Go knows, as elliptic.CurveParams. */
const CURVES: Record<
  string,
  { bits: number; p: string; n: string; b: string; gx: string; gy: string }
> = {
  "P-224": {
    bits: 224,
    p: "ffffffffffffffffffffffffffffffff000000000000000000000001",
    n: "ffffffffffffffffffffffffffff16a2e0b8f03e13dd29455c5c2a3d",
    b: "b4050a850c04b3abf54132565044b0b7d7bfd8ba270b39432355ffb4",
    gx: "b70e0cbd6bb4bf7f321390b94a03c1d356c21122343280d6115c1d21",
    gy: "bd376388b5f723fb4c22dfe6cd4375a05a07476444d5819985007e34",
  },
  "P-256": {
    bits: 256,
    p: "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
    n: "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
    b: "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
    gx: "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
    gy: "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
  },
  "P-384": {
    bits: 384,
    p: "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff",
    n: "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
    b: "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef",
    gx:
      "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7",
    gy:
      "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f",
  },
  "P-521": {
    bits: 521,
    p: "1ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    n: "1fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409",
    b: "51953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00",
    gx:
      "c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66",
    gy:
      "11839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650",
  },
};

const CURVE_OIDS: Record<string, string> = {
  "1.3.132.0.33": "P-224",
  "1.2.840.10045.3.1.7": "P-256",
  "1.3.132.0.34": "P-384",
  "1.3.132.0.35": "P-521",
};

/** The first PEM block, of any type (Go's pem.Decode), as DER. */
function pemDecode(text: string): Uint8Array {
  const m = /-----BEGIN ([^-]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) throw new Error("failed to decode certificate PEM file");
  try {
    const body = m[2].split(/\r?\n/).filter((l) => !l.includes(":")).join("").replace(/\s/g, "");
    const bin = atob(body);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    throw new Error("failed to decode certificate PEM file");
  }
}

const ATTRIBUTES: Record<string, keyof Subject> = {
  "2.5.4.3": "commonName",
  "2.5.4.6": "country",
  "2.5.4.7": "localityName",
  "2.5.4.8": "stateOrProvinceName",
  "2.5.4.9": "streetAddress",
  "2.5.4.10": "organizationName",
  "2.5.4.11": "organizationalUnitName",
  "2.5.4.17": "postalCode",
};

function readName(der: Der, name: Tlv): Subject {
  const s: Subject = {
    commonName: "",
    country: "",
    postalCode: "",
    stateOrProvinceName: "",
    localityName: "",
    streetAddress: "",
    organizationName: "",
    organizationalUnitName: [],
    names: [],
  };
  const seen = new Set<string>();
  for (const set of der.children(name)) {
    for (const atv of der.children(set)) {
      const [type, value] = der.children(atv);
      const oid = der.oid(type);
      const text = der.text(value);
      s.names.push({ type: oid, value: text });
      const field = ATTRIBUTES[oid];
      if (field === "organizationalUnitName") s.organizationalUnitName.push(text);
      else if (field === "commonName") s.commonName = text;
      else if (field !== undefined && !seen.has(oid)) (s[field] as string) = text;
      seen.add(oid);
    }
  }
  return s;
}

function goTime(der: Der, t: Tlv): string {
  const text = new TextDecoder().decode(der.bytes.subarray(t.start, t.end));
  // UTCTime YYMMDDHHMMSSZ (years 50–99 are 19xx) or GeneralizedTime YYYYMMDDHHMMSSZ.
  const full = t.tag === 0x17 ? (Number(text.slice(0, 2)) >= 50 ? "19" : "20") + text : text;
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(full);
  if (!m) throw new Error("failed to parse certificate: x509: malformed validity");
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
}

function altNames(der: Der, extensions: Tlv | undefined): string[] {
  const dns: string[] = [];
  const emails: string[] = [];
  const ips: string[] = [];
  const uris: string[] = [];
  if (!extensions) return [];
  const [list] = der.children(extensions);
  for (const ext of der.children(list)) {
    const parts = der.children(ext);
    if (der.oid(parts[0]) !== "2.5.29.17") continue;
    const value = parts[parts.length - 1];
    const [names] = der.children(value);
    for (const n of der.children(names)) {
      const tag = n.tag & 0x1f;
      if (tag === 1) emails.push(der.text(n));
      else if (tag === 2) dns.push(der.text(n));
      else if (tag === 6) uris.push(der.text(n));
      else if (tag === 7) ips.push(ipText(der.bytes.subarray(n.start, n.end)));
    }
  }
  return [...dns, ...emails, ...ips, ...uris];
}

function ipText(b: Uint8Array): string {
  if (b.length === 4) return [...b].join(".");
  if (b.length !== 16) return "?" + [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b[i] << 8 | b[i + 1]);
  // Go prints an IPv4-mapped address as IPv4, and shortens the longest run of zeros.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [...b.subarray(12)].join(".");
  }
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return hex.slice(0, best).join(":") + "::" + hex.slice(best + bestLen).join(":");
}

function publicKey(der: Der, spki: Tlv): Certificate["publicKey"] {
  const [alg, bits] = der.children(spki);
  const algParts = der.children(alg);
  const oid = der.oid(algParts[0]);
  // The BIT STRING's first byte counts unused bits (always 0 for keys).
  const keyStart = bits.start + 1;
  if (oid === "1.2.840.113549.1.1.1") {
    const [n, e] = der.children(der.read(keyStart, bits.end));
    return { algorithm: "RSA", key: { n: der.bigint(n), e: Number(der.bigint(e)) } };
  }
  if (oid === "1.2.840.10040.4.1") {
    const [p, q, g] = der.children(algParts[1]);
    const y = der.read(keyStart, bits.end);
    return {
      algorithm: "DSA",
      key: {
        parameters: { p: der.bigint(p), q: der.bigint(q), g: der.bigint(g) },
        y: der.bigint(y),
      },
    };
  }
  if (oid === "1.2.840.10045.2.1") {
    const curveName = CURVE_OIDS[der.oid(algParts[1])];
    const c = curveName === undefined ? undefined : CURVES[curveName];
    if (c === undefined) {
      throw new Error("failed to parse certificate: x509: unsupported elliptic curve");
    }
    const point = der.bytes.subarray(keyStart, bits.end);
    const size = (point.length - 1) / 2;
    const big = (b: Uint8Array) => b.reduce((v, x) => v * 256n + BigInt(x), 0n);
    const params = {
      p: BigInt("0x" + c.p),
      n: BigInt("0x" + c.n),
      b: BigInt("0x" + c.b),
      gx: BigInt("0x" + c.gx),
      gy: BigInt("0x" + c.gy),
      bit_size: c.bits,
      name: curveName,
    };
    return {
      algorithm: "ECDSA",
      key: {
        curve: { params: () => params },
        x: big(point.subarray(1, 1 + size)),
        y: big(point.subarray(1 + size)),
      },
    };
  }
  throw new Error("unsupported public key algorithm");
}

interface Parsed {
  der: Der;
  issuer: Tlv;
  subject: Tlv;
  validity: Tlv;
  spki: Tlv;
  extensions?: Tlv;
  /** The certificate's signatureAlgorithm (AlgorithmIdentifier). */
  signatureAlgorithm: Tlv;
  raw: Uint8Array;
}

function parseCertificate(pem: unknown): Parsed {
  const bytes = pemDecode(
    typeof pem === "string" ? pem : new TextDecoder().decode(pem as Uint8Array),
  );
  try {
    const der = new Der(bytes);
    const cert = der.read(0, bytes.length);
    const [tbs, signatureAlgorithm] = der.children(cert);
    const fields = der.children(tbs);
    let i = fields[0].tag === 0xa0 ? 1 : 0; // [0] version
    i++; // serialNumber
    i++; // signature
    const issuer = fields[i++];
    const validity = fields[i++];
    const subject = fields[i++];
    const spki = fields[i++];
    const extensions = fields.slice(i).find((f) => f.tag === 0xa3);
    if (cert.tag !== 0x30 || tbs.tag !== 0x30 || spki?.tag !== 0x30) throw new Error();
    return {
      der,
      issuer,
      subject,
      validity,
      spki,
      extensions,
      signatureAlgorithm,
      raw: bytes.subarray(0, cert.end),
    };
  } catch {
    throw new Error("failed to parse certificate: x509: malformed certificate");
  }
}

function signatureAlgorithm(der: Der, alg: Tlv): string {
  const parts = der.children(alg);
  const oid = der.oid(parts[0]);
  if (oid === "1.2.840.113549.1.1.10" && parts[1]) {
    // RSASSA-PSS-params: [0] hashAlgorithm AlgorithmIdentifier.
    const [hashField] = der.children(parts[1]);
    const hashOid = hashField ? der.oid(der.children(der.children(hashField)[0])[0]) : "";
    return PSS_HASHES[hashOid] ?? "UnknownSignatureAlgorithm";
  }
  return SIGNATURE_ALGORITHMS[oid] ?? "UnknownSignatureAlgorithm";
}

function issuerOf(s: Subject): Issuer {
  return {
    commonName: s.commonName,
    country: s.country,
    stateOrProvinceName: s.stateOrProvinceName,
    localityName: s.localityName,
    organizationName: s.organizationName,
    names: s.names,
  };
}

/** `x509.parse(pem)`. */
export function parse(pem: unknown): Certificate {
  const c = parseCertificate(pem);
  const der = c.der;
  const [notBefore, notAfter] = der.children(c.validity);
  return {
    subject: readName(der, c.subject),
    issuer: issuerOf(readName(der, c.issuer)),
    notBefore: goTime(der, notBefore),
    notAfter: goTime(der, notAfter),
    altNames: altNames(der, c.extensions),
    signatureAlgorithm: signatureAlgorithm(der, c.signatureAlgorithm),
    fingerPrint: [...createHash("sha1").update(c.raw).digest()],
    publicKey: publicKey(der, c.spki),
  };
}

/** `x509.getAltNames(pem)`. */
export function getAltNames(pem: unknown): string[] {
  const c = parseCertificate(pem);
  return altNames(c.der, c.extensions);
}

/** `x509.getIssuer(pem)`. */
export function getIssuer(pem: unknown): Issuer {
  const c = parseCertificate(pem);
  return issuerOf(readName(c.der, c.issuer));
}

/** `x509.getSubject(pem)`. */
export function getSubject(pem: unknown): Subject {
  const c = parseCertificate(pem);
  return readName(c.der, c.subject);
}
