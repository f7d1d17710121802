import assert from "node:assert/strict";
import { COMMANDS, runCli } from "../../cli/mod.ts";
import { poolOptions, stratumPorts } from "../../cli/server.ts";
import { loadConfig } from "../../cli/config.ts";
import { ucpOptions } from "../../cli/_ucp_schema.ts";
import { SCHEMA } from "../../cli/config_schema.ts";
import { ADDRESSES, hex16, hex8, mine } from "../server/_pool.ts";
import { subscribeAndAuthorize, TestClient } from "../server/_stratum_client.ts";
import { spawnVbkpool, waitUntil, withTempDir } from "../_process.ts";
import { NodeCoreRpc } from "../../payouts/mod.ts";

function stratumConfig(env: Record<string, string> = {}) {
  return loadConfig(SCHEMA, { env, defaultPath: "/nonexistent", sections: ["stratum"] })
    .values.stratum!;
}

Deno.test("stratumPorts() applies the section's defaults and each port's words", () => {
  const s = stratumConfig({
    VBKPOOL_STRATUM_LISTEN: "127.0.0.1:3333,0.0.0.0:3334 diff=65536 vardiff=off",
    VBKPOOL_STRATUM_MIN_DIFFICULTY: "1024",
  });
  const [a, b] = stratumPorts(s);
  assert.deepEqual([a!.hostname, a!.port, a!.difficulty, a!.minDifficulty], [
    "127.0.0.1",
    3333,
    1048576n,
    1024n,
  ]);
  assert.deepEqual([b!.port, b!.difficulty, b!.vardiff], [3334, 65536n, false]);
  const options = poolOptions(s);
  assert.equal(options.limits?.subscribeTimeoutMs, 15000);
  assert.equal(options.extranonce?.instanceId, 31);
  assert.equal(options.extranonce?.rangeSize, 1_000_000n);
  assert.equal(options.connections?.maxLineBytes, 16384);
  assert.equal(options.vardiffTickMs, 5000);
});

