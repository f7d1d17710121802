/**
 * One live server per instance id on one store. Several `vbkpool server` processes may share a
 * PostgreSQL database, each with its own `[stratum] instance_id` (the top bits of every
 * extranonce). Two configured with the same id would draw extranonce counters of one space; the
 * store keeps their reservations apart, but each allocator then runs into the other's blocks and
 * stops accepting miners, and their blocks and hash rates are mixed up under one id. So a server
 * holds a lease row for its id, renewed every few seconds: a second server with that id is
 * refused at start (loudly, naming the holder), and a server restarted after a crash (whose
 * lease nobody renews any more) waits until the old lease runs out, then takes it.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { EpisodeLog } from "../log/mod.ts";
import type { InstanceLease, Store } from "../store/mod.ts";

const log = getLogger(["vbkpool", "server", "instance"]);
const episodes = new EpisodeLog(log);

/** Options for {@linkcode InstanceLeaseKeeper.acquire}. */
export interface InstanceLeaseOptions {
  /** Pool instance id, 0..31. */
  instance: number;
  /** How long a lease lasts without renewal (ms). @default 15000 */
  ttlMs?: number;
  /** How often it is renewed (ms). @default ttlMs / 3 */
  renewMs?: number;
  /** Who holds it. @default `host pid N (random)` */
  owner?: string;
  /**
   * A zero-downtime hand-over (`[process] reuse_port`): when a live process on this host holds
   * the id, this one starts as its successor instead of being refused, and takes the lease when
   * the holder lets it go (at the end of its hand-over) or it runs out. A holder on another host
   * is still refused. @default false
   */
  handOver?: boolean;
  /**
   * How long a successor may wait for the lease before it says, as an error, that its holder is
   * not handing over (two servers with one instance id on this host). @default 120000
   */
  successorPatienceMs?: number;
}

/**
 * Another live server holds the instance id on this store.
 *
 * @example Usage
 * ```ts
 * import { InstanceInUseError } from "./instance_lease.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new InstanceInUseError("taken").name, "InstanceInUseError");
 * ```
 */
export class InstanceInUseError extends Error {
  /**
   * @param message Complete message.
   */
  constructor(message: string) {
    super(message);
    this.name = "InstanceInUseError";
  }
}

function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    // No permission for the host name: the pid and the random part still tell processes apart.
    return "unknown-host";
  }
}

/** This process's PID namespace (Linux), so that a pid is only judged where it means something. */
function pidNamespace(): string | undefined {
  try {
    return /\[(\d+)\]/.exec(Deno.readLinkSync("/proc/self/ns/pid"))?.[1];
  } catch {
    return undefined;
  }
}

/** This boot of this machine (Linux): a host name alone is shared by cloned VMs and containers. */
function bootId(): string | undefined {
  try {
    const id = Deno.readTextFileSync("/proc/sys/kernel/random/boot_id").trim();
    return /^[0-9a-f-]{8,}$/.test(id) ? id.replaceAll("-", "").slice(0, 16) : undefined;
  } catch {
    return undefined;
  }
}

function defaultOwner(): string {
  const host = hostName();
  const random = crypto.getRandomValues(new Uint8Array(4));
  const tag = [...random].map((b) => b.toString(16).padStart(2, "0")).join("");
  const ns = pidNamespace();
  const boot = bootId();
  const where = ns === undefined || boot === undefined ? "" : ` ns ${ns} boot ${boot}`;
  return `${host} pid ${Deno.pid}${where} (${tag})`.slice(0, 200);
}

