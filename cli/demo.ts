/**
 * `vbkpool demo`: the whole system in one command. It runs `vbkpool server` on its embedded
 * devnet with the payout service in-process, and `vbkpool mine` against it, with settings that
 * make blocks, credits and payments appear within a minute or two. Any setting the user gave
 * (file, environment or flag) wins over the demo's.
 *
 * @module
 */
import { UsageError } from "./args.ts";
import type { Command, CommandContext } from "./command.ts";
import type { LoadedConfig } from "./config.ts";
import { logger } from "./log.ts";
import { mineCommand } from "./mine.ts";
import { serverCommand } from "./server.ts";
import { parseHostPort } from "../net/mod.ts";

/** The devnet pool address (also the payout wallet); its 1 % fee pays transaction fees. */
const POOL_ADDRESS = "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C";
/** The demo miner's address. */
const MINER_USER = "VFFDWUMLJwLRuNzH4NX8Rm32E59n6d.demo";

/** Demo values, applied only where the key still has its default. */
const DEMO_DEFAULTS: Record<string, unknown> = {
  "payouts.enabled": true,
  "payouts.confirmations": 3,
  "payouts.interval_seconds": 10,
  "payouts.minimum_payment": "1",
  "payouts.fees": [`${POOL_ADDRESS}=1`],
  "payouts.require_synced": false,
  "mine.user": MINER_USER,
  "mine.threads": 1,
};

function withDefaults(config: LoadedConfig, extra: Record<string, unknown>): LoadedConfig {
  const values = structuredClone(config.values);
  for (const [name, value] of Object.entries(extra)) {
    const [section, key] = name.split(".") as [string, string];
    if (values[section] === undefined) continue;
    if ((config.sources[name] ?? "default") === "default") values[section][key] = value;
  }
  return { ...config, values };
}

async function waitForPort(hostname: string, port: number, stop: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + 60_000;
  while (!stop.aborted && Date.now() < deadline) {
    try {
      const conn = await Deno.connect({ hostname, port });
      conn.close();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return false;
}

async function run(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length > 0) throw new UsageError("demo takes no arguments");
  const config = withDefaults(ctx.config, DEMO_DEFAULTS);
  const listen = (config.values.stratum!.listen as string[])[0];
  if (listen === undefined) throw new UsageError("stratum.listen is empty");
  const { hostname, port } = parseHostPort(listen.split(/\s+/)[0]!);
  const host = hostname === "0.0.0.0" ? "127.0.0.1" : hostname;
  config.values.mine!.pools = [`stratum+tcp://${host}:${port}`];
  const log = logger("demo");
  log.info("demo: pool on {host}:{port} with in-process payouts, one miner thread; Ctrl-C stops", {
    host,
    port,
  });
  const noArgs = { options: {}, positionals: [] };
  const server = serverCommand.run({ ...ctx, config, args: noArgs });
  let serverDone = false;
  server.finally(() => serverDone = true);
  const ready = await Promise.race([
    waitForPort(host, port, ctx.stopSignal),
    server.then(() => false),
  ]);
  if (!ready || serverDone) return await server;
  const mine = mineCommand.run({ ...ctx, config, args: noArgs });
  const [serverCode, mineCode] = await Promise.all([server, mine]);
  return Math.max(serverCode, mineCode);
}

/** The `demo` command. */
export const demoCommand: Command = {
  name: "demo",
  summary: "run the pool on its devnet with payouts, and a miner on it, in one process",
  usage: ["demo"],
  description: [
    "Starts `vbkpool server` (embedded devnet, payouts in-process: 3 confirmations, 1 VBK",
    "minimum payment) and `vbkpool mine` with one thread against it. Watch blocks being found,",
    "confirmed and paid in the log and on the dashboard (http://127.0.0.1:8080/). Every server",
    "and miner setting still applies from the config file, the environment or flags.",
  ],
  options: [],
  sections: [...serverCommand.sections, ...mineCommand.sections],
  run,
};
