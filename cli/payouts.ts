/**
 * `vbkpool payouts`: the payout service on its own. Each pass confirms or orphans the pool's
 * found blocks against NodeCore's main chain, credits confirmed blocks by PPLNS, and pays
 * balances above their threshold from the pool address, under a global lock so that one payer
 * runs per pool. Also: `--once` (one pass, for cron), `--status` (payments whose outcome is
 * unknown, balances, payments, blocks), `--settle ID --sent TXID | --not-sent [--force]` (the
 * operator settles a payment whose outcome is unknown) and `--threshold ADDRESS=VBK` (a miner's
 * own payment threshold).
 *
 * @module
 */
import { UsageError } from "./args.ts";
import { type Command, type CommandContext, waitForStop } from "./command.ts";
import { ConfigError } from "./config.ts";
import { logger } from "./log.ts";
import { isValidAddress } from "../hash/address.ts";
import { bytesToHex } from "../hash/hex.ts";
import {
  BlockTracker,
  formatSignatureIndex,
  formatVbk,
  listUnknownOutcomes,
  NodeCoreRpc,
  parseVbk,
  PAYER_STEPS,
  type PayerStep,
  type PayoutPass,
  PayoutService,
  settlePayment,
  type UnknownOutcome,
  type UnlockerOptions,
} from "../payouts/mod.ts";
import type { DevnetOptions } from "../devnet/mod.ts";
import { isPostgresLocation, openStore, type Store } from "../store/mod.ts";
import { parseFees } from "./_payouts_schema.ts";
import { STORE_PRUNE_KEYS, storeOptions } from "./_store_schema.ts";
import { schemaKeys } from "./config_schema.ts";
import { reachableHost } from "./_listen.ts";
import { type RunningAlerts, startAlerts } from "./_alerts_schema.ts";
import { formatHostPort } from "../net/mod.ts";

type Values = Record<string, unknown>;

/**
 * Test-only crash injection: when set to a payer step (`after-intent`, `after-send`,
 * `after-record`), the payout process kills itself with SIGKILL at that step.
 */
export const CRASH_ENV = "VBKPOOL_TEST_CRASH_AT";

/**
 * The pool address the payout service uses: `payouts.pool_address`, else `nodecore.address`.
 *
 * @example Usage
 * ```ts
 * import { payoutPoolAddress } from "./payouts.ts";
 * import assert from "node:assert/strict";
 *
 * const address = "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX";
 * assert.equal(payoutPoolAddress({ pool_address: "" }, { address }), address);
 * ```
 *
 * @param payouts The `[payouts]` values.
 * @param nodecore The `[nodecore]` values.
 * @returns The address.
 * @throws {ConfigError} When neither is set.
 */
export function payoutPoolAddress(payouts: Values, nodecore: Values | undefined): string {
  const address = (payouts.pool_address as string) || (nodecore?.address as string ?? "");
  if (address === "") {
    throw new ConfigError(
      "Invalid configuration: payouts.pool_address (or nodecore.address) must name the pool's " +
        "VBK address, whose wallet pays the miners",
      "payouts.pool_address",
    );
  }
  return address;
}

/** A unique payer-lock owner id: `[prefix:]host:pid:random`. */
function lockOwner(prefix: string): string {
  const id = `${Deno.hostname()}:${Deno.pid}:${
    bytesToHex(crypto.getRandomValues(new Uint8Array(4)))
  }`;
  return prefix === "" ? id : `${prefix}:${id}`;
}

/** Options for {@linkcode createPayoutService}. */
export interface PayoutWiring {
  /** The pool's address. */
  poolAddress: string;
  /** The store. */
  store: Store;
  /** NodeCore's HTTP API (or the devnet's). */
  rpc: NodeCoreRpc;
  /** Called at each payer step (crash injection in tests). */
  onStep?: (step: PayerStep) => void;
}

/**
 * A payout service configured from `[payouts]`.
 *
 * @param p The `[payouts]` values.
 * @param wiring Store, NodeCore client, pool address.
 * @returns The service (not started).
 */
