/**
 * Configuration reload (SIGHUP, `vbkpool admin reload`): the file and the environment are read
 * again (flags still win), the new values are compared with the running ones, and each changed
 * key goes to the live handler that declared it. Keys no handler declares need a restart: they
 * are named in one warning and keep their running value. A file that does not load (a syntax
 * error, an unknown key, a bad value) or that a handler refuses changes nothing.
 *
 * Parts of the program register their own handlers (difficulty and limits, log level, API,
 * payouts, TLS certificates, webhooks…), so a new live setting is one `register` call:
 *
 * ```ts ignore
 * reloader.register({
 *   name: "tls",
 *   keys: ["stratum.tls_cert"],
 *   everyReload: true, // re-read the certificate files even when no key changed
 *   apply: (change) => reloadCertificates(change.next),
 * });
 * ```
 *
 * @module
 */
import type { ConfigValues, LoadedConfig } from "./config.ts";

/** A key's old and new value. */
export interface KeyChange {
  /** `section.key`. */
  key: string;
  /** The running value. */
  from: unknown;
  /** The value read now. */
  to: unknown;
}

/** What a handler is given. */
export interface LiveChange {
  /** The configuration running until now. */
  previous: ConfigValues;
  /** The configuration from now on (keys that need a restart keep their running value). */
  next: ConfigValues;
  /** The keys that changed and apply live (every handler sees every one). */
  changed: ReadonlySet<string>;
}

/** A part of the program that applies some keys to the running process. */
export interface LiveHandler {
  /** Names the handler in the log. */
  name: string;
  /** The keys it applies: `section.key`, or `section` for every key of a section. */
  keys: readonly string[];
  /** Run on every reload even when none of its keys changed (e.g. certificate files). */
  everyReload?: boolean;
  /**
   * Check the new values before anything is applied; a throw refuses the whole reload (its
   * message is logged and returned).
   */
  check?(change: LiveChange): void;
  /** Apply the new values. A throw is logged; the other handlers still apply. */
  apply(change: LiveChange): void | Promise<void>;
}

/** The result of a reload. */
export interface ReloadReport {
  /** Whether the new configuration is running (false: refused, the old one runs on). */
  ok: boolean;
  /** Why it was refused. */
  error?: string;
  /** Keys applied live, with their old and new value (secrets masked). */
  applied: KeyChange[];
  /** Keys that changed but need a restart (they keep their running value). */
  restart: string[];
  /** Handlers that failed while applying, with their error. */
  failed: { handler: string; error: string }[];
}

/** Where the reloader writes. */
export interface ReloadLog {
  /** A changed key or a summary. */
  info(message: string, properties: Record<string, unknown>): void;
  /** Keys that need a restart. */
  warn(message: string, properties: Record<string, unknown>): void;
  /** A refused reload or a failing handler. */
  error(message: string, properties: Record<string, unknown>): void;
}

/** Options for {@linkcode ConfigReloader}. */
export interface ConfigReloaderOptions {
  /** The configuration running now. */
  current: LoadedConfig;
  /** Reads the configuration again (file, environment, flags); throws when it is invalid. */
  load: () => LoadedConfig;
  /** Where the diff and the warnings go. */
  log: ReloadLog;
}

const SECRET = /password|token|secret/;

