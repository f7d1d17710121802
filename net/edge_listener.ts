/**
 * The listening socket of a port, plain TCP or TLS, with its accept loop
 * ({@linkcode acceptLoop}: descriptor budget, accept errors survived with back-off), and a
 * certificate reload that keeps every connected peer. `Deno.listenTls` takes the certificate
 * when it binds, so a reload binds a new listener with the new pair on the same address and
 * closes the old one: established connections are sockets of their own and are not touched.
 * With `reusePort` (Linux, `--unstable-net`) the new listener is bound before the old one is
 * closed; without it the old one is closed first and the address re-bound at once (a few
 * milliseconds in which a new connection is refused, and the connections waiting in the old
 * listener's backlog are reset; their clients reconnect).
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { acceptLoop } from "./accept_loop.ts";
import type { DescriptorBudget } from "./descriptor_budget.ts";
import { listenOn } from "./listen_error.ts";
import {
  readTlsFiles,
  readTlsFilesSync,
  type TlsFiles,
  type TlsMaterial,
} from "./tls_certificate.ts";

const log = getLogger(["vbkpool", "net"]);

/** Options for {@linkcode EdgeListener.listen}. */
export interface EdgeListenerOptions {
  /** Address to bind. */
  hostname: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Names the listener in the log, e.g. `"stratum 127.0.0.1:3333"` is built from it. */
  name: string;
  /** Serve TLS with this certificate and key. @default plain TCP */
  tls?: TlsFiles | undefined;
  /** Bind with `SO_REUSEPORT` (needs `--unstable-net`), so a reload never unbinds. @default false */
  reusePort?: boolean;
  /** The descriptor budget; `null` = none. */
  descriptors: DescriptorBudget | null;
  /** A new socket (TLS: before the handshake) holding one descriptor; see `acceptLoop`. */
  onConnection(conn: Deno.Conn, release: () => void): void;
  /** A socket closed at once for lack of descriptors. */
  onRefused?(ip: string): void;
}

/** What {@linkcode EdgeListener.reloadTls} did. */
export interface TlsReload {
  /** Whether the certificate or key changed (when not, nothing was re-bound). */
  changed: boolean;
  /** The pair now served. */
  material: TlsMaterial;
}

/** A listening port. Create with {@linkcode EdgeListener.listen}. */
export class EdgeListener {
  /** The bound address. */
  readonly addr: Deno.NetAddr;

  #options: EdgeListenerOptions;
  #listener: Deno.Listener;
  #material: TlsMaterial | undefined;
  #loops = new Set<Promise<void>>();
  #stopped = false;
  #reloading: Promise<unknown> = Promise.resolve();

  private constructor(listener: Deno.Listener, options: EdgeListenerOptions, tls?: TlsMaterial) {
    this.#options = options;
    this.#listener = listener;
    this.#material = tls;
    this.addr = listener.addr as Deno.NetAddr;
    this.#run(listener);
  }

  /**
   * Bind and start accepting.
   *
   * @example Usage
   * ```ts
   * import { EdgeListener } from "./edge_listener.ts";
   * import assert from "node:assert/strict";
   *
   * const accepted: Deno.Conn[] = [];
   * const edge = EdgeListener.listen({
   *   hostname: "127.0.0.1",
   *   port: 0,
   *   name: "example",
   *   descriptors: null,
   *   onConnection: (conn) => accepted.push(conn),
   * });
   * const client = await Deno.connect({ hostname: "127.0.0.1", port: edge.addr.port });
   * while (accepted.length === 0) await new Promise((r) => setTimeout(r, 5));
   * edge.stop();
   * await edge.done;
   * accepted[0]!.close();
   * client.close();
   * assert.equal(edge.certificate, undefined);
   * ```
   *
   * @param options Address, TLS files and callbacks.
   * @returns The running listener.
   * @throws {ListenError} When the address cannot be bound.
   * @throws {Error} When the TLS files cannot be read or do not check.
   */
  static listen(options: EdgeListenerOptions): EdgeListener {
    const material = options.tls === undefined ? undefined : readTlsFilesSync(options.tls);
    const listener = listenOn(
      options.hostname,
      options.port,
      () => bind(options.hostname, options.port, material, options.reusePort === true),
    );
    return new EdgeListener(listener, options, material);
  }

