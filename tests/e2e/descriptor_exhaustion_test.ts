/**
 * Descriptor exhaustion against the real `vbkpool server`, run under `ulimit -n 256`: connections
 * that send a partial request line to the HTTP API (and a partial line to Stratum) and then
 * wait. Before the descriptor budget, ~220 of them ended the process ("Uncaught (in promise)
 * Http: Error: Too many open files"), taking Stratum and UCP with it. Now every listener stops
 * at the budget, keeping the reserve for the store and the upstream: the pool stays up, the
 * miner connected before the flood keeps getting answers, its shares are committed (`true`),
 * it finds a block and gets the next job; the log has one line for the episode and one
 * counted summary; and once the flood ends, new API and Stratum connections are served again.
 */
import assert from "node:assert/strict";
import { ADDRESSES } from "../server/_pool.ts";
import { RawHttpClient } from "../net/_http_client.ts";
import { waitUntil } from "../_process.ts";
import { type ApiStack, ScriptedMiner, startApiStack } from "./_api_stack.ts";

const A = ADDRESSES[0]!;
const ULIMIT = 256;
/** Connections opened at most (the budget allows about 150 under ULIMIT). */
const MAX_FLOOD = 600;
/** Refused connections that prove the budget holds, once it is exhausted. */
const REFUSALS = 40;

const EXHAUSTED =
  /Descriptor budget exhausted: refusing new connections on every port \((\d+) sockets open, (\d+) other descriptors, limit (\d+), (\d+) kept free/g;
const RECOVERED = /Descriptor budget has room again: (\d+) connections refused over/;

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** Open a connection that starts a request and waits (to the API or Stratum, alternately). */
async function floodOne(stack: ApiStack, i: number): Promise<RawHttpClient> {
  const api = i % 2 === 0;
  const client = await RawHttpClient.connect(api ? portOf(stack.api) : stack.stratumPort);
  client.send(api ? "GET /api/po" : '{"id":1,"method":"mining.subscr');
  return client;
}

Deno.test({
  name: "vbkpool server under ulimit -n 256 survives a connection flood on the API and Stratum",
  async fn() {
    const stack = await startApiStack({
      // The caps off, so that the flood reaches the descriptor budget itself.
      VBKPOOL_API_MAX_CONNECTIONS: "0",
      VBKPOOL_API_MAX_CONNECTIONS_PER_IP: "0",
      VBKPOOL_API_HEADER_TIMEOUT_SECONDS: "600",
      VBKPOOL_STRATUM_SUBSCRIBE_TIMEOUT_SECONDS: "600",
      VBKPOOL_STRATUM_AUTHORIZE_TIMEOUT_SECONDS: "600",
    }, { ulimit: ULIMIT });
    const flood: RawHttpClient[] = [];
    let miner: ScriptedMiner | undefined;
    try {
      const setup = /Descriptors: limit (\d+) \("?ulimit -n"?\), (\d+) kept .* room for about (\d+)/
        .exec(stack.log());
      assert.ok(setup !== null, stack.log());
      assert.equal(Number(setup[1]), ULIMIT);

      miner = await ScriptedMiner.connect(stack.stratumPort, `${A}.good`);
      assert.deepEqual(await miner.shares(3), [true, true, true]);

      // The flood, until the budget is exhausted and then REFUSALS more are closed at once.
      while (flood.length < MAX_FLOOD && !EXHAUSTED.test(stack.log())) {
        flood.push(await floodOne(stack, flood.length));
        EXHAUSTED.lastIndex = 0;
      }
      EXHAUSTED.lastIndex = 0;
      assert.ok(
        EXHAUSTED.test(stack.log()),
        `no exhaustion after ${flood.length}:\n${stack.log()}`,
      );
      const late: RawHttpClient[] = [];
      for (let i = 0; i < REFUSALS; i++) late.push(await floodOne(stack, i));
      flood.push(...late);
      await Promise.all(late.map((c) => c.ended()));
      assert.ok(late.every((c) => c.text === ""), "refused at accept, no answer");

      // Out of budget: the connected miner is answered, its shares committed, a block found
      // and the next job delivered.
      assert.deepEqual(await miner.shares(3), [true, true, true]);
      assert.equal(await miner.block(), true);
      assert.deepEqual(await miner.shares(2), [true, true]);
      const during = stack.log();
      EXHAUSTED.lastIndex = 0;
      const lines = [...during.matchAll(EXHAUSTED)];
      assert.equal(lines.length, 1, "one line for the whole episode");
      assert.doesNotMatch(during, /Too many open files|Uncaught|EMFILE/);
      const [, sockets, others, limit, reserve] = lines[0]!.map(Number);
      console.log(
        `ulimit -n ${limit}: refused from ${sockets} sockets + ${others} other descriptors, ` +
          `${reserve} kept free; flood ${flood.length} connections (room at start: ${setup[3]})`,
      );
      assert.ok(sockets! + others! + reserve! <= limit!, "the reserve stayed free");

      // The flood ends: one counted summary, then new connections are served again.
      await Promise.all(flood.splice(0).map((c) => c.close()));
      const recovered = await waitFor(stack, RECOVERED);
      assert.ok(Number(recovered[1]) >= REFUSALS, recovered[0]);
      const health = await stack.get("/api/health");
      assert.equal(health.status, 200);
      await health.body?.cancel();
      const second = await ScriptedMiner.connect(stack.stratumPort, `${A}.after`);
      assert.deepEqual(await second.shares(2), [true, true]);
      await second.close();
      assert.deepEqual(await miner.shares(1), [true]);
      assert.equal([...stack.log().matchAll(/Descriptor budget has room again/g)].length, 1);
    } finally {
      await Promise.all(flood.map((c) => c.close()));
      await miner?.close();
      await stack.stop();
    }
  },
});

async function waitFor(stack: ApiStack, pattern: RegExp): Promise<RegExpExecArray> {
  let match: RegExpExecArray | null = null;
  await waitUntil(
    () => (match = pattern.exec(stack.log())) !== null,
    () => `${pattern}:\n${stack.log()}`,
  );
  return match!;
}
