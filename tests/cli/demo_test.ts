import assert from "node:assert/strict";
import { spawnVbkpool, withTempDir } from "../_process.ts";

Deno.test("vbkpool demo mines blocks through the pool, confirms them and pays the miner", async () => {
  await withTempDir("vbkpool-demo-", async (dir) => {
    const demo = spawnVbkpool(["demo", "--log-level", "info"], {
      cwd: dir,
      env: {
        VBKPOOL_STRATUM_LISTEN: "127.0.0.1:0",
        VBKPOOL_API_LISTEN: "127.0.0.1:0",
        // A low floor and one-second blocks so confirmations come quickly on a slow machine.
        VBKPOOL_DEVNET_MIN_DIFFICULTY: "200000",
        VBKPOOL_DEVNET_BLOCK_TIME: "1",
        VBKPOOL_PAYOUTS_INTERVAL_SECONDS: "1",
      },
    });
    try {
      await demo.waitForLog(/demo: pool on "127\.0\.0\.1":\d+/);
      await demo.waitForLog(/block "[0-9a-f]{48}" accepted by/);
      await demo.waitForLog(/Block \d+ "[0-9A-F]{48}" confirmed/);
      await demo.waitForLog(/Payment "\d+": "[\d.]+" VBK to 1 miner\(s\) in transaction/);
      assert.equal(await demo.stop("SIGINT"), 0, demo.err);
      assert.match(demo.out, /Shares: [1-9]\d* accepted, 0 rejected/);
      assert.match(demo.err, /vbkpool·server: stopped/);
    } finally {
      await demo.kill();
    }
  });
});
