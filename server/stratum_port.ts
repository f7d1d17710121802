/**
 * One Stratum port's settings (address, start difficulty, vardiff bounds) and the text form
 * used in configuration: `HOST:PORT` optionally followed by `key=value` words, e.g.
 * `"0.0.0.0:3334 diff=65536 min=1024 max=1099511627776 vardiff=on target=10"`.
 *
 * @module
 */

import { parseHostPort } from "../net/line_client.ts";
import { type PortEdge, PortEdgeWords } from "./port_edge.ts";

/** Difficulty and vardiff settings of a port. */
export interface PortDifficulty {
  /** Start difficulty of a new connection. */
  difficulty: bigint;
  /** Lowest difficulty vardiff (or a miner's `d=`) may set. */
  minDifficulty: bigint;
  /** Highest difficulty vardiff (or a miner's `d=`) may set. */
  maxDifficulty: bigint;
  /** Whether vardiff runs (otherwise the difficulty stays fixed unless the miner asks). */
  vardiff: boolean;
  /** Vardiff's desired seconds per share. */
  targetShareSeconds: number;
  /** Vardiff's minimum seconds between changes. */
  retargetSeconds: number;
  /** Vardiff's dead band in percent. */
  variancePercent: number;
}

/** A Stratum port. */
export interface StratumPortOptions extends PortDifficulty, PortEdge {
  /** Address to bind. */
  hostname: string;
  /** Port to bind (0 picks a free one). */
  port: number;
  /** A SOLO port: each block found here is credited to its finder alone (after the SOLO fee),
   * and its shares never enter the PPLNS window. @default false */
  solo?: boolean;
}

/** Defaults of {@linkcode PortDifficulty} (the original server's start and bounds). */
export const DEFAULT_PORT_DIFFICULTY: Readonly<PortDifficulty> = {
  difficulty: 1_048_576n,
  minDifficulty: 65_536n,
  maxDifficulty: 1n << 48n,
  vardiff: true,
  targetShareSeconds: 10,
  retargetSeconds: 10,
  variancePercent: 30,
};

const DIFF_RE = /^[1-9]\d{0,57}$/;

/**
 * Parse a port specification.
 *
 * Words after the address: `diff=N` (start), `min=N`, `max=N` (positive integers),
 * `vardiff=on|off`, `target=S` (seconds per share), `retarget=S`, `variance=P`, `solo`
 * (or `solo=on|off`: a SOLO port), `tls cert=FILE key=FILE` (a TLS port) and `proxy_protocol`
 * (a PROXY header from a trusted proxy first). The start difficulty is clamped into [min, max].
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_PORT_DIFFICULTY, parsePortSpec } from "./stratum_port.ts";
 * import assert from "node:assert/strict";
 *
 * const port = parsePortSpec("0.0.0.0:3334 diff=256 min=1 vardiff=off", DEFAULT_PORT_DIFFICULTY);
 * assert.equal(port.port, 3334);
 * assert.equal(port.difficulty, 256n);
 * assert.equal(port.minDifficulty, 1n);
 * assert.equal(port.vardiff, false);
 * assert.equal(parsePortSpec("0.0.0.0:3335 solo", DEFAULT_PORT_DIFFICULTY).solo, true);
 * assert.throws(() => parsePortSpec("127.0.0.1:3333 diff=0", DEFAULT_PORT_DIFFICULTY), SyntaxError);
 * ```
 *
 * @param text The specification.
 * @param defaults Values for the words left out.
 * @returns The port's settings.
 * @throws {SyntaxError} When the text is malformed or a value is out of range.
 */
export function parsePortSpec(text: string, defaults: PortDifficulty): StratumPortOptions {
  if (typeof text !== "string") throw new SyntaxError("Cannot parse port: not a string");
  const words = text.trim().split(/\s+/);
  const { hostname, port } = parseHostPortOrZero(words[0] ?? "", text);
  const out: StratumPortOptions = { ...defaults, hostname, port };
  const edge = new PortEdgeWords();
  for (const word of words.slice(1)) {
    if (edge.take(word)) continue;
    const eq = word.indexOf("=");
    const key = eq > 0 ? word.slice(0, eq) : word;
    const value = eq > 0 ? word.slice(eq + 1) : "";
    switch (key) {
      case "diff":
        out.difficulty = difficulty(value, key, text);
        break;
      case "min":
        out.minDifficulty = difficulty(value, key, text);
        break;
      case "max":
        out.maxDifficulty = difficulty(value, key, text);
        break;
      case "vardiff":
        if (value !== "on" && value !== "off") fail(text, `vardiff must be on or off`);
        out.vardiff = value === "on";
        break;
      case "target":
        out.targetShareSeconds = seconds(value, key, text, false);
        break;
      case "retarget":
        out.retargetSeconds = seconds(value, key, text, true);
        break;
      case "solo":
        if (value !== "" && value !== "on" && value !== "off") fail(text, "solo must be on or off");
        out.solo = value !== "off";
        break;
      case "variance": {
        const v = seconds(value, key, text, true);
        if (v >= 100) fail(text, "variance must be below 100");
        out.variancePercent = v;
        break;
      }
      default:
        fail(text, `unknown word ${JSON.stringify(word)}`);
    }
  }
  try {
    Object.assign(out, edge.finish());
  } catch (err) {
    fail(text, (err as Error).message);
  }
  if (out.maxDifficulty < out.minDifficulty) fail(text, "max is below min");
  if (out.difficulty < out.minDifficulty) out.difficulty = out.minDifficulty;
  if (out.difficulty > out.maxDifficulty) out.difficulty = out.maxDifficulty;
  return out;
}

function parseHostPortOrZero(word: string, text: string): { hostname: string; port: number } {
  // Port 0 (pick a free port) is allowed here, unlike parseHostPort.
  const zero = /^(.+):0$/.exec(word);
  if (zero) return { hostname: zero[1]!.replace(/^\[(.*)\]$/, "$1"), port: 0 };
  try {
    return parseHostPort(word);
  } catch {
    return fail(text, "expected HOST:PORT first");
  }
}

function difficulty(value: string, key: string, text: string): bigint {
  if (!DIFF_RE.test(value)) fail(text, `${key} must be a positive integer`);
  return BigInt(value);
}

function seconds(value: string, key: string, text: string, zeroOk: boolean): number {
  const n = Number(value);
  if (value === "" || !Number.isFinite(n) || n < 0 || (!zeroOk && n === 0)) {
    fail(text, `${key} must be a ${zeroOk ? "non-negative" : "positive"} number`);
  }
  return n;
}

function fail(text: string, why: string): never {
  throw new SyntaxError(`Cannot parse port ${JSON.stringify(text)}: ${why}`);
}
