/**
 * `vbkpool mine`: the multi-threaded vBlake miner for VeriBlock Stratum pools, with a live
 * status line on a terminal (a periodic log line otherwise) and a summary on exit.
 *
 * @module
 */
import { UsageError } from "./args.ts";
import { type Command, type CommandContext, waitForStop } from "./command.ts";
import { type LogFormat, logger, setupLogging } from "./log.ts";
import type { LogLevel } from "@logtape/logtape";
import { isValidAddress } from "../hash/mod.ts";
import { formatHostPort, isLoopback, ListenError, parseHostPort } from "../net/mod.ts";
import {
  formatRateReport,
  formatShareReport,
  formatStatusLine,
  formatSummary,
  type KernelChoice,
  Miner,
  type MinerStats,
  RigApi,
  type SearchSplit,
} from "../miner/mod.ts";
import { VERSION } from "./version.ts";
import { renderConfig } from "./config.ts";
import { parseRigListen } from "./config_schema.ts";
import { nameListenError, reachableHost } from "./_listen.ts";
import { startHotkeys } from "./_hotkeys.ts";
import { onReportSignal } from "./_report_signal.ts";

const ENCODER = new TextEncoder();
const CLEAR_LINE = "\r\x1b[2K";

function write(text: string): void {
  const bytes = ENCODER.encode(text);
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

/** The status line, cut to the terminal width (a wrapped line cannot be redrawn in place). */
function fitToTerminal(line: string): string {
  try {
    const columns = Deno.stdout.isTerminal() ? Deno.consoleSize().columns : 0;
    return columns > 1 && line.length >= columns ? line.slice(0, columns - 1) : line;
  } catch {
    return line;
  }
}

function checkPools(pools: string[]): void {
  if (pools.length === 0) {
    throw new UsageError(
      "no pool given: use --pool stratum+tcp://HOST:PORT (repeatable) or set mine.pools",
    );
  }
  for (const pool of pools) {
    try {
      parseHostPort(pool);
    } catch {
      throw new UsageError(`--pool ${JSON.stringify(pool)} is not stratum+tcp://HOST:PORT`);
    }
  }
}

function summaryJson(stats: MinerStats): string {
  return JSON.stringify(
    stats,
    (_key, value) => typeof value === "bigint" ? value.toString() : value,
  );
}

/** The rig API's bearer token: the file's first line, else the key (or its variable). */
function rigToken(c: Record<string, unknown>): string | undefined {
  const file = (c.api_token_file as string).trim();
  if (file !== "") {
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new UsageError(`Cannot read mine.api_token_file ${file}: ${why}`);
    }
    const token = text.split(/\r?\n/)[0]!.trim();
    if (token === "") throw new UsageError(`mine.api_token_file ${file} holds no token`);
    return token;
  }
  const token = (c.api_token as string).trim();
  return token === "" ? undefined : token;
}

/** Start the rig API when `mine.api_listen` is set; a port that cannot be bound is logged. */
function startRigApi(
  c: Record<string, unknown>,
  miner: Miner,
  pools: readonly string[],
): RigApi | undefined {
  const listen = (c.api_listen as string).trim();
  if (listen === "") return undefined;
  const log = logger("mine");
  const token = rigToken(c);
  const { hostname, port } = parseRigListen(listen);
  let api: RigApi;
  try {
    api = RigApi.listen({
      hostname,
      port,
      stats: () => miner.stats(),
      version: VERSION,
      pools,
      ...(token === undefined ? {} : { token }),
    });
  } catch (err) {
    const named = nameListenError(new ListenError(hostname, port, err), [
      { key: "mine.api_listen", hostname, port },
    ]);
    log.error("{why}; mining without the rig API", { why: (named as Error).message });
    return undefined;
  }
  const at = formatHostPort(api.addr.hostname, api.addr.port);
  log.info("Rig API on http://{at}/api/summary ({auth})", {
    at,
    auth: token === undefined ? "no token" : "bearer token required",
  });
  if (token === undefined && !isLoopback(reachableHost(api.addr.hostname))) {
    log.warning("The rig API on {at} is reachable from other machines without a token", { at });
  }
  return api;
}

function printConfig(ctx: CommandContext): number {
  const { values, sources, file } = ctx.config;
  const header = [
    "vbkpool mine: the effective configuration (flag > environment > file > default).",
    `File: ${file ?? "none"}. Load it with: vbkpool mine --config FILE`,
  ];
  console.log(renderConfig(values, { header, sources, secrets: ["mine.api_token"] }).trimEnd());
  return 0;
}

