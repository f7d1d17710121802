/**
 * The accept loop every listener of the process runs (Stratum, UCP, the HTTP API): it takes a
 * descriptor from the budget for each new socket (closing it at once when there is none), and
 * it survives accept errors. `EMFILE`/`ENFILE` (out of descriptors), `ECONNABORTED` and the like
 * never end the loop or reach the caller: it backs off (10 ms, doubling to 1 s, reset by the
 * next accepted socket) and logs by episode: one line when errors start, a counted summary
 * every minute while they last, one line with the counts when they stop.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { peerIp } from "../protocol/ip_address.ts";
import { Episode, formatCounts } from "./_episode.ts";
import type { DescriptorBudget } from "./descriptor_budget.ts";

const log = getLogger(["vbkpool", "net"]);

/** Options for {@linkcode acceptLoop}. */
export interface AcceptLoopOptions {
  /** Names the listener in the log, e.g. `"stratum 127.0.0.1:3333"`. */
  name: string;
  /** The descriptor budget; `null` = none (every socket is kept). */
  descriptors: DescriptorBudget | null;
  /** Whether the listener was closed on purpose (the loop then ends quietly). */
  stopped(): boolean;
  /**
   * A new socket holding one descriptor of the budget: call `release` once, when it closes
   * (also when the caller refuses it).
   */
  onConnection(conn: Deno.Conn, release: () => void): void;
  /** A socket closed at once for lack of descriptors. */
  onRefused?(ip: string): void;
  /** First back-off after an accept error (ms). @default 10 */
  backoffMinMs?: number;
  /** Longest back-off (ms). @default 1000 */
  backoffMaxMs?: number;
  /** Time without an accept error that ends an episode (ms). @default 5000 */
  quietMs?: number;
}

const acceptErrors: Record<string, number> = {};

/**
 * Accept errors of every listener of the process so far, by error code.
 *
 * @example Usage
 * ```ts
 * import { acceptErrorCounts } from "./accept_loop.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(typeof acceptErrorCounts(), "object");
 * ```
 *
 * @returns Counts by code (`EMFILE`, `ENFILE`, `ECONNABORTED`, …).
 */
export function acceptErrorCounts(): Readonly<Record<string, number>> {
  return { ...acceptErrors };
}

/**
 * The error code of a failed accept.
 *
 * @param err What `accept()` rejected with.
 * @returns `EMFILE`, `ECONNABORTED`, …, or the error's name.
 */
function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code !== "") return code;
  return err instanceof Error ? err.name : "unknown";
}

function ipOf(conn: Deno.Conn): string {
  return peerIp((conn.remoteAddr as Deno.NetAddr).hostname ?? "");
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/**
 * Accept connections until the listener is closed.
 *
 * @example Usage
 * ```ts
 * import { acceptLoop } from "./accept_loop.ts";
 * import assert from "node:assert/strict";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * let stopped = false;
 * const accepted: Deno.Conn[] = [];
 * const loop = acceptLoop(listener, {
 *   name: "example",
 *   descriptors: null,
 *   stopped: () => stopped,
 *   onConnection: (conn) => accepted.push(conn),
 * });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * while (accepted.length === 0) await new Promise((r) => setTimeout(r, 5));
 * stopped = true;
 * listener.close();
 * await loop;
 * accepted[0]!.close();
 * client.close();
 * assert.equal(accepted.length, 1);
 * ```
 *
 * @param listener The bound listener.
 * @param options The budget, the callbacks and the back-off.
 * @returns Settles (never rejects) once the listener is closed.
 */
export async function acceptLoop(
  listener: Deno.Listener,
  options: AcceptLoopOptions,
): Promise<void> {
  const min = options.backoffMinMs ?? 10;
  const max = options.backoffMaxMs ?? 1000;
  const budget = options.descriptors;
  const name = options.name;
  let backoff = min;
  const episode = new Episode({
    quietMs: options.quietMs ?? 5000,
    onStart: (code) =>
      log.warn(
        "Cannot accept connections on {listener}: {code}; retrying with back-off (up to " +
          "{max} ms), errors are counted until it recovers",
        { listener: name, code, max },
      ),
    onSummary: (counts, count, ms) =>
      log.warn(
        "Still cannot accept connections on {listener}: {count} errors in {seconds} s " +
          "({codes})",
        {
          listener: name,
          count,
          seconds: Math.round(ms / 1000),
          codes: formatCounts(counts),
        },
      ),
    onEnd: (counts, count, ms) =>
      log.info(
        "Accepting connections on {listener} again: {count} accept errors over {seconds} s " +
          "({codes})",
        { listener: name, count, seconds: Math.round(ms / 1000), codes: formatCounts(counts) },
      ),
  });
  try {
    while (!options.stopped()) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (options.stopped() || err instanceof Deno.errors.BadResource) break;
        const code = errorCode(err);
        acceptErrors[code] = (acceptErrors[code] ?? 0) + 1;
        episode.hit(code);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(max, backoff * 2);
        continue;
      }
      backoff = min;
      if (budget !== null && !budget.tryTake()) {
        const ip = ipOf(conn);
        closeQuietly(conn);
        options.onRefused?.(ip);
        continue;
      }
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        budget?.release();
      };
      try {
        options.onConnection(conn, release);
      } catch {
        closeQuietly(conn);
        release();
      }
    }
  } finally {
    episode.close();
  }
}
