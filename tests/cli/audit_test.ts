import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { formatAuditText, parseSince } from "../../cli/audit.ts";
import { COMMANDS, runCli } from "../../cli/mod.ts";
import type { AuditReport } from "../../payouts/mod.ts";
import { openStore } from "../../store/mod.ts";
import { sampleBlock } from "../store/_samples.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

async function run(args: string[], env: Record<string, string> = {}) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

async function cli(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, COMMANDS, {
    output: { out: (t) => out.push(t), err: (e) => err.push(e) },
    env,
    stopSignal: AbortSignal.abort(),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

Deno.test("vbkpool audit --help describes the checks, the options and the exit status", async () => {
  const r = await cli(["audit", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.out, /vbkpool audit: check the books in the store/);
  for (const flag of ["--json", "--nodecore URL", "--since TIME", "--limit N", "--store URL"]) {
    assert.ok(r.out.includes(flag), flag);
  }
  for (const check of ["block_credits", "balances", "payments", "pplns_windows", "share_keys"]) {
    assert.ok(r.out.includes(check), check);
  }
  assert.match(r.out, /Exit status: 0 when every check holds, 1 on any violation/);
});

Deno.test("vbkpool audit refuses bad command lines with status 2", async (t) => {
  const cases: [string, string[], RegExp][] = [
    ["an argument", ["audit", "now"], /audit takes no arguments/],
    ["a bad --since", ["audit", "--since", "last week"], /--since expects a date or time/],
    ["a negative --limit", ["audit", "--limit", "-1"], /--limit expects an integer >= 0/],
    ["a bad --nodecore", ["audit", "--nodecore", "ftp://x"], /--nodecore: .*not an http\(s\) URL/],
  ];
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-cli-audit-" });
  try {
    await (await openStore(`${dir}/pool.sqlite`, { thread: false })).close();
    for (const [name, args, message] of cases) {
      await t.step(name, async () => {
        const r = await cli(args, { VBKPOOL_STORE_URL: `${dir}/pool.sqlite` });
        assert.equal(r.code, 2, r.err);
        assert.match(r.err, message);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vbkpool audit reads a store without writing, and fails on a store that is not there", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-cli-audit-" });
  const path = `${dir}/pool.sqlite`;
  try {
    const missing = await run(["audit", "--store", path]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /Cannot open store .*pool\.sqlite: unable to open database file/);
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound, "no file was created");

    const store = await openStore(path, { thread: false });
    await store.recordBlock(sampleBlock({ height: 7 }));
    await store.close();
    const before = await Deno.readFile(path);
    const text = await run(["audit", "--store", path]);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /^vbkpool audit of the sqlite store .*: one snapshot, all rows/);
    assert.match(text.out, /^PASS {2}block_credits .*\n {6}examined: 1 blocks, 1 pending/m);
    assert.match(text.out, /^SKIP {2}chain .*\(no NodeCore given\)$/m);
    assert.match(text.out, /^Result: PASS \(6 checks\)$/m);
    const json = await run(["audit", "--json", "--since", "1d", "--store", path]);
    assert.equal(json.code, 0, json.err);
    const report = JSON.parse(json.out) as AuditReport;
    assert.equal(report.ok, true);
    assert.ok(report.since! > Date.now() - 86_400_000 - 60_000);
    assert.deepEqual(report.checks.map((c) => c.name), [
      "block_credits",
      "balances",
      "payments",
      "pplns_windows",
      "share_keys",
      "chain",
    ]);
    assert.deepEqual(await Deno.readFile(path), before, "the file is unchanged");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vbkpool audit exits with 1 and names the violation when the books are wrong", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-cli-audit-" });
  const path = `${dir}/pool.sqlite`;
  try {
    const store = await openStore(path, { thread: false });
    const { block } = await store.recordBlock(sampleBlock({ height: 7 }));
    await store.payouts.creditBlock(block.hash, {
      reward: 40n,
      confirmations: 3,
      credits: [{ address: "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX", amount: 40n, reason: "share" }],
    });
    await store.close();
    const db = new DatabaseSync(path);
    db.exec("UPDATE balances SET amount = amount + 1");
    db.close();
    const r = await run(["audit", "--store", path]);
    assert.equal(r.code, 1, r.err);
    assert.match(
      r.out,
      /^FAIL {2}balances .*\n.*\n {6}balance_mismatch: The balance of V5Ujv72h4jEBcKnALGc4fKqs6CDAPX is 41 atomic units, but its balance changes add up to 40 atomic units \(off by 1\)$/m,
    );
    assert.match(r.out, /^PASS {2}block_credits /m);
    assert.match(r.out, /^Result: FAIL \(2 violation\(s\) in 1 of 6 checks\)$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseSince() reads dates, times and ages", () => {
  const now = Date.UTC(2026, 7, 5, 12);
  assert.equal(parseSince("30m", now), now - 1_800_000);
  assert.equal(parseSince("12h", now), now - 43_200_000);
  assert.equal(parseSince("7d", now), now - 7 * 86_400_000);
  assert.equal(parseSince("2026-08-01", now), Date.UTC(2026, 7, 1));
  assert.equal(parseSince("2026-08-01T06:30:00Z", now), Date.UTC(2026, 7, 1, 6, 30));
  for (const bad of ["", "7", "7w", "yesterday", "2026-13-45", "-1d"]) {
    assert.throws(() => parseSince(bad, now), /--since expects/, bad);
  }
});

Deno.test("formatAuditText() lists violations under their check, and unlisted ones", () => {
  const report: AuditReport = {
    ok: false,
    backend: "postgres",
    snapshot: true,
    limit: 0,
    startedAt: 0,
    durationMs: 1234,
    checks: [{
      name: "balances",
      title: "balances add up",
      ok: false,
      examined: { addresses: 2, changes: 9 },
      violationCount: 3,
      violations: [{
        code: "balance_mismatch",
        message: "The balance of VA is 5, but its balance changes add up to 4 (off by 1)",
        address: "VA",
      }],
      notes: ["owed in all: 9 atomic units"],
    }, {
      name: "chain",
      title: "the chain agrees",
      ok: false,
      error: "NodeCore is not synced",
      examined: {},
      violationCount: 0,
      violations: [],
      notes: [],
    }],
  };
  assert.equal(
    formatAuditText(report, "postgres://db/pool"),
    [
      "vbkpool audit of the postgres store postgres://db/pool: one snapshot, all rows in " +
      "detail, limit none, at 1970-01-01T00:00:00.000Z in 1.23 s",
      "FAIL  balances       balances add up",
      "      examined: 2 addresses, 9 changes",
      "      balance_mismatch: The balance of VA is 5, but its balance changes add up to 4 " +
      "(off by 1)",
      "      ... and 2 more violation(s)",
      "      note: owed in all: 9 atomic units",
      "FAIL  chain          the chain agrees",
      "      could not finish: NodeCore is not synced",
      "Result: FAIL (3 violation(s) in 2 of 2 checks)",
    ].join("\n"),
  );
});
