/**
 * Pool load generator: shares validated per second and submit latency over loopback TCP.
 *
 * The pool runs in a worker (one core); this thread (the other core) opens C connections,
 * subscribes and authorizes each, then keeps W submits in flight per connection for D seconds.
 * Scenarios: 1 and 100 connections with W in flight each (throughput), and with 1 in flight
 * each (the latency of a lone submit, as a real miner sends them). Then the template → notify
 * latency: 100 and 1000 idle miners, a new block template, time until each has its notify.
 * Every submit is a real share (unique nonce, share difficulty 1 so no mining is needed) that
 * goes through the whole path: line framing, JSON, validation, header rebuild, two SHA-256,
 * vBlake, duplicate set, the in-memory recorder and the ordered reply. Latency is measured
 * from writing a submit to reading its reply.
 *
 * ```sh
 * deno run -A bench/pool_load.ts [seconds=5] [W=16]
 * ```
 *
 * @module
 */

import { connectLines } from "../net/line_client.ts";
import type { LineConnection } from "../net/line_connection.ts";

const SECONDS = Number(Deno.args[0] ?? 5);
const WINDOW = Number(Deno.args[1] ?? 16);
const ADDRESS = "VFFDWUMLJwLRuNzH4NX8Rm32E59n6d";

interface Result {
  connections: number;
  window: number;
  accepted: number;
  rejected: number;
  seconds: number;
  latencies: number[];
}

class Miner {
  #conn: LineConnection;
  #pending = new Map<number, number>();
  #nextId = 1;
  #nonce = 0;
  #extranonce = "";
  #jobId = "";
  #ntime = "";
  #ready!: () => void;
  readonly ready: Promise<void>;
  latencies: number[] = [];
  /** Wall-clock arrival time of the latest notify. */
  notifiedAt = 0;
  accepted = 0;
  rejected = 0;
  running = false;

  constructor(conn: LineConnection) {
    this.#conn = conn;
    this.ready = new Promise((r) => this.#ready = r);
    void conn.start({ onLine: (line) => this.#onLine(line) });
    conn.send('{"id":"s","method":"mining.subscribe","params":[]}');
    conn.send(`{"id":"a","method":"mining.authorize","params":["${ADDRESS}",""]}`);
  }

  start(window: number): void {
    this.running = true;
    for (let i = 0; i < window; i++) this.#submit();
  }

  close(): Promise<void> {
    this.#conn.close("done");
    return this.#conn.done;
  }

  #submit(): void {
    const id = this.#nextId++;
    const nonce = (this.#nonce++).toString(16).padStart(8, "0");
    this.#pending.set(id, performance.now());
    this.#conn.send(
      `{"id":${id},"method":"mining.submit","params":["${ADDRESS}","${this.#jobId}",` +
        `"${this.#extranonce}","${this.#ntime}","${nonce}"]}`,
    );
  }

  #onLine(line: string): void {
    if (line.startsWith('{"id":null')) {
      if (line.includes("mining.notify")) {
        this.notifiedAt = performance.timeOrigin + performance.now();
        const params = JSON.parse(line).params;
        this.#jobId = params[0];
        this.#ntime = Math.floor(Date.now() / 1000).toString(16).padStart(8, "0");
        if (this.#extranonce !== "") this.#ready();
      }
      return;
    }
    if (line.startsWith('{"id":"s"')) {
      this.#extranonce = JSON.parse(line).result[1];
      if (this.#jobId !== "") this.#ready();
      return;
    }
    if (line.startsWith('{"id":"a"')) return;
    const id = Number(line.slice(6, line.indexOf(",")));
    const sent = this.#pending.get(id);
    if (sent === undefined) return;
    this.#pending.delete(id);
    this.latencies.push(performance.now() - sent);
    if (line.includes('"result":true')) this.accepted++;
    else this.rejected++;
    if (this.running) this.#submit();
  }
}

async function scenario(port: number, connections: number, window: number): Promise<Result> {
  const miners: Miner[] = [];
  for (let i = 0; i < connections; i++) {
    miners.push(new Miner(await connectLines({ hostname: "127.0.0.1", port })));
  }
  await Promise.all(miners.map((m) => m.ready));
  // Warm up for a second, then measure.
  for (const m of miners) m.start(window);
  await new Promise((r) => setTimeout(r, 1000));
  for (const m of miners) {
    m.latencies = [];
    m.accepted = m.rejected = 0;
  }
  const started = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const seconds = (performance.now() - started) / 1000;
  const result: Result = {
    connections,
    window,
    accepted: miners.reduce((n, m) => n + m.accepted, 0),
    rejected: miners.reduce((n, m) => n + m.rejected, 0),
    seconds,
    latencies: miners.flatMap((m) => m.latencies),
  };
  for (const m of miners) m.running = false;
  await Promise.all(miners.map((m) => m.close()));
  return result;
}

/** Template → notify latency to every one of `connections` idle miners. */
async function broadcast(worker: Worker, port: number, connections: number): Promise<void> {
  const miners: Miner[] = [];
  for (let i = 0; i < connections; i++) {
    miners.push(new Miner(await connectLines({ hostname: "127.0.0.1", port })));
  }
  await Promise.all(miners.map((m) => m.ready));
  const lasts: number[] = [];
  const medians: number[] = [];
  const loops: number[] = [];
  for (let round = 0; round < 10; round++) {
    const { at, loopMs } = await new Promise<{ at: number; loopMs: number }>((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.postMessage("template");
    });
    while (miners.some((m) => m.notifiedAt < at)) await new Promise((r) => setTimeout(r, 1));
    const delays = miners.map((m) => m.notifiedAt - at).sort((a, b) => a - b);
    lasts.push(delays[delays.length - 1]!);
    medians.push(quantile(delays, 0.5));
    loops.push(loopMs);
  }
  const mid = (v: number[]) => quantile([...v].sort((a, b) => a - b), 0.5);
  console.log(
    `${String(connections).padStart(11)}  ${mid(loops).toFixed(2).padStart(9)}  ` +
      `${mid(medians).toFixed(2).padStart(10)}  ${mid(lasts).toFixed(2).padStart(8)}`,
  );
  await Promise.all(miners.map((m) => m.close()));
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

const worker = new Worker(new URL("./_pool_load_server.ts", import.meta.url), { type: "module" });
const port = await new Promise<number>((resolve) => {
  worker.onmessage = (e) => resolve(e.data.port);
});
console.log(`pool on 127.0.0.1:${port}; ${SECONDS} s per scenario after 1 s of warm-up`);
console.log("connections  in flight/conn  shares/s  rejected  p50 ms  p99 ms");
for (const [connections, window] of [[1, WINDOW], [100, WINDOW], [1, 1], [100, 1]] as const) {
  const r = await scenario(port, connections, window);
  const sorted = r.latencies.sort((a, b) => a - b);
  console.log(
    `${String(r.connections).padStart(11)}  ${String(r.window).padStart(14)}  ` +
      `${(r.accepted / r.seconds).toFixed(0).padStart(8)}  ${String(r.rejected).padStart(8)}  ` +
      `${quantile(sorted, 0.5).toFixed(2).padStart(6)}  ${
        quantile(sorted, 0.99).toFixed(2).padStart(6)
      }`,
  );
}
console.log("\ntemplate -> notify (median of 10 rounds, ms)");
console.log("connections  loop ms  median ms  last ms");
for (const connections of [100, 1000]) await broadcast(worker, port, connections);
await new Promise<void>((resolve) => {
  worker.onmessage = () => resolve();
  worker.postMessage("stop");
});
worker.terminate();
