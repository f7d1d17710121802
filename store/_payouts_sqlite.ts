/**
 * The payout operations on SQLite: writes run on the writer's connection inside its batch
 * transaction (each in a savepoint), reads on the read connection.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
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
import { cachedStatement } from "./_sqlite_rows.ts";
import type { BalanceChange, Payment, PaymentStatus } from "./payout_types.ts";

type Row = Record<string, unknown>;

const st = cachedStatement;

function loadPayment(db: DatabaseSync, id: bigint): Payment | undefined {
  const row = st(db, "SELECT * FROM payments WHERE id = ?").get(id) as Row | undefined;
  if (row === undefined) return undefined;
  const sql = "SELECT address, amount FROM payment_items WHERE payment_id = ? ORDER BY address";
  const items = st(db, sql).all(id).map(paymentItemFromRow);
  return paymentFromRow(row, items);
}

/** Throws unless `owner` holds the payer lock at `time`. */
function checkLock(db: DatabaseSync, owner: string, time: number, action: string): void {
  const row = st(db, "SELECT owner, expires_at FROM payout_lock WHERE name = ?").get(PAYER_LOCK) as
    | Row
    | undefined;
  if (row === undefined || row.owner !== owner || toNumber(row.expires_at) <= time) {
    throw new Error(`Cannot ${action}: the payout lock is not held by ${owner}`);
  }
}

function addBalance(db: DatabaseSync, address: string, amount: bigint, time: number): void {
  st(
    db,
    `INSERT INTO balances (address, amount, threshold, updated_at) VALUES (?, ?, NULL, ?)
     ON CONFLICT (address) DO UPDATE SET amount = amount + excluded.amount,
       updated_at = excluded.updated_at`,
  ).run(address, amount, time);
}

