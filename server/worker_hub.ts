/**
 * The supervisor's side of the worker links (`[process] workers`): a Unix socket in a private
 * directory (mode 0700) that each worker connects to with the secret it was started with (see
 * `protocol/worker_link.ts` and `supervisor_link.ts`). The hub keeps the bans in force and every
 * worker's per-IP connection counts; it relays each ban and lifted ban to every worker in the
 * order it got them, each offence to every worker but its sender (which counted it already;
 * the others count it as their own, and do not send it again), answers a worker's `sync` with
 * the bans in force, and sends each worker the sum of the other workers' counts of every
 * (port, IP) that changed, batched within `flushMs`. In a hand-over it tells every worker that
 * stopped accepting (`handover_ready`) to go on (`handover_go`) once every linked worker has
 * stopped accepting (a worker whose link closes meanwhile is not waited for).
 *
 * It sees bans, offences and connection counts, never shares: its work grows with connects,
 * disconnects and offending connections, not with the share rate. It keeps no offences: one is
 * passed on at once, or dropped for a worker whose link already has `offenceBacklogBytes`
 * unsent (an attacker sets the rate of offences; a lost one only delays a ban, which each
 * worker's own count still makes), so offences never fill a link's send queue and close it.
 * A line that does not parse, a line longer than
 * {@linkcode MAX_LINK_LINE_BYTES}, a wrong secret or no `hello` within `helloTimeoutMs` closes
 * that link (logged), never the hub; a worker whose link closes has its counts dropped (its
 * connections went with it, or it sends them again when it reconnects).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { EpisodeLog } from "../log/mod.ts";
import { LineConnection } from "../net/line_connection.ts";
import {
  encodeLinkMessage,
  type LinkBan,
  type LinkCount,
  type LinkOffence,
  MAX_LINK_ENTRIES,
  MAX_LINK_LINE_BYTES,
  parseWorkerMessage,
  type SupervisorToWorker,
  WORKER_LINK_VERSION,
  type WorkerToSupervisor,
} from "../protocol/worker_link.ts";

const log = getLogger(["vbkpool", "server", "workers"]);
/** Bad links can come as fast as something can connect: one line per kind, then counted. */
const episodes = new EpisodeLog(log);

/** How often ended bans are forgotten, ms. */
const BAN_SWEEP_MS = 10_000;

/** Options for {@linkcode WorkerHub.listen}. */
export interface WorkerHubOptions {
  /** Worker count: a hello names an index below it. */
  workers: number;
  /** Longest wait before changed counts are sent to the workers, ms. @default 10 */
  flushMs?: number;
  /** Unsent bytes on a link past which an offence is not relayed on it. @default 262144 */
  offenceBacklogBytes?: number;
  /** Time a new link has to say hello, ms. @default 5000 */
  helloTimeoutMs?: number;
  /** Clock, ms since epoch. @default Date.now */
  now?: () => number;
}

/** One worker's link. */
interface Link {
  conn: LineConnection;
  /** Its index, once it said hello. */
  worker?: number;
}

