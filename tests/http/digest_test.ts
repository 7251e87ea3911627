import { assertEquals } from "../_assert.ts";
import { digestAuthorization, parseDigestChallenge } from "../../lib/http/digest.ts";

Deno.test("digest: RFC 2617's worked example (MD5, qop=auth)", () => {
  const challenge = parseDigestChallenge(
    'Digest realm="testrealm@host.com", qop="auth,auth-int", ' +
      'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  );
  assertEquals(challenge, {
    realm: "testrealm@host.com",
    nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
    opaque: "5ccc069c403ebaf9f0171e9517f40e41",
    algorithm: undefined,
    qop: ["auth", "auth-int"],
  });
  assertEquals(
    digestAuthorization(challenge!, {
      method: "GET",
      uri: "/dir/index.html",
      username: "Mufasa",
      password: "Circle Of Life",
      cnonce: "0a4f113b",
    }),
    'Digest username="Mufasa", realm="testrealm@host.com", ' +
      'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", algorithm=MD5, ' +
      // The response RFC 2617 §3.5 gives for these inputs.
      'response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41", ' +
      'qop=auth, nc=00000001, cnonce="0a4f113b"',
  );
});

Deno.test("digest: RFC 7616's worked example (SHA-256, qop=auth)", () => {
  const challenge = parseDigestChallenge(
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, ' +
      'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", ' +
      'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
  );
  const header = digestAuthorization(challenge!, {
    method: "GET",
    uri: "/dir/index.html",
    username: "Mufasa",
    password: "Circle of Life",
    cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
  });
  // The response RFC 7616 §3.9.1 gives for these inputs.
  assertEquals(
    /response="([0-9a-f]+)"/.exec(header!)?.[1],
    "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
  );
});

Deno.test("digest: other schemes, quoting, -sess and unknown algorithms", () => {
  assertEquals(parseDigestChallenge('Basic realm="x"'), undefined);
  const c = parseDigestChallenge(
    'Basic realm="b", Digest realm="a \\"quoted\\", with comma", nonce=abc, algorithm=MD5-sess',
  )!;
  assertEquals(c.realm, 'a "quoted", with comma');
  assertEquals(c.nonce, "abc");
  assertEquals(c.qop, []);
  // A challenge after the Digest one doesn't leak into it.
  assertEquals(
    parseDigestChallenge('Digest realm="d", nonce="n", Basic realm="b"')?.realm,
    "d",
  );
  // No qop offered: RFC 2069's response = H(HA1:nonce:HA2); -sess folds nonce and cnonce in.
  const header = digestAuthorization(c, {
    method: "POST",
    uri: "/p?q=1",
    username: "u",
    password: "p",
    cnonce: "c",
  })!;
  assertEquals(header.includes("qop="), false);
  assertEquals(header.includes('realm="a \\"quoted\\", with comma"'), true);
  assertEquals(
    digestAuthorization({ ...c, algorithm: "SHA-512-256" }, {
      method: "GET",
      uri: "/",
      username: "u",
      password: "p",
    }),
    undefined,
  );
});
