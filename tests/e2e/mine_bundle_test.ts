/**
 * The mining threads spawn from the single-file bundle (`deno bundle`), run from another
 * directory: `bench` and `mine` both start their workers from the bundle itself.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { FakePool, waitFor } from "../miner/_fake_pool.ts";
import { ADDRESS } from "../miner/_stack.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

async function bundle(dir: string): Promise<string> {
  const out = `${dir}/vbkpool.js`;
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "-o", out, "main.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
  return out;
}

Deno.test("the bundle runs bench and mine with worker threads from another directory", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-bundle-" });
  const elsewhere = await Deno.makeTempDir({ prefix: "vbkpool-cwd-" });
  try {
    const script = await bundle(dir);

    await t.step("bench --threads 2", async () => {
      const result = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          script,
          "bench",
          "--seconds",
          "0.3",
          "--threads",
          "2",
          "--kernel",
          "wasm",
        ],
        cwd: elsewhere,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(result.stdout);
      assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
      // The unit follows the speed (kH/s on a slow or loaded machine).
      assert.match(out, /^wasm\s+1\s+\d+(\.\d+)? [kMG]?H\/s/m);
      assert.match(out, /^wasm\s+2\s+\d+(\.\d+)? [kMG]?H\/s/m);
    });

    await t.step("mine --threads 2", async () => {
      const pool = new FakePool({ difficulty: "262144" });
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          script,
          "mine",
          "--pool",
          pool.url,
          "--user",
          `${ADDRESS}.bundle`,
          "--threads",
          "2",
          "--duration",
          "120",
          "--json",
          "--quiet",
        ],
        cwd: elsewhere,
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      try {
        await waitFor(
          () => new Set(pool.submits.map((s) => s.params[2])).size === 2,
          100_000,
          "shares from both threads",
        );
      } finally {
        child.kill("SIGINT");
        const result = await child.output();
        await pool.close();
        const out = new TextDecoder().decode(result.stdout);
        assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
        const summary = JSON.parse(out.trim().split("\n").at(-1)!);
        assert.ok(summary.accepted >= 2, out);
        assert.equal(summary.kernels.length, 2);
        assert.match(summary.kernels[0], /^wasm/);
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(elsewhere, { recursive: true });
  }
});
