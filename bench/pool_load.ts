/**
 * The load generator of `deno task bench:pool`: simulated Stratum miners in a process of their
 * own (`bench/pool_bench.ts` starts it with `deno run`), driven by JSON commands on stdin and
 * answering with one JSON line per command on stdout. Loopback only.
 *
 * Commands:
 * - `{"cmd":"connect","port":P,"total":N,"ca":FILE?,"spread":{…}?}`: open connections (over TLS trusting the
 *   PEM certificate FILE when `ca` is given) until N miners are connected,
 *   each subscribed and authorized with the password `d=1` (difficulty 1: every hash is a share,
 *   so no mining is needed) and holding a job. Answers `{connected, failed, ms}`.
 * - `{"cmd":"arm"}` then `{"cmd":"await","timeoutMs":T}`: the wall-clock arrival time of the
 *   next `mining.notify` at every miner (armed before the caller makes a new template).
 *   Answers `{received, missing, first, p50, p99, last}` (ms since the epoch, fractional).
 * - `{"cmd":"shares","rate":R,"seconds":S,"warmupSeconds":W,"miners":K,"burst":B}`: K miners
 *   submit at R shares/s in aggregate (open loop, paced every 2 ms) for W + S seconds; the last S
 *   are measured. With B > 1 each miner sends B submits back to back (B in flight at once). Each submit is a unique (extranonce, ntime, nonce) on the miner's newest job,
 *   built without hashing; the pool hashes and stores every one. Latency runs from the moment a
 *   submit was due to the moment its reply was read. Waits up to 10 s for outstanding replies.
 * - `{"cmd":"mine-start","warmupSeconds":W}` … `{"cmd":"mine-stop"}`: the simulated miners
 *   (connected with a `spread` and a hashrate) find real shares at their difficulty; answers
 *   the measured figures at the stop. `{"cmd":"close-all"}` leaves every miner.
 * - `{"cmd":"trim","total":N}`: close miners until N are left.
 * - `{"cmd":"totals"}`: `true` replies, submit replies and submits over the whole run.
 * - `{"cmd":"close"}`: close every connection and exit.
 *
 * ```sh
 * deno run -A bench/pool_load.ts   # normally started by bench/pool_bench.ts
 * ```
 *
 * @module
 */

import * as net from "node:net";
import { benchAddress, minerIdentity, nextShareSeconds, sourceAddress } from "./_load_spread.ts";
import { createBestKernel, difficultyToTarget, targetToBytes } from "../hash/mod.ts";
import { parseServerMessage } from "../protocol/mod.ts";
import type { NotifyJob } from "../protocol/mod.ts";
import { buildThreadWork } from "../miner/mod.ts";

const ADDRESS = "VFFDWUMLJwLRuNzH4NX8Rm32E59n6d";
const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();
const CONNECT_CONCURRENCY = 200;

/** One measured share step. */
interface StepStats {
  windowStart: number;
  windowEnd: number;
  sent: number;
  accepted: number;
  latencies: number[];
  /** Worst latency per 100 ms of due time (to tell one stall from a slow pool). */
  worstByWindow: Map<number, number>;
  /** When the first miner got each new job (ms into the window). */
  notifies: number[];
  errors: Map<string, number>;
  /** `mining.set_difficulty` messages read in the window. */
  setDifficulty: number;
}

let step: StepStats | undefined;
/** The job id the generator saw last (to note when a new one arrives). */
let lastJobId = "";
/** `true` replies over the whole run (compared with the stored rows at the end). */
let acceptedTotal = 0;
/** Submit replies over the whole run. */
let repliesTotal = 0;
let submittedTotal = 0;

/** Fan-out measurement state: a new generation per round, 0 while not measuring. */
let generation = 0;
let armed = 0;
/** Only notifies with clean_jobs true count as arrivals (the new-block path). */
let armClean = false;
let setDifficultyTotal = 0;
let arrivals: number[] = [];
let onArrival: (() => void) | undefined;

/** Who a miner is and how it mines (see `connect`). */
interface MinerSetup {
  /** `ADDRESS[.WORKER]`. */
  worker: string;
  /** The authorize password. */
  password: string;
  /** Simulated difficulty-1 hashes per second; 0 = a stress miner that never hashes. */
  hashrate: number;
}

