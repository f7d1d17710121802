/**
 * The `[payouts]` section (the payout service: confirmations, PPLNS, fees, payments), the
 * `[wallet]` section (the NodeCore HTTP JSON-RPC API the payout service uses) and the devnet's
 * wallet keys merged into `[devnet]` (its HTTP API, block reward and fee). See
 * `config_schema.ts`, `cli/payouts.ts` and `payouts/`.
 *
 * @module
 */
import type { SectionSpec } from "./config.ts";
import { isValidAddress } from "../hash/address.ts";
import { parseVbk, type PoolFee } from "../payouts/mod.ts";
import { checkHostPort } from "./_devnet_schema.ts";

/**
 * Parse `[payouts] fees`: "ADDRESS=PERCENT" items.
 *
 * @example Usage
 * ```ts
 * import { parseFees } from "./_payouts_schema.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseFees(["V5Ujv72h4jEBcKnALGc4fKqs6CDAPX=1.5"]), [
 *   { address: "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX", percent: "1.5" },
 * ]);
 * assert.throws(() => parseFees(["V5Ujv72h4jEBcKnALGc4fKqs6CDAPX=101"]), RangeError);
 * ```
 *
 * @param list The items.
 * @returns The fees.
 * @throws {RangeError} When an item is malformed, an address repeats, or the total passes 100 %.
 */
export function parseFees(list: readonly string[]): PoolFee[] {
  const fees: PoolFee[] = [];
  let total = 0;
  for (const item of list) {
    const m = /^\s*([^=\s]+)\s*=\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(item);
    if (m === null) throw new RangeError(`"${item}" is not ADDRESS=PERCENT`);
    const [, address, percent] = m as unknown as [string, string, string];
    if (!isValidAddress(address)) throw new RangeError(`${address} is not a valid VBK address`);
    if (fees.some((f) => f.address === address)) {
      throw new RangeError(`${address} appears twice`);
    }
    total += Number(percent);
    fees.push({ address, percent });
  }
  if (total > 100) throw new RangeError("the fees add up to more than 100 %");
  return fees;
}

function checkVbk(allowEmpty: boolean) {
  return (value: unknown): string | undefined => {
    if (allowEmpty && value === "") return undefined;
    try {
      if (parseVbk(String(value)) > 0n) return undefined;
    } catch {
      // fall through
    }
    return allowEmpty
      ? 'an amount in VBK > 0 with at most 8 decimals, e.g. "50", or "" for none'
      : 'an amount in VBK > 0 with at most 8 decimals, e.g. "10" or "0.5"';
  };
}

function checkAddressOrEmpty(value: unknown): string | undefined {
  return value === "" || isValidAddress(String(value)) ? undefined : 'a valid VBK address or ""';
}