/** A value as one log word: bare strings, lists as JSON, secrets masked. */
function show(key: string, value: unknown): string {
  if (SECRET.test(key)) return value === "" ? '""' : "(hidden)";
  if (typeof value === "string") return value === "" ? '""' : value;
  return JSON.stringify(value, (_k, v) => typeof v === "bigint" ? v.toString() : v);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function covers(handler: LiveHandler, key: string): boolean {
  const section = key.slice(0, key.indexOf("."));
  return handler.keys.some((k) => k === key || k === section);
}

/**
 * Every key whose value differs between two configurations.
 *
 * @example Usage
 * ```ts
 * import { changedKeys } from "./_reload.ts";
 * import assert from "node:assert/strict";
 *
 * const changes = changedKeys(
 *   { log: { level: "info", format: "pretty" } },
 *   { log: { level: "debug", format: "pretty" } },
 * );
 * assert.deepEqual(changes, [{ key: "log.level", from: "info", to: "debug" }]);
 * ```
 *
 * @param before The running values.
 * @param after The values read now.
 * @returns One entry per changed key, in section and key order.
 */
export function changedKeys(before: ConfigValues, after: ConfigValues): KeyChange[] {
  const out: KeyChange[] = [];
  for (const [section, values] of Object.entries(after)) {
    const old = before[section] ?? {};
    for (const [key, to] of Object.entries(values)) {
      if (!same(old[key], to)) out.push({ key: `${section}.${key}`, from: old[key], to });
    }
  }
  return out;
}

/**
 * The registry of live handlers and the reload itself. Reloads run one at a time.
 *
 * @example Usage
 * ```ts
 * import { ConfigReloader } from "./_reload.ts";
 * import assert from "node:assert/strict";
 *
 * let file = { log: { level: "info" }, store: { url: "a.sqlite" } };
 * const config = () => ({ values: structuredClone(file), sources: {}, file: "x", warnings: [] });
 * const lines: string[] = [];
 * const log = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) };
 * const reloader = new ConfigReloader({ current: config(), load: config, log });
 * let level = "info";
 * reloader.register({ name: "log", keys: ["log.level"], apply: (c) => { level = c.next.log!.level as string; } });
 * file = { log: { level: "debug" }, store: { url: "b.sqlite" } };
 * const report = await reloader.reload();
 * assert.equal(level, "debug");
 * assert.deepEqual(report.restart, ["store.url"]);
 * assert.equal(reloader.current.values.store!.url, "a.sqlite");
 * ```
 */
export class ConfigReloader {
  #current: LoadedConfig;
  #o: ConfigReloaderOptions;
  #handlers = new Set<LiveHandler>();
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * @param options The running configuration, how to read it again, where to log.
   */
  constructor(options: ConfigReloaderOptions) {
    this.#o = options;
    this.#current = options.current;
  }

  /** The configuration running now (after the last successful reload). */
  get current(): LoadedConfig {
    return this.#current;
  }

  /**
   * Add a live handler.
   *
   * @param handler The keys it applies and how.
   * @returns Removes the handler.
   */
  register(handler: LiveHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /**
   * Read the configuration again and apply what changed (after any reload under way).
   *
   * @returns What was applied, what needs a restart, or why nothing was.
   */
  reload(): Promise<ReloadReport> {
    const run = this.#queue.then(() => this.#reload());
    this.#queue = run.catch(() => {});
    return run;
  }

  async #reload(): Promise<ReloadReport> {
    const log = this.#o.log;
    const report: ReloadReport = { ok: false, applied: [], restart: [], failed: [] };
    let loaded: LoadedConfig;
    try {
      loaded = this.#o.load();
    } catch (err) {
      return this.#refuse(report, (err as Error).message);
    }
    const previous = this.#current.values;
    const next: ConfigValues = structuredClone(loaded.values);
    const handlers = [...this.#handlers];
    for (const change of changedKeys(previous, loaded.values)) {
      if (handlers.some((h) => covers(h, change.key))) report.applied.push(change);
      else {
        report.restart.push(change.key);
        const [section, key] = change.key.split(".") as [string, string];
        next[section]![key] = change.from;
      }
    }
    const changed = new Set(report.applied.map((c) => c.key));
    const live: LiveChange = { previous, next, changed };
    const concerned = handlers.filter((h) =>
      h.everyReload === true || [...changed].some((c) => covers(h, c))
    );
    try {
      for (const handler of concerned) handler.check?.(live);
    } catch (err) {
      return this.#refuse(report, (err as Error).message);
    }
    // The diff is logged before it applies: a new log level must not hide it.
    for (const { key, from, to } of report.applied) {
      log.info("reload: {key} {from} → {to}", { key, from: show(key, from), to: show(key, to) });
    }
    if (report.restart.length > 0) {
      log.warn(
        "reload: changed keys that only apply at a restart keep their running value: {keys}",
        {
          keys: report.restart.join(", "),
        },
      );
    }
    // In force from here on (handlers may read `current`), even if a handler fails.
    this.#current = { ...loaded, values: next };
    for (const handler of concerned) {
      try {
        await handler.apply(live);
      } catch (err) {
        const error = (err as Error).message;
        report.failed.push({ handler: handler.name, error });
        log.error("reload: {handler} could not apply its settings: {error}", {
          handler: handler.name,
          error,
        });
      }
    }
    log.info(
      "configuration reloaded from {file}: {applied} keys applied, {restart} need a restart",
      {
        file: loaded.file ?? "(no file)",
        applied: report.applied.length,
        restart: report.restart.length,
      },
    );
    report.ok = true;
    report.applied = report.applied.map(({ key, from, to }) => ({
      key,
      from: show(key, from),
      to: show(key, to),
    }));
    return report;
  }

  #refuse(report: ReloadReport, error: string): ReloadReport {
    this.#o.log.error("configuration reload refused, the running configuration is kept: {error}", {
      error,
    });
    return { ...report, error };
  }
}
