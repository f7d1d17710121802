/**
 * The top self-time functions of a V8 `.cpuprofile` (as written by `deno run --cpu-prof`, e.g.
 * `bench/pool_speed.ts --profile DIR`), optionally of a time window only.
 *
 * ```sh
 * deno run -A bench/cpu_profile_top.ts /tmp/prof/*.cpuprofile --top 25
 * deno run -A bench/cpu_profile_top.ts FILE --from 60 --to 120   # seconds into the profile
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One function's share of a profile. */
export interface SelfTime {
  /** `name url:line`. */
  key: string;
  /** Self time in ms. */
  ms: number;
  /** Percent of all sampled time in the window. */
  percent: number;
}

/**
 * Self time per function (by name, file and line) between two offsets of a profile.
 *
 * @example Usage
 * ```ts
 * import { selfTimes } from "./cpu_profile_top.ts";
 * import assert from "node:assert/strict";
 *
 * const profile = {
 *   nodes: [
 *     { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1 } },
 *     { id: 2, callFrame: { functionName: "f", url: "file:///a.ts", lineNumber: 9 } },
 *   ],
 *   startTime: 0,
 *   samples: [2, 2, 1],
 *   timeDeltas: [1000, 1000, 2000],
 * };
 * // A sample lasts until the next one: f ran 1 + 2 ms, the last sample has no length.
 * assert.deepEqual(selfTimes(profile)[0], { key: "f a.ts:10", ms: 3, percent: 100 });
 * ```
 *
 * @param profile The parsed `.cpuprofile`.
 * @param window Seconds from the profile's start (inclusive, exclusive).
 * @returns Functions by self time, largest first.
 */
export function selfTimes(
  profile: Profile,
  window: { from?: number; to?: number } = {},
): SelfTime[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const from = (window.from ?? 0) * 1e6;
  const to = (window.to ?? Infinity) * 1e6;
  const totals = new Map<string, number>();
  let t = 0;
  let all = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    // A sample's time is the gap to the next one.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (t < from || t >= to) continue;
    const frame = byId.get(profile.samples[i]!)?.callFrame;
    if (frame === undefined) continue;
    const file = frame.url.slice(frame.url.lastIndexOf("/") + 1);
    const key = `${frame.functionName || "(anonymous)"}${
      file ? ` ${file}:${frame.lineNumber + 1}` : ""
    }`;
    totals.set(key, (totals.get(key) ?? 0) + dt);
    all += dt;
  }
  return [...totals].sort((a, b) => b[1] - a[1]).map(([key, us]) => ({
    key,
    ms: Math.round(us / 1000),
    percent: Math.round(us / Math.max(1, all) * 1000) / 10,
  }));
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      top: { type: "string", default: "25" },
      from: { type: "string" },
      to: { type: "string" },
    },
  });
  for (const file of positionals) {
    const profile = JSON.parse(await Deno.readTextFile(file)) as Profile;
    const rows = selfTimes(profile, {
      from: values.from === undefined ? undefined : Number(values.from),
      to: values.to === undefined ? undefined : Number(values.to),
    });
    const total = rows.reduce((n, r) => n + r.ms, 0);
    console.log(`${file}: ${total} ms sampled`);
    for (const r of rows.slice(0, Number(values.top))) {
      console.log(`${String(r.ms).padStart(8)} ms ${r.percent.toFixed(1).padStart(5)} %  ${r.key}`);
    }
  }
}
