/**
 * The single-file executable (`deno task compile`: `_tools/compile.ts` and the sh launcher
 * `_tools/launcher.sh`), built and then run as a user would run a download: copied alone into an
 * empty folder and started with an empty environment (HOME an empty folder, PATH a folder with
 * only the system tools the launcher uses, so no Deno and no Node), in a network namespace with
 * no network at all where one can be made (`unshare -n`, as root).
 *
 * Covered: the first run unpacks once and hashes the mainnet genesis header; `--version`;
 * later runs do not unpack again; `server` with its embedded devnet (SQLite store, worker
 * thread) answers Stratum and HTTP and stops cleanly on SIGTERM; `mine` on two worker threads
 * (WebAssembly kernel) gets shares accepted and stops cleanly on SIGINT; the miner's status line
 * on a pseudo-terminal; `devnet` with its NodeCore HTTP API, `payouts --once` against it,
 * `audit` of the pool's store and `bench`; a PostgreSQL store (when `.ci/run` started one);
 * concurrent first runs; a damaged cache; a read-only install (as root); a copy planted beside
 * an executable in a folder anyone can write; damaged executables.
 * The start-up times are printed, never asserted.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { buildExecutable, type BuildResult, DENO_VERSION } from "../../_tools/compile.ts";
import { VERSION } from "../../cli/version.ts";
import { ADDRESS } from "../miner/_stack.ts";
import { freshPostgresDatabase, POSTGRES_URL } from "../store/_backends.ts";
import { TestClient } from "../server/_stratum_client.ts";
import { spawnVbkpool, type VbkpoolProcess, waitUntil } from "../_process.ts";

/** What the launcher runs besides itself (its header says so; this keeps it honest). */
const LAUNCHER_TOOLS = [
  "sh",
  "tail",
  "sha256sum",
  "gzip",
  "tar",
  "mkdir",
  "mktemp",
  "chmod",
  "ln",
  "mv",
  "rm",
  "wc",
  "readlink",
  "id",
  "find",
];

const GENESIS = "000000000002000000000000000000000000000000000000000000000000000000000000" +
  "A7E5F2B7EC94291767B4D67B4A33682D5C987E0B0600E8D4113D854D";
const GENESIS_HASH = /^hash\s+0000000000f4fd66b91f0649bb3fcb137823c5ce317c105c$/m;
const UNPACKING = new RegExp(
  `^vbkpool: unpacking vbkpool ${VERSION.replaceAll(".", "\\.")} \\(Deno ${DENO_VERSION}\\) ` +
    `into (.+) \\(once per build\\)$`,
  "m",
);
const NOBODY = 65534;
/** A valid VBK address for the payout service's pool (nothing is paid to it here). */
const POOL_ADDRESS = "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C";

function which(name: string): string | undefined {
  for (const dir of ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // Not there.
    }
  }
  return undefined;
}

