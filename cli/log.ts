/**
 * Logging set-up: LogTape to stderr, pretty (text, coloured on a terminal) or JSON lines.
 *
 * @module
 */
import {
  ansiColorFormatter,
  configureSync,
  getLogger,
  getTextFormatter,
  jsonLinesFormatter,
  type Logger,
  type LogLevel,
  type LogRecord,
  resetSync,
  type Sink,
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

/**
 * Configure LogTape for the whole process: one synchronous sink on stderr, and the summary
 * period of episode logging (`log/`).
 *
 * @param options Level, format, summary period and an optional line writer.
 */
export function setupLogging(options: LoggingOptions = {}): void {
  const { level = "info", format = "pretty", write = writeStderr, summarySeconds = 10 } = options;
  setEpisodeSummaryMs(Math.max(1, Math.round(summarySeconds * 1000)));
  const formatter = format === "json"
    ? jsonLinesFormatter
    : Deno.stderr.isTerminal() && write === writeStderr
    ? ansiColorFormatter
    : getTextFormatter();
  const sink: Sink = (record: LogRecord) => write(formatter(record) as string);
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
