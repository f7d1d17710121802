/**
 * Webhook receivers on loopback for the tests: one that records every request and answers
 * with a scripted status, and one that accepts connections and never answers.
 *
 * @module
 */

/** A request as received. */
export interface Received {
  path: string;
  headers: Headers;
  body: string;
}

/** A recording receiver. */
export interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/**
 * Start a receiver that records requests; `status(n)` picks the answer to the n-th (0-based).
 *
 * @param status The answer's status per request.
 * @returns The receiver.
 */
export function startReceiver(status: (n: number) => number = () => 204): Receiver {
  const received: Received[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const n = received.length;
    received.push({
      path: new URL(req.url).pathname,
      headers: req.headers,
      body: await req.text(),
    });
    const code = status(n);
    return new Response(code === 204 ? null : "x", { status: code });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    received,
    close: () => server.shutdown(),
  };
}

/** A receiver that accepts TCP connections and never writes a byte. */
export interface SilentReceiver {
  url: string;
  /** Connections accepted so far. */
  accepted: number;
  close(): void;
}

/**
 * Start a receiver that never answers.
 *
 * @returns The receiver.
 */
export function startSilentReceiver(): SilentReceiver {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const out: SilentReceiver = {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/never`,
    accepted: 0,
    close: () => {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // Closed by the peer already.
        }
      }
    },
  };
  (async () => {
    try {
      for await (const conn of listener) {
        conns.push(conn);
        out.accepted++;
      }
    } catch {
      // Closed.
    }
  })();
  return out;
}
