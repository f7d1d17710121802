/**
 * Building one audit check's outcome: counts of what was examined, violations (all counted, a
 * bounded number kept), notes; and small helpers the checks share.
 *
 * @module
 */
import { bytesToHex } from "../hash/hex.ts";
import type { AuditCheck, AuditCheckName, AuditViolation } from "./audit_report.ts";

/** Collects one check's outcome. */
export class CheckBuilder {
  readonly name: AuditCheckName;
  #title: string;
  #max: number;
  #examined: Record<string, number> = {};
  #violations: AuditViolation[] = [];
  #count = 0;
  #notes: string[] = [];
  #skipped: string | undefined;
  #error: string | undefined;

  /**
   * @param name The check.
   * @param title What it verifies.
   * @param maxViolations Violations kept (all are counted).
   */
  constructor(name: AuditCheckName, title: string, maxViolations: number) {
    this.name = name;
    this.#title = title;
    this.#max = maxViolations;
  }

  /** Violations found so far. */
  get violationCount(): number {
    return this.#count;
  }

  /** Count `n` more of what was examined (the key is created at 0 when `n` is 0). */
  count(key: string, n = 1): void {
    this.#examined[key] = (this.#examined[key] ?? 0) + n;
  }

  /** Record a violation. */
  add(violation: AuditViolation): void {
    this.#count++;
    if (this.#violations.length < this.#max) this.#violations.push(violation);
  }

  /** Count `n` more violations that are not listed (found beyond a reader's own limit). */
  addUnlisted(n: number): void {
    this.#count += n;
  }

  /** Add a note (once per text). */
  note(text: string): void {
    if (!this.#notes.includes(text)) this.#notes.push(text);
  }

  /** Mark the check as not run. */
  skip(why: string): void {
    this.#skipped = why;
  }

  /** Mark the check as unfinished (it fails). */
  fail(why: string): void {
    this.#error = why;
  }

  /** The outcome. */
  build(): AuditCheck {
    return {
      name: this.name,
      title: this.#title,
      ok: this.#count === 0 && this.#error === undefined,
      ...(this.#skipped === undefined ? {} : { skipped: this.#skipped }),
      ...(this.#error === undefined ? {} : { error: this.#error }),
      examined: this.#examined,
      violationCount: this.#count,
      violations: this.#violations,
      notes: this.#notes,
    };
  }
}

/** A hash as lower-case hex (the form the logs, the API and the CLI show). */
export function hex(hash: Uint8Array): string {
  return bytesToHex(hash);
}

/** `address/reason` key of a credit. */
export function creditKey(address: string, reason: string): string {
  return `${address}\u0000${reason}`;
}

/** Amount with its unit, for messages. */
export function units(amount: bigint): string {
  return `${amount} atomic units`;
}

/** Newest first by time, then id. */
export function newestFirst<T extends { time: number; id: bigint }>(a: T, b: T): number {
  return b.time - a.time || (b.id > a.id ? 1 : b.id < a.id ? -1 : 0);
}
