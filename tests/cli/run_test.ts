import assert from "node:assert/strict";
import { COMMANDS, runCli } from "../../cli/mod.ts";
import { VERSION } from "../../cli/version.ts";

const GENESIS =
  "000000000002000000000000000000000000000000000000000000000000000000000000A7E5F2B7EC94291767B4D67B4A33682D5C987E0B0600E8D4113D854D";
const GENESIS_HASH = "0000000000f4fd66b91f0649bb3fcb137823c5ce317c105c";
const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;

async function cli(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, COMMANDS, {
    output: { out: (t) => out.push(t), err: (t) => err.push(t) },
    env,
    stopSignal: new AbortController().signal,
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

async function run(args: string[], env: Record<string, string> = {}, cwd?: string) {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    ...(cwd === undefined ? {} : { cwd }),
    stdout: "piped",
    stderr: "piped",
  });
  const r = await cmd.output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

Deno.test("runCli() prints help and version", async () => {
  const help = await cli(["--help"]);
  assert.equal(help.code, 0);
  for (const c of COMMANDS) assert.match(help.out, new RegExp(`\\b${c.name}\\b`));
  assert.equal((await cli([])).code, 2);
  const version = await cli(["--version"]);
  assert.deepEqual(
    [version.code, version.out],
    [0, `vbkpool ${VERSION} (Deno ${Deno.version.deno})`],
  );
});

Deno.test("runCli() shows --help for every command", async (t) => {
  for (const c of COMMANDS) {
    await t.step(c.name, async () => {
      const r = await cli([c.name, "--help"]);
      assert.equal(r.code, 0);
      assert.match(r.out, new RegExp(`Usage:\\n  vbkpool ${c.name}`));
      assert.match(r.out, /--log-level/);
    });
  }
});

Deno.test("runCli() rejects bad command lines with one line and status 2", async (t) => {
  const cases: [string, string[], RegExp][] = [
    ["unknown command", ["frobnicate"], /unknown command 'frobnicate' \(see 'vbkpool --help'\)/],
    ["unknown global option", ["--frob"], /unknown option --frob/],
    ["unknown option", ["hash", "--frob"], /Unknown option --frob \(see 'vbkpool hash --help'\)/],
    ["missing value", ["hash", "--verify"], /Option --verify needs a value/],
    ["malformed number", ["bench", "--seconds", "abc"], /--seconds expects a number, got "abc"/],
    ["bad threads", ["bench", "--threads", "0"], /--threads/],
    ["missing header", ["hash"], /missing HEADER_HEX/],
    ["short header", ["hash", "00ff"], /must be 128 hex chars \(64 bytes\), got 4 chars/],
    ["long header", ["hash", GENESIS + "00"], /got 130 chars/],
    ["non-hex header", ["hash", "zz" + GENESIS.slice(2)], /HEADER_HEX must be hex/],
    [
      "bad config flag",
      ["hash", "--log-level", "loud", GENESIS],
      /log\.level \(flag\): got "loud"/,
    ],
    ["bad config file", ["hash", "--config", "/nonexistent.toml", GENESIS], /Cannot read/],
  ];
  for (const [name, args, re] of cases) {
    await t.step(name, async () => {
      const r = await cli(args);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, re);
      assert.equal(r.err.split("\n").length, 1, "one line");
    });
  }
  await t.step("bad env value", async () => {
    const r = await cli(["hash", GENESIS], { VBKPOOL_LOG_FORMAT: "xml" });
    assert.equal(r.code, 2);
    assert.match(r.err, /log\.format \(environment VBKPOOL_LOG_FORMAT\): got "xml"/);
  });
  await t.step("malformed TOML file", async () => {
    const path = await Deno.makeTempFile({ suffix: ".toml" });
    await Deno.writeTextFile(path, "[log\nlevel=");
    try {
      const r = await cli(["hash", "--config", path, GENESIS]);
      assert.equal(r.code, 2);
      assert.match(r.err, /\.toml:1:5: Cannot parse TOML: /);
    } finally {
      await Deno.remove(path);
    }
  });
});

