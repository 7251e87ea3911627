import { assertEquals, assertThrows } from "../_assert.ts";
import {
  defaultConfigPath,
  k6ConfigPath,
  loadConfigFile,
  writeConfigFile,
} from "../../lib/config/file.ts";
import { SpateError } from "../../lib/errors.ts";

function withTempHome(fn: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync({ prefix: "spate-config-" });
  try {
    fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("config paths follow XDG_CONFIG_HOME, else ~/.config", () => {
  assertEquals(defaultConfigPath({ XDG_CONFIG_HOME: "/x" }), "/x/spate/config.json");
  assertEquals(defaultConfigPath({ HOME: "/home/u" }), "/home/u/.config/spate/config.json");
  assertEquals(k6ConfigPath({ HOME: "/home/u" }), "/home/u/.config/k6/config.json");
  assertEquals(k6ConfigPath({ XDG_CONFIG_HOME: "/x", HOME: "/h" }), "/x/k6/config.json");
});

Deno.test("missing default file is ignored; missing explicit file is exit 104", () => {
  withTempHome((dir) => {
    const res = loadConfigFile({ env: { XDG_CONFIG_HOME: dir } });
    assertEquals(res, {
      path: `${dir}/spate/config.json`,
      explicit: false,
      exists: false,
      config: {},
    });
    const err = assertThrows(
      () => loadConfigFile({ flagPath: `${dir}/nope.json`, env: { XDG_CONFIG_HOME: dir } }),
      SpateError,
    );
    assertEquals(
      err.message,
      `failed to load the configuration file from the local file system: open ${dir}/nope.json: no such file or directory`,
    );
    assertEquals(err.exitCode, 104);
    const viaEnv = assertThrows(
      () => loadConfigFile({ env: { K6_CONFIG: `${dir}/env.json` } }),
      SpateError,
    );
    assertEquals(viaEnv.exitCode, 104);
  });
});

Deno.test("explicit file: --config wins over K6_CONFIG; decoded into a layer", () => {
  withTempHome((dir) => {
    Deno.writeTextFileSync(`${dir}/a.json`, JSON.stringify({ vus: 2, out: ["csv"] }));
    Deno.writeTextFileSync(`${dir}/b.json`, JSON.stringify({ vus: 3 }));
    const res = loadConfigFile({ flagPath: `${dir}/a.json`, env: { K6_CONFIG: `${dir}/b.json` } });
    assertEquals(res.config, { vus: 2, out: ["csv"] });
    assertEquals(res.explicit, true);
    assertEquals(loadConfigFile({ env: { K6_CONFIG: `${dir}/b.json` } }).config, { vus: 3 });
  });
});

Deno.test("invalid JSON names the path, line and column (exit 104)", () => {
  withTempHome((dir) => {
    const path = `${dir}/bad.json`;
    Deno.writeTextFileSync(path, '{\n  "vus": 1,\n}');
    const err = assertThrows(() => loadConfigFile({ flagPath: path, env: {} }), SpateError);
    assertEquals(err.exitCode, 104);
    assertEquals(
      err.message.startsWith(
        `failed to load the configuration file from the local file system: couldn't parse the configuration from "${path}": `,
      ),
      true,
    );
    assertEquals(/line 3 column 1/.test(err.message), true, err.message);
  });
});

Deno.test("default file absent: cloud login state comes from k6's config file", () => {
  withTempHome((dir) => {
    Deno.mkdirSync(`${dir}/k6`);
    Deno.writeTextFileSync(
      `${dir}/k6/config.json`,
      JSON.stringify({ collectors: { cloud: { token: "tok", stackID: 7 } }, vus: 50 }),
    );
    const res = loadConfigFile({ env: { XDG_CONFIG_HOME: dir } });
    assertEquals(res.config, { collectors: { cloud: { token: "tok", stackID: 7 } } });
    assertEquals(res.cloudLoginFrom, `${dir}/k6/config.json`);
    // Once spate has its own file, k6's is not read.
    writeConfigFile(`${dir}/spate/config.json`, { collectors: { cloud: { token: "mine" } } });
    assertEquals(loadConfigFile({ env: { XDG_CONFIG_HOME: dir } }).config, {
      collectors: { cloud: { token: "mine" } },
    });
    assertEquals(Deno.statSync(`${dir}/spate/config.json`).mode! & 0o777, 0o600);
    assertEquals(Deno.statSync(`${dir}/spate`).mode! & 0o777, 0o700);
  });
});