function works(cmd: string | undefined, args: string[]): boolean {
  if (cmd === undefined) return false;
  try {
    return new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

const UNSHARE = which("unshare");
/** Runs a command with no network (not even loopback), or undefined where that is refused. */
const NO_NETWORK = works(UNSHARE, ["-n", "true"]) ? [UNSHARE!, "-n"] : undefined;
const SETPRIV = which("setpriv");
const AS_NOBODY = Deno.uid() === 0 &&
    works(SETPRIV, [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "true"])
  ? [SETPRIV!, `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups"]
  : undefined;
const SCRIPT = works(which("script"), ["--version"]) ? which("script") : undefined;

interface Ran {
  code: number;
  out: string;
  err: string;
  ms: number;
}

/** Everything a run needs: a HOME, the tools folder as PATH, and more variables. */
interface RunOptions {
  home: string;
  env?: Record<string, string>;
  cwd?: string;
  /** A command to run the executable under (`unshare -n`, `setpriv ...`). */
  wrap?: readonly string[];
}

let tools = "";

function envOf(options: RunOptions): Record<string, string> {
  return { HOME: options.home, PATH: tools, NO_COLOR: "1", ...options.env };
}

async function runExe(exe: string, args: string[], options: RunOptions): Promise<Ran> {
  const [cmd, ...pre] = [...(options.wrap ?? []), exe];
  const started = performance.now();
  const r = await new Deno.Command(cmd!, {
    args: [...pre, ...args],
    clearEnv: true,
    env: envOf(options),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - started;
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr), ms };
}

/** The names in a folder, sorted (empty when it does not exist). */
function names(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** Wait until `/api/health` answers 200 "ok" (503 until the pool's upstream is connected). */
async function healthy(api: string): Promise<void> {
  let last = "";
  await waitUntil(async () => {
    const r = await fetch(`${api}/api/health`);
    const body = await r.json();
    last = `${r.status} ${JSON.stringify(body)}`;
    return r.status === 200 && body.status === "ok";
  }, () => `/api/health to answer 200; last: ${last}`);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function copyExe(from: string, dir: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const exe = join(dir, "vbkpool");
  await Deno.copyFile(from, exe);
  await Deno.chmod(exe, 0o755);
  return exe;
}

Deno.test("the single-file executable runs every part of vbkpool with nothing installed", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "vbkpool-exe-" });
  const processes: VbkpoolProcess[] = [];
  const pg = POSTGRES_URL === undefined ? undefined : await freshPostgresDatabase();
  try {
    await Deno.chmod(root, 0o755); // the read-only install step runs as nobody in here
    tools = join(root, "tools");
    await Deno.mkdir(tools);
    for (const name of LAUNCHER_TOOLS) {
      const path = which(name);
      assert.ok(path !== undefined, `${name} is missing on this machine`);
      await Deno.symlink(path, join(tools, name));
    }
    const home = join(root, "home");
    await Deno.mkdir(home);
    let built!: BuildResult;
    let exe = "";

    await t.step("deno task compile builds the executable and its SHA-256 file", async () => {
      const started = performance.now();
      built = await buildExecutable(join(root, "dist", "vbkpool"));
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(
        `built ${built.size} bytes in ${seconds} s (Deno from ${built.denoSource})`,
      );
      const sums = await new Deno.Command("sha256sum", {
        args: ["--check", "vbkpool.sha256"],
        cwd: join(root, "dist"),
        stdout: "piped",
      }).output();
      assert.equal(new TextDecoder().decode(sums.stdout), "vbkpool: OK\n");
      assert.equal(built.size, (await Deno.stat(built.path)).size);
      exe = await copyExe(built.path, join(root, "download"));
      assert.deepEqual(names(join(root, "download")), ["vbkpool"]);
    });

    const cache = join(home, ".cache", "vbkpool");
    /** The folder the cache's link for this build points to. */
    const unpacked = () => {
      const link = names(cache).filter((n) => n.startsWith(`${VERSION}-`));
      assert.equal(link.length, 1, names(cache).join(" "));
      return Deno.realPathSync(join(cache, link[0]!));
    };

    await t.step("the first run unpacks once and hashes the mainnet genesis header", async () => {
      const r = await runExe(exe, ["hash", GENESIS], {
        home,
        ...(NO_NETWORK === undefined ? {} : { wrap: NO_NETWORK }),
      });
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, GENESIS_HASH);
      assert.equal(UNPACKING.exec(r.err)?.[1], cache, r.err);
      if (NO_NETWORK === undefined) {
        console.log("(no network namespace here: ran with the network)");
      }
      // Only the cache was written to HOME: the link and the folder it points to.
      assert.deepEqual(names(home), [".cache"]);
      assert.deepEqual(names(join(home, ".cache")), ["vbkpool"]);
      const entries = names(cache);
      assert.equal(entries.length, 2, entries.join(" "));
      assert.deepEqual(names(unpacked()).filter((n) => n !== "deno_dir"), [
        "deno",
        "ok",
        "vbkpool.js",
      ]);
    });

    await t.step("--version names vbkpool and the Deno inside; no second unpacking", async () => {
      const before = unpacked();
      const r = await runExe(exe, ["--version"], {
        home,
        ...(NO_NETWORK === undefined ? {} : { wrap: NO_NETWORK }),
      });
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, `vbkpool ${VERSION} (Deno ${DENO_VERSION})\n`);
      assert.equal(r.err, "");
      assert.equal(unpacked(), before);
      assert.equal(names(cache).length, 2);
    });

    await t.step("server + mine: Stratum, /api/health, dashboard, accepted shares", async () => {
      const cwd = join(root, "server");
      await Deno.mkdir(cwd);
      const server = spawnVbkpool([
        "server",
        "--listen",
        "127.0.0.1:0 diff=100000 vardiff=off",
        "--api-listen",
        "127.0.0.1:0",
      ], {
        command: [exe],
        clearEnv: true,
        // An operator's own V8 flags (e.g. in /etc/vbkpool/vbkpool.env) reach Deno.
        env: envOf({ home, env: { DENO_V8_FLAGS: "--heap-growing-percent=40" } }),
        cwd,
      });
      processes.push(server);
      const { stratum: [port], api, devnet } = await server.serverAddresses();
      assert.ok(port !== undefined && api !== undefined && devnet !== undefined, server.err);
      assert.doesNotMatch(server.err, UNPACKING);
      // deno-lint-ignore no-control-regex
      assert.doesNotMatch(server.err, /\x1b\[/, "NO_COLOR reaches the program");
      // The operator's V8 flags reach Deno as they are (the launcher execs: same pid).
      const environ = await Deno.readTextFile(`/proc/${server.child.pid}/environ`);
      assert.ok(
        environ.split("\0").includes("DENO_V8_FLAGS=--heap-growing-percent=40"),
        "DENO_V8_FLAGS in the server's environment",
      );

      const client = await TestClient.connect(port);
      try {
        const reply = await client.call("mining.subscribe", ["exe-test/1.0"]);
        assert.equal(reply.json.error, null, reply.raw);
        assert.ok(Array.isArray(reply.json.result), reply.raw);
      } finally {
        await client.close();
      }
      await healthy(api);
      const page = await fetch(`${api}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i);

      const miner = spawnVbkpool([
        "mine",
        "--pool",
        `stratum+tcp://127.0.0.1:${port}`,
        "--user",
        `${ADDRESS}.exe`,
        "--threads",
        "2",
        "--status-interval",
        "1",
        "--json",
      ], { command: [exe], clearEnv: true, env: envOf({ home }), cwd });
      processes.push(miner);
      await miner.waitForLog(/\| A [1-9]\d* R 0 /, 120_000);
      assert.equal(await miner.stop("SIGINT"), 0, miner.err);
      const summary = JSON.parse(miner.out.trim().split("\n").at(-1)!);
      assert.ok(summary.accepted >= 1, miner.out);
      assert.equal(summary.kernels.length, 2, miner.out);
      assert.match(summary.kernels[0], /^wasm/);

      if (SCRIPT === undefined) {
        console.log("SKIPPED status line on a pseudo-terminal (no util-linux script)");
      } else {
        // script(1) gives the executable a terminal: the launcher must leave it to the miner.
        const command = [
          exe,
          "mine",
          "--pool",
          `stratum+tcp://127.0.0.1:${port}`,
          "--user",
          `${ADDRESS}.tty`,
          "--threads",
          "1",
          "--kernel",
          "wasm",
          "--duration",
          "4",
        ].join(" ");
        const r = await runExe(SCRIPT, ["-qefc", command, "/dev/null"], {
          home,
          env: { TERM: "xterm" },
        });
        assert.equal(r.code, 0, r.out + r.err);
        const redraws = r.out.split("\r\x1b[2K").length - 1;
        assert.ok(redraws >= 2, `${redraws} redraws in ${JSON.stringify(r.out)}`);
        assert.match(
          r.out,
          /H\/s \| A [1-9]\d* R \d+ S \d+ \|( lat [\d.]+\/[\d.]+ ms \|)?( blocks \d+ \|)? diff 100000 \| 127\.0\.0\.1/,
        );
      }

      assert.equal(await server.stop("SIGTERM"), 0, server.err);
      assert.ok(names(cwd).includes("vbkpool.sqlite"), names(cwd).join(" "));
    });

    await t.step("devnet, payouts --once, audit and bench", async () => {
      const devnet = spawnVbkpool([
        "devnet",
        "--listen",
        "127.0.0.1:0",
        "--api-listen",
        "127.0.0.1:0",
        "--min-difficulty",
        "2000",
      ], { command: [exe], clearEnv: true, env: envOf({ home }), cwd: root });
      processes.push(devnet);
      const { api } = await devnet.devnetAddresses(true);
      const payouts = await runExe(exe, ["payouts", "--once"], {
        home,
        cwd: root,
        env: {
          VBKPOOL_STORE_URL: join(root, "payouts.sqlite"),
          VBKPOOL_WALLET_URL: api!,
          VBKPOOL_NODECORE_ADDRESS: POOL_ADDRESS,
        },
      });
      assert.equal(payouts.code, 0, payouts.err);
      assert.match(payouts.out, /0 block\(s\) credited, .*0 payment\(s\) sent/);
      assert.equal(await devnet.stop("SIGTERM"), 0, devnet.err);

      // The pool's SQLite store from the step before, read by the audit.
      const audit = await runExe(
        exe,
        ["audit", "--store", join(root, "server", "vbkpool.sqlite")],
        {
          home,
          cwd: root,
        },
      );
      assert.equal(audit.code, 0, audit.out + audit.err);

      const bench = await runExe(exe, [
        "bench",
        "--seconds",
        "0.3",
        "--threads",
        "2",
        "--kernel",
        "wasm",
      ], { home, cwd: root });
      assert.equal(bench.code, 0, bench.err);
      assert.match(bench.out, /^wasm\s+2\s+\d+(\.\d+)? [kMG]?H\/s/m);
    });

    await t.step({
      name: "server on a PostgreSQL store",
      ignore: pg === undefined,
      async fn() {
        const server = spawnVbkpool([
          "server",
          "--listen",
          "127.0.0.1:0",
          "--api-listen",
          "127.0.0.1:0",
          "--store.url",
          pg!.url,
        ], { command: [exe], clearEnv: true, env: envOf({ home }), cwd: root });
        processes.push(server);
        const { api } = await server.serverAddresses();
        await healthy(api!);
        assert.equal(await server.stop("SIGTERM"), 0, server.err);
      },
    });
    if (pg === undefined) console.log("SKIPPED PostgreSQL step: VBKPOOL_TEST_POSTGRES_URL unset");

    await t.step("concurrent first runs share one unpacked copy", async () => {
      const fresh = join(root, "home-concurrent");
      await Deno.mkdir(fresh);
      const runs = await Promise.all(
        [1, 2, 3].map(() => runExe(exe, ["--version"], { home: fresh })),
      );
      for (const r of runs) {
        assert.equal(r.code, 0, r.err);
        assert.equal(r.out, `vbkpool ${VERSION} (Deno ${DENO_VERSION})\n`);
      }
      // The link and one folder: the runs that lost the race deleted their own copies.
      assert.equal(names(join(fresh, ".cache", "vbkpool")).length, 2);
    });

    await t.step("a damaged cache is unpacked again", async () => {
      const before = unpacked();
      await Deno.remove(join(before, "deno")); // as a cleaner of old files would
      const r = await runExe(exe, ["hash", GENESIS], { home });
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, GENESIS_HASH);
      assert.match(r.err, UNPACKING);
      assert.notEqual(unpacked(), before);
      assert.equal(names(cache).length, 2, "the damaged copy is gone");
    });

    await t.step({
      name: "a read-only install: a copy unpacked beside it, else a private temporary folder",
      ignore: AS_NOBODY === undefined,
      async fn() {
        const install = join(root, "opt");
        const installed = await copyExe(exe, install);
        await Deno.chmod(install, 0o755);
        // The administrator's first run: no usable HOME, so it unpacks beside the executable.
        const admin = await runExe(installed, ["--version"], {
          home: "/dev/null/home",
          env: { XDG_CACHE_HOME: "/dev/null/cache" },
        });
        assert.equal(admin.code, 0, admin.err);
        assert.equal(UNPACKING.exec(admin.err)?.[1], join(install, ".vbkpool-cache"));
        // A user who can write neither HOME nor the install folder runs that copy as it is,
        // Deno's code cache in it being read-only for them.
        const tmp = join(root, "tmp");
        await Deno.mkdir(tmp);
        await Deno.chmod(tmp, 0o1777);
        const user = { home: "/nonexistent", env: { TMPDIR: tmp }, cwd: tmp, wrap: AS_NOBODY! };
        const shared = await runExe(installed, ["hash", GENESIS], user);
        assert.equal(shared.code, 0, shared.err);
        assert.match(shared.out, GENESIS_HASH);
        assert.equal(shared.err, "");
        // Without that copy, the user unpacks into a private folder of their own.
        await Deno.remove(join(install, ".vbkpool-cache"), { recursive: true });
        const own = await runExe(installed, ["hash", GENESIS], user);
        assert.equal(own.code, 0, own.err);
        assert.match(own.out, GENESIS_HASH);
        const mine = join(tmp, `vbkpool-cache-${NOBODY}`);
        assert.equal(UNPACKING.exec(own.err)?.[1], mine);
        const stat = await Deno.stat(mine);
        assert.deepEqual([stat.uid, stat.mode! & 0o777], [NOBODY, 0o700]);
      },
    });
    if (AS_NOBODY === undefined) console.log("SKIPPED read-only install step (needs root)");

    await t.step(
      "a copy beside an executable in a folder anyone can write is not run",
      async () => {
        // As in /tmp: someone else could have put it there. It is a genuine copy here, so only
        // that rule keeps it from being used.
        const open = join(root, "open");
        const dropped = await copyExe(exe, open);
        await Deno.chmod(open, 0o1777);
        const key = names(cache).find((n) => n.startsWith(`${VERSION}-`))!;
        await Deno.mkdir(join(open, ".vbkpool-cache"));
        const copied = await new Deno.Command("cp", {
          args: ["-a", unpacked(), join(open, ".vbkpool-cache", ".planted")],
        }).output();
        assert.ok(copied.success);
        await Deno.symlink(".planted", join(open, ".vbkpool-cache", key));
        const tmp = join(root, "tmp-open");
        await Deno.mkdir(tmp);
        const r = await runExe(dropped, ["--version"], {
          home: "/dev/null/home",
          env: { TMPDIR: tmp },
        });
        assert.equal(r.code, 0, r.err);
        assert.equal(UNPACKING.exec(r.err)?.[1], join(tmp, `vbkpool-cache-${Deno.uid()}`));
      },
    );

    await t.step("a damaged executable refuses to run, with a clear message", async () => {
      const bytes = await Deno.readFile(exe);
      const flipped = bytes.slice();
      flipped[flipped.length - 1000] = flipped[flipped.length - 1000]! ^ 0xff;
      const flippedExe = join(root, "flipped", "vbkpool");
      await Deno.mkdir(join(root, "flipped"));
      await Deno.writeFile(flippedExe, flipped, { mode: 0o755 });
      const fresh = join(root, "home-flipped");
      await Deno.mkdir(fresh);
      const bad = await runExe(flippedExe, ["--version"], { home: fresh });
      assert.equal(bad.code, 126);
      assert.equal(bad.out, "");
      assert.match(
        bad.err,
        /^vbkpool: this executable is damaged: the SHA-256 of its payload is [0-9a-f]{64}, expected [0-9a-f]{64}\. Download it again and check it against vbkpool\.sha256\.\n$/,
      );
      assert.deepEqual(names(join(fresh, ".cache", "vbkpool")), [], "nothing unpacked");

      // A partial download is refused before anything else, even with a good copy unpacked.
      const truncatedExe = join(root, "truncated", "vbkpool");
      await Deno.mkdir(join(root, "truncated"));
      await Deno.writeFile(truncatedExe, bytes.subarray(0, bytes.length >> 1), { mode: 0o755 });
      const cut = await runExe(truncatedExe, ["--version"], { home });
      assert.equal(cut.code, 126);
      assert.match(
        cut.err,
        new RegExp(
          `^vbkpool: this executable is damaged: it is ${bytes.length >> 1} bytes long, ` +
            `expected ${bytes.length} \\(an incomplete download\\?\\)`,
        ),
      );
    });

    await t.step("start-up times (printed, not asserted)", async () => {
      const first: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await runExe(exe, ["--version"], {
          home,
          env: { VBKPOOL_CACHE_DIR: join(root, `cache-timing-${i}`) },
        });
        assert.equal(r.code, 0, r.err);
        first.push(r.ms);
      }
      const later: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await runExe(exe, ["--version"], { home });
        assert.equal(r.code, 0, r.err);
        later.push(r.ms);
      }
      console.log(
        `executable ${(built.size / 1e6).toFixed(1)} MB; --version: first run ` +
          `${median(first).toFixed(0)} ms, later runs ${median(later).toFixed(0)} ms (medians)`,
      );
    });
  } finally {
    for (const p of processes) await p.kill();
    await pg?.drop();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});
