/**
 * Inserting a run of shares from a batch's columns into SQLite, one prepared single-row `INSERT`
 * per share. A share whose hash is already stored is skipped (`ON CONFLICT (hash) DO NOTHING`).
 *
 * Multi-row statements (64 rows each, a savepoint per statement to learn which rows were
 * duplicates) were measured and dropped: a statement that writes several rows needs a statement
 * journal, whose copies of the pages it touches cost more than the saved statement steps (with
 * the random `hash` index every share touches its own index page anyway).
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ShareColumns } from "./_packed_batch.ts";
import { HASH_BYTES } from "./_ops.ts";
import { prepareBig } from "./_sqlite_rows.ts";

/** Inserts runs of shares on one connection, inside the caller's transaction. */
export class ShareInserter {
  #insert: StatementSync;

  /**
   * @param db The writer's connection.
   */
  constructor(db: DatabaseSync) {
    this.#insert = prepareBig(
      db,
      `INSERT INTO shares (instance, address, worker, job_id, difficulty, network_difficulty,
        height, time, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING`,
    );
  }

  /**
   * Insert shares `start` to `start + count - 1` of `columns`; must run inside a transaction.
   *
   * @param columns The batch's shares.
   * @param range Which shares, and where to note for each whether it was inserted (1) or its
   *   hash was already stored (0), at the share's index.
   */
  insert(
    columns: ShareColumns,
    range: { start: number; count: number; inserted: Uint8Array },
  ): void {
    const { numbers, difficulties, strings, hashes } = columns;
    const end = range.start + range.count;
    for (let i = range.start; i < end; i++) {
      const r = this.#insert.run(
        numbers[3 * i]!,
        strings[3 * i]!,
        strings[3 * i + 1]!,
        strings[3 * i + 2]!,
        difficulties[2 * i]!,
        difficulties[2 * i + 1]!,
        numbers[3 * i + 1]!,
        numbers[3 * i + 2]!,
        hashes.subarray(HASH_BYTES * i, HASH_BYTES * (i + 1)),
      );
      range.inserted[i] = Number(r.changes) === 1 ? 1 : 0;
    }
  }
}
