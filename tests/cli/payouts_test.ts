import assert from "node:assert/strict";
import { COMMANDS, runCli } from "../../cli/mod.ts";
import { DEVNET_RIVAL_ADDRESS, startDevnet } from "../../devnet/mod.ts";
import { openStore } from "../../store/mod.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const POOL = "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C";
const MINER = "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX";

async function run(args: string[], env: Record<string, string> = {}) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

async function cli(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, COMMANDS, {
    output: { out: (t) => out.push(t), err: (e) => err.push(e) },
    env,
    stopSignal: AbortSignal.abort(),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

Deno.test("vbkpool payouts --help describes the command and its keys", async () => {
  const r = await cli(["payouts", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.out, /vbkpool payouts: confirm found blocks, credit miners by PPLNS/);
  assert.match(r.out, /--once/);
  assert.match(r.out, /--threshold ADDRESS=VBK/);
  assert.match(r.out, /--wallet URL/);
  assert.match(r.out, /vbkpool payouts --settle ID --sent TXID \| --not-sent \[--force\]/);
  assert.match(r.out, /--settle ID +settle payment ID/);
  assert.match(r.out, /--not-sent +with --settle/);
});

Deno.test("vbkpool payouts --settle refuses incomplete or mixed requests before touching anything", async (t) => {
  const cases: [string, string[], RegExp][] = [
    [
      "--sent alone",
      ["--sent", "AB".repeat(32)],
      /--sent, --not-sent and --force go with --settle ID/,
    ],
    ["--force alone", ["--force"], /go with --settle ID/],
    ["a bad id", ["--settle", "x1", "--not-sent"], /--settle expects a payment id/],
    ["id 0", ["--settle", "0", "--not-sent"], /--settle expects a payment id/],
    ["neither outcome", ["--settle", "1"], /exactly one of --sent TXID and --not-sent/],
    ["both outcomes", ["--settle", "1", "--sent", "AB", "--not-sent"], /exactly one of/],
    ["with --once", ["--settle", "1", "--not-sent", "--once"], /--settle goes alone/],
    ["with --status", ["--settle", "1", "--not-sent", "--status"], /--settle goes alone/],
  ];
  for (const [name, args, message] of cases) {
    await t.step(name, async () => {
      const r = await cli(["payouts", ...args], { VBKPOOL_STORE_URL: "/nonexistent/dir/x.sqlite" });
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, message);
    });
  }
});

Deno.test("vbkpool payouts reports configuration errors with the key", async (t) => {
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ["a malformed fee", ["payouts"], { VBKPOOL_PAYOUTS_FEES: "Vnope=1" }, /payouts\.fees/],
    ["fees over 100 %", ["payouts"], {
      VBKPOOL_PAYOUTS_FEES: `${MINER}=60,${POOL}=41`,
    }, /more than 100 %/],
    [
      "a zero minimum",
      ["payouts"],
      { VBKPOOL_PAYOUTS_MINIMUM_PAYMENT: "0" },
      /payouts\.minimum_payment/,
    ],
    ["nine decimals", ["payouts"], {
      VBKPOOL_PAYOUTS_MINIMUM_PAYMENT: "0.000000001",
    }, /payouts\.minimum_payment/],
    ["a bad wallet URL", ["payouts", "--wallet", "ftp://x"], {}, /wallet\.url/],
    [
      "a bad remainder address",
      ["payouts"],
      { VBKPOOL_PAYOUTS_REMAINDER_ADDRESS: "V1" },
      /remainder_address/,
    ],
    ["a zero window", ["payouts"], { VBKPOOL_PAYOUTS_PPLNS_WINDOW: "0" }, /payouts\.pplns_window/],
    ["an argument", ["payouts", "now"], {}, /payouts takes no arguments/],
  ];
  for (const [name, args, env, message] of cases) {
    await t.step(name, async () => {
      const r = await cli(args, env);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, message);
    });
  }
});

