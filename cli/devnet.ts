/**
 * `vbkpool devnet`: run the embedded NodeCore stand-in (a private vBlake chain served over
 * UCP) until SIGINT/SIGTERM, or export a persisted devnet chain as a chain file.
 *
 * @module
 */

import { UsageError } from "./args.ts";
import { type Command, type CommandContext, waitForStop } from "./command.ts";
import { logger } from "./log.ts";
import { loadChainFile, startDevnet } from "../devnet/mod.ts";
import { createBestKernel } from "../hash/mod.ts";
import { devnetWalletOptions } from "./payouts.ts";
import { parseListen } from "./_devnet_schema.ts";
import { nameListenError } from "./_listen.ts";
import { formatHostPort } from "../net/mod.ts";

async function exportChain(
  chainFile: string,
  out: string,
  includeOrphans: boolean,
): Promise<number> {
  if (chainFile === "") {
    throw new UsageError("--export needs a chain file (--chain-file PATH or devnet.chain_file)");
  }
  const chain = await loadChainFile(chainFile, { kernel: createBestKernel() });
  if (chain === undefined) {
    throw new Error(`Cannot export: ${chainFile} does not exist or is empty`);
  }
  const text = chain.exportText({ includeOrphans });
  try {
    await Deno.writeTextFile(out, text);
  } catch (err) {
    throw new Error(`Cannot write ${out}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const lines = text === "" ? 0 : text.trimEnd().split("\n").length;
  console.log(
    `exported ${lines} header(s) (height 0..${chain.height}, ${chain.orphans().length} ` +
      `orphan(s)${includeOrphans ? " included" : " left out"}) to ${out}`,
  );
  return 0;
}

async function run(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length > 0) throw new UsageError("devnet takes no arguments");
  const cfg = ctx.config.values.devnet!;
  const chainFile = cfg.chain_file as string;
  const exportTo = ctx.args.options.export as string | undefined;
  if (exportTo !== undefined) {
    return await exportChain(chainFile, exportTo, ctx.args.options["export-orphans"] === true);
  }
  if (ctx.args.options["export-orphans"] === true) {
    throw new UsageError("--export-orphans only goes with --export FILE");
  }
  const { hostname, port } = parseListen(cfg.listen as string);
  const apiListen = cfg.api_listen as string;
  const api = apiListen === "" ? undefined : parseListen(apiListen);
  let devnet;
  try {
    devnet = await startDevnet({
      hostname,
      port,
      blockTime: cfg.block_time as number,
      window: cfg.window as number,
      minDifficulty: BigInt(cfg.min_difficulty as number),
      shareDifficulty: BigInt(cfg.share_difficulty as number),
      mempoolIntervalMs: Math.round((cfg.mempool_interval as number) * 1000),
      rivalShare: cfg.rival_share as number,
      rivalReorgShare: cfg.rival_reorg_share as number,
      ...(chainFile === "" ? {} : { chainFile }),
      ...devnetWalletOptions(cfg, api),
    });
  } catch (err) {
    const settings = [{ key: "devnet.listen", hostname, port }];
    if (api !== undefined) settings.push({ key: "devnet.api_listen", ...api });
    throw nameListenError(err, settings);
  }
  logger("devnet").info(
    "DEVNET (not a real VeriBlock network): UCP on {address}; point a NodeCore UCP miner or " +
      "`vbkpool server` ([nodecore] endpoints) at it. Ctrl-C stops it.",
    {
      address: formatHostPort(devnet.addr.hostname, devnet.addr.port),
      host: devnet.addr.hostname,
      port: devnet.addr.port,
    },
  );
  if (devnet.rpcAddr !== undefined) {
    logger("devnet").info(
      "DEVNET NodeCore HTTP API on {url} (getinfo, getblocks, getbalance, sendcoins, " +
        "gettransactions …): point `vbkpool payouts` ([wallet] url) at it.",
      { url: `http://${formatHostPort(devnet.rpcAddr.hostname, devnet.rpcAddr.port)}/api` },
    );
  }
  await waitForStop(ctx.stopSignal);
  await devnet.stop();
  return 0;
}

