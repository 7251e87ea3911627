import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { getAltNames, getIssuer, getSubject, parse } from "../../lib/js/x509.ts";
import { runCli, tempDir } from "../e2e/_cli.ts";

/** Runs openssl in `dir`; its stdout. */
async function openssl(dir: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("openssl", { args, cwd: dir }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

const SUBJECT = "/C=ZZ/ST=Kopuncezis Krais/L=Ashtinok/street=221B Baker Street/postalCode=99999" +
  "/O=Exumbran Convention/OU=Exumbran Council/OU=Exumbran Janitorial Service/CN=excouncil.zz";
const SAN = "subjectAltName=DNS:council.exumbran.zz,DNS:about.excouncil.zz," +
  "email:inquiries@excouncil.zz,IP:192.0.2.25,IP:2001:db8::1,URI:http://press.excouncil.zz";

/** A self-signed certificate `<name>.pem` (key `<name>.key`) in `dir`; its PEM. */
async function selfSigned(dir: string, name: string, keyArgs: string[], extra: string[] = []) {
  await openssl(
    dir,
    "req",
    "-x509",
    ...keyArgs,
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-days",
    "1",
    "-subj",
    SUBJECT,
    "-addext",
    SAN,
    ...extra,
  );
  return await Deno.readTextFile(`${dir}/${name}.pem`);
}

/** Self-signed certificates made by openssl for this test: key type → PEM. */
async function certificates(dir: string): Promise<Record<string, string>> {
  const make = (name: string, keyArgs: string[], extra: string[] = []) =>
    selfSigned(dir, name, keyArgs, extra);
  await openssl(dir, "dsaparam", "-out", "dsa.params", "1024");
  return {
    rsa: await make("rsa", ["-newkey", "rsa:2048", "-sha256"]),
    pss: await make("pss", ["-newkey", "rsa:2048", "-sha384"], ["-sigopt", "rsa_padding_mode:pss"]),
    ec: await make("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-sha384"]),
    dsa: await make("dsa", ["-newkey", "dsa:dsa.params", "-sha256"]),
    ed25519: await make("ed25519", ["-newkey", "ed25519"]),
  };
}

Deno.test("k6/crypto/x509: parse gives k6's fields, checked against openssl's own reading", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pem = await certificates(dir);
    const rsa = parse(pem.rsa);
    assertEquals(rsa.subject, {
      commonName: "excouncil.zz",
      country: "ZZ",
      postalCode: "99999",
      stateOrProvinceName: "Kopuncezis Krais",
      localityName: "Ashtinok",
      streetAddress: "221B Baker Street",
      organizationName: "Exumbran Convention",
      organizationalUnitName: ["Exumbran Council", "Exumbran Janitorial Service"],
      names: [
        { type: "2.5.4.6", value: "ZZ" },
        { type: "2.5.4.8", value: "Kopuncezis Krais" },
        { type: "2.5.4.7", value: "Ashtinok" },
        { type: "2.5.4.9", value: "221B Baker Street" },
        { type: "2.5.4.17", value: "99999" },
        { type: "2.5.4.10", value: "Exumbran Convention" },
        { type: "2.5.4.11", value: "Exumbran Council" },
        { type: "2.5.4.11", value: "Exumbran Janitorial Service" },
        { type: "2.5.4.3", value: "excouncil.zz" },
      ],
    });
    assertEquals(rsa.issuer, {
      commonName: "excouncil.zz",
      country: "ZZ",
      stateOrProvinceName: "Kopuncezis Krais",
      localityName: "Ashtinok",
      organizationName: "Exumbran Convention",
      names: rsa.subject.names,
    });
    // Go's order: DNS names, emails, IPs, URIs.
    assertEquals(rsa.altNames, [
      "council.exumbran.zz",
      "about.excouncil.zz",
      "inquiries@excouncil.zz",
      "192.0.2.25",
      "2001:db8::1",
      "http://press.excouncil.zz",
    ]);
    assertEquals(rsa.signatureAlgorithm, "SHA256-RSA");

    // What openssl reads from the same file.
    const dates = await openssl(dir, "x509", "-in", "rsa.pem", "-noout", "-startdate", "-enddate");
    const goTime = (line: string) => new Date(line.split("=")[1]).toISOString().replace(".000", "");
    const [start, end] = dates.trim().split("\n");
    assertEquals([rsa.notBefore, rsa.notAfter], [goTime(start), goTime(end)]);
    const sha1 = await openssl(dir, "x509", "-in", "rsa.pem", "-noout", "-fingerprint", "-sha1");
    assertEquals(
      rsa.fingerPrint,
      sha1.trim().split("=")[1].split(":").map((h) => parseInt(h, 16)),
    );
    const modulus = await openssl(dir, "x509", "-in", "rsa.pem", "-noout", "-modulus");
    assertEquals(rsa.publicKey.algorithm, "RSA");
    assertEquals(rsa.publicKey.key.e, 65537);
    assertEquals(
      (rsa.publicKey.key.n as bigint).toString(16),
      modulus.trim().split("=")[1].toLowerCase(),
    );

    assertEquals(parse(pem.pss).signatureAlgorithm, "SHA384-RSAPSS");
    const ec = parse(pem.ec);
    assertEquals([ec.signatureAlgorithm, ec.publicKey.algorithm], ["ECDSA-SHA384", "ECDSA"]);
    const params = (ec.publicKey.key.curve as { params(): Record<string, unknown> }).params();
    assertEquals([params.name, params.bit_size], ["P-384", 384]);
    assertEquals(typeof ec.publicKey.key.x, "bigint");
    const dsa = parse(pem.dsa);
    assertEquals([dsa.signatureAlgorithm, dsa.publicKey.algorithm], ["DSA-SHA256", "DSA"]);
    const dsaKey = dsa.publicKey.key as { parameters: Record<string, bigint>; y: bigint };
    assertEquals(Object.keys(dsaKey.parameters), ["p", "q", "g"]);
    assertEquals(dsaKey.parameters.p.toString(2).length, 1024);
    assert(dsaKey.y < dsaKey.parameters.p && dsaKey.parameters.q < dsaKey.parameters.p);

    // k6 supports RSA, DSA and ECDSA keys only.
    assertThrows(() => parse(pem.ed25519), Error, "unsupported public key algorithm");
    assertEquals(getAltNames(pem.ed25519).length, 6);
    assertEquals(getIssuer(pem.ec).names.length, 9);
    assertEquals(getSubject(pem.dsa).organizationalUnitName.length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("k6/crypto/x509: k6's errors for what isn't a certificate", () => {
  for (const f of [parse, getAltNames, getIssuer, getSubject]) {
    assertThrows(() => f("bad-certificate"), Error, "failed to decode certificate PEM file");
    assertThrows(
      () => f("-----BEGIN PUBLIC KEY-----\nMAUGAytlcA==\n-----END PUBLIC KEY-----"),
      Error,
      "failed to parse certificate",
    );
  }
});

Deno.test("k6/crypto/x509: a script imports it and reads a certificate it opened", async () => {
  const t = await tempDir({
    "s.js": `import { parse, getSubject } from "k6/crypto/x509";
import x509 from "k6/crypto/x509";
import { check } from "k6";
const pem = open("./cert.pem");
export const options = { iterations: 1, thresholds: { checks: ["rate==1"] } };
export default function () {
  const cert = parse(pem);
  check(cert, {
    "subject": (c) => c.subject.commonName === "excouncil.zz",
    "default export": () => x509.getAltNames(pem)[0] === "council.exumbran.zz",
    "getSubject": () => getSubject(pem).country === "ZZ",
  });
}`,
  });
  try {
    await selfSigned(t.dir, "cert", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]);
    const r = await runCli(["run", "-q", t.path("s.js")], { cwd: t.dir });
    assertEquals(r.code, 0, r.stderr);
    for (const name of ["subject", "default export", "getSubject"]) {
      assert(r.stdout.includes(`✓ ${name}`), r.stdout);
    }
  } finally {
    await t.cleanup();
  }
});