const STRESS_SETUP: MinerSetup = { worker: ADDRESS, password: "d=1", hashrate: 0 };
let kernel: ReturnType<typeof createBestKernel> | undefined;

class Miner {
  readonly conn: Deno.Conn | undefined;
  readonly socket: net.Socket | undefined;
  readonly setup: MinerSetup;
  extranonce = "";
  /** The current share difficulty and one announced for the next job. */
  difficulty = 1;
  pendingDifficulty = 0;
  /** When this simulated miner finds its next share (performance.now()), 0 = not mining. */
  nextShareAt = 0;
  /** Closed by the generator (trim, close) rather than by the pool. */
  closedByUs = false;
  #notifyLine = "";
  #work: { jobId: string; difficulty: number; header: Uint8Array; target: Uint8Array } | undefined;
  #job: NotifyJob | undefined;
  #scanFrom = 0;
  #jobKey = "";
  authorized = false;
  jobId = "";
  ntime = "";
  #notifyTail = "";
  #nonce = 0;
  #nextId = 1;
  /** Due times of the submits awaiting replies, in id order (the pool answers in order). */
  #due: number[] = [];
  #dueIds: number[] = [];
  #dueHead = 0;
  #out = "";
  #writing = false;
  #rest = "";
  #armedSeen = 0;
  #ready: (() => void) | undefined;
  readonly ready: Promise<void>;
  closed = false;

