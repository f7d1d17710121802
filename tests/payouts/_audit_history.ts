/**
 * Histories for the audit tests, made through the real code paths (the store, the unlocker and
 * the payer against the real devnet of `_stack.ts`): one scripted history with every kind of row
 * the audit checks, and seeded random ones. Also: copies of a store to tamper with, and the
 * audit run through the CLI in-process.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";
import { COMMANDS, runCli } from "../../cli/mod.ts";
import { type AuditReport, Payer, type PayerStep, Unlocker } from "../../payouts/mod.ts";
import type { Payment } from "../../store/mod.ts";
import { POSTGRES_URL } from "../store/_backends.ts";
import { A, B, C, FEE, type PayoutStack, POOL, VBK } from "./_stack.ts";

/** A fourth miner (the SOLO one). */
export const D = "VFFDWUMLJwLRuNzH4NX8Rm32E59n6d";

/** The unlocker every history uses: 2 confirmations, fees 1 % (SOLO 2 %) to FEE, no chain scan. */
export function unlocker(s: PayoutStack, window: string | number = 1): Unlocker {
  return new Unlocker(s.store, s.rpc, {
    poolAddress: POOL,
    confirmations: 2,
    window,
    fees: [{ address: FEE, percent: "1" }],
    soloFees: [{ address: FEE, percent: "2" }],
    // The histories fund the pool wallet with blocks that pay the pool address but are not the
    // pool's to credit: no chain scan (as the README advises for such a pool address).
    scanBlocks: 0,
  });
}

/** The payer every history uses (one owner, so it reconciles its own crashes at once). */
export function payer(
  s: PayoutStack,
  options: { crashAt?: PayerStep; minimumPayment?: bigint } = {},
): Payer {
  return new Payer(s.store, s.rpc, {
    owner: "audit-test-payer",
    poolAddress: POOL,
    minimumPayment: options.minimumPayment ?? VBK,
    paymentConfirmations: 2,
    reconcileGraceMs: 0,
    // An intent whose outcome is unknown is failed as soon as the ledger proves it was not
    // executed (the signature index has not moved), without the production wait.
    unknownOutcomeWindowMs: 0,
    onStep: (step) => {
      if (step === options.crashAt) throw new Error(`crash at ${step}`);
    },
  });
}

/** Record a block the pool just mined on the devnet as found by `finder` at `time`. */
async function found(
  s: PayoutStack,
  finder: string,
  time: number,
  solo = false,
): Promise<Uint8Array> {
  const [block] = await s.minePool();
  const { inserted } = await s.store.recordBlock({
    instance: 0,
    height: block!.height,
    hash: block!.hash,
    address: finder,
    worker: "rig",
    networkDifficulty: block!.difficulty,
    time,
    solo,
  });
  assert.ok(inserted);
  return block!.hash;
}

/** Record a SOLO share. */
async function soloShare(s: PayoutStack, address: string, time: number): Promise<void> {
  await s.store.recordShare({
    instance: 0,
    address,
    worker: "solo",
    jobId: "1",
    difficulty: 500n,
    networkDifficulty: 1000n,
    height: 1,
    time,
    hash: crypto.getRandomValues(new Uint8Array(24)),
    solo: true,
  });
}

/** What the scripted history made. */
export interface Scripted {
  /** A confirmed PPLNS block, credited before the payments. */
  first: Uint8Array;
  /** An orphaned block. */
  orphan: Uint8Array;
  /** A confirmed SOLO block. */
  solo: Uint8Array;
  /** The last confirmed PPLNS block, credited after every payment (its miners still hold it). */
  last: Uint8Array;
  /** Two payments with transactions. */
  paid: [Payment, Payment];
  /** A failed payment (its recipient still holds the refund). */
  failed: Payment;
}

/**
 * A history with every kind of row: confirmed PPLNS and SOLO blocks with fees, an orphan,
 * shares in and out of windows (SOLO ones too), two payments (one confirmed), a payment failed
 * after the payer crashed, and shares after the last block.
 *
 * @param s The stack.
 * @returns The rows the tamper tests need.
 */
