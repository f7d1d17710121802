/**
 * The settings `vbkpool server` reads only in some set-ups: `[devnet]` only when it runs its
 * embedded devnet, `[payouts]` and `[wallet]` only with in-process payouts (and `[wallet]` then
 * only against a real NodeCore), `[api]` only when the API is on, `[ucp]` only with UCP ports.
 * A flag or a variable set for a part that does not run would be accepted and ignored; the
 * server warns about it instead. (A file may hold settings for other commands: its keys are not
 * reported.)
 *
 * @module
 */
import type { ConfigValues, ValueSource } from "./config.ts";

/** A part of the server that may not run, and the keys only it reads. */
interface Part {
  /** Whether the part runs with these values. */
  runs: (values: ConfigValues) => boolean;
  /** The keys it reads: `section.key`, or `section.*` for the whole section. */
  keys: string[];
  /** Why they are not used, when it does not run. */
  why: string;
}

const embeddedDevnet = (v: ConfigValues) => (v.nodecore!.endpoints as string[]).length === 0;
/** The payout service or the block tracker runs, reading `[payouts]` (and NodeCore's API). */
const payoutsOn = (v: ConfigValues) =>
  v.payouts!.enabled === true || v.payouts!.track_blocks === true;

const PARTS: Part[] = [
  {
    runs: embeddedDevnet,
    keys: ["devnet.*"],
    why: "nodecore.endpoints is set, so no embedded devnet runs",
  },
  {
    runs: payoutsOn,
    keys: ["payouts.*", "wallet.*"],
    why: "payouts.enabled and payouts.track_blocks are false, so the server does not follow " +
      "its blocks",
  },
  {
    runs: (v) => !payoutsOn(v) || !embeddedDevnet(v),
    keys: ["wallet.*"],
    why: "the server's payouts and block tracking use the embedded devnet's NodeCore API, not " +
      "[wallet]",
  },
  { runs: (v) => v.api!.enabled === true, keys: ["api.*"], why: "api.enabled is false" },
  {
    runs: (v) => (v.ucp!.listen as string[]).length > 0,
    keys: ["ucp.*"],
    why: "ucp.listen is empty, so no UCP port runs",
  },
];

/** The switches themselves are always read. */
const SWITCHES = new Set(["payouts.enabled", "payouts.track_blocks", "api.enabled", "ucp.listen"]);

/**
 * One warning per part that does not run but has keys set by a flag or a variable.
 *
 * @example Usage
 * ```ts
 * import { unusedSettings } from "./_server_unused.ts";
 * import assert from "node:assert/strict";
 *
 * const values = {
 *   nodecore: { endpoints: ["10.0.0.2:8501"] },
 *   payouts: { enabled: false },
 *   api: { enabled: true },
 *   ucp: { listen: [] },
 * };
 * assert.deepEqual(unusedSettings(values, { "devnet.listen": "flag", "devnet.window": "file" }), [
 *   "devnet.listen (flag) is not used: nodecore.endpoints is set, so no embedded devnet runs",
 * ]);
 * ```
 *
 * @param values The server's configuration values.
 * @param sources Where each value came from.
 * @returns The warnings.
 */
export function unusedSettings(
  values: ConfigValues,
  sources: Record<string, ValueSource>,
): string[] {
  const out: string[] = [];
  const reported = new Set<string>();
  for (const part of PARTS) {
    if (part.runs(values)) continue;
    const set = Object.entries(sources)
      .filter(([, source]) => source === "flag" || source === "env")
      .filter(([key]) => !SWITCHES.has(key) && !reported.has(key))
      .filter(([key]) => part.keys.some((k) => k === key || key.startsWith(k.slice(0, -1))));
    if (set.length === 0) continue;
    for (const [key] of set) reported.add(key);
    const names = set.map(([key, source]) =>
      `${key} (${source === "env" ? "environment" : source})`
    );
    const verb = names.length === 1 ? "is" : "are";
    out.push(`${names.join(", ")} ${verb} not used: ${part.why}`);
  }
  return out;
}