export function createPayoutService(p: Values, wiring: PayoutWiring): PayoutService {
  const owner = lockOwner("");
  return new PayoutService(wiring.store, wiring.rpc, {
    intervalMs: Math.round((p.interval_seconds as number) * 1000),
    unlocker: unlockerOptions(p, wiring.poolAddress),
    payer: {
      owner,
      poolAddress: wiring.poolAddress,
      minimumPayment: parseVbk(p.minimum_payment as string),
      maxRecipients: p.max_recipients as number,
      maxPaymentsPerRun: p.max_payments_per_pass as number,
      paymentConfirmations: p.payment_confirmations as number,
      lockTtlMs: Math.round((p.lock_ttl_seconds as number) * 1000),
      reconcileGraceMs: Math.round((p.reconcile_grace_seconds as number) * 1000),
      unknownOutcomeWindowMs: Math.round((p.unknown_outcome_seconds as number) * 1000),
      requireSynced: p.require_synced as boolean,
      ...(wiring.onStep === undefined ? {} : { onStep: wiring.onStep }),
    },
  });
}

/** The unlocker's settings from `[payouts]`. */
function unlockerOptions(p: Values, poolAddress: string): UnlockerOptions {
  const remainder = p.remainder_address as string;
  const reward = p.block_reward as string;
  return {
    poolAddress,
    confirmations: p.confirmations as number,
    window: p.pplns_window as number,
    fees: parseFees(p.fees as string[]),
    soloFees: parseFees(p.solo_fees as string[]),
    ...(remainder === "" ? {} : { remainderAddress: remainder }),
    ...(reward === "" ? {} : { blockReward: parseVbk(reward) }),
    ...scanOption(p),
    requireSynced: p.require_synced as boolean,
  };
}

/** The unlocker's `scanBlocks` from `recover_from_chain` and `scan_blocks` (0 = its default). */
function scanOption(p: Values): { scanBlocks?: number } {
  if (p.recover_from_chain === false) return { scanBlocks: 0 };
  const blocks = (p.scan_blocks as number | undefined) ?? 0;
  return blocks > 0 ? { scanBlocks: blocks } : {};
}

/**
 * The NodeCore client configured from `[wallet]`.
 *
 * @param w The `[wallet]` values.
 * @returns The client.
 */
export function walletClient(w: Values): NodeCoreRpc {
  return new NodeCoreRpc({
    url: w.url as string,
    password: w.password as string,
    timeoutMs: Math.round((w.timeout_seconds as number) * 1000),
  });
}

/**
 * The devnet's wallet options from `[devnet]`: block reward, fee, and its NodeCore HTTP API on
 * `listen` (none when absent).
 *
 * @param d The `[devnet]` values.
 * @param listen Where the HTTP API listens (port 0 = any free port).
 * @returns Options for `startDevnet`.
 */
export function devnetWalletOptions(
  d: Values,
  listen?: { hostname: string; port: number },
): Partial<DevnetOptions> {
  return {
    blockReward: parseVbk(d.block_reward as string),
    feePerByte: BigInt(d.fee_per_byte as number),
    ...(listen === undefined ? {} : {
      rpcHostname: listen.hostname,
      rpcPort: listen.port,
      rpcPassword: d.api_password as string,
    }),
  };
}

/** What {@linkcode startInProcessPayouts} needs from the server. */
export interface InProcessPayouts {
  /** The server's store. */
  store: Store;
  /** The pool address the server mines for (with the embedded devnet: its address). */
  poolAddress: string;
  /** The embedded devnet's HTTP API, used instead of `[wallet]` when present. */
  devnetApi?: { hostname: string; port: number } | undefined;
}

/**
 * Start the payout service inside `vbkpool server` when `[payouts] enabled` is true.
 *
 * @param values The loaded configuration (`payouts`, `wallet`, `devnet`).
 * @param wiring The server's store, pool address and embedded devnet API.
 * @returns The running service, or undefined when disabled.
 */
export function startInProcessPayouts(
  values: Record<string, Values>,
  wiring: InProcessPayouts,
): PayoutService | undefined {
  const p = values.payouts;
  if (p === undefined || p.enabled !== true) return undefined;
  const { poolAddress, rpc } = inProcessRpc(values, wiring);
  const service = createPayoutService(p, { poolAddress, store: wiring.store, rpc });
  logger("payouts").info(
    "payouts in-process: pool {pool}, NodeCore API {url}, every {s} s",
    { pool: poolAddress, url: rpc.url, s: p.interval_seconds },
  );
  service.start();
  return service;
}

