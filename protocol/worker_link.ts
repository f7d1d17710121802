/**
 * The link between a `[process] workers` supervisor and its pool processes (the workers): one
 * JSON object per line, so that IP bans and per-IP connection caps hold for the whole pool and
 * not for each process alone. A worker says who it is (`hello`), reports the bans it makes, the
 * bans its operator lifts and the offences that did not ban an IP there (`offence`), asks for
 * the current set (`sync`) and reports its own per-IP connection counts; the supervisor relays
 * bans and lifted bans to every worker, each offence to every other worker, answers a `sync`
 * with the bans in force, and sends each worker the other workers' counts.
 *
 * Parsing is strict: a line that is not a JSON object, a type the sender may not send, a
 * missing or extra key, a value of the wrong type or out of range, or a list longer than
 * {@linkcode MAX_LINK_ENTRIES} is refused; the receiver then closes the link (the other side
 * reconnects and starts over). Counts are absolute (this many connections now; 0 = none), so a
 * message repeated or sent again after a reconnect does no harm.
 *
 * @module
 */

import { parseIp } from "./ip_address.ts";

/** Version in every `hello`; a supervisor refuses a worker of another version. */
export const WORKER_LINK_VERSION = 3;
/** Longest line either side sends or accepts, bytes. */
export const MAX_LINK_LINE_BYTES = 1 << 20;
/** Most bans or counts in one message (longer lists are sent in several). */
export const MAX_LINK_ENTRIES = 2048;

/** An IP ban as it travels between processes. */
export interface LinkBan {
  /** The address. */
  ip: string;
  /** When it began, ms since epoch. */
  since: number;
  /** When it ends, ms since epoch. */
  until: number;
  /** Why: an offence kind or "manual". */
  reason: string;
  /** Offending connections that led to it. */
  offences: number;
}

/** What a connection was closed for (the pool's offence kinds, see `server/bans.ts`). */
export const LINK_OFFENCE_KINDS = [
  "invalid_shares",
  "protocol_errors",
  "flood",
  "auth_failures",
] as const;

/** One of {@linkcode LINK_OFFENCE_KINDS}. */
export type LinkOffenceKind = typeof LINK_OFFENCE_KINDS[number];

/** A connection closed for an offence, as it travels between processes. */
export interface LinkOffence {
  /** Its peer address. */
  ip: string;
  /** What it did. */
  kind: LinkOffenceKind;
  /** When it was closed, ms since epoch. */
  at: number;
}

/** Connections from one IP on one port: `[port, ip, count]` (port as `host:port`). */
export type LinkCount = [port: string, ip: string, count: number];

/** A message from a worker to its supervisor. */
export type WorkerToSupervisor =
  | { type: "hello"; version: number; worker: number; token: string }
  | { type: "ban"; ban: LinkBan }
  | { type: "unban"; ip: string }
  | { type: "offence"; offence: LinkOffence }
  | { type: "sync" }
  | { type: "counts"; counts: LinkCount[] }
  | { type: "handover_ready" };

/**
 * A message from the supervisor to a worker (`counts` are the other workers' connections, an
 * `offence` is another worker's).
 */
export type SupervisorToWorker =
  | { type: "ban"; ban: LinkBan }
  | { type: "unban"; ip: string }
  | { type: "offence"; offence: LinkOffence }
  | { type: "bans"; bans: LinkBan[]; done: boolean }
  | { type: "counts"; counts: LinkCount[] }
  | { type: "handover_go" };

/** Result of {@linkcode parseWorkerMessage} and {@linkcode parseSupervisorMessage}. */
export type ParseLinkResult<T> = { ok: true; message: T } | { ok: false; error: string };

/** Wire keys of each type (besides `t`), in order. */
const KEYS = {
  hello: ["v", "worker", "token"],
  ban: ["ip", "since", "until", "reason", "offences"],
  unban: ["ip"],
  offence: ["ip", "kind", "at"],
  sync: [],
  counts: ["c"],
  bans: ["bans", "done"],
  handover_ready: [],
  handover_go: [],
} as const;

const TOKEN = /^[0-9a-f]{32}$/;
const REASON = /^[a-z_]{1,32}$/;
const PORT_KEY = /^[0-9A-Za-z.:[\]_%-]{1,80}$/;
const MAX_COUNT = 1_000_000_000;
const MAX_WORKER = 1023;

/**
 * Whether an address can travel on the link: IPv4 or IPv6 text (no brackets, no zone).
 *
 * @example Usage
 * ```ts
 * import { linkIp } from "./worker_link.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(linkIp("10.0.0.1"), true);
 * assert.equal(linkIp("::ffff:10.0.0.1"), true);
 * assert.equal(linkIp("fe80::1%eth0"), false);
 * ```
 *
 * @param ip The address text.
 * @returns True when it is a plain IPv4 or IPv6 address.
 */
