/**
 * SIGHUP under load, with a real `vbkpool server`: miners submit throughout; a reload lowers
 * the vardiff ceiling (a connected miner is told the new difficulty at once) and the protocol
 * error limit (the next offending connection is closed after one bad line), names the key that
 * needs a restart, and a broken file is refused with the running configuration kept. No miner
 * is dropped and every acknowledged share is stored.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { spawnVbkpool, waitUntil, withTempDir } from "../_process.ts";
import { LOAD_ADDRESS, LoadMiner, totalCounts } from "./_stratum_load.ts";
import { RawClient } from "./_raw_client.ts";

function config(dir: string, extra: { listen: string; stratum: string[] }): string {
  return [
    "[log]",
    'level = "info"',
    "[stratum]",
    `listen = ${extra.listen}`,
    "requests_per_second = 100000",
    "request_burst = 100000",
    ...extra.stratum,
    "[api]",
    "enabled = false",
    "[store]",
    `url = "${dir}/pool.sqlite"`,
    'sqlite_synchronous = "normal"',
  ].join("\n");
}

/** A vardiff miner (no `d=`): subscribed and authorized, its lines kept. */
async function vardiffMiner(port: number, name: string): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.send(
    '{"id":1,"method":"mining.subscribe","params":["raw/1.0"]}\n' +
      `{"id":2,"method":"mining.authorize","params":["${LOAD_ADDRESS}.${name}","x"]}\n`,
  );
  await c.waitLine(/"id":2,"result":true/);
  return c;
}

function count(text: string, re: RegExp): number {
  return [...text.matchAll(new RegExp(re.source, "g"))].length;
}

Deno.test({
  name: "SIGHUP under load applies vardiff and limits at once, refuses a bad file, drops no one",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempDir("vbkpool-reload-", async (dir) => {
      const file = `${dir}/vbkpool.toml`;
      await Deno.writeTextFile(
        file,
        config(dir, { listen: '["127.0.0.1:0 min=1"]', stratum: ["max_protocol_errors = 3"] }),
      );
      const server = spawnVbkpool(["server"], { cwd: dir });
      const miners: LoadMiner[] = [];
      const clients: RawClient[] = [];
      try {
        const port = (await server.serverAddresses()).stratum[0]!;
        await server.waitForLog(/upstream ready/);
        for (let i = 0; i < 10; i++) miners.push(new LoadMiner({ port, worker: `w${i}` }));
        await Promise.all(miners.map((m) => m.start()));
        for (const m of miners) m.submit();
        await waitUntil(() => totalCounts(miners).accepted >= 1000, "shares before the reload");

        const v = await vardiffMiner(port, "vardiff");
        clients.push(v);
        await v.waitLine(/mining\.notify/);
        // Before: one bad line is tolerated (3 are allowed).
        const before = await RawClient.connect(port);
        clients.push(before);
        await before.send('garbage\n{"id":1,"method":"mining.subscribe","params":[]}\n');
        await before.waitLine(/"id":1,"result":\[/);

        await Deno.writeTextFile(
          file,
          config(dir, {
            listen: '["127.0.0.1:0 min=1", "127.0.0.1:0"]',
            stratum: ["max_protocol_errors = 1", "min_difficulty = 1", "max_difficulty = 4096"],
          }),
        );
        const seen = v.lines.length;
        server.signal("SIGHUP");
        await server.waitForLog(/configuration reloaded from vbkpool\.toml: 3 keys applied/);
        assert.match(server.err, /reload: stratum\.max_difficulty 281474976710656 → 4096/);
        assert.match(server.err, /reload: stratum\.max_protocol_errors 3 → 1/);
        assert.match(
          server.err,
          /only apply at a restart keep their running value: stratum\.listen/,
        );
        // The connected vardiff miner is brought under the new ceiling at once.
        await v.waitLine(/"mining\.set_difficulty","params":\["4096"\]/, seen);
        // The next offending connection goes after one bad line.
        const after = await RawClient.connect(port);
        clients.push(after);
        await after.send("garbage\n");
        await after.waitClosed();

        // A broken file is refused; the running configuration stays.
        await Deno.writeTextFile(file, "[stratum\nlisten = ");
        server.signal("SIGHUP");
        await server.waitForLog(
          /configuration reload refused, the running configuration is kept: /,
        );
        const again = await RawClient.connect(port);
        clients.push(again);
        await again.send("garbage\n");
        await again.waitClosed();
        const v2 = await vardiffMiner(port, "vardiff2");
        clients.push(v2);
        await v2.waitLine(/"mining\.set_difficulty","params":\["4096"\]/);
        assert.equal(v.closed, false);

        const mid = totalCounts(miners).accepted;
        await waitUntil(() => totalCounts(miners).accepted >= mid + 1000, "shares after reloads");
        await Promise.all(miners.map((m) => m.stop()));
        assert.equal(await server.stop("SIGINT"), 0, server.err);
        const db = new DatabaseSync(`${dir}/pool.sqlite`, { readOnly: true });
        const row = db.prepare("SELECT COUNT(*) AS n FROM shares").get() as {
          n: number;
        };
        db.close();
        const total = totalCounts(miners);
        console.log(
          `reload under load: ${total.accepted} shares acknowledged, ${row.n} stored; ` +
            `${total.reconnects} reconnects, ${total.refused} refused; longest submit latency ` +
            `${total.maxLatencyMs} ms; errors ${JSON.stringify(total.errors)}`,
        );
        assert.equal(total.reconnects, 0, "no miner was dropped");
        assert.equal(total.refused, 0);
        assert.equal(total.unanswered, 0);
        assert.equal(row.n, total.accepted);
        assert.equal(count(server.err, /SIGHUP: reloading the configuration/), 2);
      } finally {
        await Promise.all(miners.map((m) => m.stop()));
        for (const c of clients) await c.close();
        await server.kill();
      }
    });
  },
});

