/**
 * `vbkpool demo`: the whole system in one command. It runs `vbkpool server` on its embedded
 * devnet with the payout service in-process, and `vbkpool mine` against it, with settings that
 * make blocks, credits and payments appear within a minute or two. Any setting the user gave
 * (file, environment or flag) wins over the demo's, and every server and miner option works
 * here too, except the miner's pools: the miner mines on the demo's own pool.
 *
 * @module
 */
import { UsageError } from "./args.ts";
import type { Command, CommandContext } from "./command.ts";
import type { LoadedConfig } from "./config.ts";
import { schemaKeys } from "./config_schema.ts";
import { logger } from "./log.ts";
import { mineCommand } from "./mine.ts";
import { serverCommand, startServer } from "./server.ts";
import { reachableHost } from "./_listen.ts";
import { formatHostPort } from "../net/mod.ts";

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

async function run(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length > 0) throw new UsageError("demo takes no arguments");
  const config = withDefaults(ctx.config, DEMO_DEFAULTS);
  const server = await startServer(config.values, { sources: config.sources });
  try {
    const port = server.pool.servers[0]?.port;
    if (port === undefined) throw new UsageError("stratum.listen is empty");
    const address = formatHostPort(reachableHost(port.hostname), port.port);
    config.values.mine!.pools = [`stratum+tcp://${address}`];
    const threads = config.values.mine!.threads as number;
    logger("demo").info(
      "demo: pool on {address} with in-process payouts, {threads} miner thread(s); Ctrl-C stops",
      { address, threads: threads === 0 ? navigator.hardwareConcurrency : threads },
    );
    // The miner's own options (--duration, --json) apply; its pools are the demo's pool.
    return await mineCommand.run({ ...ctx, config });
  } finally {
    await server.stop();
  }
}

/** The miner's options, but not --pool (the miner mines on the demo's pool). */
const MINE_OPTIONS = mineCommand.options.filter((o) => o.key !== "mine.pools");

/** The `demo` command. */
export const demoCommand: Command = {
  name: "demo",
  summary: "run the pool on its devnet with payouts, and a miner on it, in one process",
  usage: ["demo [--api-listen HOST:PORT] [--threads N] [--duration S] ..."],
  description: [
    "Starts `vbkpool server` (embedded devnet, payouts in-process: 3 confirmations, 1 VBK",
    "minimum payment) and `vbkpool mine` with one thread against it. Watch blocks being found,",
    "confirmed and paid in the log and on the dashboard (http://127.0.0.1:8080/). Every server",
    "and miner option and setting applies, from the config file, the environment or flags, and",
    "wins over the demo's; only mine.pools does not: the miner mines on the demo's own pool",
    "(the first [stratum] listen port).",
  ],
  options: [...serverCommand.options, ...MINE_OPTIONS],
  sections: [...serverCommand.sections, ...schemaKeys("mine", { except: ["pools"] })],
  run,
};
