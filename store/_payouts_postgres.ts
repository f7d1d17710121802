/**
 * The payout operations on PostgreSQL: writes run inside the batch transaction (each in a
 * savepoint, rows locked in a fixed order: payer lock, block, balances by address), reads on the
 * reader pool.
 *
 * @module
 */
import type postgres from "postgres";
import { bytesToHex } from "../hash/hex.ts";
import type { OpOutcome } from "./_ops.ts";
import { PAYER_LOCK, type PayoutRead, type PayoutWriteOp, refused } from "./_payouts_ops.ts";
import {
  balanceFromRow,
  changeFromRow,
  paymentFromRow,
  paymentItemFromRow,
  shareFromRow,
  toBigInt,
  toNumber,
} from "./_rows.ts";
import type { BalanceReason, Payment, PaymentStatus } from "./payout_types.ts";

// deno-lint-ignore no-explicit-any
type Sql = postgres.Sql<any>;
// deno-lint-ignore no-explicit-any
type Tx = postgres.TransactionSql<any>;

async function loadPayment(sql: Sql | Tx, id: bigint): Promise<Payment | undefined> {
  const [row] = await sql`SELECT * FROM payments WHERE id = ${id.toString()}::bigint`;
  if (row === undefined) return undefined;
  const items = await sql`SELECT address, amount FROM payment_items
    WHERE payment_id = ${id.toString()}::bigint ORDER BY address COLLATE "C"`;
  return paymentFromRow(row, items.map(paymentItemFromRow));
}

async function checkLock(tx: Tx, owner: string, time: number, action: string): Promise<void> {
  const [row] = await tx`SELECT owner, expires_at FROM payout_lock WHERE name = ${PAYER_LOCK}
    FOR UPDATE`;
  if (row === undefined || row.owner !== owner || toNumber(row.expires_at) <= time) {
    throw new Error(`Cannot ${action}: the payout lock is not held by ${owner}`);
  }
}

async function addBalance(tx: Tx, address: string, amount: bigint, time: number): Promise<void> {
  await tx`INSERT INTO balances (address, amount, threshold, updated_at)
    VALUES (${address}, ${amount.toString()}::bigint, NULL, ${time})
    ON CONFLICT (address) DO UPDATE SET amount = balances.amount + excluded.amount,
      updated_at = excluded.updated_at`;
}

async function audit(
  tx: Tx,
  c: {
    address: string;
    amount: bigint;
    reason: BalanceReason;
    blockHash?: Uint8Array;
    blockHeight?: number;
    paymentId?: bigint;
    details: string;
    time: number;
  },
): Promise<void> {
  await tx`INSERT INTO balance_changes (address, amount, reason, block_hash, block_height,
      payment_id, details, time)
    VALUES (${c.address}, ${c.amount.toString()}::bigint, ${c.reason},
      decode(${c.blockHash === undefined ? null : bytesToHex(c.blockHash)}::text, 'hex'),
      ${c.blockHeight ?? null}::int, ${c.paymentId?.toString() ?? null}::bigint,
      ${c.details}, ${c.time})`;
}

async function openPayment(
  tx: Tx,
  id: bigint,
  action: string,
  allowed: PaymentStatus[],
): Promise<Payment> {
  await tx`SELECT id FROM payments WHERE id = ${id.toString()}::bigint FOR UPDATE`;
  const p = await loadPayment(tx, id);
  if (p === undefined) throw new RangeError(`Cannot ${action}: no payment ${id}`);
  if (!allowed.includes(p.status)) {
    throw new RangeError(`Cannot ${action}: payment ${id} is ${p.status}`);
  }
  return p;
}

