/**
 * Server-sent events for live dashboards (`GET /api/events`): each client gets a
 * `text/event-stream` response; {@linkcode EventStream.send} writes one named event with a JSON
 * payload to every client. Bounded: a client whose unread data passes `maxQueuedBytes` is
 * dropped (it reconnects on its own), and at most `maxClients` are served at once.
 *
 * @module
 */

/** Options for {@linkcode EventStream}. */
export interface EventStreamOptions {
  /** Clients served at once. @default 64 */
  maxClients?: number;
  /** Unread bytes per client before it is dropped. @default 1048576 */
  maxQueuedBytes?: number;
  /** Reconnect delay suggested to clients (ms). @default 5000 */
  retryMs?: number;
}

interface Client {
  controller: ReadableStreamDefaultController<Uint8Array>;
  close(): void;
}

const encoder = new TextEncoder();

/**
 * A hub of server-sent-event streams.
 *
 * @example Usage
 * ```ts
 * import { EventStream } from "./event_stream.ts";
 * import assert from "node:assert/strict";
 *
 * const hub = new EventStream();
 * const response = hub.open()!;
 * assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
 * hub.send("pool", { hashrate: 5 });
 * hub.close();
 * const text = await response.text();
 * assert.match(text, /event: pool\ndata: \{"hashrate":5\}\n\n/);
 * ```
 */
export class EventStream {
  #clients = new Set<Client>();
  #maxClients: number;
  #maxQueued: number;
  #retryMs: number;
  #closed = false;

  /**
   * @param options Limits.
   */
  constructor(options: EventStreamOptions = {}) {
    this.#maxClients = options.maxClients ?? 64;
    this.#maxQueued = options.maxQueuedBytes ?? 1_048_576;
    this.#retryMs = options.retryMs ?? 5000;
  }

  /** Clients connected now. */
  get clients(): number {
    return this.#clients.size;
  }

  /**
   * Open a stream for a new client.
   *
   * @param signal Aborts when the client goes away (the request's signal).
   * @param headers Extra response headers (CORS).
   * @returns The response, or undefined when the hub is full or closed.
   */
  open(signal?: AbortSignal, headers: Record<string, string> = {}): Response | undefined {
    if (this.#closed || this.#clients.size >= this.#maxClients) return undefined;
    let client: Client | undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        let done = false;
        const c: Client = {
          controller,
          close: () => {
            if (done) return;
            done = true;
            this.#clients.delete(c);
            signal?.removeEventListener("abort", c.close);
            try {
              controller.close();
            } catch {
              // already closed or errored
            }
          },
        };
        client = c;
        this.#clients.add(c);
        signal?.addEventListener("abort", c.close, { once: true });
        controller.enqueue(encoder.encode(`retry: ${this.#retryMs}\n\n`));
      },
      cancel: () => {
        if (client !== undefined) {
          this.#clients.delete(client);
          signal?.removeEventListener("abort", client.close);
        }
      },
    }, new ByteLengthQueuingStrategy({ highWaterMark: 65_536 }));
    return new Response(body, {
      headers: {
        ...headers,
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }

  /**
   * Send an event to every client.
   *
   * @param event Event name (a word).
   * @param data The payload, sent as one line of JSON.
   */
  send(event: string, data: unknown): void {
    if (this.#clients.size === 0) return;
    const bytes = encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    for (const client of [...this.#clients]) {
      const desired = client.controller.desiredSize;
      if (desired !== null && desired < -this.#maxQueued) {
        client.close();
        continue;
      }
      try {
        client.controller.enqueue(bytes);
      } catch {
        client.close();
      }
    }
  }

  /** End every stream and refuse new ones. */
  close(): void {
    this.#closed = true;
    for (const client of [...this.#clients]) client.close();
  }
}