/** The `devnet` command. */
export const devnetCommand: Command = {
  name: "devnet",
  summary: "run a private vBlake chain that speaks NodeCore's UCP (a NodeCore stand-in)",
  usage: [
    "devnet [--listen HOST:PORT] [--block-time S] [--min-difficulty D] [--rival-share F] ...",
    "devnet --export FILE [--export-orphans] --chain-file PATH",
  ],
  description: [
    "Serves real 64-byte vBlake headers over UCP exactly as NodeCore's pool does: CAPABILITIES,",
    "MINING_AUTH (a valid VBK address), MINING_SUBSCRIBE, per-connection MINING_JOBs, simulated",
    "MINING_MEMPOOL_UPDATEs, MINING_SUBMIT checked with vBlake, MINING_RESET on reorganisations.",
    "Difficulty follows VeriBlock's LWMA with a devnet floor. --rival-share adds a simulated rival",
    "miner (real proof of work on a thread of its own) that withholds blocks to win races, so pool",
    "blocks get orphaned (--rival-reorg-share sets how often). --chain-file keeps the chain",
    "across restarts; --export writes that chain as header lines for `vbkpool hash --verify`",
    "and exits.",
    "A wallet ledger follows the main chain: each block's coinbase pays its finder --block-reward",
    "VBK, and NodeCore's HTTP JSON-RPC API (--api-listen) answers getinfo, getstateinfo, getblocks,",
    "getbalance, sendcoins, gettransactions and getpendingtransactions, so `vbkpool payouts` runs",
    "against the devnet exactly as against NodeCore.",
  ],
  options: [
    {
      flag: "listen",
      key: "devnet.listen",
      kind: "string",
      valueName: "HOST:PORT",
      doc: "UCP address (127.0.0.1:8501)",
    },
    {
      flag: "block-time",
      key: "devnet.block_time",
      kind: "integer",
      valueName: "S",
      doc: "target block time in seconds (10)",
    },
    {
      flag: "window",
      key: "devnet.window",
      kind: "integer",
      valueName: "N",
      doc: "LWMA window in blocks (100)",
    },
    {
      flag: "min-difficulty",
      key: "devnet.min_difficulty",
      kind: "integer",
      valueName: "D",
      doc: "difficulty floor and genesis difficulty (4000000)",
    },
    {
      flag: "share-difficulty",
      key: "devnet.share_difficulty",
      kind: "integer",
      valueName: "D",
      doc: "share difficulty of mining_target (16777216)",
    },
    {
      flag: "mempool-interval",
      key: "devnet.mempool_interval",
      kind: "number",
      valueName: "S",
      doc: "seconds between mempool updates, 0 = off (20)",
    },
    {
      flag: "rival-share",
      key: "devnet.rival_share",
      kind: "number",
      valueName: "F",
      doc: "rival miner's share of the main chain (0)",
    },
    {
      flag: "rival-reorg-share",
      key: "devnet.rival_reorg_share",
      kind: "number",
      valueName: "F",
      doc: "chance the rival withholds a find to orphan pool blocks (0.2)",
    },
    {
      flag: "api-listen",
      key: "devnet.api_listen",
      kind: "string",
      valueName: "HOST:PORT",
      doc: 'NodeCore HTTP API address (127.0.0.1:10600; "" = off)',
    },
    {
      flag: "block-reward",
      key: "devnet.block_reward",
      kind: "string",
      valueName: "VBK",
      doc: "coinbase reward per block (50)",
    },
    {
      flag: "chain-file",
      key: "devnet.chain_file",
      kind: "string",
      valueName: "PATH",
      doc: "persist the chain in this file",
    },
    {
      flag: "export",
      kind: "string",
      valueName: "FILE",
      doc: "write the chain file's main chain as headers and exit",
    },
    { flag: "export-orphans", kind: "boolean", doc: "with --export: include orphaned blocks" },
  ],
  sections: ["devnet"],
  run,
};
