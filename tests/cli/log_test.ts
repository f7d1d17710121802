/**
 * What `vbkpool server` writes to stderr, read as a user reads it: values bare in the text
 * (`Stratum on 127.0.0.1:3333`), IPv6 addresses in brackets, and with `--log-format json` one
 * JSON object per line and nothing else. (Hashes in lower case: `demo_test.ts`.)
 */
import assert from "node:assert/strict";
import { resetSync } from "@logtape/logtape";
import { logger, renderMessage, setupLogging } from "../../cli/log.ts";
import { spawnVbkpool, withTempDir } from "../_process.ts";

/** The environment of a quick server: no API, a tiny devnet floor, no stats lines. */
const QUICK = {
  VBKPOOL_API_ENABLED: "false",
  VBKPOOL_DEVNET_MIN_DIFFICULTY: "20000",
  VBKPOOL_DEVNET_MEMPOOL_INTERVAL: "0",
};

function canBind(hostname: string): boolean {
  try {
    Deno.listen({ hostname, port: 0 }).close();
    return true;
  } catch {
    return false;
  }
}

/** Connect to `hostname:port` and return the first line the server sends after `hello`. */
async function firstLine(hostname: string, port: number, hello: string): Promise<string> {
  const conn = await Deno.connect({ hostname, port });
  try {
    if (hello !== "") await conn.write(new TextEncoder().encode(hello + "\n"));
    let text = "";
    const buf = new Uint8Array(4096);
    while (!text.includes("\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return text.split("\n")[0]!;
  } finally {
    conn.close();
  }
}

Deno.test("renderMessage() writes strings bare and other values as text", () => {
  assert.equal(
    renderMessage(["a ", "x", " b ", 5, " c ", { k: 1n }, " d ", true, ""]),
    'a x b 5 c {"k":"1"} d true',
  );
});

Deno.test("setupLogging() writes bare values, one line per record even with a line break", () => {
  const lines: string[] = [];
  setupLogging({ write: (line) => lines.push(line) });
  try {
    logger("t").info("on {address}: {text}", { address: "[::1]:3333", text: "a\nb" });
  } finally {
    resetSync();
  }
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /vbkpool·t: on \[::1\]:3333: a\\nb\n$/);
});

Deno.test("vbkpool server logs its addresses and values bare", async () => {
  await withTempDir("vbkpool-log-", async (dir) => {
    const server = spawnVbkpool(["server", "--listen", "127.0.0.1:0 diff=65536 vardiff=off"], {
      cwd: dir,
      env: QUICK,
    });
    try {
      const { stratum: [port], devnet } = await server.serverAddresses();
      await server.waitForLog(/upstream ready/);
      const log = server.err;
      assert.match(
        log,
        new RegExp(
          `vbkpool·server: Stratum on 127\\.0\\.0\\.1:${port}: difficulty 65536 ` +
            "\\(min 65536, max \\d+\\), vardiff off\n",
        ),
      );
      assert.match(log, new RegExp(`Devnet UCP on 127\\.0\\.0\\.1:${devnet}\\. `));
      assert.match(log, new RegExp(`NodeCore \\(embedded devnet\\) 127\\.0\\.0\\.1:${devnet};`));
      assert.match(log, /vbkpool·store: store sqlite at vbkpool\.sqlite; /);
      // No value in quotes anywhere in the start-up log.
      assert.doesNotMatch(log, /"/, log);
      assert.equal(await server.stop(), 0, server.err);
    } finally {
      await server.kill();
    }
  });
});

Deno.test({
  name: "vbkpool server brackets IPv6 addresses and its embedded devnet listens on --devnet.listen",
  ignore: !canBind("::1"),
  fn: async () => {
    await withTempDir("vbkpool-log-v6-", async (dir) => {
      const server = spawnVbkpool([
        "server",
        "--listen",
        "[::1]:0",
        "--devnet.listen",
        "[::1]:0",
      ], { cwd: dir, env: QUICK });
      try {
        await server.serverAddresses();
        const stratum = Number((await server.waitForLog(/Stratum on \[::1\]:(\d+): /))[1]);
        const devnet = Number((await server.waitForLog(/Devnet UCP on \[::1\]:(\d+)\. /))[1]);
        // The pool reached its devnet at the bracketed address.
        await server.waitForLog(new RegExp(`upstream ready \\(\\[::1\\]:${devnet}\\)`));
        // Both listen where the log says.
        assert.match(await firstLine("::1", devnet, ""), /"command":"CAPABILITIES"/);
        const subscribe = '{"id":1,"method":"mining.subscribe","params":[]}';
        assert.match(await firstLine("::1", stratum, subscribe), /"id":1,"result":\[/);
        assert.equal(await server.stop(), 0, server.err);
      } finally {
        await server.kill();
      }
    });
  },
});

Deno.test("vbkpool server --log-format json writes one JSON object per stderr line", async () => {
  await withTempDir("vbkpool-log-json-", async (dir) => {
    const server = spawnVbkpool([
      "server",
      "--listen",
      "127.0.0.1:0",
      "--log-format",
      "json",
    ], { cwd: dir, env: { ...QUICK, VBKPOOL_STRATUM_LISTN: "127.0.0.1:0" } });
    try {
      await server.waitForLog(/"message":"NodeCore \(embedded devnet\) [^"]+; instance id /);
      await server.waitForLog(/"message":"upstream ready /);
      assert.equal(await server.stop(), 0, server.err);
    } finally {
      await server.kill();
    }
    assert.equal(server.out, "", "nothing on stdout");
    const lines = server.err.split("\n");
    assert.equal(lines.pop(), "", "the log ends with a line break");
    const records = lines.map((line, i) => {
      const record = JSON.parse(line);
      assert.equal(typeof record["@timestamp"], "string", `line ${i + 1}: ${line}`);
      assert.match(record.level, /^(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)$/, line);
      assert.match(record.logger, /^vbkpool(\.|$)/, line);
      assert.equal(typeof record.message, "string", line);
      return record;
    });
    // The misspelt variable is warned about, as JSON too.
    const warning = records.find((r) => r.logger === "vbkpool.config");
    assert.equal(
      warning?.message,
      "Unknown environment variable VBKPOOL_STRATUM_LISTN is ignored — did you mean " +
        "VBKPOOL_STRATUM_LISTEN?",
    );
    assert.equal(warning?.level, "WARN");
    // The message has the values bare; the properties keep them.
    const stratum = records.find((r) => /^Stratum on /.test(r.message));
    assert.match(stratum.message, /^Stratum on 127\.0\.0\.1:\d+: difficulty \d+ \(min \d+, /);
    assert.match(stratum.properties.address, /^127\.0\.0\.1:\d+$/);
    assert.equal(stratum.properties.host, "127.0.0.1");
    assert.equal(typeof stratum.properties.port, "number");
    assert.equal(records.at(-1).message, "stopped");
  });
});

Deno.test("vbkpool with --log-format json writes usage errors as JSON lines too", async () => {
  for (
    const [args, env, message] of [
      [["hash", "--log-format", "json", "zz"], {}, /^HEADER_HEX must be hex, got "zz" \(see /],
      [
        ["server", "--log-format=json", "--stratum.listn", "x"],
        {},
        /did you mean --stratum\.listen/,
      ],
      [["nope"], { VBKPOOL_LOG_FORMAT: "json" }, /^unknown command 'nope'/],
    ] as const
  ) {
    const child = spawnVbkpool([...args], { env });
    const { code } = await child.exited;
    assert.equal(code, 2, child.err);
    const lines = child.err.trimEnd().split("\n");
    assert.equal(lines.length, 1, child.err);
    const record = JSON.parse(lines[0]!);
    assert.equal(record.level, "ERROR");
    assert.match(record.message, message);
  }
});
