/**
 * Logs cannot be used to fill the disk: 10,000 bad requests against the real `vbkpool server`
 * on the devnet (Stratum garbage lines, unknown methods, refused shares and failed
 * authorizations from 40 attacker IPs with bans on, HTTP API bad requests from 100 forwarded
 * client addresses) write a bounded number of log bytes, while a well-behaved miner on the same
 * pool keeps getting its shares accepted.
 *
 * The attackers come from 127.0.0.2 and up with `exempt_loopback = false`, so the offence and
 * ban machinery runs (and must log by episode too); the miner connects from 127.0.0.1.
 */
import assert from "node:assert/strict";
import { ADDRESSES, BAD_ADDRESS } from "../server/_pool.ts";
import { RawHttpClient } from "../net/_http_client.ts";
import { waitUntil } from "../_wait.ts";
import { type ApiStack, ScriptedMiner, startApiStack } from "./_api_stack.ts";

const A = ADDRESSES[0]!;
/** Bytes of log the whole attack may cost, start-up excluded (about 200 lines). */
const MAX_LOG_BYTES = 20_000;
const BAD_REQUESTS = 10_000;
const STRATUM_IPS = 40;
const HTTP_CLIENTS = 100;
/** Refused shares per connection (the 100th is the invalid-share ratio's check). */
const SUBMITS = 100;
const UNKNOWN_METHODS = 50;
/** Bad HTTP requests, one per connection. */
const HTTP_REQUESTS = 4_000;

/** Lines the server sent on a raw connection. */
function linesOf(client: RawHttpClient): string[] {
  return client.text.split("\n").slice(0, -1);
}

/** Error replies (JSON-RPC `error` set) among the lines. */
function errorReplies(lines: string[]): number {
  return lines.filter((l) => {
    try {
      return JSON.parse(l).error != null;
    } catch {
      return false;
    }
  }).length;
}

/** Send `lines` on a new connection from `ip` and wait for `replies` lines or the close. */
async function stratumAttack(
  port: number,
  ip: string,
  lines: string[],
  replies: number,
): Promise<number> {
  let client: RawHttpClient;
  try {
    client = await RawHttpClient.connect(port, { localAddress: ip });
  } catch {
    return 0; // refused: the IP is banned
  }
  try {
    client.send(lines.map((l) => l + "\n").join(""));
    await waitUntil(
      () => linesOf(client).length >= replies || client.endedAt !== undefined,
      () => `${replies} replies from ${ip} (got ${linesOf(client).length})`,
      { timeoutMs: 60_000, intervalMs: 10 },
    );
    return errorReplies(linesOf(client));
  } finally {
    await client.close();
  }
}

/**
 * One attacker IP: malformed lines, unknown methods and a bad authorize, refused shares,
 * malformed lines again (its third offending connection: banned), then a refused connection.
 */
async function attackFrom(port: number, ip: string): Promise<number> {
  const request = (id: number, method: string, params: unknown[]) =>
    JSON.stringify({ id, method, params });
  // Three malformed lines: each answered, the third closes the connection (an offence).
  let bad = await stratumAttack(port, ip, ["{garbage", "not json at all", "[1,2,3"], 3);
  // Unknown methods (answered, no offence), then an authorize of a bad address.
  const unknown = Array.from(
    { length: UNKNOWN_METHODS },
    (_, i) => request(i + 1, `mining.nothing_${i}`, []),
  );
  bad += await stratumAttack(port, ip, [
    ...unknown,
    request(900, "mining.subscribe", []),
    request(901, "mining.authorize", [BAD_ADDRESS, "x"]),
  ], UNKNOWN_METHODS + 2);
  // Shares for a job that does not exist: each refused; at the 100th the connection is judged.
  const submits = Array.from(
    { length: SUBMITS },
    (_, i) =>
      request(i + 10, "mining.submit", [
        A,
        "gone",
        "00".repeat(8),
        "00000000",
        i.toString(16).padStart(8, "0"),
      ]),
  );
  bad += await stratumAttack(port, ip, [
    request(1, "mining.subscribe", []),
    request(2, "mining.authorize", [`${A}.attacker`, "x"]),
    ...submits,
  ], SUBMITS + 2);
  // Malformed lines again: the third offending connection bans the IP (one log line).
  bad += await stratumAttack(port, ip, ["{garbage", "not json at all", "[1,2,3"], 3);
  // Banned: refused at accept or closed unanswered (one refusal episode per ban).
  assert.equal(await stratumAttack(port, ip, ["{garbage"], 1), 0);
  return bad;
}

