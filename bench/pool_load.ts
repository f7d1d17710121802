/**
 * The load generator of `deno task bench:pool`: simulated Stratum miners in a process of their
 * own (`bench/pool_bench.ts` starts it with `deno run`), driven by JSON commands on stdin and
 * answering with one JSON line per command on stdout. Loopback only.
 *
 * Commands:
 * - `{"cmd":"connect","port":P,"total":N,"ca":FILE?}`: open connections (over TLS trusting the
 *   PEM certificate FILE when `ca` is given) until N miners are connected,
 *   each subscribed and authorized with the password `d=1` (difficulty 1: every hash is a share,
 *   so no mining is needed) and holding a job. Answers `{connected, failed, ms}`.
 * - `{"cmd":"arm"}` then `{"cmd":"await","timeoutMs":T}`: the wall-clock arrival time of the
 *   next `mining.notify` at every miner (armed before the caller makes a new template).
 *   Answers `{received, missing, first, p50, p99, last}` (ms since the epoch, fractional).
 * - `{"cmd":"shares","rate":R,"seconds":S,"warmupSeconds":W,"miners":K}`: K miners submit at R
 *   shares/s in aggregate (open loop, paced every 2 ms) for W + S seconds; the last S are
 *   measured. Each submit is a unique (extranonce, ntime, nonce) on the miner's newest job,
 *   built without hashing; the pool hashes and stores every one. Latency runs from the moment a
 *   submit was due to the moment its reply was read. Waits up to 10 s for outstanding replies.
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
let arrivals: number[] = [];
let onArrival: (() => void) | undefined;

class Miner {
  readonly conn: Deno.Conn;
  extranonce = "";
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

  constructor(conn: Deno.Conn) {
    this.conn = conn;
    (conn as Deno.TcpConn).setNoDelay?.(true);
    this.ready = new Promise((resolve) => this.#ready = resolve);
  }

  get outstanding(): number {
    return this.#due.length - this.#dueHead;
  }

  start(): void {
    this.queue(
      '{"id":"s","method":"mining.subscribe","params":["bench/1.0"]}\n' +
        `{"id":"a","method":"mining.authorize","params":["${ADDRESS}","d=1"]}\n`,
    );
    this.flush();
    void this.#readLoop();
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
    this.#out += `{"id":${id},"method":"mining.submit","params":["${ADDRESS}","${this.jobId}",` +
      `"${this.extranonce}","${this.ntime}","${nonce}"]}\n`;
  }

  flush(): void {
    if (this.#writing || this.#out === "" || this.closed) return;
    void this.#writeLoop();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
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
        while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
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
        const n = await this.conn.read(buf);
        if (n === null) break;
        const now = performance.now();
        const chunk = DECODER.decode(buf.subarray(0, n));
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
    } catch {
      // Reset by the pool.
    }
    this.close();
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
          const key = m === null ? line.slice(0, 80) : `${m[1]} ${m[2]}`;
          s.errors.set(key, (s.errors.get(key) ?? 0) + 1);
        }
      }
      return;
    }
    if (line.startsWith('{"id":null,"method":"mining.notify"')) {
      const q = line.indexOf('"', 47);
      this.jobId = line.slice(47, q);
      if (step !== undefined && this.jobId !== lastJobId) {
        lastJobId = this.jobId;
        step.notifies.push(Math.round(now - step.windowStart));
      }
      this.#notifyTail = line.slice(line.lastIndexOf("],") + 2);
      this.ntime = "";
      if (armed !== 0 && this.#armedSeen !== armed) {
        this.#armedSeen = armed;
        arrivals.push(performance.timeOrigin + now);
        onArrival?.();
      }
      this.#checkReady();
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

async function connectOne(port: number, caCerts: string[] | undefined): Promise<boolean> {
  let conn: Deno.Conn;
  try {
    conn = caCerts === undefined
      ? await Deno.connect({ hostname: "127.0.0.1", port })
      : await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts });
  } catch {
    return false;
  }
  const miner = new Miner(conn);
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
): Promise<Record<string, number>> {
  const caCerts = ca === undefined ? undefined : [await Deno.readTextFile(ca)];
  const started = performance.now();
  let failed = 0;
  let next = miners.length;
  async function lane(): Promise<void> {
    while (next < total && failed < 100) {
      next++;
      if (!await connectOne(port, caCerts)) {
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
        const miner = active[rr]!;
        rr = rr + 1 === active.length ? 0 : rr + 1;
        if (miner.closed) continue;
        miner.submit(at);
        if (at >= windowStart && at < windowEnd) s.sent++;
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
  const lat = s.latencies.sort((a, b) => a - b);
  const measured = lat.length;
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
    windowStartEpochMs: Math.round(performance.timeOrigin + windowStart),
    acceptedSinceStart: acceptedTotal - acceptedBefore,
    closed: active.filter((m) => m.closed).length,
  };
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
        ),
      );
      return true;
    case "arm":
      armed = ++generation;
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
        ),
      );
      return true;
    case "trim": {
      // Close miners beyond the first `total` (the pool sees them leave).
      const keep = command.total as number;
      const live = miners.filter((m) => !m.closed);
      for (const m of live.slice(keep)) m.close();
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
        live: miners.filter((m) => !m.closed).length,
      });
      return true;
    case "close":
      for (const m of miners) m.close();
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
