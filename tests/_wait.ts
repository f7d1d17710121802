/**
 * Test helper: the one polling loop of the tests. Every wait for a condition goes through
 * {@linkcode waitUntil}, bounded in time and so in the number of checks.
 *
 * Tests never sleep a fixed time and then assert: they wait for the condition (a count reached, a
 * state entered), or, to show that something did *not* happen, first wait for an event that
 * proves the system got that far (a later reply on the same connection, a log line, a counter).
 *
 * @module
 */

/** Options for {@linkcode waitUntil}. */
export interface WaitOptions {
  /** The deadline. @default 60_000 */
  timeoutMs?: number;
  /** Time between checks. @default 25 */
  intervalMs?: number;
}

/** What {@linkcode waitUntil} treats as "not yet". */
export type NotYet = false | undefined | null;

/**
 * Wait until `check` returns something other than `false`, `undefined` or `null`, checking at
 * once and then every `intervalMs`, and return that value. Throws once `timeoutMs` has passed,
 * also when a check itself hangs: at most `timeoutMs / intervalMs + 1` checks, never longer than
 * the deadline. Wait with a generous deadline for conditions that take as long as the machine
 * needs, instead of sleeping a fixed time and asserting afterwards.
 *
 * @example Wait for a value
 * ```ts
 * import assert from "node:assert/strict";
 * import { waitUntil } from "./_wait.ts";
 *
 * const seen: number[] = [];
 * setTimeout(() => seen.push(7), 10);
 * const first = await waitUntil(() => seen[0], "a number", { timeoutMs: 5_000, intervalMs: 5 });
 * assert.equal(first, 7);
 * ```
 *
 * @param check The condition: a value, or `false` / `undefined` / `null` while not met.
 * @param what What is awaited (for the error message; a function is called only on timeout).
 * @param options The deadline in milliseconds, or {@linkcode WaitOptions}.
 * @returns What `check` returned (`true` for a boolean condition).
 * @throws {Error} When the deadline passes first, or what `check` threw.
 */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  what: string | (() => string),
  options: number | WaitOptions = {},
): Promise<Exclude<T, NotYet>> {
  const { timeoutMs = 60_000, intervalMs = 25 } = typeof options === "number"
    ? { timeoutMs: options }
    : options;
  const deadline = Date.now() + timeoutMs;
  const timedOut = () => {
    const text = typeof what === "function" ? what() : what;
    return new Error(`Timed out after ${timeoutMs} ms waiting for ${text}`);
  };
  for (;;) {
    const value = await beforeDeadline(check(), deadline, timedOut);
    if (value !== false && value !== undefined && value !== null) {
      return value as Exclude<T, NotYet>;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw timedOut();
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, left)));
  }
}

/** `value`, or the deadline's error if it is a promise still pending at the deadline. */
function beforeDeadline<T>(
  value: T | Promise<T>,
  deadline: number,
  timedOut: () => Error,
): T | Promise<T> {
  if (!(value instanceof Promise)) return value;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([value, late]).finally(() => clearTimeout(timer));
}
