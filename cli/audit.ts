/**
 * `vbkpool audit`: checks the books in the store, reading only, and prints a report (text, or
 * JSON with `--json`); with `--nodecore URL` it also checks the store against the chain. Exit
 * status 0 only when every check holds, 1 on a violation (or when a check cannot finish), 2 on
 * a usage or configuration error. The checks themselves are `payouts/audit.ts`.
 *
 * @module
 */
import { UsageError } from "./args.ts";
import type { Command, CommandContext } from "./command.ts";
import { STORE_READER_KEYS, storeOptions } from "./_store_schema.ts";
import { schemaKeys } from "./config_schema.ts";
import { type AuditCheck, type AuditReport, auditStore, NodeCoreRpc } from "../payouts/mod.ts";
import { isPostgresLocation, openStore, redactUrl } from "../store/mod.ts";

type Values = Record<string, unknown>;

const AGE_UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Read `--since`: a date or time (ISO 8601, e.g. `2026-08-01` or `2026-08-01T12:00:00Z`) or an
 * age back from `now` (`30m`, `12h`, `7d`).
 *
 * @example Usage
 * ```ts
 * import { parseSince } from "./audit.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseSince("2d", 3 * 86_400_000), 86_400_000);
 * assert.equal(parseSince("1970-01-02", 0), 86_400_000);
 * assert.throws(() => parseSince("last week", 0), /--since expects/);
 * ```
 *
 * @param text The option's value.
 * @param now The time now (ms).
 * @returns The time (ms since the epoch, ≥ 0).
 * @throws {UsageError} When the text is neither.
 */
export function parseSince(text: string, now: number): number {
  const age = /^(\d+)([mhd])$/.exec(text.trim());
  if (age !== null) return Math.max(0, now - Number(age[1]) * AGE_UNITS[age[2]!]!);
  const time = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())
    ? Date.parse(text.trim())
    : NaN;
  if (!Number.isFinite(time) || time < 0) {
    throw new UsageError(
      `--since expects a date or time (2026-08-01, 2026-08-01T12:00:00Z) or an age (30m, 12h, ` +
        `7d), got ${JSON.stringify(text)}`,
    );
  }
  return time;
}

function words(key: string): string {
  return key.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);
}

function checkLines(check: AuditCheck): string[] {
  const mark = check.skipped !== undefined ? "SKIP" : check.ok ? "PASS" : "FAIL";
  const lines = [`${mark}  ${check.name.padEnd(13)}  ${check.title}`];
  const indent = " ".repeat(6);
  if (check.skipped !== undefined) {
    lines[0] += ` (${check.skipped})`;
    return lines;
  }
  const examined = Object.entries(check.examined).map(([k, n]) => `${n} ${words(k)}`);
  if (examined.length > 0) lines.push(`${indent}examined: ${examined.join(", ")}`);
  if (check.error !== undefined) lines.push(`${indent}could not finish: ${check.error}`);
  for (const v of check.violations) lines.push(`${indent}${v.code}: ${v.message}`);
  const unlisted = check.violationCount - check.violations.length;
  if (unlisted > 0) lines.push(`${indent}... and ${unlisted} more violation(s)`);
  for (const note of check.notes) lines.push(`${indent}note: ${note}`);
  return lines;
}

/**
 * The text report: a header, one line per check (PASS, FAIL or SKIP) with what it examined,
 * its violations and notes under it, and a result line.
 *
 * @example Usage
 * ```ts
 * import { formatAuditText } from "./audit.ts";
 * import assert from "node:assert/strict";
 *
 * const text = formatAuditText({
 *   ok: true, backend: "sqlite", snapshot: true, limit: 1000, startedAt: 0, durationMs: 5,
 *   checks: [{
 *     name: "share_keys", title: "no share hash stored twice", ok: true,
 *     examined: { shares: 3 }, violationCount: 0, violations: [], notes: [],
 *   }],
 * }, "pool.sqlite");
 * assert.match(text, /^PASS  share_keys +no share hash stored twice$/m);
 * assert.match(text, /^Result: PASS/m);
 * ```
 *
 * @param report The audit's report.
 * @param where The store, as shown (no password).
 * @returns The text.
 */
export function formatAuditText(report: AuditReport, where: string): string {
  const since = report.since === undefined
    ? "all rows in detail"
    : `in detail since ${new Date(report.since).toISOString()}`;
  const lines = [
    `vbkpool audit of the ${report.backend} store ${where}: ` +
    `${report.snapshot ? "one snapshot" : "live reads"}, ${since}, ` +
    `limit ${report.limit || "none"}, at ${new Date(report.startedAt).toISOString()} ` +
    `in ${(report.durationMs / 1000).toFixed(2)} s`,
  ];
  for (const check of report.checks) lines.push(...checkLines(check));
  const failed = report.checks.filter((c) => !c.ok);
  const violations = failed.reduce((n, c) => n + c.violationCount, 0);
  lines.push(
    report.ok
      ? `Result: PASS (${report.checks.length} checks)`
      : `Result: FAIL (${violations} violation(s) in ${failed.length} of ` +
        `${report.checks.length} checks)`,
  );
  return lines.join("\n");
}

