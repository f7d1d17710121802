import assert from "node:assert/strict";
import {
  encodeLinkMessage,
  LINK_OFFENCE_KINDS,
  type LinkBan,
  type LinkOffence,
  MAX_LINK_ENTRIES,
  parseSupervisorMessage,
  parseWorkerMessage,
  type SupervisorToWorker,
  type WorkerToSupervisor,
} from "../../protocol/worker_link.ts";

const BAN: LinkBan = { ip: "10.0.0.1", since: 1000, until: 61_000, reason: "flood", offences: 3 };
const TOKEN = "0123456789abcdef0123456789abcdef";
const OFFENCE: LinkOffence = { ip: "10.0.0.1", kind: "protocol_errors", at: 1_700_000_000_000 };

Deno.test("parseWorkerMessage() reads what encodeLinkMessage() writes, for every type", () => {
  const messages: WorkerToSupervisor[] = [
    { type: "hello", version: 1, worker: 3, token: TOKEN },
    { type: "ban", ban: BAN },
    { type: "ban", ban: { ...BAN, ip: "2001:db8::1", reason: "manual", offences: 0 } },
    { type: "unban", ip: "::ffff:10.1.2.3" },
    { type: "offence", offence: OFFENCE },
    { type: "offence", offence: { ip: "2001:db8::1", kind: "invalid_shares", at: 0 } },
    { type: "sync" },
    { type: "counts", counts: [["0.0.0.0:3333", "10.0.0.1", 0], ["[::]:3334", "::1", 7]] },
    { type: "handover_ready" },
  ];
  for (const message of messages) {
    assert.deepEqual(parseWorkerMessage(encodeLinkMessage(message)), { ok: true, message });
  }
});

Deno.test("parseSupervisorMessage() reads what encodeLinkMessage() writes, for every type", () => {
  const messages: SupervisorToWorker[] = [
    { type: "ban", ban: BAN },
    { type: "unban", ip: "10.0.0.1" },
    ...LINK_OFFENCE_KINDS.map((kind): SupervisorToWorker => ({
      type: "offence",
      offence: { ...OFFENCE, kind },
    })),
    { type: "bans", bans: [], done: true },
    { type: "bans", bans: [BAN, { ...BAN, ip: "10.0.0.2" }], done: false },
    { type: "counts", counts: [["127.0.0.1:3333", "10.0.0.1", 12]] },
    { type: "handover_go" },
  ];
  for (const message of messages) {
    assert.deepEqual(parseSupervisorMessage(encodeLinkMessage(message)), { ok: true, message });
  }
});

Deno.test("parseWorkerMessage() refuses bad lines with a reason, never throws", () => {
  const many = JSON.stringify({
    t: "counts",
    c: Array.from({ length: MAX_LINK_ENTRIES + 1 }, () => ["a:1", "10.0.0.1", 1]),
  });
  const cases: [string, RegExp][] = [
    ["", /not JSON/],
    ["garbage", /not JSON/],
    ["[1,2]", /unknown message type/],
    ["null", /unknown message type/],
    ['"hello"', /unknown message type/],
    ['{"t":"nope"}', /unknown message type "nope"/],
    ['{"t":"bans","bans":[],"done":true}', /unknown message type "bans"/],
    ['{"t":"sync","x":1}', /exactly the keys t$/],
    ['{"t":"handover_ready","now":true}', /exactly the keys t$/],
    ['{"t":"handover_go"}', /unknown message type "handover_go"/],
    ['{"t":"unban"}', /exactly the keys t, ip/],
    ['{"t":"unban","ip":"example.com"}', /ip must be an IPv4 or IPv6/],
    ['{"t":"unban","ip":"[::1]"}', /ip must be an IPv4 or IPv6/],
    ['{"t":"unban","ip":7}', /ip must be/],
    [`{"t":"hello","v":1,"worker":0,"token":"${TOKEN.toUpperCase()}"}`, /token/],
    [`{"t":"hello","v":1,"worker":-1,"token":"${TOKEN}"}`, /worker must be an integer/],
    [`{"t":"hello","v":1.5,"worker":0,"token":"${TOKEN}"}`, /v must be an integer/],
    [`{"t":"hello","v":1,"worker":0,"token":"${TOKEN}","__proto__":1}`, /exactly the keys/],
    [encodeLinkMessage({ type: "ban", ban: { ...BAN, until: 999 } }), /until must not be before/],
    [encodeLinkMessage({ type: "ban", ban: { ...BAN, reason: "Bad Reason" } }), /reason/],
    [encodeLinkMessage({ type: "ban", ban: { ...BAN, since: -1 } }), /since must be/],
    ['{"t":"ban","ip":"10.0.0.1","since":1,"until":2,"reason":"x","offences":"3"}', /offences/],
    ['{"t":"counts","c":{}}', /c must be a list/],
    ['{"t":"counts","c":[["a:1","10.0.0.1"]]}', /\[port, ip, n\]/],
    ['{"t":"counts","c":[["a b","10.0.0.1",1]]}', /port must be host:port/],
    ['{"t":"counts","c":[["a:1","10.0.0.1",1e10]]}', /n must be an integer/],
    [many, /more than 2048 entries/],
    ["x".repeat((1 << 20) + 1), /line too long/],
  ];
  for (const [line, reason] of cases) {
    const result = parseWorkerMessage(line);
    assert.equal(result.ok, false, line.slice(0, 80));
    if (!result.ok) assert.match(result.error, reason, line.slice(0, 80));
  }
});

