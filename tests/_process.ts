/**
 * Test helper: run `vbkpool` (`main.ts`) as a subprocess, collect its output, wait for what it
 * logs, and read the addresses it bound from its log.
 *
 * Tests give every listener of a child port 0 (`--listen "127.0.0.1:0 …"`, `--ucp-listen
 * 127.0.0.1:0`, `--api-listen 127.0.0.1:0`, or the API off) and read the real ports back with
 * {@linkcode VbkpoolProcess.serverAddresses} / {@linkcode VbkpoolProcess.devnetAddresses}.
 * Picking a "free" port first and handing it to the child races with every other socket on the
 * machine, the child's own embedded devnet included.
 *
 * Always stop the child in `finally` (`await proc.kill()` is safe to repeat and after an exit),
 * or hold it with `await using`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** `main.ts` of the project. */
export const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

/** How long a child may take to start (a first run compiles every module; CI machines are slow). */
export const START_TIMEOUT_MS = 120_000;

/** Options for {@linkcode spawnVbkpool}. */
export interface SpawnOptions {
  /** Working directory (a fresh temporary folder is best: no vbkpool.toml there). */
  cwd?: string;
  /** Environment on top of `NO_COLOR=1`. */
  env?: Record<string, string>;
  /** Run the child under this `ulimit -n` (through `sh -c`), for descriptor-exhaustion tests. */
  ulimit?: number;
  /** Start with an empty environment (only `NO_COLOR=1` and `env`). @default false */
  clearEnv?: boolean;
  /**
   * The program to run `vbkpool` with and its leading arguments, e.g. `["/tmp/x/vbkpool"]` for
   * the single-file executable.
   * @default [Deno.execPath(), "run", "-A", MAIN]
   */
  command?: readonly string[];
}

/** The bound addresses a `vbkpool server` logs at start. */
export interface ServerAddresses {
  /** Stratum ports, in `[stratum] listen` order. */
  stratum: number[];
  /** UCP ports for GPU miners, in `[ucp] listen` order. */
  ucp: number[];
  /** `http://HOST:PORT` of the HTTP API, when it runs. */
  api?: string;
  /** The embedded devnet's UCP port, when there is no NodeCore. */
  devnet?: number;
  /** `http://HOST:PORT/api` of the embedded devnet's NodeCore HTTP API, when it runs. */
  devnetApi?: string;
}

/** The bound addresses a `vbkpool devnet` logs at start. */
export interface DevnetAddresses {
  /** Its UCP port. */
  ucp: number;
  /** `http://HOST:PORT/api` of its NodeCore HTTP API, when it runs. */
  api?: string;
}

