/**
 * End to end with every part a real process: `vbkpool server` (with its embedded devnet, a
 * real vBlake chain over UCP, persisted to a chain file) and `vbkpool mine` on two threads.
 * The miner's shares are accepted and the devnet chain grows by blocks found through the pool.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { waitFor } from "../miner/_fake_pool.ts";
import { ADDRESS } from "../miner/_stack.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A child process whose output is collected as it comes. */
function spawn(args: string[], cwd: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
    // No HTTP API port (its default may be taken by other tests); ignored where unknown.
    env: { NO_COLOR: "1", VBKPOOL_API_ENABLED: "false" },
  }).spawn();
  const output = { out: "", err: "" };
  const done = Promise.all([
    child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (c) => void (output.out += c) }),
    ),
    child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (c) => void (output.err += c) }),
    ),
  ]);
  async function stop(): Promise<number> {
    try {
      child.kill("SIGINT");
    } catch {
      // already exited
    }
    const status = await child.status;
    await done;
    return status.code;
  }
  return { child, output, stop };
}

function poolBlocks(chainFile: string): number {
  let text = "";
  try {
    text = Deno.readTextFileSync(chainFile);
  } catch {
    return 0;
  }
  return text.split("\n").filter((line) => line.includes('"pool"')).length;
}

Deno.test("vbkpool server + vbkpool mine (2 threads): accepted shares, devnet blocks", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-e2e-" });
  const port = freePort();
  const chainFile = `${dir}/chain.jsonl`;
  await Deno.writeTextFile(
    `${dir}/vbkpool.toml`,
    [
      "[stratum]",
      `listen = ["127.0.0.1:${port} diff=1000000 vardiff=off"]`,
      "[devnet]",
      "min_difficulty = 4000000",
      "mempool_interval = 0",
      `chain_file = ${JSON.stringify(chainFile)}`,
      "[store]",
      `url = ${JSON.stringify(`${dir}/pool.sqlite`)}`,
      "",
    ].join("\n"),
  );
  const server = spawn(["server"], dir);
  let miner: ReturnType<typeof spawn> | undefined = undefined;
  try {
    await waitFor(
      () => /Stratum|listen/i.test(server.output.err) && server.output.err.includes(`${port}`),
      60_000,
      "the server to listen",
    );
    miner = spawn([
      "mine",
      "--pool",
      `stratum+tcp://127.0.0.1:${port}`,
      "--user",
      `${ADDRESS}.e2e`,
      "--threads",
      "2",
      "--json",
      "--status-interval",
      "1",
    ], dir);
    await waitFor(
      () => poolBlocks(chainFile) >= 1,
      150_000,
      `a pool block in the devnet chain; miner log:\n${miner.output.err}`,
    );
  } finally {
    const minerCode = miner === undefined ? 0 : await miner.stop();
    const serverCode = await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    assert.equal(minerCode, 0, miner?.output.err);
    assert.equal(serverCode, 0, server.output.err);
  }
  const summary = JSON.parse(miner!.output.out.trim().split("\n").at(-1)!);
  assert.ok(summary.accepted >= 1, miner!.output.out);
  assert.ok(summary.blocks >= 1, miner!.output.out);
  assert.equal(summary.rejected, 0, miner!.output.out);
  assert.equal(summary.kernels.length, 2);
});
