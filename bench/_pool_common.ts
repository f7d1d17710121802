/**
 * Helpers shared by the pool benchmarks (`bench/pool_speed.ts`, `bench/_pool_realistic.ts`):
 * the load generator subprocess, /proc readings, quantiles and Markdown tables.
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url).pathname;

/** Lines from a subprocess stream, with a callback per line and the last few kept. */
export function lines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  return (async () => {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of stream) {
      rest += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = rest.indexOf("\n")) >= 0) {
        onLine(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
      }
    }
    if (rest !== "") onLine(rest);
  })();
}

/** The load generator subprocess: one JSON command in, one JSON line out. */
export class Generator {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #waiting: ((value: Record<string, unknown>) => void)[] = [];
  readonly done: Promise<void>;

  constructor(denoFlags: string[]) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", ...denoFlags, `${ROOT}bench/pool_load.ts`],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.done = lines(this.#child.stdout, (line) => {
      let value: Record<string, unknown>;
      try {
        value = JSON.parse(line);
      } catch {
        console.error(`generator: ${line}`);
        return;
      }
      this.#waiting.shift()?.(value);
    });
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** End the process at once (Ctrl-C of the bench). */
  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }

  async call(command: Record<string, unknown>): Promise<Record<string, unknown>> {
    const answer = new Promise<Record<string, unknown>>((r) => this.#waiting.push(r));
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(command) + "\n"));
    const value = await answer;
    if (typeof value.error === "string") throw new Error(`Generator failed: ${value.error}`);
    return value;
  }

  async close(): Promise<void> {
    try {
      await this.call({ cmd: "close" });
      await this.#writer.close();
    } catch {
      // Already gone.
    }
    await this.#child.status;
    await this.done;
  }
}

export function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

export function readProc(pid: number, file: string): string {
  return readText(`/proc/${pid}/${file}`);
}

/** Resident memory in KiB. */
export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readProc(pid, "status"));
  return m === null ? NaN : Number(m[1]);
}

/** CPU time (user + system, all threads) in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readProc(pid, "stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 (1-based) of the whole line; 12 and 13 after ")".
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds per thread name (threads of one name summed), from /proc/<pid>/task. */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
      const stat = readText(`/proc/${pid}/task/${entry.name}/stat`);
      const open = stat.indexOf("(");
      const close = stat.lastIndexOf(")");
      if (open < 0 || close < 0) continue;
      const name = entry.name === String(pid) ? "main" : stat.slice(open + 1, close);
      const fields = stat.slice(close + 2).split(" ");
      const cpu = (Number(fields[11]) + Number(fields[12])) / 100;
      out.set(name, (out.get(name) ?? 0) + cpu);
    }
  } catch {
    // The process is gone.
  }
  return out;
}

/** Percent of one core per thread name between two {@linkcode threadCpu} snapshots. */
export function threadPercent(
  before: Map<string, number>,
  after: Map<string, number>,
  seconds: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, cpu] of after) {
    const pct = Math.round((cpu - (before.get(name) ?? 0)) / seconds * 100);
    if (pct > 0) out[name] = pct;
  }
  return out;
}

export function openFileLimit(): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readProc(Deno.pid, "limits"));
  return m === null || m[1] === "unlimited" ? Infinity : Number(m[1]);
}

export function machine(): Record<string, unknown> {
  const cpuinfo = readText("/proc/cpuinfo");
  const meminfo = readText("/proc/meminfo");
  const memKiB = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? NaN);
  return {
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    logicalCpus: navigator.hardwareConcurrency,
    memoryGiB: Math.round(memKiB / 1024 / 1024 * 10) / 10,
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
  };
}

export function loadAverage(): number[] {
  return Deno.loadavg().map((x) => Math.round(x * 100) / 100);
}

/** A loopback port free now (for a server that must be told its port before it starts). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function median(values: number[]): number {
  return quantile([...values].sort((a, b) => a - b), 0.5);
}

export const fmt = (x: unknown, digits = 1): string =>
  typeof x !== "number" || !Number.isFinite(x) ? "-" : x.toFixed(digits);

/** A Markdown table, columns padded (the first left-aligned, the others right-aligned). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    "| " + cells.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))
      .join(" | ") +
    " |";
  const rule = "| " + widths.map((w, i) => i === 0 ? "-".repeat(w) : "-".repeat(w - 1) + ":")
    .join(" | ") +
    " |";
  return [line(header), rule, ...rows.map(line)].join("\n");
}
