import { assertEquals } from "../_assert.ts";
import { cryptoModule } from "../../lib/js/crypto.ts";

Deno.test("k6/crypto: a hasher digests more than once and goes on taking input, as Go's do", () => {
  const h = cryptoModule.createHash("sha1");
  h.update("ab");
  assertEquals(h.digest("hex"), "da23614e02469a0d7c7bd1bdab5c9c474b1904dc"); // sha1("ab")
  assertEquals(h.digest("base64"), "2iNhTgJGmg18e9G9q1ycR0sZBNw=");
  h.update("c");
  assertEquals(h.digest("hex"), "a9993e364706816aba3e25717850c26c9cd0d89d"); // sha1("abc")
});

Deno.test("k6/crypto: an HMAC digests more than once and goes on taking input", () => {
  const m = cryptoModule.createHMAC("sha256", "key");
  m.update("The quick brown fox ");
  m.digest("hex");
  m.update(new TextEncoder().encode("jumps over the lazy dog"));
  const want = "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8";
  assertEquals(m.digest("hex"), want);
  assertEquals(m.digest("hex"), want);
});