async function write(tx: Tx, op: PayoutWriteOp): Promise<unknown> {
  switch (op.kind) {
    case "creditBlock": {
      const h = bytesToHex(op.hash);
      const [block] = await tx`SELECT height, status FROM blocks WHERE hash = decode(${h}, 'hex')
        FOR UPDATE`;
      if (block === undefined || block.status !== "pending") return false;
      await tx`UPDATE blocks SET status = 'confirmed', reward = ${op.credit.reward.toString()}::bigint,
        confirmations = ${op.credit.confirmations}, updated_at = ${op.time},
        credit_basis = ${op.credit.basis ?? null} WHERE hash = decode(${h}, 'hex')`;
      const credits = [...op.credit.credits].sort((a, b) => a.address < b.address ? -1 : 1);
      for (const c of credits) {
        await addBalance(tx, c.address, c.amount, op.time);
        await audit(tx, {
          address: c.address,
          amount: c.amount,
          reason: c.reason,
          blockHash: op.hash,
          blockHeight: toNumber(block.height),
          details: c.details ?? "",
          time: op.time,
        });
      }
      return true;
    }
    case "setThreshold":
      await tx`INSERT INTO balances (address, amount, threshold, updated_at)
        VALUES (${op.address}, 0, ${op.threshold?.toString() ?? null}::bigint, ${op.time})
        ON CONFLICT (address) DO UPDATE SET threshold = excluded.threshold,
          updated_at = excluded.updated_at`;
      return undefined;
    case "createPayment": {
      const action = "create payment";
      await checkLock(tx, op.owner, op.time, action);
      const addresses = op.items.map((i) => i.address).sort();
      const rows = await tx`SELECT address, amount FROM balances
        WHERE address = ANY(${addresses}::text[]) ORDER BY address COLLATE "C" FOR UPDATE`;
      const have = new Map(rows.map((r) => [r.address as string, toBigInt(r.amount)]));
      for (const item of op.items) {
        const balance = have.get(item.address) ?? 0n;
        if (balance < item.amount) {
          throw new RangeError(
            `Cannot ${action}: the balance of ${item.address} is ${balance}, below ${item.amount}`,
          );
        }
      }
      const total = op.items.reduce((s, i) => s + i.amount, 0n);
      const [row] = await tx`INSERT INTO payments (status, total, tx_ids, start_height,
          confirmations, error, owner, created_at, updated_at, signature_index)
        VALUES ('pending', ${total.toString()}::bigint, '', ${op.startHeight}, 0, NULL,
          ${op.owner}, ${op.time}, ${op.time}, ${op.signatureIndex}::text) RETURNING id`;
      const id = toBigInt(row!.id);
      for (const item of [...op.items].sort((a, b) => a.address < b.address ? -1 : 1)) {
        await tx`UPDATE balances SET amount = amount - ${item.amount.toString()}::bigint,
          updated_at = ${op.time} WHERE address = ${item.address}`;
        await tx`INSERT INTO payment_items (payment_id, address, amount)
          VALUES (${id.toString()}::bigint, ${item.address}, ${item.amount.toString()}::bigint)`;
        await audit(tx, {
          address: item.address,
          amount: -item.amount,
          reason: "payment",
          paymentId: id,
          details: `payment ${id}`,
          time: op.time,
        });
      }
      return await loadPayment(tx, id);
    }
    case "markSent": {
      const action = "mark payment sent";
      await checkLock(tx, op.owner, op.time, action);
      await openPayment(tx, op.id, action, ["pending", "sent"]);
      await tx`UPDATE payments SET status = 'sent', tx_ids = ${op.txIds.join(",")}, error = NULL,
        updated_at = ${op.time} WHERE id = ${op.id.toString()}::bigint`;
      return await loadPayment(tx, op.id);
    }
    case "confirmPayment": {
      const action = "confirm payment";
      await checkLock(tx, op.owner, op.time, action);
      await openPayment(tx, op.id, action, ["sent"]);
      await tx`UPDATE payments SET status = ${op.final ? "confirmed" : "sent"},
        confirmations = ${op.confirmations},
        error = CASE WHEN ${op.final} THEN NULL ELSE error END,
        updated_at = ${op.time} WHERE id = ${op.id.toString()}::bigint`;
      return await loadPayment(tx, op.id);
    }
    case "failPayment": {
      const action = "fail payment";
      await checkLock(tx, op.owner, op.time, action);
      const p = await openPayment(tx, op.id, action, ["pending", "sent"]);
      await tx`UPDATE payments SET status = 'failed', error = ${op.reason}, updated_at = ${op.time}
        WHERE id = ${op.id.toString()}::bigint`;
      for (const item of p.items) {
        await addBalance(tx, item.address, item.amount, op.time);
        await audit(tx, {
          address: item.address,
          amount: item.amount,
          reason: "payment_failed",
          paymentId: op.id,
          details: `payment ${op.id} failed: ${op.reason}`.slice(0, 2000),
          time: op.time,
        });
      }
      return await loadPayment(tx, op.id);
    }
    case "notePayment":
      await tx`UPDATE payments SET error = ${op.problem === "" ? null : op.problem},
        updated_at = ${op.time} WHERE id = ${op.id.toString()}::bigint`;
      return undefined;
    case "acquireLock": {
      const rows = await tx`INSERT INTO payout_lock (name, owner, expires_at)
        VALUES (${PAYER_LOCK}, ${op.owner}, ${op.now + op.ttlMs})
        ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
        WHERE payout_lock.owner = excluded.owner OR payout_lock.expires_at <= ${op.now}
        RETURNING owner`;
      return rows.length === 1;
    }
    case "releaseLock":
      await tx`DELETE FROM payout_lock WHERE name = ${PAYER_LOCK} AND owner = ${op.owner}`;
      return undefined;
  }
}