Deno.test("poolOptions() and ucpOptions() carry every hardening key from the configuration", () => {
  const s = stratumConfig({
    VBKPOOL_STRATUM_INSTANCE_ID: "5",
    VBKPOOL_STRATUM_EXTRANONCE_RANGE: "4096",
    VBKPOOL_STRATUM_MAX_LINE_BYTES: "2048",
    VBKPOOL_STRATUM_MAX_SEND_QUEUE_BYTES: "8192",
    VBKPOOL_STRATUM_MAX_CONNECTIONS: "50",
    VBKPOOL_STRATUM_MAX_CONNECTIONS_PER_IP: "7",
    VBKPOOL_STRATUM_EXEMPT_LOOPBACK: "false",
    VBKPOOL_STRATUM_SUBSCRIBE_TIMEOUT_SECONDS: "1.5",
    VBKPOOL_STRATUM_AUTHORIZE_TIMEOUT_SECONDS: "2",
    VBKPOOL_STRATUM_IDLE_TIMEOUT_SECONDS: "30",
    VBKPOOL_STRATUM_MAX_PROTOCOL_ERRORS: "9",
    VBKPOOL_STRATUM_REQUESTS_PER_SECOND: "12.5",
    VBKPOOL_STRATUM_REQUEST_BURST: "25",
    VBKPOOL_STRATUM_NTIME_FUTURE_SECONDS: "120",
    VBKPOOL_STRATUM_BAN_ENABLED: "false",
    VBKPOOL_STRATUM_BAN_CHECK_THRESHOLD: "11",
    VBKPOOL_STRATUM_BAN_INVALID_PERCENT: "75",
    VBKPOOL_STRATUM_BAN_WINDOW_SECONDS: "90",
    VBKPOOL_STRATUM_BAN_SECONDS: "45",
    VBKPOOL_STRATUM_BAN_OFFENCES: "4",
    VBKPOOL_STRATUM_BAN_OFFENCE_WINDOW_SECONDS: "120",
    VBKPOOL_STRATUM_SILENT_SHARE_TIMES: "12",
    VBKPOOL_STRATUM_SILENT_MIN_SECONDS: "20",
    VBKPOOL_STRATUM_NO_WORK_WAIT_SECONDS: "3",
    VBKPOOL_STRATUM_NO_WORK_GRACE_SECONDS: "45",
    VBKPOOL_STRATUM_VARDIFF_TICK_SECONDS: "0",
  });
  const o = poolOptions(s);
  assert.deepEqual(o.connections, {
    maxLineBytes: 2048,
    maxSendQueueBytes: 8192,
    maxConnections: 50,
    maxConnectionsPerIp: 7,
    exemptLoopback: false,
  });
  assert.deepEqual(o.limits, {
    subscribeTimeoutMs: 1500,
    authorizeTimeoutMs: 2000,
    idleTimeoutMs: 30000,
    silentShareTimes: 12,
    silentMinMs: 20000,
    maxProtocolErrors: 9,
    requestsPerSecond: 12.5,
    requestBurst: 25,
    ntimeFutureSeconds: 120,
    noWorkWaitMs: 3000,
    noWorkGraceMs: 45000,
  });
  assert.deepEqual(o.extranonce, { instanceId: 5, rangeSize: 4096n });
  assert.deepEqual(o.bans, {
    enabled: false,
    checkThreshold: 11,
    invalidPercent: 75,
    windowSeconds: 90,
    offences: 4,
    offenceWindowSeconds: 120,
    banSeconds: 45,
    exemptLoopback: false,
  });
  assert.equal(o.vardiffTickMs, 0);
  const u = loadConfig(SCHEMA, {
    env: {
      VBKPOOL_UCP_LISTEN: "127.0.0.1:0",
      VBKPOOL_UCP_DIFFICULTY: "65536",
      VBKPOOL_UCP_WRITE_GAP_MS: "0",
      VBKPOOL_UCP_MAX_LINE_BYTES: "1024",
      VBKPOOL_UCP_MAX_SEND_QUEUE_BYTES: "4096",
      VBKPOOL_UCP_MAX_CONNECTIONS: "20",
      VBKPOOL_UCP_MAX_CONNECTIONS_PER_IP: "3",
      VBKPOOL_UCP_EXEMPT_LOOPBACK: "false",
      VBKPOOL_UCP_AUTHORIZE_TIMEOUT_SECONDS: "4",
      VBKPOOL_UCP_SUBSCRIBE_TIMEOUT_SECONDS: "5",
      VBKPOOL_UCP_IDLE_TIMEOUT_SECONDS: "60",
      VBKPOOL_UCP_MAX_PROTOCOL_ERRORS: "2",
      VBKPOOL_UCP_REQUESTS_PER_SECOND: "3",
      VBKPOOL_UCP_REQUEST_BURST: "6",
    },
    defaultPath: "/nonexistent",
    sections: ["ucp"],
  }).values.ucp!;
  const ucp = ucpOptions(u)!;
  assert.equal(ucp.ports[0]!.difficulty, 65536n);
  assert.deepEqual(ucp.connections, {
    maxLineBytes: 1024,
    maxSendQueueBytes: 4096,
    maxConnections: 20,
    maxConnectionsPerIp: 3,
    exemptLoopback: false,
  });
  assert.deepEqual(ucp.limits, {
    writeGapMs: 0,
    authorizeTimeoutMs: 4000,
    subscribeTimeoutMs: 5000,
    idleTimeoutMs: 60000,
    maxProtocolErrors: 2,
    requestsPerSecond: 3,
    requestBurst: 6,
  });
});

Deno.test("vbkpool server refuses bad configuration with status 2", async () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [["server", "--listen", "nowhere"], {}, /stratum\.listen/],
    [["server", "--listen", "127.0.0.1:3333 diff=0"], {}, /stratum\.listen/],
    [["server", "--nodecore", "127.0.0.1:8501"], {}, /nodecore\.address/],
    [["server"], { VBKPOOL_STRATUM_INSTANCE_ID: "32" }, /stratum\.instance_id/],
    [["server", "extra"], {}, /no arguments/],
    [["server", "--listen", "127.0.0.1:0 tls cert=x.crt"], {}, /tls needs cert=FILE and key=FILE/],
    [
      ["server", "--listen", "127.0.0.1:0 proxy_protocol"],
      {},
      /stratum\.listen asks for the PROXY protocol but process\.trusted_proxies is empty/,
    ],
    [["server"], { VBKPOOL_PROCESS_TRUSTED_PROXIES: "proxy.example" }, /process\.trusted_proxies/],
    [
      ["server", "--devnet.api_listen", "", "--payouts.enabled", "true"],
      {},
      /devnet\.api_listen is empty, but in-process payouts/,
    ],
  ];
  for (const [args, env, message] of cases) {
    const err: string[] = [];
    const code = await runCli(args, COMMANDS, {
      output: { out: () => {}, err: (t) => err.push(t) },
      env,
      stopSignal: AbortSignal.abort(),
    });
    assert.equal(code, 2, args.join(" "));
    assert.match(err.join("\n"), message);
  }
});