/** The holder's host, pid and PID namespace when it ran on this very machine and boot. */
function localHolder(owner: string): { pid: number; ns: string } | undefined {
  const m = /^(.*) pid (\d+) ns (\d+) boot ([0-9a-f]+) \(/.exec(owner);
  const host = hostName();
  if (m === null || host === "unknown-host" || m[1] !== host || m[4] !== bootId()) return undefined;
  return { pid: Number(m[2]), ns: m[3]! };
}

/**
 * Whether `owner` names a process of this machine (host name and boot id) and PID namespace
 * that no longer exists. Only a missing process counts: a pid reused by another process looks
 * alive, and the lease is then left to run out as for any other holder.
 */
function goneHere(owner: string): boolean {
  const holder = localHolder(owner);
  if (holder === undefined || holder.ns !== pidNamespace() || holder.pid === Deno.pid) return false;
  try {
    Deno.statSync(`/proc/${holder.pid}`);
    return false;
  } catch (err) {
    return err instanceof Deno.errors.NotFound;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Holds (and renews) this server's instance id lease.
 *
 * @example Usage
 * ```ts
 * import { InstanceInUseError, InstanceLeaseKeeper } from "./instance_lease.ts";
 * import { openStore } from "../store/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
 * const first = await InstanceLeaseKeeper.acquire(store, { instance: 3, ttlMs: 600 });
 * await assert.rejects(
 *   InstanceLeaseKeeper.acquire(store, { instance: 3, ttlMs: 600 }),
 *   InstanceInUseError,
 * );
 * await first.close();
 * const again = await InstanceLeaseKeeper.acquire(store, { instance: 3, ttlMs: 600 });
 * await again.close();
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class InstanceLeaseKeeper {
  /** Who holds the lease (this process). */
  readonly owner: string;
  #store: Store;
  #instance: number;
  #ttlMs: number;
  #timer: ReturnType<typeof setInterval>;
  #renewing: Promise<void> | undefined;
  #lost = false;
  #successor: boolean;
  #successorSince = Date.now();
  #successorPatienceMs = 120_000;
  #successorWarned = false;

  private constructor(
    store: Store,
    instance: number,
    owner: string,
    ttlMs: number,
    renewMs: number,
    successor = false,
  ) {
    this.#successor = successor;
    this.#store = store;
    this.#instance = instance;
    this.owner = owner;
    this.#ttlMs = ttlMs;
    this.#timer = setInterval(() => {
      this.#renewing ??= this.#renew().finally(() => this.#renewing = undefined);
    }, renewMs);
  }

  /**
   * Take the lease of `options.instance`. A holder that was a process of this host and is gone
   * (a crash, then a restart) is replaced at once. When another process holds it, watch the
   * holder for one renewal period: a holder that renews is alive, and this server is refused; one
   * that does not (it crashed elsewhere) loses the lease when it runs out, and this server takes it.
   *
   * @param store The shared store.
   * @param options Instance id, lease length, renewal period, owner name.
   * @returns The keeper (renewing until closed).
   * @throws {InstanceInUseError} (as a rejection) when a live process holds the instance id.
   * @throws {StoreUnavailableError} (as a rejection) when the store cannot commit.
   */
  static async acquire(store: Store, options: InstanceLeaseOptions): Promise<InstanceLeaseKeeper> {
    const ttlMs = options.ttlMs ?? 15_000;
    const renewMs = options.renewMs ?? Math.max(1, Math.floor(ttlMs / 3));
    if (!Number.isInteger(ttlMs) || ttlMs < 1 || !Number.isInteger(renewMs) || renewMs >= ttlMs) {
      throw new RangeError(
        `Cannot lease instance: ttlMs must be an integer >= 1 above renewMs, got ${ttlMs}/${renewMs}`,
      );
    }
    const owner = options.owner ?? defaultOwner();
    const instance = options.instance;
    let seen = await store.leaseInstance(instance, { owner, ttlMs });
    if (!seen.acquired && goneHere(seen.owner)) {
      // Restarted after a crash on this host: the holder is provably gone, no need to wait.
      log.warn(
        "instance id {instance} was held by {holder}, a process of this host that is gone: taking it over",
        {
          instance,
          holder: seen.owner,
        },
      );
      await store.releaseInstance(instance, seen.owner);
      seen = await store.leaseInstance(instance, { owner, ttlMs });
    }
    if (!seen.acquired) {
      log.warn(
        "instance id {instance} is leased by {holder} for {seconds} s more: waiting to see whether it is alive",
        { instance, holder: seen.owner, seconds: Math.ceil((seen.expiresAt - Date.now()) / 1000) },
      );
    }
    while (!seen.acquired) {
      // One renewal period (plus slack) shows a live holder; a dead one's lease runs out.
      await sleep(Math.max(10, Math.min(renewMs + 250, seen.expiresAt - Date.now() + 10)));
      const next = await store.leaseInstance(instance, { owner, ttlMs });
      if (next.acquired) {
        log.warn("took over instance id {instance} from {holder}, whose lease ran out", {
          instance,
          holder: seen.owner,
        });
        seen = next;
        break;
      }
      if (renewed(seen, next)) {
        if (options.handOver === true && sameHost(next.owner)) {
          log.info(
            "instance id {instance} is held by {holder} on this host: starting as its successor (hand-over); the lease passes when it stops",
            { instance, holder: next.owner },
          );
          const keeper = new InstanceLeaseKeeper(store, instance, owner, ttlMs, renewMs, true);
          keeper.#successorPatienceMs = options.successorPatienceMs ?? 120_000;
          return keeper;
        }
        throw new InstanceInUseError(inUseMessage(instance, next));
      }
      seen = next;
    }
    return new InstanceLeaseKeeper(store, instance, owner, ttlMs, renewMs);
  }

  /** Whether this process waits for the lease of the process it succeeds (a hand-over). */
  get successor(): boolean {
    return this.#successor;
  }

  /** Whether the last renewal found another holder (logged as an error when it happened). */
  get lost(): boolean {
    return this.#lost;
  }

  async #renew(): Promise<void> {
    let lease: InstanceLease;
    try {
      lease = await this.#store.leaseInstance(this.#instance, {
        owner: this.owner,
        ttlMs: this.#ttlMs,
      });
    } catch (err) {
      episodes.warn("renew", "cannot renew the lease of instance id {instance}: {error}", {
        instance: this.#instance,
        error: err instanceof Error ? err.message : String(err),
      });
      return;
    }
    episodes.end("renew");
    if (this.#successor) {
      if (!lease.acquired) {
        // The previous process still hands over — or it is no upgrade at all.
        const waited = Date.now() - this.#successorSince;
        if (waited >= this.#successorPatienceMs && !this.#successorWarned) {
          this.#successorWarned = true;
          log.error(
            "instance id {instance} is still held by {holder} after {seconds} s: it is not handing over, so two servers run with this [stratum] instance_id on the same store; stop one, or give each its own",
            { instance: this.#instance, holder: lease.owner, seconds: Math.round(waited / 1000) },
          );
        }
        return;
      }
      this.#successor = false;
      log.info("took the lease of instance id {instance} from the process that handed over", {
        instance: this.#instance,
      });
      return;
    }
    if (!lease.acquired && !this.#lost) {
      this.#lost = true;
      log.error(
        "lost the lease of instance id {instance} to {holder}: another server runs with this [stratum] instance_id on the same store; give each server its own",
        { instance: this.#instance, holder: lease.owner },
      );
    } else if (lease.acquired && this.#lost) {
      this.#lost = false;
      log.warn("holding the lease of instance id {instance} again", { instance: this.#instance });
    }
  }

  /** Stop renewing and give the lease back (a failure leaves it to run out). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#renewing;
    await this.#store.releaseInstance(this.#instance, this.owner).catch(() => {});
  }
}

function sameHost(owner: string): boolean {
  return localHolder(owner) !== undefined;
}

function renewed(before: InstanceLease, after: InstanceLease): boolean {
  return before.owner !== after.owner || before.expiresAt !== after.expiresAt;
}

function inUseMessage(instance: number, holder: InstanceLease): string {
  return `Cannot start: instance id ${instance} is in use on this store by ${holder.owner}, ` +
    "which is alive (it renews its lease); give each server sharing a database its own " +
    "[stratum] instance_id (0..31)";
}