// Log values are bare (`Stratum on 127.0.0.1:3333`, `[::1]:3333` for IPv6): no quotes.
const STRATUM_RE = /Stratum on (?:[\d.]+|\[[\da-f:]+\]|[\w.-]+):(\d+): difficulty/g;
const UCP_RE = /UCP \(legacy GPU miners\) on (?:[\d.]+|\[[\da-f:]+\]|[\w.-]+):(\d+): share /g;
const API_RE = /vbkpool·api: HTTP API on (http:\/\/[^\s"]+)\/api, /;
const EMBEDDED_DEVNET_RE = /Devnet UCP on (?:[\d.]+|\[[\da-f:]+\]|[\w.-]+):(\d+)\. /;
/** The embedded devnet's NodeCore HTTP API (logged by the devnet itself). */
const EMBEDDED_DEVNET_API_RE = /vbkpool·devnet·rpc: Devnet NodeCore HTTP API on (http:\/\/[^\s"]+)/;
/** The server's last start-up line: every listener is bound by then. */
const SERVER_READY_RE = /NodeCore .*; instance id /;
const DEVNET_UCP_RE =
  /DEVNET \(not a real VeriBlock network\): UCP on (?:[\d.]+|\[[\da-f:]+\]|[\w.-]+):(\d+);/;
const DEVNET_API_RE = /DEVNET NodeCore HTTP API on (http:\/\/[^\s"]+) \(/;

interface Waiter {
  check(): boolean;
}

/** A running `vbkpool` child with its output collected as it comes. */
export class VbkpoolProcess {
  /** The child. */
  readonly child: Deno.ChildProcess;
  /** Resolves with the exit status once the child exited and its output is read. */
  readonly exited: Promise<Deno.CommandStatus>;
  #out = "";
  #err = "";
  #status: Deno.CommandStatus | undefined;
  #waiters = new Set<Waiter>();

  /**
   * Start a child.
   *
   * @param args `vbkpool` arguments, e.g. `["server", "--listen", "127.0.0.1:0"]`.
   * @param options Directory and environment.
   */
  constructor(args: string[], options: SpawnOptions = {}) {
    const [program, ...leading] = options.command ?? [Deno.execPath(), "run", "-A", MAIN];
    const run = [...leading, ...args];
    // `exec` keeps the child's pid, so signals reach vbkpool itself.
    const limited = options.ulimit === undefined
      ? undefined
      : ["-c", `ulimit -n ${options.ulimit} && exec "$@"`, "sh", program!, ...run];
    this.child = new Deno.Command(limited === undefined ? program! : "sh", {
      args: limited ?? run,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      env: { NO_COLOR: "1", ...options.env },
      clearEnv: options.clearEnv ?? false,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const read = async (stream: ReadableStream<Uint8Array>, add: (text: string) => void) => {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        add(text);
        this.#wake();
      }
    };
    const reading = Promise.all([
      read(this.child.stdout, (t) => this.#out += t),
      read(this.child.stderr, (t) => this.#err += t),
    ]);
    this.exited = Promise.all([this.child.status, reading]).then(([status]) => {
      this.#status = status;
      this.#wake();
      return status;
    });
  }

  /** Everything the child wrote to stdout so far. */
  get out(): string {
    return this.#out;
  }

  /** Everything the child wrote to stderr (its log) so far. */
  get err(): string {
    return this.#err;
  }

  /** The exit status, once it exited. */
  get status(): Deno.CommandStatus | undefined {
    return this.#status;
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w.check();
  }

  /**
   * Wait until `check` returns something other than `undefined` (re-checked whenever the child
   * writes something, and every 100 ms). Rejects, with the child's log, when it exits first
   * or the time is up.
   *
   * @param check The condition.
   * @param what What is awaited (for the error message).
   * @param timeoutMs The deadline.
   * @returns What `check` returned.
   */
  until<T>(
    check: () => T | undefined,
    what: string,
    timeoutMs = START_TIMEOUT_MS,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      const waiter: Waiter = {
        check: () => {
          let value: T | undefined;
          try {
            value = check();
          } catch (err) {
            finish();
            reject(err);
            return true;
          }
          if (value !== undefined) {
            finish();
            resolve(value);
            return true;
          }
          if (this.#status !== undefined || Date.now() > deadline) {
            finish();
            const why = this.#status !== undefined
              ? `vbkpool exited with ${this.#status.code} before ${what}`
              : `timed out after ${timeoutMs} ms waiting for ${what}`;
            reject(new Error(`${why}; its log:\n${this.#err}\n${this.#out.slice(-2000)}`));
            return true;
          }
          return false;
        },
      };
      const timer = setInterval(() => waiter.check(), 100);
      const finish = () => {
        clearInterval(timer);
        this.#waiters.delete(waiter);
      };
      this.#waiters.add(waiter);
      waiter.check();
    });
  }

  /**
   * Wait for a line of the log (stderr) matching `pattern`.
   *
   * @param pattern What to look for.
   * @param timeoutMs The deadline.
   * @returns The match.
   */
  waitForLog(pattern: RegExp, timeoutMs = START_TIMEOUT_MS): Promise<RegExpExecArray> {
    return this.until(() => pattern.exec(this.#err) ?? undefined, `${pattern}`, timeoutMs);
  }

  /**
   * Wait until a `vbkpool server` has started (every listener bound, its last start-up line
   * logged) and read its bound addresses from the log.
   *
   * @param timeoutMs The deadline.
   * @returns The addresses.
   */
  async serverAddresses(timeoutMs = START_TIMEOUT_MS): Promise<ServerAddresses> {
    await this.waitForLog(SERVER_READY_RE, timeoutMs);
    const log = this.#err;
    const ports = (re: RegExp) => [...log.matchAll(re)].map((m) => Number(m[1]));
    const api = API_RE.exec(log)?.[1];
    const devnet = EMBEDDED_DEVNET_RE.exec(log)?.[1];
    const devnetApi = EMBEDDED_DEVNET_API_RE.exec(log)?.[1];
    return {
      stratum: ports(STRATUM_RE),
      ucp: ports(UCP_RE),
      ...(api === undefined ? {} : { api }),
      ...(devnet === undefined ? {} : { devnet: Number(devnet) }),
      ...(devnetApi === undefined ? {} : { devnetApi }),
    };
  }

  /**
   * Wait until a `vbkpool devnet` serves UCP (and its HTTP API, when `api` is true) and read
   * the bound addresses from its log.
   *
   * @param api Whether to wait for the NodeCore HTTP API too.
   * @param timeoutMs The deadline.
   * @returns The addresses.
   */
  async devnetAddresses(api: boolean, timeoutMs = START_TIMEOUT_MS): Promise<DevnetAddresses> {
    const ucp = Number((await this.waitForLog(DEVNET_UCP_RE, timeoutMs))[1]);
    if (!api) return { ucp };
    return { ucp, api: (await this.waitForLog(DEVNET_API_RE, timeoutMs))[1]! };
  }

  /**
   * Send a signal unless the child has exited.
   *
   * @param signal The signal.
   */
  signal(signal: Deno.Signal): void {
    if (this.#status !== undefined) return;
    try {
      this.child.kill(signal);
    } catch {
      // Already gone.
    }
  }

  /**
   * Ask the child to stop (SIGINT by default) and wait until it exited.
   *
   * @param signal The signal.
   * @returns The exit code.
   */
  async stop(signal: Deno.Signal = "SIGINT"): Promise<number> {
    this.signal(signal);
    return (await this.exited).code;
  }

  /** SIGKILL the child (when it still runs) and wait until it exited. Safe to repeat. */
  async kill(): Promise<void> {
    this.signal("SIGKILL");
    await this.exited;
  }

  /** {@linkcode VbkpoolProcess.kill}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }
}

/**
 * Start `vbkpool` as a subprocess.
 *
 * @param args `vbkpool` arguments.
 * @param options Directory and environment.
 * @returns The running child.
 */
export function spawnVbkpool(args: string[], options: SpawnOptions = {}): VbkpoolProcess {
  return new VbkpoolProcess(args, options);
}

/**
 * Run `fn` with a fresh temporary folder, removed afterwards whatever happens.
 *
 * @param prefix Folder name prefix.
 * @param fn The work.
 * @returns What `fn` returned.
 */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

export { type NotYet, type WaitOptions, waitUntil } from "./_wait.ts";