/** The pool address and NodeCore client of an in-process service. */
function inProcessRpc(
  values: Record<string, Values>,
  wiring: InProcessPayouts,
): { poolAddress: string; rpc: NodeCoreRpc } {
  const poolAddress = (values.payouts!.pool_address as string) || wiring.poolAddress;
  const devnet = wiring.devnetApi;
  const rpc = devnet === undefined ? walletClient(values.wallet!) : new NodeCoreRpc({
    url: `http://${formatHostPort(reachableHost(devnet.hostname), devnet.port)}/api`,
    password: values.devnet?.api_password as string ?? "",
  });
  return { poolAddress, rpc };
}

/**
 * Start block tracking inside `vbkpool server` (`[payouts] track_blocks`, the default) when the
 * payout service does not run there: confirmations, confirmed (credited) or orphaned, never a
 * payment.
 *
 * @param values The loaded configuration (`payouts`, `wallet`, `devnet`).
 * @param wiring The server's store, pool address and embedded devnet API.
 * @returns The running tracker, or undefined when off (or the payout service runs in-process).
 */
export function startBlockTracker(
  values: Record<string, Values>,
  wiring: InProcessPayouts,
): BlockTracker | undefined {
  const p = values.payouts;
  if (p === undefined || p.enabled === true || p.track_blocks !== true) return undefined;
  const { poolAddress, rpc } = inProcessRpc(values, wiring);
  const tracker = new BlockTracker(wiring.store, rpc, {
    intervalMs: Math.round((p.interval_seconds as number) * 1000),
    unlocker: unlockerOptions(p, poolAddress),
  });
  logger("payouts").info(
    "block tracking in-process (confirmations and credits, no payments): NodeCore API {url}, " +
      "every {s} s",
    { url: rpc.url, s: p.interval_seconds },
  );
  tracker.start();
  return tracker;
}

/**
 * One line describing a pass.
 *
 * @example Usage
 * ```ts
 * import { describePass } from "./payouts.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(describePass({ skipped: "no lock" }), "pass skipped: no lock");
 * ```
 *
 * @param pass What the pass did.
 * @returns The line.
 */
export function describePass(pass: PayoutPass): string {
  if (pass.error !== undefined) return `pass failed: ${pass.error}`;
  if (pass.skipped !== undefined) return `pass skipped: ${pass.skipped}`;
  const u = pass.unlock;
  const p = pass.pay;
  const parts = [
    `${u?.confirmed.length ?? 0} block(s) credited`,
    `${u?.orphaned.length ?? 0} orphaned`,
    `${u?.rejected.length ?? 0} rejected`,
    `${(u?.recovered.length ?? 0) + (u?.restored.length ?? 0)} recovered from the chain`,
    `${u?.waiting ?? 0} waiting`,
    `${p?.sent.length ?? 0} payment(s) sent`,
    `${p?.confirmed.length ?? 0} confirmed`,
    `${p?.failed.length ?? 0} failed`,
    `${p?.recovered.length ?? 0} recovered`,
  ];
  if (u?.skipped) parts.push(`unlocker: ${u.skipped}`);
  if (p?.skipped) parts.push(`payer: ${p.skipped}`);
  for (const x of p?.problems ?? []) parts.push(`payment ${x.payment.id}: ${x.problem}`);
  return parts.join(", ");
}

async function openPayoutStore(s: Values): Promise<Store> {
  const { url, options } = storeOptions(s);
  return await openStore(url, options);
}

