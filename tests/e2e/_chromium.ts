/**
 * Test helper: drives a headless Chromium (Debian's `chromium`) over the Chrome DevTools
 * Protocol with Deno's WebSocket. Never downloads a browser: {@linkcode findChromium} returns
 * undefined when none is installed, and the caller skips with a visible message.
 *
 * @module
 */
import { waitUntil } from "../_wait.ts";

/** Where to look for a browser (`VBKPOOL_TEST_CHROMIUM` first). */
const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** The flags every launch uses (headless, no sandbox as root in containers, no network noise). */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
  "--window-size=1280,1700",
];

/** The path of an installed Chromium, or undefined. */
export function findChromium(): string | undefined {
  const fromEnv = Deno.env.get("VBKPOOL_TEST_CHROMIUM");
  for (const path of fromEnv ? [fromEnv, ...CANDIDATES] : CANDIDATES) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** Something the page reported: console messages, exceptions, log entries. */
export interface PageMessage {
  /** `console`, `exception` or `log`. */
  source: "console" | "exception" | "log";
  /** Level: error, warning, info, log, debug… */
  level: string;
  /** The text. */
  text: string;
}

interface Pending {
  resolve: (value: Record<string, unknown>) => void;
  reject: (err: Error) => void;
}

/** A headless browser with one page. */
export class Chromium {
  readonly messages: PageMessage[] = [];
  #child: Deno.ChildProcess;
  #dir: string;
  #ws: WebSocket;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #sessionId = "";
  #listeners = new Set<(method: string, params: Record<string, unknown>) => void>();
  #stderr: Promise<void>;

  private constructor(child: Deno.ChildProcess, dir: string, ws: WebSocket, stderr: Promise<void>) {
    this.#child = child;
    this.#dir = dir;
    this.#ws = ws;
    this.#stderr = stderr;
    ws.onmessage = (e) => this.#onMessage(JSON.parse(e.data as string));
  }

  /** Start the browser and open one blank page. */
  static async launch(path: string): Promise<Chromium> {
    const dir = await Deno.makeTempDir({ prefix: "vbkpool-chromium-" });
    const child = new Deno.Command(path, {
      args: [
        ...CHROMIUM_FLAGS,
        `--user-data-dir=${dir}`,
        "--remote-debugging-port=0",
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let log = "";
    let found: (url: string) => void;
    const endpoint = new Promise<string>((resolve) => found = resolve);
    const stderr = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({
        write(chunk) {
          log += chunk;
          const m = /DevTools listening on (ws:\/\/\S+)/.exec(log);
          if (m) found(m[1]!);
        },
      }),
    ).catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const url = await Promise.race([
      endpoint,
      new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), 90_000)),
    ]);
    clearTimeout(timer);
    if (url === undefined) {
      child.kill("SIGKILL");
      await child.status;
      await stderr;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw new Error(`chromium did not start:\n${log.slice(-2000)}`);
    }
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("cannot connect to the DevTools WebSocket"));
    });
    const browser = new Chromium(child, dir, ws, stderr);
    const { targetInfos } = await browser.send("Target.getTargets") as {
      targetInfos: { targetId: string; type: string }[];
    };
    let target = targetInfos.find((t) => t.type === "page")?.targetId;
    if (target === undefined) {
      target = (await browser.send("Target.createTarget", { url: "about:blank" }))
        .targetId as string;
    }
    const attached = await browser.send("Target.attachToTarget", {
      targetId: target,
      flatten: true,
    });
    browser.#sessionId = attached.sessionId as string;
    browser.#listeners.add((method, params) => browser.#record(method, params));
    await browser.page("Page.enable");
    await browser.page("Runtime.enable");
    await browser.page("Log.enable");
    return browser;
  }

  /** Send a browser-level command. */
  send(method: string, params: Record<string, unknown> = {}, sessionId?: string) {
    const id = this.#nextId++;
    const message: Record<string, unknown> = { id, method, params };
    if (sessionId !== undefined) message.sessionId = sessionId;
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify(message));
    });
  }

  /** Send a command to the page. */
  page(method: string, params: Record<string, unknown> = {}) {
    return this.send(method, params, this.#sessionId);
  }

  /** Load a URL and wait for its load event. */
  async navigate(url: string, timeoutMs = 90_000): Promise<void> {
    const loaded = this.#event("Page.loadEventFired", timeoutMs);
    const result = await this.page("Page.navigate", { url });
    if (typeof result.errorText === "string") {
      throw new Error(`navigation failed: ${result.errorText}`);
    }
    await loaded;
  }

  /** Evaluate an expression in the page (promises awaited) and return its value. */
  async evaluate<T>(expression: string): Promise<T> {
    const result = await this.page("Runtime.evaluate", {
      expression,
      returnByValue: true,
      awaitPromise: true,
    }) as {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (result.exceptionDetails !== undefined) {
      const d = result.exceptionDetails;
      throw new Error(`page evaluation failed: ${d.exception?.description ?? d.text}`);
    }
    return result.result.value as T;
  }

  /** Poll an expression until it is truthy; returns its value. */
  async waitFor<T>(expression: string, what: string, timeoutMs = 90_000): Promise<T> {
    return await waitUntil(
      async () => {
        const value = await this.evaluate<T>(expression);
        return value ? value : undefined;
      },
      what,
      { timeoutMs, intervalMs: 100 },
    ) as T;
  }

  /** A PNG screenshot of the whole page. */
  async screenshot(): Promise<Uint8Array> {
    const { data } = await this.page("Page.captureScreenshot", {
      format: "png",
      captureBeyondViewport: true,
    }) as { data: string };
    return Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  }

  /** Errors the page reported: exceptions, console.error, error log entries. */
  errors(): PageMessage[] {
    return this.messages.filter((m) => m.source === "exception" || m.level === "error");
  }

  /** Close the browser and delete its profile. */
  async close(): Promise<void> {
    try {
      await Promise.race([
        this.send("Browser.close"),
        new Promise((r) => setTimeout(r, 3000)),
      ]);
    } catch {
      // already gone
    }
    this.#ws.close();
    for (const p of this.#pending.values()) p.reject(new Error("browser closed"));
    this.#pending.clear();
    const exited = await Promise.race([
      this.#child.status.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 5000)),
    ]);
    if (!exited) {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // exited meanwhile
      }
      await this.#child.status;
    }
    await this.#stderr;
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }

  #event(method: string, timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#listeners.delete(listener);
        reject(new Error(`timed out waiting for ${method}`));
      }, timeoutMs);
      const listener = (m: string, params: Record<string, unknown>) => {
        if (m !== method) return;
        clearTimeout(timer);
        this.#listeners.delete(listener);
        resolve(params);
      };
      this.#listeners.add(listener);
    });
  }

  #record(method: string, params: Record<string, unknown>): void {
    if (method === "Runtime.consoleAPICalled") {
      const args = params.args as { value?: unknown; description?: string }[];
      this.messages.push({
        source: "console",
        level: params.type as string,
        text: args.map((a) => a.value !== undefined ? String(a.value) : a.description ?? "").join(
          " ",
        ),
      });
    } else if (method === "Runtime.exceptionThrown") {
      const d = params.exceptionDetails as { text: string; exception?: { description?: string } };
      this.messages.push({
        source: "exception",
        level: "error",
        text: d.exception?.description ?? d.text,
      });
    } else if (method === "Log.entryAdded") {
      const entry = params.entry as { level: string; text: string; url?: string };
      this.messages.push({
        source: "log",
        level: entry.level,
        text: `${entry.text}${entry.url ? ` (${entry.url})` : ""}`,
      });
    }
  }

  #onMessage(message: Record<string, unknown>): void {
    if (typeof message.id === "number") {
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return;
      this.#pending.delete(message.id);
      const error = message.error as { message: string } | undefined;
      if (error !== undefined) pending.reject(new Error(`CDP: ${error.message}`));
      else pending.resolve((message.result ?? {}) as Record<string, unknown>);
      return;
    }
    if (typeof message.method === "string") {
      if (message.sessionId !== undefined && message.sessionId !== this.#sessionId) return;
      for (const listener of [...this.#listeners]) {
        listener(message.method, (message.params ?? {}) as Record<string, unknown>);
      }
    }
  }
}