export async function scriptedHistory(s: PayoutStack): Promise<Scripted> {
  const unlock = unlocker(s);
  await s.minePool(2); // funds for the payments (and their fees), not the pool's to credit
  let t = 1000;
  for (const [m, d] of [[C, 200n], [A, 600n], [B, 300n], [C, 100n]] as const) {
    await s.share(m, d, 1000n, t++);
  }
  await soloShare(s, D, t++);
  const first = await found(s, A, t++);
  await s.share(A, 400n, 1000n, t++);
  await s.share(B, 400n, 2000n, t++);
  const orphan = await found(s, B, t++);
  await s.devnet.rival.reorg(1);
  await soloShare(s, D, t++);
  const solo = await found(s, D, t++, true);
  for (let i = 0; i < 3; i++) await s.devnet.rival.mineBlock();
  const credited = await unlock.run();
  assert.equal(credited.confirmed.length, 2, "the first and the SOLO block");
  assert.equal(credited.orphaned.length, 1);

  const pay = payer(s);
  const one = await pay.run();
  assert.equal(one.sent.length, 1);
  await s.devnet.rival.mineBlock();
  await s.devnet.rival.mineBlock();
  assert.equal((await pay.run()).confirmed.length, 1);

  await s.share(C, 900n, 1000n, t++);
  const second = await found(s, C, t++);
  await s.devnet.rival.mineBlock();
  await s.devnet.rival.mineBlock();
  assert.equal((await unlock.run()).confirmed.length, 1);
  const two = await pay.run();
  assert.equal(two.sent.length, 1);
  const paid: [Payment, Payment] = [one.sent[0]!, two.sent[0]!];
  assert.notDeepEqual(paid[0].txIds, paid[1].txIds);
  assert.ok(second.length === 24);

  // The payer dies right after writing an intent; a later pass finds it was never sent and
  // fails it (returning the amounts), paying nothing new (a high minimum).
  await s.share(B, 700n, 1000n, t++);
  await found(s, B, t++);
  await s.devnet.rival.mineBlock();
  await s.devnet.rival.mineBlock();
  assert.equal((await unlock.run()).confirmed.length, 1);
  await assert.rejects(payer(s, { crashAt: "after-intent" }).run(), /crash at after-intent/);
  const [pending] = await s.store.payouts.listPayments({ status: "pending" });
  const reconciled = await payer(s, { minimumPayment: 1000n * VBK }).run();
  assert.deepEqual(reconciled.failed.map((p) => p.id), [pending!.id]);

  // The last block is credited after every payment: its miners hold their credits.
  await s.share(A, 300n, 1000n, t++);
  await s.share(B, 500n, 1000n, t++);
  const last = await found(s, A, t++);
  await s.devnet.rival.mineBlock();
  await s.devnet.rival.mineBlock();
  assert.equal((await unlock.run()).confirmed.length, 1);
  await s.share(C, 100n, 1000n, t++);
  await s.share(A, 100n, 1000n, t++);
  return { first, orphan, solo, last, paid, failed: reconciled.failed[0]! };
}

/** A small seeded generator (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options for {@linkcode randomHistory}. */
export interface RandomHistoryOptions {
  /** Steps taken. */
  steps: number;
  /** Called after each step with its description (the audit runs there). */
  after: (step: string, index: number) => Promise<void>;
}

/**
 * A random history: shares from four miners (some SOLO), blocks found (some SOLO), reorgs
 * no deeper than the confirmations, unlocker passes, payer passes, payer crashes at each step.
 *
 * @param s The stack.
 * @param seed The seed.
 * @param options Steps, and what to do after each.
 * @returns The steps taken, one line each.
 */
export async function randomHistory(
  s: PayoutStack,
  seed: number,
  options: RandomHistoryOptions,
): Promise<string[]> {
  const rand = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const unlock = unlocker(s, pick(["0.5", "1", "2"]));
  const pay = payer(s);
  const log: string[] = [];
  await s.minePool(2); // funds for the transaction fees, not the pool's to credit
  let t = 1000;
  for (let i = 0; i < options.steps; i++) {
    const r = rand();
    let step: string;
    if (r < 0.35) {
      const n = 1 + Math.floor(rand() * 4);
      for (let k = 0; k < n; k++) {
        t += 1 + Math.floor(rand() * 5);
        if (rand() < 0.1) await soloShare(s, D, t);
        else {
          await s.share(
            pick([A, B, C, D]),
            BigInt(100 + Math.floor(rand() * 1400)),
            pick([1000n, 2000n, 3000n]),
            t,
          );
        }
      }
      step = `${n} share(s)`;
    } else if (r < 0.5) {
      const solo = rand() < 0.2;
      await found(s, solo ? D : pick([A, B, C, D]), ++t, solo);
      step = solo ? "SOLO block found" : "block found";
    } else if (r < 0.57 && s.devnet.chain.height >= 3) {
      const depth = 1 + Math.floor(rand() * 2);
      await s.devnet.rival.reorg(depth);
      step = `reorg ${depth}`;
    } else if (r < 0.77) {
      const n = 1 + Math.floor(rand() * 2);
      for (let k = 0; k < n; k++) await s.devnet.rival.mineBlock();
      const u = await unlock.run();
      step = `${n} block(s) mined: ${u.confirmed.length} confirmed, ${u.orphaned.length} orphaned`;
    } else if (r < 0.92) {
      const p = await pay.run();
      step = `payer: ${p.sent.length} sent, ${p.confirmed.length} confirmed, ` +
        `${p.failed.length} failed, ${p.recovered.length} recovered`;
    } else {
      const crashAt = pick<PayerStep>(["after-intent", "after-send", "after-record"]);
      const crashed = await payer(s, { crashAt }).run().then(() => false, () => true);
      step = `payer crash at ${crashAt}${crashed ? "" : " (did not get there)"}`;
    }
    log.push(step);
    await options.after(step, i);
  }
  return log;
}

