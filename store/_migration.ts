/**
 * The shape of a schema migration and the check shared by the backends' migration runners.
 *
 * @module
 */

/** One versioned schema change; applied once, in its own transaction. */
export interface Migration {
  /** Version number (1, 2, …, no gaps). */
  version: number;
  /** Short description, stored beside the version. */
  name: string;
  /** Statements run in order inside the migration's transaction. */
  statements: readonly string[];
}

/** Throws when the database was migrated by a newer vbkpool than this one. */
export function checkNotNewer(found: number, known: readonly Migration[], where: string): void {
  const latest = known.at(-1)?.version ?? 0;
  if (found > latest) {
    throw new RangeError(
      `Cannot open store ${where}: its schema version ${found} is newer than this vbkpool supports (${latest}); upgrade vbkpool`,
    );
  }
}

/**
 * Throws unless the database is at exactly the newest schema version this vbkpool knows (a
 * store opened read-only never migrates, so an older or missing schema cannot be read).
 */
export function checkCurrent(found: number, known: readonly Migration[], where: string): void {
  checkNotNewer(found, known, where);
  const latest = known.at(-1)?.version ?? 0;
  if (found === 0) {
    throw new RangeError(`Cannot open store ${where} read-only: it holds no vbkpool schema`);
  }
  if (found < latest) {
    throw new RangeError(
      `Cannot open store ${where} read-only: its schema version ${found} is older than this vbkpool's (${latest}); let vbkpool server or payouts upgrade it first`,
    );
  }
}
