/**
 * The dashboard in a real headless Chromium (Debian's `chromium`, driven over the DevTools
 * Protocol), served by the real `vbkpool server` on a devnet with a scripted miner: the page
 * loads without console errors, the hash-rate chart and the blocks table show the live pool's
 * data, live updates arrive, and the miner lookup shows the miner's workers and chart. A
 * screenshot is saved to test-artifacts/dashboard.png. Skipped (with a message) only when no
 * Chromium is installed.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ADDRESSES } from "../server/_pool.ts";
import { ScriptedMiner, startApiStack } from "./_api_stack.ts";
import { Chromium, findChromium } from "./_chromium.ts";

const A = ADDRESSES[0]!;
const chromium = findChromium();
const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));

if (chromium === undefined) {
  console.warn(
    "SKIPPED dashboard browser test: no Chromium found (/usr/bin/chromium; install Debian's " +
      "chromium, e.g. apt-get install -y chromium, or set VBKPOOL_TEST_CHROMIUM)",
  );
}

Deno.test({
  name: "the dashboard in headless Chromium shows the live pool and looks up a miner",
  ignore: chromium === undefined,
  async fn() {
    const stack = await startApiStack();
    const miner = await ScriptedMiner.connect(stack.stratumPort, `${A}.rig1`);
    let browser: Chromium | undefined;
    try {
      assert.deepEqual(await miner.shares(5), [true, true, true, true, true]);
      assert.equal(await miner.block(), true);
      browser = await Chromium.launch(chromium!);
      await browser.navigate(`${stack.api}/`);
      // First data: pool cards, chart and blocks table.
      await browser.waitFor("Number(document.body.dataset.updates) >= 1", "the first pool update");
      const cards = await browser.evaluate<Record<string, string>>(`({
        hashrate: document.getElementById("pool-hashrate").textContent,
        miners: document.getElementById("miners").textContent,
        difficulty: document.getElementById("network-difficulty").textContent,
        height: document.getElementById("network-height").textContent,
        upstream: document.getElementById("upstream").className,
        upstreamText: document.getElementById("upstream").textContent,
      })`);
      assert.match(cards.hashrate!, /^\d+(\.\d+)? (H|kH)\/s$/);
      assert.notEqual(cards.hashrate, "0 H/s");
      assert.equal(cards.miners, "1");
      assert.match(cards.difficulty!, /^\d/);
      assert.equal(cards.height, `height ${stack.devnet.chain.height}`);
      assert.equal(cards.upstream, "pill good");
      // The NodeCore address is not public (the API does not give it).
      assert.match(cards.upstreamText!, /^NodeCore ready since /);
      assert.ok(!cards.upstreamText!.includes(String(stack.devnet.addr.port)));
      await browser.waitFor(
        `Number(document.getElementById("pool-chart").dataset.max) > 0 &&
          document.querySelector("#pool-chart path.line") !== null`,
        "the pool hash-rate chart",
      );
      const rows = await browser.waitFor<string[][]>(
        `(() => {
          const rows = [...document.querySelectorAll("#blocks tbody tr:not(.empty)")];
          return rows.length > 0 && rows.map((r) => [...r.cells].map((c) => c.textContent));
        })()`,
        "a row in the blocks table",
      );
      assert.equal(rows.length, 1);
      assert.equal(rows[0]![0], String(stack.devnet.chain.height));
      assert.equal(rows[0]![3], "pending");
      // Live updates over server-sent events.
      await browser.waitFor(`document.getElementById("live").textContent === "live"`, "live mode");
      const before = await browser.evaluate<number>("Number(document.body.dataset.updates)");
      assert.deepEqual(await miner.shares(3), [true, true, true]);
      await browser.waitFor(
        `Number(document.body.dataset.updates) > ${before} &&
          document.getElementById("shares-counts").textContent.startsWith("9 accepted")`,
        "a live update with the new shares",
      );
      // The miner lookup.
      await browser.evaluate(`(() => {
        document.getElementById("lookup-input").value = ${JSON.stringify(A)};
        document.getElementById("lookup-form").requestSubmit();
      })()`);
      const workers = await browser.waitFor<string[][]>(
        `(() => {
          const miner = document.getElementById("miner");
          if (miner.hidden || miner.dataset.address !== ${JSON.stringify(A)}) return false;
          const rows = [...document.querySelectorAll("#miner-workers tbody tr:not(.empty)")];
          return rows.length > 0 && rows.map((r) => [...r.cells].map((c) => c.textContent));
        })()`,
        "the miner's workers",
      );
      assert.equal(workers.length, 1);
      assert.deepEqual(workers[0]!.slice(0, 3), ["rig1", "online", "64"]);
      await browser.waitFor(
        `Number(document.getElementById("miner-chart").dataset.max) > 0`,
        "the miner's hash-rate chart",
      );
      assert.match(await browser.evaluate<string>("location.hash"), /^#miner=V/);
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await Deno.writeFile(`${ARTIFACTS}dashboard.png`, await browser.screenshot());
      // A malformed address is refused in the page, without a request.
      await browser.evaluate(`(() => {
        document.getElementById("lookup-input").value = "not-an-address";
        document.getElementById("lookup-form").requestSubmit();
      })()`);
      const error = await browser.waitFor<string>(
        `!document.getElementById("lookup-error").hidden &&
          document.getElementById("lookup-error").textContent`,
        "the lookup error",
      );
      assert.match(error, /is not a VeriBlock address/);
      assert.deepEqual(browser.errors(), [], JSON.stringify(browser.messages, null, 2));
    } finally {
      await browser?.close();
      await miner.close();
      await stack.stop();
    }
  },
});
