/**
 * `deno run -A bench/heap_snapshot_diff.ts A.heapsnapshot [B.heapsnapshot]`: V8 heap snapshots
 * (as `bench/pool_memory.ts` or Chrome DevTools write them) summed per kind of object: count and
 * self size per constructor name (objects), per name (arrays and system objects) or per type
 * (strings, closures, code…). With two snapshots, the kinds sorted by how much they grew from A
 * to B. `--top N` rows (30).
 *
 * @module
 */
import { parseArgs } from "node:util";

interface Kind {
  count: number;
  size: number;
}

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[], ...unknown[]] };
  };
  nodes: number[];
  strings: string[];
}

/** Count and self size per kind of node. */
export function summarize(s: Snapshot): Map<string, Kind> {
  const fields = s.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const types = s.snapshot.meta.node_types[0];
  const out = new Map<string, Kind>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt]!]!;
    const name = s.strings[s.nodes[i + nameAt]!]!;
    let key: string;
    if (type === "object" || type === "native") key = name;
    else if (type === "array" || type === "hidden" || type === "object shape") {
      key = `(${type}) ${name.slice(0, 60)}`;
    } else key = `(${type})`;
    const k = out.get(key);
    const size = s.nodes[i + sizeAt]!;
    if (k === undefined) out.set(key, { count: 1, size });
    else {
      k.count++;
      k.size += size;
    }
  }
  return out;
}

async function load(path: string): Promise<Map<string, Kind>> {
  return summarize(JSON.parse(await Deno.readTextFile(path)));
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { top: { type: "string", default: "30" } },
    allowPositionals: true,
  });
  const top = Number(values.top);
  const [a, b] = await Promise.all(positionals.slice(0, 2).map(load));
  if (a === undefined) throw new Error("Usage: heap_snapshot_diff.ts A.heapsnapshot [B]");
  const total = (m: Map<string, Kind>) =>
    [...m.values()].reduce((t, k) => ({ count: t.count + k.count, size: t.size + k.size }), {
      count: 0,
      size: 0,
    });
  const kib = (n: number) => (n / 1024).toFixed(1);
  if (b === undefined) {
    const t = total(a);
    console.log(`${t.count} nodes, ${kib(t.size)} KiB`);
    for (const [key, k] of [...a].sort((x, y) => y[1].size - x[1].size).slice(0, top)) {
      console.log(`${kib(k.size).padStart(10)} KiB ${String(k.count).padStart(9)}  ${key}`);
    }
  } else {
    const ta = total(a);
    const tb = total(b);
    console.log(
      `A: ${ta.count} nodes, ${kib(ta.size)} KiB; B: ${tb.count} nodes, ${kib(tb.size)} KiB`,
    );
    console.log(
      `${"A KiB".padStart(10)} ${"B KiB".padStart(10)} ${"Δ KiB".padStart(9)} ` +
        `${"A count".padStart(9)} ${"B count".padStart(9)}  kind`,
    );
    const keys = new Set([...a.keys(), ...b.keys()]);
    const rows = [...keys].map((key) => {
      const x = a.get(key) ?? { count: 0, size: 0 };
      const y = b.get(key) ?? { count: 0, size: 0 };
      return { key, x, y, d: y.size - x.size };
    }).sort((p, q) => Math.abs(q.d) - Math.abs(p.d)).slice(0, top);
    for (const r of rows) {
      console.log(
        `${kib(r.x.size).padStart(10)} ${kib(r.y.size).padStart(10)} ${kib(r.d).padStart(9)} ${
          String(r.x.count).padStart(9)
        } ${String(r.y.count).padStart(9)}  ${r.key}`,
      );
    }
  }
}