export function linkIp(ip: unknown): ip is string {
  return typeof ip === "string" && ip.length <= 45 && !ip.startsWith("[") &&
    parseIp(ip) !== undefined;
}

/** Thrown inside the parsers on the first bad value; never escapes them. */
class Refused extends Error {}

function refuse(what: string): never {
  throw new Refused(what);
}

function integer(value: unknown, name: string, max: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0 || value > max) {
    refuse(`${name} must be an integer from 0 to ${max}`);
  }
  return value;
}

function ip(value: unknown): string {
  if (!linkIp(value)) refuse("ip must be an IPv4 or IPv6 address");
  return value;
}

function ban(value: unknown): LinkBan {
  const o = object(value, KEYS.ban, "a ban");
  const since = integer(o.since, "since", Number.MAX_SAFE_INTEGER);
  const until = integer(o.until, "until", Number.MAX_SAFE_INTEGER);
  if (until < since) refuse("until must not be before since");
  if (typeof o.reason !== "string" || !REASON.test(o.reason)) refuse("reason must be a word");
  return {
    ip: ip(o.ip),
    since,
    until,
    reason: o.reason,
    offences: integer(o.offences, "offences", MAX_COUNT),
  };
}

function offence(o: Record<string, unknown>): LinkOffence {
  const kind = o.kind;
  if (typeof kind !== "string" || !(LINK_OFFENCE_KINDS as readonly string[]).includes(kind)) {
    refuse(`kind must be one of ${LINK_OFFENCE_KINDS.join(", ")}`);
  }
  return {
    ip: ip(o.ip),
    kind: kind as LinkOffenceKind,
    at: integer(o.at, "at", Number.MAX_SAFE_INTEGER),
  };
}

function list(value: unknown, name: string): unknown[] {
  if (!Array.isArray(value)) refuse(`${name} must be a list`);
  if (value.length > MAX_LINK_ENTRIES) refuse(`${name} has more than ${MAX_LINK_ENTRIES} entries`);
  return value;
}

function counts(value: unknown): LinkCount[] {
  return list(value, "c").map((entry) => {
    if (!Array.isArray(entry) || entry.length !== 3) refuse("a count must be [port, ip, n]");
    const [port, address, n] = entry;
    if (typeof port !== "string" || !PORT_KEY.test(port)) refuse("port must be host:port");
    return [port, ip(address), integer(n, "n", MAX_COUNT)];
  });
}

/** The object with exactly `keys` (and `t` when `typed`), or a refusal. */
function object(
  value: unknown,
  keys: readonly string[],
  what: string,
  typed = false,
): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    refuse(`${what} must be a JSON object`);
  }
  const o = value as Record<string, unknown>;
  const expected = typed ? keys.length + 1 : keys.length;
  const present = Object.keys(o);
  if (present.length !== expected || keys.some((k) => !Object.hasOwn(o, k))) {
    refuse(`${what} must have exactly the keys ${[...(typed ? ["t"] : []), ...keys].join(", ")}`);
  }
  return o;
}

/** The decoded line's type and body, when the type is one of `allowed`. */
function envelope(line: string, allowed: readonly string[]): [string, Record<string, unknown>] {
  let root: unknown;
  try {
    root = JSON.parse(line);
  } catch {
    refuse("not JSON");
  }
  const t = (root as { t?: unknown } | null)?.t;
  if (typeof t !== "string" || !allowed.includes(t)) {
    refuse(`unknown message type ${JSON.stringify(t ?? null).slice(0, 40)}`);
  }
  return [t, object(root, KEYS[t as keyof typeof KEYS], `a ${t} message`, true)];
}

function parse<T>(line: string, read: () => T): ParseLinkResult<T> {
  if (line.length > MAX_LINK_LINE_BYTES) return { ok: false, error: "line too long" };
  try {
    return { ok: true, message: read() };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, error: err.message };
    throw err;
  }
}

/**
 * Parse a line a worker sent to its supervisor. Never throws.
 *
 * @example Usage
 * ```ts
 * import { parseWorkerMessage } from "./worker_link.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseWorkerMessage('{"t":"unban","ip":"10.0.0.1"}'), {
 *   ok: true,
 *   message: { type: "unban", ip: "10.0.0.1" },
 * });
 * assert.equal(parseWorkerMessage('{"t":"unban","ip":"10.0.0.1","x":1}').ok, false);
 * assert.equal(parseWorkerMessage('{"t":"bans","bans":[],"done":true}').ok, false);
 * ```
 *
 * @param line One line, without "\n".
 * @returns The message, or why it is refused.
 */
