/**
 * The module a VU host Worker starts from (lib/vu/host.ts points its Workers here).
 * @module
 */
/// <reference lib="deno.worker" />
import { startHostWorker } from "./host_worker.ts";

startHostWorker();
