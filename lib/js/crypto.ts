/**
 * `k6/crypto` (legacy hashing API, js-api.md §8) over node:crypto.
 *
 * @example
 * ```ts
 * cryptoModule.sha256("abc", "hex");
 * ```
 * @module
 */
import { createHash, createHmac, randomBytes as nodeRandomBytes } from "node:crypto";

type Out = "hex" | "base64" | "base64url" | "binary" | undefined;
const algos: Record<string, string> = {
  md4: "md4",
  md5: "md5",
  sha1: "sha1",
  sha256: "sha256",
  sha384: "sha384",
  sha512: "sha512",
  sha512_224: "sha512-224",
  sha512_256: "sha512-256",
  ripemd160: "ripemd160",
};

function data(input: unknown): string | Uint8Array {
  if (typeof input === "string") return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) {
    return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  }
  return String(input);
}

function encode(digest: Uint8Array, out: Out): string | ArrayBuffer {
  if (out === "hex") return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  if (out === "base64") return btoa(String.fromCharCode(...digest));
  if (out === "base64url") {
    return btoa(String.fromCharCode(...digest)).replace(/\+/g, "-").replace(/\//g, "_")
      .replace(/=+$/, "");
  }
  return digest.slice().buffer;
}

function algo(name: string): string {
  const a = algos[String(name).toLowerCase()];
  if (!a) throw new Error(`invalid hash type "${name}"`);
  return a;
}

function hash(name: string, input: unknown, out: Out) {
  return encode(new Uint8Array(createHash(algo(name)).update(data(input)).digest()), out);
}

/** The module object. */
export const cryptoModule = {
  md4: (i: unknown, o: Out) => hash("md4", i, o),
  md5: (i: unknown, o: Out) => hash("md5", i, o),
  sha1: (i: unknown, o: Out) => hash("sha1", i, o),
  sha256: (i: unknown, o: Out) => hash("sha256", i, o),
  sha384: (i: unknown, o: Out) => hash("sha384", i, o),
  sha512: (i: unknown, o: Out) => hash("sha512", i, o),
  sha512_224: (i: unknown, o: Out) => hash("sha512_224", i, o),
  sha512_256: (i: unknown, o: Out) => hash("sha512_256", i, o),
  ripemd160: (i: unknown, o: Out) => hash("ripemd160", i, o),
  hmac: (name: string, key: unknown, input: unknown, out: Out) =>
    encode(new Uint8Array(createHmac(algo(name), data(key)).update(data(input)).digest()), out),
  randomBytes: (n: number) => new Uint8Array(nodeRandomBytes(n)).buffer,
  // k6's hashers (Go's hash.Hash) may digest more than once, and take more input after a
  // digest; node's end at the first digest. So a Hash digests a copy of itself, and an HMAC
  // (which node can't copy) is recomputed over the input so far.
  createHash(name: string) {
    const h = createHash(algo(name));
    return {
      update(input: unknown) {
        h.update(data(input));
        return this;
      },
      digest: (out: Out) => encode(new Uint8Array(h.copy().digest()), out),
    };
  },
  createHMAC(name: string, key: unknown) {
    const a = algo(name);
    const k = data(key);
    const parts: Array<string | Uint8Array> = [];
    return {
      update(input: unknown) {
        const d = data(input);
        parts.push(typeof d === "string" ? d : d.slice());
        return this;
      },
      digest: (out: Out) => {
        const h = createHmac(a, k);
        for (const p of parts) h.update(p);
        return encode(new Uint8Array(h.digest()), out);
      },
    };
  },
};
