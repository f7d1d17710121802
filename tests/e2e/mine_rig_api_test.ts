/**
 * The miner's rig API and SIGUSR1 report against a live miner: `vbkpool server` with its
 * embedded devnet, and `vbkpool mine --api-listen` with a bearer token from a file. The API
 * answers rig monitors with the miner's rates, shares and pool; bad requests get clean errors.
 */
import assert from "node:assert/strict";
import { ADDRESS } from "../miner/_stack.ts";
import { spawnVbkpool, type VbkpoolProcess, waitUntil, withTempDir } from "../_process.ts";

/** No pool HTTP API port (its default may be taken). */
const ENV = { VBKPOOL_API_ENABLED: "false" };
const TOKEN = "rig-token-0123456789";
/** Whether this Deno starts its inspector on SIGUSR1 (2.9.2 and later do). */
const OPENS_INSPECTOR = (() => {
  const [major, minor, patch] = Deno.version.deno.split(".").map(Number) as number[];
  return major! > 2 || (major === 2 && (minor! > 9 || (minor === 9 && patch! >= 2)));
})();

/** One raw HTTP exchange; the status line and the body of the answer. */
async function raw(port: number, request: string): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const bytes = new TextEncoder().encode(request);
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
    let text = "";
    const buf = new Uint8Array(65536);
    const decoder = new TextDecoder();
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      text += decoder.decode(buf.subarray(0, n), { stream: true });
    }
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
    return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
  } finally {
    try {
      conn.close();
    } catch {
      // Closed by the server.
    }
  }
}

function get(port: number, path: string, headers: Record<string, string> = {}) {
  return fetch(`http://127.0.0.1:${port}${path}`, { headers });
}

Deno.test("vbkpool mine --api-listen serves a live miner's rig JSON; bad requests get clean errors", async () => {
  await withTempDir("vbkpool-rig-", async (dir) => {
    await Deno.writeTextFile(`${dir}/token`, `${TOKEN}\n`);
    await Deno.writeTextFile(
      `${dir}/vbkpool.toml`,
      [
        "[stratum]",
        `listen = ["127.0.0.1:0 diff=1000000 vardiff=off"]`,
        "[devnet]",
        "min_difficulty = 4000000",
        "mempool_interval = 0",
        "[store]",
        `url = ${JSON.stringify(`${dir}/pool.sqlite`)}`,
        "",
      ].join("\n"),
    );
    const server = spawnVbkpool(["server"], { cwd: dir, env: ENV });
    let miner: VbkpoolProcess | undefined;
    try {
      const { stratum: [stratum] } = await server.serverAddresses();
      const pool = `stratum+tcp://127.0.0.1:${stratum}`;
      miner = spawnVbkpool([
        "mine",
        "--pool",
        pool,
        "--user",
        `${ADDRESS}.rig`,
        "--threads",
        "1",
        "--api-listen",
        "127.0.0.1:0",
        "--api-token-file",
        `${dir}/token`,
        "--status-interval",
        "1",
      ], { cwd: dir, env: ENV });
      const m = await miner.waitForLog(
        /Rig API on http:\/\/127\.0\.0\.1:(\d+)\/api\/summary \(bearer token required\)/,
      );
      const port = Number(m[1]);
      const auth = { authorization: `Bearer ${TOKEN}` };

      // A live document: rates over the three windows, an accepted share, the pool.
      // deno-lint-ignore no-explicit-any
      let doc: Record<string, any> = {};
      await waitUntil(
        async () => {
          const r = await get(port, "/api/summary", auth);
          doc = await r.json();
          return r.status === 200 && doc.shares.accepted >= 1 && doc.hashrate["10s"] > 0;
        },
        () => `an accepted share in ${JSON.stringify(doc)}`,
        120_000,
      );
      assert.match(doc.version, /^\d+\.\d+\.\d+/);
      assert.equal(doc.pool.url, pool);
      assert.equal(doc.pool.index, 0);
      assert.match(doc.pool.difficulty, /^\d+$/);
      assert.deepEqual(doc.pools, [pool]);
      assert.match(doc.kernel, /^wasm(-simd)?$/);
      assert.equal(doc.threads.length, 1);
      assert.ok(doc.threads[0].hashrate["10s"] > 0 && doc.hashrate["15m"] > 0);
      assert.equal(doc.gpu, null);
      assert.equal(doc.paused, false);
      assert.ok(doc.uptimeSeconds >= 0 && doc.hashes > 0);
      assert.ok(doc.shares.latencyMs.samples >= 1 && doc.shares.latencyMs.max > 0);
      const threads = await get(port, "/api/threads", auth);
      assert.equal(threads.status, 200);
      assert.equal((await threads.json()).threads[0].index, 0);
      const head = await fetch(`http://127.0.0.1:${port}/api/summary`, {
        method: "HEAD",
        headers: auth,
      });
      assert.equal(head.status, 200);
      await head.body?.cancel();

      // Bad requests: clean errors, the API and the miner go on.
      const missing = await get(port, "/api/summary");
      assert.equal(missing.status, 401);
      assert.match(missing.headers.get("www-authenticate") ?? "", /^Bearer/);
      assert.deepEqual(await missing.json(), { error: "missing bearer token" });
      const wrong = await get(port, "/api/summary", { authorization: `Bearer ${TOKEN}x` });
      assert.equal(wrong.status, 401);
      assert.deepEqual(await wrong.json(), { error: "wrong bearer token" });
      const basic = await get(port, "/api/summary", { authorization: "Basic dXNlcjpwYXNz" });
      assert.equal(basic.status, 401);
      await basic.body?.cancel();
      const unknown = await get(port, "/api/nothing", auth);
      assert.equal(unknown.status, 404);
      assert.match((await unknown.json()).error, /no such path: \/api\/nothing/);
      const post = await raw(
        port,
        `POST /api/summary HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 2\r\n\r\n{}`,
      );
      assert.equal(post.status, 405);
      const huge = await raw(
        port,
        `GET /api/summary HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
      );
      assert.equal(huge.status, 431);
      const garbage = await raw(port, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n");
      assert.equal(garbage.status, 400);
      const after = await get(port, "/api/summary", auth);
      assert.equal(after.status, 200);
      await after.body?.cancel();

      // SIGUSR1 prints the rate and share reports (stdout is a pipe: no hotkeys).
      miner.signal("SIGUSR1");
      await miner.until(
        () =>
          /speed 10s\/60s\/15m [\d.]+\/[\d.]+\/[\d.]+ [kMG]?H\/s on 1 thread/.test(miner!.out) ||
          undefined,
        "the rate report",
        30_000,
      );
      await miner.until(
        () => /^shares \d+ accepted/m.test(miner!.out) || undefined,
        "the share report",
        30_000,
      );
      if (OPENS_INSPECTOR) {
        // Deno ≥ 2.9.2 opens its inspector on SIGUSR1; the miner closes it again at once.
        await miner.waitForLog(/SIGUSR1 made Deno open its inspector \(ws:.*\); closed it/, 30_000);
      }
      assert.equal(await miner.stop("SIGINT"), 0, miner.err);
      assert.doesNotMatch(miner.err, /Keys: h hash rates/, "no hotkeys without a terminal");
      assert.match(miner.out, /Shares: \d+ accepted/);
      // The API is closed with the miner.
      await assert.rejects(() => Deno.connect({ hostname: "127.0.0.1", port }));
    } finally {
      await miner?.kill();
      await server.kill();
    }
  });
});