Deno.test("vbkpool server with no NodeCore mines an embedded devnet and stops cleanly on SIGINT", async () => {
  await withTempDir("vbkpool-server-cli-", async (dir) => {
    const server = spawnVbkpool(["server", "--listen", "127.0.0.1:0 diff=1 min=1 vardiff=off"], {
      cwd: dir,
      env: { VBKPOOL_API_ENABLED: "false", VBKPOOL_DEVNET_MIN_DIFFICULTY: "20000" },
    });
    let client: TestClient | undefined;
    try {
      const { stratum: [port], devnet } = await server.serverAddresses();
      assert.ok(port !== undefined && port > 0, server.err);
      assert.ok(devnet !== undefined && devnet > 0, server.err);
      await server.waitForLog(/upstream ready/);
      assert.match(server.err, /DEVNET MODE/);
      assert.match(server.err, /WORTHLESS/);
      client = await TestClient.connect(port);
      const address = ADDRESSES[0]!;
      const { extranonce } = await subscribeAndAuthorize(client, address);
      const notify = await client.notification("mining.notify");
      const ntime = Math.floor(Date.now() / 1000);
      const [nonce] = mine(notify.json.params, extranonce, { ntime, difficulty: 1n });
      const reply = await client.call(
        "mining.submit",
        [address, notify.json.params[0], hex16(extranonce), hex8(ntime), hex8(nonce!)],
      );
      assert.equal(reply.json.result, true);
      server.signal("SIGINT");
      await client.closed;
      assert.equal(await server.stop(), 0, server.err);
      assert.match(server.err, /stopped/);
    } finally {
      await client?.close();
      await server.kill();
    }
  });
});

Deno.test("vbkpool server names the address and the key of a port in use", async (t) => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const busy = `127.0.0.1:${(taken.addr as Deno.NetAddr).port}`;
  const env = { VBKPOOL_API_ENABLED: "false", VBKPOOL_DEVNET_MIN_DIFFICULTY: "20000" };
  const fatal = (key: string) =>
    new RegExp(`server failed: Cannot listen on ${busy} \\(${key}\\): address in use\\n`);
  try {
    await withTempDir("vbkpool-server-busy-", async (dir) => {
      const cases: [string, string[]][] = [
        ["stratum.listen", ["--listen", busy]],
        ["ucp.listen", ["--listen", "127.0.0.1:0", "--ucp-listen", busy]],
        ["devnet.listen", ["--listen", "127.0.0.1:0", "--devnet.listen", busy]],
        ["devnet.api_listen", ["--listen", "127.0.0.1:0", "--devnet.api_listen", busy]],
      ];
      for (const [key, args] of cases) {
        await t.step(key, async () => {
          const server = spawnVbkpool(["server", ...args], { cwd: dir, env });
          try {
            assert.equal((await server.exited).code, 1, server.err);
            assert.match(server.err, fatal(key));
          } finally {
            await server.kill();
          }
        });
      }
      await t.step("api.listen: logged, the pool runs on without its API", async () => {
        const server = spawnVbkpool(["server", "--listen", "127.0.0.1:0", "--api-listen", busy], {
          cwd: dir,
          env: { ...env, VBKPOOL_API_ENABLED: "true" },
        });
        try {
          await server.serverAddresses();
          assert.match(
            server.err,
            new RegExp(
              `\\[ERR\\] vbkpool·api: Cannot listen on ${busy} \\(api\\.listen\\): address in use; ` +
                "the pool runs without its API",
            ),
          );
          assert.equal(await server.stop(), 0, server.err);
        } finally {
          await server.kill();
        }
      });
    });
  } finally {
    taken.close();
  }
});