/**
 * A duration as text: "45s", "12m 04s", "3h 02m", "2d 05h".
 *
 * @example Usage
 * ```ts
 * import { formatAge } from "./payouts.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatAge(724_000), "12m 04s");
 * assert.equal(formatAge(-5), "0s");
 * ```
 *
 * @param ms Milliseconds.
 * @returns The text.
 */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (n: number) => String(n).padStart(2, "0");
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${two(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${two(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d ${two(Math.floor(s / 3600) % 24)}h`;
}

/**
 * The lines `--status` prints for the payments whose outcome is unknown.
 *
 * @example Usage
 * ```ts
 * import { describeUnknownOutcomes } from "./payouts.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(describeUnknownOutcomes([]), ["payments whose outcome is unknown: none"]);
 * ```
 *
 * @param list What {@linkcode listUnknownOutcomes} returned.
 * @returns The lines.
 */
export function describeUnknownOutcomes(list: readonly UnknownOutcome[]): string[] {
  if (list.length === 0) return ["payments whose outcome is unknown: none"];
  const lines = [`payments whose outcome is unknown (${list.length}):`];
  for (const u of list) {
    const p = u.payment;
    const stored = p.signatureIndex === undefined
      ? "none stored"
      : formatSignatureIndex(p.signatureIndex);
    const now = u.current === undefined
      ? "not asked"
      : "error" in u.current
      ? `cannot be read (${u.current.error})`
      : formatSignatureIndex(u.current);
    lines.push(
      `  #${p.id} pending for ${formatAge(u.ageMs)}: ${p.items.length} recipient(s), ` +
        `${formatVbk(p.total)} VBK; signature index at the intent: ${stored}; now: ${now}`,
    );
    if (p.error !== undefined) lines.push(`     last problem: ${p.error}`);
    lines.push(`     waiting for: ${u.waitingFor}`);
  }
  return lines;
}

async function printStatus(store: Store, node: StatusNode): Promise<void> {
  const unknown = await listUnknownOutcomes(store, node.rpc, node);
  for (const line of describeUnknownOutcomes(unknown)) console.log(line);
  const balances = await store.payouts.listBalances({ minimum: 1n, limit: 100 });
  console.log(`balances (${balances.length}):`);
  for (const b of balances) {
    const own = b.threshold === undefined ? "" : ` (threshold ${formatVbk(b.threshold)})`;
    console.log(`  ${b.address}  ${formatVbk(b.amount)} VBK${own}`);
  }
  const payments = await store.payouts.listPayments({ limit: 20 });
  console.log(`payments (newest ${payments.length}):`);
  for (const p of payments) {
    console.log(
      `  #${p.id} ${p.status} ${formatVbk(p.total)} VBK to ${p.items.length} miner(s)` +
        `${p.txIds.length ? " tx " + p.txIds.join(",").toLowerCase() : ""}` +
        `${p.error ? " (" + p.error + ")" : ""}`,
    );
  }
  const blocks = await store.listBlocks({ limit: 20 });
  console.log(`blocks (newest ${blocks.length}):`);
  for (const b of blocks) {
    console.log(
      `  ${b.height} ${bytesToHex(b.hash)} ${b.status}` +
        ` ${b.confirmations} conf${
          b.reward === undefined ? "" : " " + formatVbk(b.reward) + " VBK"
        }${b.solo ? " solo" : ""}${b.source === "chain" ? " (from the chain)" : ""}${
          b.note === "" ? "" : " [" + b.note + "]"
        }`,
    );
  }
}

/** How `--status` asks the node about unknown outcomes. */
interface StatusNode {
  /** NodeCore, when a pool address is configured. */
  rpc: NodeCoreRpc | undefined;
  /** The pool's address, when configured. */
  poolAddress?: string;
  /** The payer's window (ms). */
  windowMs: number;
}

function statusNode(v: Record<string, Values>): StatusNode {
  const p = v.payouts!;
  const windowMs = Math.round((p.unknown_outcome_seconds as number) * 1000);
  const address = (p.pool_address as string) || (v.nodecore?.address as string ?? "");
  if (address === "") return { rpc: undefined, windowMs };
  return { rpc: walletClient(v.wallet!), poolAddress: address, windowMs };
}

/** `--settle ID --sent TXID | --not-sent [--force]`, checked. */
interface SettleRequest {
  id: bigint;
  outcome: { sent: string } | "not-sent";
  force: boolean;
}

function settleRequest(options: Record<string, unknown>): SettleRequest | undefined {
  const id = options.settle as string | undefined;
  const sent = options.sent as string | undefined;
  const notSent = options["not-sent"] === true;
  const force = options.force === true;
  if (id === undefined) {
    if (sent !== undefined || notSent || force) {
      throw new UsageError("--sent, --not-sent and --force go with --settle ID");
    }
    return undefined;
  }
  if (!/^\d{1,19}$/.test(id) || BigInt(id) < 1n) {
    throw new UsageError(`--settle expects a payment id (an integer >= 1), got ${id}`);
  }
  if ((sent === undefined) === !notSent) {
    throw new UsageError("--settle ID needs exactly one of --sent TXID and --not-sent");
  }
  return { id: BigInt(id), outcome: sent === undefined ? "not-sent" : { sent }, force };
}

async function settle(
  store: Store,
  v: Record<string, Values>,
  req: SettleRequest,
): Promise<number> {
  const p = v.payouts!;
  const result = await settlePayment(store, walletClient(v.wallet!), {
    id: req.id,
    outcome: req.outcome,
    poolAddress: payoutPoolAddress(p, v.nodecore),
    owner: lockOwner("settle"),
    force: req.force,
    lockTtlMs: Math.round((p.lock_ttl_seconds as number) * 1000),
  });
  const checks = result.checks.map((c) => `  checked: ${c}`);
  if (!result.ok) {
    console.error(`Cannot settle payment ${req.id}: ${result.reason}`);
    for (const c of checks) console.error(c);
    return 1;
  }
  const x = result.payment;
  console.log(
    x.status === "failed"
      ? `payment ${x.id} settled: not sent; ${formatVbk(x.total)} VBK returned to ` +
        `${x.items.length} balance(s), paid again by the next pass`
      : `payment ${x.id} settled: sent in transaction ${x.txIds.join(", ").toLowerCase()}; the ` +
        "payer follows its confirmations",
  );
  for (const c of checks) console.log(c);
  return 0;
}

async function setThresholds(store: Store, items: string[]): Promise<void> {
  for (const item of items) {
    const m = /^([^=]+)=(.+)$/.exec(item.trim());
    if (m === null || !isValidAddress(m[1]!)) {
      throw new UsageError(`--threshold expects ADDRESS=VBK or ADDRESS=default, got ${item}`);
    }
    const address = m[1]!;
    if (m[2] === "default") {
      await store.payouts.setPaymentThreshold(address, undefined);
      console.log(`${address}: the pool minimum applies`);
      continue;
    }
    let amount: bigint;
    try {
      amount = parseVbk(m[2]!);
    } catch (err) {
      throw new UsageError(`--threshold ${item}: ${(err as Error).message}`);
    }
    if (amount <= 0n) throw new UsageError(`--threshold ${item}: the threshold must be > 0`);
    await store.payouts.setPaymentThreshold(address, amount);
    console.log(`${address}: paid from ${formatVbk(amount)} VBK`);
  }
}

function crashHook(env: string | undefined): ((step: PayerStep) => void) | undefined {
  if (env === undefined || env === "") return undefined;
  if (!PAYER_STEPS.includes(env as PayerStep)) {
    throw new UsageError(`${CRASH_ENV} must be one of ${PAYER_STEPS.join(", ")}, got ${env}`);
  }
  return (step) => {
    if (step !== env) return;
    console.error(`${CRASH_ENV}: killing the payout process at ${step}`);
    Deno.kill(Deno.pid, "SIGKILL");
  };
}

async function run(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length > 0) throw new UsageError("payouts takes no arguments");
  const log = logger("payouts");
  const v = ctx.config.values;
  const p = v.payouts!;
  const once = ctx.args.options.once === true;
  const status = ctx.args.options.status === true;
  const thresholds = (ctx.args.options.threshold as string[] | undefined) ?? [];
  const settling = settleRequest(ctx.args.options);
  if (settling !== undefined && (once || status || thresholds.length > 0)) {
    throw new UsageError("--settle goes alone (not with --once, --status or --threshold)");
  }
  const onStep = crashHook(Deno.env.get(CRASH_ENV));
  const store = await openPayoutStore(v.store!);
  const url = (v.store!.url as string).trim();
  let alerts: RunningAlerts | undefined;
  try {
    if (settling !== undefined) return await settle(store, v, settling);
    if (thresholds.length > 0 || status) {
      if (thresholds.length > 0) await setThresholds(store, thresholds);
      if (status) await printStatus(store, statusNode(v));
      return 0;
    }
    const poolAddress = payoutPoolAddress(p, v.nodecore);
    const rpc = walletClient(v.wallet!);
    alerts = startAlerts(v.alerts!, { hashrate: false });
    const service = createPayoutService(p, {
      poolAddress,
      store,
      rpc,
      ...(onStep === undefined ? {} : { onStep }),
    });
    log.info(
      "payouts: pool {pool}, NodeCore API {url}, store {store}; credit after {n} confirmations, " +
        "PPLNS window {x}, minimum payment {min} VBK",
      {
        pool: poolAddress,
        url: rpc.url,
        store: isPostgresLocation(url) ? "postgres" : url,
        n: p.confirmations,
        x: p.pplns_window,
        min: p.minimum_payment,
      },
    );
    if (once) {
      const pass = await service.runOnce();
      await service.stop();
      console.log(describePass(pass));
      return pass.error === undefined ? 0 : 1;
    }
    service.start();
    await waitForStop(ctx.stopSignal);
    log.info("payouts: stopping after the pass in progress");
    await service.stop();
    return 0;
  } finally {
    // The pass's alerts (payments sent or failed) get a few seconds to go out.
    await alerts?.webhooks.drain(5000);
    await alerts?.stop();
    await store.close();
  }
}

