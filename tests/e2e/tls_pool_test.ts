/**
 * End to end over TLS with real processes: `vbkpool server` on the devnet with a TLS Stratum
 * port (a certificate generated here), `vbkpool mine` over stratum+ssl:// trusting it with
 * #ca=FILE gets accepted shares; a miner pinning the wrong fingerprint is refused; `http://`
 * is a usage error; SIGHUP reloads the certificate while the first miner stays connected and
 * mining, and a new miner pinning the new certificate's fingerprint gets accepted shares.
 */
import assert from "node:assert/strict";
import { ADDRESS } from "../miner/_stack.ts";
import { spawnVbkpool, type VbkpoolProcess } from "../_process.ts";
import { makeCertificate } from "../net/_tls_fixture.ts";

const ENV = { VBKPOOL_API_ENABLED: "false" };

/** The accepted count of a miner's last status line (`A 3 R 0 S 0`). */
function accepted(miner: VbkpoolProcess): number {
  const all = [...miner.err.matchAll(/\bA (\d+) R (\d+)/g)];
  return all.length === 0 ? 0 : Number(all.at(-1)![1]);
}

function mine(pool: string, worker: string, dir: string): VbkpoolProcess {
  return spawnVbkpool([
    "mine",
    "--pool",
    pool,
    "--user",
    `${ADDRESS}.${worker}`,
    "--threads",
    "1",
    "--json",
    "--status-interval",
    "1",
  ], { cwd: dir, env: ENV });
}

Deno.test("vbkpool mine over stratum+ssl://: accepted shares, pinning, SIGHUP reload keeps the miner", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-tls-" });
  const one = await makeCertificate(dir, "one");
  const two = await makeCertificate(dir, "two");
  await Deno.copyFile(one.certFile, `${dir}/live.crt`);
  await Deno.copyFile(one.keyFile, `${dir}/live.key`);
  await Deno.writeTextFile(
    `${dir}/vbkpool.toml`,
    [
      "[stratum]",
      `listen = ["127.0.0.1:0 diff=200000 vardiff=off tls cert=${dir}/live.crt key=${dir}/live.key"]`,
      "[devnet]",
      "min_difficulty = 4000000",
      "mempool_interval = 0",
      "[store]",
      `url = ${JSON.stringify(`${dir}/pool.sqlite`)}`,
      "",
    ].join("\n"),
  );
  const server = spawnVbkpool(["server"], { cwd: dir, env: ENV });
  const miners: VbkpoolProcess[] = [];
  try {
    const port = (await server.serverAddresses()).stratum[0]!;
    assert.match(server.err, new RegExp(`TLS, certificate .*sha256 ${one.sha256}`));
    // A scheme the miner does not speak is a usage error, not a plain-text connection.
    const http = mine(`http://127.0.0.1:${port}`, "http", dir);
    assert.equal((await http.exited).code, 2);
    assert.match(http.err, /http:\/\/ is not spoken here/);
    // Trusting the self-signed certificate through #ca=FILE: accepted shares.
    const first = mine(`stratum+ssl://127.0.0.1:${port}#ca=${one.certFile}`, "tls1", dir);
    miners.push(first);
    await first.until(() => accepted(first) >= 2 || undefined, "two accepted shares", 120_000);
    // Pinning another certificate's fingerprint: refused, retried, never mining.
    const wrong = mine(`stratum+ssl://127.0.0.1:${port}#sha256=${two.sha256}`, "pin", dir);
    miners.push(wrong);
    await wrong.until(
      () =>
        /fingerprint mismatch: the pool presented sha256 [0-9a-f]{64}, pinned/.test(wrong.err) ||
        undefined,
      "the pin refusal",
    );
    assert.equal(await wrong.stop(), 0);
    assert.equal(JSON.parse(wrong.out.trim().split("\n").at(-1)!).accepted, 0);
    // The new certificate in place of the old one, then SIGHUP.
    await Deno.copyFile(two.certFile, `${dir}/live.crt`);
    await Deno.copyFile(two.keyFile, `${dir}/live.key`);
    const before = accepted(first);
    server.signal("SIGHUP");
    await server.waitForLog(
      new RegExp(`TLS certificate of 127\\.0\\.0\\.1:${port} reloaded: .*sha256 ${two.sha256}`),
    );
    // The first miner keeps its session and goes on mining.
    await first.until(
      () => accepted(first) >= before + 2 || undefined,
      "shares after the reload",
      120_000,
    );
    // New connections get the new certificate: pinned to it, a second miner mines.
    const second = mine(`stratum+ssl://127.0.0.1:${port}#sha256=${two.sha256}`, "tls2", dir);
    miners.push(second);
    await second.until(
      () => accepted(second) >= 1 || undefined,
      "a share with the new certificate",
      120_000,
    );
    // And a client that trusts only the old certificate is refused.
    await assert.rejects(async () => {
      const stale = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [one.cert] });
      try {
        await stale.handshake();
      } finally {
        stale.close();
      }
    });
    // A bad pair (old key, new certificate) on SIGHUP: refused with a log line, the new one kept.
    await Deno.copyFile(one.keyFile, `${dir}/live.key`);
    server.signal("SIGHUP");
    await server.waitForLog(
      /TLS certificate of .* not reloaded, the old one stays: .*is not the key of/,
    );
    const sessions = [first, second];
    for (const miner of sessions) assert.equal(await miner.stop(), 0, miner.err);
    // The first miner never left its pool: one session from start to end.
    assert.equal(first.err.match(/Mining on stratum\+ssl/g)?.length, 1, first.err);
    assert.doesNotMatch(first.err, /Left pool/);
    for (const miner of sessions) {
      const summary = JSON.parse(miner.out.trim().split("\n").at(-1)!);
      assert.ok(summary.accepted >= 1, miner.out);
      assert.equal(summary.rejected, 0, miner.out);
    }
    assert.equal(await server.stop(), 0, server.err);
  } finally {
    for (const m of miners) await m.kill();
    await server.kill();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
