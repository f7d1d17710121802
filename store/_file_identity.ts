/**
 * The identity (device and inode) of a SQLite database's files, taken when the store opened and
 * checked while it runs: a file removed or replaced under a running pool would otherwise take
 * every later commit with it (the open connections write to the unlinked inode, and a restart
 * starts an empty database). The main file must stay the one opened; the `-wal` file (which
 * holds committed transactions until a checkpoint) and the `-shm` file too, from when they
 * first exist (SQLite removes them only when its last connection closes, and the pool holds
 * its connections open).
 *
 * @module
 */

/**
 * The database file (or its `-wal` or `-shm` file) is no longer the one the store opened: it
 * was removed or replaced. Writes are refused for good; the pool does not go on with another
 * file by itself.
 *
 * @example Usage
 * ```ts
 * import { StoreFileLostError } from "./_file_identity.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new StoreFileLostError("Cannot write to pool.sqlite: it was removed");
 * assert.equal(err.name, "StoreFileLostError");
 * ```
 */
export class StoreFileLostError extends Error {
  /**
   * @param message Complete message.
   */
  constructor(message: string) {
    super(message);
    this.name = "StoreFileLostError";
  }
}

/** Suffixes of a SQLite database's files (the main file first). */
const SUFFIXES = ["", "-wal", "-shm"] as const;

interface Seen {
  dev: number;
  ino: number;
}

/** Device and inode of `path`; undefined when it does not exist or the system has no inodes. */
function identityOf(path: string): Seen | undefined | "missing" {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "missing";
    // Cannot tell (permissions, I/O): the database itself reports such trouble.
    return undefined;
  }
  if (info.ino === null) return undefined;
  return { dev: info.dev, ino: info.ino };
}

/**
 * The identity of a database's files, checked against the files now at the same paths.
 *
 * @example Usage
 * ```ts
 * import { FileIdentity, StoreFileLostError } from "./_file_identity.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/pool.sqlite`;
 * await Deno.writeTextFile(path, "");
 * const identity = FileIdentity.take(path);
 * identity.check();
 * await Deno.remove(path);
 * assert.throws(() => identity.check(), StoreFileLostError);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class FileIdentity {
  /** The database file. */
  readonly path: string;
  #seen = new Map<string, Seen>();

  private constructor(path: string) {
    this.path = path;
  }

  /**
   * Take the identity of the database's files as they are now (right after opening).
   *
   * @param path The database file.
   * @returns The identity.
   */
  static take(path: string): FileIdentity {
    const identity = new FileIdentity(path);
    identity.#learn();
    return identity;
  }

  /** Remember the files that exist now and were not known yet. */
  #learn(): void {
    for (const suffix of SUFFIXES) {
      if (this.#seen.has(suffix)) continue;
      const now = identityOf(this.path + suffix);
      if (now !== undefined && now !== "missing") this.#seen.set(suffix, now);
    }
  }

  /**
   * Check that every known file is still the one opened.
   *
   * @throws {StoreFileLostError} When one was removed or replaced.
   */
  check(): void {
    for (const [suffix, then] of this.#seen) {
      const now = identityOf(this.path + suffix);
      if (now === undefined) continue;
      const file = suffix === "" ? "the file" : `its ${suffix} file`;
      if (now === "missing") {
        throw new StoreFileLostError(lostMessage(this.path, `${file} was removed`));
      }
      if (now.dev !== then.dev || now.ino !== then.ino) {
        throw new StoreFileLostError(lostMessage(this.path, `${file} was replaced by another`));
      }
    }
    if (this.#seen.size < SUFFIXES.length) this.#learn();
  }
}

function lostMessage(path: string, what: string): string {
  return `Cannot write to ${path}: ${what} while the pool ran; writes stay refused (the pool ` +
    "never goes on with another file by itself). Stop the pool, put the original files back " +
    "or restore them from a backup, then start it (without them it starts a NEW, EMPTY " +
    "database: history and balances empty, extranonce counters started over)";
}