async function run(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length > 0) throw new UsageError("mine takes no arguments");
  if (ctx.args.options["print-config"]) return printConfig(ctx);
  const c = ctx.config.values.mine!;
  const pools = c.pools as string[];
  checkPools(pools);
  const user = (c.user as string).trim();
  if (user === "") {
    throw new UsageError("no worker name: use --user ADDRESS[.WORKER] or set mine.user");
  }
  const log = logger("mine");
  const address = user.split(".")[0]!;
  if (!isValidAddress(address)) {
    log.warning("{address} is not a valid VeriBlock address; the pool may refuse it", {
      address,
    });
  }
  const duration = ctx.args.options.duration as number | undefined;
  if (duration !== undefined && !(duration > 0)) throw new UsageError("--duration must be > 0");
  // Read before mining starts: a missing token file is a usage error, not a late surprise.
  rigToken(c);
  const gpu = c.gpu as boolean;
  // With --gpu, --threads 0 (the default) means no CPU threads beside the GPU.
  const threads = gpu
    ? c.threads as number
    : (c.threads as number) || navigator.hardwareConcurrency || 1;
  const quiet = c.quiet as boolean;
  const live = !quiet && Deno.stdout.isTerminal();
  let drawn = false;
  if (live) {
    // Log lines (stderr) first clear the status line, which the next redraw restores.
    const logConfig = ctx.config.values.log!;
    setupLogging({
      level: logConfig.level as LogLevel,
      format: logConfig.format as LogFormat,
      summarySeconds: logConfig.summary_seconds as number,
      write: (line) => {
        if (drawn) write(CLEAR_LINE);
        drawn = false;
        const bytes = ENCODER.encode(line);
        let off = 0;
        while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
      },
    });
  }
  const seconds = (key: string) => (c[key] as number) * 1000;
  const miner = new Miner({
    pools,
    user,
    password: c.password as string,
    threads,
    gpu,
    gpuBatch: c.gpu_batch as number,
    kernel: c.kernel as KernelChoice,
    split: c.split as SearchSplit,
    defaultDifficulty: BigInt(c.default_difficulty as number),
    connectTimeoutMs: seconds("connect_timeout"),
    handshakeTimeoutMs: seconds("connect_timeout"),
    submitTimeoutMs: seconds("submit_timeout"),
    firstJobTimeoutMs: seconds("first_job_timeout"),
    jobTimeoutMs: seconds("job_timeout"),
    failbackMs: seconds("failback_interval"),
    backoffMinMs: seconds("backoff_min"),
    backoffMaxMs: seconds("backoff_max"),
    rateWindowMs: seconds("hashrate_window"),
    agent: `vbkpool/${VERSION}`,
  });
  await miner.start();
  const started = miner.stats().kernels;
  const kernels = [...new Set(started)].join(", ");
  log.info("Mining as {user} on {threads} thread(s) ({kernels}); pools: {pools}", {
    user,
    threads: started.length,
    kernels,
    pools: pools.join(", "),
  });
  const lineOptions = { threads: c.thread_rates as boolean };
  const redraw = () => {
    write(CLEAR_LINE + fitToTerminal(formatStatusLine(miner.stats(), lineOptions)));
    drawn = true;
  };
  /** Reports go to stdout between redraws of the status line. */
  const report = (text: string) => {
    write(`${drawn ? CLEAR_LINE : ""}${text}\n`);
    drawn = false;
    if (live) redraw();
  };
  const api = startRigApi(c, miner, pools);
  const hotkeys = startHotkeys((action) => {
    switch (action) {
      case "rates":
        return report(formatRateReport(miner.stats()));
      case "shares":
        return report(formatShareReport(miner.stats()));
      case "pause":
        if (miner.pause()) report("paused (r resumes)");
        return;
      case "resume":
        if (miner.resume()) report("resumed");
        return;
    }
  });
  if (hotkeys !== undefined) {
    log.info("Keys: h hash rates, s shares, p pause, r resume");
  }
  const usr1 = onReportSignal(
    () => report(`${formatRateReport(miner.stats())}\n${formatShareReport(miner.stats())}`),
    {
      onInspectorClosed: (url) =>
        log.warning("SIGUSR1 made Deno open its inspector ({url}); closed it again", { url }),
    },
  );
  let timer: ReturnType<typeof setInterval> | undefined;
  if (live) {
    timer = setInterval(redraw, 1000);
  } else if (!quiet) {
    timer = setInterval(() => {
      log.info("{status}", { status: formatStatusLine(miner.stats(), lineOptions) });
    }, seconds("status_interval"));
  }
  try {
    await waitForStop(ctx.stopSignal, duration);
  } finally {
    clearInterval(timer);
    hotkeys?.stop();
    usr1();
  }
  const summary = await miner.stop();
  await api?.close();
  if (drawn) write(CLEAR_LINE);
  console.log(formatSummary(summary));
  if (ctx.args.options.json) console.log(summaryJson(summary));
  return 0;
}

