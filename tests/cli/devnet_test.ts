import assert from "node:assert/strict";
import { COMMANDS, runCli } from "../../cli/mod.ts";
import { startDevnet } from "../../devnet/mod.ts";
import { ADDRESS, UcpTestClient } from "../devnet/_ucp_client.ts";
import { spawnVbkpool, withTempDir } from "../_process.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

async function run(args: string[]) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

Deno.test("vbkpool devnet --export writes a chain that hash --verify accepts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const chainFile = `${dir}/chain.jsonl`;
    const devnet = await startDevnet({
      port: 0,
      minDifficulty: 20_000n,
      mempoolIntervalMs: 0,
      chainFile,
    });
    const client = await UcpTestClient.connect(devnet.addr.port);
    try {
      let job = await client.login();
      for (let i = 0; i < 25; i++) {
        assert.equal((await client.mine(job)).command, "MINING_SUBMIT_SUCCESS");
        job = await client.next("MINING_JOB");
      }
      await devnet.rival.reorg(1);
    } finally {
      await client.close();
      await devnet.stop();
    }
    const exported = await run([
      "devnet",
      "--export",
      `${dir}/main.txt`,
      "--chain-file",
      chainFile,
    ]);
    assert.equal(exported.code, 0, exported.err);
    assert.match(
      exported.out,
      /exported 27 header\(s\) \(height 0\.\.26, 1 orphan\(s\) left out\)/,
    );
    const verified = await run(["hash", "--verify", `${dir}/main.txt`]);
    assert.equal(verified.code, 0, verified.out);
    assert.match(verified.out, /headers +27/);
    assert.match(verified.out, /result +OK/);

    const all = await run([
      "devnet",
      "--export",
      `${dir}/all.txt`,
      "--export-orphans",
      "--chain-file",
      chainFile,
    ]);
    assert.equal(all.code, 0, all.err);
    const verifiedAll = await run(["hash", "--verify", `${dir}/all.txt`]);
    assert.match(verifiedAll.out, /headers +28/);
    assert.equal(verifiedAll.code, 0, verifiedAll.out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vbkpool devnet reports usage errors clearly", async (t) => {
  const cli = async (args: string[]) => {
    const err: string[] = [];
    const code = await runCli(args, COMMANDS, {
      output: { out: () => {}, err: (e) => err.push(e) },
      env: {},
      stopSignal: AbortSignal.abort(),
    });
    return { code, err: err.join("\n") };
  };
  await t.step("--export without a chain file", async () => {
    const r = await cli(["devnet", "--export", "/tmp/x.txt"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /--export needs a chain file/);
  });
  await t.step("bad values name the key", async () => {
    const r = await cli(["devnet", "--rival-share", "2"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /devnet\.rival_share/);
    const l = await cli(["devnet", "--listen", "nowhere"]);
    assert.match(l.err, /devnet\.listen .* host:port/);
  });
  await t.step("stray arguments", async () => {
    const r = await cli(["devnet", "extra"]);
    assert.equal(r.code, 2);
  });
});

Deno.test("vbkpool devnet serves UCP until SIGINT and keeps its chain", async () => {
  await withTempDir("vbkpool-devnet-cli-", async (dir) => {
    const chainFile = `${dir}/chain.jsonl`;
    const devnet = spawnVbkpool([
      "devnet",
      "--listen",
      "127.0.0.1:0",
      "--api-listen",
      "127.0.0.1:0",
      "--min-difficulty",
      "20000",
      "--mempool-interval",
      "0",
      "--chain-file",
      chainFile,
    ], { cwd: dir });
    let client: UcpTestClient | undefined;
    try {
      const { ucp, api } = await devnet.devnetAddresses(true);
      assert.match(api!, /^http:\/\/127\.0\.0\.1:\d+\/api$/);
      client = await UcpTestClient.connect(ucp);
      const job = await client.login(ADDRESS);
      assert.equal((await client.mine(job)).command, "MINING_SUBMIT_SUCCESS");
      await client.close();
      client = undefined;
      assert.equal(await devnet.stop("SIGINT"), 0, devnet.err);
      assert.match(devnet.err, /Block 1 [0-9a-f]{48} found by VFFDWUMLJwLRuNzH4NX8Rm32E59n6d/);
      assert.match(devnet.err, /Devnet stopped at height 1/);
      const lines = (await Deno.readTextFile(chainFile)).trim().split("\n");
      assert.equal(lines.length, 3);
    } finally {
      await client?.close();
      await devnet.kill();
    }
  });
});

Deno.test("vbkpool devnet names the address and the key of a port in use", async (t) => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const busy = `127.0.0.1:${(taken.addr as Deno.NetAddr).port}`;
  try {
    for (
      const [key, args] of [
        ["devnet.listen", ["--listen", busy, "--api-listen", "127.0.0.1:0"]],
        ["devnet.api_listen", ["--listen", "127.0.0.1:0", "--api-listen", busy]],
      ] as const
    ) {
      await t.step(key, async () => {
        const r = await run(["devnet", "--min-difficulty", "20000", ...args]);
        assert.equal(r.code, 1, r.err);
        assert.match(
          r.err,
          new RegExp(`devnet failed: Cannot listen on ${busy} \\(${key}\\): address in use\\n`),
        );
      });
    }
  } finally {
    taken.close();
  }
});
