/**
 * The miner's hotkeys on a terminal (`h` rate report, `p` pause, `r` resume, `s` share report),
 * read from stdin in cbreak mode: one key at a time, no echo, and Ctrl-C still a SIGINT.
 * Nothing is read when stdin is not a terminal (a pipe or a file is never consumed).
 *
 * @module
 */

/** What a key asks for. */
export type HotkeyAction = "rates" | "pause" | "resume" | "shares";

const KEYS: Record<string, HotkeyAction> = { h: "rates", p: "pause", r: "resume", s: "shares" };

/**
 * The action of one key (either case), or undefined for any other byte.
 *
 * @example Usage
 * ```ts
 * import { hotkeyAction } from "./_hotkeys.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(hotkeyAction(0x68), "rates"); // h
 * assert.equal(hotkeyAction(0x50), "pause"); // P
 * assert.equal(hotkeyAction(0x0a), undefined);
 * ```
 *
 * @param byte One input byte.
 * @returns The action.
 */
export function hotkeyAction(byte: number): HotkeyAction | undefined {
  return KEYS[String.fromCharCode(byte).toLowerCase()];
}

/** Running hotkeys: {@linkcode Hotkeys.stop} restores the terminal. */
export interface Hotkeys {
  /** Stop reading keys and restore the terminal's mode. */
  stop(): void;
}

/**
 * Read hotkeys from stdin while it is a terminal.
 *
 * @param onAction Called for each hotkey pressed.
 * @returns The running hotkeys, or undefined when stdin is not a terminal (or cannot be put in
 * cbreak mode).
 */
export function startHotkeys(onAction: (action: HotkeyAction) => void): Hotkeys | undefined {
  const stdin = Deno.stdin;
  try {
    if (!stdin.isTerminal()) return undefined;
    stdin.setRaw(true, { cbreak: true });
  } catch {
    return undefined;
  }
  let stopped = false;
  const reader = stdin.readable.getReader();
  void (async () => {
    try {
      while (!stopped) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const byte of value) {
          const action = hotkeyAction(byte);
          if (action !== undefined && !stopped) onAction(action);
        }
      }
    } catch {
      // stdin closed under us: no more keys.
    }
  })();
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        stdin.setRaw(false);
      } catch {
        // The terminal is gone.
      }
      reader.cancel().catch(() => {});
    },
  };
}
