/**
 * Inserting a run of shares from a batch's columns into SQLite, one prepared single-row `INSERT`
 * per share. Shares are stored as given: the pool rejects a duplicate header before it gets here
 * (server/jobs.ts). A unique index on the random hash (schema versions 1–2) made every share
 * dirty its own index page in each commit and tripled the writer's time per share as the table
 * grew; `bench:pool` measured the writer thread at 26–35 % of a core with it and 11–12 %
 * without, at 20,000 shares/s.
 *
 * Multi-row statements (64 rows each) were measured and dropped: a statement that writes several
 * rows needs a statement journal, whose copies of the pages it touches cost more than the saved
 * statement steps.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { NUMBERS, type ShareColumns } from "./_packed_batch.ts";
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
        height, time, hash, solo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  /**
   * Insert shares `start` to `start + count - 1` of `columns`; must run inside a transaction.
   *
   * @param columns The batch's shares.
   * @param range Which shares.
   */
  insert(columns: ShareColumns, range: { start: number; count: number }): void {
    const { numbers, difficulties, strings, hashes } = columns;
    const end = range.start + range.count;
    for (let i = range.start; i < end; i++) {
      this.#insert.run(
        numbers[NUMBERS * i]!,
        strings[3 * i]!,
        strings[3 * i + 1]!,
        strings[3 * i + 2]!,
        difficulties[2 * i]!,
        difficulties[2 * i + 1]!,
        numbers[NUMBERS * i + 1]!,
        numbers[NUMBERS * i + 2]!,
        hashes.subarray(HASH_BYTES * i, HASH_BYTES * (i + 1)),
        numbers[NUMBERS * i + 3]!,
      );
    }
  }
}
