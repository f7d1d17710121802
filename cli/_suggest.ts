/**
 * "Did you mean …?" for misspelt names (configuration keys, sections, flags, environment
 * variables): the known name at the smallest edit distance, when it is close enough to be a
 * typo.
 *
 * @module
 */

/**
 * The optimal-string-alignment distance of two names: insertions, deletions, substitutions and
 * swaps of two neighbouring characters each count 1 (`listn` → `listen` is 1, `prot` → `port`
 * is 1).
 *
 * @example Usage
 * ```ts
 * import { editDistance } from "./_suggest.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(editDistance("listn", "listen"), 1);
 * assert.equal(editDistance("prot", "port"), 1);
 * assert.equal(editDistance("kitten", "sitting"), 3);
 * ```
 *
 * @param a One name.
 * @param b The other.
 * @returns The number of edits.
 */
export function editDistance(a: string, b: string): number {
  // Three rows of the dynamic-programming table: two back (for swaps), one back, this one.
  let older: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, older[j - 2]! + 1);
      }
      row.push(d);
    }
    older = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The known name closest to `name`, when it is close enough to be a typo: at most one edit in
 * a short name, up to three in a long one (a third of its length). Case is ignored.
 *
 * @example Usage
 * ```ts
 * import { closestName } from "./_suggest.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(closestName("stratum.listn", ["stratum.listen", "api.listen"]), "stratum.listen");
 * assert.equal(closestName("frobnicate", ["stratum.listen", "api.listen"]), undefined);
 * ```
 *
 * @param name The unknown name.
 * @param known The names it may have meant.
 * @returns The closest known name, or undefined when none is close.
 */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  const wanted = name.toLowerCase();
  const most = Math.max(1, Math.min(3, Math.floor(wanted.length / 3)));
  let best: string | undefined;
  let bestDistance = most + 1;
  for (const candidate of known) {
    const d = editDistance(wanted, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * ` — did you mean X?` for the closest known name, or an empty string.
 *
 * @example Usage
 * ```ts
 * import { didYouMean } from "./_suggest.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(didYouMean("listn", ["listen"]), " — did you mean listen?");
 * assert.equal(didYouMean("xyz", ["listen"]), "");
 * ```
 *
 * @param name The unknown name.
 * @param known The names it may have meant.
 * @param show How to write the suggestion (e.g. with `--` in front).
 * @returns The text to append to a message.
 */
export function didYouMean(
  name: string,
  known: Iterable<string>,
  show: (name: string) => string = (n) => n,
): string {
  const best = closestName(name, known);
  return best === undefined ? "" : ` — did you mean ${show(best)}?`;
}