Deno.test("runCli() sets every configuration key with a --SECTION.KEY flag", async (t) => {
  await t.step("help names the form and the command's sections", async () => {
    const r = await cli(["mine", "--help"]);
    assert.match(r.out, /key of \[log\], \[mine\] can also be set with --SECTION\.KEY VALUE/);
    const audit = await cli(["audit", "--help"]);
    assert.match(audit.out, /store\.url, .*payouts\.pool_address, nodecore\.address,/s);
  });
  await t.step("a key without a named flag is checked by the schema", async () => {
    const r = await cli(["mine", "--pool", "127.0.0.1:1", "--mine.connect_timeout", "soon"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /mine\.connect_timeout \(flag\): got "soon", expected a number/);
  });
  await t.step("a list key takes one item per flag", async () => {
    const r = await cli(["mine", "--mine.pools", "stratum+tcp://a:1", "--mine.pools", "nowhere"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /Cannot use pool "nowhere": expected HOST:PORT/);
  });
  await t.step("the flag wins over the environment", async () => {
    const r = await cli(["mine", "--mine.submit_timeout=5"], { VBKPOOL_MINE_SUBMIT_TIMEOUT: "x" });
    assert.equal(r.code, 2);
    assert.match(r.err, /no pool given/);
  });
  await t.step("keys of sections the command does not read are unknown options", async () => {
    const r = await cli(["hash", "--mine.threads", "1", GENESIS]);
    assert.equal(r.code, 2);
    assert.match(r.err, /Unknown option --mine\.threads: vbkpool hash does not read mine\.threads/);
    const payouts = await cli(["payouts", "--nodecore.endpoints", "127.0.0.1:8501"]);
    assert.equal(payouts.code, 2);
    assert.match(payouts.err, /payouts does not read nodecore\.endpoints/);
    const audit = await cli(["audit", "--wallet.url", "http://127.0.0.1:1/api"]);
    assert.match(audit.err, /audit does not read wallet\.url/);
  });
  await t.step("the value takes effect (--log.format json in a real process)", async () => {
    const r = await run(["hash", "--verify", "/nonexistent-chain.txt", "--log.format", "json"]);
    assert.equal(r.code, 1);
    const record = JSON.parse(r.err.trim().split("\n").at(-1)!);
    assert.equal(record.level, "FATAL");
    assert.match(record.message, /Cannot read \/nonexistent-chain\.txt/);
  });
});

Deno.test("vbkpool names configuration mistakes where they are, with the closest name", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-config-" });
  const toml = (text: string) => Deno.writeTextFile(`${dir}/vbkpool.toml`, text);
  const oneLine = (r: { err: string }) => assert.equal(r.err.trimEnd().split("\n").length, 1);
  try {
    await t.step("a TOML syntax error names file:line:column", async () => {
      await toml('[log]\nlevel = "info"\n[stratum]\nlisten = ["127.0.0.1:0"\ndifficulty = 5\n');
      const r = await run(["server"], {}, dir);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /^vbkpool: vbkpool\.toml:5:1: Cannot parse TOML: expected comma /);
      oneLine(r);
    });
    await t.step("a misspelt key in the file gets a suggestion", async () => {
      await toml('[log]\nlevel = "info"\n\n[stratum]\nlistn = ["127.0.0.1:0"]\n');
      const r = await run(["server"], {}, dir);
      assert.equal(r.code, 2, r.err);
      assert.match(
        r.err,
        /^vbkpool: vbkpool\.toml:5:1: Unknown configuration key stratum\.listn — did you mean stratum\.listen\? \(see 'vbkpool server --help'\)$/m,
      );
      oneLine(r);
    });
    await Deno.remove(`${dir}/vbkpool.toml`);
    await t.step("a misspelt flag gets a suggestion", async () => {
      const r = await run(["server", "--stratum.listn", "127.0.0.1:0"], {}, dir);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /Unknown option --stratum\.listn — did you mean --stratum\.listen\?/);
      oneLine(r);
    });
    await t.step("a misspelt environment variable is warned about; the command runs", async () => {
      const env = { VBKPOOL_LOG_LEVL: "debug", VBKPOOL_NO_SUCH_THING: "1" };
      const r = await run(["hash", GENESIS], env, dir);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, new RegExp(`^hash +${GENESIS_HASH}$`, "m"));
      const warnings = r.err.trimEnd().split("\n");
      assert.deepEqual(warnings.map((l) => l.replace(/^.*\[WRN\] vbkpool·config: /, "")), [
        "Unknown environment variable VBKPOOL_LOG_LEVL is ignored — did you mean " +
        "VBKPOOL_LOG_LEVEL?",
        "Unknown environment variable VBKPOOL_NO_SUCH_THING is ignored",
      ]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vbkpool hash prints the hash, fields and the PoW verdict", async () => {
  const r = await run(["hash", GENESIS]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`^hash +${GENESIS_HASH}$`, "m"));
  assert.match(r.out, /^height +0$/m);
  assert.match(r.out, /^difficulty +999989182464$/m);
  assert.match(r.out, /^meets bits +yes$/m);
});

Deno.test("vbkpool hash exits 2 on a bad header in a real process", async () => {
  const r = await run(["hash", "abc"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /HEADER_HEX/);
});

Deno.test("vbkpool hash --verify accepts both real chain files", async (t) => {
  for (const file of ["mainnet-headers-200001.txt", "testnet-headers-0.txt"]) {
    await t.step(file, async () => {
      const r = await run(["hash", "--verify", FIXTURES + file]);
      assert.equal(r.code, 0, r.out + r.err);
      assert.match(r.out, /pow failed +0/);
      assert.match(r.out, /links bad +0/);
      assert.match(r.out, /result +OK/);
    });
  }
});

Deno.test("vbkpool hash --verify fails on a tampered chain", async () => {
  const lines = (await Deno.readTextFile(FIXTURES + "testnet-headers-0.txt")).trim().split("\n");
  // Change one nonce: that header's PoW fails and its child no longer links.
  const l = lines[10]!;
  lines[10] = l.slice(0, 120) + (l.slice(120) === "00000000" ? "00000001" : "00000000");
  const path = await Deno.makeTempFile({ suffix: ".txt" });
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  try {
    const r = await run(["hash", "--verify", path]);
    assert.equal(r.code, 1);
    assert.match(r.out, /pow failed +1/);
    assert.match(r.out, /links bad +1/);
    assert.match(r.out, /result +FAILED/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("VERSION equals deno.json's version", async () => {
  const json = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  assert.equal(json.version, VERSION);
});
