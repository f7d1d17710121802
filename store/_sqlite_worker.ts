/**
 * The SQLite writer's thread. The module spawns itself (`new Worker(import.meta.url)`), so the
 * same code works from source, from the bundle and from a compiled binary; inside the worker
 * (recognised by its name) it serves open / commit / probe / close requests with a
 * {@linkcode SqliteWriter}. node:sqlite is synchronous: here an fsync blocks only this thread.
 *
 * @module
 */
import type { OpOutcome, WriteOp } from "./_ops.ts";
import {
  batchTransfer,
  packBatch,
  type PackedBatch,
  type PackedOutcomes,
  unpackOutcomes,
} from "./_packed_batch.ts";
import { SqliteWriter, type SqliteWriterOptions } from "./_sqlite_writer.ts";

const WORKER_NAME = "vbkpool-sqlite-writer";

type RequestBody =
  | { type: "open"; path: string; options: SqliteWriterOptions }
  | { type: "commit"; batch: PackedBatch }
  | { type: "probe" }
  | { type: "close" };

type Request = RequestBody & { id: number };

type Reply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; message: string } };

interface Pending {
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

function errorFrom(e: { name: string; message: string }): Error {
  if (e.name === "RangeError") return new RangeError(e.message);
  if (e.name === "TypeError") return new TypeError(e.message);
  return new Error(e.message);
}

/** The main thread's handle on the writer thread. */
export class SqliteWorkerClient {
  #worker: Worker;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  constructor() {
    this.#worker = new Worker(import.meta.url, { type: "module", name: WORKER_NAME });
    this.#worker.onmessage = (event: MessageEvent<Reply>) => {
      const reply = event.data;
      const p = this.#pending.get(reply.id);
      if (p === undefined) return;
      this.#pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.value);
      else p.reject(errorFrom(reply.error));
    };
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#failAll(new Error(`SQLite writer thread failed: ${event.message}`));
    };
  }

  #failAll(err: Error): void {
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  #call(request: RequestBody, transfer: Transferable[] = []): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error("SQLite writer thread is closed"));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...request, id }, transfer);
    });
  }

  /**
   * Open the database (and migrate it) in the thread.
   *
   * @param path Database file.
   * @param options Durability and lock settings.
   */
  async open(path: string, options: SqliteWriterOptions): Promise<void> {
    await this.#call({ type: "open", path, options });
  }

  /**
   * Commit a batch in the thread.
   *
   * @param ops Write operations.
   * @returns One outcome per operation.
   */
  async commit(ops: WriteOp[]): Promise<OpOutcome[]> {
    const batch = packBatch(ops);
    const outcomes = await this.#call({ type: "commit", batch }, batchTransfer(batch));
    return unpackOutcomes(ops, outcomes as PackedOutcomes);
  }

  /** Check that the database takes a write transaction. */
  async probe(): Promise<void> {
    await this.#call({ type: "probe" });
  }

  /** Close the database and end the thread. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#call({ type: "close" });
    } finally {
      this.#closed = true;
      this.#failAll(new Error("SQLite writer thread is closed"));
      this.#worker.terminate();
    }
  }
}

function serve(scope: {
  onmessage: ((event: MessageEvent<Request>) => void) | null;
  postMessage: (reply: Reply) => void;
}): void {
  let writer: SqliteWriter | undefined;
  scope.onmessage = (event: MessageEvent<Request>) => {
    const req = event.data;
    try {
      let value: unknown;
      switch (req.type) {
        case "open":
          writer?.close();
          writer = new SqliteWriter(req.path, req.options);
          break;
        case "commit":
          if (writer === undefined) throw new Error("database is not open");
          value = writer.commit(req.batch);
          break;
        case "probe":
          if (writer === undefined) throw new Error("database is not open");
          writer.probe();
          break;
        case "close":
          writer?.close();
          writer = undefined;
          break;
      }
      scope.postMessage({ id: req.id, ok: true, value });
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      scope.postMessage({ id: req.id, ok: false, error: { name: e.name, message: e.message } });
    }
  };
}

// deno-lint-ignore no-explicit-any
const workerScope = globalThis as any;
if (typeof workerScope.WorkerGlobalScope !== "undefined" && workerScope.name === WORKER_NAME) {
  serve(workerScope);
}
