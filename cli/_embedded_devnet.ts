/**
 * The embedded devnet of `vbkpool server` (no `[nodecore] endpoints`): where it listens
 * (`devnet.listen`, `devnet.api_listen` when set, else free loopback ports), starting it with the
 * `[devnet]` settings, and the loud banner that says its blocks are worthless.
 *
 * @module
 */
import { ConfigError, type ValueSource } from "./config.ts";
import { logger } from "./log.ts";
import { type Devnet, startDevnet } from "../devnet/mod.ts";
import { formatHostPort } from "../net/mod.ts";
import { devnetWalletOptions } from "./payouts.ts";
import { parseListen } from "./_devnet_schema.ts";
import { type ListenSetting, nameListenError } from "./_listen.ts";

type Values = Record<string, unknown>;

type HostPort = { hostname: string; port: number };

/** Where the embedded devnet listens. */
export interface EmbeddedListen {
  /** Its UCP port, where the pool's upstream connects. */
  ucp: HostPort;
  /** Its NodeCore HTTP API, when it runs. */
  api: HostPort | undefined;
}

/** Options for {@linkcode embeddedListen}. */
export interface EmbeddedListenOptions {
  /** Whether payouts run in-process (they need the API). */
  payouts: boolean;
  /** Where each value came from: only a value the user set moves the devnet off its default. */
  sources: Record<string, ValueSource>;
}

const ANY_LOOPBACK_PORT: HostPort = { hostname: "127.0.0.1", port: 0 };

/**
 * The embedded devnet's addresses: `devnet.listen` and `devnet.api_listen` when the user set
 * them, else a free loopback port (the API only for in-process payouts, which need it). The
 * defaults of those keys are `vbkpool devnet`'s (8501, 10600), not the embedded devnet's.
 *
 * @example Usage
 * ```ts
 * import { embeddedListen } from "./_embedded_devnet.ts";
 * import assert from "node:assert/strict";
 *
 * const d = { listen: "127.0.0.1:8501", api_listen: "127.0.0.1:10600" };
 * assert.deepEqual(embeddedListen(d, { payouts: false, sources: {} }), {
 *   ucp: { hostname: "127.0.0.1", port: 0 },
 *   api: undefined,
 * });
 * const set = embeddedListen({ ...d, listen: "[::1]:0" }, {
 *   payouts: false,
 *   sources: { "devnet.listen": "flag", "devnet.api_listen": "file" },
 * });
 * assert.deepEqual(set, {
 *   ucp: { hostname: "::1", port: 0 },
 *   api: { hostname: "127.0.0.1", port: 10600 },
 * });
 * ```
 *
 * @param d The `[devnet]` values.
 * @param options In-process payouts and the values' sources.
 * @returns The addresses.
 * @throws {ConfigError} When `devnet.api_listen` is set empty but payouts run in-process.
 */
export function embeddedListen(d: Values, options: EmbeddedListenOptions): EmbeddedListen {
  const isSet = (key: string) => (options.sources[`devnet.${key}`] ?? "default") !== "default";
  const ucp = isSet("listen") ? parseListen(d.listen as string) : ANY_LOOPBACK_PORT;
  if (!isSet("api_listen")) return { ucp, api: options.payouts ? ANY_LOOPBACK_PORT : undefined };
  const api = d.api_listen as string;
  if (api === "" && options.payouts) {
    throw new ConfigError(
      "Invalid configuration: devnet.api_listen is empty, but in-process payouts " +
        "(payouts.enabled) need the embedded devnet's NodeCore HTTP API",
      "devnet.api_listen",
    );
  }
  return { ucp, api: api === "" ? undefined : parseListen(api) };
}

function embeddedSettings(listen: EmbeddedListen): ListenSetting[] {
  const api = listen.api === undefined ? [] : [{ key: "devnet.api_listen", ...listen.api }];
  return [{ key: "devnet.listen", ...listen.ucp }, ...api];
}

/**
 * Start the embedded devnet and say loudly that it is one.
 *
 * @param d The `[devnet]` values.
 * @param listen Where it listens ({@linkcode embeddedListen}).
 * @returns The running devnet.
 * @throws {Error} When an address cannot be bound (named with its key), or the chain file fails.
 */
export async function startEmbeddedDevnet(d: Values, listen: EmbeddedListen): Promise<Devnet> {
  const chainFile = d.chain_file as string;
  let devnet: Devnet;
  try {
    devnet = await startDevnet({
      ...listen.ucp,
      blockTime: d.block_time as number,
      window: d.window as number,
      minDifficulty: BigInt(d.min_difficulty as number),
      shareDifficulty: BigInt(d.share_difficulty as number),
      mempoolIntervalMs: Math.round((d.mempool_interval as number) * 1000),
      rivalShare: d.rival_share as number,
      rivalReorgShare: d.rival_reorg_share as number,
      ...(chainFile === "" ? {} : { chainFile }),
      ...devnetWalletOptions(d, listen.api),
    });
  } catch (err) {
    throw nameListenError(err, embeddedSettings(listen));
  }
  const log = logger("server");
  const rule = "*".repeat(78);
  const ucp = formatHostPort(devnet.addr.hostname, devnet.addr.port);
  for (
    const line of [
      rule,
      "DEVNET MODE: no [nodecore] endpoints are configured, so the pool mines an embedded",
      "private devnet chain (not VeriBlock mainnet or testnet). Blocks found here are WORTHLESS.",
      `Devnet UCP on ${ucp}. Set [nodecore] endpoints to mine for real.`,
      rule,
    ]
  ) log.warn(line);
  return devnet;
}