Deno.test("vbkpool payouts --threshold and --status work on the store", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-cli-payouts-" });
  const env = { VBKPOOL_STORE_URL: `${dir}/pool.sqlite` };
  try {
    const set = await run(["payouts", "--threshold", `${MINER}=2.5`], env);
    assert.equal(set.code, 0, set.err);
    assert.match(set.out, /V5Ujv72h4jEBcKnALGc4fKqs6CDAPX: paid from 2\.5 VBK/);
    const bad = await run(["payouts", "--threshold", "nobody=1"], env);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--threshold expects ADDRESS=VBK/);
    const status = await run(["payouts", "--status"], env);
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, /balances \(0\):/);
    assert.match(status.out, /payments \(newest 0\):/);
    assert.match(status.out, /payments whose outcome is unknown: none/);
    const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
    try {
      const [b] = await store.payouts.listBalances({ minimum: 0n });
      assert.equal(b?.threshold, 250_000_000n);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vbkpool payouts --once runs one pass against the devnet's API", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-cli-payouts-" });
  const devnet = await startDevnet({
    port: 0,
    rpcPort: 0,
    minDifficulty: 2000n,
    mempoolIntervalMs: 0,
  });
  const env = {
    VBKPOOL_STORE_URL: `${dir}/pool.sqlite`,
    VBKPOOL_WALLET_URL: `http://127.0.0.1:${devnet.rpcAddr!.port}/api`,
  };
  try {
    const missing = await run(["payouts", "--once"], env);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /payouts\.pool_address \(or nodecore\.address\)/);
    const ok = await run(["payouts", "--once"], { ...env, VBKPOOL_NODECORE_ADDRESS: POOL });
    assert.equal(ok.code, 0, ok.err);
    assert.match(
      ok.out,
      /0 block\(s\) credited, 0 orphaned, 0 rejected, 0 recovered from the chain, 0 waiting, 0 payment\(s\) sent/,
    );
    const crash = await run(["payouts", "--once"], {
      ...env,
      VBKPOOL_NODECORE_ADDRESS: POOL,
      VBKPOOL_TEST_CRASH_AT: "sometime",
    });
    assert.equal(crash.code, 2);
    assert.match(crash.err, /VBKPOOL_TEST_CRASH_AT must be one of after-intent/);
    // A pending block and no NodeCore: the pass fails and says why (exit 1).
    const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
    await store.recordBlock({
      instance: 0,
      height: 1,
      hash: new Uint8Array(24).fill(1),
      address: MINER,
      worker: "",
      networkDifficulty: 1n,
      time: 1,
    });
    await store.close();
    const down = await run(["payouts", "--once", "--wallet", "http://127.0.0.1:1/api"], {
      ...env,
      VBKPOOL_PAYOUTS_POOL_ADDRESS: POOL,
    });
    assert.equal(down.code, 1);
    assert.match(down.out, /pass failed: Cannot call getstateinfo at http:\/\/127\.0\.0\.1:1\/api/);
  } finally {
    await devnet.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vbkpool payouts recovers blocks paying the pool from the chain as configured", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-cli-payouts-scan-" });
  const devnet = await startDevnet({
    port: 0,
    rpcPort: 0,
    minDifficulty: 2000n,
    mempoolIntervalMs: 0,
  });
  // The rival's address stands for the pool's here: its blocks are "the pool's" (tip 3).
  for (let i = 0; i < 3; i++) await devnet.rival.mineBlock();
  const env = {
    VBKPOOL_STORE_URL: `${dir}/pool.sqlite`,
    VBKPOOL_WALLET_URL: `http://127.0.0.1:${devnet.rpcAddr!.port}/api`,
    VBKPOOL_PAYOUTS_POOL_ADDRESS: DEVNET_RIVAL_ADDRESS,
    VBKPOOL_PAYOUTS_CONFIRMATIONS: "5",
  };
  const recovered = (out: string) => /(\d+) recovered from the chain/.exec(out)?.[1];
  try {
    const off = await run(["payouts", "--once"], {
      ...env,
      VBKPOOL_PAYOUTS_RECOVER_FROM_CHAIN: "false",
    });
    assert.equal(off.code, 0, off.err);
    assert.equal(recovered(off.out), "0");
    const one = await run(["payouts", "--once"], { ...env, VBKPOOL_PAYOUTS_SCAN_BLOCKS: "1" });
    assert.equal(recovered(one.out), "1", one.out + one.err); // height 2 (the tip is left)
    const all = await run(["payouts", "--once"], env);
    assert.equal(recovered(all.out), "1", all.out + all.err); // height 1
    const status = await run(["payouts", "--status"], env);
    assert.match(
      status.out,
      / 2 [0-9a-f]{48} pending 2 conf \(from the chain\) \[recovered_from_chain\]/,
    );
    assert.match(
      status.out,
      / 1 [0-9a-f]{48} pending 3 conf \(from the chain\) \[recovered_from_chain\]/,
    );
  } finally {
    await devnet.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
