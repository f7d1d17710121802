/**
 * Test helper: a real TCP relay that stands in for HAProxy or a cloud load balancer: it
 * accepts clients on a loopback port, connects to the pool from another loopback address (the
 * trusted proxy's, 127.0.0.2 by default), sends a PROXY protocol header naming a client address
 * of the test's choosing, then copies bytes both ways.
 *
 * @module
 */
import net from "node:net";
import { encodeProxyV1, encodeProxyV2, type ProxyHeader } from "../../protocol/mod.ts";

/** Options for {@linkcode ProxyRelay.start}. */
export interface ProxyRelayOptions {
  /** The pool's port (on 127.0.0.1). */
  target: number;
  /** PROXY protocol version to send. */
  version: 1 | 2;
  /** The client address the header names. */
  clientIp: string;
  /** The address the relay connects from. @default "127.0.0.2" */
  localAddress?: string;
}

/** A running relay. */
export class ProxyRelay {
  /** Where clients connect (on 127.0.0.1). */
  readonly port: number;
  #server: net.Server;
  #sockets = new Set<net.Socket>();
  #nextPort = 50000;

  private constructor(server: net.Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  /**
   * Start relaying.
   *
   * @param options Target, header version and the client address to name.
   * @returns The relay once it listens.
   */
  static start(options: ProxyRelayOptions): Promise<ProxyRelay> {
    let relay: ProxyRelay | undefined;
    const server = net.createServer((client) => relay!.#relay(client, options));
    return new Promise((resolve) => {
      server.listen(0, "127.0.0.1", () => {
        relay = new ProxyRelay(server, (server.address() as net.AddressInfo).port);
        resolve(relay);
      });
    });
  }

  #relay(client: net.Socket, options: ProxyRelayOptions): void {
    const upstream = net.connect({
      host: "127.0.0.1",
      port: options.target,
      localAddress: options.localAddress ?? "127.0.0.2",
    });
    this.#sockets.add(client).add(upstream);
    const v6 = options.clientIp.includes(":");
    const header: ProxyHeader = {
      version: options.version,
      command: "proxy",
      family: v6 ? "tcp6" : "tcp4",
      source: { ip: options.clientIp, port: this.#nextPort++ },
      destination: { ip: v6 ? "2001:db8::1" : "198.51.100.1", port: options.target },
    };
    upstream.write(options.version === 1 ? encodeProxyV1(header) : encodeProxyV2(header));
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  }

  /** Stop: close the listener and every relayed connection. */
  close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