Deno.test("parseSupervisorMessage() refuses what only a worker sends, and bad snapshots", () => {
  for (
    const line of [
      '{"t":"sync"}',
      '{"t":"handover_ready"}',
      '{"t":"handover_go","x":1}',
      `{"t":"hello","v":1,"worker":0,"token":"${TOKEN}"}`,
      '{"t":"bans","bans":[],"done":1}',
      '{"t":"bans","bans":[{"ip":"10.0.0.1"}],"done":true}',
      '{"t":"bans","bans":{},"done":true}',
    ]
  ) {
    assert.equal(parseSupervisorMessage(line).ok, false, line);
  }
});

Deno.test("encodeLinkMessage() refuses a list longer than one message may carry", () => {
  const counts = Array.from(
    { length: MAX_LINK_ENTRIES + 1 },
    (): [string, string, number] => ["a:1", "10.0.0.1", 1],
  );
  assert.throws(() => encodeLinkMessage({ type: "counts", counts }), RangeError);
});

Deno.test("an offence line is exactly what encodeLinkMessage() writes", () => {
  assert.equal(
    encodeLinkMessage({ type: "offence", offence: OFFENCE }),
    '{"t":"offence","ip":"10.0.0.1","kind":"protocol_errors","at":1700000000000}',
  );
});

Deno.test("an offence is refused, on either side, unless its ip, kind and time are sound", () => {
  const good = { t: "offence", ip: "10.0.0.1", kind: "flood", at: 1000 };
  const line = (change: Record<string, unknown>, drop?: string) => {
    const o: Record<string, unknown> = { ...good, ...change };
    if (drop !== undefined) delete o[drop];
    return JSON.stringify(o);
  };
  const cases: [string, RegExp][] = [
    [line({}, "ip"), /exactly the keys t, ip, kind, at/],
    [line({}, "kind"), /exactly the keys t, ip, kind, at/],
    [line({}, "at"), /exactly the keys t, ip, kind, at/],
    [line({ extra: 1 }), /exactly the keys/],
    [line({ ip: "example.com" }), /ip must be an IPv4 or IPv6/],
    [line({ ip: "[::1]" }), /ip must be an IPv4 or IPv6/],
    [line({ ip: "fe80::1%eth0" }), /ip must be an IPv4 or IPv6/],
    [line({ ip: null }), /ip must be/],
    [line({ kind: "manual" }), /kind must be one of invalid_shares, protocol_errors, flood/],
    [line({ kind: "FLOOD" }), /kind must be one of/],
    [line({ kind: "" }), /kind must be one of/],
    [line({ kind: ["flood"] }), /kind must be one of/],
    [line({ kind: "toString" }), /kind must be one of/],
    [line({ at: -1 }), /at must be an integer/],
    [line({ at: 1.5 }), /at must be an integer/],
    [line({ at: "1000" }), /at must be an integer/],
    [line({ at: null }), /at must be an integer/],
    [line({ at: 2 ** 53 }), /at must be an integer/],
    // JSON has no Infinity or NaN: such a line is not JSON at all.
    ['{"t":"offence","ip":"10.0.0.1","kind":"flood","at":Infinity}', /not JSON/],
    ['{"t":"offence","ip":"10.0.0.1","kind":"flood","at":NaN}', /not JSON/],
    ['{"t":"offence","ip":"10.0.0.1","kind":"flood","at":1e400}', /at must be an integer/],
  ];
  for (const parse of [parseWorkerMessage, parseSupervisorMessage]) {
    assert.deepEqual(parse(JSON.stringify(good)), {
      ok: true,
      message: { type: "offence", offence: { ip: "10.0.0.1", kind: "flood", at: 1000 } },
    });
    for (const [bad, reason] of cases) {
      const result = parse(bad);
      assert.equal(result.ok, false, bad);
      if (!result.ok) assert.match(result.error, reason, bad);
    }
  }
});
