/**
 * The words of a `listen` entry that say how a Stratum or UCP port meets its peers, shared by
 * both kinds of port: `tls cert=FILE key=FILE` (a TLS port, `stratum+ssl://`) and
 * `proxy_protocol` (a PROXY protocol v1/v2 header from a trusted proxy comes first).
 *
 * @module
 */
import type { TlsFiles } from "../net/tls_certificate.ts";

/** How a port meets its peers. */
export interface PortEdge {
  /** Serve TLS with this certificate and key. */
  tls?: TlsFiles;
  /** Expect a PROXY protocol header from a trusted proxy first. @default false */
  proxyProtocol?: boolean;
}

/** Words of a port being parsed (`tls`, `cert=`, `key=`, `proxy_protocol`). */
export class PortEdgeWords {
  #tls = false;
  #cert: string | undefined;
  #key: string | undefined;
  #proxy = false;

  /**
   * Take one word if it is an edge word.
   *
   * @example Usage
   * ```ts
   * import { PortEdgeWords } from "./port_edge.ts";
   * import assert from "node:assert/strict";
   *
   * const words = new PortEdgeWords();
   * for (const w of ["tls", "cert=/etc/pool.crt", "key=/etc/pool.key"]) assert.ok(words.take(w));
   * assert.equal(words.take("diff=5"), false);
   * assert.deepEqual(words.finish(), { tls: { certFile: "/etc/pool.crt", keyFile: "/etc/pool.key" } });
   * ```
   *
   * @param word The word.
   * @returns Whether it was one.
   */
  take(word: string): boolean {
    if (word === "tls") this.#tls = true;
    else if (word === "proxy_protocol") this.#proxy = true;
    else if (word.startsWith("cert=")) this.#cert = word.slice(5);
    else if (word.startsWith("key=")) this.#key = word.slice(4);
    else return false;
    return true;
  }

  /**
   * The port's edge settings once every word was taken.
   *
   * @returns The settings (empty for a plain port).
   * @throws {SyntaxError} When `tls` lacks `cert=`/`key=` (or they come without `tls`), a file
   * name is empty.
   */
  finish(): PortEdge {
    const files = this.#cert !== undefined || this.#key !== undefined;
    if (files && !this.#tls) throw new SyntaxError("cert= and key= need the word tls");
    const out: PortEdge = {};
    if (this.#tls) {
      if (!this.#cert || !this.#key) throw new SyntaxError("tls needs cert=FILE and key=FILE");
      out.tls = { certFile: this.#cert, keyFile: this.#key };
    }
    if (this.#proxy) out.proxyProtocol = true;
    return out;
  }
}
