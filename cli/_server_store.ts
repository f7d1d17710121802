/**
 * The server's persistence wiring: opens the store from `[store]`, and makes the pool's seams
 * durable (share recorder, worker difficulty, extranonce reservations, found blocks) plus the
 * periodic pruning. `cli/server.ts` opens it before the pool and closes it after the pool.
 *
 * @module
 */
import { logger } from "./log.ts";
import { storeOptions } from "./_store_schema.ts";
import type { ExtranonceAllocatorOptions } from "../server/extranonce.ts";
import { BlockRecorder } from "../server/block_recorder.ts";
import { ExtranonceReservations } from "../server/extranonce_reservations.ts";
import { InstanceLeaseKeeper } from "../server/instance_lease.ts";
import type { ShareRecorder } from "../server/share_recorder.ts";
import { StoreShareRecorder } from "../server/store_share_recorder.ts";
import { StoreWorkerDifficulty } from "../server/store_worker_difficulty.ts";
import type { WorkerDifficultyStore } from "../server/worker_difficulty.ts";
import { isPostgresLocation, openStore, redactUrl, type Store } from "../store/mod.ts";

type Values = Record<string, unknown>;

const DAY_MS = 86_400_000;

/** What the server gets from its store. */
export interface ServerStore {
  /** The store. */
  store: Store;
  /** Durable share recorder (the pool's `recorder`). */
  recorder: ShareRecorder;
  /** Persistent worker difficulties (the pool's `difficulties`). */
  difficulties: WorkerDifficultyStore;
  /** Extranonce allocator options with persistent reservations (the pool's `extranonce`). */
  extranonce: ExtranonceAllocatorOptions;
  /** Keeps block candidates and NodeCore's answers (the pool's `blocks`). */
  blocks: BlockRecorder;
  /** Stop pruning, finish block writes and close the store (after the pool stopped). */
  close(): Promise<void>;
}

/** Where the store is, without a password (for logs). */
function shown(url: string): string {
  return isPostgresLocation(url) ? redactUrl(url) : url;
}

/**
 * Open the store named by `[store]` and build the pool's durable seams.
 *
 * @param s The `[store]` values.
 * @param options This instance's id, extranonce range size and lease length (from `[stratum]`),
 *   and whether a live holder on this host is a process handing over (`[process] reuse_port`).
 * @returns The wiring.
 * @throws {StoreUnavailableError} When the database cannot be opened (a clear message, exit 1).
 * @throws {InstanceInUseError} When a live server holds this instance id on the store.
 */
export async function openServerStore(
  s: Values,
  options: { instance: number; rangeSize: bigint; leaseMs?: number; handOver?: boolean },
): Promise<ServerStore> {
  const log = logger("store");
  const { url, options: openOptions } = storeOptions(s);
  const store = await openStore(url, openOptions);
  let lease: InstanceLeaseKeeper | undefined;
  let reservations: ExtranonceReservations;
  try {
    // Before any extranonce: a second live server with this instance id is refused here.
    lease = await InstanceLeaseKeeper.acquire(store, {
      instance: options.instance,
      ...(options.leaseMs === undefined ? {} : { ttlMs: options.leaseMs }),
      handOver: options.handOver === true,
    });
    reservations = await ExtranonceReservations.open(store, {
      instance: options.instance,
      rangeSize: options.rangeSize,
    });
  } catch (err) {
    await lease?.close();
    await store.close();
    throw err;
  }
  log.info("store {backend} at {url}; extranonce counters of instance {instance} from {first}", {
    backend: store.backend,
    url: shown(url),
    instance: options.instance,
    first: reservations.firstCounter.toString(),
  });
  const blocks = new BlockRecorder(store, { instance: options.instance });
  let pruneTimer: ReturnType<typeof setInterval> | undefined;
  let pruning: Promise<unknown> | undefined;
  const intervalMs = Math.round((s.prune_interval_minutes as number) * 60_000);
  if (intervalMs > 0) {
    pruneTimer = setInterval(() => {
      if (pruning !== undefined) return;
      const now = Date.now();
      pruning = store.prune({
        sharesBefore: Math.max(0, now - Math.round((s.keep_shares_days as number) * DAY_MS)),
        pplnsWindow: s.pplns_window as number,
        rollupsBefore: Math.max(0, now - Math.round((s.keep_rollups_days as number) * DAY_MS)),
        now,
      }).catch((err) => {
        log.warn("pruning failed: {error}", { error: (err as Error).message });
      }).finally(() => pruning = undefined);
    }, intervalMs);
  }
  return {
    store,
    recorder: new StoreShareRecorder(store, { instance: options.instance }),
    difficulties: new StoreWorkerDifficulty(store),
    extranonce: reservations.allocatorOptions(),
    blocks,
    async close() {
      clearInterval(pruneTimer);
      await pruning;
      await blocks.close();
      await reservations.close();
      await lease.close();
      await store.close();
      log.info("store closed");
    },
  };
}
