/**
 * The episode logger against LogTape itself (a memory sink): first line at once, counted
 * repeats, summaries with the right counts, an end line, bounded kinds, and a bounded number of
 * bytes for ten thousand events.
 */
import assert from "node:assert/strict";
import {
  configureSync,
  getLogger,
  getTextFormatter,
  type LogLevel,
  type LogRecord,
  resetSync,
} from "@logtape/logtape";
import { endAllEpisodes, EpisodeLog } from "../../log/mod.ts";
import { waitUntil } from "../_process.ts";

const CATEGORY = ["vbkpool", "test", "episodes"];

/** Run `fn` with the test category's records collected (from `level` up). */
async function withRecords(
  fn: (records: LogRecord[]) => Promise<void> | void,
  level: LogLevel = "debug",
): Promise<void> {
  const records: LogRecord[] = [];
  configureSync({
    reset: true,
    sinks: { memory: (record) => records.push(record) },
    loggers: [
      { category: CATEGORY, sinks: ["memory"], lowestLevel: level },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
  try {
    await fn(records);
  } finally {
    endAllEpisodes();
    resetSync();
  }
}

Deno.test("EpisodeLog writes the first event at once, then one summary per period and an end line", async () => {
  await withRecords(async (records) => {
    const episodes = new EpisodeLog(getLogger(CATEGORY), { summaryMs: 150 });
    for (let i = 0; i < 500; i++) {
      episodes.warn("refused", "cannot record a share of {worker}", { worker: `rig${i}` });
    }
    // The first line is written at once, with its own details; the rest are counted.
    assert.equal(records.length, 1);
    assert.equal(records[0]!.level, "warning");
    assert.equal(records[0]!.properties.worker, "rig0");
    await waitUntil(() => records.length >= 2, "the first summary", 10_000);
    const summary = records[1]!;
    assert.equal(summary.properties.episodeMore, 499);
    assert.equal(summary.properties.worker, "rig499", "the summary shows the latest event");
    assert.match(String(summary.rawMessage), /more in the last/);
    // Still going: the next period has its own count.
    for (let i = 0; i < 20; i++) episodes.warn("refused", "cannot record a share of {worker}", {});
    await waitUntil(() => records.length >= 3, "the second summary", 10_000);
    assert.equal(records[2]!.properties.episodeMore, 20);
    // Quiet for a whole period: the episode ends with its total.
    await waitUntil(() => episodes.size === 0, "the episode's end", 10_000);
    assert.equal(records.length, 4);
    assert.equal(records[3]!.properties.episodeTotal, 520);
    assert.match(String(records[3]!.rawMessage), /ended/);
  });
});

Deno.test("EpisodeLog ends a single event's episode without more lines", async () => {
  await withRecords(async (records) => {
    const episodes = new EpisodeLog(getLogger(CATEGORY), { summaryMs: 50 });
    episodes.info("banned", "banned {ip}", { ip: "10.0.0.1" });
    await waitUntil(() => episodes.size === 0, "the episode's end", 10_000);
    assert.equal(records.length, 1);
    // A new episode of the same kind starts with its own first line.
    episodes.info("banned", "banned {ip}", { ip: "10.0.0.2" });
    assert.equal(records.length, 2);
    assert.equal(records[1]!.properties.ip, "10.0.0.2");
  });
});

Deno.test("EpisodeLog keeps kinds apart and bounds how many are open", async () => {
  await withRecords((records) => {
    const episodes = new EpisodeLog(getLogger(CATEGORY), { summaryMs: 60_000, maxEpisodes: 3 });
    for (let i = 0; i < 1000; i++) episodes.warn(`kind${i}`, "event {i}", { i });
    assert.equal(episodes.size, 3);
    assert.equal(records.length, 3);
    episodes.endAll();
    assert.equal(records.length, 4);
    assert.equal(records[3]!.properties.episodeMore, 997);
    assert.equal(records[3]!.properties.episodeKinds, 3);
  });
});

Deno.test("EpisodeLog counts nothing at a level the logger drops, and makes lazy properties only when writing", async () => {
  await withRecords((records) => {
    const episodes = new EpisodeLog(getLogger(CATEGORY), { summaryMs: 60_000 });
    let made = 0;
    const props = () => {
      made++;
      return { n: made };
    };
    for (let i = 0; i < 100; i++) episodes.debug("closed", "connection closed {n}", props);
    assert.equal(records.length, 0);
    assert.equal(episodes.size, 0);
    assert.equal(made, 0);
    for (let i = 0; i < 100; i++) episodes.warn("refused", "refused {n}", props);
    assert.equal(made, 1, "only the first line was written");
    episodes.end("refused");
    assert.equal(made, 2);
    assert.equal(records.length, 2);
    assert.equal(records[1]!.properties.episodeTotal, 100);
  }, "info");
});

Deno.test("ten thousand events of one kind write less than 1 KiB of text", async () => {
  await withRecords((records) => {
    const episodes = new EpisodeLog(getLogger(CATEGORY), { summaryMs: 60_000 });
    for (let i = 0; i < 10_000; i++) {
      episodes.warn("record", "cannot record a share of {worker}: {error}", {
        worker: "VFFDWUMLJwLRuNzH4NX8Rm32E59n6d.rig1",
        error: "Cannot commit: pool.sqlite is failing (database is locked)",
      });
    }
    endAllEpisodes();
    const format = getTextFormatter();
    const bytes = records.reduce((n, r) => n + new TextEncoder().encode(format(r)).length, 0);
    assert.equal(records.length, 2);
    assert.equal(records[1]!.properties.episodeTotal, 10_000);
    assert.ok(bytes < 1024, `${bytes} bytes`);
  });
});
