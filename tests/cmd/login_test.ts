import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { SpateError } from "../../lib/errors.ts";
import {
  defaultConfigPath,
  loginCloud,
  maskToken,
  normalizeStackURL,
} from "../../lib/cmd/login.ts";
import { startFakeIngest } from "../output/cloud/_fake_ingest.ts";

const TOKEN = "abcd1234efgh5678";

async function withEnv(fn: (ctx: { dir: string; url: string; out: string[] }) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  const ingest = await startFakeIngest({ token: TOKEN, stackID: 99, defaultProjectID: 5 });
  try {
    await fn({ dir, url: ingest.url, out: [] });
  } finally {
    await ingest.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("login: validates and stores the token 0600, keeps other keys, prints no token", async () => {
  await withEnv(async ({ dir, url, out }) => {
    const env = { XDG_CONFIG_HOME: dir, K6_CLOUD_HOST: url };
    const configPath = defaultConfigPath(env);
    assertEquals(configPath, `${dir}/spate/config.json`);
    await Deno.mkdir(`${dir}/spate`);
    await Deno.writeTextFile(configPath, JSON.stringify({ out: ["json"], collectors: { x: 1 } }));
    await loginCloud({ token: TOKEN, show: false, reset: false }, {
      configPath,
      env,
      print: (l) => out.push(l),
    });
    const stored = JSON.parse(await Deno.readTextFile(configPath));
    assertEquals(stored, { out: ["json"], collectors: { x: 1, cloud: { token: TOKEN } } });
    assertEquals((await Deno.stat(configPath)).mode! & 0o777, 0o600);
    assertEquals(out, [`Logged in successfully, token saved in ${configPath}`]);
    assert(!out.join("\n").includes(TOKEN));
  });
});

Deno.test("login: a new config file and directory are created 0600/0700", async () => {
  await withEnv(async ({ dir, url }) => {
    const configPath = `${dir}/new/spate/config.json`;
    await loginCloud({ token: TOKEN, show: false, reset: false, host: url }, {
      configPath,
      env: {},
      print: () => {},
    });
    assertEquals((await Deno.stat(configPath)).mode! & 0o777, 0o600);
    assertEquals((await Deno.stat(`${dir}/new/spate`)).mode! & 0o777, 0o700);
  });
});

Deno.test("login: with --stack uses the v6 auth check and stores the stack", async () => {
  await withEnv(async ({ dir, url }) => {
    const configPath = `${dir}/c.json`;
    await loginCloud({ token: TOKEN, show: false, reset: false, stack: "my-team" }, {
      configPath,
      env: { K6_CLOUD_HOST_V6: url },
      print: () => {},
    });
    assertEquals(JSON.parse(await Deno.readTextFile(configPath)).collectors.cloud, {
      token: TOKEN,
      stackURL: "https://my-team.grafana.net",
      stackID: 99,
      defaultProjectID: 5,
    });
  });
});

Deno.test("login: an invalid token is rejected and nothing is stored", async () => {
  await withEnv(async ({ dir, url }) => {
    const configPath = `${dir}/c.json`;
    const err = await assertRejects(
      () =>
        loginCloud({ token: "bad-token-value", show: false, reset: false }, {
          configPath,
          env: { K6_CLOUD_HOST: url },
          print: () => {},
        }),
      SpateError,
    );
    assertEquals(err.message, "invalid token");
    const err2 = await assertRejects(
      () =>
        loginCloud({ token: "bad-token-value", show: false, reset: false, stack: "x" }, {
          configPath,
          env: { K6_CLOUD_HOST_V6: url },
          print: () => {},
        }),
      SpateError,
    );
    assertEquals(err2.message, "invalid token: the cloud rejected it (HTTP 401)");
    await assertRejects(() => Deno.stat(configPath), Deno.errors.NotFound);
  });
});

Deno.test("login: --show masks the token; --reset clears; k6's file is the fallback", async () => {
  await withEnv(async ({ dir, out }) => {
    const env = { XDG_CONFIG_HOME: dir };
    const configPath = defaultConfigPath(env);
    // only k6's config exists
    await Deno.mkdir(`${dir}/k6`);
    await Deno.writeTextFile(
      `${dir}/k6/config.json`,
      JSON.stringify({ collectors: { cloud: { token: TOKEN, stackID: 3 } } }),
    );
    const print = (l: string) => out.push(l);
    await loginCloud({ show: true, reset: false }, { configPath, env, print });
    assertEquals(out, ["  token: abcd********5678", "  stack-id: 3"]);
    out.length = 0;
    await Deno.mkdir(`${dir}/spate`);
    await Deno.writeTextFile(
      configPath,
      JSON.stringify({
        collectors: { cloud: { token: TOKEN, stackID: 1, stackURL: "u", host: "h" } },
      }),
    );
    await loginCloud({ show: false, reset: true }, { configPath, env, print });
    assertEquals(JSON.parse(await Deno.readTextFile(configPath)).collectors.cloud, { host: "h" });
    out.length = 0;
    await loginCloud({ show: true, reset: false }, { configPath, env, print });
    assertEquals(out, ["not logged in (no token stored)"]);
  });
});

Deno.test("login: helpers", async () => {
  assertEquals(maskToken("short"), "*****");
  assertEquals(maskToken("123456789012"), "1234****9012");
  assertEquals(normalizeStackURL("https://team.grafana.net/a/b"), "https://team.grafana.net");
  assertEquals(normalizeStackURL("team.grafana.net"), "https://team.grafana.net");
  await assertRejects(
    () => loginCloud({ show: false, reset: false }, { configPath: "/x", env: {}, print: () => {} }),
    SpateError,
    "a token is required",
  );
});