/** The `payouts` command. */
export const payoutsCommand: Command = {
  name: "payouts",
  summary: "confirm found blocks, credit miners by PPLNS and pay balances (crash-safe)",
  usage: [
    "payouts [--once]",
    "payouts --status",
    "payouts --settle ID --sent TXID | --not-sent [--force]",
    "payouts --threshold ADDRESS=VBK|default ...",
  ],
  description: [
    "Each pass: every block candidate and pending block the pool found is checked against",
    "NodeCore's main chain (getblocks by height): a candidate the chain holds is pending whatever",
    "NodeCore answered its submit; with payouts.confirmations a pending block is credited what its",
    "coinbase paid the pool address, by PPLNS (score = share difficulty / network difficulty,",
    "window payouts.pplns_window, fees first), and orphaned (a candidate: rejected) when another",
    "block holds its height as deep. The recent chain is scanned for blocks paying the pool that",
    "the store lost (payouts.recover_from_chain). Then balances at or above their threshold are paid",
    "from the pool address with sendcoins. A payment intent is written before sending and",
    "reconciled with NodeCore after a crash, so nobody is paid twice: a payment whose outcome is",
    "unknown (timeout, crash) is paid again only once the pool address's signature index proves",
    "it was not executed (payouts.unknown_outcome_seconds); --status lists the others and",
    "--settle lets the operator settle one. [wallet] points at NodeCore's HTTP API (vbkpool devnet",
    "serves the same API). Runs until Ctrl-C, or one pass with --once.",
  ],
  options: [
    { flag: "once", kind: "boolean", doc: "run one pass, print what it did and exit" },
    {
      flag: "status",
      kind: "boolean",
      doc: "print unknown-outcome payments (asking NodeCore), balances, payments, blocks; exit",
    },
    {
      flag: "settle",
      kind: "string",
      valueName: "ID",
      doc: "settle payment ID (outcome unknown) with --sent or --not-sent, under the payer lock",
    },
    {
      flag: "sent",
      kind: "string",
      valueName: "TXID",
      doc: "with --settle: sent in TXID (NodeCore must show it from the pool, same outputs)",
    },
    {
      flag: "not-sent",
      kind: "boolean",
      doc: "with --settle: not sent; the amounts return to the balances and are paid again",
    },
    {
      flag: "force",
      kind: "boolean",
      doc: "with --settle: settle even when NodeCore cannot confirm it",
    },
    {
      flag: "threshold",
      kind: "list",
      valueName: "ADDRESS=VBK",
      doc: "set a miner's own payment threshold (ADDRESS=default clears it), repeatable",
    },
    {
      flag: "wallet",
      key: "wallet.url",
      kind: "string",
      valueName: "URL",
      doc: "NodeCore HTTP API (wallet.url)",
    },
    {
      flag: "store",
      key: "store.url",
      kind: "string",
      valueName: "URL",
      doc: "the pool's store (store.url)",
    },
  ],
  // Not payouts.enabled and track_blocks (the server's switches), not the server's pruning nor
  // its hash-rate alert,
  // and of [nodecore] only the pool address.
  sections: [
    ...schemaKeys("payouts", { except: ["enabled", "track_blocks"] }),
    "wallet",
    ...schemaKeys("alerts", { except: ["hashrate_drop_percent", "hashrate_window_seconds"] }),
    ...schemaKeys("store", { except: STORE_PRUNE_KEYS }),
    "nodecore.address",
  ],
  run,
};
