/**
 * Test helpers shared by the `[process] workers` end-to-end tests: fixed free ports (workers
 * share them), a devnet process, the supervisor's config, log counting, and attacker
 * connections from chosen loopback addresses that report which worker admitted them.
 *
 * @module
 */
import { spawnVbkpool, type VbkpoolProcess } from "../_process.ts";
import { TestClient } from "../server/_stratum_client.ts";

/** The pool's address in every workers test. */
export const POOL_ADDRESS = "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C";
/** The admin token of the attack tests. */
export const TOKEN = "admin-token-0123456789abcdef";
/** Instance ids: worker 0 has 31, worker 1 has 30 (the top bits of every extranonce). */
export const WORKER0 = 31;
/** See {@linkcode WORKER0}. */
export const WORKER1 = 30;

/** A port free now (the workers need a fixed one). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** How many times `re` matches in `log`. */
export function count(log: string, re: RegExp): number {
  return [...log.matchAll(new RegExp(re, "g"))].length;
}

/** Pids of the workers as a supervisor logged them, by index (latest start last). */
export function workerPids(log: string): Map<number, number[]> {
  const pids = new Map<number, number[]>();
  for (const m of log.matchAll(/worker (\d+) started \(pid (\d+), instance id \d+\)/g)) {
    const list = pids.get(Number(m[1])) ?? [];
    list.push(Number(m[2]));
    pids.set(Number(m[1]), list);
  }
  return pids;
}

/** Whether `pid` is still a running deno process (not an exited one, nor a reused pid). */
export function alive(pid: number): boolean {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes("deno");
  } catch {
    return false;
  }
}

/** A devnet process in `dir` with no mempool updates (easy blocks for the pool). */
export function spawnDevnet(dir: string): VbkpoolProcess {
  return spawnVbkpool([
    "devnet",
    "--listen",
    "127.0.0.1:0",
    "--min-difficulty",
    "20000",
    "--mempool-interval",
    "0",
  ], { cwd: dir });
}

/**
 * Write `dir/vbkpool.toml` for a two-worker supervisor with an API and an admin listener,
 * loopback not exempt, and `stratum` lines added to `[stratum]`.
 */
export async function writeAttackConfig(
  dir: string,
  ports: { stratum: number; api: number; admin: number; ucp: number },
  stratum: string[],
): Promise<void> {
  await Deno.writeTextFile(
    `${dir}/vbkpool.toml`,
    [
      "[stratum]",
      `listen = ["127.0.0.1:${ports.stratum} min=1"]`,
      "exempt_loopback = false",
      ...stratum,
      "ban_seconds = 600",
      "authorize_timeout_seconds = 600",
      "[nodecore]",
      `endpoints = ["127.0.0.1:${ports.ucp}"]`,
      `address = "${POOL_ADDRESS}"`,
      "backoff_min_ms = 50",
      "[api]",
      `listen = "127.0.0.1:${ports.api}"`,
      "[admin]",
      "enabled = true",
      `listen = "127.0.0.1:${ports.admin}"`,
      `token = "${TOKEN}"`,
      "[store]",
      `url = "${dir}/pool.sqlite"`,
      'sqlite_synchronous = "normal"',
      "[process]",
      "workers = 2",
    ].join("\n"),
  );
}

/** An admitted connection: the client, and the instance id of the worker that took it. */
export interface Admitted {
  client: TestClient;
  instance: number;
}

/**
 * Connect from `ip` and subscribe: the connection and its worker when admitted, undefined when
 * the pool closed it before answering (refused: banned or over the cap).
 */
export async function attempt(port: number, ip: string): Promise<Admitted | undefined> {
  const client = await TestClient.connectFrom(port, ip);
  try {
    const reply = await client.call("mining.subscribe", []);
    return { client, instance: Number(BigInt("0x" + reply.json.result[1]) >> 58n) };
  } catch {
    await client.close();
    return undefined;
  }
}

/** `n` attempts one after another, each closed once answered; the instances that admitted. */
export async function attempts(
  port: number,
  ip: string,
  n: number,
): Promise<(number | undefined)[]> {
  const out: (number | undefined)[] = [];
  for (let i = 0; i < n; i++) {
    const got = await attempt(port, ip);
    await got?.client.close();
    out.push(got?.instance);
  }
  return out;
}