Deno.test("vbkpool server starts its embedded devnet's NodeCore API on --devnet.api_listen", async () => {
  await withTempDir("vbkpool-server-devnet-api-", async (dir) => {
    // Without in-process payouts the embedded devnet serves no API unless asked to.
    const server = spawnVbkpool([
      "server",
      "--listen",
      "127.0.0.1:0",
      "--devnet.api_listen",
      "127.0.0.1:0",
    ], {
      cwd: dir,
      env: { VBKPOOL_API_ENABLED: "false", VBKPOOL_DEVNET_MIN_DIFFICULTY: "20000" },
    });
    try {
      const { devnetApi } = await server.serverAddresses();
      assert.match(devnetApi ?? "", /^http:\/\/127\.0\.0\.1:\d+\/api$/, server.err);
      const info = await new NodeCoreRpc({ url: devnetApi! }).getStateInfo();
      assert.ok(info.networkHeight >= 0, JSON.stringify(info));
      assert.equal(await server.stop(), 0, server.err);
    } finally {
      await server.kill();
    }
  });
});

Deno.test("vbkpool server warns about flags for parts that do not run", async () => {
  await withTempDir("vbkpool-server-unused-", async (dir) => {
    // A NodeCore that is not there: the pool starts and retries; no embedded devnet runs.
    const unreachable = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const nodecore = `127.0.0.1:${(unreachable.addr as Deno.NetAddr).port}`;
    unreachable.close();
    const server = spawnVbkpool([
      "server",
      "--listen",
      "127.0.0.1:0",
      "--nodecore",
      nodecore,
      "--address",
      ADDRESSES[0]!,
      "--devnet.listen",
      "127.0.0.1:0",
    ], {
      cwd: dir,
      env: {
        VBKPOOL_API_ENABLED: "false",
        VBKPOOL_PAYOUTS_CONFIRMATIONS: "3",
        VBKPOOL_PAYOUTS_TRACK_BLOCKS: "false",
      },
    });
    try {
      await server.serverAddresses();
      assert.match(
        server.err,
        /\[WRN\] vbkpool·server: devnet\.listen \(flag\) is not used: nodecore\.endpoints is set, /,
      );
      assert.match(
        server.err,
        /payouts\.confirmations \(environment\) is not used: payouts\.enabled and payouts\.track_blocks are false/,
      );
      assert.doesNotMatch(server.err, /DEVNET MODE/);
      assert.equal(await server.stop(), 0, server.err);
    } finally {
      await server.kill();
    }
  });
});

Deno.test("vbkpool server: SIGUSR1 logs a status line and closes the inspector it opened", async () => {
  await withTempDir("vbkpool-usr1-", async (dir) => {
    const server = spawnVbkpool(["server", "--listen", "127.0.0.1:0"], {
      cwd: dir,
      env: { VBKPOOL_API_ENABLED: "false" },
    });
    try {
      await server.serverAddresses();
      // Deno 2.9 opens its V8 inspector on SIGUSR1 (whatever listens): the server closes it.
      // The inspector's port is fixed (127.0.0.1:9229): while another process holds it, Deno
      // says so and opens nothing; the signal is sent again then (bounded).
      const closedRe = /closed the inspector SIGUSR1 opened \(ws:\/\/([\d.]+):(\d+)\//;
      const busyRe = /Failed to start inspector server/g;
      let closed: RegExpExecArray | undefined;
      for (let attempt = 1; closed === undefined; attempt++) {
        const busyBefore = server.err.match(busyRe)?.length ?? 0;
        server.signal("SIGUSR1");
        const seen = await waitUntil(
          () => closedRe.test(server.err) || (server.err.match(busyRe)?.length ?? 0) > busyBefore,
          "the inspector closed, or its port busy",
          15_000,
        ).then(() => true, () => false);
        closed = closedRe.exec(server.err) ?? undefined;
        if (closed !== undefined) break;
        if (!seen) {
          // Neither: this Deno opened no inspector for the signal (nothing to close) — then
          // none listens.
          await assert.rejects(
            Deno.connect({ hostname: "127.0.0.1", port: 9229 }),
            Deno.errors.ConnectionRefused,
          );
          break;
        }
        assert.ok(attempt < 20, `the inspector port stayed busy:\n${server.err}`);
        await new Promise((resolve) => setTimeout(resolve, 500)); // deliberate: let it free up
      }
      await server.waitForLog(/SIGUSR1: \d+ connections/);
      if (closed !== undefined) {
        await assert.rejects(
          Deno.connect({ hostname: closed[1]!, port: Number(closed[2]) }),
          Deno.errors.ConnectionRefused,
        );
      }
      assert.equal(server.status, undefined, "still running");
    } finally {
      await server.kill();
    }
  });
});
