/**
 * The audit (`payouts/audit.ts`, `vbkpool audit`) from the attacker's side, on SQLite and
 * PostgreSQL: a history made by the real store, unlocker and payer against the real devnet
 * passes; each tampering made directly in the database (a copy of it) fails with exactly that
 * violation and exit status 1; and seeded random histories (shares, blocks, reorgs, unlocker
 * and payer passes, payer crashes) pass the audit after every step. Also: how `since` and `limit`
 * bound the work.
 */
import assert from "node:assert/strict";
import { bytesToHex } from "../../hash/hex.ts";
import {
  type AuditOptions,
  type AuditReport,
  auditStore,
  computeCredits,
} from "../../payouts/mod.ts";
import { openStore } from "../../store/mod.ts";
import {
  cliAudit,
  copyStore,
  failures,
  payer,
  randomHistory,
  type Scripted,
  scriptedHistory,
  unlocker,
} from "./_audit_history.ts";
import { A, B, C, type PayoutStack, STACK_BACKENDS, withStack } from "./_stack.ts";
import { BACKENDS } from "../store/_backends.ts";
import { sampleBlock, sampleShare } from "../store/_samples.ts";

// The audit reports hashes in lower case, as the logs, the CLI and the API show them.
const hex = (hash: Uint8Array) => bytesToHex(hash);

/** One tampering: SQL statements, the failures expected, and what the violation must name. */
interface Tamper {
  name: string;
  sql: string[];
  expected: Record<string, string[]>;
  names: { check: string; field: string; value: string | number };
}

/** The rows the tamperings touch, read before the store is closed. */
async function tamperings(s: PayoutStack, h: Scripted): Promise<Tamper[]> {
  const store = s.store;
  const lastRows = await store.payouts.listBalanceChanges({ blockHash: h.last });
  const rowA = lastRows.find((c) => c.address === A && c.reason === "share")!;
  const rowB = lastRows.find((c) => c.address === B && c.reason === "share")!;
  const refund = (await store.payouts.listBalanceChanges({ paymentId: h.failed.id }))
    .find((c) => c.reason === "payment_failed" && c.address === B)!;
  const orphan = (await store.getBlock(h.orphan))!;
  const first = (await store.getBlock(h.first))!;
  const [newest] = await store.listShares({ limit: 1 });
  const last = (await store.getBlock(h.last))!;
  assert.ok(newest!.time > last.time, "the newest share is in no window");
  const change = `INSERT INTO balance_changes (address, amount, reason, block_hash, block_height,
    payment_id, details, time)`;
  return [
    {
      name: "a credit row written twice",
      sql: [
        `${change} SELECT address, amount, reason, block_hash, block_height, payment_id, details,
          time FROM balance_changes WHERE id = ${rowA.id}`,
        `UPDATE balances SET amount = amount + ${rowA.amount} WHERE address = '${A}'`,
      ],
      expected: { block_credits: ["credit_twice", "credits_sum"] },
      names: { check: "block_credits", field: "block", value: hex(h.last) },
    },
    {
      name: "a credit on an orphaned block",
      sql: [
        `${change} SELECT '${C}', 12345, 'share', hash, height, NULL, 'tampered', 0
          FROM blocks WHERE id = ${orphan.id}`,
        `UPDATE balances SET amount = amount + 12345 WHERE address = '${C}'`,
      ],
      expected: { block_credits: ["credit_not_confirmed"] },
      names: { check: "block_credits", field: "block", value: hex(h.orphan) },
    },
    {
      name: "a balance off by one atomic unit",
      sql: [`UPDATE balances SET amount = amount + 1 WHERE address = '${C}'`],
      expected: { balances: ["balance_mismatch", "balance_total"] },
      names: { check: "balances", field: "address", value: C },
    },
    {
      name: "a failed payment's debit without its refund",
      sql: [
        `DELETE FROM balance_changes WHERE id = ${refund.id}`,
        `UPDATE balances SET amount = amount - ${refund.amount} WHERE address = '${B}'`,
      ],
      expected: { payments: ["payment_refund"] },
      names: { check: "payments", field: "payment", value: h.failed.id.toString() },
    },
    {
      name: "a transaction id in two payments",
      sql: [`UPDATE payments SET tx_ids = '${h.paid[0].txIds.join(",")}'
        WHERE id = ${h.paid[1].id}`],
      expected: { payments: ["payment_txid_twice"], chain: ["payment_tx_outputs"] },
      names: { check: "payments", field: "txId", value: h.paid[0].txIds[0]!.toLowerCase() },
    },
    {
      name: "a share hash stored twice",
      sql: [
        `INSERT INTO shares (instance, address, worker, job_id, difficulty, network_difficulty,
          height, time, hash, solo) SELECT instance, address, worker, job_id, difficulty,
          network_difficulty, height, time, hash, solo FROM shares WHERE id = ${newest!.id}`,
      ],
      expected: { share_keys: ["share_duplicate"] },
      names: { check: "share_keys", field: "share", value: hex(newest!.hash) },
    },
    {
      name: "one atomic unit moved from one miner's credit to another's",
      sql: [
        `UPDATE balance_changes SET amount = amount - 1 WHERE id = ${rowA.id}`,
        `UPDATE balance_changes SET amount = amount + 1 WHERE id = ${rowB.id}`,
        `UPDATE balances SET amount = amount - 1 WHERE address = '${A}'`,
        `UPDATE balances SET amount = amount + 1 WHERE address = '${B}'`,
      ],
      expected: { pplns_windows: ["window_credits"] },
      names: { check: "pplns_windows", field: "block", value: hex(h.last) },
    },
    {
      name: "a confirmed block at a height where the chain has another block",
      sql: [
        `UPDATE balance_changes SET block_height = block_height + 1
          WHERE block_hash = (SELECT hash FROM blocks WHERE id = ${first.id})`,
        `UPDATE blocks SET height = height + 1 WHERE id = ${first.id}`,
      ],
      expected: { chain: ["block_not_main_chain"] },
      names: { check: "chain", field: "height", value: first.height + 1 },
    },
  ];
}