  constructor(conn: Deno.Conn | net.Socket, setup: MinerSetup) {
    this.setup = setup;
    if (conn instanceof net.Socket) {
      this.socket = conn;
      conn.setNoDelay(true);
      conn.on("error", () => {});
      conn.on("close", () => this.close());
    } else {
      this.conn = conn;
      (conn as Deno.TcpConn).setNoDelay?.(true);
    }
    this.ready = new Promise((resolve) => this.#ready = resolve);
  }

  get outstanding(): number {
    return this.#due.length - this.#dueHead;
  }

  start(): void {
    this.queue(
      '{"id":"s","method":"mining.subscribe","params":["bench/1.0"]}\n' +
        `{"id":"a","method":"mining.authorize","params":["${this.setup.worker}",` +
        `"${this.setup.password}"]}\n`,
    );
    this.flush();
    if (this.socket !== undefined) {
      this.socket.on("data", (chunk: Uint8Array) => this.#onChunk(chunk, performance.now()));
    } else void this.#readLoop();
  }

  queue(text: string): void {
    this.#out += text;
  }

  /** Queue one submit on the newest job; `due` is when it was due (performance.now()). */
  submit(due: number): void {
    if (this.ntime === "") this.ntime = this.#notifyTail.split(",")[0]!.slice(1, -1);
    const id = this.#nextId++;
    const nonce = (this.#nonce++ >>> 0).toString(16).padStart(8, "0");
    this.#due.push(due);
    this.#dueIds.push(id);
    this.#out += `{"id":${id},"method":"mining.submit","params":["${this.setup.worker}",` +
      `"${this.jobId}","${this.extranonce}","${this.ntime}","${nonce}"]}\n`;
  }

  /**
   * Find a real share at the current difficulty on the newest job (the wasm kernel scans
   * nonces; about `difficulty` hashes per share) and queue its submit.
   *
   * @returns Hashes tried.
   */
  mineShare(due: number): number {
    const work = this.#currentWork();
    let tried = 0;
    for (let attempt = 0; attempt < 64; attempt++) {
      const count = Math.min(2 ** 32 - this.#scanFrom, this.difficulty * 16 + 256);
      if (count <= 0) break;
      const r = kernel!.scan(work.header, {
        startNonce: this.#scanFrom,
        count,
        target: work.target,
        maxResults: 1,
      });
      tried += r.tried;
      const nonce = r.nonces[0];
      this.#scanFrom += r.tried;
      if (nonce === undefined) continue;
      this.#scanFrom = nonce + 1;
      const id = this.#nextId++;
      this.#due.push(due);
      this.#dueIds.push(id);
      this.#out += `{"id":${id},"method":"mining.submit","params":["${this.setup.worker}",` +
        `"${work.jobId}","${this.extranonce}","${hex8(this.#job!.timestamp)}","${hex8(nonce)}"]}\n`;
      return tried;
    }
    throw new Error(`Cannot find a share at difficulty ${this.difficulty}`);
  }

  /** The header and target of the newest job at the current difficulty (parsed lazily). */
  #currentWork(): { jobId: string; header: Uint8Array; target: Uint8Array } {
    if (this.#work?.jobId === this.jobId && this.#work.difficulty === this.difficulty) {
      return this.#work;
    }
    if (this.#job?.jobId !== this.jobId) {
      const m = parseServerMessage(this.#notifyLine);
      if (m.kind !== "notify") throw new Error(`Cannot parse notify: ${this.#notifyLine}`);
      // The same work under a fresh job id (the pool resends the job after set_difficulty):
      // go on from the nonce reached, or the shares found again are duplicates.
      const line = this.#notifyLine;
      const key = line.slice(line.indexOf('"', 47) + 1, line.lastIndexOf(","));
      if (key !== this.#jobKey) this.#scanFrom = 0;
      this.#jobKey = key;
      this.#job = m.job;
    }
    const target = difficultyToTarget(BigInt(this.difficulty));
    const work = buildThreadWork(this.#job, {
      generation: 0,
      sessionId: 0,
      extranonce: BigInt("0x" + this.extranonce),
      thread: 0,
      threads: 1,
      target,
    });
    this.#work = {
      jobId: this.jobId,
      difficulty: this.difficulty,
      header: work.header,
      target: targetToBytes(target),
    };
    return this.#work;
  }

  flush(): void {
    if (this.#writing || this.#out === "" || this.closed) return;
    if (this.socket !== undefined) {
      this.socket.write(this.#out);
      this.#out = "";
      return;
    }
    void this.#writeLoop();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn?.close();
      this.socket?.destroy();
    } catch {
      // Already closed.
    }
  }

  async #writeLoop(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#out !== "" && !this.closed) {
        const bytes = ENCODER.encode(this.#out);
        this.#out = "";
        let off = 0;
        while (off < bytes.length) off += await this.conn!.write(bytes.subarray(off));
      }
    } catch {
      this.close();
    } finally {
      this.#writing = false;
    }
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(2048);
    try {
      while (!this.closed) {
        const n = await this.conn!.read(buf);
        if (n === null) break;
        this.#onChunk(buf.subarray(0, n), performance.now());
      }
    } catch {
      // Reset by the pool.
    }
    this.close();
  }

  #onChunk(bytes: Uint8Array, now: number): void {
    const chunk = DECODER.decode(bytes);
    const text = this.#rest === "" ? chunk : this.#rest + chunk;
    let start = 0;
    for (;;) {
      const end = text.indexOf("\n", start);
      if (end < 0) break;
      this.#onLine(text.slice(start, end), now);
      start = end + 1;
    }
    this.#rest = start === text.length ? "" : text.slice(start);
  }

  /** The due time of submit `id`, dropping it (and any older unanswered) from the FIFO. */
  #takeDue(id: number): number | undefined {
    const ids = this.#dueIds;
    while (this.#dueHead < ids.length) {
      const head = this.#dueHead++;
      if (ids[head] === id) {
        const due = this.#due[head];
        if (this.#dueHead === ids.length || this.#dueHead > 4096) {
          this.#due = this.#due.slice(this.#dueHead);
          this.#dueIds = ids.slice(this.#dueHead);
          this.#dueHead = 0;
        }
        return due;
      }
      if (ids[head]! > id) {
        this.#dueHead = head;
        return undefined;
      }
    }
    return undefined;
  }