function audit(
  db: DatabaseSync,
  c: Omit<BalanceChange, "id" | "blockHash" | "blockHeight" | "paymentId"> & {
    blockHash?: Uint8Array;
    blockHeight?: number;
    paymentId?: bigint;
  },
): void {
  st(
    db,
    `INSERT INTO balance_changes (address, amount, reason, block_hash, block_height, payment_id,
      details, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    c.address,
    c.amount,
    c.reason,
    c.blockHash ?? null,
    c.blockHeight ?? null,
    c.paymentId ?? null,
    c.details,
    c.time,
  );
}

function setStatus(
  db: DatabaseSync,
  id: bigint,
  fields: {
    status: PaymentStatus;
    txIds?: string[];
    confirmations?: number;
    error?: string | null;
  },
  time: number,
): void {
  const p = loadPayment(db, id)!;
  st(
    db,
    `UPDATE payments SET status = ?, tx_ids = ?, confirmations = ?, error = ?, updated_at = ?
     WHERE id = ?`,
  ).run(
    fields.status,
    (fields.txIds ?? p.txIds).join(","),
    fields.confirmations ?? p.confirmations,
    fields.error === undefined ? p.error ?? null : fields.error,
    time,
    id,
  );
}

function openPayment(
  db: DatabaseSync,
  id: bigint,
  action: string,
  allowed: PaymentStatus[],
): Payment {
  const p = loadPayment(db, id);
  if (p === undefined) throw new RangeError(`Cannot ${action}: no payment ${id}`);
  if (!allowed.includes(p.status)) {
    throw new RangeError(`Cannot ${action}: payment ${id} is ${p.status}`);
  }
  return p;
}

function write(db: DatabaseSync, op: PayoutWriteOp): unknown {
  switch (op.kind) {
    case "creditBlock": {
      const block = st(db, "SELECT height, status FROM blocks WHERE hash = ?").get(op.hash) as
        | Row
        | undefined;
      if (block === undefined || block.status !== "pending") return false;
      const height = toNumber(block.height);
      st(
        db,
        `UPDATE blocks SET status = 'confirmed', reward = ?, confirmations = ?, updated_at = ?,
         credit_basis = ? WHERE hash = ?`,
      ).run(op.credit.reward, op.credit.confirmations, op.time, op.credit.basis ?? null, op.hash);
      const credits = [...op.credit.credits].sort((a, b) => a.address < b.address ? -1 : 1);
      for (const c of credits) {
        addBalance(db, c.address, c.amount, op.time);
        audit(db, {
          address: c.address,
          amount: c.amount,
          reason: c.reason,
          blockHash: op.hash,
          blockHeight: height,
          details: c.details ?? "",
          time: op.time,
        });
      }
      return true;
    }
    case "setThreshold":
      st(
        db,
        `INSERT INTO balances (address, amount, threshold, updated_at) VALUES (?, 0, ?, ?)
         ON CONFLICT (address) DO UPDATE SET threshold = excluded.threshold,
           updated_at = excluded.updated_at`,
      ).run(op.address, op.threshold, op.time);
      return undefined;
    case "createPayment": {
      const action = "create payment";
      checkLock(db, op.owner, op.time, action);
      for (const item of op.items) {
        const row = st(db, "SELECT amount FROM balances WHERE address = ?").get(item.address) as
          | Row
          | undefined;
        const have = row === undefined ? 0n : toBigInt(row.amount);
        if (have < item.amount) {
          throw new RangeError(
            `Cannot ${action}: the balance of ${item.address} is ${have}, below ${item.amount}`,
          );
        }
      }
      const total = op.items.reduce((s, i) => s + i.amount, 0n);
      const row = st(
        db,
        `INSERT INTO payments (status, total, tx_ids, start_height, confirmations, error, owner,
          created_at, updated_at, signature_index)
          VALUES ('pending', ?, '', ?, 0, NULL, ?, ?, ?, ?) RETURNING id`,
      ).get(total, op.startHeight, op.owner, op.time, op.time, op.signatureIndex) as Row;
      const id = toBigInt(row.id);
      for (const item of op.items) {
        st(db, "UPDATE balances SET amount = amount - ?, updated_at = ? WHERE address = ?")
          .run(item.amount, op.time, item.address);
        st(db, "INSERT INTO payment_items (payment_id, address, amount) VALUES (?, ?, ?)")
          .run(id, item.address, item.amount);
        audit(db, {
          address: item.address,
          amount: -item.amount,
          reason: "payment",
          paymentId: id,
          details: `payment ${id}`,
          time: op.time,
        });
      }
      return loadPayment(db, id);
    }
    case "markSent": {
      const action = "mark payment sent";
      checkLock(db, op.owner, op.time, action);
      openPayment(db, op.id, action, ["pending", "sent"]);
      setStatus(db, op.id, { status: "sent", txIds: op.txIds, error: null }, op.time);
      return loadPayment(db, op.id);
    }
    case "confirmPayment": {
      const action = "confirm payment";
      checkLock(db, op.owner, op.time, action);
      openPayment(db, op.id, action, ["sent"]);
      setStatus(db, op.id, {
        status: op.final ? "confirmed" : "sent",
        confirmations: op.confirmations,
        ...(op.final ? { error: null } : {}),
      }, op.time);
      return loadPayment(db, op.id);
    }
    case "failPayment": {
      const action = "fail payment";
      checkLock(db, op.owner, op.time, action);
      const p = openPayment(db, op.id, action, ["pending", "sent"]);
      setStatus(db, op.id, { status: "failed", error: op.reason }, op.time);
      for (const item of p.items) {
        addBalance(db, item.address, item.amount, op.time);
        audit(db, {
          address: item.address,
          amount: item.amount,
          reason: "payment_failed",
          paymentId: op.id,
          details: `payment ${op.id} failed: ${op.reason}`.slice(0, 2000),
          time: op.time,
        });
      }
      return loadPayment(db, op.id);
    }
    case "notePayment":
      st(db, "UPDATE payments SET error = ?, updated_at = ? WHERE id = ?")
        .run(op.problem === "" ? null : op.problem, op.time, op.id);
      return undefined;
    case "acquireLock": {
      const row = st(
        db,
        `INSERT INTO payout_lock (name, owner, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE payout_lock.owner = excluded.owner OR payout_lock.expires_at <= ?
         RETURNING owner`,
      ).get(PAYER_LOCK, op.owner, op.now + op.ttlMs, op.now);
      return row !== undefined;
    }
    case "releaseLock":
      st(db, "DELETE FROM payout_lock WHERE name = ? AND owner = ?").run(PAYER_LOCK, op.owner);
      return undefined;
  }
}

/**
 * Run one payout write inside the current transaction, in a savepoint: a refusal (or any error)
 * undoes only this operation and becomes its outcome.
 *
 * @param db The writer's connection, inside a transaction.
 * @param op The operation.
 * @returns Its outcome.
 */
export function runPayoutWriteSqlite(db: DatabaseSync, op: PayoutWriteOp): OpOutcome {
  db.exec("SAVEPOINT payout_op");
  try {
    const value = write(db, op);
    db.exec("RELEASE payout_op");
    return { ok: true, value };
  } catch (err) {
    db.exec("ROLLBACK TO payout_op");
    db.exec("RELEASE payout_op");
    const e = err instanceof Error ? err : new Error(String(err));
    const name = e.name === "RangeError" || e.name === "TypeError" ? e.name : "Error";
    return refused(name, e.message);
  }
}

/**
 * Run one payout read on the read connection.
 *
 * @param db The read connection.
 * @param q The query.
 * @returns Its result.
 */
export function runPayoutReadSqlite(db: DatabaseSync, q: PayoutRead): unknown {
  switch (q.kind) {
    case "balance": {
      const row = st(db, "SELECT amount FROM balances WHERE address = ?").get(q.address) as
        | Row
        | undefined;
      return row === undefined ? 0n : toBigInt(row.amount);
    }
    case "balances":
      return st(
        db,
        "SELECT * FROM balances WHERE amount >= ? ORDER BY amount DESC, address LIMIT ?",
      )
        .all(q.minimum, q.limit).map(balanceFromRow);
    case "changes": {
      const where: string[] = [];
      const args: (string | bigint | Uint8Array)[] = [];
      if (q.address !== undefined) {
        where.push("address = ?");
        args.push(q.address);
      }
      if (q.blockHash !== undefined) {
        where.push("block_hash = ?");
        args.push(q.blockHash);
      }
      if (q.paymentId !== undefined) {
        where.push("payment_id = ?");
        args.push(q.paymentId);
      }
      const sql = `SELECT * FROM balance_changes ${
        where.length ? "WHERE " + where.join(" AND ") : ""
      } ORDER BY id DESC LIMIT ?`;
      return st(db, sql).all(...args, q.limit).map(changeFromRow);
    }
    case "payable":
      return st(
        db,
        `SELECT address, amount FROM balances WHERE amount > 0 AND amount >= COALESCE(threshold, ?)
         ORDER BY address LIMIT ?`,
      ).all(q.minimum, q.limit).map(paymentItemFromRow);
    case "payment":
      return loadPayment(db, q.id);
    case "payments": {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (q.statuses !== undefined) {
        where.push(`status IN (${q.statuses.map(() => "?").join(", ") || "NULL"})`);
        args.push(...q.statuses);
      }
      if (q.address !== undefined) {
        where.push("id IN (SELECT payment_id FROM payment_items WHERE address = ?)");
        args.push(q.address);
      }
      const sql = `SELECT id FROM payments ${
        where.length ? "WHERE " + where.join(" AND ") : ""
      } ORDER BY id DESC LIMIT ?`;
      return (st(db, sql).all(...args, q.limit) as Row[]).map((r) =>
        loadPayment(db, toBigInt(r.id))!
      );
    }
    case "windowShares": {
      const rows = q.cursor === undefined
        ? st(
          db,
          "SELECT * FROM shares WHERE time <= ? AND solo = 0 ORDER BY time DESC, id DESC LIMIT ?",
        ).all(q.until, q.limit)
        : st(
          db,
          `SELECT * FROM shares WHERE time <= ? AND (time < ? OR (time = ? AND id < ?))
           AND solo = 0 ORDER BY time DESC, id DESC LIMIT ?`,
        ).all(q.until, q.cursor.time, q.cursor.time, q.cursor.id, q.limit);
      return rows.map(shareFromRow);
    }
  }
}
