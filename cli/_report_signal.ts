/**
 * SIGUSR1 as "print the report" (as rig owners use `kill -USR1`). Deno ≥ 2.9.2 also starts its
 * V8 inspector on 127.0.0.1:9229 when the process gets SIGUSR1 (as Node does), which would let
 * any local user run code in the miner; there is no switch to turn that off, so an inspector
 * that the signal opened is closed again at once. One started on purpose (`--inspect`) is left
 * alone.
 *
 * @module
 */
import inspector from "node:inspector";

/** When to look for an inspector the signal opened, ms after the signal. */
// Deno may open it a while after the signal on a busy machine: looked for up to 10 s.
const CHECKS_MS = [0, 10, 50, 200, 1000, 3000, 10_000];

/** Options for {@linkcode onReportSignal}. */
export interface ReportSignalOptions {
  /** Told when an inspector the signal opened was closed. */
  onInspectorClosed?: (url: string) => void;
}

/**
 * Call `handler` on each SIGUSR1 (where the platform has it), closing any inspector the signal
 * made Deno open.
 *
 * @param handler Prints the report.
 * @param options Notification of a closed inspector.
 * @returns Removes the listener.
 */
export function onReportSignal(
  handler: () => void,
  options: ReportSignalOptions = {},
): () => void {
  const timers = new Set<ReturnType<typeof setTimeout>>();
  // Open already at start (--inspect): wanted, left alone. Judged now, not at the signal: Deno
  // may open the inspector before this listener runs.
  const wanted = inspector.url() !== undefined;
  const listener = () => {
    handler();
    if (wanted) return;
    for (const ms of CHECKS_MS) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        const url = inspector.url();
        if (url === undefined) return;
        inspector.close();
        options.onInspectorClosed?.(url);
      }, ms);
      timers.add(timer);
      // Never what keeps a finishing process alive.
      Deno.unrefTimer(timer);
    }
  };
  try {
    Deno.addSignalListener("SIGUSR1", listener);
  } catch {
    return () => {};
  }
  return () => {
    try {
      Deno.removeSignalListener("SIGUSR1", listener);
    } catch {
      // Already removed.
    }
    for (const t of timers) clearTimeout(t);
    timers.clear();
  };
}