  /** The TLS certificate served (undefined on a plain port). */
  get certificate(): TlsMaterial | undefined {
    return this.#material;
  }

  /** Settles once the listener is stopped and every accept loop has ended. */
  get done(): Promise<void> {
    return Promise.allSettled([...this.#loops]).then(() => {});
  }

  /**
   * Re-read the certificate and key; when they changed, serve them to new connections
   * (connected peers keep theirs). A pair that cannot be read or does not check is refused
   * and the old one kept.
   *
   * @returns What was done.
   * @throws {Error} When the port is plain TCP, or the new pair is refused (the old one stays).
   */
  reloadTls(): Promise<TlsReload> {
    const next = this.#reloading.then(() => this.#reload());
    this.#reloading = next.catch(() => {});
    return next;
  }

  /** Stop accepting (connections already handed over stay open). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    closeListener(this.#listener);
  }

  async #reload(): Promise<TlsReload> {
    const files = this.#options.tls;
    if (files === undefined) throw new Error("Cannot reload TLS: not a TLS port");
    const material = await readTlsFiles(files);
    const old = this.#material!;
    if (material.cert === old.cert && material.key === old.key) {
      return { changed: false, material: old };
    }
    if (this.#stopped) return { changed: false, material: old };
    const { hostname } = this.#options;
    const port = this.addr.port;
    if (this.#options.reusePort === true) {
      // Bound beside the old one first: the port is never closed.
      const listener = bind(hostname, port, material, true);
      this.#swap(listener, material);
      return { changed: true, material };
    }
    closeListener(this.#listener);
    const listener = await this.#rebind(hostname, port, material);
    if (listener !== undefined) this.#swap(listener, material);
    return { changed: true, material };
  }

  /** Bind again after the old listener closed; its pending accept lets go within a tick. */
  async #rebind(
    hostname: string,
    port: number,
    material: TlsMaterial,
  ): Promise<Deno.Listener | undefined> {
    for (let attempt = 0; !this.#stopped; attempt++) {
      try {
        return bind(hostname, port, material, false);
      } catch (err) {
        if (attempt === 200) {
          log.error(
            "Cannot listen on {listener} again after a certificate reload: {error}; " +
              "retrying every second",
            { listener: this.#name(), error: String(err) },
          );
        }
        await new Promise((r) => setTimeout(r, attempt < 200 ? 10 : 1000));
      }
    }
    return undefined;
  }

  #swap(listener: Deno.Listener, material: TlsMaterial): void {
    const old = this.#listener;
    this.#listener = listener;
    this.#material = material;
    this.#run(listener);
    closeListener(old);
    if (this.#stopped) closeListener(listener);
  }

  #name(): string {
    return `${this.#options.name} ${this.addr.hostname}:${this.addr.port}`;
  }

  #run(listener: Deno.Listener): void {
    const o = this.#options;
    const loop = acceptLoop(listener, {
      name: this.#name(),
      descriptors: o.descriptors,
      // A listener replaced by a reload ends its loop quietly.
      stopped: () => this.#stopped || this.#listener !== listener,
      onConnection: (conn, release) => o.onConnection(conn, release),
      onRefused: (ip) => o.onRefused?.(ip),
    });
    this.#loops.add(loop);
    void loop.then(() => this.#loops.delete(loop));
  }
}

function bind(
  hostname: string,
  port: number,
  material: TlsMaterial | undefined,
  reusePort: boolean,
): Deno.Listener {
  const reuse = reusePort ? { reusePort: true } : {};
  if (material === undefined) return Deno.listen({ hostname, port, ...reuse });
  return Deno.listenTls({ hostname, port, cert: material.cert, key: material.key, ...reuse });
}

function closeListener(listener: Deno.Listener): void {
  try {
    listener.close();
  } catch {
    // Already closed.
  }
}
