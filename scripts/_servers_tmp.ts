import { startInfluxd, startPostgres } from "../tests/output/_servers.ts";
import { startFakeOtlp } from "../tests/output/_fake_otlp.ts";
const influx = await startInfluxd();
const pg = await startPostgres();
const otlp = await startFakeOtlp();
await Deno.writeTextFile(
  "/tmp/prof/servers.env",
  `INFLUX=${influx.url}\nPG=${pg.url("bench")}\nOTLP=${otlp.httpEndpoint}\n`,
);
console.log("ready");
Deno.addSignalListener("SIGTERM", async () => {
  await influx.stop();
  await pg.stop();
  await otlp.stop();
  Deno.exit(0);
});
setInterval(() => {}, 1000);
