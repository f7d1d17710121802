/**
 * vbkpool: a VeriBlock (vBlake) mining pool and miner in one program. This file only dispatches
 * the command line; worker threads load the same module graph and must not run the CLI.
 *
 * @module
 */
import { COMMANDS, runCli } from "./cli/mod.ts";

// deno-lint-ignore no-explicit-any
const inWorker = typeof (globalThis as any).WorkerGlobalScope !== "undefined";

if (import.meta.main && !inWorker) {
  Deno.exit(await runCli(Deno.args, COMMANDS));
}
