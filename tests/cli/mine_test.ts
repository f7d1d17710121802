import assert from "node:assert/strict";
import { COMMANDS, runCli } from "../../cli/mod.ts";
import { FakePool, waitFor } from "../miner/_fake_pool.ts";
import { ADDRESS } from "../miner/_stack.ts";

async function cli(args: string[], env: Record<string, string> = {}, signal?: AbortSignal) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, COMMANDS, {
    output: { out: (t) => out.push(t), err: (t) => err.push(t) },
    env,
    stopSignal: signal ?? new AbortController().signal,
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

Deno.test("vbkpool mine rejects incomplete or malformed settings", async (t) => {
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ["no pool", ["mine", "--user", ADDRESS], {}, /no pool given/],
    ["bad pool", ["mine", "--pool", "nowhere", "--user", ADDRESS], {}, /expected HOST:PORT/],
    ["http pool", ["mine", "--pool", "http://a:1", "--user", "u"], {}, /http:\/\/ is not spoken/],
    ["bad pin", ["mine", "--pool", "stratum+ssl://a:1#sha256=ab", "--user", "u"], {}, /64 hex/],
    [
      "no ca",
      ["mine", "--pool", "stratum+ssl://a:1#ca=/nonexistent.pem", "--user", "u"],
      {},
      /ca=/,
    ],
    ["no user", ["mine", "--pool", "127.0.0.1:1"], {}, /no worker name/],
    ["bad threads", ["mine", "--pool", "a:1", "--user", "u", "--threads", "-1"], {}, /threads/],
    ["bad kernel", ["mine", "--pool", "a:1", "--user", "u", "--kernel", "gpu"], {}, /kernel/],
    ["bad split", ["mine", "--pool", "a:1", "--user", "u", "--split", "x"], {}, /split/],
    ["bad env", ["mine"], { VBKPOOL_MINE_SUBMIT_TIMEOUT: "soon" }, /submit_timeout/],
    ["positional", ["mine", "extra", "--pool", "a:1", "--user", "u"], {}, /no arguments/],
    ["bad duration", ["mine", "--pool", "a:1", "--user", "u", "--duration", "0"], {}, /duration/],
  ];
  for (const [name, args, env, want] of cases) {
    await t.step(name, async () => {
      const r = await cli(args, env);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, want);
    });
  }
});

Deno.test("vbkpool mine takes pools from the environment and prints a summary", async () => {
  const pool = new FakePool({ difficulty: "262144" });
  const stop = new AbortController();
  const log = console.log;
  const printed: string[] = [];
  console.log = (...args: unknown[]) => printed.push(args.join(" "));
  try {
    const running = cli(
      ["mine", "--threads", "1", "--quiet", "--json"],
      {
        VBKPOOL_MINE_POOLS: `${pool.url}, 127.0.0.1:1`,
        VBKPOOL_MINE_USER: `${ADDRESS}.cli`,
      },
      stop.signal,
    );
    await waitFor(() => pool.accepted >= 1, 60_000, "an accepted share");
    stop.abort();
    const r = await running;
    assert.equal(r.code, 0, r.err);
  } finally {
    console.log = log;
    await pool.close();
  }
  const text = printed.join("\n");
  assert.match(text, /Shares: \d+ accepted/);
  const summary = JSON.parse(printed.at(-1)!);
  assert.ok(summary.accepted >= 1);
  assert.equal(pool.submits[0]!.params[0], `${ADDRESS}.cli`);
});

const hasScript = (() => {
  try {
    return new Deno.Command("script", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "vbkpool mine redraws one status line in place on a terminal",
  ignore: !hasScript, // util-linux `script` provides the pseudo-terminal
  async fn() {
    const pool = new FakePool({ difficulty: "262144" });
    const main = new URL("../../main.ts", import.meta.url).pathname;
    const command = [
      Deno.execPath(),
      "run",
      "-A",
      main,
      "mine",
      "--pool",
      pool.url,
      "--user",
      ADDRESS,
      "--threads",
      "1",
      "--duration",
      "5",
    ].join(" ");
    try {
      const result = await new Deno.Command("script", {
        args: ["-qefc", command, "/dev/null"],
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1", TERM: "xterm" },
      }).output();
      const out = new TextDecoder().decode(result.stdout);
      assert.equal(result.code, 0, out);
      const redraws = out.split("\r\x1b[2K").length - 1;
      assert.ok(redraws >= 2, `${redraws} redraws in ${JSON.stringify(out)}`);
      assert.match(
        out,
        // deno-lint-ignore no-control-regex
        /\r\x1b\[2K\d+(\.\d+)? [kMG]?H\/s \[\d+\.\d+\] \| A \d+ R 0 S \d+ \| diff 262144 \| 127\.0\.0\.1:\d+ \| up \ds/,
      );
      assert.match(out, /Mined for \ds on 1 thread\(s\) \(wasm(-simd)?\)/);
    } finally {
      await pool.close();
    }
  },
});