Deno.test({
  name: "SIGHUP restarts the in-process payouts with the new [payouts] and applies [log]",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempDir("vbkpool-reload-payouts-", async (dir) => {
      const file = `${dir}/vbkpool.toml`;
      const text = (interval: number, level: string, webhooks = "[]") =>
        [
          "[alerts]",
          `webhooks = ${webhooks}`,
          "[log]",
          `level = "${level}"`,
          "[stratum]",
          'listen = ["127.0.0.1:0"]',
          "[api]",
          "enabled = false",
          "[payouts]",
          "enabled = true",
          `interval_seconds = ${interval}`,
          "[store]",
          `url = "${dir}/pool.sqlite"`,
        ].join("\n");
      await Deno.writeTextFile(file, text(30, "info"));
      const server = spawnVbkpool(["server"], { cwd: dir });
      try {
        await server.serverAddresses();
        await server.waitForLog(/payouts in-process: .* every 30 s/);
        await Deno.writeTextFile(file, text(45, "info"));
        server.signal("SIGHUP");
        await server.waitForLog(/reload: payouts\.interval_seconds 30 → 45/);
        await server.waitForLog(/payouts in-process: .* every 45 s/);
        await server.waitForLog(/configuration reloaded from vbkpool\.toml: 1 keys applied/);
        // Webhooks: a bad entry refuses the reload; a good one is applied.
        await Deno.writeTextFile(file, text(45, "info", '["ftp://nowhere"]'));
        server.signal("SIGHUP");
        await server.waitForLog(/reload refused, .*alerts\.webhooks \(entry 1\)/);
        const hook = '["http://127.0.0.1:9/hook format=discord"]';
        await Deno.writeTextFile(file, text(45, "info", hook));
        server.signal("SIGHUP");
        await server.waitForLog(/reload: alerts\.webhooks \[\] → \["http:\/\/127\.0\.0\.1:9\/hook/);
        // A higher log level: the diff is still written (before it applies), the summary not.
        await Deno.writeTextFile(file, text(45, "warning", hook));
        server.signal("SIGHUP");
        await server.waitForLog(/reload: log\.level info → warning/);
        // A refused reload (an error line) proves the previous one has finished.
        await Deno.writeTextFile(file, "[log\n");
        server.signal("SIGHUP");
        await server.waitForLog(/configuration reload refused/);
        const since = server.err.slice(server.err.indexOf("reload: log.level info → warning"));
        assert.ok(!since.includes("configuration reloaded from"), since);
        assert.ok(!since.includes("SIGHUP: reloading"), since);
        assert.equal(await server.stop("SIGINT"), 0, server.err);
      } finally {
        await server.kill();
      }
    });
  },
});