/** The `(port, ip)` key of the count maps. */
function countKey(port: string, ip: string): string {
  return `${port}\n${ip}`;
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Compare two secrets in time that does not depend on where they differ. */
function sameToken(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * The supervisor's hub of worker links. {@linkcode WorkerHub.listen} creates the socket; give
 * each worker {@linkcode WorkerHub.path}, {@linkcode WorkerHub.token} and its index.
 *
 * @example Usage
 * ```ts
 * import { WorkerHub } from "./worker_hub.ts";
 * import assert from "node:assert/strict";
 *
 * const hub = await WorkerHub.listen({ workers: 2 });
 * assert.match(hub.path, /link\.sock$/);
 * assert.equal(Deno.statSync(hub.path.replace(/\/link\.sock$/, "")).mode! & 0o777, 0o700);
 * await hub.close();
 * ```
 */
export class WorkerHub {
  /** The socket's path. */
  readonly path: string;
  /** The secret every worker's hello carries. */
  readonly token: string = randomToken();
  #dir: string;
  #listener: Deno.Listener;
  #o: WorkerHubOptions;
  #now: () => number;
  #links = new Set<Link>();
  /** The identified link of each worker. */
  #workers = new Map<number, Link>();
  #bans = new Map<string, LinkBan>();
  /** Each worker's counts by (port, ip) key (non-zero only). */
  #counts = new Map<number, Map<string, number>>();
  /** Sum over the workers by key. */
  #totals = new Map<string, number>();
  /** What each worker was last told of the others, by key (non-zero only). */
  #told = new Map<number, Map<string, number>>();
  #dirty = new Set<string>();
  /** Workers that stopped accepting for a hand-over and wait for the others. */
  #handingOver = new Set<number>();
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #sweep: ReturnType<typeof setInterval>;
  #accepting: Promise<void>;
  #closed = false;

  private constructor(dir: string, listener: Deno.Listener, options: WorkerHubOptions) {
    this.#dir = dir;
    this.path = (listener.addr as Deno.UnixAddr).path;
    this.#listener = listener;
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#sweep = setInterval(() => this.#forgetEnded(), BAN_SWEEP_MS);
    Deno.unrefTimer(this.#sweep);
    this.#accepting = this.#acceptLoop();
  }

  /**
   * Make a private directory (mode 0700) and listen on a Unix socket in it.
   *
   * @param options Worker count and timings.
   * @returns The listening hub.
   * @throws {Error} When the directory or the socket cannot be made.
   */
  static async listen(options: WorkerHubOptions): Promise<WorkerHub> {
    const dir = await Deno.makeTempDir({ prefix: "vbkpool-workers-" });
    try {
      await Deno.chmod(dir, 0o700);
      const path = `${dir}/link.sock`;
      const listener = Deno.listen({ transport: "unix", path });
      await Deno.chmod(path, 0o600);
      return new WorkerHub(dir, listener, options);
    } catch (err) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw err;
    }
  }

  /** Workers linked now (said hello). */
  get linked(): number {
    return this.#workers.size;
  }

  /**
   * The bans in force, as the workers were told.
   *
   * @returns Copies, oldest first.
   */
  bans(): LinkBan[] {
    const now = this.#now();
    return [...this.#bans.values()].filter((b) => now < b.until).map((b) => ({ ...b }));
  }

  /** Stop listening, close every link and remove the socket's directory. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    clearTimeout(this.#flushTimer);
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    const done = [...this.#links].map((link) => {
      link.conn.close("supervisor stopping");
      return link.conn.done;
    });
    await Promise.allSettled([this.#accepting, ...done]);
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#closed) {
      let socket: Deno.Conn;
      try {
        socket = await this.#listener.accept();
      } catch (err) {
        if (this.#closed || err instanceof Deno.errors.BadResource) return;
        // Out of descriptors, say: the links already up go on; try again shortly.
        episodes.error("accept", "worker link: cannot accept: {error}", { error: String(err) });
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      this.#open(socket);
    }
  }

  #open(socket: Deno.Conn): void {
    const conn = new LineConnection(socket, {
      maxLineBytes: MAX_LINK_LINE_BYTES,
      maxSendQueueBytes: 64 * MAX_LINK_LINE_BYTES,
      coalesceWrites: true,
    });
    const link: Link = { conn };
    this.#links.add(link);
    const hello = setTimeout(() => {
      if (link.worker === undefined) conn.close("no hello in time");
    }, this.#o.helloTimeoutMs ?? 5000);
    void conn.start({
      onLine: (line) => this.#onLine(link, line),
      onClose: (reason) => {
        clearTimeout(hello);
        this.#linkClosed(link, reason);
      },
    });
  }

  #onLine(link: Link, line: string): void {
    const parsed = parseWorkerMessage(line);
    if (!parsed.ok) return this.#refuse(link, `bad message: ${parsed.error}`);
    const message = parsed.message;
    if (link.worker === undefined) {
      if (message.type !== "hello") return this.#refuse(link, "bad message: hello first");
      return this.#hello(link, message);
    }
    this.#handle(link.worker, message);
  }

  #refuse(link: Link, reason: string): void {
    link.conn.close(reason);
  }

  #hello(link: Link, hello: Extract<WorkerToSupervisor, { type: "hello" }>): void {
    if (hello.version !== WORKER_LINK_VERSION) {
      return this.#refuse(
        link,
        `bad message: version ${hello.version}, not ${WORKER_LINK_VERSION}`,
      );
    }
    if (!sameToken(hello.token, this.token)) return this.#refuse(link, "bad message: wrong token");
    if (hello.worker >= this.#o.workers) {
      return this.#refuse(link, `bad message: no worker ${hello.worker}`);
    }
    // A worker started again, or linked again: its old link (if any) is done.
    const old = this.#workers.get(hello.worker);
    if (old !== undefined) {
      old.worker = undefined;
      old.conn.close("replaced by a new link of the same worker");
    }
    this.#dropCounts(hello.worker);
    this.#handingOver.delete(hello.worker);
    link.worker = hello.worker;
    this.#workers.set(hello.worker, link);
    this.#counts.set(hello.worker, new Map());
    this.#told.set(hello.worker, new Map());
    log.debug("worker {worker} linked", { worker: hello.worker });
  }

  #handle(worker: number, message: WorkerToSupervisor): void {
    switch (message.type) {
      case "hello":
        return this.#refuse(this.#workers.get(worker)!, "bad message: a second hello");
      case "ban":
        return this.#ban(message.ban);
      case "unban":
        this.#bans.delete(message.ip);
        return this.#broadcast({ type: "unban", ip: message.ip });
      case "offence":
        return this.#offence(worker, message.offence);
      case "sync":
        return this.#sync(worker);
      case "counts":
        return this.#count(worker, message.counts);
      case "handover_ready":
        this.#handingOver.add(worker);
        return this.#handOverWhenAll();
    }
  }

  /** Every linked worker stopped accepting: tell the waiting ones to ask their miners now. */
  #handOverWhenAll(): void {
    if (this.#handingOver.size === 0) return;
    for (const worker of this.#workers.keys()) if (!this.#handingOver.has(worker)) return;
    log.info("every worker stopped accepting: they ask their miners to reconnect now");
    for (const worker of this.#handingOver) {
      this.#workers.get(worker)?.conn.send(encodeLinkMessage({ type: "handover_go" }));
    }
    this.#handingOver.clear();
  }

  /** Keep the later end of two bans of one IP, and tell every worker (the sender too). */
  #ban(ban: LinkBan): void {
    if (ban.until <= this.#now()) return;
    const current = this.#bans.get(ban.ip);
    const kept = current !== undefined && current.until >= ban.until ? current : ban;
    this.#bans.set(ban.ip, kept);
    this.#broadcast({ type: "ban", ban: kept });
  }

  /** Pass an offence on to every worker but its sender, unless that worker is far behind. */
  #offence(from: number, offence: LinkOffence): void {
    const limit = this.#o.offenceBacklogBytes ?? 262_144;
    let line: string | undefined;
    for (const [worker, link] of this.#workers) {
      if (worker === from || link.conn.queuedBytes > limit) continue;
      line ??= encodeLinkMessage({ type: "offence", offence });
      link.conn.send(line);
    }
  }

  #sync(worker: number): void {
    const link = this.#workers.get(worker)!;
    const bans = this.bans();
    for (let i = 0; i === 0 || i < bans.length; i += MAX_LINK_ENTRIES) {
      const chunk = bans.slice(i, i + MAX_LINK_ENTRIES);
      const done = i + MAX_LINK_ENTRIES >= bans.length;
      link.conn.send(encodeLinkMessage({ type: "bans", bans: chunk, done }));
    }
    // The others' counts as they are now; changes follow as they come.
    const own = this.#counts.get(worker)!;
    const told = this.#told.get(worker)!;
    const counts: LinkCount[] = [];
    for (const [key, total] of this.#totals) {
      const others = total - (own.get(key) ?? 0);
      if (others <= 0 || told.get(key) === others) continue;
      told.set(key, others);
      const [port, ip] = key.split("\n") as [string, string];
      counts.push([port, ip, others]);
    }
    this.#sendCounts(link, counts);
  }

  #count(worker: number, entries: LinkCount[]): void {
    const own = this.#counts.get(worker)!;
    for (const [port, ip, n] of entries) {
      const key = countKey(port, ip);
      const before = own.get(key) ?? 0;
      if (n === before) continue;
      if (n > 0) own.set(key, n);
      else own.delete(key);
      this.#addTotal(key, n - before);
    }
  }

  #addTotal(key: string, delta: number): void {
    const total = (this.#totals.get(key) ?? 0) + delta;
    if (total > 0) this.#totals.set(key, total);
    else this.#totals.delete(key);
    this.#dirty.add(key);
    this.#flushTimer ??= setTimeout(() => this.#flush(), this.#o.flushMs ?? 10);
  }

  /** Tell each worker the others' counts of the keys that changed (only where it differs). */
  #flush(): void {
    this.#flushTimer = undefined;
    for (const [worker, link] of this.#workers) {
      const own = this.#counts.get(worker)!;
      const told = this.#told.get(worker)!;
      const counts: LinkCount[] = [];
      for (const key of this.#dirty) {
        const others = (this.#totals.get(key) ?? 0) - (own.get(key) ?? 0);
        if ((told.get(key) ?? 0) === others) continue;
        if (others > 0) told.set(key, others);
        else told.delete(key);
        const [port, ip] = key.split("\n") as [string, string];
        counts.push([port, ip, others]);
      }
      this.#sendCounts(link, counts);
    }
    this.#dirty.clear();
  }

  #sendCounts(link: Link, counts: LinkCount[]): void {
    for (let i = 0; i < counts.length; i += MAX_LINK_ENTRIES) {
      link.conn.send(
        encodeLinkMessage({ type: "counts", counts: counts.slice(i, i + MAX_LINK_ENTRIES) }),
      );
    }
  }

  #broadcast(message: SupervisorToWorker): void {
    const line = encodeLinkMessage(message);
    for (const link of this.#workers.values()) link.conn.send(line);
  }

  /** A worker's counts go (its connections went with its link, or come again after hello). */
  #dropCounts(worker: number): void {
    const own = this.#counts.get(worker);
    this.#counts.delete(worker);
    this.#told.delete(worker);
    for (const [key, n] of own ?? []) this.#addTotal(key, -n);
  }

  #linkClosed(link: Link, reason: string): void {
    this.#links.delete(link);
    const worker = link.worker;
    if (worker !== undefined && this.#workers.get(worker) === link) {
      this.#workers.delete(worker);
      this.#dropCounts(worker);
      // Gone: the others no longer wait for it.
      this.#handingOver.delete(worker);
      if (!this.#closed) this.#handOverWhenAll();
    }
    if (this.#closed) return;
    const bad = reason.startsWith("bad message") || reason === "line too long" ||
      reason.startsWith("no hello");
    if (bad) {
      // One line per kind of fault (values left out of the key), then counted.
      episodes.warn(reason.replace(/"[^"]*"|\d+/g, ""), "worker link closed: {reason}", {
        reason,
        worker: worker ?? "unknown",
      });
    } else {
      log.debug("worker {worker} link closed: {reason}", { worker: worker ?? "unknown", reason });
    }
  }

  #forgetEnded(): void {
    const now = this.#now();
    for (const [ip, ban] of this.#bans) if (ban.until <= now) this.#bans.delete(ip);
  }
}
