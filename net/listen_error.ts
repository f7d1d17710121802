/**
 * The error of a port that cannot be bound, naming the address (`Cannot listen on
 * 127.0.0.1:3333: address in use`) and keeping it as data, so that the command line can say
 * which setting holds the address.
 *
 * @module
 */
import { formatHostPort } from "./host_port.ts";

/** A port that cannot be bound: in use, not available on this machine, or not permitted. */
export class ListenError extends Error {
  /** The host that was to be bound. */
  readonly hostname: string;
  /** The port that was to be bound. */
  readonly port: number;
  /** Why, in a few words: `address in use`, `address not available`, `permission denied`. */
  readonly reason: string;

  /**
   * @param hostname The host that was to be bound.
   * @param port The port that was to be bound.
   * @param cause The error of the bind.
   */
  constructor(hostname: string, port: number, cause: unknown) {
    const reason = listenFailureReason(cause);
    super(`Cannot listen on ${formatHostPort(hostname, port)}: ${reason}`, { cause });
    this.name = "ListenError";
    this.hostname = hostname;
    this.port = port;
    this.reason = reason;
  }
}

function listenFailureReason(err: unknown): string {
  if (err instanceof Deno.errors.AddrInUse) return "address in use";
  if (err instanceof Deno.errors.AddrNotAvailable) return "address not available";
  if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
  return err instanceof Error ? err.message : String(err);
}

/**
 * Bind with `bind`, turning a failure into a {@linkcode ListenError} that names the address.
 *
 * @example Usage
 * ```ts
 * import { ListenError, listenOn } from "./listen_error.ts";
 * import assert from "node:assert/strict";
 *
 * const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const { port } = taken.addr as Deno.NetAddr;
 * assert.throws(
 *   () => listenOn("127.0.0.1", port, () => Deno.listen({ hostname: "127.0.0.1", port })),
 *   (e: unknown) => e instanceof ListenError && e.message.endsWith(`:${port}: address in use`),
 * );
 * taken.close();
 * ```
 *
 * @param hostname The host to bind.
 * @param port The port to bind.
 * @param bind The bind itself.
 * @returns What `bind` returned.
 * @throws {ListenError} When `bind` throws.
 */
export function listenOn<T>(hostname: string, port: number, bind: () => T): T {
  try {
    return bind();
  } catch (err) {
    throw new ListenError(hostname, port, err);
  }
}