for (const backend of STACK_BACKENDS) {
  Deno.test({
    name: `vbkpool audit (${backend.name}) passes a real history and names each tampering`,
    ignore: backend.ignore,
    fn: (t) =>
      withStack(
        async (s) => {
          const h = await scriptedHistory(s);
          const nodecore = ["--nodecore", s.url];
          await t.step("the history made by the unlocker and the payer passes", async () => {
            const r = await cliAudit(s.storeLocation, nodecore);
            assert.deepEqual(failures(r.report), {}, r.out);
            assert.equal(r.code, 0);
            assert.equal(r.report.snapshot, true);
            const examined = Object.fromEntries(r.report.checks.map((c) => [c.name, c.examined]));
            assert.deepEqual(
              [examined.block_credits!.confirmed, examined.block_credits!.orphaned],
              [5, 1],
            );
            assert.equal(examined.pplns_windows!.recomputed, 5);
            assert.equal(examined.pplns_windows!.solo, 1);
            assert.deepEqual([examined.payments!.payments, examined.payments!.failed], [3, 1]);
            assert.deepEqual([examined.chain!.blocks, examined.chain!.payments], [6, 2]);
            assert.ok(examined.share_keys!.shares! >= 14);
          });
          const cases = await tamperings(s, h);
          await s.store.close();
          for (const c of cases) {
            await t.step(c.name, async () => {
              const copy = await copyStore(s.storeLocation, s.dir);
              try {
                await copy.exec(c.sql);
                const r = await cliAudit(copy.location, nodecore);
                assert.deepEqual(failures(r.report), c.expected, r.out);
                assert.equal(r.code, 1);
                const check = r.report.checks.find((x) => x.name === c.names.check)!;
                assert.ok(
                  check.violations.some((v) =>
                    (v as unknown as Record<string, unknown>)[c.names.field] === c.names.value
                  ),
                  `${c.names.field} ${c.names.value} named: ${r.out}`,
                );
              } finally {
                await copy.drop();
              }
            });
          }
          await t.step("a reorganisation deeper than the confirmations", async () => {
            const last = (await cliAudit(s.storeLocation)).report;
            assert.equal(last.ok, true);
            const height = s.devnet.chain.height;
            await s.devnet.rival.reorg(4); // the last pool block is 3 deep
            const r = await cliAudit(s.storeLocation, nodecore);
            assert.deepEqual(failures(r.report), { chain: ["block_not_main_chain"] }, r.out);
            assert.equal(r.code, 1);
            const v = r.report.checks.find((x) => x.name === "chain")!.violations[0]!;
            assert.equal(v.block, hex(h.last));
            assert.ok(v.height! > height - 4);
          });
        },
        {},
        backend.name,
      ),
  });
}

/** The audit of the store as it is now (read-only, one snapshot); throws with the report. */
async function auditNow(s: PayoutStack, withChain: boolean, context: () => string) {
  const store = await openStore(s.storeLocation, { readOnly: true, thread: false });
  try {
    const report = await auditStore(store, withChain ? { nodecore: s.rpc } : {});
    if (!report.ok) {
      throw new Error(
        `audit failed after ${context()}:\n${JSON.stringify(failures(report))}\n` +
          report.checks.flatMap((c) => c.violations.map((v) => `${v.code}: ${v.message}`))
            .join("\n"),
      );
    }
    return report;
  } finally {
    await store.close();
  }
}

/** Seeds whose histories hold, between them, SOLO blocks, orphans, failed, sent and confirmed
 * payments, and payer crashes at each step (checked below). */
const SEEDS = [4, 7, 11];

