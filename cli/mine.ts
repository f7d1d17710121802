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
import {
  formatStatusLine,
  formatSummary,
  type KernelChoice,
  Miner,
  type MinerStats,
  parsePoolUrl,
  type SearchSplit,
} from "../miner/mod.ts";
import { VERSION } from "./version.ts";

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
    let url;
    try {
      url = parsePoolUrl(pool);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (url.caFile === undefined) continue;
    try {
      Deno.readTextFileSync(url.caFile);
    } catch (err) {
      throw new UsageError(
        `Cannot use pool ${JSON.stringify(pool)}: cannot read ca=${url.caFile} (${
          (err as Error).message
        })`,
      );
    }
  }
}

function summaryJson(stats: MinerStats): string {
  return JSON.stringify(
    stats,
    (_key, value) => typeof value === "bigint" ? value.toString() : value,
  );
}

async function run(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length > 0) throw new UsageError("mine takes no arguments");
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
  let timer: ReturnType<typeof setInterval> | undefined;
  if (live) {
    timer = setInterval(() => {
      write(CLEAR_LINE + fitToTerminal(formatStatusLine(miner.stats())));
      drawn = true;
    }, 1000);
  } else if (!quiet) {
    timer = setInterval(() => {
      log.info("{status}", { status: formatStatusLine(miner.stats()) });
    }, seconds("status_interval"));
  }
  await waitForStop(ctx.stopSignal, duration);
  clearInterval(timer);
  const summary = await miner.stop();
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
    "mine --pool 'stratum+ssl://HOST:PORT[#sha256=HEX][&ca=FILE]' ...",
    "mine ... --gpu [--gpu-batch N] [--threads N]",
  ],
  description: [
    "Mines on the first pool that works, in the order given; fails over to the next one when a",
    "pool is unreachable, refuses the miner, asks it to reconnect, or is dead (no replies to",
    "submits, no first job within mine.first_job_timeout, no new job within mine.job_timeout),",
    "and returns to a preferred pool once it works again. Reconnects back off exponentially",
    "(with jitter). On a terminal a live status line shows the hash rate (total and per",
    "thread), accepted/rejected/stale shares, the difficulty, the pool and the uptime; otherwise",
    "a status line is logged periodically. Ctrl-C prints a summary. Until a pool sends",
    "mining.set_difficulty, mine.default_difficulty applies.",
    "stratum+ssl:// speaks TLS, checked against the system's roots, a ca=FILE given after #",
    "(a pool's self-signed certificate), or only a pinned sha256=HEX fingerprint (openssl x509",
    "-noout -fingerprint -sha256). Other schemes (http://, ...) are refused.",
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
    { flag: "duration", kind: "number", valueName: "S", doc: "stop after S seconds" },
    { flag: "json", kind: "boolean", doc: "also print the summary as JSON" },
  ],
  sections: ["mine"],
  run,
};