  #onLine(line: string, now: number): void {
    // Submit replies: {"id":N,"result":...}
    const c = line.charCodeAt(6);
    if (c >= 48 && c <= 57) {
      const comma = line.indexOf(",", 6);
      const due = this.#takeDue(Number(line.slice(6, comma)));
      if (due === undefined) return;
      repliesTotal++;
      const ok = line.startsWith('"result":true', comma + 1);
      if (ok) acceptedTotal++;
      const s = step;
      if (s !== undefined && due >= s.windowStart && due < s.windowEnd) {
        s.latencies.push(now - due);
        const bucket = Math.floor((due - s.windowStart) / 100);
        const worst = s.worstByWindow.get(bucket) ?? 0;
        if (now - due > worst) s.worstByWindow.set(bucket, now - due);
        if (ok) s.accepted++;
        else {
          const m = /"error":\[(-?\d+),"([^"]*)"/.exec(line);
          // "Job 'N' not found" for every N would be one key each: count them together.
          const key = m === null ? line.slice(0, 80) : `${m[1]} ${m[2]!.replace(/'[^']*'/, "'…'")}`;
          s.errors.set(key, (s.errors.get(key) ?? 0) + 1);
        }
      }
      return;
    }
    if (line.startsWith('{"id":null,"method":"mining.notify"')) {
      const q = line.indexOf('"', 47);
      this.jobId = line.slice(47, q);
      if (step !== undefined && this.jobId !== lastJobId && step.notifies.length < 100) {
        lastJobId = this.jobId;
        step.notifies.push(Math.round(now - step.windowStart));
      }
      this.#notifyTail = line.slice(line.lastIndexOf("],") + 2);
      this.ntime = "";
      if (this.setup.hashrate > 0) {
        this.#notifyLine = line;
        if (this.pendingDifficulty !== 0) {
          this.difficulty = this.pendingDifficulty;
          this.pendingDifficulty = 0;
        }
      }
      if (armed !== 0 && this.#armedSeen !== armed && (!armClean || line.endsWith("true]}"))) {
        this.#armedSeen = armed;
        arrivals.push(performance.timeOrigin + now);
        onArrival?.();
      }
      this.#checkReady();
      return;
    }
    if (line.startsWith('{"id":null,"method":"mining.set_difficulty"')) {
      const m = parseServerMessage(line);
      if (m.kind === "set_difficulty") {
        const d = Number(m.difficulty);
        // Until the next job, scan at the harder of the two: valid under either.
        this.pendingDifficulty = d;
        if (d > this.difficulty || this.jobId === "") this.difficulty = d;
        setDifficultyTotal++;
        if (step !== undefined) step.setDifficulty++;
      }
      return;
    }
    if (line.startsWith('{"id":"s"')) {
      const m = /"result":\[\[.*?\],"([0-9a-f]{16})"/.exec(line);
      if (m !== null) this.extranonce = m[1]!;
      this.#checkReady();
      return;
    }
    if (line.startsWith('{"id":"a"')) {
      this.authorized = line.includes('"result":true');
      this.#checkReady();
    }
  }

  #checkReady(): void {
    if (this.#ready !== undefined && this.authorized && this.extranonce !== "" && this.jobId) {
      this.#ready();
      this.#ready = undefined;
    }
  }
}

const miners: Miner[] = [];

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

/** How new miners are spread (see `bench/_load_spread.ts`); absent = the stress miners. */
interface Spread {
  workersPerAddress: number;
  minersPerSource: number;
  password: string;
  /** Mean simulated hashrate (difficulty-1 hashes/s); 0 = stress miners (no hashing). */
  hashrate: number;
  /** Index of this generator's first miner (several generators share one spread). @default 0 */
  first?: number;
}

/** A node:net connection from a chosen loopback source address (Deno.connect has none). */
function connectFrom(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
  });
}

/** Miners connected so far under a spread (the next one's index). */
let spreadIndex = 0;

async function connectOne(
  port: number,
  caCerts: string[] | undefined,
  spread: Spread | undefined,
): Promise<boolean> {
  let conn: Deno.Conn | net.Socket;
  let setup = STRESS_SETUP;
  try {
    if (spread === undefined) {
      conn = caCerts === undefined
        ? await Deno.connect({ hostname: "127.0.0.1", port })
        : await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts });
    } else {
      const id = minerIdentity((spread.first ?? 0) + spreadIndex++, spread);
      const h = spread.hashrate * (0.25 + 1.5 * Math.random());
      setup = {
        worker: `${benchAddress(id.address)}.${id.worker}`,
        password: spread.password,
        hashrate: spread.hashrate === 0 ? 0 : h,
      };
      conn = await connectFrom(port, sourceAddress(id.source));
    }
  } catch {
    return false;
  }
  const miner = new Miner(conn, setup);
  miner.start();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ok = await Promise.race([
    miner.ready.then(() => true),
    new Promise<boolean>((r) => timer = setTimeout(() => r(false), 30_000)),
  ]);
  clearTimeout(timer);
  if (!ok) {
    miner.close();
    return false;
  }
  miners.push(miner);
  return true;
}

