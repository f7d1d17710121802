import assert from "node:assert/strict";
import { openServerStore } from "../../cli/_server_store.ts";
import { loadConfig } from "../../cli/config.ts";
import { SCHEMA } from "../../cli/config_schema.ts";
import { sampleBlock, sampleShare } from "../store/_samples.ts";
import { waitUntil, withTempDir } from "../_process.ts";

const MINUTE = 60_000;
const DAY = 86_400_000;

function storeConfig(env: Record<string, string>) {
  return loadConfig(SCHEMA, { env, defaultPath: "/nonexistent", sections: ["store"] })
    .values.store!;
}

Deno.test("openServerStore() prunes old shares on its interval, keeping a pending block's window", async () => {
  await withTempDir("vbkpool-server-store-", async (dir) => {
    const server = await openServerStore(
      storeConfig({
        VBKPOOL_STORE_URL: `${dir}/pool.sqlite`,
        VBKPOOL_STORE_KEEP_SHARES_DAYS: "1",
        VBKPOOL_STORE_PPLNS_WINDOW: "2",
        VBKPOOL_STORE_PRUNE_INTERVAL_MINUTES: "0.001", // 60 ms
      }),
      { instance: 3, rangeSize: 1000n },
    );
    try {
      const now = Date.now();
      const blockAt = now - 2 * DAY;
      // Each share scores 1 (difficulty = network difficulty); the pending block's window of 2
      // holds the two newest shares before it, however old they are.
      const share = (time: number) =>
        sampleShare({ instance: 3, time, difficulty: 1000n, networkDifficulty: 1000n });
      const outside = share(blockAt - 30 * MINUTE);
      const inWindow = [share(blockAt - 20 * MINUTE), share(blockAt - 10 * MINUTE)];
      const fresh = share(now - MINUTE);
      // The block first: whichever shares a pruning run sees, it never removes one of the
      // window's, so the count only goes down to 3.
      await server.store.recordBlock(sampleBlock({ instance: 3, time: blockAt }));
      await Promise.all(
        [outside, ...inWindow, fresh].map((s) => server.store.recordShare(s)),
      );
      await waitUntil(async () => await server.store.countShares() === 3, "a pruning run");
      const left = await server.store.listShares();
      assert.deepEqual(
        left.map((s) => s.time),
        [fresh.time, inWindow[1]!.time, inWindow[0]!.time],
      );
    } finally {
      await server.close();
    }
  });
});
