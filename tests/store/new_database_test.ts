/**
 * A store opened on a new, empty database says so loudly (the NEW DATABASE banner, naming the
 * file or URL and what starts empty or over); one opened on an existing pool database does not.
 */
import assert from "node:assert/strict";
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import { redactUrl } from "../../store/mod.ts";
import { BACKENDS, warnIfNoPostgres } from "./_backends.ts";

warnIfNoPostgres();

/** The store's log lines while `fn` runs. */
async function storeLines(fn: () => Promise<void>): Promise<string[]> {
  const records: LogRecord[] = [];
  configureSync({
    reset: true,
    sinks: { memory: (record) => records.push(record) },
    loggers: [
      { category: ["vbkpool", "store"], sinks: ["memory"], lowestLevel: "info" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
  try {
    await fn();
  } finally {
    resetSync();
  }
  return records.map((r) => r.message.map(String).join(""));
}

for (const backend of BACKENDS) {
  Deno.test({
    name:
      `openStore() (${backend.name}) announces a new, empty database once, and not an existing one`,
    ignore: backend.ignore,
    async fn() {
      const f = await backend.fresh();
      try {
        const first = await storeLines(async () => {
          const store = await f.open();
          await store.close();
        });
        const banner = first.filter((l) => l.includes("NEW DATABASE"));
        assert.equal(banner.length, 1, first.join("\n"));
        const shown = f.location.startsWith("postgres") ? redactUrl(f.location) : f.location;
        assert.ok(banner[0]!.includes(`${shown} had no vbkpool data`), banner[0]);
        assert.ok(first.some((l) => l.includes("extranonce counters start over")));
        assert.ok(first.some((l) => l.includes("restore the")));
        const again = await storeLines(async () => {
          const store = await f.open();
          await store.close();
        });
        assert.deepEqual(again.filter((l) => l.includes("NEW DATABASE")), []);
      } finally {
        await f.cleanup();
      }
    },
  });
}