export function parseWorkerMessage(line: string): ParseLinkResult<WorkerToSupervisor> {
  return parse(line, (): WorkerToSupervisor => {
    const [t, o] = envelope(line, [
      "hello",
      "ban",
      "unban",
      "offence",
      "sync",
      "counts",
      "handover_ready",
    ]);
    switch (t) {
      case "hello":
        if (typeof o.token !== "string" || !TOKEN.test(o.token)) refuse("token must be 32 hex");
        return {
          type: "hello",
          version: integer(o.v, "v", 1000),
          worker: integer(o.worker, "worker", MAX_WORKER),
          token: o.token,
        };
      case "ban":
        return { type: "ban", ban: ban(strip(o)) };
      case "unban":
        return { type: "unban", ip: ip(o.ip) };
      case "offence":
        return { type: "offence", offence: offence(o) };
      case "sync":
        return { type: "sync" };
      case "handover_ready":
        return { type: "handover_ready" };
      default:
        return { type: "counts", counts: counts(o.c) };
    }
  });
}

/**
 * Parse a line the supervisor sent to a worker. Never throws.
 *
 * @example Usage
 * ```ts
 * import { parseSupervisorMessage } from "./worker_link.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseSupervisorMessage('{"t":"counts","c":[["0.0.0.0:3333","10.0.0.1",2]]}'), {
 *   ok: true,
 *   message: { type: "counts", counts: [["0.0.0.0:3333", "10.0.0.1", 2]] },
 * });
 * assert.equal(parseSupervisorMessage('{"t":"sync"}').ok, false);
 * ```
 *
 * @param line One line, without "\n".
 * @returns The message, or why it is refused.
 */
export function parseSupervisorMessage(line: string): ParseLinkResult<SupervisorToWorker> {
  return parse(line, (): SupervisorToWorker => {
    const [t, o] = envelope(line, ["ban", "unban", "offence", "bans", "counts", "handover_go"]);
    switch (t) {
      case "ban":
        return { type: "ban", ban: ban(strip(o)) };
      case "unban":
        return { type: "unban", ip: ip(o.ip) };
      case "offence":
        return { type: "offence", offence: offence(o) };
      case "bans":
        if (typeof o.done !== "boolean") refuse("done must be true or false");
        return { type: "bans", bans: list(o.bans, "bans").map(ban), done: o.done };
      case "handover_go":
        return { type: "handover_go" };
      default:
        return { type: "counts", counts: counts(o.c) };
    }
  });
}

/** A typed message's body without its `t`. */
function strip(o: Record<string, unknown>): Record<string, unknown> {
  const { t: _, ...rest } = o;
  return rest;
}

/**
 * Encode a message of either side as one line (without "\n").
 *
 * @example Usage
 * ```ts
 * import { encodeLinkMessage, parseWorkerMessage } from "./worker_link.ts";
 * import assert from "node:assert/strict";
 *
 * const ban = { ip: "10.0.0.1", since: 1000, until: 61_000, reason: "flood", offences: 3 };
 * const line = encodeLinkMessage({ type: "ban", ban });
 * assert.equal(line, '{"t":"ban","ip":"10.0.0.1","since":1000,"until":61000,"reason":"flood","offences":3}');
 * assert.deepEqual(parseWorkerMessage(line), { ok: true, message: { type: "ban", ban } });
 * ```
 *
 * @param message The message.
 * @returns The line.
 * @throws {RangeError} When a list is longer than {@linkcode MAX_LINK_ENTRIES}.
 */
export function encodeLinkMessage(message: WorkerToSupervisor | SupervisorToWorker): string {
  switch (message.type) {
    case "hello":
      return JSON.stringify({
        t: "hello",
        v: message.version,
        worker: message.worker,
        token: message.token,
      });
    case "ban":
      return JSON.stringify({ t: "ban", ...banFields(message.ban) });
    case "unban":
      return JSON.stringify({ t: "unban", ip: message.ip });
    case "offence": {
      const { ip, kind, at } = message.offence;
      return JSON.stringify({ t: "offence", ip, kind, at });
    }
    case "sync":
      return '{"t":"sync"}';
    case "bans":
      checkLength(message.bans.length);
      return JSON.stringify({ t: "bans", bans: message.bans.map(banFields), done: message.done });
    case "counts":
      checkLength(message.counts.length);
      return JSON.stringify({ t: "counts", c: message.counts });
    case "handover_ready":
      return '{"t":"handover_ready"}';
    case "handover_go":
      return '{"t":"handover_go"}';
  }
}

function banFields(b: LinkBan): LinkBan {
  return { ip: b.ip, since: b.since, until: b.until, reason: b.reason, offences: b.offences };
}

function checkLength(n: number): void {
  if (n > MAX_LINK_ENTRIES) {
    throw new RangeError(`Cannot encode link message: ${n} entries (at most ${MAX_LINK_ENTRIES})`);
  }
}