function nodecoreClient(url: string | undefined, wallet: Values): NodeCoreRpc | undefined {
  if (url === undefined) return undefined;
  try {
    return new NodeCoreRpc({
      url,
      password: wallet.password as string,
      timeoutMs: Math.round((wallet.timeout_seconds as number) * 1000),
    });
  } catch (err) {
    throw new UsageError(`--nodecore: ${(err as Error).message}`);
  }
}

function intOption(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || value < 0) {
    throw new UsageError(`--${flag} expects an integer >= 0, got ${value}`);
  }
  return value;
}

async function run(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length > 0) throw new UsageError("audit takes no arguments");
  const o = ctx.args.options;
  const v = ctx.config.values;
  const since = o.since === undefined ? undefined : parseSince(o.since as string, Date.now());
  const limit = intOption(o.limit, "limit", 1000);
  const maxViolations = intOption(o["max-violations"], "max-violations", 20);
  const nodecore = nodecoreClient(o.nodecore as string | undefined, v.wallet!);
  const poolAddress = (v.payouts!.pool_address as string) ||
    (v.nodecore?.address as string | undefined) || undefined;
  const { url, options } = storeOptions(v.store!);
  const store = await openStore(url, { ...options, readOnly: true });
  let report: AuditReport;
  try {
    report = await auditStore(store, {
      ...(nodecore === undefined ? {} : { nodecore }),
      ...(poolAddress === undefined ? {} : { poolAddress }),
      ...(since === undefined ? {} : { since }),
      limit,
      maxViolations,
    });
  } finally {
    await store.close();
  }
  if (o.json === true) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(formatAuditText(report, isPostgresLocation(url) ? redactUrl(url) : url));
  }
  return report.ok ? 0 : 1;
}

/** The `audit` command. */
export const auditCommand: Command = {
  name: "audit",
  summary: "check the books in the store (credits, balances, payments, PPLNS) and the chain",
  usage: ["audit [--json] [--nodecore URL] [--since TIME] [--limit N] [--store URL]"],
  description: [
    "Reads the store (one snapshot; nothing is written, nothing is created or migrated) and",
    "checks: every confirmed block credited exactly once, its credits adding up to its reward",
    "and its fees as recorded, no credits on other blocks (block_credits); each balance equal",
    "to its credits minus payments plus refunds (balances); every payment debit belonging to an",
    "intent and equal to its items, failed payments refunded exactly, no transaction in two",
    "payments (payments); each block's credits recomputed from the stored shares with its",
    "recorded PPLNS window, fees and remainder address, SOLO blocks to their finder",
    "(pplns_windows); no share hash stored twice (share_keys). With --nodecore also: confirmed",
    "blocks are NodeCore's main-chain blocks at their height, sent payments are in its ledger",
    "from the pool address (payouts.pool_address) with exactly their outputs (chain).",
    "",
    "Exit status: 0 when every check holds, 1 on any violation (or a check that could not",
    "finish), 2 on a usage or configuration error. Safe to run beside a running pool.",
    "Amounts are in atomic units (1 VBK = 100000000).",
  ],
  options: [
    { flag: "json", kind: "boolean", doc: "print the report as JSON" },
    {
      flag: "nodecore",
      kind: "string",
      valueName: "URL",
      doc: "NodeCore HTTP API to check blocks and payments against (password: wallet.password)",
    },
    {
      flag: "since",
      kind: "string",
      valueName: "TIME",
      doc: "examine in detail only what is newer: a date/time (2026-08-01) or an age (7d, 12h)",
    },
    {
      flag: "limit",
      kind: "integer",
      valueName: "N",
      doc: "blocks recomputed and blocks/payments looked up on NodeCore, newest first " +
        "(default 1000; 0 = all)",
    },
    {
      flag: "max-violations",
      kind: "integer",
      valueName: "N",
      doc: "violations listed per check (default 20; all are counted)",
    },
    {
      flag: "store",
      key: "store.url",
      kind: "string",
      valueName: "URL",
      doc: "the pool's store (store.url)",
    },
  ],
  // A read-only store; NodeCore only through --nodecore URL (so not wallet.url).
  sections: [
    ...schemaKeys("store", { only: STORE_READER_KEYS }),
    "payouts.pool_address",
    "nodecore.address",
    ...schemaKeys("wallet", { except: ["url"] }),
  ],
  run,
};
