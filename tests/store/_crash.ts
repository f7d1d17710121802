/**
 * The store crash test: run `_crash_child.ts` against a database, SIGKILL it at a random moment
 * under load, and check that every share it reported as acknowledged is in the database.
 *
 * @module
 */
import assert from "node:assert/strict";
import { openStore, type OpenStoreOptions } from "../../store/mod.ts";
import { waitUntil } from "../_process.ts";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Kill a recording child at a random moment and compare its acknowledgements with the rows.
 *
 * @param location Database location.
 * @param options Options to reopen it with.
 * @returns Acknowledged count and stored count.
 */
export async function crashAndCount(
  location: string,
  options: OpenStoreOptions = {},
): Promise<{ acked: number; stored: number }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_crash_child.ts", import.meta.url).pathname, location],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines: string[] = [];
  let partial = "";
  let ready = false;
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stdout) {
      const text = partial + decoder.decode(chunk, { stream: true });
      const parts = text.split("\n");
      partial = parts.pop() ?? "";
      for (const p of parts) {
        if (p === "ready") ready = true;
        else if (/^[0-9a-f]{48}$/.test(p)) lines.push(p);
      }
    }
  })();
  try {
    await waitUntil(() => ready, "the child to start", 120_000);
    // Let it run under load until it acknowledged shares, then a random while more (part of
    // the scenario: the kill lands anywhere in the load), then kill it mid-flight.
    await waitUntil(() => lines.length > 0, "an acknowledged share", 120_000);
    await new Promise((r) => setTimeout(r, 200 + Math.random() * 600));
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
    await reading;
  }
  const acked = new Set(lines);
  assert.ok(acked.size > 0, "the child acknowledged nothing");
  const store = await openStore(location, options);
  try {
    const rows = await store.listShares({ limit: 1_000_000 });
    const stored = new Set(rows.map((r) => hex(r.hash)));
    const missing = [...acked].filter((h) => !stored.has(h));
    assert.deepEqual(missing, [], `${missing.length} acknowledged shares are missing`);
    return { acked: acked.size, stored: stored.size };
  } finally {
    await store.close();
  }
}
