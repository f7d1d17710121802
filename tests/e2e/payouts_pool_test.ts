/**
 * End to end: the devnet with its rival miner on, the pool (store-backed, as `vbkpool server`),
 * two `vbkpool mine` processes with different addresses, and `vbkpool payouts --once` against
 * the devnet's NodeCore HTTP API. Blocks the pool found are confirmed or orphaned exactly as the
 * devnet's main chain says; each confirmed block credits the miners in proportion to their work
 * (an independent computation from the stored shares); every miner is paid exactly what it was
 * credited, on the devnet ledger; and `vbkpool audit --nodecore` finds the books in order. On
 * SQLite and PostgreSQL.
 */
import assert from "node:assert/strict";
import { waitUntil } from "../_process.ts";
import { DEVNET_BLOCK_REWARD } from "../../devnet/mod.ts";
import { bytesToHex } from "../../hash/hex.ts";
import { STACK_BACKENDS } from "../payouts/_stack.ts";
import { POOL, runAudit, runPayouts, startMiners, startPayoutPool } from "./_payouts_stack.ts";

const MINER_A = "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX";
const MINER_B = "V7TMHDQC8myywuGbQs5ADTrk14fajz";
const R = DEVNET_BLOCK_REWARD;
const N = 3;

for (const backend of STACK_BACKENDS) {
  Deno.test({
    name: `payouts end to end (${backend.name}): pool blocks confirm or orphan, miners are ` +
      "credited by work and paid exactly, and the audit agrees",
    ignore: backend.ignore,
    fn: () => endToEnd(backend.name),
  });
}

