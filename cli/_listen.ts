/**
 * The listening side of the commands: which setting holds an address that cannot be bound
 * (`Cannot listen on 127.0.0.1:3333 (stratum.listen): address in use`), and how to reach an
 * address bound on every interface.
 *
 * @module
 */
import { formatHostPort, ListenError } from "../net/mod.ts";

/** An address a command binds, with the configuration key it comes from. */
export interface ListenSetting {
  /** The key, e.g. `stratum.listen`. */
  key: string;
  /** The host to bind. */
  hostname: string;
  /** The port to bind (0: any free port). */
  port: number;
}

/**
 * The error to show for a failed bind: a {@linkcode ListenError} for one of `settings` becomes
 * one that names the key too; anything else is returned as it is.
 *
 * @example Usage
 * ```ts
 * import { nameListenError } from "./_listen.ts";
 * import { ListenError } from "../net/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new ListenError("127.0.0.1", 3333, new Deno.errors.AddrInUse("in use"));
 * const named = nameListenError(err, [{ key: "stratum.listen", hostname: "127.0.0.1", port: 3333 }]);
 * assert.equal(
 *   (named as Error).message,
 *   "Cannot listen on 127.0.0.1:3333 (stratum.listen): address in use",
 * );
 * ```
 *
 * @param err What the bind threw.
 * @param settings The addresses the command binds.
 * @returns The error to throw.
 */
export function nameListenError(err: unknown, settings: readonly ListenSetting[]): unknown {
  if (!(err instanceof ListenError)) return err;
  const setting = settings.find((s) => s.hostname === err.hostname && s.port === err.port);
  if (setting === undefined) return err;
  return new Error(
    `Cannot listen on ${formatHostPort(err.hostname, err.port)} (${setting.key}): ${err.reason}`,
    { cause: err },
  );
}

/**
 * The host a client on this machine connects to for a server bound to `hostname`: loopback for
 * a wildcard (`0.0.0.0`, `::`), else the host itself.
 *
 * @example Usage
 * ```ts
 * import { reachableHost } from "./_listen.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(reachableHost("0.0.0.0"), "127.0.0.1");
 * assert.equal(reachableHost("::"), "::1");
 * assert.equal(reachableHost("10.0.0.2"), "10.0.0.2");
 * ```
 *
 * @param hostname The bound host.
 * @returns The host to connect to.
 */
export function reachableHost(hostname: string): string {
  if (hostname === "0.0.0.0" || hostname === "") return "127.0.0.1";
  if (hostname === "::" || hostname === "[::]") return "::1";
  return hostname;
}
