import assert from "node:assert/strict";
import { closestName, didYouMean, editDistance } from "../../cli/_suggest.ts";
import { SCHEMA } from "../../cli/config_schema.ts";

Deno.test("editDistance() counts insertions, deletions, substitutions and swaps", () => {
  const cases: [string, string, number][] = [
    ["", "", 0],
    ["listen", "listen", 0],
    ["listn", "listen", 1],
    ["listenn", "listen", 1],
    ["prot", "port", 1],
    ["lsiten", "listen", 1],
    ["", "abc", 3],
    ["kitten", "sitting", 3],
  ];
  for (const [a, b, d] of cases) {
    assert.equal(editDistance(a, b), d, `${a} ${b}`);
    assert.equal(editDistance(b, a), d, `${b} ${a}`);
  }
});

Deno.test("closestName() suggests typos of real keys and nothing for strangers", () => {
  const keys = Object.entries(SCHEMA).flatMap(([s, spec]) =>
    Object.keys(spec).map((k) => `${s}.${k}`)
  );
  const cases: [string, string | undefined][] = [
    ["stratum.listn", "stratum.listen"],
    ["stratum.dificulty", "stratum.difficulty"],
    ["api.lisen", "api.listen"],
    ["Stratum.Listen", "stratum.listen"],
    ["payouts.enabeld", "payouts.enabled"],
    ["mine.thread", "mine.threads"],
    ["nothing.like.it", undefined],
    ["zz", undefined],
  ];
  for (const [name, want] of cases) assert.equal(closestName(name, keys), want, name);
  assert.equal(didYouMean("lisen", ["listen"], (n) => `--${n}`), " — did you mean --listen?");
});