/** Keys of `[payouts]`. */
export const PAYOUTS_SCHEMA: SectionSpec = {
  enabled: {
    kind: "boolean",
    default: false,
    doc: "Run the payout service inside `vbkpool server` (one pool process); otherwise run " +
      "`vbkpool payouts` beside it. A global lock in [store] keeps one payer either way.",
  },
  track_blocks: {
    kind: "boolean",
    default: true,
    doc: "With enabled = false, `vbkpool server` still follows its blocks every " +
      "interval_seconds: confirmations, confirmed (credited) or orphaned, by NodeCore's HTTP " +
      "API ([wallet] url, or the embedded devnet's). It never pays. Safe beside `vbkpool " +
      "payouts`: a block is credited once.",
  },
  pool_address: {
    kind: "string",
    default: "",
    doc: "Address the pool's coinbases pay and payments come from; empty = nodecore.address.",
    check: checkAddressOrEmpty,
  },
  interval_seconds: {
    kind: "number",
    default: 60,
    min: 1,
    max: 86400,
    doc: "Seconds between passes (confirm/credit blocks, then pay).",
  },
  confirmations: {
    kind: "integer",
    default: 20,
    min: 1,
    max: 100000,
    doc: "A found block is credited once its hash is still NodeCore's main-chain block at its " +
      "height and the tip is this many blocks past it; another hash that deep orphans it.",
  },
  pplns_window: {
    kind: "number",
    default: 2,
    min: 0.000001,
    max: 1000,
    doc: "PPLNS window X: the newest shares worth X network difficulties share each block " +
      "(keep store.pplns_window at least this).",
  },
  fees: {
    kind: "string_list",
    default: [],
    doc: 'Pool fees as "ADDRESS=PERCENT" items, e.g. ["V...=1.5"], taken from each block first.',
    check: (value) => {
      try {
        parseFees(value as string[]);
        return undefined;
      } catch (err) {
        return `"ADDRESS=PERCENT" items, at most 100 % in all (${(err as Error).message})`;
      }
    },
  },
  solo_fees: {
    kind: "string_list",
    default: [],
    doc: "Fees of blocks found on SOLO ports (a Stratum or UCP listen entry with the word " +
      '"solo"), as "ADDRESS=PERCENT" items; the finder gets the rest of the block.',
    check: (value) => {
      try {
        parseFees(value as string[]);
        return undefined;
      } catch (err) {
        return `"ADDRESS=PERCENT" items, at most 100 % in all (${(err as Error).message})`;
      }
    },
  },
  remainder_address: {
    kind: "string",
    default: "",
    doc: "Where rounding remainders (atomic units) go; empty = the first fee address, or the " +
      "miner with the largest share when there is no fee.",
    check: checkAddressOrEmpty,
  },
  block_reward: {
    kind: "string",
    default: "",
    doc: "VBK to credit per block instead of what its coinbase paid the pool address " +
      "(empty = only what the chain shows paid to pool_address). Credits WITHOUT PROOF, also " +
      "blocks whose coinbase pays the pool nothing: set it only knowingly.",
    check: checkVbk(true),
  },
  recover_from_chain: {
    kind: "boolean",
    default: true,
    doc: "Scan the recent main chain each pass for blocks whose coinbase pays pool_address " +
      "that the store does not know (a candidate lost in a crash), record and credit them; " +
      "turn off if pool_address also receives coinbases from outside this pool.",
  },
  scan_blocks: {
    kind: "integer",
    default: 0,
    min: 0,
    max: 1000000,
    doc: "Most heights below the tip that one pass reads for recover_from_chain (each pass " +
      "re-reads the last `confirmations` of the previous one, then the new ones); 0 = " +
      "confirmations + 10. A larger value for one run looks further back after a long outage.",
  },
  minimum_payment: {
    kind: "string",
    default: "10",
    doc: "Pool minimum payment in VBK; a miner's own threshold (vbkpool payouts --threshold) " +
      "overrides it.",
    check: checkVbk(false),
  },
  max_recipients: {
    kind: "integer",
    default: 100,
    min: 1,
    max: 1000,
    doc: "Recipients per sendcoins transaction at most.",
  },
  max_payments_per_pass: {
    kind: "integer",
    default: 10,
    min: 1,
    max: 1000,
    doc: "Transactions sent per pass at most.",
  },
  payment_confirmations: {
    kind: "integer",
    default: 3,
    min: 1,
    max: 100000,
    doc: "Confirmations after which a payment is shown as confirmed.",
  },
  lock_ttl_seconds: {
    kind: "number",
    default: 120,
    min: 1,
    max: 86400,
    doc: "The payer lock expires this long after its holder's last renewal (a crashed payer " +
      "is replaced after it).",
  },
  reconcile_grace_seconds: {
    kind: "number",
    default: 30,
    min: 0,
    max: 86400,
    doc: "An unfinished payment of another payer is reconciled against NodeCore only once it " +
      "is this old (keep it above wallet.timeout_seconds).",
  },
  unknown_outcome_seconds: {
    kind: "number",
    default: 600,
    min: 0,
    max: 604800,
    doc: "A payment whose outcome is unknown (sendcoins timed out, the payer crashed) is paid " +
      "again only when it is this old and the pool address's signature index has not moved " +
      "since it was written; keep it well above the time NodeCore takes to execute and " +
      "propagate a transaction.",
  },
  require_synced: {
    kind: "boolean",
    default: true,
    doc: "Credit and pay only while NodeCore reports itself synced.",
  },
};

/** Keys of `[wallet]`. */
export const WALLET_SCHEMA: SectionSpec = {
  url: {
    kind: "string",
    default: "http://127.0.0.1:10600/api",
    doc: "NodeCore's HTTP JSON-RPC API (its wallet holds payouts.pool_address); the devnet " +
      "serves the same API.",
    check: (value) => {
      try {
        const u = new URL(String(value));
        return u.protocol === "http:" || u.protocol === "https:" ? undefined : "an http(s) URL";
      } catch {
        return "an http(s) URL, e.g. http://127.0.0.1:10600/api";
      }
    },
  },
  password: {
    kind: "string",
    default: "",
    doc: "Sent as X-VBK-RPC-PASSWORD (NodeCore's rpc.security.password); empty = none.",
  },
  timeout_seconds: {
    kind: "number",
    default: 10,
    min: 0.1,
    max: 600,
    doc: "Seconds allowed for one API call.",
  },
};

/** The devnet's wallet keys, merged into `[devnet]`. */
export const DEVNET_WALLET_SCHEMA: SectionSpec = {
  api_listen: {
    kind: "string",
    default: "127.0.0.1:10600",
    doc: "Address of the devnet's NodeCore HTTP JSON-RPC API (wallet and chain queries for " +
      "payouts); empty = off. The server's embedded devnet serves it only when this is set, " +
      "or on a free loopback port for in-process payouts.",
    check: (value) => value === "" ? undefined : checkHostPort(value),
  },
  api_password: {
    kind: "string",
    default: "",
    doc: "X-VBK-RPC-PASSWORD the devnet's API requires; empty = none.",
  },
  block_reward: {
    kind: "string",
    default: "50",
    doc: "VBK each devnet block's coinbase pays its finder (the pool address over UCP).",
    check: checkVbk(false),
  },
  fee_per_byte: {
    kind: "integer",
    default: 1000,
    min: 0,
    max: 1000000000,
    doc: "Devnet transaction fee in atomic units per byte (NodeCore's default: 1000).",
  },
};
