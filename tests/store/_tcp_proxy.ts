/**
 * A loopback TCP proxy for failure tests: forwards to a target until told to cut every
 * connection (the database "goes away": connections are accepted and closed at once) or to hang
 * (packets stop, connections stay open, as in a network partition), and back. It holds its own
 * port (bound to port 0) the whole time, so a server can go away and come back at the same
 * address without a test giving up a port that another process could take.
 *
 * @module
 */

type Mode = "forward" | "cut" | "hang";

interface Pair {
  client: Deno.TcpConn;
  server: Deno.TcpConn | undefined;
  closed: boolean;
}

/** A controllable TCP forwarder on 127.0.0.1. */
export class TcpProxy {
  #listener: Deno.TcpListener;
  #target: { hostname: string; port: number };
  #mode: Mode = "forward";
  #pairs = new Set<Pair>();
  #resume: (() => void)[] = [];
  #tasks = new Set<Promise<void>>();
  #accepting: Promise<void>;

  /**
   * @param target Where to forward.
   */
  constructor(target: { hostname: string; port: number }) {
    this.#target = target;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  /** The proxy's port. */
  get port(): number {
    return this.#listener.addr.port;
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  async #accept(): Promise<void> {
    for (;;) {
      let client: Deno.TcpConn;
      try {
        client = await this.#listener.accept();
      } catch {
        return;
      }
      const pair: Pair = { client, server: undefined, closed: false };
      if (this.#mode === "cut") {
        this.#close(pair);
        continue;
      }
      this.#pairs.add(pair);
      this.#track(this.#connect(pair));
    }
  }

  async #connect(pair: Pair): Promise<void> {
    try {
      pair.server = await Deno.connect(this.#target);
    } catch {
      this.#close(pair);
      return;
    }
    if (pair.closed) {
      this.#close(pair);
      return;
    }
    this.#track(this.#pump(pair, pair.client, pair.server));
    this.#track(this.#pump(pair, pair.server, pair.client));
  }

  async #pump(pair: Pair, from: Deno.TcpConn, to: Deno.TcpConn): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        while (this.#mode === "hang" && !pair.closed) {
          await new Promise<void>((r) => this.#resume.push(r));
        }
        if (pair.closed) break;
        let off = 0;
        while (off < n) off += await to.write(buf.subarray(off, n));
      }
    } catch {
      // Either side closed.
    }
    this.#close(pair);
  }

  #close(pair: Pair): void {
    if (!pair.closed) {
      pair.closed = true;
      this.#pairs.delete(pair);
    }
    for (const c of [pair.client, pair.server]) {
      try {
        c?.close();
      } catch {
        // Already closed.
      }
    }
  }

  #wake(): void {
    for (const r of this.#resume.splice(0)) r();
  }

  /** Close every connection and refuse new ones until {@linkcode restore}. */
  cut(): void {
    this.#mode = "cut";
    for (const pair of [...this.#pairs]) this.#close(pair);
    this.#wake();
  }

  /** Stop forwarding bytes (connections stay open) until {@linkcode restore}. */
  hang(): void {
    this.#mode = "hang";
  }

  /**
   * Forward new connections to another target from now on (e.g. a server restarted on another
   * port: the proxy's port stays the clients' one address, and is never given up).
   *
   * @param target Where to forward.
   */
  retarget(target: { hostname: string; port: number }): void {
    this.#target = target;
  }

  /** Forward again. */
  restore(): void {
    this.#mode = "forward";
    this.#wake();
  }

  /** Stop listening and close everything. */
  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    for (const pair of [...this.#pairs]) this.#close(pair);
    this.#wake();
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }
}