/** The `mine` command. */
export const mineCommand: Command = {
  name: "mine",
  summary: "mine on VeriBlock Stratum pools (multi-threaded vBlake, failover)",
  usage: [
    "mine --pool stratum+tcp://HOST:PORT [--pool ...] --user ADDRESS[.WORKER] [--threads N]",
    "mine ... --gpu [--gpu-batch N] [--threads N]",
    "mine --config FILE [--api-listen [HOST:]PORT] [--thread-rates]",
    "mine [--config FILE] [flags] --print-config",
  ],
  description: [
    "Mines on the first pool that works, in the order given; fails over to the next one when a",
    "pool is unreachable, refuses the miner, asks it to reconnect, or is dead (no replies to",
    "submits, no first job within mine.first_job_timeout, no new job within mine.job_timeout),",
    "and returns to a preferred pool once it works again. Reconnects back off exponentially",
    "(with jitter). On a terminal a live status line shows the hash rate over 10 s / 60 s /",
    "15 min (and per thread with --thread-rates), accepted/rejected/stale shares, the share",
    "latency (submit to verdict: median/max), the difficulty, the pool and the uptime;",
    "otherwise a status line is logged periodically. Ctrl-C prints a summary. Until a pool",
    "sends mining.set_difficulty, mine.default_difficulty applies.",
    "Keys on a terminal: h hash rates per thread, s shares (latency, last rejections), p pause,",
    "r resume. SIGUSR1 prints both reports (kill -USR1 PID).",
    "--api-listen serves read-only JSON for rig monitors at /api/summary and /api/threads",
    "(loopback unless a host is given; with mine.api_token_file or VBKPOOL_MINE_API_TOKEN it",
    "requires Authorization: Bearer TOKEN). --print-config writes the effective [log] and",
    "[mine] settings as TOML (a file --config reads back) and exits.",
    "--gpu also mines on the GPU through WebGPU (one more thread slot; with --threads 0, the",
    "default, on the GPU alone). The GPU kernel is self-tested against the reference first;",
    "without a usable GPU (no adapter, failed self-test) a warning is logged and the CPU mines",
    "(one thread per core unless --threads says otherwise); a GPU lost while mining is replaced",
    "by a CPU thread. The GPU batch tunes itself toward ~75 ms per dispatch unless --gpu-batch.",
  ],
  options: [
    { flag: "pool", key: "mine.pools", kind: "list", valueName: "URL", doc: "pool (repeatable)" },
    { flag: "user", key: "mine.user", kind: "string", valueName: "NAME", doc: "ADDRESS[.WORKER]" },
    { flag: "pass", key: "mine.password", kind: "string", valueName: "P", doc: "password" },
    {
      flag: "threads",
      key: "mine.threads",
      kind: "integer",
      valueName: "N",
      doc: "mining threads (0: one per core)",
    },
    {
      flag: "kernel",
      key: "mine.kernel",
      kind: "string",
      valueName: "K",
      doc: "auto, wasm-simd, wasm or ts",
    },
    { flag: "gpu", key: "mine.gpu", kind: "boolean", doc: "also mine on the GPU (WebGPU)" },
    {
      flag: "gpu-batch",
      key: "mine.gpu_batch",
      kind: "integer",
      valueName: "N",
      doc: "nonces per GPU dispatch (0: tune toward ~75 ms)",
    },
    {
      flag: "split",
      key: "mine.split",
      kind: "string",
      valueName: "S",
      doc: "extranonce (one per thread) or nonce (shared extranonce)",
    },
    {
      flag: "first-job-timeout",
      key: "mine.first_job_timeout",
      kind: "number",
      valueName: "S",
      doc: "seconds without a first job before failing over (mine.first_job_timeout)",
    },
    {
      flag: "job-timeout",
      key: "mine.job_timeout",
      kind: "number",
      valueName: "S",
      doc: "seconds without a new job while mining before failing over (mine.job_timeout)",
    },
    { flag: "quiet", key: "mine.quiet", kind: "boolean", doc: "no status line" },
    {
      flag: "status-interval",
      key: "mine.status_interval",
      kind: "number",
      valueName: "S",
      doc: "seconds between status log lines when not on a terminal",
    },
    {
      flag: "thread-rates",
      key: "mine.thread_rates",
      kind: "boolean",
      doc: "show each thread's rate in the status line",
    },
    {
      flag: "api-listen",
      key: "mine.api_listen",
      kind: "string",
      valueName: "[HOST:]PORT",
      doc: "rig API address (mine.api_listen; a port alone: loopback)",
    },
    {
      flag: "api-token-file",
      key: "mine.api_token_file",
      kind: "string",
      valueName: "PATH",
      doc: "file holding the rig API's bearer token",
    },
    { flag: "print-config", kind: "boolean", doc: "print the effective configuration and exit" },
    { flag: "duration", kind: "number", valueName: "S", doc: "stop after S seconds" },
    { flag: "json", kind: "boolean", doc: "also print the summary as JSON" },
  ],
  sections: ["mine"],
  run,
};
