/**
 * Test helper: a strict parser of the Prometheus text exposition format 0.0.4. It throws on
 * anything a scraper could reject or misread: bad metric or label names, bad escapes, values
 * that are not floats, HELP/TYPE repeated or after samples, families split up, duplicate
 * samples, negative counters, and histograms whose buckets are not cumulative, do not end at
 * `+Inf` or disagree with `_count`, or lack `_sum`.
 *
 * @module
 */

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One metric family. */
export interface Family {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help: string | undefined;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = ["counter", "gauge", "histogram", "summary", "untyped"];

function fail(line: number, message: string): never {
  throw new SyntaxError(`line ${line}: ${message}`);
}

function parseValue(text: string, line: number): number {
  if (text === "NaN") return NaN;
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) fail(line, `bad value "${text}"`);
  return Number(text);
}

function unescape(text: string, line: number, allowQuote: boolean): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const n = text[++i];
    if (n === "\\") out += "\\";
    else if (n === "n") out += "\n";
    else if (n === '"' && allowQuote) out += '"';
    else fail(line, `bad escape "\\${n ?? ""}"`);
  }
  return out;
}

function parseLabels(text: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 0;
  while (true) {
    while (text[i] === " ") i++;
    if (text[i] === "}") return { labels, rest: text.slice(i + 1) };
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"/.exec(text.slice(i));
    if (m === null) fail(line, `bad label at "${text.slice(i, i + 20)}"`);
    const name = m[1]!;
    if (!LABEL_NAME.test(name) || name.startsWith("__")) fail(line, `bad label name "${name}"`);
    if (name in labels) fail(line, `label "${name}" repeats`);
    i += m[0].length;
    let raw = "";
    while (true) {
      const c = text[i];
      if (c === undefined) fail(line, "unterminated label value");
      if (c === "\\") {
        raw += c + (text[i + 1] ?? "");
        i += 2;
        continue;
      }
      if (c === '"') break;
      if (c === "\n") fail(line, "newline in a label value");
      raw += c;
      i++;
    }
    i++;
    labels[name] = unescape(raw, line, true);
    while (text[i] === " ") i++;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") fail(line, `expected "," or "}" after label "${name}"`);
  }
}

function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (name.endsWith(suffix)) {
      const base = families.get(name.slice(0, -suffix.length));
      if (base !== undefined && (base.type === "histogram" || base.type === "summary")) return base;
    }
  }
  return families.get(name);
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let g = groups.get(key);
    if (g === undefined) groups.set(key, g = { buckets: [] });
    if (s.name === `${family.name}_bucket`) {
      if (le === undefined) throw new SyntaxError(`${family.name}: a bucket without "le"`);
      g.buckets.push([parseValue(le, 0), s.value]);
    } else if (s.name === `${family.name}_sum`) g.sum = s.value;
    else if (s.name === `${family.name}_count`) g.count = s.value;
    else throw new SyntaxError(`${family.name}: unexpected sample ${s.name}`);
  }
  for (const [key, g] of groups) {
    const where = `${family.name}${key}`;
    if (g.buckets.length === 0) throw new SyntaxError(`${where}: no buckets`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i]![0] > g.buckets[i - 1]![0])) {
        throw new SyntaxError(`${where}: bucket bounds are not increasing`);
      }
      if (g.buckets[i]![1] < g.buckets[i - 1]![1]) {
        throw new SyntaxError(`${where}: buckets are not cumulative`);
      }
    }
    const last = g.buckets.at(-1)!;
    if (last[0] !== Infinity) throw new SyntaxError(`${where}: the last bucket is not +Inf`);
    if (g.count === undefined || g.sum === undefined) {
      throw new SyntaxError(`${where}: no _sum/_count`);
    }
    if (g.count !== last[1]) throw new SyntaxError(`${where}: _count differs from the +Inf bucket`);
  }
}

/** Parse and check an exposition; returns the families by name. */
export function parsePrometheus(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith("\n")) {
    throw new SyntaxError("the text must end with a newline");
  }
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const closed = new Set<string>();
  let current: Family | undefined;
  const lines = text.split("\n");
  lines.pop();
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === "") return;
    if (raw.startsWith("#")) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(raw);
      if (m === null) return; // a plain comment
      const [, kind, name, rest = ""] = m;
      if (!METRIC_NAME.test(name!)) fail(line, `bad metric name "${name}"`);
      let family = families.get(name!);
      if (family !== undefined && (closed.has(name!) || family.samples.length > 0)) {
        fail(line, `${kind} for "${name}" after its samples`);
      }
      if (family === undefined) {
        if (current !== undefined) closed.add(current.name);
        family = { name: name!, type: "untyped", help: undefined, samples: [] };
        families.set(name!, family);
        current = family;
      }
      if (kind === "HELP") {
        if (family.help !== undefined) fail(line, `HELP for "${name}" repeats`);
        family.help = unescape(rest, line, false);
      } else {
        if (family.type !== "untyped" || (family as { typed?: boolean }).typed) {
          fail(line, `TYPE for "${name}" repeats`);
        }
        if (!TYPES.includes(rest.trim())) fail(line, `bad type "${rest}"`);
        family.type = rest.trim() as Family["type"];
        (family as { typed?: boolean }).typed = true;
      }
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(.*)$/.exec(raw);
    if (m === null) fail(line, `bad sample "${raw.slice(0, 40)}"`);
    const name = m[1]!;
    let rest = m[2]!;
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest.slice(1), line));
    const parts = rest.trim().split(/\s+/);
    if (!/^\s/.test(rest) || parts.length < 1 || parts.length > 2) {
      fail(line, "expected value [timestamp]");
    }
    const value = parseValue(parts[0]!, line);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) fail(line, "bad timestamp");
    let family = familyOf(name, families);
    if (family === undefined) {
      if (current !== undefined) closed.add(current.name);
      family = { name, type: "untyped", help: undefined, samples: [] };
      families.set(name, family);
      current = family;
    } else if (family !== current) {
      fail(line, `samples of "${family.name}" are not together`);
    }
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) fail(line, `duplicate sample ${key}`);
    seen.add(key);
    if (family.type === "counter" && !(value >= 0)) fail(line, `counter "${name}" is ${value}`);
    if (family.type === "histogram" && name === family.name) {
      fail(line, `histogram sample without a suffix`);
    }
    family.samples.push({ name, labels, value });
  });
  for (const family of families.values()) {
    if (family.type === "histogram" && family.samples.length > 0) checkHistogram(family);
  }
  return families;
}

/** The value of one sample (labels must match exactly), or undefined. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name !== name) continue;
      const a = Object.entries(s.labels).sort();
      const b = Object.entries(labels).sort();
      if (JSON.stringify(a) === JSON.stringify(b)) return s.value;
    }
  }
  return undefined;
}
