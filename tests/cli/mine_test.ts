import assert from "node:assert/strict";
import { COMMANDS, runCli } from "../../cli/mod.ts";
import { FakePool, waitFor } from "../miner/_fake_pool.ts";
import { ADDRESS } from "../miner/_stack.ts";
import { waitUntil, withTempDir } from "../_process.ts";
import { parse as parseToml } from "smol-toml";

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
        /\r\x1b\[2K[\d.]+\/[\d.]+\/[\d.]+ [kMG]?H\/s \| A \d+ R 0 S \d+ \| (lat [\d.]+\/[\d.]+ ms \| )?diff 262144 \| 127\.0\.0\.1:\d+ \| up \ds/,
      );
      assert.match(out, /Mined for \ds on 1 thread\(s\) \(wasm(-simd)?\)/);
    } finally {
      await pool.close();
    }
  },
});

Deno.test({
  name: "vbkpool mine hotkeys on a terminal: p pauses, s and h report, r resumes, Ctrl-C stops",
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
    ]
      .concat(["--threads", "1", "--thread-rates"]).join(" ");
    // exec: Ctrl-C signals the terminal's foreground group, and a shell left between script(1)
    // and the miner may report its own SIGINT (130) whatever the miner returns.
    const child = new Deno.Command("script", {
      args: ["-qefc", `exec ${command}`, "/dev/null"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", TERM: "xterm" },
    }).spawn();
    let out = "";
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stdout) out += decoder.decode(chunk, { stream: true });
    })();
    const stderr = new Response(child.stderr).text();
    const keys = child.stdin.getWriter();
    const press = (key: string) => keys.write(new TextEncoder().encode(key));
    const seen = (re: RegExp, what: string) =>
      waitUntil(() => re.test(out), () => `${what} in ${JSON.stringify(out.slice(-3000))}`);
    try {
      await seen(/Keys: h hash rates, s shares, p pause, r resume/, "the hotkeys line");
      await waitUntil(() => pool.accepted >= 1, "an accepted share");
      await seen(
        // deno-lint-ignore no-control-regex
        /\r\x1b\[2K[\d.]+\/[\d.]+\/[\d.]+ [kMG]?H\/s \[\d+\.\d+\] \| A [1-9]/,
        "a status line with a share",
      );
      await press("p");
      await seen(/paused \(r resumes\)/, "the pause");
      // deno-lint-ignore no-control-regex
      await seen(/\r\x1b\[2KPAUSED \| /, "the status line marked paused");
      await press("s");
      await seen(
        /shares \d+ accepted, 0 rejected, \d+ stale, \d+ without a verdict/,
        "the share report",
      );
      await seen(
        /latency \(submit → verdict\) p50 [\d.]+ ms, max [\d.]+ ms over \d+ shares/,
        "latency",
      );
      await press("h");
      await seen(
        /speed 10s\/60s\/15m [\d./]+ [kMG]?H\/s on 1 thread\(s\) \(paused\)/,
        "the rate report",
      );
      await seen(/ {2}thread 0 \(wasm(-simd)?\) {2}[\d./]+ [kMG]?H\/s/, "the thread line");
      const accepted = pool.accepted;
      await press("r");
      await seen(/resumed/, "the resume");
      await waitUntil(() => pool.accepted > accepted, "a share after resume");
      await press("\x03"); // Ctrl-C: the terminal still sends SIGINT in cbreak mode
      await seen(/Mined for \d+s on 1 thread\(s\)/, "the summary");
      const status = await child.status;
      assert.equal(status.code, 0, out + (await stderr));
    } finally {
      await keys.close().catch(() => {});
      try {
        child.kill("SIGKILL");
      } catch {
        // Exited.
      }
      await child.status;
      await reading;
      await stderr;
      await pool.close();
    }
  },
});

/** Run `vbkpool mine ... --print-config` in-process; its TOML, parsed, and the raw text. */
async function printConfig(args: string[], env: Record<string, string> = {}) {
  const log = console.log;
  const printed: string[] = [];
  console.log = (...a: unknown[]) => printed.push(a.join(" "));
  let r;
  try {
    r = await cli(["mine", ...args, "--print-config"], env);
  } finally {
    console.log = log;
  }
  assert.equal(r.code, 0, r.err);
  const text = printed.join("\n");
  return { text, toml: parseToml(text) as Record<string, Record<string, unknown>> };
}

