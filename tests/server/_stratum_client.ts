/**
 * Test helper: a raw Stratum client over real TCP that records every line the server sends and
 * lets a test wait for responses and notifications.
 *
 * @module
 */

import net from "node:net";
import { connectLines } from "../../net/line_client.ts";
import type { LineHandler } from "../../net/line_connection.ts";

/** The client side of a connection: a `LineConnection`, or a {@linkcode NodeLineConnection}. */
export interface ClientConnection {
  /** Start reading lines. */
  start(handler: LineHandler): Promise<void>;
  /** Queue one line. */
  send(line: string): boolean;
  /** Close. */
  close(reason: string): void;
  /** Settles once closed. */
  readonly done: Promise<void>;
}

/**
 * A line connection over `node:net`, which can bind a local address: several loopback
 * addresses (127.0.0.2, 127.0.0.3, …) stand for miners behind different IPs.
 */
export class NodeLineConnection implements ClientConnection {
  readonly #socket: net.Socket;
  #handler: LineHandler | undefined;
  #buffer = "";
  #closed = false;
  #reason = "closed by peer";
  readonly done: Promise<void>;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.done = new Promise((resolve) => {
      socket.on("close", () => {
        this.#closed = true;
        this.#handler?.onClose?.(this.#reason);
        resolve();
      });
    });
    socket.on("error", () => {});
    socket.setEncoding("utf8");
    socket.on("data", (text: string) => {
      this.#buffer += text;
      for (let nl = this.#buffer.indexOf("\n"); nl >= 0; nl = this.#buffer.indexOf("\n")) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        this.#handler?.onLine(line);
      }
    });
    socket.pause();
  }

  /** Connect to 127.0.0.1:`port` from `localAddress` (e.g. "127.0.0.2"). */
  static connect(port: number, localAddress: string): Promise<NodeLineConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port, localAddress });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new NodeLineConnection(socket));
      });
    });
  }

  start(handler: LineHandler): Promise<void> {
    this.#handler = handler;
    this.#socket.resume();
    return this.done;
  }

  send(line: string): boolean {
    if (this.#closed) return false;
    this.#socket.write(line + "\n");
    return true;
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.#reason = reason;
    this.#socket.destroy();
  }
}

/** One parsed line from the server. */
export interface ServerLine {
  /** The raw text. */
  raw: string;
  // deno-lint-ignore no-explicit-any
  json: any;
}

/** A scripted Stratum client. */
export class TestClient {
  readonly conn: ClientConnection;
  readonly lines: ServerLine[] = [];
  closedReason: string | undefined;
  #cursor = 0;
  #taken = new Set<number>();
  #waiters: (() => void)[] = [];
  #closed: Promise<void>;
  #nextId = 1;

  private constructor(conn: ClientConnection) {
    this.conn = conn;
    let resolveClosed!: () => void;
    this.#closed = new Promise((r) => resolveClosed = r);
    void conn.start({
      onLine: (raw) => {
        let json: unknown;
        try {
          json = JSON.parse(raw);
        } catch {
          json = undefined;
        }
        this.lines.push({ raw, json });
        this.#wake();
      },
      onClose: (reason) => {
        this.closedReason = reason;
        resolveClosed();
        this.#wake();
      },
    });
  }

  /** Connect to a port on 127.0.0.1. */
  static async connect(port: number): Promise<TestClient> {
    return new TestClient(await connectLines({ hostname: "127.0.0.1", port }));
  }

  /** Connect to a port on 127.0.0.1 from another loopback address (another miner's IP). */
  static async connectFrom(port: number, localAddress: string): Promise<TestClient> {
    return new TestClient(await NodeLineConnection.connect(port, localAddress));
  }

  /** Resolves when the server closed the connection. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** Send a raw line. */
  sendRaw(line: string): void {
    this.conn.send(line);
  }

  /** Send a request; returns its id. */
  send(method: string, params: unknown[], id: string | number | null = this.#nextId++): unknown {
    this.conn.send(JSON.stringify({ id, method, params }));
    return id;
  }

  /** Send a request and wait for its response. */
  async call(method: string, params: unknown[], id?: string | number): Promise<ServerLine> {
    const sent = this.send(method, params, id);
    return await this.waitFor((l) => l.json?.id === sent && l.json?.method === undefined);
  }

  /**
   * Wait for the first line not yet taken that matches the predicate, and take it (lines it
   * passes over stay available to later waits). Rejects when the connection closes first or
   * after `timeoutMs`.
   */
  async waitFor(match: (line: ServerLine) => boolean, timeoutMs = 60_000): Promise<ServerLine> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      for (let i = this.#cursor; i < this.lines.length; i++) {
        if (this.#taken.has(i) || !match(this.lines[i]!)) continue;
        this.#taken.add(i);
        while (this.#taken.has(this.#cursor)) this.#taken.delete(this.#cursor++);
        return this.lines[i]!;
      }
      if (this.closedReason !== undefined) {
        throw new Error(`connection closed (${this.closedReason}) while waiting`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for a line");
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Wait for the next notification of a method. */
  notification(method: string, timeoutMs?: number): Promise<ServerLine> {
    return this.waitFor((l) => l.json?.method === method, timeoutMs);
  }

  /** Close and wait for the read loop to end. */
  async close(): Promise<void> {
    this.conn.close("test done");
    await this.conn.done;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/** What a miner learns from subscribing and authorizing. */
export interface Ready {
  /** The extranonce from the subscribe result. */
  extranonce: bigint;
  /** The last difficulty sent. */
  difficulty: bigint;
}

/**
 * Subscribe and authorize; waits for the subscribe reply, its set_difficulty, and the
 * authorize reply (which must be `true`).
 */
export async function subscribeAndAuthorize(
  client: TestClient,
  worker: string,
  password = "",
): Promise<Ready> {
  const sub = await client.call("mining.subscribe", []);
  const extranonce = BigInt("0x" + sub.json.result[1]);
  const diff = await client.notification("mining.set_difficulty");
  const auth = await client.call("mining.authorize", [worker, password]);
  if (auth.json.result !== true) throw new Error(`authorize failed: ${auth.raw}`);
  return { extranonce, difficulty: BigInt(diff.json.params[0]) };
}