/** A copy of a store to tamper with. */
export interface StoreCopy {
  /** What `openStore` takes. */
  location: string;
  /** Run SQL statements on it, in order. */
  exec(statements: readonly string[]): Promise<void>;
  /** Delete it. */
  drop(): Promise<void>;
}

let copies = 0;

/**
 * Copy a store (closed, for PostgreSQL: a database is copied as a template, which needs no
 * other connection to it).
 *
 * @param location The store's location.
 * @param dir A folder for SQLite copies.
 * @returns The copy.
 */
export async function copyStore(location: string, dir: string): Promise<StoreCopy> {
  if (!location.startsWith("postgres")) {
    const path = `${dir}/copy-${copies++}.sqlite`;
    const db = new DatabaseSync(location);
    try {
      db.exec(`VACUUM INTO '${path}'`);
    } finally {
      db.close();
    }
    return {
      location: path,
      exec(statements) {
        const c = new DatabaseSync(path);
        try {
          for (const sql of statements) c.exec(sql);
        } finally {
          c.close();
        }
        return Promise.resolve();
      },
      drop: () => Deno.remove(path),
    };
  }
  const base = new URL(location).pathname.slice(1);
  const name = `${base}_copy_${copies++}`;
  const admin = postgres(POSTGRES_URL!, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${base}`);
  } finally {
    await admin.end();
  }
  const url = new URL(location);
  url.pathname = `/${name}`;
  return {
    location: url.toString(),
    async exec(statements) {
      const c = postgres(url.toString(), { max: 1, onnotice: () => {} });
      try {
        for (const sql of statements) await c.unsafe(sql);
      } finally {
        await c.end();
      }
    },
    async drop() {
      const a = postgres(POSTGRES_URL!, { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

/** What `vbkpool audit` printed and returned. */
export interface CliAudit {
  /** Exit status. */
  code: number;
  /** The JSON report (with `--json`). */
  report: AuditReport;
  /** Everything printed. */
  out: string;
}

/**
 * Run `vbkpool audit --json` in-process (the CLI's own code path, without a subprocess).
 *
 * @param location The store.
 * @param args More arguments (e.g. `--nodecore URL`).
 * @returns The exit status and the report.
 */
export async function cliAudit(location: string, args: string[] = []): Promise<CliAudit> {
  const printed: string[] = [];
  const log = console.log;
  console.log = (...parts: unknown[]) => printed.push(parts.join(" "));
  let code: number;
  try {
    code = await runCli(["audit", "--json", ...args], COMMANDS, {
      output: { out: (t) => printed.push(t), err: (t) => printed.push(t) },
      env: {
        VBKPOOL_STORE_URL: location,
        VBKPOOL_PAYOUTS_POOL_ADDRESS: POOL,
        VBKPOOL_LOG_LEVEL: "error",
      },
      stopSignal: AbortSignal.abort(),
    });
  } finally {
    console.log = log;
  }
  const out = printed.join("\n");
  let report: AuditReport;
  try {
    report = JSON.parse(out);
  } catch {
    throw new Error(`vbkpool audit printed no JSON report (exit ${code}):\n${out}`);
  }
  return { code, report, out };
}

/** The failed checks of a report with their violation codes, e.g. `{ balances: ["balance_mismatch"] }`. */
export function failures(report: AuditReport): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const c of report.checks) {
    if (!c.ok) out[c.name] = [...new Set(c.violations.map((v) => v.code))].sort();
  }
  return out;
}
