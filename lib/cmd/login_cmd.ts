/**
 * `spate login cloud` / `spate cloud login`: stores a Grafana Cloud k6 token in spate's config
 * file ($XDG_CONFIG_HOME/spate/config.json, mode 0600).
 * @module
 */
import type { CliFlags } from "../config/cli.ts";
import { defaultConfigPath } from "../config/file.ts";
import { loginCloud } from "./login.ts";

/** Runs the login command; returns the exit code. */
export async function loginCommand(cmd: {
  token?: string;
  stack?: string;
  show: boolean;
  reset: boolean;
  flags: CliFlags;
}): Promise<number> {
  const env = Deno.env.toObject();
  await loginCloud(
    { token: cmd.token, stack: cmd.stack, show: cmd.show, reset: cmd.reset },
    {
      configPath: cmd.flags.config ?? env.K6_CONFIG ?? defaultConfigPath(env),
      env,
      print: (line) => console.log(line),
    },
  );
  return 0;
}
