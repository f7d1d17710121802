/**
 * The listening socket of a port with its accept loop ({@linkcode acceptLoop}: descriptor
 * budget, accept errors survived with back-off), and, on a TLS port, the certificate new
 * sessions are made with. The socket is always plain TCP: TLS runs on each accepted socket
 * (see `edge_connection.ts`), so a certificate reload only changes what the next handshake
 * uses — nothing is re-bound and connected peers keep their sessions — and a peer that never
 * finishes its handshake is closed by closing its own socket.
 *
 * @module
 */
import { acceptLoop } from "./accept_loop.ts";
import type { DescriptorBudget } from "./descriptor_budget.ts";
import { listenOn } from "./listen_error.ts";
import {
  readTlsFiles,
  readTlsFilesSync,
  type TlsFiles,
  type TlsMaterial,
} from "./tls_certificate.ts";

/** Options for {@linkcode EdgeListener.listen}. */
export interface EdgeListenerOptions {
  /** Address to bind. */
  hostname: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Names the listener in the log (followed by its address). */
  name: string;
  /** Serve TLS with this certificate and key. @default plain TCP */
  tls?: TlsFiles | undefined;
  /** Bind with `SO_REUSEPORT` (a zero-downtime upgrade). @default false */
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
  /** Whether the certificate or key changed. */
  changed: boolean;
  /** The pair new connections now get. */
  material: TlsMaterial;
}

/** A listening port. Create with {@linkcode EdgeListener.listen}. */
export class EdgeListener {
  /** The bound address. */
  readonly addr: Deno.NetAddr;

  #files: TlsFiles | undefined;
  #listener: Deno.Listener;
  #material: TlsMaterial | undefined;
  #accepting: Promise<void>;
  #stopped = false;
  #reloading: Promise<unknown> = Promise.resolve();

  private constructor(listener: Deno.Listener, options: EdgeListenerOptions, tls?: TlsMaterial) {
    this.#files = options.tls;
    this.#listener = listener;
    this.#material = tls;
    this.addr = listener.addr as Deno.NetAddr;
    this.#accepting = acceptLoop(listener, {
      name: `${options.name} ${this.addr.hostname}:${this.addr.port}`,
      descriptors: options.descriptors,
      stopped: () => this.#stopped,
      onConnection: (conn, release) => options.onConnection(conn, release),
      onRefused: (ip) => options.onRefused?.(ip),
    });
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
   * @throws {Error} When the TLS files cannot be read or do not match.
   */
  static listen(options: EdgeListenerOptions): EdgeListener {
    const material = options.tls === undefined ? undefined : readTlsFilesSync(options.tls);
    const { hostname, port } = options;
    const reuse = options.reusePort === true ? { reusePort: true } : {};
    const listener = listenOn(hostname, port, () => Deno.listen({ hostname, port, ...reuse }));
    return new EdgeListener(listener, options, material);
  }

  /** The TLS certificate new connections get (undefined on a plain port). */
  get certificate(): TlsMaterial | undefined {
    return this.#material;
  }

  /** Settles once the listener is stopped and its accept loop has ended. */
  get done(): Promise<void> {
    return this.#accepting;
  }

  /**
   * Re-read the certificate and key; new connections get them, connected peers keep their
   * sessions. A pair that cannot be read or does not match is refused and the old one kept.
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
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
  }

  async #reload(): Promise<TlsReload> {
    if (this.#files === undefined) throw new Error("Cannot reload TLS: not a TLS port");
    const material = await readTlsFiles(this.#files);
    const old = this.#material!;
    if (material.cert === old.cert && material.key === old.key) {
      return { changed: false, material: old };
    }
    this.#material = material;
    return { changed: true, material };
  }
}