async function connect(
  port: number,
  total: number,
  ca: string | undefined,
  spread: Spread | undefined,
): Promise<Record<string, number>> {
  const caCerts = ca === undefined ? undefined : [await Deno.readTextFile(ca)];
  if (spread !== undefined && spread.hashrate > 0) kernel ??= createBestKernel();
  const started = performance.now();
  let failed = 0;
  let next = miners.length;
  async function lane(): Promise<void> {
    while (next < total && failed < 100) {
      next++;
      if (!await connectOne(port, caCerts, spread)) {
        failed++;
        next--;
      }
    }
  }
  await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, lane));
  return {
    connected: miners.filter((m) => !m.closed).length,
    failed,
    ms: performance.now() - started,
  };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function awaitFanout(timeoutMs: number): Promise<Record<string, number>> {
  const live = miners.filter((m) => !m.closed).length;
  if (arrivals.length < live) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      onArrival = () => {
        if (arrivals.length >= live) resolve();
      };
      timer = setTimeout(resolve, timeoutMs);
    });
    clearTimeout(timer);
    onArrival = undefined;
  }
  const sorted = arrivals.slice().sort((a, b) => a - b);
  armed = 0;
  arrivals = [];
  return {
    received: sorted.length,
    missing: live - sorted.length,
    first: sorted[0] ?? NaN,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    last: sorted[sorted.length - 1] ?? NaN,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function shares(
  rate: number,
  seconds: number,
  warmupSeconds: number,
  count: number,
  burst = 1,
): Promise<Record<string, unknown>> {
  const active = miners.filter((m) => !m.closed).slice(0, count);
  if (active.length === 0) throw new Error("Cannot submit: no miners connected");
  const started = performance.now();
  const windowStart = started + warmupSeconds * 1000;
  const windowEnd = windowStart + seconds * 1000;
  const s: StepStats = {
    windowStart,
    windowEnd,
    sent: 0,
    accepted: 0,
    latencies: [],
    worstByWindow: new Map(),
    notifies: [],
    errors: new Map(),
    setDifficulty: 0,
  };
  step = s;
  const acceptedBefore = acceptedTotal;
  let sent = 0;
  let rr = 0;
  let maxLagMs = 0;
  let lastTick = started;
  const dirty = new Set<Miner>();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      if (now > windowStart) maxLagMs = Math.max(maxLagMs, now - lastTick);
      lastTick = now;
      const until = Math.min(now, windowEnd);
      const due = Math.floor(((until - started) / 1000) * rate) - sent;
      for (let i = 0; i < due; i++) {
        // Each submit carries the moment it was due, so a late tick counts against latency.
        const at = started + ((sent + i) / rate) * 1000;
        // With a burst of B, each miner gets B submits in a row: B in flight at once.
        const miner = active[Math.floor(rr / burst)]!;
        rr = rr + 1 === active.length * burst ? 0 : rr + 1;
        const inWindow = at >= windowStart && at < windowEnd;
        if (inWindow) s.sent++;
        if (miner.closed) {
          // A miner the pool closed still had this submit to send: it counts as failed.
          if (inWindow) s.errors.set("closed", (s.errors.get("closed") ?? 0) + 1);
          continue;
        }
        miner.submit(at);
        dirty.add(miner);
      }
      sent += Math.max(0, due);
      for (const miner of dirty) miner.flush();
      dirty.clear();
      if (now >= windowEnd) {
        clearInterval(timer);
        resolve();
      }
    }, 2);
  });
  submittedTotal += sent;
  // Let the replies of the window come in.
  const drainStart = performance.now();
  while (active.some((m) => m.outstanding > 0 && !m.closed)) {
    if (performance.now() - drainStart > 10_000) break;
    await sleep(5);
  }
  step = undefined;
  return {
    ...summarize(s, { rate, miners: active, seconds, maxLagMs, acceptedBefore }),
    burst,
  };
}