/**
 * One bad HTTP request on its own connection (the API answers a 4xx and closes), from one of
 * {@linkcode HTTP_CLIENTS} forwarded client addresses.
 */
async function httpAttack(stack: ApiStack, i: number): Promise<number> {
  const client = await RawHttpClient.connect(Number(new URL(stack.api).port));
  try {
    const client_ = i % HTTP_CLIENTS;
    const from = `X-Forwarded-For: 10.66.${client_ >> 8}.${client_ & 255}\r\n`;
    const request = [
      `GET /api/nothing-${i} HTTP/1.1\r\nHost: x\r\n${from}\r\n`,
      `GET /api/blocks?limit=lots HTTP/1.1\r\nHost: x\r\n${from}\r\n`,
      `GET /api/miners/NOT-AN-ADDRESS HTTP/1.1\r\nHost: x\r\n${from}\r\n`,
      `DELETE /api/pool HTTP/1.1\r\nHost: x\r\n${from}Content-Length: 0\r\n\r\n`,
      `BLAH BLAH BLAH\r\n\r\n`,
    ][i % 5]!;
    client.send(request);
    await client.ended(60_000);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(client.text)?.[1]);
    assert.ok(status >= 400 && status < 500, `${JSON.stringify(request)}: ${client.text}`);
    return 1;
  } finally {
    await client.close();
  }
}

/** Run `tasks` with at most `limit` at a time; the sum of their results. */
async function pooled(tasks: (() => Promise<number>)[], limit: number): Promise<number> {
  let next = 0;
  let sum = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const result = await tasks[next++]!();
      sum += result;
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return sum;
}

Deno.test({
  name: "10,000 bad requests on Stratum and the HTTP API cost a bounded number of log bytes",
  async fn() {
    const stack = await startApiStack({
      VBKPOOL_STRATUM_EXEMPT_LOOPBACK: "false",
      VBKPOOL_STRATUM_BAN_OFFENCES: "3",
    });
    let miner: ScriptedMiner | undefined;
    try {
      miner = await ScriptedMiner.connect(stack.stratumPort, `${A}.good`);
      assert.deepEqual(await miner.shares(2), [true, true]);
      const logFrom = new TextEncoder().encode(stack.log()).length;

      // The well-behaved miner mines on through the attack.
      let attacking = true;
      let answered = 0;
      const mining = (async () => {
        while (attacking) {
          assert.deepEqual(await miner!.shares(2), [true, true]);
          answered += 2;
        }
      })();
      const stratum = Array.from(
        { length: STRATUM_IPS },
        (_, k) => () => attackFrom(stack.stratumPort, `127.0.0.${k + 2}`),
      );
      const http = Array.from({ length: HTTP_REQUESTS }, (_, i) => () => httpAttack(stack, i));
      const started = performance.now();
      let attack: [number, number];
      try {
        attack = await Promise.all([pooled(stratum, 8), pooled(http, 8)]);
      } finally {
        attacking = false;
        await mining;
      }
      const [badStratum, badHttp] = attack;
      const seconds = (performance.now() - started) / 1000;
      const bad = badStratum + badHttp;
      assert.ok(bad >= BAD_REQUESTS, `${bad} bad requests answered (${badStratum} + ${badHttp})`);

      // After the attack: the miner is still answered, and so is a new one.
      assert.deepEqual(await miner.shares(3), [true, true, true]);
      const fresh = await ScriptedMiner.connect(stack.stratumPort, `${A}.fresh`);
      assert.deepEqual(await fresh.shares(1), [true]);
      await fresh.close();
      assert.equal((await stack.json<{ status: string }>("/api/health")).status, "ok");

      // Everything the attack wrote, up to and including the clean stop.
      await miner.close();
      miner = undefined;
      await stack.stop();
      const log = stack.log();
      const bytes = new TextEncoder().encode(log).length - logFrom;
      const lines = log.split("\n").length;
      console.log(
        `log volume: ${bytes} bytes (${lines} lines in all) for ${bad} bad requests ` +
          `(${badStratum} Stratum, ${badHttp} HTTP) in ${seconds.toFixed(1)} s; ` +
          `the miner got ${answered} shares accepted meanwhile`,
      );
      assert.ok(bytes < MAX_LOG_BYTES, `${bytes} bytes of log:\n${log.slice(-6000)}`);
      assert.ok(answered >= 2, `${answered} shares answered during the attack`);
      assert.doesNotMatch(log, /Uncaught|panicked/);
    } finally {
      await miner?.close();
      await stack.stop().catch(() => {});
    }
  },
});