/**
 * Run one payout write inside the batch transaction, in a savepoint: a refusal (or a statement
 * error) undoes only this operation and becomes its outcome.
 *
 * @param tx The batch transaction.
 * @param op The operation.
 * @returns Its outcome.
 */
export async function runPayoutWritePostgres(tx: Tx, op: PayoutWriteOp): Promise<OpOutcome> {
  let value: unknown;
  try {
    await tx.savepoint(async (sp) => {
      value = await write(sp as unknown as Tx, op);
    });
    return { ok: true, value };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (err as { code?: unknown }).code;
    // A deadlock or serialization failure aborts the whole batch, which the driver retries.
    if (code === "40P01" || code === "40001") throw err;
    const name = e.name === "RangeError" || e.name === "TypeError" ? e.name : "Error";
    return refused(name, e.message);
  }
}

/**
 * Run one payout read.
 *
 * @param sql The reader pool.
 * @param q The query.
 * @returns Its result.
 */
export async function runPayoutReadPostgres(sql: Sql, q: PayoutRead): Promise<unknown> {
  switch (q.kind) {
    case "balance": {
      const [row] = await sql`SELECT amount FROM balances WHERE address = ${q.address}`;
      return row === undefined ? 0n : toBigInt(row.amount);
    }
    case "balances": {
      const rows = await sql`SELECT * FROM balances WHERE amount >= ${q.minimum.toString()}::bigint
        ORDER BY amount DESC, address COLLATE "C" LIMIT ${q.limit}`;
      return rows.map(balanceFromRow);
    }
    case "changes": {
      const rows = await sql`SELECT * FROM balance_changes WHERE TRUE
        ${q.address === undefined ? sql`` : sql`AND address = ${q.address}`}
        ${
        q.blockHash === undefined
          ? sql``
          : sql`AND block_hash = decode(${bytesToHex(q.blockHash)}, 'hex')`
      }
        ${
        q.paymentId === undefined ? sql`` : sql`AND payment_id = ${q.paymentId.toString()}::bigint`
      }
        ORDER BY id DESC LIMIT ${q.limit}`;
      return rows.map(changeFromRow);
    }
    case "payable": {
      const rows = await sql`SELECT address, amount FROM balances
        WHERE amount > 0 AND amount >= COALESCE(threshold, ${q.minimum.toString()}::bigint)
        ORDER BY address COLLATE "C" LIMIT ${q.limit}`;
      return rows.map(paymentItemFromRow);
    }
    case "payment":
      return await loadPayment(sql, q.id);
    case "payments": {
      const rows = await sql`SELECT id FROM payments WHERE TRUE
        ${q.statuses === undefined ? sql`` : sql`AND status = ANY(${q.statuses}::text[])`}
        ${
        q.address === undefined
          ? sql``
          : sql`AND id IN (SELECT payment_id FROM payment_items WHERE address = ${q.address})`
      }
        ORDER BY id DESC LIMIT ${q.limit}`;
      const out: Payment[] = [];
      for (const r of rows) out.push((await loadPayment(sql, toBigInt(r.id)))!);
      return out;
    }
    case "windowShares": {
      const rows = q.cursor === undefined
        ? await sql`SELECT * FROM shares WHERE time <= ${q.until} AND NOT solo
            ORDER BY time DESC, id DESC LIMIT ${q.limit}`
        : await sql`SELECT * FROM shares WHERE time <= ${q.until}
            AND (time < ${q.cursor.time} OR (time = ${q.cursor.time}
              AND id < ${q.cursor.id.toString()}::bigint)) AND NOT solo
            ORDER BY time DESC, id DESC LIMIT ${q.limit}`;
      return rows.map(shareFromRow);
    }
  }
}