/** A step's figures; every due submit is accounted for (answered, failed or missing). */
function summarize(
  s: StepStats,
  o: { rate: number; miners: Miner[]; seconds: number; maxLagMs: number; acceptedBefore: number },
): Record<string, unknown> {
  const { rate, seconds, maxLagMs, acceptedBefore } = o;
  const active = o.miners;
  const lat = s.latencies.sort((a, b) => a - b);
  const measured = lat.length;
  const closedByPool = active.filter((m) => m.closed && !m.closedByUs);
  return {
    rate,
    miners: active.length,
    seconds,
    sent: s.sent,
    replies: measured,
    accepted: s.accepted,
    acceptedPerSecond: s.accepted / seconds,
    missing: s.sent - measured,
    errors: Object.fromEntries(s.errors),
    p50: quantile(lat, 0.5),
    p90: quantile(lat, 0.9),
    p99: quantile(lat, 0.99),
    max: lat[lat.length - 1] ?? NaN,
    maxTickGapMs: maxLagMs,
    // [ms into the window, worst latency ms] of the five worst 100 ms windows.
    worstWindows: [...s.worstByWindow].sort((a, b) => b[1] - a[1]).slice(0, 5)
      .map(([b, ms]) => [b * 100, Math.round(ms)]),
    notifiesAt: s.notifies,
    windowStartEpochMs: Math.round(performance.timeOrigin + s.windowStart),
    acceptedSinceStart: acceptedTotal - acceptedBefore,
    closed: closedByPool.length,
    closedUnanswered: closedByPool.reduce((n, m) => n + m.outstanding, 0),
    setDifficulty: s.setDifficulty,
  };
}

/** The running simulated-mining step (`mine-start` … `mine-stop`). */
let mining:
  | { stop: () => Promise<Record<string, unknown>>; started: number }
  | undefined;

/** A binary min-heap of miners by `nextShareAt`. */
class ShareQueue {
  #heap: Miner[] = [];
  get size(): number {
    return this.#heap.length;
  }
  peek(): Miner | undefined {
    return this.#heap[0];
  }
  push(m: Miner): void {
    const h = this.#heap;
    h.push(m);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.nextShareAt <= m.nextShareAt) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = m;
  }
  pop(): Miner | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && h[r]!.nextShareAt < h[l]!.nextShareAt ? r : l;
        if (h[c]!.nextShareAt >= last.nextShareAt) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

/**
 * Start simulated mining: every miner with a hashrate finds real shares at its current
 * difficulty as a Poisson process (mean difficulty / hashrate seconds), so the share rate is
 * what vardiff makes of it. Submits due after `warmupSeconds` are measured until `mine-stop`.
 */
function mineStart(warmupSeconds: number): Record<string, unknown> {
  if (mining !== undefined) throw new Error("Cannot start mining: already mining");
  const active = miners.filter((m) => !m.closed && m.setup.hashrate > 0);
  if (active.length === 0) throw new Error("Cannot mine: no simulated miners connected");
  const started = performance.now();
  const windowStart = started + warmupSeconds * 1000;
  const s: StepStats = {
    windowStart,
    windowEnd: Infinity,
    sent: 0,
    accepted: 0,
    latencies: [],
    worstByWindow: new Map(),
    notifies: [],
    errors: new Map(),
    setDifficulty: 0,
  };
  step = s;
  const acceptedBefore = acceptedTotal;
  const queue = new ShareQueue();
  for (const m of active) {
    m.nextShareAt = started + nextShareSeconds(m.difficulty, m.setup.hashrate) * 1000;
    queue.push(m);
  }
  let maxLagMs = 0;
  let lastTick = started;
  let hashes = 0;
  let submitted = 0;
  const dirty = new Set<Miner>();
  const timer = setInterval(() => {
    const now = performance.now();
    if (now > windowStart) maxLagMs = Math.max(maxLagMs, now - lastTick);
    lastTick = now;
    while (queue.size > 0 && queue.peek()!.nextShareAt <= Math.min(now, s.windowEnd)) {
      const m = queue.pop()!;
      const due = m.nextShareAt;
      const inWindow = due >= windowStart && due < s.windowEnd;
      if (inWindow) s.sent++;
      if (m.closed) {
        if (inWindow) s.errors.set("closed", (s.errors.get("closed") ?? 0) + 1);
        continue;
      }
      hashes += m.mineShare(due);
      submitted++;
      dirty.add(m);
      m.nextShareAt = due + nextShareSeconds(m.difficulty, m.setup.hashrate) * 1000;
      queue.push(m);
    }
    for (const m of dirty) m.flush();
    dirty.clear();
  }, 2);
  mining = {
    started,
    stop: async () => {
      const end = performance.now();
      s.windowEnd = end;
      clearInterval(timer);
      submittedTotal += submitted;
      const drainStart = performance.now();
      while (active.some((m) => m.outstanding > 0 && !m.closed)) {
        if (performance.now() - drainStart > 10_000) break;
        await sleep(5);
      }
      step = undefined;
      mining = undefined;
      const seconds = (end - windowStart) / 1000;
      const out = summarize(s, { rate: 0, miners: active, seconds, maxLagMs, acceptedBefore });
      const diffs = active.filter((m) => !m.closed).map((m) => m.difficulty).sort((a, b) => a - b);
      return {
        ...out,
        rate: s.sent / seconds,
        hashesPerSecond: hashes / ((end - started) / 1000),
        difficultyP50: quantile(diffs, 0.5),
        difficultyMin: diffs[0],
        difficultyMax: diffs[diffs.length - 1],
      };
    },
  };
  return { started: true, miners: active.length };
}

