/**
 * Logging set-up: LogTape to stderr, pretty (text, coloured on a terminal) or JSON lines.
 *
 * Values appear bare in the text of a line: `Stratum on 127.0.0.1:3333`, not
 * `"127.0.0.1":3333` (LogTape's `value: "bare"`; a string value is written as is, with control
 * characters and line breaks escaped, so one record stays one line). A JSON line carries the same
 * text in `message` and the values themselves, typed, in `properties`.
 *
 * @module
 */
import {
  configureSync,
  getAnsiColorFormatter,
  getLogger,
  getTextFormatter,
  jsonLinesFormatter,
  type Logger,
  type LogLevel,
  type LogRecord,
  resetSync,
  type Sink,
  type TextFormatter,
} from "@logtape/logtape";
import { setEpisodeSummaryMs } from "../log/mod.ts";

/** Log levels accepted by `--log-level`. */
export const LOG_LEVELS: readonly LogLevel[] = [
  "trace",
  "debug",
  "info",
  "warning",
  "error",
  "fatal",
];

/** Output formats accepted by `--log-format`. */
export const LOG_FORMATS = ["pretty", "json"] as const;

/** A log output format. */
export type LogFormat = typeof LOG_FORMATS[number];

/** Options for {@linkcode setupLogging}. */
export interface LoggingOptions {
  /** Lowest level written. @default "info" */
  level?: LogLevel;
  /** Output format. @default "pretty" */
  format?: LogFormat;
  /** Where lines go; stderr by default. Tests pass a collector. */
  write?: (line: string) => void;
  /** Seconds between two summaries of a repeated event (see `log/`). @default 10 */
  summarySeconds?: number;
}

const encoder = new TextEncoder();

function writeStderr(line: string): void {
  const bytes = encoder.encode(line);
  let off = 0;
  while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
}

function bareValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && !(value instanceof Error)) {
    try {
      return JSON.stringify(value, (_k, v) => typeof v === "bigint" ? v.toString() : v);
    } catch {
      // A cycle: the plain form below.
    }
  }
  return String(value);
}

/**
 * The text of a log record with its values bare (strings as they are, other values as text):
 * the `message` of a JSON line, the same words a pretty line shows.
 *
 * @example Usage
 * ```ts
 * import { renderMessage } from "./log.ts";
 * import assert from "node:assert/strict";
 *
 * const parts = ["Stratum on ", "127.0.0.1", ":", 3333, ", difficulty ", 65536n, ""];
 * assert.equal(renderMessage(parts), "Stratum on 127.0.0.1:3333, difficulty 65536");
 * ```
 *
 * @param message The record's message: text and values in turn.
 * @returns The text.
 */
export function renderMessage(message: readonly unknown[]): string {
  let text = "";
  for (let i = 0; i < message.length; i++) {
    text += i % 2 === 0 ? String(message[i]) : bareValue(message[i]);
  }
  return text;
}

/** One JSON object per line: LogTape's JSON Lines form, with the message's values bare. */
function jsonLineFormatter(record: LogRecord): string {
  return jsonLinesFormatter({ ...record, message: [renderMessage(record.message)] });
}

function lineFormatter(format: LogFormat, colour: boolean): TextFormatter {
  if (format === "json") return jsonLineFormatter;
  return colour ? getAnsiColorFormatter({ value: "bare" }) : getTextFormatter({ value: "bare" });
}

/**
 * Configure LogTape for the whole process: one synchronous sink on stderr, and the summary
 * period of episode logging (`log/`).
 *
 * @example Usage
 * ```ts
 * import { logger, setupLogging } from "./log.ts";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * setupLogging({ format: "json", write: (line) => lines.push(line) });
 * logger("demo").info("pool on {address}", { address: "[::1]:3333" });
 * const record = JSON.parse(lines[0]!);
 * assert.equal(record.message, "pool on [::1]:3333");
 * assert.equal(record.properties.address, "[::1]:3333");
 * ```
 *
 * @param options Level, format, summary period and an optional line writer.
 */
export function setupLogging(options: LoggingOptions = {}): void {
  const { level = "info", format = "pretty", write = writeStderr, summarySeconds = 10 } = options;
  setEpisodeSummaryMs(Math.max(1, Math.round(summarySeconds * 1000)));
  const formatter = lineFormatter(format, Deno.stderr.isTerminal() && write === writeStderr);
  const sink: Sink = (record: LogRecord) => write(formatter(record));
  resetSync();
  configureSync({
    sinks: { main: sink },
    loggers: [
      { category: ["vbkpool"], sinks: ["main"], lowestLevel: level },
      { category: ["logtape", "meta"], sinks: ["main"], lowestLevel: "warning" },
    ],
  });
}

/**
 * A logger under the `vbkpool` category.
 *
 * @param parts Sub-category, e.g. `["server", "upstream"]`.
 * @returns The logger.
 */
export function logger(...parts: string[]): Logger {
  return getLogger(["vbkpool", ...parts]);
}