Deno.test("vbkpool mine --config FILE: flag > environment > file > default", async () => {
  await withTempDir("vbkpool-mine-config-", async (dir) => {
    const file = `${dir}/rig.toml`;
    await Deno.writeTextFile(
      file,
      [
        "[mine]",
        'pools = ["stratum+tcp://10.0.0.1:3333", "stratum+tcp://10.0.0.2:3333"]',
        `user = "${ADDRESS}.file"`,
        "threads = 3",
        'api_listen = "4068"',
        "first_job_timeout = 5",
        "[log]",
        'level = "warning"',
        "",
      ].join("\n"),
    );
    const config = ["--config", file];
    const fileOnly = (await printConfig(config)).toml;
    assert.deepEqual(fileOnly.mine!.pools, [
      "stratum+tcp://10.0.0.1:3333",
      "stratum+tcp://10.0.0.2:3333",
    ]);
    assert.equal(fileOnly.mine!.threads, 3);
    assert.equal(fileOnly.mine!.user, `${ADDRESS}.file`);
    assert.equal(fileOnly.mine!.api_listen, "4068");
    assert.equal(fileOnly.mine!.first_job_timeout, 5);
    assert.equal(fileOnly.mine!.job_timeout, 180, "a default");
    assert.equal(fileOnly.log!.level, "warning");
    const env = { VBKPOOL_MINE_THREADS: "2", VBKPOOL_MINE_POOLS: "a:1, b:2" };
    const withEnv = await printConfig(config, env);
    assert.equal(withEnv.toml.mine!.threads, 2);
    assert.deepEqual(withEnv.toml.mine!.pools, ["a:1", "b:2"]);
    assert.match(withEnv.text, /^threads = 2 # env$/m);
    assert.match(withEnv.text, /^user = ".*" # file$/m);
    const withFlag = await printConfig([...config, "--threads", "1", "--pool", "c:3"], env);
    assert.equal(withFlag.toml.mine!.threads, 1);
    assert.deepEqual(withFlag.toml.mine!.pools, ["c:3"]);
    assert.match(withFlag.text, /^threads = 1 # flag$/m);
    // VBKPOOL_CONFIG names the file too; --config wins over it.
    const viaEnv = await printConfig([], { VBKPOOL_CONFIG: file });
    assert.equal(viaEnv.toml.mine!.threads, 3);
    // Mistakes in the file are named where they are.
    await Deno.writeTextFile(`${dir}/bad.toml`, '[mine]\nthreads = 2\napi_listn = "1"\n');
    const bad = await cli(["mine", "--config", `${dir}/bad.toml`, "--print-config"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /bad\.toml:3:1: .*api_listn.*did you mean mine\.api_listen/);
  });
});

Deno.test("vbkpool mine --print-config writes TOML that loads back to the same settings", async () => {
  await withTempDir("vbkpool-mine-print-", async (dir) => {
    const tokenFile = `${dir}/token`;
    await Deno.writeTextFile(tokenFile, "t0ken\n");
    const first = await printConfig([
      "--pool",
      "stratum+tcp://127.0.0.1:3333",
      "--pool",
      "stratum+tcp://[::1]:3334",
      "--user",
      `${ADDRESS}.r\u00e9g "quoted" \\ back`,
      "--pass",
      "p\tw\nd",
      "--threads",
      "4",
      "--thread-rates",
      "--api-listen",
      "0.0.0.0:4068",
      "--api-token-file",
      tokenFile,
      "--first-job-timeout",
      "2.5",
      "--log-level",
      "debug",
    ], { VBKPOOL_MINE_API_TOKEN: "secret-from-env", VBKPOOL_MINE_BACKOFF_MIN: "0.25" });
    assert.doesNotMatch(first.text, /secret-from-env/, "the token is not written");
    assert.match(first.text, /^# api_token = \(set, not shown\) # env$/m);
    const saved = `${dir}/saved.toml`;
    await Deno.writeTextFile(saved, first.text);
    const again = await printConfig(["--config", saved]);
    assert.deepEqual(again.toml, first.toml);
    assert.equal(again.toml.mine!.user, `${ADDRESS}.r\u00e9g "quoted" \\ back`);
    assert.equal(again.toml.mine!.password, "p\tw\nd");
    assert.equal(again.toml.mine!.first_job_timeout, 2.5);
    assert.equal(again.toml.mine!.backoff_min, 0.25);
    assert.equal(again.toml.mine!.thread_rates, true);
    assert.equal(again.toml.log!.level, "debug");
    assert.ok(!("api_token" in again.toml.mine!));
  });
});

Deno.test("vbkpool mine refuses a bad rig API address or token file", async (t) => {
  const base = ["mine", "--pool", "127.0.0.1:1", "--user", ADDRESS, "--duration", "1"];
  const cases: [string, string[], RegExp][] = [
    ["bad address", ["--api-listen", "nowhere"], /mine\.api_listen .*HOST:PORT or PORT/],
    ["port too large", ["--api-listen", "70000"], /mine\.api_listen/],
    [
      "missing token file",
      ["--api-listen", "0", "--api-token-file", "/nonexistent/t"],
      /Cannot read mine\.api_token_file/,
    ],
  ];
  for (const [name, args, want] of cases) {
    await t.step(name, async () => {
      const r = await cli([...base, ...args]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, want);
    });
  }
  await t.step("empty token file", async () => {
    await withTempDir("vbkpool-token-", async (dir) => {
      await Deno.writeTextFile(`${dir}/t`, "\n");
      const r = await cli([...base, "--api-listen", "0", "--api-token-file", `${dir}/t`]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /holds no token/);
    });
  });
});

Deno.test("vbkpool mine --first-job-timeout (seconds) fails over from a pool that sends no job", async () => {
  const silent = new FakePool({ greeting: "none" });
  const good = new FakePool({ difficulty: "262144" });
  const stop = new AbortController();
  const log = console.log;
  const printed: string[] = [];
  console.log = (...args: unknown[]) => printed.push(args.join(" "));
  try {
    const running = cli(
      [
        "mine",
        "--pool",
        silent.url,
        "--pool",
        good.url,
        "--user",
        ADDRESS,
        "--threads",
        "1",
        "--quiet",
        "--json",
        "--first-job-timeout",
        "0.5",
      ],
      {},
      stop.signal,
    );
    await waitUntil(() => good.accepted >= 1, "a share at the second pool");
    stop.abort();
    const r = await running;
    assert.equal(r.code, 0, r.err);
  } finally {
    console.log = log;
    await silent.close();
    await good.close();
  }
  const summary = JSON.parse(printed.at(-1)!);
  assert.ok(summary.accepted >= 1);
  assert.equal(summary.connections, 2, "the silent pool, then the good one");
});