for (const backend of STACK_BACKENDS) {
  Deno.test({
    name: `vbkpool audit (${backend.name}) passes after every step of random histories`,
    ignore: backend.ignore,
    async fn(t) {
      const seen = new Map<string, number>();
      const tally = (key: string, n = 1) => seen.set(key, (seen.get(key) ?? 0) + n);
      for (const seed of SEEDS) {
        await t.step(`seed ${seed}`, () =>
          withStack(
            async (s) => {
              const steps = await randomHistory(s, seed, {
                steps: 40,
                after: async (step, i) => {
                  await auditNow(s, false, () => `step ${i} (${step}) of seed ${seed}`);
                },
              });
              // Settle: everything confirmed and paid, then the chain agrees too.
              for (let i = 0; i < 3; i++) await s.devnet.rival.mineBlock();
              await unlocker(s).run();
              await payer(s).run();
              await s.devnet.rival.mineBlock();
              await s.devnet.rival.mineBlock();
              await payer(s).run();
              const report = await auditNow(s, true, () => `seed ${seed}: ${steps.join("; ")}`);
              const examined = Object.fromEntries(report.checks.map((c) => [c.name, c.examined]));
              tally("confirmed", examined.block_credits!.confirmed);
              tally("orphaned", examined.block_credits!.orphaned);
              tally("solo", examined.pplns_windows!.solo);
              tally("failed payments", examined.payments!.failed);
              tally("payments on the chain", examined.chain!.payments);
              for (const step of steps.filter((x) => /crash at \S+$/.test(x))) tally(step);
            },
            {},
            backend.name,
          ));
      }
      for (
        const key of [
          "confirmed",
          "orphaned",
          "solo",
          "failed payments",
          "payments on the chain",
          "payer crash at after-intent",
          "payer crash at after-send",
          "payer crash at after-record",
        ]
      ) {
        assert.ok((seen.get(key) ?? 0) > 0, `the histories hold no ${key}: ${[...seen]}`);
      }
    },
  });
}

for (const backend of BACKENDS.filter((b) => b.name !== "sqlite-inline")) {
  Deno.test({
    name: `auditStore() (${backend.name}) bounds its work by since and limit, and says so`,
    ignore: backend.ignore,
    async fn() {
      const f = await backend.fresh();
      const store = await f.open();
      const T0 = 1_700_000_000_000;
      try {
        for (let i = 0; i < 8; i++) {
          await store.recordShare(sampleShare({ address: i % 2 ? A : B, time: T0 + i * 5 }));
        }
        const hashes: Uint8Array[] = [];
        for (const [i, reward] of [1000n, 2000n, 3000n, 0n].entries()) {
          const { block } = await store.recordBlock(
            sampleBlock({ height: 10 + i, time: T0 + 10 * (i + 1) }),
          );
          const { split, basis } = await computeCredits(store, block, {
            reward,
            window: "0.002",
            fees: [{ address: C, percent: "1.5" }],
          });
          assert.ok(
            await store.payouts.creditBlock(block.hash, {
              reward,
              confirmations: 3,
              credits: split.credits,
              basis: JSON.stringify(basis),
            }),
          );
          hashes.push(block.hash);
        }
        await store.close();
        const audit = async (options: AuditOptions) => {
          const snapshot = await f.open({ readOnly: true });
          try {
            return await auditStore(snapshot, options);
          } finally {
            await snapshot.close();
          }
        };
        const check = (r: AuditReport, name: string) => r.checks.find((c) => c.name === name)!;

        const all = await audit({});
        assert.deepEqual(failures(all), {}, "a zero reward needs no credit rows");
        assert.equal(check(all, "pplns_windows").examined.recomputed, 4);
        const limited = await audit({ limit: 1 });
        assert.equal(check(limited, "pplns_windows").examined.recomputed, 1);
        assert.deepEqual(check(limited, "pplns_windows").notes, [
          "3 older block(s) not recomputed (limit 1)",
        ]);
        const recent = await audit({ since: T0 + 25 });
        assert.equal(recent.since, T0 + 25);
        assert.equal(check(recent, "block_credits").examined.detailed, 2);
        assert.equal(check(recent, "pplns_windows").examined.recomputed, 2);
        assert.equal(check(recent, "share_keys").examined.shares, 3);

        // An old block's credits are still summed (and balances checked) in full.
        await f.query(`UPDATE balance_changes SET amount = amount + 1 WHERE block_height = 10
          AND reason = 'share' AND address = '${A}'`);
        await f.query(`UPDATE balances SET amount = amount + 1 WHERE address = '${A}'`);
        const tampered = await audit({ since: T0 + 25 });
        assert.deepEqual(failures(tampered), { block_credits: ["credits_sum"] });
        assert.equal(check(tampered, "block_credits").violations[0]!.block, hex(hashes[0]!));
        assert.deepEqual(failures(await audit({})), {
          block_credits: ["credits_sum"],
        }, "not recomputed: its rows already failed");
        await assert.rejects(audit({ limit: -1 }), /limit must be an integer >= 0/);
      } finally {
        await store.close();
        await f.cleanup();
      }
    },
  });
}