async function endToEnd(backend: "sqlite" | "postgres"): Promise<void> {
  const stack = await startPayoutPool(
    {
      minDifficulty: 4_000_000n,
      rivalShare: 0.3,
      rivalReorgShare: 0.6,
    },
    300_000n,
    { backend },
  );
  const { devnet } = stack;
  const miners = startMiners([
    [stack.url, `${MINER_A}.rig1`],
    [stack.url, `${MINER_B}.rig1`],
  ]);
  const stopMiners = miners.stop;
  try {
    const hex = (h: Uint8Array) => bytesToHex(h, { upper: true });
    const store = stack.persisted.store;
    // Mine until the pool has four blocks on the main chain (the rival may orphan some).
    await waitUntil(
      async () => {
        const blocks = await store.listBlocks({ limit: 100 });
        return blocks.filter((b) => devnet.chain.isMainChain(b.hash)).length >= 4;
      },
      `4 main-chain pool blocks; miner log:\n${miners.miners[0]!.log()}`,
      150_000,
    );
    await stopMiners();
    // The block recorder's last writes: every block of the pool's that the devnet accepted (on
    // its main chain or orphaned since) is in the store.
    const poolBlocks = () =>
      [...devnet.chain.mainChain(), ...devnet.chain.orphans()].filter((b) => b.source === "pool");
    await waitUntil(
      async () => {
        await stack.persisted.store.flush();
        const stored = await store.listBlocks({ limit: 100 });
        const have = new Set(stored.map((b) => hex(b.hash)));
        // ... and NodeCore's answer to every candidate (a refusal is noted, an acceptance is
        // pending), so that no candidate is still waiting for it when the rival reorganises.
        const answered = stored.every((b) => b.status !== "submitted" || b.note !== "");
        return answered && poolBlocks().every((b) => have.has(hex(b.hash)));
      },
      "every accepted pool block in the store, every candidate answered",
      60_000,
    );
    // The rival orphans the pool's newest main-chain block (and anything above it).
    const stored = await store.listBlocks({ limit: 100 });
    const newest = Math.max(
      ...stored.filter((b) => devnet.chain.isMainChain(b.hash)).map((b) => b.height),
    );
    await devnet.rival.reorg(devnet.chain.height - newest + 1);
    // Bury everything N deep.
    for (let i = 0; i < N; i++) await devnet.rival.mineBlock();
    assert.ok(devnet.chain.height < 100, "no retarget: one network difficulty for every share");

    const env = {
      VBKPOOL_STORE_URL: stack.storeUrl,
      VBKPOOL_WALLET_URL: stack.walletUrl,
      VBKPOOL_PAYOUTS_POOL_ADDRESS: POOL,
      VBKPOOL_PAYOUTS_CONFIRMATIONS: String(N),
      VBKPOOL_PAYOUTS_PPLNS_WINDOW: "1000",
      VBKPOOL_PAYOUTS_FEES: `${POOL}=1`, // kept in the pool wallet: it pays the transaction fees
      VBKPOOL_PAYOUTS_MINIMUM_PAYMENT: "0.1",
      VBKPOOL_PAYOUTS_PAYMENT_CONFIRMATIONS: "2",
      VBKPOOL_LOG_LEVEL: "warning",
    };
    const first = await runPayouts(env);
    assert.equal(first.code, 0, first.err + first.out);
    assert.match(first.out, /payment\(s\) sent/);

    // Every block's status is what the devnet's main chain says.
    const blocks = await store.listBlocks({ limit: 100 });
    const confirmed = blocks.filter((b) => b.status === "confirmed");
    const orphaned = blocks.filter((b) => b.status === "orphaned");
    // A candidate NodeCore refused (the rival's block at its height came first) is rejected
    // once its height is settled; it was never on the devnet's chain.
    const rejected = blocks.filter((b) => b.status === "rejected");
    const accepted = new Set(poolBlocks().map((b) => hex(b.hash)));
    for (const b of rejected) assert.ok(!accepted.has(hex(b.hash)), `rejected ${hex(b.hash)}`);
    assert.equal(
      confirmed.length + orphaned.length + rejected.length,
      blocks.length,
      `nothing left pending: ${blocks.map((b) => `${b.height} ${b.status} ${b.note}`).join(", ")}`,
    );
    // Four pool blocks were on the main chain when the miners stopped and the test orphans the
    // newest; the rival's automatic mode keeps running and may orphan one more meanwhile (CI saw
    // 2/2 once). The statuses are checked against the devnet's chain block by block below.
    assert.ok(
      confirmed.length >= 2 && orphaned.length >= 1,
      `${confirmed.length}/${orphaned.length}`,
    );
    for (const b of blocks) {
      assert.equal(b.status === "confirmed", devnet.chain.isMainChain(b.hash), hex(b.hash));
    }
    for (const b of orphaned) {
      assert.deepEqual(await store.payouts.listBalanceChanges({ blockHash: b.hash }), []);
    }

    // Each confirmed block: fee 1 %, then the miners by their share difficulty up to the block
    // (one network difficulty, a window too large to fill), the remainder to the fee address
    // (the pool address here: its balance is never sent, it pays the transaction fees).
    const shares = await store.listShares({ limit: 1_000_000 });
    assert.equal(new Set(shares.map((s) => s.networkDifficulty)).size, 1);
    const owed = new Map<string, bigint>();
    let kept = 0n;
    for (const b of confirmed) {
      assert.equal(b.reward, R);
      const work = new Map<string, bigint>();
      for (const s of shares) {
        if (s.time <= b.time) work.set(s.address, (work.get(s.address) ?? 0n) + s.difficulty);
      }
      const total = [...work.values()].reduce((x, y) => x + y, 0n);
      const fee = R / 100n;
      const net = R - fee;
      const expected = new Map<string, bigint>();
      let paid = fee;
      for (const [address, w] of work) {
        expected.set(address, net * w / total);
        paid += net * w / total;
      }
      const changes = await store.payouts.listBalanceChanges({ blockHash: b.hash });
      const got = (reason: string, address: string) =>
        changes.filter((c) => c.reason === reason && c.address === address)
          .reduce((x, c) => x + c.amount, 0n);
      for (const [address, amount] of expected) {
        assert.equal(got("share", address), amount, `block ${b.height} ${address}`);
        owed.set(address, (owed.get(address) ?? 0n) + amount);
      }
      assert.equal(got("fee", POOL), fee);
      assert.equal(got("rounding", POOL), R - paid);
      kept += R - paid + fee;
      assert.equal(changes.reduce((x, c) => x + c.amount, 0n), R, "credits add up to the reward");
    }
    assert.ok((owed.get(MINER_A) ?? 0n) > 0n && (owed.get(MINER_B) ?? 0n) > 0n);
    assert.deepEqual([...owed.keys()].sort(), [MINER_A, MINER_B].sort());

    // Paid: confirm the payment, then every address holds exactly what it was credited.
    await devnet.rival.mineBlock();
    await devnet.rival.mineBlock();
    const second = await runPayouts(env);
    assert.equal(second.code, 0, second.err + second.out);
    assert.match(
      second.out,
      /0 payment\(s\) sent, [1-9]\d* confirmed/,
      first.out + first.err + second.err,
    );
    const payments = await store.payouts.listPayments();
    assert.ok(payments.length >= 1 && payments.every((p) => p.status === "confirmed"));
    for (const [address, amount] of owed) {
      assert.equal(devnet.ledger.balance(address).confirmed, amount, `${address} on the ledger`);
      assert.equal(await store.payouts.balance(address), 0n);
      const sent = payments.flatMap((p) => p.items).filter((i) => i.address === address);
      assert.equal(sent.length, 1, `${address} paid once`);
    }
    assert.equal(await store.payouts.balance(POOL), kept, "the pool's fee is never sent");
    assert.ok(payments.every((p) => p.items.every((i) => i.address !== POOL)));
    const third = await runPayouts(env);
    assert.match(third.out, /0 payment\(s\) sent, 0 confirmed/);
    // The books, checked by the audit against the store and the devnet's chain and ledger.
    const audit = await runAudit(env, ["--nodecore", stack.walletUrl]);
    assert.equal(audit.code, 0, audit.out + audit.err);
    assert.match(audit.out, /^PASS {2}chain {9}/m);
    assert.match(audit.out, /^Result: PASS \(6 checks\)$/m);
  } finally {
    await stopMiners();
    await stack.stop();
  }
}
