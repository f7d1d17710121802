/**
 * The embedded devnet: a faithful stand-in for NodeCore's solo pool on a private vBlake chain
 * (real 64-byte headers, VeriBlock's LWMA retarget with a devnet floor, keystones), served over
 * UCP exactly as NodeCore serves it, with simulated transactions, an optional rival miner that
 * causes orphans, a wallet ledger served over NodeCore's HTTP JSON-RPC API (coinbases pay the
 * finder, `sendcoins` pays out), and optional persistence. `vbkpool devnet` runs it; the pool
 * embeds it when no NodeCore is configured; tests drive it through {@linkcode startDevnet}.
 *
 * Import rule: devnet → net, protocol, hash. Nothing here imports server/ or miner/.
 *
 * @example Usage
 * ```ts
 * import { startDevnet } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const devnet = await startDevnet({ port: 0, minDifficulty: 1000n, mempoolIntervalMs: 0 });
 * const block = await devnet.rival.mineBlock();
 * assert.equal(devnet.chain.tip, block);
 * assert.equal(devnet.chain.isMainChain(block.hash), true);
 * await devnet.stop();
 * ```
 *
 * @module
 */

export * from "./chain.ts";
export * from "./chain_file.ts";
export * from "./difficulty.ts";
export * from "./fault_injection.ts";
export * from "./jobs.ts";
export * from "./ledger.ts";
export * from "./ledger_file.ts";
export * from "./ledger_types.ts";
export * from "./mempool.ts";
export * from "./node.ts";
export * from "./rival.ts";
export * from "./rpc_server.ts";
export * from "./ucp_server.ts";