function reply(value: unknown): void {
  console.log(JSON.stringify(value));
}

async function handle(command: Record<string, unknown>): Promise<boolean> {
  switch (command.cmd) {
    case "connect":
      reply(
        await connect(
          command.port as number,
          command.total as number,
          command.ca as string | undefined,
          command.spread as Spread | undefined,
        ),
      );
      return true;
    case "mine-start":
      reply(mineStart((command.warmupSeconds as number | undefined) ?? 5));
      return true;
    case "mine-stop":
      if (mining === undefined) throw new Error("Cannot stop mining: not mining");
      reply(await mining.stop());
      return true;
    case "close-all": {
      // Leave every miner (e.g. to reconnect them with another password); the spread restarts.
      for (const m of miners) {
        m.closedByUs = true;
        m.close();
      }
      miners.length = 0;
      spreadIndex = 0;
      await sleep(500);
      reply({ closed: true });
      return true;
    }
    case "arm":
      armed = ++generation;
      armClean = command.clean === true;
      arrivals = [];
      reply({ armed });
      return true;
    case "await":
      reply(await awaitFanout((command.timeoutMs as number | undefined) ?? 10_000));
      return true;
    case "shares":
      reply(
        await shares(
          command.rate as number,
          command.seconds as number,
          (command.warmupSeconds as number | undefined) ?? 1,
          (command.miners as number | undefined) ?? miners.length,
          (command.burst as number | undefined) ?? 1,
        ),
      );
      return true;
    case "trim": {
      // Close miners beyond the first `total` (the pool sees them leave).
      const keep = command.total as number;
      const live = miners.filter((m) => !m.closed);
      for (const m of live.slice(keep)) {
        m.closedByUs = true;
        m.close();
      }
      miners.length = 0;
      miners.push(...live.slice(0, keep));
      reply({ connected: miners.length });
      return true;
    }
    case "totals":
      reply({
        accepted: acceptedTotal,
        replies: repliesTotal,
        submitted: submittedTotal,
        setDifficulty: setDifficultyTotal,
        live: miners.filter((m) => !m.closed).length,
      });
      return true;
    case "close":
      for (const m of miners) {
        m.closedByUs = true;
        m.close();
      }
      reply({ closed: miners.length });
      return false;
    default:
      reply({ error: `unknown command ${String(command.cmd)}` });
      return true;
  }
}

let pending = "";
const reader = Deno.stdin.readable.getReader();
outer: for (;;) {
  const { value, done } = await reader.read();
  if (done) break;
  pending += DECODER.decode(value, { stream: true });
  for (;;) {
    const nl = pending.indexOf("\n");
    if (nl < 0) break;
    const line = pending.slice(0, nl).trim();
    pending = pending.slice(nl + 1);
    if (line === "") continue;
    let more = true;
    try {
      more = await handle(JSON.parse(line));
    } catch (err) {
      reply({ error: err instanceof Error ? err.message : String(err) });
    }
    if (!more) break outer;
  }
}
for (const m of miners) m.close();
Deno.exit(0);
